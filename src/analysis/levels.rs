//! Labels as levels and per-row codes, shared by the survival groups and
//! the driver categories.

use std::collections::HashMap;

use crate::score::Category;

/// The distinct labels, sorted, and each row's index among them.
pub(crate) fn from_labels<'a>(
    labels: impl Iterator<Item = &'a str> + Clone,
) -> (Vec<String>, Vec<u32>) {
    let mut levels: Vec<String> = labels.clone().map(str::to_owned).collect();
    levels.sort_unstable();
    levels.dedup();
    let index: HashMap<&str, u32> = levels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i as u32))
        .collect();
    let codes = labels.map(|l| index.get(l).copied().unwrap_or(0)).collect();
    (levels, codes)
}

/// A profile category read at `rows`: its levels in the category's own
/// order (with `missing` last, for rows without a label), keeping only the
/// levels some row has, and each row's code.
pub(crate) fn from_category(
    category: &Category<'_>,
    rows: &[usize],
    missing: &str,
) -> (Vec<String>, Vec<u32>) {
    let mut levels: Vec<String> = category.labels().map(str::to_owned).collect();
    let index: HashMap<String, u32> = levels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), i as u32))
        .collect();
    let mut missing_code = None;
    let mut codes = Vec::with_capacity(rows.len());
    for &row in rows {
        let code = match category.get(row).and_then(|l| index.get(l)) {
            Some(&c) => c,
            None => *missing_code.get_or_insert_with(|| {
                levels.push(missing.to_owned());
                (levels.len() - 1) as u32
            }),
        };
        codes.push(code);
    }
    // Drop levels no row has, keeping the order.
    let mut used = vec![false; levels.len()];
    for &c in &codes {
        used[c as usize] = true;
    }
    let mut remap = vec![0u32; levels.len()];
    let mut kept = Vec::new();
    for (i, level) in levels.into_iter().enumerate() {
        if used[i] {
            remap[i] = kept.len() as u32;
            kept.push(level);
        }
    }
    for c in &mut codes {
        *c = remap[*c as usize];
    }
    (kept, codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_become_sorted_levels_and_codes() {
        let (levels, codes) = from_labels(["b", "a", "b"].into_iter());
        assert_eq!(levels, ["a", "b"]);
        assert_eq!(codes, [1, 0, 1]);
    }
}

//! Identity resolution: the same customers whatever the input order, and
//! exactly the connected components of the "shares an identifier" graph.

use std::collections::{BTreeMap, BTreeSet};

use churnwise::records::{CustomerId, Identifier, IdentifierKind, IdentityResolver};
use proptest::prelude::*;

fn identifiers() -> impl Strategy<Value = Vec<Identifier>> {
    // Few sources and values, so that links and shared values are common.
    let one = (0u64..30, 0usize..3, 0u32..25).prop_map(|(source, kind, value)| {
        let kind = [
            IdentifierKind::Phone,
            IdentifierKind::Email,
            IdentifierKind::LoyaltyCard,
        ][kind]
            .clone();
        let value = match kind {
            IdentifierKind::Phone => format!("+1 555 01{value:02}"),
            IdentifierKind::Email => format!("u{value}@example.com"),
            _ => format!("card-{value}"),
        };
        Identifier::new(source, kind, value)
    });
    prop::collection::vec(one, 0..80)
}

/// Connected components by breadth-first search over sources, using only
/// identifiers carried by at most `max_shared` sources.
fn components(ids: &[Identifier], max_shared: usize) -> BTreeSet<BTreeSet<CustomerId>> {
    let mut carriers: BTreeMap<(String, String), BTreeSet<CustomerId>> = BTreeMap::new();
    let mut sources = BTreeSet::new();
    for id in ids {
        let key = (
            id.kind.to_string(),
            id.value.replace(' ', "").to_lowercase(),
        );
        carriers.entry(key).or_default().insert(id.source.clone());
        sources.insert(id.source.clone());
    }
    let edges: Vec<&BTreeSet<CustomerId>> = carriers
        .values()
        .filter(|s| s.len() <= max_shared)
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = BTreeSet::new();
    for start in &sources {
        if seen.contains(start) {
            continue;
        }
        let mut component = BTreeSet::from([start.clone()]);
        let mut frontier = vec![start.clone()];
        while let Some(s) = frontier.pop() {
            for set in edges.iter().filter(|set| set.contains(&s)) {
                for other in set.iter() {
                    if component.insert(other.clone()) {
                        frontier.push(other.clone());
                    }
                }
            }
        }
        seen.extend(component.iter().cloned());
        out.insert(component);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn customers_are_the_connected_components(ids in identifiers(), max_shared in 2usize..6) {
        let map = IdentityResolver::new().max_shared(max_shared).resolve(&ids).unwrap();
        let got: BTreeSet<BTreeSet<CustomerId>> = map
            .groups()
            .map(|g| g.members().iter().cloned().collect())
            .collect();
        prop_assert_eq!(got, components(&ids, max_shared));
        for g in map.groups() {
            prop_assert_eq!(map.canonical(g.canonical()), Some(g.canonical()));
            prop_assert_eq!(g.canonical(), g.members().iter().min().unwrap());
        }
    }

    #[test]
    fn the_result_does_not_depend_on_input_order(ids in identifiers(), seed in any::<u64>()) {
        let mut shuffled = ids.clone();
        // A seeded Fisher–Yates shuffle.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let resolver = IdentityResolver::new().max_shared(3);
        prop_assert_eq!(resolver.resolve(&ids).unwrap(), resolver.resolve(&shuffled).unwrap());
    }
}

#[test]
fn phone_formats_of_one_number_link_under_a_default_country() {
    let ids = [
        Identifier::new("a", IdentifierKind::Phone, "030 1234 5678"),
        Identifier::new("b", IdentifierKind::Phone, "+49 30 1234 5678"),
        Identifier::new("c", IdentifierKind::Phone, "0049 (30) 1234-5678"),
    ];
    let map = IdentityResolver::new()
        .default_country("49")
        .resolve(&ids)
        .unwrap();
    assert_eq!(map.customers(), 1);
    let without = IdentityResolver::new().resolve(&ids).unwrap();
    assert_eq!(without.customers(), 2); // the national number stays apart
}

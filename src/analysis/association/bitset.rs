//! The vertical engine of [`FpGrowth`](super::FpGrowth): one bit per
//! customer for each frequent item, itemsets extended depth first by
//! intersecting bitsets (Eclat, Zaki 2000), for vocabularies of up to a few
//! hundred frequent items.
//!
//! On dense data (many items per customer, a million customers) the
//! conditional FP-trees barely compress, and every frequent itemset costs a
//! pass over its conditional database; here it costs one AND and a
//! population count over `n / 64` words, done with AVX2 and POPCNT when the
//! CPU has them (chosen at run time). Counts are integers, so the result is
//! the same at every SIMD level.

use rayon::prelude::*;

use super::fpgrowth::Found;

/// `out = a & b`, returning the number of set bits.
struct AndCount<'a> {
    a: &'a [u64],
    b: &'a [u64],
    out: &'a mut [u64],
}

impl pulp::WithSimd for AndCount<'_> {
    type Output = u64;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> u64 {
        let mut total = 0u64;
        for ((o, x), y) in self.out.iter_mut().zip(self.a).zip(self.b) {
            let w = x & y;
            *o = w;
            total += u64::from(w.count_ones());
        }
        total
    }
}

/// The number of set bits of `a & b`.
struct Count<'a> {
    a: &'a [u64],
    b: &'a [u64],
}

impl pulp::WithSimd for Count<'_> {
    type Output = u64;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> u64 {
        let mut total = 0u64;
        for (x, y) in self.a.iter().zip(self.b) {
            total += u64::from((x & y).count_ones());
        }
        total
    }
}

/// A frequent extension of the current prefix: its global item id, the
/// customers holding prefix + item (`None` when no further extension will
/// be asked for), and their count.
struct Member {
    item: u32,
    bits: Option<Vec<u64>>,
    count: u64,
}

/// Mines the frequent itemsets from one bitset per frequent item (`items`
/// with global ids `global`, in any fixed order), each with `count`.
pub(super) fn mine(
    items: Vec<Vec<u64>>,
    counts: &[u64],
    global: &[u32],
    min_count: u64,
    max_len: usize,
) -> Found {
    let arch = pulp::Arch::new();
    let members: Vec<Member> = items
        .into_iter()
        .zip(counts)
        .zip(global)
        .map(|((bits, &count), &item)| Member {
            item,
            bits: Some(bits),
            count,
        })
        .collect();
    let parts: Vec<Found> = (0..members.len())
        .into_par_iter()
        .map(|i| {
            let mut out = Found::new();
            let mut prefix = Vec::new();
            extend(&members, i, &mut prefix, min_count, max_len, arch, &mut out);
            out
        })
        .collect();
    let mut found = Found::new();
    for part in parts {
        found.append(part);
    }
    found
}

/// Emits `prefix + class[i]`, then mines its class: `class[i]` joined with
/// each later member.
fn extend(
    class: &[Member],
    i: usize,
    prefix: &mut Vec<u32>,
    min_count: u64,
    max_len: usize,
    arch: pulp::Arch,
    out: &mut Found,
) {
    let head = &class[i];
    prefix.push(head.item);
    out.emit(prefix, head.count);
    if let Some(bits) = &head.bits
        && prefix.len() < max_len
    {
        // Members of the new class can be extended only below max_len.
        let keep_bits = prefix.len() + 1 < max_len;
        let mut next = Vec::new();
        let mut scratch = vec![0u64; bits.len()];
        for other in &class[i + 1..] {
            let Some(other_bits) = &other.bits else {
                continue;
            };
            if keep_bits {
                let count = arch.dispatch(AndCount {
                    a: bits,
                    b: other_bits,
                    out: &mut scratch,
                });
                if count >= min_count {
                    next.push(Member {
                        item: other.item,
                        bits: Some(scratch.clone()),
                        count,
                    });
                }
            } else {
                let count = arch.dispatch(Count {
                    a: bits,
                    b: other_bits,
                });
                if count >= min_count {
                    next.push(Member {
                        item: other.item,
                        bits: None,
                        count,
                    });
                }
            }
        }
        for k in 0..next.len() {
            extend(&next, k, prefix, min_count, max_len, arch, out);
        }
    }
    prefix.pop();
}

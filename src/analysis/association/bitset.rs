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

use super::Transactions;
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
/// rows (of the current space) holding prefix + item (`None` when no
/// further extension will be asked for), and their count.
struct Member {
    item: u32,
    bits: Option<Vec<u64>>,
    count: u64,
}

/// A prefix held by fewer than 1/64 of its row space is re-indexed onto
/// its own rows before it is extended: gathering a member's bits costs one
/// step per row of the prefix, no more than one more intersection over the
/// whole space, and every intersection below it gets that much shorter.
const PROJECT_BELOW: u64 = 64;

/// Marks an item outside the current class.
const NONE: u32 = u32::MAX;

/// What the recursion shares.
struct Ctx<'a> {
    transactions: &'a Transactions,
    min_count: u64,
    max_len: usize,
    arch: pulp::Arch,
}

/// Mines the frequent itemsets. `order` lists the frequent items (global
/// ids) least frequent first, `counts` their counts, `tids` the rows
/// holding each.
pub(super) fn mine(
    transactions: &Transactions,
    order: &[u32],
    counts: &[u64],
    tids: &[Vec<u32>],
    min_count: u64,
    max_len: usize,
) -> Found {
    let ctx = Ctx {
        transactions,
        min_count,
        max_len,
        arch: pulp::Arch::new(),
    };
    let vocab = transactions.item_names().len();
    let parts: Vec<Found> = (0..order.len())
        .into_par_iter()
        .map(|i| {
            let mut out = Found::new();
            let mut prefix = vec![order[i]];
            out.emit(&prefix, counts[i]);
            if max_len > 1 && i + 1 < order.len() {
                let mut slot = vec![NONE; vocab];
                let class = project(&ctx, &tids[i], &order[i + 1..], &mut slot);
                for k in 0..class.len() {
                    extend(&ctx, &class, k, &mut prefix, &mut out);
                }
            }
            out
        })
        .collect();
    let mut found = Found::new();
    for part in parts {
        found.append(part);
    }
    found
}

/// The class of the item held by the rows `rows` (ascending, so the
/// transactions are read in storage order): for each of `items` (in
/// order), the bitset over `rows` of the rows also holding it, kept when
/// frequent.
fn project(ctx: &Ctx<'_>, rows: &[u32], items: &[u32], slot: &mut [u32]) -> Vec<Member> {
    let words = rows.len().div_ceil(64);
    for (k, &item) in items.iter().enumerate() {
        slot[item as usize] = k as u32;
    }
    let mut bits = vec![vec![0u64; words]; items.len()];
    for (q, &r) in rows.iter().enumerate() {
        for &item in ctx.transactions.row_ids(r as usize) {
            let s = slot[item as usize];
            if s != NONE {
                bits[s as usize][q / 64] |= 1 << (q % 64);
            }
        }
    }
    for &item in items {
        slot[item as usize] = NONE;
    }
    items
        .iter()
        .zip(bits)
        .filter_map(|(&item, b)| {
            let count: u64 = b.iter().map(|w| u64::from(w.count_ones())).sum();
            (count >= ctx.min_count).then_some(Member {
                item,
                bits: Some(b),
                count,
            })
        })
        .collect()
}

/// The bits of `bits` at `positions`, packed.
fn gather(bits: &[u64], positions: &[u32]) -> Vec<u64> {
    let mut out = vec![0u64; positions.len().div_ceil(64)];
    for (k, &p) in positions.iter().enumerate() {
        let bit = (bits[p as usize / 64] >> (p % 64)) & 1;
        out[k / 64] |= bit << (k % 64);
    }
    out
}

/// Emits `prefix + class[i]`, then mines its class: `class[i]` joined with
/// each later member.
fn extend(ctx: &Ctx<'_>, class: &[Member], i: usize, prefix: &mut Vec<u32>, out: &mut Found) {
    let head = &class[i];
    prefix.push(head.item);
    out.emit(prefix, head.count);
    if let Some(bits) = &head.bits
        && prefix.len() < ctx.max_len
        && i + 1 < class.len()
    {
        let space = bits.len() as u64 * 64;
        let next = if head.count * PROJECT_BELOW < space {
            // Few rows left: re-index the class onto them.
            let mut positions = Vec::with_capacity(head.count as usize);
            for (w, &word) in bits.iter().enumerate() {
                let mut word = word;
                while word != 0 {
                    positions.push((w * 64) as u32 + word.trailing_zeros());
                    word &= word - 1;
                }
            }
            let keep_bits = prefix.len() + 1 < ctx.max_len;
            class[i + 1..]
                .iter()
                .filter_map(|other| {
                    let g = gather(other.bits.as_ref()?, &positions);
                    let count: u64 = g.iter().map(|w| u64::from(w.count_ones())).sum();
                    (count >= ctx.min_count).then(|| Member {
                        item: other.item,
                        bits: keep_bits.then_some(g),
                        count,
                    })
                })
                .collect()
        } else {
            // Members of the new class can be extended only below max_len.
            let keep_bits = prefix.len() + 1 < ctx.max_len;
            let mut next = Vec::new();
            let mut scratch = vec![0u64; bits.len()];
            for other in &class[i + 1..] {
                let Some(other_bits) = &other.bits else {
                    continue;
                };
                let count = if keep_bits {
                    ctx.arch.dispatch(AndCount {
                        a: bits,
                        b: other_bits,
                        out: &mut scratch,
                    })
                } else {
                    ctx.arch.dispatch(Count {
                        a: bits,
                        b: other_bits,
                    })
                };
                if count >= ctx.min_count {
                    next.push(Member {
                        item: other.item,
                        bits: keep_bits.then(|| scratch.clone()),
                        count,
                    });
                }
            }
            next
        };
        for k in 0..next.len() {
            extend(ctx, &next, k, prefix, out);
        }
    }
    prefix.pop();
}

//! Customer-id and name interning while records are pushed.

use super::*;

/// Customer ids seen so far, mapped to dense keys in first-seen order.
///
/// Small integer ids (the common auto-increment case) are looked up in a
/// directly indexed table instead of a hash map: one array read per event.
#[derive(Debug, Clone, Default)]
pub(crate) struct Interner {
    pub(super) direct: Vec<u32>,
    pub(super) nums: FastMap<u64, u32>,
    pub(super) strs: FastMap<Arc<str>, u32>,
    pub(super) ids: Vec<CustomerId>,
}

/// The direct table never exceeds this many entries (256 MiB).
const DIRECT_MAX: u64 = 1 << 26;

impl Interner {
    fn insert(&mut self, id: CustomerId) -> u32 {
        let next = self.ids.len() as u32;
        self.ids.push(id);
        next
    }

    pub(crate) fn intern_u64(&mut self, n: u64) -> u32 {
        if let Some(&k) = self.direct.get(n as usize) {
            if k != NONE {
                return k;
            }
            let k = self.insert(CustomerId::from(n));
            self.direct[n as usize] = k;
            return k;
        }
        if let Some(&k) = self.nums.get(&n) {
            return k;
        }
        if self.grow_direct(n) {
            return self.intern_u64(n);
        }
        let k = self.insert(CustomerId::from(n));
        self.nums.insert(n, k);
        k
    }

    /// Grows the direct table to cover `n` when it stays within 16 entries
    /// per known id (so sparse ids never cost much memory); moves the
    /// hash-mapped ids it now covers.
    fn grow_direct(&mut self, n: u64) -> bool {
        let len = (n + 1).next_power_of_two();
        let budget = 16 * (self.ids.len() as u64 + 4096);
        if len > DIRECT_MAX || len > budget {
            return false;
        }
        self.direct.resize(len as usize, NONE);
        let direct = &mut self.direct;
        self.nums
            .retain(|&m, &mut k| match direct.get_mut(m as usize) {
                Some(slot) => {
                    *slot = k;
                    false
                }
                None => true,
            });
        true
    }

    pub(crate) fn intern_str(&mut self, s: &str) -> u32 {
        if let Some(n) = parse_canonical_u64(s.as_bytes()) {
            return self.intern_u64(n);
        }
        if let Some(&k) = self.strs.get(s) {
            return k;
        }
        let arc: Arc<str> = Arc::from(s);
        let k = self.insert(CustomerId::from(s));
        self.strs.insert(arc, k);
        k
    }

    pub(super) fn intern(&mut self, id: &CustomerId) -> u32 {
        match id.repr() {
            IdRef::Num(n) => self.intern_u64(n),
            IdRef::Str(s) => {
                if let Some(&k) = self.strs.get(s) {
                    return k;
                }
                let k = self.insert(id.clone());
                self.strs.insert(Arc::from(s), k);
                k
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct StrInterner {
    map: FastMap<Arc<str>, u32>,
    pub(super) names: Vec<Arc<str>>,
}

impl StrInterner {
    pub(super) fn intern(&mut self, s: &str) -> u32 {
        if let Some(&k) = self.map.get(s) {
            return k;
        }
        let k = self.names.len() as u32;
        let arc: Arc<str> = Arc::from(s);
        self.names.push(arc.clone());
        self.map.insert(arc, k);
        k
    }
}

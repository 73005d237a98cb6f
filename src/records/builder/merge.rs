//! Identities applied by the builder: source ids mapped to canonical customers.

use super::*;
use crate::records::IdentityMap;

impl HistoryBuilder {
    /// Merges customers across channels: before validation, every record's
    /// customer id that `map` knows is replaced by its canonical id (see
    /// [`IdentityResolver`](super::super::IdentityResolver)), so the
    /// History holds one customer per person. Ids the map does not know are
    /// kept as they are. Defaults to no map.
    ///
    /// Customer records merged into one customer keep the earliest signup
    /// and, per attribute (plan, channel, region, tags), the first
    /// non-empty value in signup order. Each merge is recorded in the
    /// report as [`Problem::MergedCustomer`]: on every record folded into
    /// another with [`Action::Merged`] (counted in
    /// [`DataQualityReport::merged`], not as dropped; with a
    /// [`Problem::SignupConflict`] when its signup was later), and on the
    /// kept record with [`Action::Repaired`] (field `id`) when it was given
    /// under a non-canonical id. Events are only renamed: their counts do
    /// not change (exact duplicates across merged ids are still
    /// duplicates). The map may be given before or after pushing.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::*;
    ///
    /// let day = |d| Utc.with_ymd_and_hms(2024, 1, d, 0, 0, 0).unwrap();
    /// let map = IdentityResolver::new().resolve(&[
    ///     Identifier::new("shop-7", IdentifierKind::Email, "ann@example.com"),
    ///     Identifier::new("web-3", IdentifierKind::Email, " Ann@Example.com"),
    /// ])?;
    /// let mut b = HistoryBuilder::new().identities(map);
    /// b.push_customer(Customer::new("shop-7", day(9)).with_region("EU"));
    /// b.push_customer(Customer::new("web-3", day(2)).with_plan("gold"));
    /// b.push_order(Order::new("shop-7", day(10), 20.0));
    /// b.push_order(Order::new("web-3", day(11), 5.0));
    /// let (history, report) = b.build()?;
    /// assert_eq!(history.customer_count(), 1);
    /// let c = history.find(&CustomerId::from("shop-7")).expect("the canonical id");
    /// assert_eq!((c.signup(), c.plan(), c.region()), (day(2), Some("gold"), Some("EU")));
    /// assert_eq!(c.orders().len(), 2);
    /// assert_eq!((report.merged(), report.count("signup_conflict")), (1, 1));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn identities(mut self, map: IdentityMap) -> Self {
        self.options.identities = Some(Arc::new(map));
        self
    }

    /// Renames every staged customer key to its canonical customer's key.
    pub(super) fn apply_identities(&mut self) {
        let Some(map) = self.options.identities.clone() else {
            return;
        };
        let n = self.interner.ids.len();
        let mut remap: Vec<u32> = (0..n as u32).collect();
        let mut any = false;
        for (k, slot) in remap.iter_mut().enumerate() {
            let id = &self.interner.ids[k];
            if let Some(c) = map.canonical(id).filter(|c| *c != id) {
                let c = c.clone();
                *slot = self.interner.intern(&c);
                any = true;
            }
        }
        if !any {
            return;
        }
        // Canonical ids interned just now map to themselves.
        let total = self.interner.ids.len();
        remap.extend(n as u32..total as u32);
        self.merged_away = (0..total).map(|k| remap[k] != k as u32).collect();
        let apply = |keys: &mut Vec<u32>| keys.par_iter_mut().for_each(|k| *k = remap[*k as usize]);
        apply(&mut self.orders.cust);
        apply(&mut self.interactions.cust);
        apply(&mut self.feedback.cust);
        for c in &mut self.customers {
            c.key = remap[c.key as usize];
        }
        self.subs.remap(&remap);
    }
}

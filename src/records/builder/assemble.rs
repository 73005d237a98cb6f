//! `build`: grouping, sorting and validating the staged events into a History.

use super::*;

/// What an event table stores beyond (customer, time): a `Copy` payload per
/// row and a total order on rows with equal times (equal means exact duplicate).
trait EventCols: Sync {
    type Payload: Copy + Send + Sync;
    type Out;
    fn payload(&self, row: usize) -> Self::Payload;
    /// Frees what only `payload` reads, once the rows carry their payloads.
    fn release_payloads(&mut self);
    fn cmp_rows(&self, a: &Row<Self::Payload>, b: &Row<Self::Payload>) -> Ordering;
    fn finish(&self, rows: &[Row<Self::Payload>]) -> Self::Out;
}

/// An event moved next to its customer's other events.
#[derive(Debug, Clone, Copy)]
struct Row<P> {
    time: i64,
    /// Index into the staged columns (staged order is input order).
    row: u32,
    /// Dense customer index.
    cust: u32,
    payload: P,
}

impl StagedOrders {
    fn id(&self, row: u32) -> Option<&str> {
        self.order_id.as_ref()?.get(row as usize)?.as_deref()
    }
}

impl EventCols for StagedOrders {
    type Payload = f64;
    type Out = OrderCols;
    fn payload(&self, row: usize) -> f64 {
        self.amount[row]
    }
    fn release_payloads(&mut self) {
        self.amount = Vec::new();
    }
    fn cmp_rows(&self, a: &Row<f64>, b: &Row<f64>) -> Ordering {
        a.payload
            .total_cmp(&b.payload)
            .then_with(|| match &self.order_id {
                Some(_) => self.id(a.row).cmp(&self.id(b.row)),
                None => Ordering::Equal,
            })
    }
    fn finish(&self, rows: &[Row<f64>]) -> OrderCols {
        OrderCols {
            amount: rows.par_iter().map(|r| r.payload).collect(),
            // Present only when a kept order has an id, as if the others were never pushed.
            order_id: rows.iter().any(|r| self.id(r.row).is_some()).then(|| {
                rows.par_iter()
                    .map(|r| self.id(r.row).map(Box::from))
                    .collect()
            }),
        }
    }
}

/// Interactions, with campaign symbols replaced by the rank of their name so
/// the order does not depend on which campaign was seen first.
///
/// The kind stays in the staged column, read through the row index: the
/// largest table's grouped rows are then 16 bytes instead of 32, which is
/// what bounds the peak memory of `build` for millions of interactions.
struct InteractionCols<'a> {
    kinds: Vec<CompactKind>,
    rank: &'a [u32],
}

impl InteractionCols<'_> {
    fn kind(&self, row: u32) -> CompactKind {
        match self.kinds[row as usize] {
            CompactKind::CampaignResponse(c) => {
                CompactKind::CampaignResponse(self.rank[c as usize])
            }
            k => k,
        }
    }
}

impl EventCols for InteractionCols<'_> {
    type Payload = ();
    type Out = Vec<CompactKind>;
    fn payload(&self, _row: usize) {}
    fn release_payloads(&mut self) {}
    fn cmp_rows(&self, a: &Row<()>, b: &Row<()>) -> Ordering {
        let (a, b) = (&self.kind(a.row), &self.kind(b.row));
        a.code().cmp(&b.code()).then_with(|| match (a, b) {
            (CompactKind::SupportTicket(x), CompactKind::SupportTicket(y)) => x.total_cmp(y),
            (CompactKind::Complaint(x), CompactKind::Complaint(y)) => x.cmp(y),
            (CompactKind::CampaignResponse(x), CompactKind::CampaignResponse(y)) => x.cmp(y),
            _ => Ordering::Equal,
        })
    }
    fn finish(&self, rows: &[Row<()>]) -> Vec<CompactKind> {
        rows.par_iter().map(|r| self.kind(r.row)).collect()
    }
}

impl EventCols for Vec<FeedbackRow> {
    type Payload = FeedbackRow;
    type Out = Vec<FeedbackRow>;
    fn payload(&self, row: usize) -> FeedbackRow {
        self[row]
    }
    fn release_payloads(&mut self) {
        *self = Vec::new();
    }
    fn cmp_rows(&self, x: &Row<FeedbackRow>, y: &Row<FeedbackRow>) -> Ordering {
        let (x, y) = (&x.payload, &y.payload);
        x.satisfaction
            .total_cmp(&y.satisfaction)
            .then_with(|| x.scale.min().total_cmp(&y.scale.min()))
            .then_with(|| x.scale.max().total_cmp(&y.scale.max()))
            .then_with(|| x.nps.cmp(&y.nps))
    }
    fn finish(&self, rows: &[Row<FeedbackRow>]) -> Vec<FeedbackRow> {
        rows.par_iter().map(|r| r.payload).collect()
    }
}

/// The rows of one event table grouped by customer and sorted within.
struct Arranged<P> {
    rows: Vec<Row<P>>,
    /// `offsets[c]..offsets[c + 1]` are customer `c`'s rows.
    offsets: Vec<usize>,
}

impl<P: Copy + Send + Sync> Arranged<P> {
    /// The time of customer `c`'s first row, if any.
    fn first_time(&self, c: usize) -> Option<i64> {
        let r = self.offsets[c];
        (r < self.offsets[c + 1]).then(|| self.rows[r].time)
    }

    /// Removes the rows whose `drop` flag is set, keeping offsets in step.
    fn remove(&mut self, drop: &[bool]) {
        let mut w = 0;
        let mut start = 0;
        for c in 0..self.offsets.len() - 1 {
            let end = self.offsets[c + 1];
            for (r, _) in drop
                .iter()
                .enumerate()
                .take(end)
                .skip(start)
                .filter(|(_, d)| !**d)
            {
                self.rows[w] = self.rows[r];
                w += 1;
            }
            start = end;
            self.offsets[c + 1] = w;
        }
        self.rows.truncate(w);
    }

    /// The final columns; the staged columns go as soon as they are read.
    fn into_columns<C: EventCols<Payload = P>>(self, staged: Staged<C>) -> EventColumns<C::Out> {
        let Staged {
            cust,
            time,
            input,
            cols,
        } = staged;
        drop((cust, time, input));
        let out = cols.finish(&self.rows);
        drop(cols);
        EventColumns {
            time: self.rows.par_iter().map(|r| r.time).collect(),
            cols: out,
            offsets: self.offsets,
        }
    }
}

/// The state of one `build` run.
pub(super) struct Assembly {
    b: HistoryBuilder,
    /// Key → dense customer index, or `NONE`.
    dense: Vec<u32>,
}

/// One event table grouped by customer, and the staged columns it refers to.
type Grouped<C> = (Arranged<<C as EventCols>::Payload>, Staged<C>);

impl Assembly {
    pub(super) fn new(b: HistoryBuilder) -> Self {
        Assembly {
            b,
            dense: Vec::new(),
        }
    }

    pub(super) fn run(mut self) -> (History, DataQualityReport) {
        let n_keys = self.b.interner.ids.len();
        let records = self.resolve_customers(n_keys);

        // Customers in the History: explicit ones, plus (when creating) every
        // other id, which was interned because an accepted event named it.
        let create = self.b.options.unknown == UnknownCustomers::Create;
        let merged_away = std::mem::take(&mut self.b.merged_away);
        let keys = self.sorted_keys(|k| {
            !merged_away.get(k).copied().unwrap_or(false) && (create || records.signup[k].is_some())
        });
        self.dense = vec![NONE; n_keys];
        for (d, &k) in keys.iter().enumerate() {
            self.dense[k as usize] = d as u32;
        }

        let orders = std::mem::take(&mut self.b.orders);
        let mut orders = self.group(RecordKind::Order, orders);
        let staged = std::mem::take(&mut self.b.interactions);
        let (campaigns, rank) = sorted_names(&self.b.campaigns.names);
        let staged = Staged {
            cust: staged.cust,
            time: staged.time,
            input: staged.input,
            cols: InteractionCols {
                kinds: staged.cols,
                rank: &rank,
            },
        };
        let mut interactions = self.group(RecordKind::Interaction, staged);
        let feedback = std::mem::take(&mut self.b.feedback);
        let mut feedback = self.group(RecordKind::Feedback, feedback);
        let subscriptions = super::subs::prepare(&mut self.b, &self.dense, keys.len());

        let first = |c: usize| {
            let firsts = [
                orders.0.first_time(c),
                interactions.0.first_time(c),
                feedback.0.first_time(c),
                subscriptions.first.get(c).copied().flatten(),
            ];
            firsts.into_iter().flatten().min()
        };
        let signup = self.signups(&keys, &records, first);

        self.drop_invalid(RecordKind::Order, &mut orders, &signup);
        if orders.1.cols.order_id.is_some() {
            self.dedup_order_ids(&mut orders.0, &orders.1);
        }
        let order_table = orders.0.into_columns(orders.1);
        self.drop_invalid(RecordKind::Interaction, &mut interactions, &signup);
        let mut interaction_table = interactions.0.into_columns(interactions.1);
        let campaigns = drop_unused_campaigns(campaigns, &mut interaction_table.cols);
        self.drop_invalid(RecordKind::Feedback, &mut feedback, &signup);
        let feedback_table = feedback.0.into_columns(feedback.1);
        let subs = super::subs::finish(&mut self.b, subscriptions, &self.dense, &signup);

        let mut attrs_by_key = records.attrs;
        let attrs = keys
            .iter()
            .map(|&k| attrs_by_key[k as usize].take())
            .collect();
        let implicit = keys
            .iter()
            .filter(|&&k| records.signup[k as usize].is_none())
            .count();
        let ids = keys
            .iter()
            .map(|&k| self.b.interner.ids[k as usize].clone())
            .collect();
        let history = History::from_parts(Parts {
            ids,
            signup,
            attrs,
            orders: order_table,
            interactions: interaction_table,
            campaigns,
            feedback: feedback_table,
            subs,
        });

        let mut issues = std::mem::take(&mut self.b.issues);
        issues.sort_by_key(|i| (i.record().kind(), i.record().index()));
        let accepted = RecordCounts {
            customers: history.customer_count(),
            orders: history.order_count(),
            interactions: history.interaction_count(),
            feedback: history.feedback_count(),
            subscriptions: history.subscription_count(),
            subscription_events: history.subscription_event_count(),
        };
        let mut received = self.b.received;
        received.customers += implicit;
        let report = DataQualityReport::new(received, accepted, implicit, issues);
        (history, report)
    }

    /// The keys passing `keep`, in [`CustomerId`] order (the dense order).
    fn sorted_keys(&self, keep: impl Fn(usize) -> bool) -> Vec<u32> {
        let interner = &self.b.interner;
        let ids = &interner.ids;
        if interner.strs.is_empty() && interner.nums.is_empty() {
            // Every id is a small integer in the direct table: read it in id order.
            return interner
                .direct
                .iter()
                .filter(|&&k| k != NONE && keep(k as usize))
                .copied()
                .collect();
        }
        let keys = (0..ids.len() as u32).filter(|&k| keep(k as usize));
        if interner.strs.is_empty() {
            // All ids are integers: sort plain numbers.
            let mut num: Vec<(u64, u32)> = keys
                .map(|k| (ids[k as usize].as_u64().unwrap_or(u64::MAX), k))
                .collect();
            num.par_sort_unstable();
            num.into_iter().map(|(_, k)| k).collect()
        } else {
            let mut keys: Vec<u32> = keys.collect();
            keys.par_sort_unstable_by(|&a, &b| ids[a as usize].cmp(&ids[b as usize]));
            keys
        }
    }

    /// De-duplicates customer records: per id as given, the first by
    /// (signup, attributes) is kept and the others are reported; then the
    /// records of ids merged into one customer (identities) are combined:
    /// earliest signup, first non-empty attribute values in signup order.
    fn resolve_customers(&mut self, n_keys: usize) -> CustomerRecords {
        let mut staged = std::mem::take(&mut self.b.customers);
        staged.sort_by(|a, b| {
            (a.key, a.orig, a.signup, &a.attrs, a.input)
                .cmp(&(b.key, b.orig, b.signup, &b.attrs, b.input))
        });
        let mut records = CustomerRecords {
            signup: vec![None; n_keys],
            input: vec![0; n_keys],
            attrs: vec![None; n_keys],
        };
        let mut kept: Vec<StagedCustomer> = Vec::with_capacity(staged.len());
        for c in staged {
            if let Some(first) = kept.last().filter(|f| f.key == c.key && f.orig == c.orig) {
                let problem = if first.signup == c.signup && first.attrs == c.attrs {
                    Problem::Duplicate { kept: first.input }
                } else {
                    Problem::Conflict { kept: first.input }
                };
                self.b.report(
                    RecordKind::Customer,
                    c.input,
                    None,
                    problem,
                    Action::Dropped,
                );
                continue;
            }
            kept.push(c);
        }
        for group in kept.chunk_by_mut(|a, b| a.key == b.key) {
            let k = group[0].key as usize;
            if group.len() > 1 {
                group.sort_by_key(|c| (c.signup, c.input));
            }
            let first = &group[0];
            records.signup[k] = Some(first.signup);
            records.input[k] = first.input;
            records.attrs[k] = if group.len() == 1 {
                first.attrs.clone()
            } else {
                merge_attrs(group)
            };
            // The kept record is renamed when its id was not the canonical one;
            // every other record is folded into it.
            for (i, c) in group.iter().enumerate() {
                let p = Problem::MergedCustomer {
                    source: self.b.interner.ids[c.orig as usize].clone(),
                    canonical: self.b.interner.ids[k].clone(),
                };
                let kind = RecordKind::Customer;
                if i == 0 {
                    if c.orig != c.key {
                        self.b
                            .report(kind, c.input, Some("id"), p, Action::Repaired);
                    }
                    continue;
                }
                self.b.report(kind, c.input, None, p, Action::Merged);
                if c.signup != group[0].signup {
                    let p = Problem::SignupConflict {
                        kept: from_micros(group[0].signup),
                        dropped: from_micros(c.signup),
                    };
                    self.b
                        .report(kind, c.input, Some("signup"), p, Action::Merged);
                }
            }
        }
        records
    }

    /// Signup per dense customer: the record's, moved back to the first event
    /// under [`EventsBeforeSignup::MoveSignup`]; the first event for implicit customers.
    fn signups(
        &mut self,
        keys: &[u32],
        records: &CustomerRecords,
        first: impl Fn(usize) -> Option<i64> + Sync,
    ) -> Vec<i64> {
        let moves = self.b.options.before_signup == EventsBeforeSignup::MoveSignup;
        let firsts: Vec<Option<i64>> = (0..keys.len()).into_par_iter().map(&first).collect();
        let mut signup = Vec::with_capacity(keys.len());
        for (&k, first) in keys.iter().zip(firsts) {
            let k = k as usize;
            let s = match (records.signup[k], first) {
                (Some(s), Some(f)) if moves && f < s => {
                    let problem = Problem::BeforeSignup {
                        time: from_micros(f),
                        signup: from_micros(s),
                    };
                    self.b.report(
                        RecordKind::Customer,
                        records.input[k],
                        Some("signup"),
                        problem,
                        Action::Repaired,
                    );
                    f
                }
                (Some(s), _) => s,
                // Implicit customers exist because an event named them.
                (None, f) => f.unwrap_or_default(),
            };
            signup.push(s);
        }
        signup
    }

    /// Groups a table by dense customer and sorts each group by (time,
    /// contents, input order); reports and drops rows of unknown customers.
    fn group<C: EventCols>(&mut self, kind: RecordKind, mut s: Staged<C>) -> Grouped<C> {
        let n = self.dense.iter().filter(|&&d| d != NONE).count();
        let dense: Vec<u32> = s.cust.par_iter().map(|&k| self.dense[k as usize]).collect();
        if dense.par_iter().any(|&d| d == NONE) {
            for (row, _) in dense.iter().enumerate().filter(|(_, d)| **d == NONE) {
                let id = self.b.interner.ids[s.cust[row] as usize].clone();
                let p = Problem::UnknownCustomer { customer: id };
                self.b.report(
                    kind,
                    s.input[row] as usize,
                    Some("customer"),
                    p,
                    Action::Dropped,
                );
            }
        }
        // `dense` replaces the staged keys; the staged times and payloads
        // are copied into the rows, then freed (with several million events
        // these copies are what bounds the peak memory of `build`).
        s.cust = Vec::new();
        let cols = &s.cols;
        let (rows, offsets) = group_by_customer(&dense, n, &s.time, cols, |a, b| {
            a.time
                .cmp(&b.time)
                .then_with(|| cols.cmp_rows(a, b))
                .then_with(|| a.row.cmp(&b.row))
        });
        drop(dense);
        s.time = Vec::new();
        s.cols.release_payloads();
        (Arranged { rows, offsets }, s)
    }

    /// Drops rows before their customer's signup and exact duplicates.
    fn drop_invalid<C: EventCols>(
        &mut self,
        kind: RecordKind,
        (arranged, s): &mut Grouped<C>,
        signup: &[i64],
    ) {
        let n = signup.len();
        if arranged.rows.is_empty() {
            return;
        }
        let drop_dups = self.b.options.duplicates == Duplicates::Drop;
        // Scan customer ranges in parallel; issues are sorted at the end anyway.
        let this = &*self;
        let rows = &arranged.rows;
        let offsets = &arranged.offsets;
        let ranges: Vec<std::ops::Range<usize>> =
            (0..n).step_by(4096).map(|c| c..(c + 4096).min(n)).collect();
        let found: Vec<(Vec<usize>, Vec<Issue>)> = ranges
            .into_par_iter()
            .map(|customers| {
                let (mut drops, mut issues) = (Vec::new(), Vec::new());
                let mut report = |r: usize, row: &Row<C::Payload>, field, p| {
                    let rec = this.b.record_ref(kind, s.input[row.row as usize] as usize);
                    issues.push(Issue::new(rec, field, p, Action::Dropped));
                    drops.push(r);
                };
                for c in customers {
                    let group = &rows[offsets[c]..offsets[c + 1]];
                    for (i, row) in group.iter().enumerate() {
                        if row.time < signup[c] {
                            let p = Problem::BeforeSignup {
                                time: from_micros(row.time),
                                signup: from_micros(signup[c]),
                            };
                            report(offsets[c] + i, row, Some("time"), p);
                            continue;
                        }
                        // Sorted: a duplicate follows the row it repeats (or its duplicates).
                        if drop_dups
                            && i > 0
                            && group[i - 1].time == row.time
                            && s.cols.cmp_rows(&group[i - 1], row).is_eq()
                        {
                            let first = group[..i]
                                .iter()
                                .rev()
                                .take_while(|r| {
                                    r.time == row.time && s.cols.cmp_rows(r, row).is_eq()
                                })
                                .last()
                                .unwrap_or(row);
                            let kept = s.input[first.row as usize] as usize;
                            report(offsets[c] + i, row, None, Problem::Duplicate { kept });
                        }
                    }
                }
                (drops, issues)
            })
            .collect();
        let mut drop = Vec::new();
        for (drops, issues) in found {
            if !drops.is_empty() {
                drop.resize(arranged.rows.len(), false);
                drops.into_iter().for_each(|r| drop[r] = true);
            }
            self.b.issues.extend(issues);
        }
        if !drop.is_empty() {
            arranged.remove(&drop);
        }
    }

    /// Drops every order whose id was already used by an earlier order in
    /// canonical (customer, time) order.
    fn dedup_order_ids(&mut self, a: &mut Arranged<f64>, s: &Staged<StagedOrders>) {
        let mut with_id: Vec<(&str, usize)> = a
            .rows
            .iter()
            .enumerate()
            .filter_map(|(pos, r)| s.cols.id(r.row).map(|id| (id, pos)))
            .collect();
        with_id.par_sort_unstable();
        let mut drop = vec![false; a.rows.len()];
        let mut group: Option<(&str, usize)> = None;
        for &(id, pos) in &with_id {
            // Sorted by (id, position): the first position of each id is kept.
            let kept_pos = match group {
                Some((g, first)) if g == id => first,
                _ => {
                    group = Some((id, pos));
                    continue;
                }
            };
            let (r, k) = (a.rows[pos], a.rows[kept_pos]);
            let same =
                r.cust == k.cust && r.time == k.time && r.payload.total_cmp(&k.payload).is_eq();
            let kept = s.input[k.row as usize] as usize;
            let p = if same {
                Problem::Duplicate { kept }
            } else {
                Problem::Conflict { kept }
            };
            let input = s.input[r.row as usize] as usize;
            self.b.report(
                RecordKind::Order,
                input,
                Some("order_id"),
                p,
                Action::Dropped,
            );
            drop[pos] = true;
        }
        if drop.contains(&true) {
            a.remove(&drop);
        }
    }
}

/// The attributes of merged customer records (in signup order): per
/// attribute, the first non-empty value; `None` when all are empty.
fn merge_attrs(group: &[StagedCustomer]) -> Option<Box<CustomerAttrs>> {
    let all = || group.iter().filter_map(|c| c.attrs.as_deref());
    let merged = CustomerAttrs {
        plan: all().find_map(|a| a.plan.clone()),
        channel: all().find_map(|a| a.channel.clone()),
        region: all().find_map(|a| a.region.clone()),
        tags: all()
            .map(|a| a.tags.clone())
            .find(|t| !t.is_empty())
            .unwrap_or_default(),
    };
    all().next().map(|_| Box::new(merged))
}

/// Per key: the kept customer record's signup (`None` without a record), input index and attributes.
struct CustomerRecords {
    signup: Vec<Option<i64>>,
    input: Vec<usize>,
    attrs: Vec<Option<Box<CustomerAttrs>>>,
}

/// Moves staged rows into customer order with a stable two-pass counting
/// sort, first into buckets of consecutive customers, then within each
/// bucket (where each customer's rows are then sorted by `cmp`), and returns
/// the rows with per-customer offsets. Neither pass
/// scatters writes over the whole array, which a one-pass scatter of
/// millions of rows would (a cache miss per row), and both run in parallel.
fn group_by_customer<C: EventCols>(
    dense: &[u32],
    n: usize,
    time: &[i64],
    cols: &C,
    cmp: impl Fn(&Row<C::Payload>, &Row<C::Payload>) -> Ordering + Sync,
) -> (Vec<Row<C::Payload>>, Vec<usize>) {
    let mut offsets = vec![0usize; n + 1];
    if n == 0 || dense.is_empty() {
        return (Vec::new(), offsets);
    }
    let wanted = (dense.len() / 16_384).clamp(1, 4096);
    let shift = n.div_ceil(wanted).next_power_of_two().trailing_zeros();
    let per_bucket = 1usize << shift;
    let buckets = n.div_ceil(per_bucket);

    // Pass 1: each thread scatters its share of rows into its region of every bucket.
    let chunk = dense.len().div_ceil(rayon::current_num_threads()).max(1);
    let ranges: Vec<std::ops::Range<usize>> = (0..dense.len())
        .step_by(chunk)
        .map(|s| s..(s + chunk).min(dense.len()))
        .collect();
    let counts: Vec<Vec<usize>> = ranges
        .par_iter()
        .map(|r| {
            let mut c = vec![0usize; buckets];
            for &d in &dense[r.clone()] {
                if d != NONE {
                    c[(d >> shift) as usize] += 1;
                }
            }
            c
        })
        .collect();
    let bucket_len: Vec<usize> = (0..buckets)
        .map(|b| counts.iter().map(|c| c[b]).sum())
        .collect();
    let fill = Row {
        time: 0,
        row: 0,
        cust: 0,
        payload: cols.payload(0),
    };
    let mut out = vec![fill; bucket_len.iter().sum()];
    let mut regions: Vec<Vec<&mut [Row<C::Payload>]>> =
        ranges.iter().map(|_| Vec::with_capacity(buckets)).collect();
    let mut rest: &mut [Row<C::Payload>] = &mut out;
    for b in 0..buckets {
        for (region, count) in regions.iter_mut().zip(&counts) {
            let (head, tail) = rest.split_at_mut(count[b]);
            region.push(head);
            rest = tail;
        }
    }
    ranges
        .par_iter()
        .zip(regions.par_iter_mut())
        .for_each(|(r, region)| {
            let mut cursor = vec![0usize; buckets];
            for row in r.clone() {
                let d = dense[row];
                if d != NONE {
                    let b = (d >> shift) as usize;
                    region[b][cursor[b]] = Row {
                        time: time[row],
                        row: row as u32,
                        cust: d,
                        payload: cols.payload(row),
                    };
                    cursor[b] += 1;
                }
            }
        });

    // Pass 2: within each bucket, count its customers' rows, record their
    // offsets, and counting-sort the bucket through a scratch copy.
    let mut slices: Vec<&mut [Row<C::Payload>]> = Vec::with_capacity(buckets);
    let mut rest: &mut [Row<C::Payload>] = &mut out;
    for &len in &bucket_len {
        let (head, tail) = rest.split_at_mut(len);
        slices.push(head);
        rest = tail;
    }
    let bucket_start: Vec<usize> = bucket_len
        .iter()
        .scan(0, |acc, &len| {
            let start = *acc;
            *acc += len;
            Some(start)
        })
        .collect();
    slices
        .par_iter_mut()
        .zip(offsets[1..].par_chunks_mut(per_bucket))
        .enumerate()
        .for_each_init(Vec::new, |scratch, (b, (slice, ends))| {
            let first = b << shift;
            let mut cursor = vec![0usize; ends.len()];
            for r in slice.iter() {
                cursor[r.cust as usize - first] += 1;
            }
            let mut acc = 0;
            for (c, end) in cursor.iter_mut().zip(ends.iter_mut()) {
                let len = *c;
                *c = acc;
                acc += len;
                *end = bucket_start[b] + acc;
            }
            scratch.clear();
            scratch.extend_from_slice(slice);
            for r in scratch.iter() {
                let i = r.cust as usize - first;
                slice[cursor[i]] = *r;
                cursor[i] += 1;
            }
            // Sort each customer's rows while the bucket is in cache; rows
            // usually arrive in time order, so this is mostly a check.
            let mut start = 0;
            for &end in cursor.iter() {
                let g = &mut slice[start..end];
                if !g.is_sorted_by(|a, b| cmp(a, b).is_le()) {
                    g.sort_unstable_by(&cmp);
                }
                start = end;
            }
        });
    (out, offsets)
}

/// Keeps only the campaigns that kept interactions refer to, renumbered in name order.
fn drop_unused_campaigns(names: Vec<Arc<str>>, kinds: &mut [CompactKind]) -> Vec<Arc<str>> {
    let mut used = vec![false; names.len()];
    for k in kinds.iter() {
        if let CompactKind::CampaignResponse(c) = k {
            used[*c as usize] = true;
        }
    }
    let mut new_index = vec![NONE; names.len()];
    let mut kept = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        if used[i] {
            new_index[i] = kept.len() as u32;
            kept.push(name);
        }
    }
    for k in kinds.iter_mut() {
        if let CompactKind::CampaignResponse(c) = k {
            *c = new_index[*c as usize];
        }
    }
    kept
}

/// Sorts interned names; returns the sorted table and each symbol's rank in it.
fn sorted_names(names: &[Arc<str>]) -> (Vec<Arc<str>>, Vec<u32>) {
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    order.sort_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
    let mut rank = vec![0u32; names.len()];
    for (r, &sym) in order.iter().enumerate() {
        rank[sym as usize] = r as u32;
    }
    let sorted = order.iter().map(|&s| names[s as usize].clone()).collect();
    (sorted, rank)
}

//! The raw events of many groups, their partial states and the final step.

use std::mem::size_of;
use std::sync::Arc;

use churnwise::features::CompactKind;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, ListArray, UInt8Array,
};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, UInt8Type};
use datafusion::common::{DataFusionError, Result, exec_err};
use datafusion::logical_expr::EmitTo;

use super::features::evaluate_features;
use super::input::{Ctx, EventKind, Kinds, amount_at, floats, micros, null_signup, parse_kind};
use super::rfm::evaluate_rfm;
use super::{Form, Output, list_field};

/// The raw events of many groups, in arrival order, with their group index.
#[derive(Debug, Clone, Default)]
pub(super) struct Store {
    /// Per group: the signup time (µs), when seen.
    pub(super) signup: Vec<Option<i64>>,
    pub(super) order_group: Vec<u32>,
    pub(super) order_times: Vec<i64>,
    pub(super) amounts: Vec<f64>,
    pub(super) interaction_group: Vec<u32>,
    pub(super) interaction_times: Vec<i64>,
    pub(super) interaction_codes: Vec<u8>,
    pub(super) response_hours: Vec<f64>,
}

/// The events of the first groups of a [`Store`], grouped: group `g`'s
/// events are at `offsets[g]..offsets[g + 1]`.
pub(super) struct Taken {
    pub(super) signup: Vec<Option<i64>>,
    pub(super) order_offsets: Vec<usize>,
    pub(super) orders: Vec<(i64, f64)>,
    pub(super) interaction_offsets: Vec<usize>,
    pub(super) interactions: Vec<(i64, u8, f64)>,
}

fn group_u32(ctx: &Ctx, g: usize) -> Result<u32> {
    u32::try_from(g)
        .map_err(|_| DataFusionError::Execution(format!("{}: more than 2^32 groups", ctx.function)))
}

/// Takes the events of groups `< n` out of `groups`/`cols` (a counting sort),
/// renumbering the rest from 0.
fn take_grouped<T: Copy + Default>(
    n: usize,
    groups: &mut Vec<u32>,
    mut item: impl FnMut(usize) -> T,
    mut keep: impl FnMut(&[bool]),
) -> (Vec<usize>, Vec<T>) {
    let mut offsets = vec![0usize; n + 1];
    for &g in groups.iter() {
        let g = g as usize;
        if g < n {
            offsets[g + 1] += 1;
        }
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let total = offsets[n];
    let mut next = offsets.clone();
    let mut out: Vec<T> = vec![T::default(); total];
    let all = total == groups.len();
    let mut taken = if all {
        Vec::new()
    } else {
        vec![false; groups.len()]
    };
    for (i, &g) in groups.iter().enumerate() {
        let g = g as usize;
        if g < n {
            out[next[g]] = item(i);
            next[g] += 1;
            if !all {
                taken[i] = true;
            }
        }
    }
    if all {
        groups.clear();
        keep(&[]);
    } else {
        keep(&taken);
        let n32 = n as u32;
        let mut rest = Vec::with_capacity(groups.len() - total);
        for (i, &g) in groups.iter().enumerate() {
            if !taken[i] {
                rest.push(g - n32);
            }
        }
        *groups = rest;
    }
    (offsets, out)
}

/// Keeps the entries of `v` not marked in `taken` (all cleared when `taken` is empty).
fn retain_untaken<T>(v: &mut Vec<T>, taken: &[bool]) {
    if taken.is_empty() {
        v.clear();
    } else {
        let mut i = 0;
        v.retain(|_| {
            let keep = !taken[i];
            i += 1;
            keep
        });
    }
}

impl Store {
    pub(super) fn size(&self) -> usize {
        self.signup.capacity() * size_of::<Option<i64>>()
            + self.order_group.capacity() * 4
            + self.order_times.capacity() * 8
            + self.amounts.capacity() * 8
            + self.interaction_group.capacity() * 4
            + self.interaction_times.capacity() * 8
            + self.interaction_codes.capacity()
            + self.response_hours.capacity() * 8
    }

    fn set_signup(&mut self, ctx: &Ctx, g: usize, t: i64) -> Result<()> {
        match self.signup[g] {
            None => self.signup[g] = Some(t),
            Some(s) if s == t => {}
            Some(s) => {
                return exec_err!(
                    "{}: column `{}` has two values in one group ({s} and {t} µs); a \
                     customer has one signup time",
                    ctx.function,
                    ctx.column(0)
                );
            }
        }
        Ok(())
    }

    fn push_order(&mut self, ctx: &Ctx, g: usize, t: i64, amount: f64) -> Result<()> {
        if t <= ctx.keep_until {
            self.order_group.push(group_u32(ctx, g)?);
            self.order_times.push(t);
            self.amounts.push(amount);
        }
        Ok(())
    }

    /// Row `i`'s event time, or `None` when the filter drops the row or its
    /// event time is null (a customer without events: only the signup
    /// counts); records the row's signup for group `g` first.
    #[inline]
    fn event_time(
        &mut self,
        ctx: &Ctx,
        g: usize,
        i: usize,
        filter: Option<&BooleanArray>,
        signup: Option<&Int64Array>,
        time: &Int64Array,
    ) -> Result<Option<i64>> {
        if filter.is_some_and(|f| !(f.is_valid(i) && f.value(i))) {
            return Ok(None);
        }
        if let Some(s) = signup {
            if s.is_null(i) {
                return null_signup(ctx);
            }
            self.set_signup(ctx, g, s.value(i))?;
        }
        Ok(time.is_valid(i).then(|| time.value(i)))
    }

    /// Adds input rows (the aggregate's arguments).
    pub(super) fn update(
        &mut self,
        ctx: &Ctx,
        values: &[ArrayRef],
        groups: &[usize],
        filter: Option<&BooleanArray>,
        total: usize,
    ) -> Result<()> {
        if self.signup.len() < total {
            self.signup.resize(total, None);
        }
        let first = usize::from(ctx.signup);
        let want = first + if ctx.form == Form::Events { 3 } else { 2 };
        if values.len() != want {
            return exec_err!(
                "{}: expected {want} arguments, got {}",
                ctx.function,
                values.len()
            );
        }
        let signup = if ctx.signup {
            Some(micros(ctx, 0, &values[0])?)
        } else {
            None
        };
        let time = micros(ctx, first, &values[first])?;
        match ctx.form {
            Form::Orders => {
                let amount = floats(ctx, first + 1, &values[first + 1])?;
                for (i, &g) in groups.iter().enumerate() {
                    let Some(t) = self.event_time(ctx, g, i, filter, signup.as_ref(), &time)?
                    else {
                        continue;
                    };
                    let a = amount_at(ctx, first + 1, &amount, i)?;
                    self.push_order(ctx, g, t, a)?;
                }
            }
            Form::Events => {
                let kinds = match values[first + 1].data_type() {
                    DataType::Utf8 => Kinds::Utf8(values[first + 1].as_string::<i32>()),
                    DataType::Utf8View => Kinds::View(values[first + 1].as_string_view()),
                    DataType::Null => Kinds::Null,
                    t => {
                        return exec_err!(
                            "{}: column `{}` must be text, got {t}",
                            ctx.function,
                            ctx.column(first + 1)
                        );
                    }
                };
                let value = floats(ctx, first + 2, &values[first + 2])?;
                for (i, &g) in groups.iter().enumerate() {
                    let Some(t) = self.event_time(ctx, g, i, filter, signup.as_ref(), &time)?
                    else {
                        continue;
                    };
                    let Some(k) = kinds.get(i) else {
                        return exec_err!(
                            "{}: column `{}` is null on a row with an event time",
                            ctx.function,
                            ctx.column(first + 1)
                        );
                    };
                    match parse_kind(k) {
                        Some(EventKind::Order) => {
                            let a = amount_at(ctx, first + 2, &value, i)?;
                            self.push_order(ctx, g, t, a)?;
                        }
                        Some(EventKind::Interaction(kind)) => {
                            let ticket = matches!(kind, CompactKind::SupportTicket(_));
                            let h = if ticket && value.is_valid(i) {
                                let h = value.value(i);
                                if !h.is_finite() {
                                    return exec_err!(
                                        "{}: column `{}` has a non-finite response time {h}",
                                        ctx.function,
                                        ctx.column(first + 2)
                                    );
                                }
                                if h < 0.0 { -1.0 } else { h }
                            } else {
                                -1.0
                            };
                            if t <= ctx.keep_until {
                                self.interaction_group.push(group_u32(ctx, g)?);
                                self.interaction_times.push(t);
                                self.interaction_codes.push(kind.code());
                                self.response_hours.push(h);
                            }
                        }
                        None => {
                            return exec_err!(
                                "{}: column `{}` has unknown event kind {k:?} (expected order, \
                                 login, visit, support_ticket, complaint, campaign_response or \
                                 cancellation)",
                                ctx.function,
                                ctx.column(first + 1)
                            );
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds partial states (the columns of [`state_fields`]).
    pub(super) fn merge(
        &mut self,
        ctx: &Ctx,
        values: &[ArrayRef],
        groups: &[usize],
        total: usize,
    ) -> Result<()> {
        if self.signup.len() < total {
            self.signup.resize(total, None);
        }
        // States come from other partitions, or other processes: a state of
        // the wrong types or lengths is an error, never a panic.
        let malformed = || DataFusionError::Internal(format!("{}: malformed state", ctx.function));
        let first = usize::from(ctx.signup);
        if ctx.signup {
            let s = values
                .first()
                .and_then(|a| a.as_primitive_opt::<Int64Type>())
                .filter(|s| s.len() == groups.len())
                .ok_or_else(malformed)?;
            for (i, &g) in groups.iter().enumerate() {
                if s.is_valid(i) {
                    self.set_signup(ctx, g, s.value(i))?;
                }
            }
        }
        let list = |k: usize| -> Result<&ListArray> {
            values
                .get(first + k)
                .and_then(|a| a.as_list_opt::<i32>())
                .ok_or_else(malformed)
        };
        let aligned = |lists: &[&ListArray]| {
            lists.iter().all(|l| l.len() == groups.len())
                && (0..groups.len()).all(|i| {
                    lists
                        .iter()
                        .all(|l| l.value_length(i) == lists[0].value_length(i))
                })
        };
        let (ot, oa) = (list(0)?, list(1)?);
        if !aligned(&[ot, oa]) {
            return Err(malformed());
        }
        let (otv, oav) = (
            ot.values()
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(malformed)?,
            oa.values()
                .as_primitive_opt::<Float64Type>()
                .ok_or_else(malformed)?,
        );
        for (i, &g) in groups.iter().enumerate() {
            let g32 = group_u32(ctx, g)?;
            let (lo, hi) = (
                ot.value_offsets()[i] as usize,
                ot.value_offsets()[i + 1] as usize,
            );
            let alo = oa.value_offsets()[i] as usize;
            for j in lo..hi {
                self.order_group.push(g32);
                self.order_times.push(otv.value(j));
                self.amounts.push(oav.value(alo + j - lo));
            }
        }
        if ctx.form == Form::Events {
            let (it, ic, ih) = (list(2)?, list(3)?, list(4)?);
            if !aligned(&[it, ic, ih]) {
                return Err(malformed());
            }
            let (itv, icv, ihv) = (
                it.values()
                    .as_primitive_opt::<Int64Type>()
                    .ok_or_else(malformed)?,
                ic.values()
                    .as_primitive_opt::<UInt8Type>()
                    .ok_or_else(malformed)?,
                ih.values()
                    .as_primitive_opt::<Float64Type>()
                    .ok_or_else(malformed)?,
            );
            for (i, &g) in groups.iter().enumerate() {
                let g32 = group_u32(ctx, g)?;
                let (lo, hi) = (
                    it.value_offsets()[i] as usize,
                    it.value_offsets()[i + 1] as usize,
                );
                let clo = ic.value_offsets()[i] as usize;
                let hlo = ih.value_offsets()[i] as usize;
                for j in lo..hi {
                    self.interaction_group.push(g32);
                    self.interaction_times.push(itv.value(j));
                    self.interaction_codes.push(icv.value(clo + j - lo));
                    self.response_hours.push(ihv.value(hlo + j - lo));
                }
            }
        }
        Ok(())
    }

    /// Takes the events of the groups `emit_to` names, grouped.
    pub(super) fn take(&mut self, emit_to: EmitTo) -> Taken {
        let signup = emit_to.take_needed(&mut self.signup);
        let n = signup.len();
        let (times, amounts) = (&self.order_times, &self.amounts);
        let mut taken_orders = Vec::new();
        let (order_offsets, orders) = take_grouped(
            n,
            &mut self.order_group,
            |i| (times[i], amounts[i]),
            |t| taken_orders = t.to_vec(),
        );
        retain_untaken(&mut self.order_times, &taken_orders);
        retain_untaken(&mut self.amounts, &taken_orders);
        let (times, codes, hours) = (
            &self.interaction_times,
            &self.interaction_codes,
            &self.response_hours,
        );
        let mut taken_interactions = Vec::new();
        let (interaction_offsets, interactions) = take_grouped(
            n,
            &mut self.interaction_group,
            |i| (times[i], codes[i], hours[i]),
            |t| taken_interactions = t.to_vec(),
        );
        retain_untaken(&mut self.interaction_times, &taken_interactions);
        retain_untaken(&mut self.interaction_codes, &taken_interactions);
        retain_untaken(&mut self.response_hours, &taken_interactions);
        Taken {
            signup,
            order_offsets,
            orders,
            interaction_offsets,
            interactions,
        }
    }

    pub(super) fn state(&mut self, ctx: &Ctx, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let t = self.take(emit_to);
        let offsets = |o: &[usize]| -> Result<OffsetBuffer<i32>> {
            let o: Vec<i32> = o
                .iter()
                .map(|&x| i32::try_from(x))
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| {
                    DataFusionError::Execution(format!(
                        "{}: more than 2^31 events in one partial state",
                        ctx.function
                    ))
                })?;
            Ok(OffsetBuffer::new(ScalarBuffer::from(o)))
        };
        let list = |offsets: &OffsetBuffer<i32>, item: DataType, values: ArrayRef| -> ArrayRef {
            Arc::new(ListArray::new(
                list_field(item),
                offsets.clone(),
                values,
                None,
            ))
        };
        let mut out: Vec<ArrayRef> = Vec::new();
        if ctx.signup {
            out.push(Arc::new(t.signup.iter().copied().collect::<Int64Array>()));
        }
        let oo = offsets(&t.order_offsets)?;
        out.push(list(
            &oo,
            DataType::Int64,
            Arc::new(Int64Array::from_iter_values(t.orders.iter().map(|o| o.0))),
        ));
        out.push(list(
            &oo,
            DataType::Float64,
            Arc::new(Float64Array::from_iter_values(t.orders.iter().map(|o| o.1))),
        ));
        if ctx.form == Form::Events {
            let io = offsets(&t.interaction_offsets)?;
            out.push(list(
                &io,
                DataType::Int64,
                Arc::new(Int64Array::from_iter_values(
                    t.interactions.iter().map(|x| x.0),
                )),
            ));
            out.push(list(
                &io,
                DataType::UInt8,
                Arc::new(UInt8Array::from_iter_values(
                    t.interactions.iter().map(|x| x.1),
                )),
            ));
            out.push(list(
                &io,
                DataType::Float64,
                Arc::new(Float64Array::from_iter_values(
                    t.interactions.iter().map(|x| x.2),
                )),
            ));
        }
        Ok(out)
    }

    pub(super) fn evaluate(&mut self, ctx: &Ctx, emit_to: EmitTo) -> Result<ArrayRef> {
        let mut t = self.take(emit_to);
        let n = t.signup.len();
        match &ctx.output {
            Output::Features(plan) => evaluate_features(plan, &mut t, n),
            Output::Rfm(plan) => evaluate_rfm(plan, &mut t, n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ChurnFeatures, FEATURES_NAME, MICROS_PER_DAY};
    use super::*;
    use chrono::Utc;
    use churnwise::features::{FeatureSpec, Snapshot};

    #[test]
    fn take_first_groups_renumbers_the_rest() {
        let mut groups = vec![2, 0, 1, 0, 3];
        let items = [20, 0, 10, 1, 30];
        let mut taken = Vec::new();
        let (offsets, out) = take_grouped(2, &mut groups, |i| items[i], |t| taken = t.to_vec());
        assert_eq!(offsets, [0, 2, 3]);
        assert_eq!(out, [0, 1, 10]);
        assert_eq!(groups, [0, 1]);
        let mut rest = items.to_vec();
        retain_untaken(&mut rest, &taken);
        assert_eq!(rest, [20, 30]);
    }

    fn orders_ctx() -> Ctx {
        use chrono::TimeZone;
        let snapshot = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap());
        let f = ChurnFeatures::new(&FeatureSpec::rfm(), &snapshot).unwrap();
        Ctx {
            function: FEATURES_NAME,
            form: Form::Orders,
            signup: true,
            columns: vec!["signup".into(), "t".into(), "amount".into()],
            keep_until: f.plan.as_of,
            output: Output::Features(Arc::clone(&f.plan)),
        }
    }

    fn filled(ctx: &Ctx) -> Store {
        let day = MICROS_PER_DAY;
        let t0 = 1_700_000_000_000_000;
        let values: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![t0; 6])),
            Arc::new(Int64Array::from(vec![
                Some(t0 + day),
                Some(t0 + 2 * day),
                None,
                Some(t0 + 9 * day),
                Some(t0 + 3 * day),
                Some(t0 + 4 * day),
            ])),
            Arc::new(Float64Array::from(vec![1.5, 2.0, 0.0, -1.0, 4.25, 8.0])),
        ];
        let mut store = Store::default();
        store
            .update(ctx, &values, &[0, 1, 2, 1, 0, 3], None, 4)
            .unwrap();
        store
    }

    #[test]
    fn emitting_the_first_groups_then_the_rest_equals_emitting_all() {
        let ctx = orders_ctx();
        let all = filled(&ctx).evaluate(&ctx, EmitTo::All).unwrap();
        let mut store = filled(&ctx);
        let first = store.evaluate(&ctx, EmitTo::First(2)).unwrap();
        let rest = store.evaluate(&ctx, EmitTo::All).unwrap();
        assert_eq!((first.len(), rest.len()), (2, 2));
        assert_eq!(all.slice(0, 2).to_data(), first.to_data());
        assert_eq!(all.slice(2, 2).to_data(), rest.to_data());
        // Partial states of the first group, then the rest, merged into a new store.
        let mut store = filled(&ctx);
        let mut merged = Store::default();
        let s1 = store.state(&ctx, EmitTo::First(1)).unwrap();
        merged.merge(&ctx, &s1, &[0], 4).unwrap();
        let s2 = store.state(&ctx, EmitTo::All).unwrap();
        merged.merge(&ctx, &s2, &[1, 2, 3], 4).unwrap();
        assert_eq!(
            merged.evaluate(&ctx, EmitTo::All).unwrap().to_data(),
            all.to_data()
        );
    }

    #[test]
    fn a_malformed_state_is_an_error_not_a_panic() {
        use datafusion::arrow::array::ListArray;
        use datafusion::arrow::datatypes::{Float64Type, Int64Type};
        let ctx = orders_ctx();
        let signup: ArrayRef = Arc::new(Int64Array::from(vec![0]));
        let times: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
        ]));
        let one_amount: ArrayRef =
            Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
                Some(vec![Some(1.0)]),
            ]));
        let float_signup: ArrayRef = Arc::new(Float64Array::from(vec![0.0]));
        for state in [
            vec![signup.clone(), times.clone(), one_amount.clone()],
            vec![float_signup, times.clone(), times.clone()],
            vec![signup, times.clone(), times],
        ] {
            let err = Store::default().merge(&ctx, &state, &[0], 1).unwrap_err();
            assert!(err.to_string().contains("malformed state"), "{err}");
        }
    }
}

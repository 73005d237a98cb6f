//! DataFusion's accumulators over a [`Store`]: a `GroupsAccumulator` for
//! `GROUP BY` and a single-group `Accumulator`.

use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

use super::input::Ctx;
use super::store::Store;

/// The native groups accumulator: flat event vectors for all groups.
#[derive(Debug)]
pub(super) struct EventsGroups {
    pub(super) ctx: Arc<Ctx>,
    pub(super) store: Store,
}

impl EventsGroups {
    pub(super) fn new(ctx: Arc<Ctx>) -> Self {
        EventsGroups {
            ctx,
            store: Store::default(),
        }
    }
}

impl GroupsAccumulator for EventsGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.store.update(
            &self.ctx,
            values,
            group_indices,
            opt_filter,
            total_num_groups,
        )
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        self.store.evaluate(&self.ctx, emit_to)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        self.store.state(&self.ctx, emit_to)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.store
            .merge(&self.ctx, values, group_indices, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let n = values.first().map_or(0, |a| a.len());
        let groups: Vec<usize> = (0..n).collect();
        let mut store = Store::default();
        store.update(&self.ctx, values, &groups, opt_filter, n)?;
        store.state(&self.ctx, EmitTo::All)
    }

    fn size(&self) -> usize {
        self.store.size()
    }
}

/// The plain accumulator (one group), for plans without grouping.
#[derive(Debug)]
pub(super) struct EventsAccumulator {
    pub(super) ctx: Arc<Ctx>,
    pub(super) store: Store,
    pub(super) zeros: Vec<usize>,
}

impl EventsAccumulator {
    pub(super) fn new(ctx: Arc<Ctx>) -> Self {
        EventsAccumulator {
            ctx,
            store: Store {
                signup: vec![None],
                ..Store::default()
            },
            zeros: Vec::new(),
        }
    }

    fn zeros(&mut self, n: usize) -> Vec<usize> {
        let mut z = std::mem::take(&mut self.zeros);
        z.resize(n, 0);
        z
    }
}

impl Accumulator for EventsAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let z = self.zeros(values.first().map_or(0, |a| a.len()));
        let r = self.store.update(&self.ctx, values, &z, None, 1);
        self.zeros = z;
        r
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let a = self.store.clone().evaluate(&self.ctx, EmitTo::All)?;
        ScalarValue::try_from_array(&a, 0)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.store.size() + self.zeros.capacity() * size_of::<usize>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.store
            .clone()
            .state(&self.ctx, EmitTo::All)?
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let z = self.zeros(states.first().map_or(0, |a| a.len()));
        let r = self.store.merge(&self.ctx, states, &z, 1);
        self.zeros = z;
        r
    }
}

//! A policy compiled against one set of profiles: field names resolved to
//! columns, constants converted to the field's unit, so evaluation does no
//! string lookups and no allocation per customer.

use std::borrow::Cow;
use std::ops::Range;

use super::condition::{Category, Change, Coded, Condition, FieldKind, Op, Test};
use super::path::Path;
use super::policy::AlertPolicy;
use crate::Result;
use crate::records::CustomerId;
use crate::score::Profiles;
use crate::segment::{LifecycleStage, RfmSegment, Tier};
use crate::util::FastMap;

/// A numeric column of the profiles.
#[derive(Debug, Clone, Copy)]
enum NumCol {
    Feature(usize),
    Probability,
    Value,
    Loss,
}

/// A comparison with its constants in the field's unit.
#[derive(Debug, Clone)]
enum Cmp {
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    Eq(f64),
    Between(f64, f64),
    In(Box<[f64]>),
}

impl Cmp {
    fn holds(&self, v: f64) -> bool {
        match self {
            Cmp::Gt(a) => v > *a,
            Cmp::Gte(a) => v >= *a,
            Cmp::Lt(a) => v < *a,
            Cmp::Lte(a) => v <= *a,
            Cmp::Eq(a) => v == *a,
            Cmp::Between(a, b) => *a <= v && v <= *b,
            Cmp::In(set) => set.contains(&v),
        }
    }
}

/// A compiled condition; leaves carry the index of their [`Test`] in [`Program::tests`].
#[derive(Debug, Clone)]
enum Node {
    Num {
        col: NumCol,
        cmp: Cmp,
        test: usize,
    },
    Change {
        now: NumCol,
        before: NumCol,
        relative: bool,
        cmp: Cmp,
        test: usize,
    },
    Cat {
        col: Category,
        mask: u32,
        test: usize,
    },
    All(Box<[Node]>),
    Any(Box<[Node]>),
    Not(Box<Node>),
}

/// One leaf's observation when a rule fired.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seen {
    Number(f64),
    Label(Category, u32),
    Change { before: f64, now: f64, change: f64 },
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    node: Node,
    pub(crate) needs_previous: bool,
}

/// The columns of one profile set, borrowed for evaluation.
pub(crate) struct Columns<'a> {
    x: Cow<'a, [f64]>,
    d: usize,
    p: Option<&'a [f64]>,
    v: Option<&'a [f64]>,
    rfm: Option<&'a [RfmSegment]>,
    stage: Option<&'a [LifecycleStage]>,
    value_tier: Option<&'a [Tier]>,
    engagement_tier: Option<&'a [Tier]>,
}

impl<'a> Columns<'a> {
    pub(crate) fn new(profiles: &'a Profiles) -> Self {
        let values = profiles.table().values();
        let d = values.ncols();
        let x = match values.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(values.iter().copied().collect()), // logical (row-major) order
        };
        Columns {
            x,
            d,
            p: profiles.churn_probabilities(),
            v: profiles.customer_values(),
            rfm: profiles.rfm_segments(),
            stage: profiles.lifecycle_stages(),
            value_tier: profiles.value_tiers(),
            engagement_tier: profiles.engagement_tiers(),
        }
    }

    #[inline]
    fn num(&self, col: NumCol, i: usize) -> f64 {
        // Compilation only produces columns that are present.
        match col {
            NumCol::Feature(j) => self.x[i * self.d + j],
            NumCol::Probability => self.p.map_or(f64::NAN, |p| p[i]),
            NumCol::Value => self.v.map_or(f64::NAN, |v| v[i]),
            NumCol::Loss => match (self.p, self.v) {
                (Some(p), Some(v)) => p[i] * v[i],
                _ => f64::NAN,
            },
        }
    }

    /// The values of a column for the rows of `range`, into `out`.
    fn gather(&self, col: NumCol, range: Range<usize>, out: &mut Vec<f64>) {
        out.clear();
        match (col, self.p, self.v) {
            (NumCol::Feature(j), ..) => {
                let column = self.x[range.start * self.d + j..].iter().step_by(self.d);
                out.extend(column.take(range.len()).copied());
            }
            (NumCol::Probability, Some(p), _) => out.extend_from_slice(&p[range]),
            (NumCol::Value, _, Some(v)) => out.extend_from_slice(&v[range]),
            (NumCol::Loss, Some(p), Some(v)) => {
                out.extend(p[range.clone()].iter().zip(&v[range]).map(|(p, v)| p * v));
            }
            _ => out.resize(range.len(), f64::NAN),
        }
    }

    #[inline]
    fn cat(&self, col: Category, i: usize) -> u32 {
        fn at<T: Coded>(v: Option<&[T]>, i: usize) -> u32 {
            v.map_or(u32::MAX, |v| v[i].code())
        }
        match col {
            Category::RfmSegment => at(self.rfm, i),
            Category::LifecycleStage => at(self.stage, i),
            Category::ValueTier => at(self.value_tier, i),
            Category::EngagementTier => at(self.engagement_tier, i),
        }
    }

    /// Whether each row of `range` has a category in `mask`, into `out`.
    fn in_mask(&self, col: Category, mask: u32, range: Range<usize>, out: &mut [bool]) {
        fn fill<T: Coded>(v: Option<&[T]>, mask: u32, range: Range<usize>, out: &mut [bool]) {
            match v {
                Some(v) => {
                    for (o, c) in out.iter_mut().zip(&v[range]) {
                        *o = mask & (1 << c.code()) != 0; // codes are < 32 (tested)
                    }
                }
                None => out.fill(false),
            }
        }
        match col {
            Category::RfmSegment => fill(self.rfm, mask, range, out),
            Category::LifecycleStage => fill(self.stage, mask, range, out),
            Category::ValueTier => fill(self.value_tier, mask, range, out),
            Category::EngagementTier => fill(self.engagement_tier, mask, range, out),
        }
    }
}

/// The current profiles, and the previous snapshot's with each current row's match.
pub(crate) struct Rows<'a> {
    pub(crate) now: Columns<'a>,
    pub(crate) before: Option<(Columns<'a>, Matches)>,
}

impl<'a> Rows<'a> {
    pub(crate) fn new(now: &'a Profiles, previous: Option<&'a Profiles>) -> Self {
        Rows {
            now: Columns::new(now),
            before: previous.map(|p| (Columns::new(p), match_rows(now.ids(), p.ids()))),
        }
    }
}

/// Each current customer's row in the previous snapshot.
pub(crate) enum Matches {
    /// The same customers in the same order.
    Same,
    /// The previous row of each current row, if any.
    Rows(Vec<Option<u32>>),
}

impl Matches {
    fn get(&self, i: usize) -> Option<usize> {
        match self {
            Matches::Same => Some(i),
            Matches::Rows(rows) => rows[i].map(|j| j as usize),
        }
    }
}

/// Each current customer's row in the previous snapshot: the identity, a
/// merge of sorted ids, or a hash join.
fn match_rows(now: &[CustomerId], before: &[CustomerId]) -> Matches {
    if now == before {
        return Matches::Same;
    }
    let sorted = |ids: &[CustomerId]| ids.windows(2).all(|w| w[0] < w[1]);
    if sorted(now) && sorted(before) {
        let mut j = 0;
        return Matches::Rows(
            now.iter()
                .map(|id| {
                    while j < before.len() && before[j] < *id {
                        j += 1;
                    }
                    (j < before.len() && before[j] == *id).then_some(j as u32)
                })
                .collect(),
        );
    }
    let index: FastMap<&CustomerId, u32> = before
        .iter()
        .enumerate()
        .map(|(j, id)| (id, j as u32))
        .collect();
    Matches::Rows(now.iter().map(|id| index.get(id).copied()).collect())
}

/// The policy compiled against a set of profiles.
pub(crate) struct Program<'p> {
    pub(crate) rules: Vec<CompiledRule>,
    /// The policy's tests, in the order of the leaves' indices.
    pub(crate) tests: Vec<&'p Test>,
}

impl<'p> Program<'p> {
    /// Resolves every field of `policy` in `profiles` (and `previous`, for
    /// change tests, when given).
    pub(crate) fn compile(
        policy: &'p AlertPolicy,
        profiles: &Profiles,
        previous: Option<&Profiles>,
    ) -> Result<Program<'p>> {
        let conditions = policy.rules().iter().map(|r| r.condition());
        let paths =
            (0..policy.rules().len()).map(|r| Path::root().key("rules").index(r).key("condition"));
        Program::of(conditions.zip(paths), profiles, previous)
    }

    /// Compiles conditions, each with its path in the document.
    pub(crate) fn of(
        conditions: impl Iterator<Item = (&'p Condition, Path)>,
        profiles: &Profiles,
        previous: Option<&Profiles>,
    ) -> Result<Program<'p>> {
        let mut program = Program {
            rules: Vec::new(),
            tests: Vec::new(),
        };
        let names = profiles.field_names();
        let before_names = previous.map(Profiles::field_names);
        for (condition, path) in conditions {
            let mut needs_previous = false;
            let before = before_names
                .as_ref()
                .zip(previous)
                .map(|(names, profiles)| Schema { profiles, names });
            let now = Schema {
                profiles,
                names: &names,
            };
            let node = program.node(condition, &path, &now, before, &mut needs_previous)?;
            program.rules.push(CompiledRule {
                node,
                needs_previous,
            });
        }
        Ok(program)
    }

    fn node(
        &mut self,
        c: &'p Condition,
        path: &Path,
        now: &Schema<'_>,
        before: Option<Schema<'_>>,
        needs_previous: &mut bool,
    ) -> Result<Node> {
        let mut children = |cs: &'p [Condition], key: &str| -> Result<Box<[Node]>> {
            cs.iter()
                .enumerate()
                .map(|(i, c)| self.node(c, &path.key(key).index(i), now, before, needs_previous))
                .collect()
        };
        Ok(match c {
            Condition::All(cs) => Node::All(children(cs, "all")?),
            Condition::Any(cs) => Node::Any(children(cs, "any")?),
            Condition::Not(c) => Node::Not(Box::new(self.node(
                c,
                &path.key("not"),
                now,
                before,
                needs_previous,
            )?)),
            Condition::Test(t) => self.leaf(t, path, now, before, needs_previous)?,
        })
    }

    fn leaf(
        &mut self,
        t: &'p Test,
        path: &Path,
        now: &Schema<'_>,
        before: Option<Schema<'_>>,
        needs_previous: &mut bool,
    ) -> Result<Node> {
        let field_path = path.key("field");
        if !now.names.contains(&t.field.as_str()) {
            if let Some(setter) = profile_field_setter(&t.field) {
                return Err(field_path.error(format!(
                    "profile field `{}` is not set on these profiles (set it with Profiles::{setter})",
                    t.field
                )));
            }
            return Err(field_path.unknown("field", &t.field, now.names));
        }
        let test = self.tests.len();
        self.tests.push(t);
        match FieldKind::of(&t.field) {
            FieldKind::Category(col) => {
                let mut mask = 0u32;
                let operands = match &t.op {
                    Op::Eq(v) => std::slice::from_ref(v),
                    Op::In(vs) => vs.as_slice(),
                    _ => {
                        return Err(path.error(format!(
                            "`{}` is a category: compare it with == or in",
                            t.field
                        )));
                    }
                };
                for v in operands {
                    mask |= 1 << col.label_index(v, path)?;
                }
                Ok(Node::Cat { col, mask, test })
            }
            FieldKind::Number(unit) => {
                let n = |v| t.number(v, unit, path);
                let cmp = match &t.op {
                    Op::Gt(v) => Cmp::Gt(n(v)?),
                    Op::Gte(v) => Cmp::Gte(n(v)?),
                    Op::Lt(v) => Cmp::Lt(n(v)?),
                    Op::Lte(v) => Cmp::Lte(n(v)?),
                    Op::Eq(v) => Cmp::Eq(n(v)?),
                    Op::Between(a, b) => Cmp::Between(n(a)?, n(b)?),
                    Op::In(vs) => Cmp::In(vs.iter().map(n).collect::<Result<_>>()?),
                };
                let col = now.column(&t.field);
                match t.change {
                    None => Ok(Node::Num { col, cmp, test }),
                    Some(change) => {
                        *needs_previous = true;
                        let before_col = match before {
                            Some(b) if b.names.contains(&t.field.as_str()) => b.column(&t.field),
                            // No previous snapshot: the rule is skipped (and reported).
                            None => col,
                            Some(_) => {
                                return Err(field_path.error(format!(
                                    "the previous snapshot's profiles have no `{}`",
                                    t.field
                                )));
                            }
                        };
                        Ok(Node::Change {
                            now: col,
                            before: before_col,
                            relative: change == Change::Relative,
                            cmp,
                            test,
                        })
                    }
                }
            }
        }
    }

    /// Whether rule `r` fires, for each row of `range`, into `out`
    /// (column by column, so the loops are tight).
    pub(crate) fn fires(
        &self,
        r: usize,
        rows: &Rows<'_>,
        range: Range<usize>,
        out: &mut [bool],
        scratch: &mut Scratch,
    ) {
        let rule = &self.rules[r];
        fill(&rule.node, rows, range.clone(), out, scratch);
        if rule.needs_previous {
            // An unknown change (no previous row, a relative change from 0)
            // makes the whole rule unknown, even under a `not`: it does not fire.
            only_defined(&rule.node, rows, range, out);
        }
    }

    /// The observations that made rule `r` fire for row `i`, with their test index and negation.
    pub(crate) fn explain(
        &self,
        r: usize,
        rows: &Rows<'_>,
        i: usize,
        out: &mut Vec<(usize, Seen, bool)>,
    ) {
        explain(&self.rules[r].node, rows, i, false, out);
    }
}

/// Reusable buffers: results of the children of `all`/`any`, one per
/// depth, and gathered column values.
#[derive(Default)]
pub(crate) struct Scratch {
    flags: Vec<Vec<bool>>,
    values: Vec<Vec<f64>>,
}

/// `node` for each row of `range`, into `out`.
fn fill(
    node: &Node,
    rows: &Rows<'_>,
    range: Range<usize>,
    out: &mut [bool],
    scratch: &mut Scratch,
) {
    let n = range.len();
    match node {
        Node::Num { col, cmp, .. } => {
            let mut values = scratch.values.pop().unwrap_or_default();
            rows.now.gather(*col, range, &mut values);
            compare(cmp, &values, out);
            scratch.values.push(values);
        }
        Node::Cat { col, mask, .. } => rows.now.in_mask(*col, *mask, range, out),
        Node::Change {
            now,
            before,
            relative,
            cmp,
            ..
        } => {
            let Some((prev, matches)) = &rows.before else {
                out.fill(false);
                return;
            };
            let mut values = scratch.values.pop().unwrap_or_default();
            let mut previous = scratch.values.pop().unwrap_or_default();
            rows.now.gather(*now, range.clone(), &mut values);
            match matches {
                Matches::Same => prev.gather(*before, range, &mut previous),
                Matches::Rows(m) => {
                    previous.clear();
                    let at =
                        |j: &Option<u32>| j.map_or(f64::NAN, |j| prev.num(*before, j as usize));
                    previous.extend(m[range].iter().map(at));
                }
            }
            // NaN (no previous row, or a relative change from 0) fails every comparison.
            for (v, &b) in values.iter_mut().zip(&previous) {
                *v = if !*relative {
                    *v - b
                } else if b == 0.0 {
                    f64::NAN
                } else {
                    (*v - b) / b.abs()
                };
            }
            compare(cmp, &values, out);
            scratch.values.push(previous);
            scratch.values.push(values);
        }
        Node::All(cs) | Node::Any(cs) => {
            let all = matches!(node, Node::All(_));
            out.fill(all); // the value of an empty group, as in `eval`
            let mut buf = scratch.flags.pop().unwrap_or_default();
            buf.resize(n, false);
            for (c, child) in cs.iter().enumerate() {
                if c == 0 {
                    fill(child, rows, range.clone(), out, scratch);
                } else {
                    fill(child, rows, range.clone(), &mut buf, scratch);
                    for (o, b) in out.iter_mut().zip(&buf) {
                        *o = if all { *o & *b } else { *o | *b };
                    }
                }
            }
            scratch.flags.push(buf);
        }
        Node::Not(c) => {
            fill(c, rows, range, out, scratch);
            out.iter_mut().for_each(|o| *o = !*o);
        }
    }
}

/// Clears `out` where a change test of `node` is undefined.
fn only_defined(node: &Node, rows: &Rows<'_>, range: Range<usize>, out: &mut [bool]) {
    match node {
        Node::Change { .. } => {
            for (k, o) in out.iter_mut().enumerate() {
                if *o && change(node, rows, range.start + k).is_none() {
                    *o = false;
                }
            }
        }
        Node::All(cs) | Node::Any(cs) => {
            for c in cs.iter() {
                only_defined(c, rows, range.clone(), out);
            }
        }
        Node::Not(c) => only_defined(c, rows, range, out),
        Node::Num { .. } | Node::Cat { .. } => {}
    }
}

/// `out[k] = values[k] cmp constant`, with the comparison chosen once per column.
fn compare(cmp: &Cmp, values: &[f64], out: &mut [bool]) {
    let pairs = out.iter_mut().zip(values);
    match *cmp {
        Cmp::Gt(a) => pairs.for_each(|(o, &v)| *o = v > a),
        Cmp::Gte(a) => pairs.for_each(|(o, &v)| *o = v >= a),
        Cmp::Lt(a) => pairs.for_each(|(o, &v)| *o = v < a),
        Cmp::Lte(a) => pairs.for_each(|(o, &v)| *o = v <= a),
        Cmp::Eq(a) => pairs.for_each(|(o, &v)| *o = v == a),
        Cmp::Between(a, b) => pairs.for_each(|(o, &v)| *o = a <= v && v <= b),
        Cmp::In(ref set) => pairs.for_each(|(o, v)| *o = set.contains(v)),
    }
}

/// Field names and profiles of one snapshot, for resolving columns.
#[derive(Clone, Copy)]
struct Schema<'a> {
    profiles: &'a Profiles,
    names: &'a [&'a str],
}

impl Schema<'_> {
    /// The column of a numeric field known to be present.
    fn column(&self, field: &str) -> NumCol {
        match field {
            "churn_probability" => NumCol::Probability,
            "customer_value" => NumCol::Value,
            "expected_loss" => NumCol::Loss,
            name => NumCol::Feature(
                self.profiles
                    .table()
                    .column_index(name)
                    .unwrap_or(usize::MAX),
            ),
        }
    }
}

fn eval(node: &Node, rows: &Rows<'_>, i: usize) -> bool {
    match node {
        Node::Num { col, cmp, .. } => cmp.holds(rows.now.num(*col, i)),
        Node::Cat { col, mask, .. } => {
            let code = rows.now.cat(*col, i);
            code < 32 && mask & (1 << code) != 0
        }
        Node::Change { .. } => change(node, rows, i).is_some_and(|(_, _, c, cmp)| cmp.holds(c)),
        Node::All(cs) => cs.iter().all(|c| eval(c, rows, i)),
        Node::Any(cs) => cs.iter().any(|c| eval(c, rows, i)),
        Node::Not(c) => !eval(c, rows, i),
    }
}

/// `(before, now, change, cmp)` of a change node; `None` without a previous
/// row, or for a relative change from 0 (undefined).
fn change<'n>(node: &'n Node, rows: &Rows<'_>, i: usize) -> Option<(f64, f64, f64, &'n Cmp)> {
    let Node::Change {
        now,
        before,
        relative,
        cmp,
        ..
    } = node
    else {
        return None;
    };
    let (prev, matches) = rows.before.as_ref()?;
    let j = matches.get(i)?;
    let (b, n) = (prev.num(*before, j), rows.now.num(*now, i));
    let c = if *relative {
        if b == 0.0 {
            return None;
        }
        (n - b) / b.abs()
    } else {
        n - b
    };
    Some((b, n, c, cmp))
}

fn explain(
    node: &Node,
    rows: &Rows<'_>,
    i: usize,
    negated: bool,
    out: &mut Vec<(usize, Seen, bool)>,
) {
    let holds = eval(node, rows, i);
    match node {
        Node::Num { col, test, .. } => {
            if holds != negated {
                out.push((*test, Seen::Number(rows.now.num(*col, i)), negated));
            }
        }
        Node::Cat { col, test, .. } => {
            if holds != negated {
                out.push((*test, Seen::Label(*col, rows.now.cat(*col, i)), negated));
            }
        }
        Node::Change { test, .. } => {
            if holds != negated
                && let Some((before, now, change, _)) = change(node, rows, i)
            {
                out.push((
                    *test,
                    Seen::Change {
                        before,
                        now,
                        change,
                    },
                    negated,
                ));
            }
        }
        // A group that holds does so through its true parts; one that fails
        // (under a `not`) through its false parts.
        Node::All(cs) | Node::Any(cs) => {
            for c in cs.iter() {
                if eval(c, rows, i) != negated {
                    explain(c, rows, i, negated, out);
                }
            }
        }
        Node::Not(c) => explain(c, rows, i, !negated, out),
    }
}

/// The [`Profiles`] method that fills a profile field.
fn profile_field_setter(field: &str) -> Option<&'static str> {
    Some(match field {
        "churn_probability" => "score_with or with_churn_probabilities",
        "customer_value" => "values_from_column or with_customer_values",
        "expected_loss" => "score_with and values_from_column",
        "rfm_segment" => "segment_rfm",
        "lifecycle_stage" => "stage_lifecycle",
        "value_tier" => "tier_value",
        "engagement_tier" => "tier_engagement",
        _ => return None,
    })
}

/// Which rows of `profiles` meet `condition` (a change test needs `previous`,
/// and without it holds for no one), in parallel.
///
/// # Errors
///
/// [`ErrorKind::InvalidPolicy`](crate::ErrorKind::InvalidPolicy) at `path` for an unknown field.
pub(crate) fn rows_meeting(
    condition: &Condition,
    path: Path,
    profiles: &Profiles,
    previous: Option<&Profiles>,
) -> Result<Vec<bool>> {
    use rayon::prelude::*;
    const CHUNK: usize = 4096;
    let program = Program::of(std::iter::once((condition, path)), profiles, previous)?;
    let rows = Rows::new(profiles, previous);
    let mut out = vec![false; profiles.len()];
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let start = c * CHUNK;
            program.fires(
                0,
                &rows,
                start..start + chunk.len(),
                chunk,
                &mut Scratch::default(),
            );
        });
    Ok(out)
}

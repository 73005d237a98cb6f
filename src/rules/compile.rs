//! Conditions compiled against one set of profiles: field names resolved to
//! columns, constants converted to the field's unit and labels to codes, so
//! evaluation does no string lookups and no allocation per customer.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use super::condition::{Change, Condition, Declared, Op, Operand, Test, label_index};
use super::path::Path;
use crate::Result;
use crate::features::Unit;
use crate::records::CustomerId;
use crate::score::{Builtin, Column, MISSING, Profiles, builtin};
use crate::util::FastMap;

/// Where a number comes from: a feature column or a numeric field.
#[derive(Debug, Clone, Copy)]
enum NumCol {
    Feature(usize),
    Field(usize),
}

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

/// The codes a category test accepts: a bit mask for the first 64 codes
/// (every built-in category, and most from the data), a table beyond.
#[derive(Debug, Clone, Default)]
struct Accept {
    mask: u64,
    beyond: Box<[bool]>,
}

impl Accept {
    fn new(codes: usize) -> Accept {
        Accept {
            mask: 0,
            beyond: vec![false; codes.saturating_sub(64)].into_boxed_slice(),
        }
    }

    fn insert(&mut self, code: usize) {
        match code.checked_sub(64) {
            None => self.mask |= 1 << code,
            Some(k) => self.beyond[k] = true,
        }
    }

    #[inline]
    fn contains(&self, code: u32) -> bool {
        if code < 64 {
            self.mask >> code & 1 != 0
        } else {
            // MISSING (u32::MAX) is past every table.
            self.beyond
                .get(code as usize - 64)
                .copied()
                .unwrap_or(false)
        }
    }
}

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
    /// A category field: the customer's label is one of the accepted ones.
    Cat {
        field: usize,
        accept: Accept,
        test: usize,
    },
    /// A multi-label field: the customer has one of the accepted labels.
    Set {
        field: usize,
        accept: Accept,
        test: usize,
    },
    All(Box<[Node]>),
    Any(Box<[Node]>),
    Not(Box<Node>),
}

/// One leaf's observation when a rule fired.
#[derive(Debug, Clone)]
pub(crate) enum Seen {
    Number(f64),
    Label(Arc<str>),
    Change { before: f64, now: f64, change: f64 },
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    node: Node,
    pub(crate) needs_previous: bool,
}

/// The columns of one set of profiles, as the compiled nodes index them.
pub(crate) struct Columns<'a> {
    x: Cow<'a, [f64]>,
    d: usize,
    fields: Vec<&'a Column>,
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
            fields: profiles.fields().map(|(_, c)| c).collect(),
        }
    }

    #[inline]
    fn num(&self, col: NumCol, i: usize) -> f64 {
        match col {
            NumCol::Feature(j) => self.x[i * self.d + j],
            NumCol::Field(k) => match self.fields[k] {
                Column::Number(v) => v[i],
                _ => f64::NAN, // compilation only makes numeric columns `Field`
            },
        }
    }

    fn gather(&self, col: NumCol, range: Range<usize>, out: &mut Vec<f64>) {
        out.clear();
        match col {
            NumCol::Feature(j) => {
                let column = self.x[range.start * self.d + j..].iter().step_by(self.d);
                out.extend(column.take(range.len()).copied());
            }
            NumCol::Field(k) => match self.fields[k] {
                Column::Number(v) => out.extend_from_slice(&v[range]),
                _ => out.resize(range.len(), f64::NAN),
            },
        }
    }

    fn code(&self, field: usize, i: usize) -> u32 {
        match self.fields[field] {
            Column::Category(c) => c.codes[i],
            _ => MISSING,
        }
    }

    fn has_any(&self, field: usize, accept: &Accept, i: usize) -> bool {
        match self.fields[field] {
            Column::Labels(s) => s.codes_of(i).iter().any(|&c| accept.contains(c)),
            _ => false,
        }
    }

    /// What a customer's category or labels look like, for explanations.
    fn labels(&self, field: usize, i: usize) -> Arc<str> {
        match self.fields[field] {
            Column::Category(c) => c
                .dictionary
                .get(c.codes[i] as usize)
                .cloned()
                .unwrap_or_else(|| Arc::from("(none)")),
            Column::Labels(s) => {
                let labels: Vec<&str> = s.labels_of(i).collect();
                Arc::from(labels.join(", "))
            }
            Column::Number(_) => Arc::from(""),
        }
    }
}

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

/// Row `i` of the current profiles in the previous ones.
pub(crate) enum Matches {
    Same,
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

/// Conditions compiled against profiles; `tests` are the leaves, in the
/// order explanations refer to them.
pub(crate) struct Program<'p> {
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) tests: Vec<&'p Test>,
}

/// What a name resolves to in one set of profiles.
#[derive(Clone, Copy)]
enum Resolved<'a> {
    Number(NumCol, Option<Unit>),
    Category(usize, &'a Column),
}

fn resolve<'a>(profiles: &'a Profiles, name: &str) -> Option<Resolved<'a>> {
    if let Some(j) = profiles.table().column_index(name) {
        return Some(Resolved::Number(NumCol::Feature(j), Unit::of_feature(name)));
    }
    let (k, (_, column)) = profiles
        .fields()
        .enumerate()
        .find(|(_, (n, _))| *n == name)?;
    Some(match column {
        Column::Number(_) => {
            let unit = match builtin(name).map(|b| b.kind) {
                Some(Builtin::Number { unit, .. }) => Some(unit),
                _ => None,
            };
            Resolved::Number(NumCol::Field(k), unit)
        }
        Column::Category(_) | Column::Labels(_) => Resolved::Category(k, column),
    })
}

impl<'p> Program<'p> {
    /// Compiles `conditions`, each with the path its errors name.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidPolicy`](crate::ErrorKind::InvalidPolicy) at the
    /// path of a field these profiles lack, or of a constant the field
    /// cannot hold.
    pub(crate) fn of(
        conditions: impl Iterator<Item = (&'p Condition, Path)>,
        profiles: &Profiles,
        previous: Option<&Profiles>,
    ) -> Result<Program<'p>> {
        let mut program = Program {
            rules: Vec::new(),
            tests: Vec::new(),
        };
        for (condition, path) in conditions {
            // Compilation and evaluation recurse: bounded by the nesting limit.
            condition.check_limits(&path)?;
            let mut needs_previous = false;
            let node = program.node(condition, &path, profiles, previous, &mut needs_previous)?;
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
        now: &Profiles,
        before: Option<&Profiles>,
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
        now: &Profiles,
        before: Option<&Profiles>,
        needs_previous: &mut bool,
    ) -> Result<Node> {
        let field_path = path.key("field");
        let Some(resolved) = resolve(now, &t.field) else {
            let (reason, suggestions) = now.missing_field_reason(&t.field);
            return Err(field_path.error_with(reason, suggestions));
        };
        let test = self.tests.len();
        self.tests.push(t);
        match resolved {
            Resolved::Category(field, column) => {
                t.check_as(Declared::Category(None), path)?;
                let dictionary = column.dictionary();
                let mut accept = Accept::new(dictionary.len());
                for (operand, at) in t.operands(path) {
                    match label_index(&t.field, dictionary, operand, &at) {
                        Ok(code) => accept.insert(code),
                        // A label no customer has yet matches nobody; a number
                        // that spells no label is still an error.
                        Err(_) if matches!(operand, Operand::Text(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(match column {
                    Column::Labels(_) => Node::Set {
                        field,
                        accept,
                        test,
                    },
                    _ => Node::Cat {
                        field,
                        accept,
                        test,
                    },
                })
            }
            Resolved::Number(col, unit) => {
                t.check_as(Declared::Number(unit), path)?;
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
                let Some(change) = t.change else {
                    return Ok(Node::Num { col, cmp, test });
                };
                *needs_previous = true;
                let before_col = match before.map(|b| resolve(b, &t.field)) {
                    Some(Some(Resolved::Number(c, _))) => c,
                    // No previous snapshot: the rule is skipped (and reported).
                    None => col,
                    Some(_) => {
                        return Err(field_path.error(format!(
                            "the previous snapshot's profiles have no numeric `{}`",
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

    /// The first `max` observations behind rule `r` firing on row `i`, in
    /// condition order; returns how many more there were.
    pub(crate) fn explain(
        &self,
        r: usize,
        rows: &Rows<'_>,
        i: usize,
        max: usize,
        out: &mut Vec<(usize, Seen, bool)>,
    ) -> usize {
        let mut sink = Explained {
            max,
            out,
            omitted: 0,
        };
        explain(&self.rules[r].node, rows, i, false, &mut sink);
        sink.omitted
    }
}

/// Buffers reused across chunks, so evaluation allocates once per task.
#[derive(Default)]
pub(crate) struct Scratch {
    flags: Vec<Vec<bool>>,
    values: Vec<Vec<f64>>,
}

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
        Node::Cat { field, accept, .. } => match rows.now.fields[*field] {
            Column::Category(c) => {
                for (o, &code) in out.iter_mut().zip(&c.codes[range]) {
                    *o = accept.contains(code);
                }
            }
            _ => out.fill(false),
        },
        Node::Set { field, accept, .. } => match rows.now.fields[*field] {
            Column::Labels(s) => {
                for (k, o) in out.iter_mut().enumerate() {
                    *o = s
                        .codes_of(range.start + k)
                        .iter()
                        .any(|&c| accept.contains(c));
                }
            }
            _ => out.fill(false),
        },
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
        Node::Num { .. } | Node::Cat { .. } | Node::Set { .. } => {}
    }
}

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

fn eval(node: &Node, rows: &Rows<'_>, i: usize) -> bool {
    match node {
        Node::Num { col, cmp, .. } => cmp.holds(rows.now.num(*col, i)),
        Node::Cat { field, accept, .. } => accept.contains(rows.now.code(*field, i)),
        Node::Set { field, accept, .. } => rows.now.has_any(*field, accept, i),
        Node::Change { .. } => change(node, rows, i).is_some_and(|(_, _, c, cmp)| cmp.holds(c)),
        Node::All(cs) => cs.iter().all(|c| eval(c, rows, i)),
        Node::Any(cs) => cs.iter().any(|c| eval(c, rows, i)),
        Node::Not(c) => !eval(c, rows, i),
    }
}

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

/// Observations kept up to `max`, the rest only counted.
struct Explained<'o> {
    max: usize,
    out: &'o mut Vec<(usize, Seen, bool)>,
    omitted: usize,
}

impl Explained<'_> {
    fn push(&mut self, seen: impl FnOnce() -> (usize, Seen, bool)) {
        if self.out.len() < self.max {
            self.out.push(seen());
        } else {
            self.omitted += 1;
        }
    }
}

fn explain(node: &Node, rows: &Rows<'_>, i: usize, negated: bool, out: &mut Explained<'_>) {
    let holds = eval(node, rows, i);
    match node {
        Node::Num { col, test, .. } => {
            if holds != negated {
                out.push(|| (*test, Seen::Number(rows.now.num(*col, i)), negated));
            }
        }
        Node::Cat { field, test, .. } | Node::Set { field, test, .. } => {
            if holds != negated {
                out.push(|| (*test, Seen::Label(rows.now.labels(*field, i)), negated));
            }
        }
        Node::Change { test, .. } => {
            if holds != negated
                && let Some((before, now, change, _)) = change(node, rows, i)
            {
                out.push(|| {
                    (
                        *test,
                        Seen::Change {
                            before,
                            now,
                            change,
                        },
                        negated,
                    )
                });
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

/// Which profiles meet `condition`, evaluated in parallel in fixed chunks.
///
/// # Errors
///
/// [`ErrorKind::InvalidPolicy`](crate::ErrorKind::InvalidPolicy) at `path`
/// for an unknown field or a constant the field cannot hold.
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

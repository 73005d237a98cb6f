//! How the arguments of a churnwise scalar function map to its inputs.
//!
//! Most functions read named inputs (a scorer's features, the columns of an
//! RFM or lifecycle policy, the profile fields of an alert policy): their
//! arguments are matched to inputs **by name, in any order**. DataFusion
//! names an argument expression as follows, and the match uses that name:
//!
//! - a column: its name without the table qualifier (`t.recency_days` →
//!   `recency_days`);
//! - `CAST(x AS ..)` / `TRY_CAST` and `x::DOUBLE`: the name of `x`;
//! - a struct field, `f['recency_days']` or `get_field(f, 'recency_days')`:
//!   the field name (`recency_days`);
//! - a `churn_score(..)` call: `churn_probability`;
//! - anything else (arithmetic, literals, other functions) has no input
//!   name and is refused: compute it in a subquery or CTE under the input's
//!   name (`SELECT a / 7 AS recency_weeks ..`).
//!
//! The match happens when the query is planned. Once it succeeded,
//! DataFusion's expression simplifier rewrites the call with its arguments
//! in input order (a "bound" copy of the function, see [`Binding`]), so
//! later renames by the optimizer (inlined subqueries, extracted common
//! expressions) cannot break it.
//!
//! The BG/NBD functions (`p_alive`, `expected_purchases`, `clv`) read
//! unnamed summary values and take their arguments by position.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{ColumnarValue, Expr, ExprSchemable, ScalarFunctionArgs};
use serde::{Deserialize, Serialize};

/// What an input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// A number, read as Float64 (integers and decimals are cast).
    Number,
    /// A label (Utf8).
    Text,
    /// A number or a label, whichever the argument is (user fields of an
    /// alert policy).
    Either,
}

/// One input of a function.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Input {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) required: bool,
}

impl Input {
    pub(crate) fn number(name: impl Into<String>) -> Input {
        Input {
            name: name.into(),
            kind: Kind::Number,
            required: true,
        }
    }

    pub(crate) fn text(name: impl Into<String>) -> Input {
        Input {
            name: name.into(),
            kind: Kind::Text,
            required: true,
        }
    }

    pub(crate) fn optional(mut self) -> Input {
        self.required = false;
        self
    }
}

/// How arguments are matched to inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Matching {
    /// By the argument's name, in any order.
    ByName,
    /// By position, every input required.
    ByPosition,
}

/// A function's inputs and how its arguments reach them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Layout {
    pub(crate) function: &'static str,
    /// What the inputs are called in messages ("feature", "column", "field").
    pub(crate) noun: &'static str,
    pub(crate) inputs: Vec<Input>,
    pub(crate) matching: Matching,
}

/// Which input each argument feeds, fixed once the names were matched: the
/// input indices, increasing (the arguments are then in input order).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Binding(pub(crate) Vec<usize>);

/// The input name an argument's field name stands for.
fn input_name(name: &str) -> &str {
    if name.starts_with("churn_score(") {
        return "churn_probability";
    }
    if let Some(inner) = name.strip_suffix(']')
        && let Some(open) = inner.rfind('[')
    {
        return inner[open + 1..].trim_matches(|c| c == '\'' || c == '"');
    }
    name
}

impl Layout {
    /// The input index of each argument, matched by name (or position).
    pub(crate) fn bind(&self, names: &[&str]) -> Result<Vec<usize>> {
        let f = self.function;
        if self.matching == Matching::ByPosition {
            if names.len() != self.inputs.len() {
                let want: Vec<&str> = self.inputs.iter().map(|i| i.name.as_str()).collect();
                return plan_err!(
                    "{f}: takes {} arguments ({}), got {}",
                    want.len(),
                    want.join(", "),
                    names.len()
                );
            }
            return Ok((0..names.len()).collect());
        }
        let mut bound: Vec<Option<usize>> = vec![None; self.inputs.len()];
        let mut out = Vec::with_capacity(names.len());
        for (a, name) in names.iter().enumerate() {
            let find = |n: &str| self.inputs.iter().position(|i| i.name == n);
            let index = find(name).or_else(|| {
                // `t.x` is written unqualified by DataFusion, but an
                // expression's name may keep the qualifier.
                find(input_name(name)).or_else(|| name.rsplit_once('.').and_then(|(_, n)| find(n)))
            });
            let Some(index) = index else {
                let noun = self.noun;
                return plan_err!(
                    "{f}: argument {} `{name}` is not a {noun} of the function (expected {}); pass each input as a column of that name (see churnwise_datafusion::scalar, \"Arguments by name\")",
                    a + 1,
                    self.expected()
                );
            };
            if let Some(first) = bound[index] {
                return plan_err!(
                    "{f}: {} `{}` is given twice (arguments {} and {})",
                    self.noun,
                    self.inputs[index].name,
                    first + 1,
                    a + 1
                );
            }
            bound[index] = Some(a);
            out.push(index);
        }
        if let Some(missing) = self
            .inputs
            .iter()
            .zip(&bound)
            .find(|(i, b)| i.required && b.is_none())
        {
            return plan_err!(
                "{f}: missing {} column `{}` (expected {})",
                self.noun,
                missing.0.name,
                self.expected()
            );
        }
        Ok(out)
    }

    fn expected(&self) -> String {
        let names: Vec<String> = self
            .inputs
            .iter()
            .map(|i| {
                if i.required {
                    i.name.clone()
                } else {
                    format!("[{}]", i.name)
                }
            })
            .collect();
        names.join(", ")
    }

    /// The argument types DataFusion should cast to: numbers to Float64,
    /// strings to Utf8, anything else unchanged (refused, with the
    /// argument's name, by [`check_types`](Self::check_types)).
    pub(crate) fn coerce(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        Ok(types
            .iter()
            .map(|t| match t {
                t if t.is_numeric() || t == &DataType::Null => DataType::Float64,
                DataType::Utf8View | DataType::LargeUtf8 | DataType::Utf8 => DataType::Utf8,
                DataType::Dictionary(_, v)
                    if matches!(
                        v.as_ref(),
                        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                    ) =>
                {
                    DataType::Utf8
                }
                other => other.clone(),
            })
            .collect())
    }

    /// The input index of each argument under `binding` (bound copies) or
    /// matched by name, with the argument types checked.
    pub(crate) fn resolve(
        &self,
        binding: Option<&Binding>,
        names: &[&str],
        types: &[&DataType],
    ) -> Result<Vec<usize>> {
        let f = self.function;
        let map = match binding {
            Some(b) if b.0.len() == names.len() => b.0.clone(),
            Some(b) => {
                return plan_err!("{f}: expected {} arguments, got {}", b.0.len(), names.len());
            }
            None => self.bind(names)?,
        };
        for ((&index, name), t) in map.iter().zip(names).zip(types) {
            let input = &self.inputs[index];
            let numeric = t.is_numeric() || **t == DataType::Null;
            let text = matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
                || matches!(t, DataType::Dictionary(_, v) if matches!(v.as_ref(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View));
            let ok = match input.kind {
                Kind::Number => numeric,
                Kind::Text => text,
                Kind::Either => numeric || text,
            };
            if !ok {
                let want = match input.kind {
                    Kind::Number => "numeric",
                    Kind::Text => "a string",
                    Kind::Either => "numeric or a string",
                };
                return plan_err!(
                    "{f}: {} `{}` (argument `{name}`) must be {want}, got {t}",
                    self.noun,
                    input.name
                );
            }
        }
        Ok(map)
    }

    /// The rewrite that fixes a by-name call's binding: the arguments in
    /// input order and the function rebuilt by `bound` with the binding.
    pub(crate) fn simplify(
        &self,
        binding: Option<&Binding>,
        args: Vec<Expr>,
        info: &SimplifyContext,
        bound: impl FnOnce(Binding) -> Arc<datafusion::logical_expr::ScalarUDF>,
    ) -> Result<ExprSimplifyResult> {
        if binding.is_some() || self.matching == Matching::ByPosition {
            return Ok(ExprSimplifyResult::Original(args));
        }
        let schema = info.schema();
        let names: Option<Vec<String>> = args
            .iter()
            .map(|a| {
                a.to_field(schema.as_ref())
                    .ok()
                    .map(|(_, f)| f.name().clone())
            })
            .collect();
        let Some(names) = names else {
            return Ok(ExprSimplifyResult::Original(args));
        };
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let Ok(map) = self.bind(&refs) else {
            return Ok(ExprSimplifyResult::Original(args));
        };
        let mut order: Vec<(usize, Expr)> = map.into_iter().zip(args).collect();
        order.sort_by_key(|(i, _)| *i);
        let binding = Binding(order.iter().map(|(i, _)| *i).collect());
        let args = order.into_iter().map(|(_, e)| e).collect();
        Ok(ExprSimplifyResult::Simplified(Expr::ScalarFunction(
            datafusion::logical_expr::expr::ScalarFunction::new_udf(bound(binding), args),
        )))
    }

    /// The call's arguments as arrays, indexed by input (`None`: an
    /// optional input not given).
    pub(crate) fn arrays(
        &self,
        binding: Option<&Binding>,
        args: &ScalarFunctionArgs,
    ) -> Result<Vec<Option<Arg>>> {
        let names: Vec<&str> = args.arg_fields.iter().map(|f| f.name().as_str()).collect();
        let types: Vec<&DataType> = args.arg_fields.iter().map(|f| f.data_type()).collect();
        let map = self.resolve(binding, &names, &types)?;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut out: Vec<Option<Arg>> = vec![None; self.inputs.len()];
        for ((index, array), name) in map.into_iter().zip(arrays).zip(names) {
            out[index] = Some(Arg {
                input: self.inputs[index].name.clone(),
                column: name.to_owned(),
                array,
            });
        }
        Ok(out)
    }
}

/// One argument's values at run time.
#[derive(Debug, Clone)]
pub(crate) struct Arg {
    /// The input it feeds.
    pub(crate) input: String,
    /// The argument's name at run time.
    pub(crate) column: String,
    pub(crate) array: ArrayRef,
}

impl Arg {
    /// "`recency_days`", or "`recency_days` (column `x`)" when renamed.
    pub(crate) fn describe(&self) -> String {
        if self.column == self.input || input_name(&self.column) == self.input {
            format!("`{}`", self.input)
        } else {
            format!("`{}` (argument `{}`)", self.input, self.column)
        }
    }

    /// The values as Float64, refusing nulls and non-finite values.
    pub(crate) fn numbers(&self, function: &str) -> Result<std::borrow::Cow<'_, [f64]>> {
        let values = self.floats(function)?;
        // A fold, not `find`, so the common all-finite case vectorizes.
        if !values.iter().fold(true, |finite, v| finite & v.is_finite())
            && let Some((row, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite())
        {
            return exec_err!(
                "{function}: non-finite value {v} in {} at row {row} of the batch",
                self.describe()
            );
        }
        Ok(values)
    }

    /// The values as Float64, refusing nulls (the caller checks that they
    /// are finite).
    pub(crate) fn floats(&self, function: &str) -> Result<std::borrow::Cow<'_, [f64]>> {
        let array = if self.array.data_type() == &DataType::Float64 {
            std::borrow::Cow::Borrowed(&self.array)
        } else {
            std::borrow::Cow::Owned(datafusion::arrow::compute::cast(
                &self.array,
                &DataType::Float64,
            )?)
        };
        if let Some(row) = first_null(array.as_ref()) {
            return exec_err!(
                "{function}: null in {} at row {row} of the batch; fill or filter nulls before calling {function}",
                self.describe()
            );
        }
        Ok(match array {
            std::borrow::Cow::Borrowed(a) => {
                std::borrow::Cow::Borrowed(a.as_primitive::<Float64Type>().values().as_ref())
            }
            std::borrow::Cow::Owned(a) => {
                std::borrow::Cow::Owned(a.as_primitive::<Float64Type>().values().to_vec())
            }
        })
    }

    /// The values as labels, refusing nulls.
    pub(crate) fn labels(&self, function: &str) -> Result<StringArray> {
        let array = datafusion::arrow::compute::cast(&self.array, &DataType::Utf8)?;
        if let Some(row) = first_null(array.as_ref()) {
            return exec_err!(
                "{function}: null in {} at row {row} of the batch; fill or filter nulls before calling {function}",
                self.describe()
            );
        }
        Ok(array.as_string::<i32>().clone())
    }

    /// Whether the argument is a number (else a label).
    pub(crate) fn is_numeric(&self) -> bool {
        self.array.data_type().is_numeric() || self.array.data_type() == &DataType::Null
    }
}

fn first_null(array: &dyn Array) -> Option<usize> {
    if array.null_count() == 0 {
        return None;
    }
    (0..array.len()).find(|&i| array.is_null(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout {
            function: "f",
            noun: "feature",
            inputs: vec![
                Input::number("recency_days"),
                Input::number("orders_total"),
                Input::number("churn_probability").optional(),
            ],
            matching: Matching::ByName,
        }
    }

    #[test]
    fn binds_by_name_in_any_order() {
        let l = layout();
        assert_eq!(l.bind(&["orders_total", "recency_days"]).unwrap(), [1, 0]);
        assert_eq!(
            l.bind(&["t.recency_days", "s[orders_total]", "churn_score(a,b)"])
                .unwrap(),
            [0, 1, 2]
        );
    }

    #[test]
    fn names_the_unknown_duplicate_or_missing_column() {
        let l = layout();
        let e = l.bind(&["recency_days", "spend"]).unwrap_err().to_string();
        assert!(e.contains("f: argument 2 `spend` is not a feature"), "{e}");
        let e = l.bind(&["recency_days"]).unwrap_err().to_string();
        assert!(e.contains("missing feature column `orders_total`"), "{e}");
        let e = l
            .bind(&["recency_days", "recency_days"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("`recency_days` is given twice"), "{e}");
    }

    #[test]
    fn checks_types_naming_the_column() {
        let l = layout();
        let e = l
            .resolve(
                None,
                &["recency_days", "orders_total"],
                &[&DataType::Float64, &DataType::Utf8],
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "f: feature `orders_total` (argument `orders_total`) must be numeric, got Utf8"
            ),
            "{e}"
        );
    }
}

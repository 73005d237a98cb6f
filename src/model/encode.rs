//! Turning a flat table of text cells (a CSV) into numeric features.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::FittedModel;
use crate::{Error, ErrorKind, Result};

/// Encodes a flat table of text cells for a model: numeric columns stay
/// numbers (a blank, `NaN` or infinite cell is missing and takes the
/// training median; it never makes the column text), text
/// columns become one-hot indicators `column=value` over the categories seen
/// in training (unseen categories, and blanks, encode as all zeros).
///
/// [`fit`](Self::fit) learns the column kinds, medians and categories; the
/// [`FittedTableEncoder`] is serializable, so a saved model can encode new
/// rows of the same layout identically.
///
/// # Example
///
/// ```
/// use churnwise::model::TableEncoder;
///
/// let header = ["plan", "spend"].map(String::from).to_vec();
/// let rows = vec![
///     ["monthly", "10.5"].map(String::from).to_vec(),
///     ["yearly", ""].map(String::from).to_vec(),
///     ["monthly", "30"].map(String::from).to_vec(),
/// ];
/// let enc = TableEncoder::new().fit(&header, &rows)?;
/// assert_eq!(enc.feature_names(), ["plan=monthly", "plan=yearly", "spend"]);
/// let (x, imputed) = enc.transform(&rows)?;
/// assert_eq!(x.row(1).to_vec(), [0.0, 1.0, 20.25]); // the blank spend takes the median
/// assert_eq!(imputed, 1);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TableEncoder {
    max_categories: usize,
}

impl Default for TableEncoder {
    fn default() -> Self {
        TableEncoder {
            max_categories: 100,
        }
    }
}

/// How one input column is encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Encoding {
    Numeric {
        name: String,
        median: f64,
    },
    Categorical {
        name: String,
        categories: Vec<String>,
    },
}

impl TableEncoder {
    /// At most 100 categories per text column.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::TableEncoder;
    ///
    /// assert_eq!(TableEncoder::new(), TableEncoder::new().max_categories(100));
    /// ```
    pub fn new() -> Self {
        TableEncoder::default()
    }

    /// The most categories a text column may have. Defaults to 100. Must
    /// be at least 1 (checked by [`validate`](Self::validate)).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::TableEncoder;
    /// # let cells = |rows: &[[&str; 2]]| -> Vec<Vec<String>> { rows.iter().map(|r| r.map(String::from).to_vec()).collect() };
    /// # let header = ["plan", "spend"].map(String::from).to_vec();
    /// # let rows = cells(&[["monthly", "10"], ["yearly", ""], ["monthly", "30"]]);
    /// // Two plans are more than one category allows.
    /// assert!(TableEncoder::new().max_categories(1).fit(&header, &rows).is_err());
    /// assert!(TableEncoder::new().max_categories(0).validate().is_err());
    /// ```
    pub fn max_categories(mut self, n: usize) -> Self {
        self.max_categories = n;
        self
    }

    /// Checks the parameters.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `max_categories` if 0.
    pub fn validate(&self) -> Result<()> {
        if self.max_categories == 0 {
            return Err(Error::invalid_parameter(
                "max_categories",
                "must be at least 1, got 0",
            ));
        }
        Ok(())
    }

    /// Learns each column's kind and, for numeric columns, the median of
    /// the non-blank cells; for text columns, the sorted categories.
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate); [`ErrorKind::InvalidParameter`]
    /// named `rows` for a row of the wrong width, naming it; [`ErrorKind::Empty`] without rows or for a numeric column with no
    /// value; [`ErrorKind::InvalidParameter`] named `max_categories` for a
    /// text column with more categories (likely an id: drop it).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::TableEncoder;
    /// # let cells = |rows: &[[&str; 2]]| -> Vec<Vec<String>> { rows.iter().map(|r| r.map(String::from).to_vec()).collect() };
    /// # let header = ["plan", "spend"].map(String::from).to_vec();
    /// # let rows = cells(&[["monthly", "10"], ["yearly", ""], ["monthly", "30"]]);
    /// # let enc = TableEncoder::new().fit(&header, &rows)?;
    /// assert_eq!(enc.feature_names(), ["plan=monthly", "plan=yearly", "spend"]);
    /// assert!(TableEncoder::new().fit(&header, &cells(&[])).is_err()); // no rows
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit(&self, header: &[String], rows: &[Vec<String>]) -> Result<FittedTableEncoder> {
        self.validate()?;
        if rows.is_empty() {
            return Err(ErrorKind::Empty("cannot fit an encoder without rows".into()).into());
        }
        check_widths(header.len(), rows)?;
        let mut columns = Vec::with_capacity(header.len());
        for (j, name) in header.iter().enumerate() {
            let cells = rows.iter().map(|r| r[j].trim()).filter(|c| !c.is_empty());
            // A column is numeric when every cell is a number; `NaN` and
            // `inf` are numbers that are missing (imputed like blanks).
            let numbers: Option<Vec<f64>> = cells.clone().map(|c| c.parse::<f64>().ok()).collect();
            columns.push(match numbers {
                Some(v) => {
                    let mut finite: Vec<f64> = v.into_iter().filter(|v| v.is_finite()).collect();
                    if finite.is_empty() {
                        return Err(ErrorKind::Empty(format!("column `{name}` has no finite value")).into());
                    }
                    Encoding::Numeric {
                        name: name.clone(),
                        median: median(&mut finite),
                    }
                }
                None => {
                    let mut categories: Vec<String> = cells.map(str::to_owned).collect();
                    categories.sort_unstable();
                    categories.dedup();
                    if categories.len() > self.max_categories {
                        // Say why the column is text: its first cell that is not a number.
                        let why = rows
                            .iter()
                            .enumerate()
                            .find(|(_, r)| {
                                let c = r[j].trim();
                                !c.is_empty() && c.parse::<f64>().is_err()
                            })
                            .map(|(i, r)| {
                                format!(
                                    " (text because row {i} holds {:?})",
                                    crate::util::quote_truncated(r[j].trim())
                                )
                            })
                            .unwrap_or_default();
                        return Err(Error::invalid_parameter(
                            "max_categories",
                            format!(
                                "column `{name}` has {} categories, above the limit of {}{why}; drop it if it is an id, or raise the limit",
                                categories.len(),
                                self.max_categories
                            ),
                        ));
                    }
                    Encoding::Categorical {
                        name: name.clone(),
                        categories,
                    }
                }
            });
        }
        Ok(FittedTableEncoder { columns })
    }
}

fn check_widths(width: usize, rows: &[Vec<String>]) -> Result<()> {
    match rows.iter().position(|r| r.len() != width) {
        Some(i) => Err(Error::invalid_parameter(
            "rows",
            format!(
                "row {i} has {} cells but the layout has {width} columns",
                rows[i].len()
            ),
        )),
        None => Ok(()),
    }
}

/// The median of non-empty `v` (the mean of the middle two for an even count).
fn median(v: &mut [f64]) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The learned encoding: column kinds, medians and categories.
///
/// # Example
///
/// See [`TableEncoder`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedTableEncoder {
    columns: Vec<Encoding>,
}

impl FittedTableEncoder {
    /// The output feature names: numeric columns by name, categories as `column=value`.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::TableEncoder;
    /// # let cells = |rows: &[[&str; 2]]| -> Vec<Vec<String>> { rows.iter().map(|r| r.map(String::from).to_vec()).collect() };
    /// # let header = ["plan", "spend"].map(String::from).to_vec();
    /// # let rows = cells(&[["monthly", "10"], ["yearly", ""], ["monthly", "30"]]);
    /// # let enc = TableEncoder::new().fit(&header, &rows)?;
    /// assert_eq!(enc.feature_names(), ["plan=monthly", "plan=yearly", "spend"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn feature_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .flat_map(|c| match c {
                Encoding::Numeric { name, .. } => vec![name.clone()],
                Encoding::Categorical { name, categories } => {
                    categories.iter().map(|v| format!("{name}={v}")).collect()
                }
            })
            .collect()
    }

    /// Encodes rows of the training layout; returns the matrix and how many
    /// missing numeric cells (blank, `NaN` or infinite) were imputed with the
    /// median.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `rows` for a row of the wrong width;
    /// [`ErrorKind::NonFinite`] for a numeric cell that does not parse as a
    /// number (`n/a`), naming the row and column.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::TableEncoder;
    /// # let cells = |rows: &[[&str; 2]]| -> Vec<Vec<String>> { rows.iter().map(|r| r.map(String::from).to_vec()).collect() };
    /// # let header = ["plan", "spend"].map(String::from).to_vec();
    /// # let rows = cells(&[["monthly", "10"], ["yearly", ""], ["monthly", "30"]]);
    /// # let enc = TableEncoder::new().fit(&header, &rows)?;
    /// // An unseen plan encodes as zeros; a blank spend takes the training median (20).
    /// let (x, imputed) = enc.transform(&cells(&[["weekly", ""], ["yearly", "5"]]))?;
    /// assert_eq!(x.row(0).to_vec(), [0.0, 0.0, 20.0]);
    /// assert_eq!(x.row(1).to_vec(), [0.0, 1.0, 5.0]);
    /// assert_eq!(imputed, 1);
    /// assert!(enc.transform(&cells(&[["monthly", "n/a"]])).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn transform(&self, rows: &[Vec<String>]) -> Result<(Array2<f64>, usize)> {
        check_widths(self.columns.len(), rows)?;
        let width = self.feature_names().len();
        let mut x = Array2::zeros((rows.len(), width));
        let mut imputed = 0;
        for (i, row) in rows.iter().enumerate() {
            let mut k = 0;
            for (j, col) in self.columns.iter().enumerate() {
                let cell = row[j].trim();
                match col {
                    Encoding::Numeric { name, median } => {
                        x[[i, k]] = if cell.is_empty() {
                            imputed += 1;
                            *median
                        } else {
                            match cell.parse::<f64>() {
                                Ok(v) if v.is_finite() => v,
                                // NaN and ±inf: missing, like a blank.
                                Ok(_) => {
                                    imputed += 1;
                                    *median
                                }
                                Err(_) => {
                                    return Err(ErrorKind::NonFinite {
                                        what: "numeric cell",
                                        row: i,
                                        column: name.clone(),
                                        value: f64::NAN,
                                    }
                                    .into());
                                }
                            }
                        };
                        k += 1;
                    }
                    Encoding::Categorical { categories, .. } => {
                        if let Ok(c) = categories.binary_search_by(|v| v.as_str().cmp(cell)) {
                            x[[i, k + c]] = 1.0;
                        }
                        k += categories.len();
                    }
                }
            }
        }
        Ok((x, imputed))
    }
}

/// A model trained on a flat table, with the encoding that turns rows of
/// that table's layout into its features: what `train_csv --save` writes.
///
/// It holds any deployable [`FittedModel`], so a saved file names its kind
/// (`"model": {"type": "logistic", ...}`). Loading checks that the model's
/// features are the encoder's output, in order.
///
/// # Example
///
/// ```
/// use churnwise::features::{FeatureTable, TrainingSet};
/// use churnwise::model::{LogisticRegression, TableEncoder, TableModel};
///
/// let header = ["plan", "recency_days"].map(String::from).to_vec();
/// let rows: Vec<Vec<String>> = [["monthly", "5"], ["yearly", "200"], ["monthly", "150"], ["yearly", "3"]]
///     .iter().map(|r| r.map(String::from).to_vec()).collect();
/// let encoder = TableEncoder::new().fit(&header, &rows)?;
/// let (x, _) = encoder.transform(&rows)?;
/// let table = FeatureTable::new((0..4u64).map(Into::into).collect(), encoder.feature_names(), x)?;
/// let model = LogisticRegression::new().fit(&TrainingSet::new(table, ndarray::array![false, true, true, false])?)?;
/// let saved = serde_json::to_string(&TableModel::new(encoder, model)?)?;
/// let loaded: TableModel = serde_json::from_str(&saved)?;
/// assert_eq!(loaded.model().kind(), "logistic");
/// let p = loaded.predict_proba(&[vec!["monthly".into(), "180".into()], vec!["yearly".into(), "2".into()]])?;
/// assert!(p[0] > 0.5 && p[1] < 0.5);
/// assert!(loaded.predict_proba(&[vec!["monthly".into()]]).is_err()); // wrong width
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TableModelRepr")]
pub struct TableModel {
    encoder: FittedTableEncoder,
    model: FittedModel,
}

/// The serialized form of [`TableModel`], checked on the way in.
#[derive(Deserialize)]
struct TableModelRepr {
    encoder: FittedTableEncoder,
    model: FittedModel,
}

impl TryFrom<TableModelRepr> for TableModel {
    type Error = Error;

    fn try_from(r: TableModelRepr) -> Result<Self> {
        TableModel::new(r.encoder, r.model)
    }
}

impl TableModel {
    /// Bundles an encoder with the model fitted on its output.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::SchemaMismatch`] if the model's features are not the
    /// encoder's [`feature_names`](FittedTableEncoder::feature_names), in order.
    pub fn new(encoder: FittedTableEncoder, model: impl Into<FittedModel>) -> Result<Self> {
        let model = model.into();
        if encoder.feature_names() != model.feature_names() {
            return Err(ErrorKind::SchemaMismatch {
                reason: "the model's features are not the encoder's output columns in order".into(),
            }
            .into());
        }
        Ok(TableModel { encoder, model })
    }

    /// The encoder.
    pub fn encoder(&self) -> &FittedTableEncoder {
        &self.encoder
    }

    /// The model.
    pub fn model(&self) -> &FittedModel {
        &self.model
    }

    /// Churn probabilities for rows of the training layout.
    ///
    /// # Errors
    ///
    /// As for [`FittedTableEncoder::transform`] and
    /// [`FittedModel::predict_proba`].
    pub fn predict_proba(&self, rows: &[Vec<String>]) -> Result<ndarray::Array1<f64>> {
        let (x, _) = self.encoder.transform(rows)?;
        self.model.predict_proba(x.view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn unseen_categories_and_bad_cells() {
        let header = s(&["plan", "x"]);
        let enc = TableEncoder::new()
            .fit(&header, &[s(&["a", "1"]), s(&["b", "3"])])
            .unwrap();
        let (x, imputed) = enc.transform(&[s(&["c", ""]), s(&["", "5"])]).unwrap();
        assert_eq!(x, ndarray::array![[0.0, 0.0, 2.0], [0.0, 0.0, 5.0]]);
        assert_eq!(imputed, 1);
        assert!(matches!(
            enc.transform(&[s(&["a", "x"])]).unwrap_err().kind(),
            ErrorKind::NonFinite { row: 0, .. }
        ));
        let err = enc.transform(&[s(&["a", "1"]), s(&["a"])]).unwrap_err();
        assert!(err.to_string().contains("row 1 has 1 cells"), "{err}");
        let back: FittedTableEncoder =
            serde_json::from_str(&serde_json::to_string(&enc).unwrap()).unwrap();
        assert_eq!(back, enc);
    }

    #[test]
    fn non_finite_cells_are_missing_values_never_categories() {
        // 150 visits with one NaN and one inf: still one numeric column.
        let mut rows: Vec<Vec<String>> = (0..150).map(|i| s(&[&format!("{i}")])).collect();
        rows[3] = s(&["NaN"]);
        rows[7] = s(&["inf"]);
        let enc = TableEncoder::new().fit(&s(&["visits"]), &rows).unwrap();
        assert_eq!(enc.feature_names(), ["visits"]);
        let (x, imputed) = enc.transform(&rows).unwrap();
        assert_eq!(imputed, 2);
        let mut finite: Vec<f64> = (0..150)
            .filter(|i| ![3, 7].contains(i))
            .map(f64::from)
            .collect();
        assert_eq!(x[[3, 0]], median(&mut finite));
        assert_eq!(x[[7, 0]], x[[3, 0]]);
        let (x, imputed) = enc.transform(&[s(&["-inf"])]).unwrap();
        assert_eq!((x[[0, 0]], imputed), (median(&mut finite), 1));
        // A column that is only non-finite has no value.
        assert!(TableEncoder::new().fit(&s(&["x"]), &[s(&["nan"])]).is_err());
        // A real text cell makes the column text; the error names it.
        rows[9] = s(&["n/a"]);
        let err = TableEncoder::new().fit(&s(&["visits"]), &rows).unwrap_err();
        assert!(
            err.to_string().contains("column `visits` has 150 categories, above the limit of 100 (text because row 9 holds \"n/a\")"),
            "{err}"
        );
    }

    #[test]
    fn too_many_categories_and_empty_columns_are_errors() {
        let rows: Vec<Vec<String>> = (0..5).map(|i| s(&[&format!("id{i}")])).collect();
        let err = TableEncoder::new()
            .max_categories(3)
            .fit(&s(&["id"]), &rows)
            .unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "max_categories",
                ..
            }
        ));
        assert!(TableEncoder::new().fit(&s(&["x"]), &[s(&[""])]).is_err());
        assert!(TableEncoder::new().fit(&s(&["x"]), &[]).is_err());
    }

    #[test]
    fn a_table_model_checks_its_model_matches_the_encoder() {
        use crate::features::{FeatureTable, TrainingSet};
        use crate::model::LogisticRegression;
        let header = s(&["plan", "x"]);
        let rows = [
            s(&["a", "1"]),
            s(&["b", "3"]),
            s(&["a", "8"]),
            s(&["b", "9"]),
        ];
        let enc = TableEncoder::new().fit(&header, &rows).unwrap();
        let (x, _) = enc.transform(&rows).unwrap();
        let fit = |names: Vec<String>| {
            let t =
                FeatureTable::new((0..4u64).map(Into::into).collect(), names, x.clone()).unwrap();
            LogisticRegression::new()
                .fit(&TrainingSet::new(t, ndarray::array![false, false, true, true]).unwrap())
                .unwrap()
        };
        let good = TableModel::new(enc.clone(), fit(enc.feature_names())).unwrap();
        let json = serde_json::to_string(&good).unwrap();
        let back: TableModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, good);
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert_eq!(
            back.predict_proba(&rows).unwrap(),
            good.predict_proba(&rows).unwrap()
        );
        let renamed = fit(s(&["plan=b", "plan=a", "x"]));
        let err = TableModel::new(enc, renamed).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::SchemaMismatch { .. }));
        // A saved file whose model disagrees with its encoder does not load.
        let edited = json.replacen("\"plan=a\"", "\"plan=z\"", 1);
        assert!(serde_json::from_str::<TableModel>(&edited).is_err());
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}

//! A matrix of features, one row per customer, with named columns.

use chrono::{DateTime, Utc};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};

use super::spec::unknown_name;
use crate::records::CustomerId;
use crate::{ErrorKind, Result};

/// Customer ids, feature names and an `n × k` matrix of finite values.
///
/// Produced by [`FeatureSpec::extract`](super::FeatureSpec::extract), or
/// built from your own data with [`FeatureTable::new`]. Columns are selected
/// and reordered by name, so a model fitted on one table can be applied to
/// another with its columns in any order.
///
/// # Example
///
/// ```
/// use churnwise::features::FeatureTable;
/// use ndarray::array;
///
/// let table = FeatureTable::new(
///     vec![1u64.into(), 2u64.into()],
///     vec!["recency_days".into(), "orders_total".into()],
///     array![[3.0, 10.0], [120.0, 1.0]],
/// )?;
/// let orders = table.select(&["orders_total"])?;
/// assert_eq!(orders.values()[[1, 0]], 1.0);
/// assert_eq!(table.column("recency_days")?.to_vec(), [3.0, 120.0]);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    ids: Vec<CustomerId>,
    names: Vec<String>,
    values: Array2<f64>,
    as_of: Option<DateTime<Utc>>,
}

impl FeatureTable {
    /// A table from ids, column names and values (`ids.len()` rows, `names.len()` columns).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if the shape disagrees with the ids or
    /// names; [`ErrorKind::DuplicateName`] for a repeated name;
    /// [`ErrorKind::NonFinite`] for a NaN or infinite value, naming its row and column.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::FeatureTable;
    /// use ndarray::array;
    ///
    /// let table = FeatureTable::new(vec![7u64.into()], vec!["tenure_days".into()], array![[400.0]])?;
    /// assert_eq!((table.nrows(), table.ncols()), (1, 1));
    /// // Two names for a one-column matrix, or a NaN, is an error.
    /// assert!(FeatureTable::new(vec![7u64.into()], vec!["a".into(), "b".into()], array![[1.0]]).is_err());
    /// assert!(FeatureTable::new(vec![7u64.into()], vec!["a".into()], array![[f64::NAN]]).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(ids: Vec<CustomerId>, names: Vec<String>, values: Array2<f64>) -> Result<Self> {
        let (rows, cols) = values.dim();
        if rows != ids.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "feature rows per customer id",
                expected: ids.len(),
                got: rows,
            }
            .into());
        }
        if cols != names.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "feature columns per name",
                expected: names.len(),
                got: cols,
            }
            .into());
        }
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(ErrorKind::DuplicateName {
                    what: "feature",
                    name: name.clone(),
                }
                .into());
            }
        }
        if let Some(((row, col), &value)) = values.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(ErrorKind::NonFinite {
                what: "feature value",
                row,
                column: names[col].clone(),
                value,
            }
            .into());
        }
        Ok(FeatureTable {
            ids,
            names,
            values,
            as_of: None,
        })
    }

    /// A table whose shape and values the caller guarantees (extraction).
    pub(crate) fn from_parts(
        ids: Vec<CustomerId>,
        names: Vec<String>,
        values: Array2<f64>,
        as_of: Option<DateTime<Utc>>,
    ) -> Self {
        debug_assert_eq!(values.dim(), (ids.len(), names.len()));
        debug_assert!(values.iter().all(|v| v.is_finite()));
        FeatureTable {
            ids,
            names,
            values,
            as_of,
        }
    }

    /// The customer of each row.
    pub fn ids(&self) -> &[CustomerId] {
        &self.ids
    }

    /// The column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The values, `nrows() × ncols()`.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::records::CustomerId;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into()],
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[3.0, 10.0], [120.0, 1.0]],
    /// # )?;
    /// assert_eq!(table.values()[[1, 0]], 120.0); // row 1 (customer 2), column 0 (recency_days)
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn values(&self) -> ArrayView2<'_, f64> {
        self.values.view()
    }

    /// The as-of time, for tables from [`FeatureSpec::extract`](super::FeatureSpec::extract).
    pub fn as_of(&self) -> Option<DateTime<Utc>> {
        self.as_of
    }

    /// Number of rows (customers).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::records::CustomerId;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into()],
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[3.0, 10.0], [120.0, 1.0]],
    /// # )?;
    /// assert_eq!(table.nrows(), 2);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn nrows(&self) -> usize {
        self.values.nrows()
    }

    /// Number of columns (features).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::records::CustomerId;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into()],
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[3.0, 10.0], [120.0, 1.0]],
    /// # )?;
    /// assert_eq!(table.ncols(), 2);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn ncols(&self) -> usize {
        self.values.ncols()
    }

    /// The number of rows (customers).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// let table = FeatureTable::new(vec![1u64.into(), 2u64.into()], vec!["recency_days".into()], ndarray::array![[3.0], [9.0]])?;
    /// assert_eq!(table.len(), 2);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The position of a column.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::records::CustomerId;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into()],
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[3.0, 10.0], [120.0, 1.0]],
    /// # )?;
    /// assert_eq!(table.column_index("orders_total"), Some(1));
    /// assert_eq!(table.column_index("spend_total"), None);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// One column.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] with the closest column names.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::records::CustomerId;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into()],
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[3.0, 10.0], [120.0, 1.0]],
    /// # )?;
    /// assert_eq!(table.column("orders_total")?.to_vec(), [10.0, 1.0]);
    /// assert!(table.column("order_total").is_err()); // the error suggests `orders_total`
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn column(&self, name: &str) -> Result<ArrayView1<'_, f64>> {
        let i = self.require(name)?;
        Ok(self.values.column(i))
    }

    fn require(&self, name: &str) -> Result<usize> {
        self.column_index(name).ok_or_else(|| {
            let known: Vec<&str> = self.names.iter().map(String::as_str).collect();
            unknown_name("feature", name, &known)
        })
    }

    /// A table with the named columns, in that order.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] for a name not in the table;
    /// [`ErrorKind::DuplicateName`] for a repeat.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::records::CustomerId;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into()],
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[3.0, 10.0], [120.0, 1.0]],
    /// # )?;
    /// let swapped = table.select(&["orders_total", "recency_days"])?;
    /// assert_eq!(swapped.names(), ["orders_total", "recency_days"]);
    /// assert_eq!(swapped.values()[[0, 0]], 10.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn select<S: AsRef<str>>(&self, names: &[S]) -> Result<FeatureTable> {
        let mut idx = Vec::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            let n = n.as_ref();
            if names[..i].iter().any(|m| m.as_ref() == n) {
                return Err(ErrorKind::DuplicateName {
                    what: "feature",
                    name: n.to_owned(),
                }
                .into());
            }
            idx.push(self.require(n)?);
        }
        Ok(FeatureTable {
            ids: self.ids.clone(),
            names: idx.iter().map(|&i| self.names[i].clone()).collect(),
            values: self.values.select(Axis(1), &idx),
            as_of: self.as_of,
        })
    }

    /// Consumes the table into ids, names and values.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::records::CustomerId;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into()],
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[3.0, 10.0], [120.0, 1.0]],
    /// # )?;
    /// let (ids, names, values) = table.into_parts();
    /// assert_eq!((ids.len(), names.len(), values.dim()), (2, 2, (2, 2)));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn into_parts(self) -> (Vec<CustomerId>, Vec<String>, Array2<f64>) {
        (self.ids, self.names, self.values)
    }

    /// Stacks tables with the same columns (e.g. several as-of times) into one.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Empty`] without tables; [`ErrorKind::LengthMismatch`] if
    /// the column names differ.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::records::CustomerId;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into()],
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[3.0, 10.0], [120.0, 1.0]],
    /// # )?;
    /// let stacked = FeatureTable::concat(&[table.clone(), table])?;
    /// assert_eq!(stacked.nrows(), 4);
    /// assert!(FeatureTable::concat(&[]).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn concat(tables: &[FeatureTable]) -> Result<FeatureTable> {
        let first = tables
            .first()
            .ok_or_else(|| ErrorKind::Empty("no feature tables to concatenate".into()))?;
        if let Some(t) = tables.iter().find(|t| t.names != first.names) {
            return Err(ErrorKind::LengthMismatch {
                what: "feature tables with the same columns",
                expected: first.ncols(),
                got: t.ncols(),
            }
            .into());
        }
        let views: Vec<ArrayView2<'_, f64>> = tables.iter().map(|t| t.values.view()).collect();
        let values =
            ndarray::concatenate(Axis(0), &views).map_err(|e| ErrorKind::Empty(e.to_string()))?;
        let same_time = tables.iter().all(|t| t.as_of == first.as_of);
        Ok(FeatureTable {
            ids: tables.iter().flat_map(|t| t.ids.iter().cloned()).collect(),
            names: first.names.clone(),
            values,
            as_of: if same_time { first.as_of } else { None },
        })
    }

    /// Writes the table as CSV: a header `customer_id,<names>`, then one row
    /// per customer, numbers in their shortest round-trip form.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] if writing fails.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::FeatureTable;
    /// use ndarray::array;
    ///
    /// let t = FeatureTable::new(vec!["C,1".into()], vec!["x".into()], array![[0.5]])?;
    /// let mut out = Vec::new();
    /// t.write_csv(&mut out)?;
    /// assert_eq!(String::from_utf8(out).unwrap(), "customer_id,x\n\"C,1\",0.5\n");
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    #[cfg(feature = "csv")]
    pub fn write_csv<W: std::io::Write>(&self, writer: W) -> Result<()> {
        let io = |e: csv::Error| crate::Error::csv("<feature table writer>", e);
        let mut w = csv::Writer::from_writer(writer);
        let header = std::iter::once("customer_id").chain(self.names.iter().map(String::as_str));
        w.write_record(header).map_err(io)?;
        let mut record = Vec::with_capacity(self.ncols() + 1);
        for (id, row) in self.ids.iter().zip(self.values.rows()) {
            record.clear();
            record.push(id.to_string());
            record.extend(row.iter().map(|v| v.to_string()));
            w.write_record(&record).map_err(io)?;
        }
        w.flush()
            .map_err(|e| crate::Error::io("<feature table writer>", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn ids(n: u64) -> Vec<CustomerId> {
        (0..n).map(CustomerId::from).collect()
    }

    #[test]
    fn rejects_bad_shapes_names_and_values() {
        let names = || vec!["a".to_owned(), "b".to_owned()];
        let err = FeatureTable::new(ids(3), names(), array![[1.0, 2.0]]).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::LengthMismatch {
                expected: 3,
                got: 1,
                ..
            }
        ));
        let err = FeatureTable::new(ids(1), vec!["a".into()], array![[1.0, 2.0]]).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::LengthMismatch {
                expected: 1,
                got: 2,
                ..
            }
        ));
        let err = FeatureTable::new(ids(1), vec!["a".into(), "a".into()], array![[1.0, 2.0]])
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::DuplicateName { .. }));
        let err =
            FeatureTable::new(ids(2), names(), array![[1.0, 2.0], [f64::NAN, 0.0]]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "feature value at row 1, column `a` is not finite (NaN)"
        );
    }

    #[test]
    fn select_reorders_and_rejects_unknown_columns() {
        let t = FeatureTable::new(
            ids(2),
            vec!["a".into(), "b".into()],
            array![[1.0, 2.0], [3.0, 4.0]],
        )
        .unwrap();
        let s = t.select(&["b", "a"]).unwrap();
        assert_eq!(s.values(), array![[2.0, 1.0], [4.0, 3.0]]);
        assert_eq!(s.names(), ["b", "a"]);
        assert!(matches!(
            t.select(&["c"]).unwrap_err().kind(),
            ErrorKind::UnknownName { .. }
        ));
        assert!(matches!(
            t.select(&["a", "a"]).unwrap_err().kind(),
            ErrorKind::DuplicateName { .. }
        ));
    }

    #[test]
    fn concat_stacks_rows() {
        let t = FeatureTable::new(ids(1), vec!["a".into()], array![[1.0]]).unwrap();
        let u = FeatureTable::new(ids(2), vec!["a".into()], array![[2.0], [3.0]]).unwrap();
        let c = FeatureTable::concat(&[t.clone(), u]).unwrap();
        assert_eq!(c.values(), array![[1.0], [2.0], [3.0]]);
        assert_eq!(c.nrows(), 3);
        let v = FeatureTable::new(ids(1), vec!["b".into()], array![[1.0]]).unwrap();
        assert!(FeatureTable::concat(&[t, v]).is_err());
        assert!(FeatureTable::concat(&[]).is_err());
    }
}

//! The driver analysis ([`Drivers`]) and its ranked report ([`DriverReport`]).

use std::fmt;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::{Category, DriverData};
use crate::stats::{
    ChiSquareTest, Interval, MannWhitney, WelchTTest, benjamini_hochberg, chi_square_independence,
    critical_value, holm, mann_whitney_u, mean_variance, welch_t_test, wilson_interval,
};
use crate::{ErrorKind, Result};

/// What distinguishes customers who churned from those who stayed, field
/// by field: the churned customers' feature analysis of the source
/// documents ("activity dropped in the last month", "spend is falling",
/// "web customers leave more").
///
/// For every numeric field: means and medians of both groups, the
/// standardized mean difference, the Mann–Whitney U test and Welch's
/// t-test. For every categorical field: the churn rate of each level with
/// its Wilson interval, and Pearson's chi-square test of independence. The
/// p-values (Mann–Whitney for numeric fields, chi-square for categorical
/// ones) are adjusted across the whole report by Benjamini–Hochberg and by
/// Holm, since a report tests many fields at once.
///
/// # Formula
///
/// ```text
/// SMD = (x̄_churned − x̄_retained) / s_pooled,  s²_pooled = ((n₁−1)s₁² + (n₀−1)s₀²) / (n₁+n₀−2)
/// categorical effect on the same scale: w = √(χ²/n) (Cohen's w), d = 2w/√(1 − w²)
/// ```
///
/// Tests as [`mann_whitney_u`], [`welch_t_test`], [`chi_square_independence`];
/// as scipy's `mannwhitneyu` / `ttest_ind(equal_var=False)` /
/// `chi2_contingency(correction=False)` and statsmodels' `multipletests`.
///
/// # Example
///
/// ```
/// use churnwise::analysis::drivers::{DriverData, Drivers};
///
/// let churned = vec![true, true, true, false, false, false, false, false];
/// let data = DriverData::new(churned)?
///     .with_numeric("logins_30d", vec![0.0, 1.0, 2.0, 6.0, 5.0, 8.0, 7.0, 4.0])?
///     .with_numeric("age", vec![30.0, 41.0, 35.0, 33.0, 38.0, 36.0, 40.0, 31.0])?
///     .with_category("channel", &["web", "web", "store", "store", "web", "store", "store", "store"])?;
/// let report = Drivers::new().analyze(&data)?;
/// // Logins separate the groups most: they head the ranking.
/// assert_eq!(report.ranked()[0].name(), "logins_30d");
/// let logins = report.numeric_driver("logins_30d").ok_or("missing")?;
/// assert!(logins.smd < -1.0);
/// let channel = report.categorical_driver("channel").ok_or("missing")?;
/// assert_eq!(channel.levels[1].level, "web");
/// assert!((channel.levels[1].churn_rate - 2.0 / 3.0).abs() < 1e-15);
/// println!("{report}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Drivers {
    confidence: f64,
}

impl Default for Drivers {
    fn default() -> Self {
        Drivers { confidence: 0.95 }
    }
}

impl Drivers {
    /// The analysis with 95% Wilson intervals.
    pub fn new() -> Self {
        Drivers::default()
    }

    /// The confidence level of the churn-rate intervals. Defaults to `0.95`.
    /// Must be in `(0, 1)`.
    pub fn confidence(mut self, confidence: f64) -> Self {
        self.confidence = confidence;
        self
    }

    /// The confidence level.
    pub fn confidence_value(&self) -> f64 {
        self.confidence
    }

    /// Checks the configuration; [`analyze`](Self::analyze) calls it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `confidence` unless in `(0, 1)`.
    pub fn validate(&self) -> Result<()> {
        critical_value(self.confidence).map(|_| ())
    }

    /// The report over every field of `data` (fields are analysed in
    /// parallel; the result does not depend on the thread count).
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate); [`ErrorKind::SingleClass`] when
    /// every customer churned or none did; [`ErrorKind::Empty`] with fewer
    /// than two customers in either group or without any field.
    pub fn analyze(&self, data: &DriverData) -> Result<DriverReport> {
        self.validate()?;
        let churned = data.churned();
        let n_churned = churned.iter().filter(|&&c| c).count();
        let n_retained = churned.len() - n_churned;
        if n_churned == 0 || n_retained == 0 {
            return Err(ErrorKind::SingleClass {
                class: n_churned > 0,
            }
            .into());
        }
        if n_churned < 2 || n_retained < 2 {
            return Err(ErrorKind::Empty(format!(
                "drivers need at least two churned and two retained customers, got {n_churned} and {n_retained}"
            ))
            .into());
        }
        if data.numeric_fields().is_empty() && data.categorical_fields().is_empty() {
            return Err(ErrorKind::Empty(
                "no field to compare churned and retained customers on".into(),
            )
            .into());
        }
        let mut numeric = data
            .numeric_fields()
            .par_iter()
            .map(|(name, values)| numeric_driver(name, values, churned))
            .collect::<Result<Vec<_>>>()?;
        let mut categorical = data
            .categorical_fields()
            .par_iter()
            .map(|c| categorical_driver(c, churned, self.confidence))
            .collect::<Result<Vec<_>>>()?;
        let raw: Vec<f64> = numeric
            .iter()
            .map(|d| d.p_value)
            .chain(categorical.iter().map(|d| d.p_value))
            .collect();
        let bh = benjamini_hochberg(&raw)?;
        let hm = holm(&raw)?;
        let k = numeric.len();
        for (i, d) in numeric.iter_mut().enumerate() {
            d.p_bh = bh[i];
            d.p_holm = hm[i];
        }
        for (i, d) in categorical.iter_mut().enumerate() {
            d.p_bh = bh[k + i];
            d.p_holm = hm[k + i];
        }
        Ok(DriverReport {
            churned: n_churned,
            retained: n_retained,
            numeric,
            categorical,
        })
    }
}

/// The median of sorted values.
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    }
}

fn numeric_driver(name: &str, values: &[f64], churned: &[bool]) -> Result<NumericDriver> {
    let (mut yes, mut no) = (Vec::new(), Vec::new());
    for (&v, &c) in values.iter().zip(churned) {
        if c { yes.push(v) } else { no.push(v) }
    }
    let (m1, s1) = mean_variance(&yes);
    let (m0, s0) = mean_variance(&no);
    let (n1, n0) = (yes.len() as f64, no.len() as f64);
    let pooled = (((n1 - 1.0) * s1 + (n0 - 1.0) * s0) / (n1 + n0 - 2.0)).sqrt();
    let smd = if pooled > 0.0 {
        (m1 - m0) / pooled
    } else if m1 == m0 {
        0.0
    } else {
        (m1 - m0).signum() * f64::INFINITY
    };
    let mann_whitney = mann_whitney_u(&yes, &no)?;
    let welch = welch_t_test(&yes, &no)?;
    yes.sort_unstable_by(f64::total_cmp);
    no.sort_unstable_by(f64::total_cmp);
    Ok(NumericDriver {
        name: name.to_owned(),
        mean_churned: m1,
        mean_retained: m0,
        median_churned: median(&yes),
        median_retained: median(&no),
        smd,
        p_value: mann_whitney.p_value,
        mann_whitney,
        welch,
        p_bh: f64::NAN,
        p_holm: f64::NAN,
    })
}

fn categorical_driver(
    field: &Category,
    churned: &[bool],
    confidence: f64,
) -> Result<CategoricalDriver> {
    let k = field.levels.len();
    let mut table = vec![[0u64; 2]; k];
    for (&code, &c) in field.codes.iter().zip(churned) {
        table[code as usize][usize::from(!c)] += 1;
    }
    // Levels nobody has (a built-in category's unused labels) are left out.
    let present: Vec<usize> = (0..k).filter(|&i| table[i][0] + table[i][1] > 0).collect();
    let rows: Vec<[u64; 2]> = present.iter().map(|&i| table[i]).collect();
    let mut levels = Vec::with_capacity(present.len());
    for &i in &present {
        let [yes, no] = table[i];
        let customers = yes + no;
        levels.push(LevelRate {
            level: field.levels[i].clone(),
            customers,
            churned: yes,
            churn_rate: yes as f64 / customers as f64,
            interval: wilson_interval(yes, customers, confidence)?,
        });
    }
    let chi_square = if rows.len() >= 2 {
        chi_square_independence(&rows)?
    } else {
        ChiSquareTest {
            statistic: 0.0,
            dof: 0,
            p_value: 1.0,
        }
    };
    let n = churned.len() as f64;
    let w = (chi_square.statistic / n).sqrt();
    let effect = if w < 1.0 {
        2.0 * w / (1.0 - w * w).sqrt()
    } else {
        f64::INFINITY
    };
    Ok(CategoricalDriver {
        name: field.name.clone(),
        levels,
        p_value: chi_square.p_value,
        chi_square,
        effect,
        p_bh: f64::NAN,
        p_holm: f64::NAN,
    })
}

/// A numeric field's comparison in a [`DriverReport`] (churned minus
/// retained).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NumericDriver {
    /// The field.
    pub name: String,
    /// The mean among churned customers.
    pub mean_churned: f64,
    /// The mean among retained customers.
    pub mean_retained: f64,
    /// The median among churned customers.
    pub median_churned: f64,
    /// The median among retained customers.
    pub median_retained: f64,
    /// The standardized mean difference (Cohen's d with the pooled
    /// standard deviation): negative when churned customers have less.
    pub smd: f64,
    /// The Mann–Whitney U test (U of the churned group).
    pub mann_whitney: MannWhitney,
    /// Welch's t-test.
    pub welch: WelchTTest,
    /// The p-value the report adjusts: the Mann–Whitney test's.
    pub p_value: f64,
    /// The Benjamini–Hochberg adjusted p-value across the report.
    pub p_bh: f64,
    /// The Holm adjusted p-value across the report.
    pub p_holm: f64,
}

/// One level of a categorical field: its customers and churn rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LevelRate {
    /// The level's label.
    pub level: String,
    /// Customers at this level.
    pub customers: u64,
    /// Of whom churned.
    pub churned: u64,
    /// `churned / customers`.
    pub churn_rate: f64,
    /// The rate's Wilson interval.
    pub interval: Interval,
}

/// A categorical field's comparison in a [`DriverReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CategoricalDriver {
    /// The field.
    pub name: String,
    /// The churn rate of every level present, in the field's level order.
    pub levels: Vec<LevelRate>,
    /// Pearson's chi-square test of level × churned (`dof` 0 and `p` 1 for a
    /// single level).
    pub chi_square: ChiSquareTest,
    /// The effect on the standardized-mean-difference scale:
    /// `2w/√(1 − w²)` with Cohen's `w = √(χ²/n)`.
    pub effect: f64,
    /// The p-value the report adjusts: the chi-square test's.
    pub p_value: f64,
    /// The Benjamini–Hochberg adjusted p-value across the report.
    pub p_bh: f64,
    /// The Holm adjusted p-value across the report.
    pub p_holm: f64,
}

/// One entry of [`DriverReport::ranked`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Driver<'a> {
    /// A numeric field.
    Numeric(&'a NumericDriver),
    /// A categorical field.
    Categorical(&'a CategoricalDriver),
}

impl Driver<'_> {
    /// The field's name.
    pub fn name(&self) -> &str {
        match self {
            Driver::Numeric(d) => &d.name,
            Driver::Categorical(d) => &d.name,
        }
    }

    /// The size of the effect on the standardized-mean-difference scale:
    /// `|SMD|` for a numeric field, the converted Cohen's w for a
    /// categorical one.
    pub fn effect(&self) -> f64 {
        match self {
            Driver::Numeric(d) => d.smd.abs(),
            Driver::Categorical(d) => d.effect,
        }
    }

    /// The Benjamini–Hochberg adjusted p-value.
    pub fn p_bh(&self) -> f64 {
        match self {
            Driver::Numeric(d) => d.p_bh,
            Driver::Categorical(d) => d.p_bh,
        }
    }
}

/// The result of [`Drivers::analyze`]: every field's comparison, with
/// p-values adjusted across the report.
///
/// [`ranked`](Self::ranked) orders the fields by effect size, and the
/// [`Display`](fmt::Display) prints them in that order, one line each. Serialize
/// it (serde) for the JSON form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriverReport {
    churned: usize,
    retained: usize,
    numeric: Vec<NumericDriver>,
    categorical: Vec<CategoricalDriver>,
}

impl DriverReport {
    /// The number of churned customers.
    pub fn churned(&self) -> usize {
        self.churned
    }

    /// The number of retained customers.
    pub fn retained(&self) -> usize {
        self.retained
    }

    /// The numeric fields, in the data's order.
    pub fn numeric(&self) -> &[NumericDriver] {
        &self.numeric
    }

    /// The categorical fields, in the data's order.
    pub fn categorical(&self) -> &[CategoricalDriver] {
        &self.categorical
    }

    /// The numeric field `name`, if analysed.
    pub fn numeric_driver(&self, name: &str) -> Option<&NumericDriver> {
        self.numeric.iter().find(|d| d.name == name)
    }

    /// The categorical field `name`, if analysed.
    pub fn categorical_driver(&self, name: &str) -> Option<&CategoricalDriver> {
        self.categorical.iter().find(|d| d.name == name)
    }

    /// Every field, largest effect first (ties: smaller adjusted p-value,
    /// then name).
    pub fn ranked(&self) -> Vec<Driver<'_>> {
        let mut all: Vec<Driver<'_>> = self
            .numeric
            .iter()
            .map(Driver::Numeric)
            .chain(self.categorical.iter().map(Driver::Categorical))
            .collect();
        all.sort_by(|a, b| {
            b.effect()
                .total_cmp(&a.effect())
                .then(a.p_bh().total_cmp(&b.p_bh()))
                .then_with(|| a.name().cmp(b.name()))
        });
        all
    }
}

impl fmt::Display for DriverReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} churned vs {} retained; largest effect first",
            self.churned, self.retained
        )?;
        writeln!(
            f,
            "{:<24} {:>7}  {:<42} {:>10} {:>10}",
            "field", "effect", "churned vs retained", "p (BH)", "p (Holm)"
        )?;
        for d in self.ranked() {
            let detail = match d {
                Driver::Numeric(n) => format!(
                    "mean {:.3} vs {:.3}, SMD {:+.2}",
                    n.mean_churned, n.mean_retained, n.smd
                ),
                Driver::Categorical(c) => {
                    let worst = c
                        .levels
                        .iter()
                        .max_by(|a, b| a.churn_rate.total_cmp(&b.churn_rate));
                    match worst {
                        Some(l) => format!(
                            "highest churn: {} {:.1}% ({} levels)",
                            l.level,
                            100.0 * l.churn_rate,
                            c.levels.len()
                        ),
                        None => String::new(),
                    }
                }
            };
            writeln!(
                f,
                "{:<24} {:>7.3}  {:<42} {:>10.2e} {:>10.2e}",
                d.name(),
                d.effect(),
                detail,
                d.p_bh(),
                match d {
                    Driver::Numeric(n) => n.p_holm,
                    Driver::Categorical(c) => c.p_holm,
                }
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn needs_both_classes_and_a_field() {
        let data = DriverData::new(vec![true, true])
            .unwrap()
            .with_numeric("x", vec![1.0, 2.0])
            .unwrap();
        assert!(matches!(
            Drivers::new().analyze(&data).unwrap_err().kind(),
            ErrorKind::SingleClass { class: true }
        ));
        let bare = DriverData::new(vec![true, true, false, false]).unwrap();
        assert!(matches!(
            Drivers::new().analyze(&bare).unwrap_err().kind(),
            ErrorKind::Empty(_)
        ));
        let one = DriverData::new(vec![true, false, false])
            .unwrap()
            .with_numeric("x", vec![1.0, 2.0, 3.0])
            .unwrap();
        assert!(matches!(
            Drivers::new().analyze(&one).unwrap_err().kind(),
            ErrorKind::Empty(_)
        ));
    }

    /// By hand: churned {1, 3}, retained {2, 4, 6}: means 2 and 4, variances
    /// 2 and 4, pooled (1·2 + 2·4)/3 = 10/3, SMD = −2/√(10/3); medians 2 and 4.
    #[test]
    fn numeric_driver_matches_hand_calculation() {
        let data = DriverData::new(vec![true, false, true, false, false])
            .unwrap()
            .with_numeric("x", vec![1.0, 2.0, 3.0, 4.0, 6.0])
            .unwrap();
        let report = Drivers::new().analyze(&data).unwrap();
        let d = &report.numeric()[0];
        assert_eq!((d.mean_churned, d.mean_retained), (2.0, 4.0));
        assert_eq!((d.median_churned, d.median_retained), (2.0, 4.0));
        assert_abs_diff_eq!(d.smd, -2.0 / (10.0f64 / 3.0).sqrt(), epsilon = 1e-15);
        // One test: both adjustments leave the p-value as it is.
        assert_eq!((d.p_bh, d.p_holm), (d.p_value, d.p_value));
    }

    #[test]
    fn single_level_category_has_no_test() {
        let data = DriverData::new(vec![true, false, true, false])
            .unwrap()
            .with_category("plan", &["a", "a", "a", "a"])
            .unwrap();
        let report = Drivers::new().analyze(&data).unwrap();
        let c = &report.categorical()[0];
        assert_eq!((c.chi_square.dof, c.p_value, c.effect), (0, 1.0, 0.0));
        assert_eq!(c.levels[0].churn_rate, 0.5);
    }
}

//! Charts: byte-stable snapshots, valid SVG, and no NaN or infinite
//! coordinates for any input.

use std::path::Path;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use churnwise::features::FeatureTable;
use churnwise::model::metrics::{calibration, cumulative_gains};
use churnwise::records::{Customer, HistoryBuilder, Order};
use churnwise::report::{Chart, ChartOptions};
use churnwise::retention::uplift::qini_curve;
use churnwise::segment::{
    ChurnDefinition, CohortRetention, CohortRule, Periods, SegmentReport, Tier, churn_rates,
};
use ndarray::array;
use proptest::prelude::*;

/// Compares `chart` with `tests/snapshots/<name>.svg`; with
/// `UPDATE_SNAPSHOTS=1` writes it instead.
fn assert_snapshot(name: &str, chart: &Chart) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.svg"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v != "0") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, chart.svg()).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert!(
        expected.replace("\r\n", "\n") == chart.svg(),
        "{name}.svg differs from its snapshot; if intended, run with UPDATE_SNAPSHOTS=1 and review the diff"
    );
}

/// Parses the SVG as XML and checks every numeric attribute is finite.
fn assert_valid_svg(chart: &Chart) {
    let doc = roxmltree::Document::parse(chart.svg()).expect("the chart is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    for node in doc.descendants().filter(|n| n.is_element()) {
        for attr in node.attributes() {
            let numbers: Vec<&str> = match attr.name() {
                "x" | "y" | "x1" | "x2" | "y1" | "y2" | "cx" | "cy" | "r" | "width" | "height" => {
                    vec![attr.value()]
                }
                "points" => attr.value().split([' ', ',']).collect(),
                _ => continue,
            };
            for n in numbers {
                let v: f64 = n
                    .parse()
                    .unwrap_or_else(|_| panic!("{}={} is not a number", attr.name(), attr.value()));
                assert!(
                    v.is_finite(),
                    "{}={} is not finite",
                    attr.name(),
                    attr.value()
                );
            }
        }
    }
    assert!(!chart.svg().contains("NaN") && !chart.svg().contains("inf"));
}

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + TimeDelta::days(d)
}

fn scores_and_labels() -> (Vec<f64>, Vec<bool>) {
    let scores: Vec<f64> = (0..40)
        .map(|i| ((i * 37) % 40) as f64 / 40.0 + 0.01)
        .collect();
    let churned = scores
        .iter()
        .enumerate()
        .map(|(i, s)| *s > 0.5 || i % 7 == 0)
        .collect();
    (scores, churned)
}

fn segment_report() -> SegmentReport {
    let table = FeatureTable::new(
        (1..=4u64).map(Into::into).collect(),
        vec![
            "recency_days".into(),
            "orders_total".into(),
            "spend_total".into(),
        ],
        array![
            [10.0, 4.0, 300.0],
            [200.0, 1.0, 100.0],
            [30.0, 2.0, 80.0],
            [90.0, 3.0, 120.0]
        ],
    )
    .unwrap();
    let tiers = [Tier::High, Tier::Low, Tier::Mid, Tier::Mid];
    SegmentReport::new(&tiers, &table, Some(&[false, true, false, true])).unwrap()
}

fn cohorts() -> CohortRetention {
    let mut b = HistoryBuilder::new();
    for c in 0..12u64 {
        let signup = day((c % 4) as i64 * 31);
        b.push_customer(Customer::new(c, signup));
        for k in 0..(c % 5) {
            b.push_order(Order::new(
                c,
                signup + TimeDelta::days(5 + 30 * k as i64),
                10.0,
            ));
        }
    }
    let (history, _) = b.build().unwrap();
    CohortRetention::by_signup_month(&history, day(0), 4, &CohortRule::Ordered).unwrap()
}

#[test]
fn every_chart_matches_its_snapshot_and_is_valid_svg() {
    let options = ChartOptions::new();
    let (scores, churned) = scores_and_labels();
    let gains = cumulative_gains(&scores, &churned, 10).unwrap();
    let bins = calibration(&scores, &churned, 5).unwrap();
    let treated: Vec<bool> = (0..40).map(|i| i % 2 == 0).collect();
    let retained: Vec<bool> = churned.iter().map(|c| !c).collect();
    let qini = qini_curve(&scores, &retained, &treated).unwrap();
    let cohorts = cohorts();
    let mut b = HistoryBuilder::new();
    b.push_customer(Customer::new(1u64, day(0)));
    b.push_order(Order::new(1u64, day(10), 5.0));
    let (history, _) = b.build().unwrap();
    let rates = churn_rates(
        &history,
        &Periods::months(day(0), 6).unwrap(),
        &ChurnDefinition::default(),
    )
    .unwrap();
    let charts = [
        ("gains", Chart::gains(&gains, &options).unwrap()),
        ("lift", Chart::lift(&gains, &options).unwrap()),
        ("calibration", Chart::calibration(&bins, &options).unwrap()),
        ("qini", Chart::qini(&qini, &options).unwrap()),
        (
            "cohort_retention",
            Chart::cohort_retention(&cohorts, &options).unwrap(),
        ),
        (
            "segments",
            Chart::segments(&segment_report(), &options).unwrap(),
        ),
        ("churn_rates", Chart::churn_rates(&rates, &options).unwrap()),
        (
            "score_distribution",
            Chart::score_distribution(&scores, &churned, &options).unwrap(),
        ),
        (
            "mrr_movements",
            Chart::mrr_movements(&mrr_rows(), &options).unwrap(),
        ),
    ];
    let charts: Vec<(&str, Chart)> = charts.into_iter().chain(why_charts()).collect();
    for (name, chart) in &charts {
        assert_valid_svg(chart);
        assert_snapshot(name, chart);
        // Rendering twice gives the same bytes.
        assert!(!chart.title().is_empty());
    }
    assert_eq!(Chart::gains(&gains, &options).unwrap(), charts[0].1);
}

/// Three subscribers over four months: an upgrade, a cancellation, a new
/// yearly plan.
fn mrr_rows() -> Vec<churnwise::segment::MrrMovement> {
    use churnwise::records::{
        BillingPeriod, ChurnReason, Subscription, SubscriptionEvent, SubscriptionEventKind as K,
    };
    let mut b = HistoryBuilder::new();
    b.extend((1..=3u64).map(|c| Customer::new(c, day(0))));
    b.extend([
        Subscription::new(1u64, "A", "basic", day(0), BillingPeriod::Monthly, 10.0),
        Subscription::new(2u64, "B", "pro", day(15), BillingPeriod::Monthly, 30.0),
        Subscription::new(3u64, "C", "pro", day(70), BillingPeriod::Yearly, 240.0),
    ]);
    b.extend([
        SubscriptionEvent::new(
            1u64,
            "A",
            day(40),
            K::Upgrade {
                price: 20.0,
                plan: None,
            },
        ),
        SubscriptionEvent::new(
            2u64,
            "B",
            day(50),
            K::CancellationRequested {
                reason: ChurnReason::Price,
                note: None,
            },
        ),
    ]);
    let (history, _) = b.build().unwrap();
    churnwise::segment::mrr_movements(&history, &Periods::months(day(0), 4).unwrap()).unwrap()
}

/// Survival curves with bands and the log-rank note, and driver effects.
fn why_charts() -> Vec<(&'static str, Chart)> {
    use churnwise::analysis::drivers::{DriverData, Drivers};
    use churnwise::analysis::survival::{KaplanMeier, SurvivalData, logrank};
    let durations: Vec<f64> = (0..30).map(|i| ((i * 17) % 29 + 1) as f64 * 10.0).collect();
    let events: Vec<bool> = (0..30).map(|i| i % 4 != 0).collect();
    let groups: Vec<&str> = (0..30)
        .map(|i| ["basic", "gold", "silver"][i % 3])
        .collect();
    let data = SurvivalData::new(durations, events)
        .unwrap()
        .with_groups("plan", &groups)
        .unwrap();
    let km = KaplanMeier::new().fit(&data).unwrap();
    let test = logrank(&data).unwrap();
    let options = ChartOptions::new().x_label("days since signup");
    let (scores, churned) = scores_and_labels();
    let drivers = DriverData::new(churned.clone())
        .unwrap()
        .with_numeric("score", scores.clone())
        .unwrap()
        .with_numeric("noise", (0..40).map(|i| ((i * 13) % 7) as f64).collect())
        .unwrap()
        .with_numeric("inverse", scores.iter().map(|s| 1.0 - s).collect())
        .unwrap();
    let report = Drivers::new().analyze(&drivers).unwrap();
    vec![
        (
            "survival",
            Chart::survival(&km, Some(&test), &options).unwrap(),
        ),
        (
            "drivers",
            Chart::drivers(&report, &ChartOptions::new()).unwrap(),
        ),
    ]
}

#[test]
fn empty_data_gives_a_chart_that_says_so() {
    let options = ChartOptions::new();
    let charts = [
        Chart::gains(&[], &options).unwrap(),
        Chart::lift(&[], &options).unwrap(),
        Chart::calibration(&[], &options).unwrap(),
        Chart::qini(&[], &options).unwrap(),
        Chart::churn_rates(&[], &options).unwrap(),
        Chart::score_distribution(&[], &[], &options).unwrap(),
        Chart::mrr_movements(&[], &options).unwrap(),
    ];
    for chart in &charts {
        assert_valid_svg(chart);
        assert!(chart.svg().contains("no "), "{}", chart.title());
    }
}

#[test]
fn a_single_point_is_drawn_with_a_usable_axis() {
    let chart = Chart::score_distribution(&[0.4], &[true], &ChartOptions::new()).unwrap();
    assert_valid_svg(&chart);
    assert!(chart.svg().contains("1 churned, 0 retained"));
}

#[test]
fn options_set_the_size_and_title_and_are_validated() {
    let options = ChartOptions::new()
        .width(300.0)
        .height(200.0)
        .title("Q3 <gains>");
    let chart = Chart::gains(&[(0.5, 0.8), (1.0, 1.0)], &options).unwrap();
    assert!(
        chart
            .svg()
            .starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200""#)
    );
    assert!(chart.svg().contains("Q3 &lt;gains&gt;"));
    assert_eq!(chart.title(), "Q3 <gains>");
    for bad in [
        ChartOptions::new().width(f64::NAN),
        ChartOptions::new().height(1e9),
    ] {
        let err = Chart::gains(&[], &bad).unwrap_err();
        assert!(matches!(
            err.kind(),
            churnwise::ErrorKind::InvalidParameter { .. }
        ));
    }
}

#[test]
fn twelve_long_category_labels_are_turned_so_they_do_not_overlap() {
    let table = FeatureTable::new(
        (1..=3u64).map(Into::into).collect(),
        vec![
            "recency_days".into(),
            "orders_total".into(),
            "spend_total".into(),
        ],
        array![[10.0, 4.0, 300.0], [200.0, 1.0, 100.0], [30.0, 2.0, 80.0]],
    )
    .unwrap();
    let names: Vec<String> = (0..12)
        .map(|i| format!("a rather long segment name {i}"))
        .collect();
    let index: Vec<usize> = vec![0, 5, 11];
    let report = SegmentReport::from_indices(&index, &names, &table, None).unwrap();
    let chart = Chart::segments(&report, &ChartOptions::new()).unwrap();
    assert_valid_svg(&chart);
    assert!(chart.svg().contains("rotate(-40"));
    assert!(chart.svg().contains("a rather long seg…"));
}

#[test]
fn mismatched_scores_and_labels_are_an_error() {
    let err = Chart::score_distribution(&[0.1, 0.2], &[true], &ChartOptions::new()).unwrap_err();
    assert!(matches!(
        err.kind(),
        churnwise::ErrorKind::LengthMismatch { .. }
    ));
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -10.0..10.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => -1e300..1e300f64,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_input_yields_a_non_finite_coordinate(
        points in prop::collection::vec((any_f64(), any_f64()), 0..30),
        labels in prop::collection::vec(any::<bool>(), 0..30),
        width in 240.0..2000.0f64,
        height in 160.0..2000.0f64,
    ) {
        let options = ChartOptions::new().width(width).height(height);
        let scores: Vec<f64> = points.iter().map(|p| p.0).take(labels.len()).collect();
        let labels = &labels[..scores.len()];
        for chart in [
            Chart::gains(&points, &options).unwrap(),
            Chart::lift(&points, &options).unwrap(),
            Chart::score_distribution(&scores, labels, &options).unwrap(),
        ] {
            assert_valid_svg(&chart);
        }
    }
}

mod document {
    use super::*;
    use churnwise::report::{Report, Section, Table};

    fn full_report() -> (Report, SegmentReport) {
        let (scores, churned) = scores_and_labels();
        let segments = segment_report();
        let options = ChartOptions::new();
        let report = Report::new("Churn <report>")
            .with_subtitle("test & data")
            .with_section(Section::segments("Value tiers", &segments, &options).unwrap())
            .with_section(Section::model(&scores, &churned, &options).unwrap())
            .with_section(
                Section::new("Notes")
                    .with_text("plain text")
                    .with_figures([("customers", "40")])
                    .with_table(Table::new(["a", "b"]).with_row(["x", "1"]))
                    .with_preformatted("a  b\n1  2\n"),
            );
        (report, segments)
    }

    #[test]
    fn the_html_is_self_contained_well_formed_and_stable() {
        let (report, _) = full_report();
        let html = report.to_html();
        // Well-formed (polyglot) markup: an XML parser reads it.
        let doc = roxmltree::Document::parse_with_options(
            &html,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            },
        )
        .expect("the report is well-formed");
        let sections = doc
            .descendants()
            .filter(|n| n.has_tag_name("section"))
            .count();
        assert_eq!(sections, 3);
        let charts = doc.descendants().filter(|n| n.has_tag_name("svg")).count();
        assert_eq!(charts, 5); // one segment chart, four model charts
        // No external request: the only URL is the SVG namespace.
        let urls = html.matches("http").count();
        assert_eq!(urls, html.matches("http://www.w3.org/2000/svg").count());
        assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("src="));
        // Printable and readable on a phone.
        assert!(html.contains("@media print{") && html.contains("break-before:page"));
        assert!(html.contains("name=\"viewport\""));
        assert!(html.contains("<title>Churn &lt;report&gt;</title>"));
        assert_eq!(html, full_report().0.to_html());
    }

    #[test]
    fn the_html_tables_show_the_numbers_of_the_terminal_output() {
        let (report, segments) = full_report();
        let terminal = segments.to_string();
        let Some(churnwise::report::Block::Table(table)) = report.sections()[0].blocks().first()
        else {
            panic!("the segment section starts with its table");
        };
        assert_eq!(table.len(), segments.rows().len());
        for (row, line) in table.rows().iter().zip(terminal.lines().skip(1)) {
            let terminal_cells: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(
                row.iter().map(String::as_str).collect::<Vec<_>>(),
                terminal_cells
            );
        }
        let html = report.to_html();
        for row in table.rows() {
            for cell in row {
                assert!(html.contains(&format!(">{cell}</td>")), "{cell}");
            }
        }
    }

    #[test]
    fn the_recurring_revenue_tables_show_the_numbers_of_the_terminal_output() {
        use churnwise::segment::MrrMovementsTable;
        let rows = mrr_rows();
        let section = Section::recurring_revenue(&rows, &[], &ChartOptions::new()).unwrap();
        let Some(churnwise::report::Block::Table(table)) = section.blocks().first() else {
            panic!("the section starts with the MRR table");
        };
        let terminal = MrrMovementsTable::new(&rows).to_string();
        assert_eq!(table.len(), 4);
        for (row, line) in table.rows().iter().zip(terminal.lines().skip(1)) {
            let cells: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(row.iter().map(String::as_str).collect::<Vec<_>>(), cells);
        }
    }

    #[test]
    fn markdown_links_every_chart_file() {
        let (report, _) = full_report();
        let files = report.to_markdown_files();
        let md = &files[0].1;
        assert_eq!(files.len(), 1 + 5);
        for (name, svg) in &files[1..] {
            assert!(md.contains(&format!("]({name})")));
            assert!(svg.starts_with("<svg"));
        }
        assert!(md.starts_with("# Churn \\<report\\>\n"));
        assert!(md.contains("```text\na  b\n1  2\n```"));
        let dir = std::env::temp_dir().join(format!("churnwise-report-{}", std::process::id()));
        let path = report.write_markdown(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(path).unwrap(), *md);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_unwritable_path_is_an_io_error_naming_it() {
        let (report, _) = full_report();
        let err = report
            .write_html("/nonexistent-dir/x/report.html")
            .unwrap_err();
        assert!(matches!(err.kind(), churnwise::ErrorKind::Io { .. }));
        assert!(err.to_string().contains("/nonexistent-dir/x/report.html"));
    }
}

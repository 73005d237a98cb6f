//! Arrow (and Parquet) input and output through the public API.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::*;
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use churnwise::ErrorKind;
use churnwise::arrow::{CustomerColumns, FeedbackColumns, InteractionColumns, OrderColumns};
use churnwise::records::{
    CustomerId, DataQualityReport, History, HistoryBuilder, InteractionKind, UnknownCustomers,
};

fn builder() -> HistoryBuilder {
    HistoryBuilder::new().unknown_customers(UnknownCustomers::Create)
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

/// Reads orders with the given time column (two rows) and returns their times.
fn times_of(time: ArrayRef) -> Vec<DateTime<Utc>> {
    let b = batch(vec![
        (
            "customer_id",
            Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef,
        ),
        ("time", time),
        ("amount", Arc::new(Float64Array::from(vec![1.0, 2.0]))),
    ]);
    let mut h = builder();
    assert_eq!(h.read_arrow(&b, &OrderColumns::new()).unwrap(), 2);
    let (history, report) = h.build().unwrap();
    assert!(report.is_clean(), "{report}");
    let mut t: Vec<_> = history.orders().map(|o| o.time).collect();
    t.sort();
    t
}

#[test]
fn every_time_type_reads_the_same_instants() {
    // 2024-03-01 00:00 and 2024-03-02 12:00 UTC.
    let s = [1_709_251_200i64, 1_709_380_800];
    let want = vec![utc(2024, 3, 1, 0), utc(2024, 3, 2, 12)];
    let cases: Vec<ArrayRef> = vec![
        Arc::new(TimestampSecondArray::from(s.to_vec())),
        Arc::new(TimestampSecondArray::from(s.to_vec()).with_timezone("Europe/Berlin")),
        Arc::new(TimestampMillisecondArray::from(vec![
            s[0] * 1_000,
            s[1] * 1_000,
        ])),
        Arc::new(
            TimestampMicrosecondArray::from(vec![s[0] * 1_000_000, s[1] * 1_000_000])
                .with_timezone("+05:30"),
        ),
        Arc::new(TimestampNanosecondArray::from(vec![
            s[0] * 1_000_000_000,
            s[1] * 1_000_000_000,
        ])),
        Arc::new(Date64Array::from(vec![s[0] * 1_000, s[1] * 1_000])),
        Arc::new(StringArray::from(vec![
            "2024-03-01",
            "2024-03-02T14:00:00+02:00",
        ])),
        Arc::new(LargeStringArray::from(vec![
            "2024-03-01 00:00:00",
            "2024-03-02T12:00:00Z",
        ])),
        Arc::new(StringViewArray::from(vec![
            "2024-03-01",
            "2024-03-02 12:00:00",
        ])),
    ];
    for (k, time) in cases.into_iter().enumerate() {
        assert_eq!(times_of(time), want, "case {k}");
    }
    // Days: midnight UTC.
    let days = Arc::new(Date32Array::from(vec![19_783, 19_784]));
    assert_eq!(times_of(days), [utc(2024, 3, 1, 0), utc(2024, 3, 2, 0)]);
    // Nanoseconds before 1970 round down to the microsecond, as times do.
    let early = Arc::new(TimestampNanosecondArray::from(vec![-1_500, 0]));
    let t = times_of(early);
    assert_eq!(t[0].timestamp_micros(), -2);
}

#[test]
fn text_times_follow_the_configured_format() {
    let b = batch(vec![
        (
            "customer_id",
            Arc::new(Int64Array::from(vec![1])) as ArrayRef,
        ),
        ("date", Arc::new(StringArray::from(vec!["05/02/2024"]))),
        ("amount", Arc::new(Float64Array::from(vec![1.0]))),
    ]);
    let mut h = builder();
    h.read_arrow(&b, &OrderColumns::new().time_format("%d/%m/%Y"))
        .unwrap();
    let t = h.build().unwrap().0.orders().next().unwrap().time;
    assert_eq!(t, utc(2024, 2, 5, 0));
}

/// Reads orders with the given customer column (three rows) and returns the ids, sorted.
fn ids_of(ids: ArrayRef) -> Vec<CustomerId> {
    let n = ids.len();
    let b = batch(vec![
        ("customer_id", ids),
        (
            "date",
            Arc::new(Date32Array::from(vec![19_783; n])) as ArrayRef,
        ),
        ("amount", Arc::new(Float64Array::from(vec![1.0; n]))),
    ]);
    let mut h = builder();
    h.read_arrow(&b, &OrderColumns::new()).unwrap();
    let (history, report) = h.build().unwrap();
    assert!(report.is_clean(), "{report}");
    let mut ids = history.customer_ids().to_vec();
    ids.sort();
    ids
}

#[test]
fn integer_and_text_ids_of_every_type_name_the_same_customers() {
    let want: Vec<CustomerId> = vec![3u64.into(), 7u64.into(), 250u64.into()];
    let ints: Vec<ArrayRef> = vec![
        Arc::new(UInt8Array::from(vec![7, 3, 250])),
        Arc::new(Int16Array::from(vec![7, 3, 250])),
        Arc::new(Int32Array::from(vec![7, 3, 250])),
        Arc::new(Int64Array::from(vec![7, 3, 250])),
        Arc::new(UInt16Array::from(vec![7, 3, 250])),
        Arc::new(UInt32Array::from(vec![7, 3, 250])),
        Arc::new(UInt64Array::from(vec![7, 3, 250])),
        Arc::new(StringArray::from(vec!["7", "3", "250"])),
        Arc::new(LargeStringArray::from(vec!["7", " 3 ", "250"])),
        Arc::new(StringViewArray::from(vec!["7", "3", "250"])),
        Arc::new(
            vec!["7", "3", "250"]
                .into_iter()
                .collect::<DictionaryArray<Int32Type>>(),
        ),
    ];
    for (k, ids) in ints.into_iter().enumerate() {
        assert_eq!(ids_of(ids), want, "case {k}");
    }
    // As in CSV: "042" and "-5" are text ids; a negative integer reads as its text.
    let got = ids_of(Arc::new(Int8Array::from(vec![-5, 4, 6])));
    assert_eq!(
        got,
        [
            CustomerId::from(4u64),
            CustomerId::from(6u64),
            CustomerId::from("-5")
        ]
    );
    let got = ids_of(Arc::new(StringArray::from(vec!["042", "C-1", "-5"])));
    assert_eq!(
        got,
        [
            CustomerId::from("-5"),
            CustomerId::from("042"),
            CustomerId::from("C-1")
        ]
    );
}

#[test]
fn amounts_of_every_numeric_type() {
    let cases: Vec<(ArrayRef, f64)> = vec![
        (Arc::new(Float32Array::from(vec![2.5f32])), 2.5),
        (Arc::new(Int32Array::from(vec![3])), 3.0),
        (Arc::new(UInt64Array::from(vec![12u64])), 12.0),
        (
            Arc::new(
                Decimal128Array::from(vec![1_999i128])
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
            19.99,
        ),
        (Arc::new(StringArray::from(vec![" 7.25"])), 7.25),
    ];
    for (k, (amount, want)) in cases.into_iter().enumerate() {
        let b = batch(vec![
            (
                "customer_id",
                Arc::new(Int64Array::from(vec![1])) as ArrayRef,
            ),
            ("date", Arc::new(Date32Array::from(vec![19_783]))),
            ("amount", amount),
        ]);
        let mut h = builder();
        h.read_arrow(&b, &OrderColumns::new()).unwrap();
        let got = h.build().unwrap().0.summary().gross_revenue;
        assert_eq!(got, want, "case {k}");
    }
}

/// `(index, field, problem)` of every issue.
fn issues(report: &DataQualityReport) -> Vec<(usize, Option<&'static str>, &'static str)> {
    report
        .iter()
        .map(|i| (i.record().index(), i.field(), i.problem().name()))
        .collect()
}

#[test]
fn nulls_are_issues_naming_the_record_and_field_never_panics() {
    let b = batch(vec![
        (
            "customer_id",
            Arc::new(Int64Array::from(vec![
                Some(1),
                None,
                Some(1),
                Some(1),
                Some(2),
            ])) as ArrayRef,
        ),
        (
            "date",
            Arc::new(Date32Array::from(vec![
                Some(19_783),
                Some(19_783),
                None,
                Some(19_784),
                Some(19_785),
            ])),
        ),
        (
            "amount",
            Arc::new(Float64Array::from(vec![
                Some(1.0),
                Some(2.0),
                Some(3.0),
                None,
                Some(f64::NAN),
            ])),
        ),
        (
            "order_id",
            Arc::new(StringArray::from(vec![
                None,
                Some("a"),
                Some("b"),
                None,
                None,
            ])),
        ),
    ]);
    let mut h = builder();
    h.read_arrow(&b, &OrderColumns::new()).unwrap();
    let (history, report) = h.build().unwrap();
    assert_eq!(history.order_count(), 1);
    assert_eq!(
        issues(&report),
        [
            (1, Some("customer"), "missing"),
            (2, Some("time"), "missing"),
            (3, Some("amount"), "missing"),
            (4, Some("amount"), "non_finite"),
        ]
    );

    // A blank text id and an unknown interaction kind, too.
    let b = batch(vec![
        (
            "customer_id",
            Arc::new(StringArray::from(vec![
                Some(" "),
                Some("A"),
                Some("A"),
                Some("A"),
            ])) as ArrayRef,
        ),
        (
            "time",
            Arc::new(StringArray::from(vec![
                "2024-01-01",
                "2024-01-01",
                "2024-13-01",
                "2024-01-02",
            ])),
        ),
        (
            "kind",
            Arc::new(StringArray::from(vec![
                Some("login"),
                None,
                Some("visit"),
                Some("teleport"),
            ])),
        ),
    ]);
    let mut h = builder();
    h.read_arrow(&b, &InteractionColumns::new()).unwrap();
    let (history, report) = h.build().unwrap();
    assert_eq!(history.interaction_count(), 0);
    assert_eq!(
        issues(&report),
        [
            (0, Some("customer"), "missing"),
            (1, Some("kind"), "missing"),
            (2, Some("time"), "malformed"),
            (3, Some("kind"), "malformed"),
        ]
    );
}

#[test]
fn a_column_of_the_wrong_type_is_an_error_naming_it_and_the_types_accepted() {
    let b = batch(vec![
        (
            "customer_id",
            Arc::new(BooleanArray::from(vec![true])) as ArrayRef,
        ),
        ("date", Arc::new(Date32Array::from(vec![19_783]))),
        ("amount", Arc::new(Float64Array::from(vec![1.0]))),
    ]);
    let err = builder()
        .read_arrow(&b, &OrderColumns::new().source_name("orders.arrow"))
        .unwrap_err();
    let ErrorKind::ColumnType {
        source_name,
        column,
        found,
        expected,
    } = err.kind()
    else {
        panic!("{err}")
    };
    assert_eq!(
        (source_name.as_str(), column.as_str(), found.as_str()),
        ("orders.arrow", "customer_id", "Boolean")
    );
    assert!(expected.contains("Utf8"), "{expected}");
    assert!(err.to_string().starts_with(
        "orders.arrow: column `customer_id` has type Boolean, expected an integer type"
    ));

    let b = batch(vec![
        (
            "customer_id",
            Arc::new(Int64Array::from(vec![1])) as ArrayRef,
        ),
        ("date", Arc::new(Float64Array::from(vec![1.0]))),
        ("amount", Arc::new(Float64Array::from(vec![1.0]))),
    ]);
    let err = builder().read_arrow(&b, &OrderColumns::new()).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::ColumnType { column, .. } if column == "date"),
        "{err}"
    );
    // A configured column that is not there.
    let b = batch(vec![
        (
            "customer_id",
            Arc::new(Int64Array::from(vec![1])) as ArrayRef,
        ),
        ("date", Arc::new(Date32Array::from(vec![19_783]))),
        ("amount", Arc::new(Float64Array::from(vec![1.0]))),
    ]);
    let err = builder()
        .read_arrow(&b, &OrderColumns::new().amount("net"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "<record batch>: column `net` not found in the header (columns: customer_id, date, amount)"
    );
}

// ---- the same records through CSV and through Arrow ----

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn micros(t: &[DateTime<Utc>]) -> ArrayRef {
    let v: Vec<i64> = t.iter().map(|t| t.timestamp_micros()).collect();
    Arc::new(TimestampMicrosecondArray::from(v).with_timezone("UTC"))
}

fn id_text(id: &CustomerId) -> String {
    id.to_string()
}

fn kind_parts(
    k: &InteractionKind,
) -> (
    &'static str,
    Option<f64>,
    Option<&'static str>,
    Option<String>,
) {
    use churnwise::records::ComplaintTopic;
    match k {
        InteractionKind::Login => ("login", None, None, None),
        InteractionKind::Visit => ("visit", None, None, None),
        InteractionKind::SupportTicket {
            first_response_hours,
        } => ("support_ticket", *first_response_hours, None, None),
        InteractionKind::Complaint { topic } => {
            let t = match topic {
                ComplaintTopic::Product => "product",
                ComplaintTopic::Service => "service",
                ComplaintTopic::Price => "price",
                ComplaintTopic::Delivery => "delivery",
                _ => "other",
            };
            ("complaint", None, Some(t), None)
        }
        InteractionKind::CampaignResponse { campaign } => {
            ("campaign_response", None, None, Some(campaign.clone()))
        }
        InteractionKind::Cancellation => ("cancellation", None, None, None),
        _ => ("visit", None, None, None),
    }
}

/// A synthetic population (with its injected bad records) as CSV text and as
/// Arrow batches holding the same values, plus a few rows with empty fields.
#[cfg_attr(not(feature = "csv"), allow(dead_code))]
struct Both {
    csv: [String; 4],
    arrow: [RecordBatch; 4],
}

fn both() -> Both {
    let parts = churnwise::synth::PopulationConfig::default()
        .customers(300)
        .seed(5)
        .generate()
        .unwrap()
        .into_parts();

    // Customers: text ids (every other one), plan, channel, region, tags.
    let cs = &parts.customers;
    let mut csv = String::from("customer_id,signup,plan,channel,region,tags\n");
    let mut tags = ListBuilder::new(StringBuilder::new());
    for c in cs {
        csv += &format!(
            "{},{},{},{},{},{}\n",
            id_text(&c.id),
            rfc3339(c.signup),
            c.plan.clone().unwrap_or_default(),
            c.channel.clone().unwrap_or_default(),
            c.region.clone().unwrap_or_default(),
            c.tags.join(";")
        );
        for t in &c.tags {
            tags.values().append_value(t);
        }
        tags.append(true);
    }
    csv += ",2024-01-01,,,,\n5,,,,,\n";
    tags.append(true);
    tags.append(true);
    let mut ids: Vec<Option<String>> = cs.iter().map(|c| Some(id_text(&c.id))).collect();
    ids.extend([None, Some("5".into())]);
    let mut signup: Vec<Option<i64>> = cs
        .iter()
        .map(|c| Some(c.signup.timestamp_micros()))
        .collect();
    signup.extend([Some(1_704_067_200_000_000), None]);
    let opt = |f: &dyn Fn(&churnwise::records::Customer) -> Option<String>| -> ArrayRef {
        let mut v: Vec<Option<String>> = cs.iter().map(f).collect();
        v.extend([None, None]);
        Arc::new(StringArray::from(v))
    };
    let mut plan = StringDictionaryBuilder::<Int32Type>::new();
    for c in cs {
        plan.append_option(c.plan.as_deref());
    }
    plan.append_null();
    plan.append_null();
    let customers = batch(vec![
        ("customer_id", Arc::new(StringArray::from(ids)) as ArrayRef),
        (
            "signup",
            Arc::new(TimestampMicrosecondArray::from(signup).with_timezone("UTC")),
        ),
        ("plan", Arc::new(plan.finish())),
        ("channel", opt(&|c| c.channel.clone())),
        ("region", opt(&|c| c.region.clone())),
        ("tags", Arc::new(tags.finish())),
    ]);

    // Orders: integer ids, microsecond timestamps, amounts (NaN and absurd ones injected).
    let os = &parts.orders;
    let mut csv_o = String::from("customer_id,time,amount,order_id\n");
    for o in os {
        csv_o += &format!(
            "{},{},{:?},{}\n",
            id_text(&o.customer),
            rfc3339(o.time),
            o.amount,
            o.order_id.clone().unwrap_or_default()
        );
    }
    let orders = batch(vec![
        (
            "customer_id",
            Arc::new(UInt64Array::from(
                os.iter()
                    .map(|o| o.customer.as_u64().unwrap())
                    .collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        (
            "time",
            micros(&os.iter().map(|o| o.time).collect::<Vec<_>>()),
        ),
        (
            "amount",
            Arc::new(Float64Array::from(
                os.iter().map(|o| o.amount).collect::<Vec<_>>(),
            )),
        ),
        (
            "order_id",
            Arc::new(StringArray::from(
                os.iter().map(|o| o.order_id.clone()).collect::<Vec<_>>(),
            )),
        ),
    ]);

    // Interactions: every kind with its optional columns.
    let is = &parts.interactions;
    let mut csv_i = String::from("customer_id,time,kind,first_response_hours,topic,campaign\n");
    let parts_i: Vec<_> = is.iter().map(|i| kind_parts(&i.kind)).collect();
    for (i, (k, h, t, c)) in is.iter().zip(&parts_i) {
        csv_i += &format!(
            "{},{},{k},{},{},{}\n",
            id_text(&i.customer),
            rfc3339(i.time),
            h.map(|h| format!("{h:?}")).unwrap_or_default(),
            t.unwrap_or_default(),
            c.clone().unwrap_or_default()
        );
    }
    let interactions = batch(vec![
        (
            "customer_id",
            Arc::new(Int64Array::from(
                is.iter()
                    .map(|i| i.customer.as_u64().unwrap() as i64)
                    .collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        (
            "time",
            micros(&is.iter().map(|i| i.time).collect::<Vec<_>>()),
        ),
        (
            "kind",
            Arc::new(StringViewArray::from(
                parts_i.iter().map(|p| p.0).collect::<Vec<_>>(),
            )),
        ),
        (
            "first_response_hours",
            Arc::new(Float64Array::from(
                parts_i.iter().map(|p| p.1).collect::<Vec<_>>(),
            )),
        ),
        (
            "topic",
            Arc::new(StringArray::from(
                parts_i.iter().map(|p| p.2).collect::<Vec<_>>(),
            )),
        ),
        (
            "campaign",
            Arc::new(StringArray::from(
                parts_i.iter().map(|p| p.3.clone()).collect::<Vec<_>>(),
            )),
        ),
    ]);

    // Feedback: satisfaction (off-scale ones injected) and NPS.
    let fs = &parts.feedback;
    let mut csv_f = String::from("customer_id,time,satisfaction,nps\n");
    for f in fs {
        csv_f += &format!(
            "{},{},{:?},{}\n",
            id_text(&f.customer),
            rfc3339(f.time),
            f.satisfaction,
            f.nps.map(|n| n.to_string()).unwrap_or_default()
        );
    }
    let feedback = batch(vec![
        (
            "customer_id",
            Arc::new(UInt32Array::from(
                fs.iter()
                    .map(|f| f.customer.as_u64().unwrap() as u32)
                    .collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        (
            "time",
            micros(&fs.iter().map(|f| f.time).collect::<Vec<_>>()),
        ),
        (
            "satisfaction",
            Arc::new(Float64Array::from(
                fs.iter().map(|f| f.satisfaction).collect::<Vec<_>>(),
            )),
        ),
        (
            "nps",
            Arc::new(Int16Array::from(
                fs.iter().map(|f| f.nps.map(i16::from)).collect::<Vec<_>>(),
            )),
        ),
    ]);
    Both {
        csv: [csv, csv_o, csv_i, csv_f],
        arrow: [customers, orders, interactions, feedback],
    }
}

#[cfg(feature = "csv")]
fn build_csv(csv: &[String; 4]) -> (History, DataQualityReport) {
    use churnwise::records::{CustomerCsv, FeedbackCsv, InteractionCsv, OrderCsv};
    let mut b = HistoryBuilder::new();
    b.read_customers_csv(csv[0].as_bytes(), &CustomerCsv::new())
        .unwrap();
    b.read_orders_csv(csv[1].as_bytes(), &OrderCsv::new())
        .unwrap();
    b.read_interactions_csv(csv[2].as_bytes(), &InteractionCsv::new())
        .unwrap();
    b.read_feedback_csv(csv[3].as_bytes(), &FeedbackCsv::new())
        .unwrap();
    b.build().unwrap()
}

fn build_arrow(batches: &[RecordBatch; 4]) -> (History, DataQualityReport) {
    let mut b = HistoryBuilder::new();
    b.read_arrow(&batches[0], &CustomerColumns::new()).unwrap();
    // Orders in two batches: the record indices continue across them.
    let (first, rest) = (
        batches[1].slice(0, batches[1].num_rows() / 3),
        batches[1].slice(
            batches[1].num_rows() / 3,
            batches[1].num_rows() - batches[1].num_rows() / 3,
        ),
    );
    let stream = RecordBatchIterator::new([Ok(first), Ok(rest)], batches[1].schema());
    b.read_arrow_stream(stream, &OrderColumns::new()).unwrap();
    b.read_arrow(&batches[2], &InteractionColumns::new())
        .unwrap();
    b.read_arrow(&batches[3], &FeedbackColumns::new()).unwrap();
    b.build().unwrap()
}

#[cfg(feature = "csv")]
#[test]
fn the_same_records_build_the_same_history_from_csv_and_from_arrow() {
    let data = both();
    let (from_csv, csv_report) = build_csv(&data.csv);
    let (from_arrow, arrow_report) = build_arrow(&data.arrow);
    assert!(from_csv.order_count() > 1_000);
    assert!(from_csv.interaction_count() > 100 && from_csv.feedback_count() > 10);
    assert!(from_arrow == from_csv, "histories differ");
    // The same issues (CSV ones also carry their line).
    let csv_issues: Vec<_> = csv_report
        .iter()
        .map(|i| {
            (
                i.record().kind(),
                i.record().index(),
                i.field(),
                i.problem().clone(),
            )
        })
        .collect();
    let arrow_issues: Vec<_> = arrow_report
        .iter()
        .map(|i| {
            (
                i.record().kind(),
                i.record().index(),
                i.field(),
                i.problem().clone(),
            )
        })
        .collect();
    assert!(!csv_issues.is_empty());
    assert_eq!(arrow_issues, csv_issues);
    assert_eq!(arrow_report.received(), csv_report.received());
}

// ---- results as record batches ----

use arrow_array::cast::AsArray;
use churnwise::alert::{AlertEngine, AlertPolicy};
use churnwise::arrow::{AS_OF_KEY, ROLE_KEY, ToRecordBatch, read_feature_table};
use churnwise::features::{FeatureSpec, FeatureTable, Snapshot};
use churnwise::retention::{Planner, Playbook};
use churnwise::score::Profiles;
use churnwise::segment::{LifecyclePolicy, Rfm, Tiers};

fn population_table() -> (History, FeatureTable) {
    let history = churnwise::doc_support::history(400, 3).unwrap();
    let as_of = churnwise::doc_support::month(9);
    let table = FeatureSpec::all()
        .extract(&history, &Snapshot::new(as_of))
        .unwrap();
    (history, table)
}

fn profiles() -> Profiles {
    let (history, table) = population_table();
    let rfm = Rfm::new().fit(&table).unwrap();
    let tiers = Tiers::value().fit(&table).unwrap();
    let n = table.nrows();
    let p: Vec<f64> = (0..n).map(|i| (i % 10) as f64 / 10.0).collect();
    Profiles::new(table)
        .unwrap()
        .with_churn_probabilities(p)
        .unwrap()
        .segment_rfm(&rfm)
        .unwrap()
        .stage_lifecycle(&LifecyclePolicy::default())
        .unwrap()
        .tier_value(&tiers)
        .unwrap()
        .values_from_column("spend_180d")
        .unwrap()
        .attributes_from(&history)
        .unwrap()
        .with_numeric("credit", (0..n).map(|i| i as f64).collect())
        .unwrap()
        .with_optional_category("contract", (0..n).map(|i| (i % 3 == 0).then_some("yearly")))
        .unwrap()
}

#[test]
fn a_feature_table_round_trips_through_record_batches() {
    let (_, table) = population_table();
    let batch = table.to_record_batch().unwrap();
    assert_eq!(batch.num_columns(), table.ncols() + 1);
    let schema = batch.schema();
    assert_eq!(schema.field(0).data_type(), &arrow_schema::DataType::UInt64);
    assert_eq!(
        schema.metadata().get(AS_OF_KEY).map(String::as_str),
        Some("2024-09-01T00:00:00Z")
    );
    let back = read_feature_table(&[
        batch.slice(0, 100),
        batch.slice(100, batch.num_rows() - 100),
    ])
    .unwrap();
    assert_eq!(back, table);
    assert_eq!(back.as_of(), table.as_of());

    // Text ids (one is a number) come back as the same ids.
    let t = FeatureTable::new(
        vec!["C-1".into(), 42u64.into()],
        vec!["x".into()],
        ndarray::array![[1.5], [-2.0]],
    )
    .unwrap();
    let batch = t.to_record_batch().unwrap();
    assert_eq!(
        batch.schema().field(0).data_type(),
        &arrow_schema::DataType::Utf8
    );
    assert_eq!(read_feature_table(&[batch]).unwrap(), t);
}

#[test]
fn reading_a_feature_table_rejects_nulls_and_text_features() {
    let b = batch(vec![
        (
            "customer_id",
            Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef,
        ),
        ("x", Arc::new(Float64Array::from(vec![Some(1.0), None]))),
    ]);
    let err = read_feature_table(&[b]).unwrap_err();
    assert_eq!(err.to_string(), "row 1 (customer 2) has no `x`");
    let b = batch(vec![
        (
            "customer_id",
            Arc::new(Int64Array::from(vec![1])) as ArrayRef,
        ),
        ("x", Arc::new(StringArray::from(vec!["1"]))),
    ]);
    let err = read_feature_table(&[b]).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::ColumnType { column, .. } if column == "x"),
        "{err}"
    );
    assert!(matches!(
        read_feature_table(&[]).unwrap_err().kind(),
        ErrorKind::Empty(_)
    ));
}

#[test]
fn profiles_write_every_field_with_its_documented_type() {
    let profiles = profiles();
    let batch = profiles.to_record_batch().unwrap();
    let schema = batch.schema();
    let k = profiles.table().ncols();
    assert_eq!(batch.num_rows(), profiles.len());
    assert_eq!(batch.num_columns(), profiles.field_names().len() + 1);
    // Features first, marked as such; then the fields in the order set.
    for (i, name) in profiles.field_names().iter().enumerate() {
        let f = schema.field(i + 1);
        assert_eq!(f.name(), name);
        let role = if i < k { "feature" } else { "field" };
        assert_eq!(f.metadata().get(ROLE_KEY).map(String::as_str), Some(role));
    }
    let column = |name: &str| batch.column(schema.index_of(name).unwrap()).clone();
    // Numbers are the profiles' numbers.
    for name in [
        "churn_probability",
        "customer_value",
        "expected_loss",
        "credit",
    ] {
        let got = column(name)
            .as_primitive::<arrow_array::types::Float64Type>()
            .values()
            .to_vec();
        assert_eq!(got, profiles.numbers(name).unwrap(), "{name}");
    }
    // Categories are dictionaries with the same labels (null where none).
    for name in [
        "rfm_segment",
        "lifecycle_stage",
        "value_tier",
        "plan",
        "contract",
    ] {
        let c = column(name);
        let dict = c.as_dictionary::<Int32Type>();
        let values = dict.values().as_string::<i32>();
        let got: Vec<Option<&str>> = dict
            .keys()
            .iter()
            .map(|k| k.map(|k| values.value(k as usize)))
            .collect();
        let want: Vec<Option<&str>> = profiles.category(name).unwrap().iter().collect();
        assert_eq!(got, want, "{name}");
    }
    assert!(column("contract").null_count() > 0);
    // Tags are lists.
    let tags = column("tags");
    let tags = tags.as_list::<i32>();
    for (i, p) in profiles.iter().enumerate() {
        let row = tags.value(i);
        let got: Vec<&str> = row.as_string::<i32>().iter().flatten().collect();
        assert_eq!(got, p.labels("tags").collect::<Vec<_>>());
    }
    // Features round-trip as a feature table once the fields are dropped.
    let features: Vec<usize> = (0..=k).collect();
    let back = read_feature_table(&[batch.project(&features).unwrap()]).unwrap();
    assert_eq!(&back, profiles.table());
}

#[test]
fn alerts_and_plans_write_one_row_per_alert_and_assignment() {
    let profiles = profiles();
    let engine = AlertEngine::new(AlertPolicy::default_policy());
    let report = engine.evaluate(&profiles, None).unwrap();
    assert!(!report.alerts().is_empty());
    let batch = report.to_record_batch().unwrap();
    assert_eq!(batch.num_rows(), report.alerts().len());
    let schema = batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "customer_id",
            "rule",
            "description",
            "severity",
            "route",
            "churn_probability",
            "expected_loss",
            "reasons",
            "omitted_reasons",
            "suggestion",
            "row"
        ]
    );
    let rules = batch.column(1).as_string::<i32>();
    let ids = batch
        .column(0)
        .as_primitive::<arrow_array::types::UInt64Type>();
    let rows = batch
        .column(10)
        .as_primitive::<arrow_array::types::UInt64Type>();
    let reasons = batch.column(7).as_list::<i32>();
    for (i, a) in report.alerts().iter().enumerate() {
        assert_eq!(rules.value(i), a.rule());
        assert_eq!(ids.value(i), a.customer().as_u64().unwrap());
        assert_eq!(rows.value(i), a.row() as u64);
        let text: Vec<String> = a.reasons().iter().map(|r| r.to_string()).collect();
        let row = reasons.value(i);
        let got: Vec<&str> = row.as_string::<i32>().iter().flatten().collect();
        assert_eq!(got, text);
    }

    let plan = Planner::new(2_000.0)
        .plan(&profiles, &Playbook::default_playbook())
        .unwrap();
    assert!(!plan.assignments().is_empty());
    let batch = plan.to_record_batch().unwrap();
    assert_eq!(batch.num_rows(), plan.assignments().len());
    let schema = batch.schema();
    let cost = batch
        .column(schema.index_of("cost").unwrap())
        .as_primitive::<arrow_array::types::Float64Type>();
    let net = batch
        .column(schema.index_of("net_value").unwrap())
        .as_primitive::<arrow_array::types::Float64Type>();
    let total: f64 = cost.values().iter().sum();
    assert!((total - plan.summary().cost()).abs() <= 1e-9 * total.max(1.0));
    for (i, a) in plan.assignments().iter().enumerate() {
        assert_eq!(cost.value(i), a.cost);
        assert_eq!(net.value(i), a.net_value());
    }
}

// ---- subscriptions and their events ----

use churnwise::arrow::{SubscriptionColumns, SubscriptionEventColumns};
use churnwise::records::{BillingPeriod, Customer, SubscriptionEventKind};

/// `(kind, index, field, problem)` of every issue, without CSV lines.
fn full_issues(
    report: &DataQualityReport,
) -> Vec<(
    churnwise::records::RecordKind,
    usize,
    Option<&'static str>,
    churnwise::records::Problem,
)> {
    report
        .iter()
        .map(|i| {
            (
                i.record().kind(),
                i.record().index(),
                i.field(),
                i.problem().clone(),
            )
        })
        .collect()
}

/// A subscription business's customers, and its subscriptions and events
/// as CSV text and as typed batches holding the same values, each with a
/// few bad rows appended.
#[cfg_attr(not(feature = "csv"), allow(dead_code))]
struct SubsBoth {
    customers: Vec<Customer>,
    csv: [String; 2],
    arrow: [RecordBatch; 2],
}

fn subs_both() -> SubsBoth {
    let business = churnwise::synth::SubscriptionPopulationConfig::default()
        .customers(150)
        .seed(11)
        .generate()
        .unwrap();
    // CSV text, quoting fields as RFC 4180 does (notes may hold commas).
    let csv_text = |rows: Vec<Vec<String>>| -> String {
        let quote = |f: &String| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.clone()
            }
        };
        rows.iter()
            .map(|r| r.iter().map(quote).collect::<Vec<_>>().join(",") + "\n")
            .collect()
    };

    // Subscriptions: integer customer ids, text ids, a dictionary of plans,
    // microsecond starts, periods as text, Boolean auto-renew.
    let ss = business.subscriptions();
    let mut rows = vec![
        [
            "customer_id",
            "subscription_id",
            "plan",
            "start",
            "period",
            "price",
            "auto_renew",
            "current_period_end",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for s in ss {
        rows.push(vec![
            id_text(&s.customer),
            s.id.clone(),
            s.plan.clone(),
            rfc3339(s.start),
            s.period.to_string(),
            format!("{:?}", s.price),
            s.auto_renew.to_string(),
            s.current_period_end.map(rfc3339).unwrap_or_default(),
        ]);
    }
    // Bad rows: a missing price, an unknown period, a negative price, an
    // unknown customer, a period end before the start (and a start before
    // the customer's signup).
    for r in [
        "1,X-1,basic,2024-01-01,monthly,,true,",
        "1,X-2,basic,2024-01-01,weekly,5,true,",
        "1,X-3,basic,2024-01-01,monthly,-5,false,",
        "99999,X-4,basic,2024-01-01,monthly,5,true,",
        "2,X-5,basic,2024-01-01,30d,5,true,2023-06-01T00:00:00.000000Z",
    ] {
        rows.push(r.split(',').map(String::from).collect());
    }
    let col = |k: usize| -> Vec<String> { rows[1..].iter().map(|r| r[k].clone()).collect() };
    let n = rows.len() - 1;
    let mut plan = StringDictionaryBuilder::<Int32Type>::new();
    for p in col(2) {
        plan.append_value(p);
    }
    let start = |k: usize| -> ArrayRef {
        let v: Vec<Option<i64>> = col(k)
            .iter()
            .map(|t| {
                (!t.is_empty()).then(|| {
                    DateTime::parse_from_rfc3339(t)
                        .or_else(|_| DateTime::parse_from_rfc3339(&format!("{t}T00:00:00Z")))
                        .unwrap()
                        .timestamp_micros()
                })
            })
            .collect();
        Arc::new(TimestampMicrosecondArray::from(v).with_timezone("UTC"))
    };
    let subscriptions = batch(vec![
        (
            "customer_id",
            Arc::new(Int64Array::from(
                col(0)
                    .iter()
                    .map(|c| c.parse::<i64>().unwrap())
                    .collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        ("subscription_id", Arc::new(StringArray::from(col(1)))),
        ("plan", Arc::new(plan.finish())),
        ("start", start(3)),
        ("period", Arc::new(StringViewArray::from(col(4)))),
        (
            "price",
            Arc::new(Float64Array::from(
                col(5)
                    .iter()
                    .map(|p| p.parse::<f64>().ok())
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "auto_renew",
            Arc::new(BooleanArray::from(
                col(6).iter().map(|a| a == "true").collect::<Vec<_>>(),
            )),
        ),
        ("current_period_end", start(7)),
    ]);
    assert_eq!(subscriptions.num_rows(), n);
    let csv_s = csv_text(rows);

    // Events: every kind, with the new price and plan of upgrades and
    // downgrades and the reason and note of cancellations.
    let es = business.subscription_events();
    let mut rows = vec![
        [
            "customer_id",
            "subscription_id",
            "time",
            "kind",
            "price",
            "plan",
            "reason",
            "note",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let mut price = Vec::new();
    let mut plan = Vec::new();
    let mut reason = Vec::new();
    let mut note = Vec::new();
    for e in es {
        let (p, pl, r, no) = match &e.kind {
            SubscriptionEventKind::Upgrade { price, plan }
            | SubscriptionEventKind::Downgrade { price, plan } => {
                (Some(*price), plan.clone(), None, None)
            }
            SubscriptionEventKind::CancellationRequested { reason, note } => {
                (None, None, Some(reason.label().to_owned()), note.clone())
            }
            _ => (None, None, None, None),
        };
        rows.push(vec![
            id_text(&e.customer),
            e.subscription.clone(),
            rfc3339(e.time),
            e.kind.label().to_owned(),
            p.map(|p| format!("{p:?}")).unwrap_or_default(),
            pl.clone().unwrap_or_default(),
            r.clone().unwrap_or_default(),
            no.clone().unwrap_or_default(),
        ]);
        price.push(p);
        plan.push(pl);
        reason.push(r);
        note.push(no);
    }
    // Bad rows: an upgrade without a price, an unknown kind, a missing
    // time, an unknown subscription.
    let first = &es[0];
    let who = first.customer.as_u64().unwrap();
    let bad_rows = [
        ("upgrade", Some(first.time)),
        ("teleport", Some(first.time)),
        ("renewal", None),
    ];
    let mut kinds: Vec<String> = es.iter().map(|e| e.kind.label().to_owned()).collect();
    let mut times: Vec<Option<DateTime<Utc>>> = es.iter().map(|e| Some(e.time)).collect();
    let mut subs: Vec<String> = es.iter().map(|e| e.subscription.clone()).collect();
    for (k, t) in bad_rows {
        rows.push(vec![
            who.to_string(),
            first.subscription.clone(),
            t.map(rfc3339).unwrap_or_default(),
            k.to_owned(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
        kinds.push(k.to_owned());
        times.push(t);
        subs.push(first.subscription.clone());
    }
    rows.push(vec![
        who.to_string(),
        "S-none".into(),
        rfc3339(first.time),
        "renewal".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]);
    kinds.push("renewal".into());
    times.push(Some(first.time));
    subs.push("S-none".into());
    let extra = kinds.len() - es.len();
    price.extend(std::iter::repeat_n(None, extra));
    plan.extend(std::iter::repeat_n(None, extra));
    reason.extend(std::iter::repeat_n(None, extra));
    note.extend(std::iter::repeat_n(None, extra));
    let mut customers: Vec<u64> = es.iter().map(|e| e.customer.as_u64().unwrap()).collect();
    customers.extend(std::iter::repeat_n(who, extra));
    let events = batch(vec![
        (
            "customer_id",
            Arc::new(UInt64Array::from(customers)) as ArrayRef,
        ),
        ("subscription_id", Arc::new(LargeStringArray::from(subs))),
        (
            "time",
            Arc::new(
                TimestampMicrosecondArray::from(
                    times
                        .iter()
                        .map(|t| t.map(|t| t.timestamp_micros()))
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
        ),
        (
            "kind",
            Arc::new(
                kinds
                    .iter()
                    .map(String::as_str)
                    .collect::<DictionaryArray<Int32Type>>(),
            ),
        ),
        ("price", Arc::new(Float64Array::from(price))),
        ("plan", Arc::new(StringArray::from(plan))),
        ("reason", Arc::new(StringArray::from(reason))),
        ("note", Arc::new(StringArray::from(note))),
    ]);
    SubsBoth {
        customers: business.customers().to_vec(),
        csv: [csv_s, csv_text(rows)],
        arrow: [subscriptions, events],
    }
}

fn with_customers(customers: &[Customer]) -> HistoryBuilder {
    let mut b = HistoryBuilder::new();
    for c in customers {
        b.push_customer(c.clone());
    }
    b
}

fn build_subs_arrow(data: &SubsBoth) -> (History, DataQualityReport) {
    let mut b = with_customers(&data.customers);
    b.read_arrow(&data.arrow[0], &SubscriptionColumns::new())
        .unwrap();
    // Events in three batches: the record indices continue across them.
    let e = &data.arrow[1];
    let cut = [0, e.num_rows() / 4, e.num_rows() / 2, e.num_rows()];
    let pieces: Vec<_> = cut
        .windows(2)
        .map(|w| Ok(e.slice(w[0], w[1] - w[0])))
        .collect();
    b.read_arrow_stream(pieces, &SubscriptionEventColumns::new())
        .unwrap();
    b.build().unwrap()
}

#[cfg(feature = "csv")]
#[test]
fn the_same_subscriptions_build_the_same_history_from_csv_and_from_arrow() {
    use churnwise::records::{SubscriptionCsv, SubscriptionEventCsv};
    let data = subs_both();
    let mut b = with_customers(&data.customers);
    b.read_subscriptions_csv(data.csv[0].as_bytes(), &SubscriptionCsv::new())
        .unwrap();
    b.read_subscription_events_csv(data.csv[1].as_bytes(), &SubscriptionEventCsv::new())
        .unwrap();
    let (from_csv, csv_report) = b.build().unwrap();
    let (from_arrow, arrow_report) = build_subs_arrow(&data);
    assert_eq!(from_csv.subscription_count(), 150);
    let kinds: std::collections::BTreeSet<&str> = from_csv
        .subscriptions()
        .flat_map(|s| {
            s.events()
                .iter()
                .map(|(_, k)| k.label())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(kinds.len() >= 6, "{kinds:?}");
    assert!(from_arrow == from_csv, "histories differ");
    let csv_issues = full_issues(&csv_report);
    // Five bad subscriptions (X-5 twice: its period end repaired, then
    // dropped for starting before its customer's signup) and four bad events.
    assert_eq!(csv_issues.len(), 6 + 4, "{csv_report}");
    assert_eq!(full_issues(&arrow_report), csv_issues);
    assert_eq!(arrow_report.received(), csv_report.received());
}

/// The fixture files as text batches (every column `Utf8`; empty cells
/// null in some columns and empty text in others) build what the CSV
/// reader builds from them, with the same issues.
#[cfg(feature = "csv")]
#[test]
fn the_subscription_fixtures_read_as_text_batches_match_the_csv_reader() {
    use churnwise::records::{SubscriptionCsv, SubscriptionEventCsv};
    let subs = include_str!("../fixtures/subscriptions.csv");
    let events = include_str!("../fixtures/subscription_events.csv");
    let text_batch = |text: &str| -> RecordBatch {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        batch(
            header
                .iter()
                .enumerate()
                .map(|(k, name)| {
                    let cells: Vec<Option<&str>> = rows
                        .iter()
                        .map(|row| Some(&row[k]).filter(|c| k % 2 == 0 || !c.is_empty()))
                        .collect();
                    (
                        name.as_str(),
                        Arc::new(StringArray::from(cells)) as ArrayRef,
                    )
                })
                .collect(),
        )
    };
    let customers: Vec<Customer> = (1u64..=3)
        .map(|c| Customer::new(c, utc(2024, 1, 1, 0)))
        .collect();
    let mut b = with_customers(&customers);
    b.read_subscriptions_csv(subs.as_bytes(), &SubscriptionCsv::new())
        .unwrap();
    b.read_subscription_events_csv(events.as_bytes(), &SubscriptionEventCsv::new())
        .unwrap();
    let (want, want_report) = b.build().unwrap();
    let mut b = with_customers(&customers);
    assert_eq!(
        b.read_arrow(&text_batch(subs), &SubscriptionColumns::new())
            .unwrap(),
        8
    );
    assert_eq!(
        b.read_arrow(&text_batch(events), &SubscriptionEventColumns::new())
            .unwrap(),
        11
    );
    let (got, report) = b.build().unwrap();
    assert!(got == want, "histories differ");
    assert_eq!(full_issues(&report).len(), 9);
    assert_eq!(full_issues(&report), full_issues(&want_report));
    assert_eq!(got.subscription_event_count(), 7);
}

#[test]
fn subscription_starts_of_every_time_type_and_text_formats() {
    // 2024-03-01 00:00 UTC.
    let s = 1_709_251_200i64;
    let want = utc(2024, 3, 1, 0);
    let cases: Vec<(ArrayRef, SubscriptionColumns)> = vec![
        (
            Arc::new(Date32Array::from(vec![19_783])),
            SubscriptionColumns::new(),
        ),
        (
            Arc::new(Date64Array::from(vec![s * 1_000])),
            SubscriptionColumns::new(),
        ),
        (
            Arc::new(TimestampSecondArray::from(vec![s]).with_timezone("+02:00")),
            SubscriptionColumns::new(),
        ),
        (
            Arc::new(StringArray::from(vec!["2024-03-01"])),
            SubscriptionColumns::new(),
        ),
        (
            Arc::new(LargeStringArray::from(vec!["2024-03-01T01:00:00+01:00"])),
            SubscriptionColumns::new(),
        ),
        (
            Arc::new(StringArray::from(vec!["01.03.2024"])),
            SubscriptionColumns::new().time_format("%d.%m.%Y"),
        ),
    ];
    for (k, (start, spec)) in cases.into_iter().enumerate() {
        let b = batch(vec![
            ("cust", Arc::new(UInt16Array::from(vec![4])) as ArrayRef),
            ("sub_id", Arc::new(Int32Array::from(vec![17]))),
            ("tier", Arc::new(StringArray::from(vec!["pro"]))),
            ("started", start),
            ("interval", Arc::new(StringArray::from(vec!["1y"]))),
            ("fee", Arc::new(Int64Array::from(vec![120]))),
        ]);
        let mut h = builder();
        h.read_arrow(&b, &spec).unwrap();
        let (history, report) = h.build().unwrap();
        assert!(report.is_clean(), "case {k}: {report}");
        let sub = history.subscription(0).unwrap();
        assert_eq!(sub.start(), want, "case {k}");
        assert_eq!(
            (sub.id(), sub.customer_id(), sub.period(), sub.price()),
            ("17", &CustomerId::from(4u64), BillingPeriod::Yearly, 120.0),
            "case {k}"
        );
    }
}

#[test]
fn subscription_nulls_are_issues_and_wrong_types_are_errors_naming_the_column() {
    let subs = batch(vec![
        (
            "customer_id",
            Arc::new(StringArray::from(vec![Some("C-1"), Some("C-1"), None])) as ArrayRef,
        ),
        (
            "subscription_id",
            Arc::new(StringArray::from(vec![Some("A"), None, Some("C")])),
        ),
        ("plan", Arc::new(StringArray::from(vec!["basic"; 3]))),
        ("start", Arc::new(Date32Array::from(vec![19_783; 3]))),
        ("period", Arc::new(StringArray::from(vec!["monthly"; 3]))),
        ("price", Arc::new(Float64Array::from(vec![10.0; 3]))),
        (
            "auto_renew",
            Arc::new(BooleanArray::from(vec![None, Some(false), Some(true)])),
        ),
    ]);
    let events = batch(vec![
        (
            "customer_id",
            Arc::new(StringArray::from(vec!["C-1"; 3])) as ArrayRef,
        ),
        ("subscription_id", Arc::new(StringArray::from(vec!["A"; 3]))),
        (
            "time",
            Arc::new(Date32Array::from(vec![Some(19_790), None, Some(19_800)])),
        ),
        (
            "kind",
            Arc::new(StringArray::from(vec![Some("pause"), Some("resume"), None])),
        ),
    ]);
    let mut h = builder();
    h.read_arrow(&subs, &SubscriptionColumns::new()).unwrap();
    h.read_arrow(&events, &SubscriptionEventColumns::new())
        .unwrap();
    let (history, report) = h.build().unwrap();
    assert_eq!(history.subscription_count(), 1);
    // A null auto-renew cell is the default: renewing.
    assert!(history.subscription(0).unwrap().auto_renew());
    assert_eq!(history.subscription_event_count(), 1);
    assert_eq!(
        issues(&report),
        [
            (1, Some("id"), "missing"),
            (2, Some("customer"), "missing"),
            (1, Some("time"), "missing"),
            (2, Some("kind"), "missing"),
        ]
    );

    // Wrong types: errors naming the column and the types accepted.
    let schema = subs.schema();
    let mut columns: Vec<(&str, ArrayRef)> = schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .zip(subs.columns().iter().cloned())
        .collect();
    columns.push(("renews_every", Arc::new(Float64Array::from(vec![1.0; 3]))));
    let b = batch(columns);
    let err = builder()
        .read_arrow(&b, &SubscriptionColumns::new().auto_renew("renews_every"))
        .unwrap_err();
    let ErrorKind::ColumnType {
        column, expected, ..
    } = err.kind()
    else {
        panic!("{err}")
    };
    assert_eq!(column, "renews_every");
    assert!(expected.starts_with("Boolean"), "{expected}");
    let b = batch(vec![
        (
            "customer_id",
            Arc::new(Int64Array::from(vec![1])) as ArrayRef,
        ),
        ("subscription_id", Arc::new(StringArray::from(vec!["A"]))),
        ("time", Arc::new(Date32Array::from(vec![19_790]))),
        ("kind", Arc::new(BooleanArray::from(vec![true]))),
    ]);
    let err = builder()
        .read_arrow(&b, &SubscriptionEventColumns::new())
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("<record batch>: column `kind` has type Boolean, expected Utf8"),
        "{err}"
    );
}

// ---- Parquet files ----

#[cfg(feature = "parquet")]
mod parquet_files {
    use super::*;
    use churnwise::arrow::{read_feature_table_parquet_path, write_parquet, write_parquet_path};
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::file::properties::WriterProperties;

    /// A temporary file removed on drop.
    struct Temp(std::path::PathBuf);

    impl Temp {
        fn new(name: &str) -> Temp {
            Temp(std::env::temp_dir().join(format!(
                "churnwise-arrow-{}-{name}.parquet",
                std::process::id()
            )))
        }
    }

    impl Drop for Temp {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// Writes `batch` with row groups of `rows` rows.
    fn write_groups(batch: &RecordBatch, rows: usize, path: &std::path::Path) {
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(rows))
            .build();
        let file = std::fs::File::create(path).unwrap();
        let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
        w.write(batch).unwrap();
        w.close().unwrap();
    }

    #[test]
    fn records_from_parquet_files_build_the_same_history_as_from_batches() {
        let data = both();
        let (want, want_report) = build_arrow(&data.arrow);
        let files: Vec<Temp> = ["customers", "orders", "interactions", "feedback"]
            .iter()
            .map(|n| Temp::new(n))
            .collect();
        for (batch, file) in data.arrow.iter().zip(&files) {
            // Small row groups: many groups, each streamed in batches.
            write_groups(batch, 257, &file.0);
        }
        let mut b = HistoryBuilder::new();
        b.read_parquet_path(&files[0].0, &CustomerColumns::new())
            .unwrap();
        let n = b
            .read_parquet_path(&files[1].0, &OrderColumns::new())
            .unwrap();
        assert_eq!(n, data.arrow[1].num_rows());
        b.read_parquet_path(&files[2].0, &InteractionColumns::new())
            .unwrap();
        b.read_parquet_path(&files[3].0, &FeedbackColumns::new())
            .unwrap();
        let (got, report) = b.build().unwrap();
        assert!(got == want, "histories differ");
        assert_eq!(issues(&report), issues(&want_report));
    }

    #[test]
    fn subscriptions_from_parquet_files_build_the_same_history_as_from_batches() {
        let data = subs_both();
        let (want, want_report) = build_subs_arrow(&data);
        let files = [Temp::new("subscriptions"), Temp::new("subscription-events")];
        // Small row groups: many groups, each streamed in batches.
        write_groups(&data.arrow[0], 40, &files[0].0);
        write_groups(&data.arrow[1], 97, &files[1].0);
        let mut b = with_customers(&data.customers);
        let n = b
            .read_parquet_path(&files[0].0, &SubscriptionColumns::new())
            .unwrap();
        assert_eq!(n, data.arrow[0].num_rows());
        // From bytes in memory, too; only the columns read are decoded.
        let bytes = bytes::Bytes::from(std::fs::read(&files[1].0).unwrap());
        let n = b
            .read_parquet(bytes, &SubscriptionEventColumns::new().note("note"))
            .unwrap();
        assert_eq!(n, data.arrow[1].num_rows());
        let (got, report) = b.build().unwrap();
        assert!(got == want, "histories differ");
        assert!(!report.is_clean());
        assert_eq!(full_issues(&report), full_issues(&want_report));
        // A configured column missing from the file names it and the file.
        let err = with_customers(&data.customers)
            .read_parquet_path(&files[0].0, &SubscriptionColumns::new().plan("offer"))
            .unwrap_err();
        let path = files[0].0.display().to_string();
        assert!(
            err.to_string()
                .starts_with(&format!("{path}: column `offer` not found")),
            "{err}"
        );
    }

    #[test]
    fn only_the_columns_read_are_decoded_and_a_missing_one_lists_the_file_columns() {
        let b = batch(vec![
            (
                "customer_id",
                Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef,
            ),
            ("flag", Arc::new(BooleanArray::from(vec![true, false]))),
            ("date", Arc::new(Date32Array::from(vec![19_783, 19_784]))),
            ("amount", Arc::new(Float64Array::from(vec![1.0, 2.0]))),
        ]);
        let file = Temp::new("projection");
        write_parquet_path(&b, &file.0).unwrap();
        let mut h = builder();
        // `flag` is of no usable type, but it is not read.
        assert_eq!(
            h.read_parquet_path(&file.0, &OrderColumns::new()).unwrap(),
            2
        );
        let err = builder()
            .read_parquet_path(&file.0, &OrderColumns::new().amount("net"))
            .unwrap_err();
        let path = file.0.display().to_string();
        assert_eq!(
            err.to_string(),
            format!(
                "{path}: column `net` not found in the header (columns: customer_id, flag, date, amount)"
            )
        );
        // Not a Parquet file: an I/O error naming it, not a panic.
        std::fs::write(&file.0, b"customer_id,date,amount\n").unwrap();
        let err = builder()
            .read_parquet_path(&file.0, &OrderColumns::new())
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Io { source_name, .. } if *source_name == path),
            "{err}"
        );
    }

    #[test]
    fn results_round_trip_through_parquet_files() {
        let profiles = profiles();
        // Feature table: values, ids and as-of time.
        let file = Temp::new("features");
        write_parquet_path(profiles.table(), &file.0).unwrap();
        assert_eq!(
            &read_feature_table_parquet_path(&file.0).unwrap(),
            profiles.table()
        );

        // Profiles, alerts and plans: the batch read back equals the batch written.
        let engine = AlertEngine::new(AlertPolicy::default_policy());
        let alerts = engine.evaluate(&profiles, None).unwrap();
        let plan = Planner::new(2_000.0)
            .plan(&profiles, &Playbook::default_playbook())
            .unwrap();
        let written = [
            profiles.to_record_batch().unwrap(),
            alerts.to_record_batch().unwrap(),
            plan.to_record_batch().unwrap(),
        ];
        for (k, batch) in written.iter().enumerate() {
            let mut bytes = Vec::new();
            match k {
                0 => write_parquet(&profiles, &mut bytes).unwrap(),
                1 => write_parquet(&alerts, &mut bytes).unwrap(),
                _ => write_parquet(&plan, &mut bytes).unwrap(),
            }
            let builder =
                ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)).unwrap();
            // The file's schema, with its metadata (batches carry none).
            let schema = builder.schema().clone();
            let read: Vec<RecordBatch> =
                builder.build().unwrap().collect::<Result<_, _>>().unwrap();
            assert_eq!(read.len(), 1, "small tables are read as one batch");
            assert_eq!(
                read[0].clone().with_schema(schema).unwrap(),
                *batch,
                "table {k}"
            );
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]
    /// Where a stream of order batches is cut changes nothing.
    #[test]
    fn batch_boundaries_change_nothing(cuts in proptest::collection::vec(0usize..2_000, 0..6)) {
        let data = both();
        let orders = &data.arrow[1];
        let mut at: Vec<usize> = cuts.into_iter().map(|c| c * orders.num_rows() / 2_000).collect();
        at.extend([0, orders.num_rows()]);
        at.sort_unstable();
        let pieces: Vec<_> = at.windows(2).map(|w| Ok(orders.slice(w[0], w[1] - w[0]))).collect();
        let mut b = HistoryBuilder::new();
        b.read_arrow(&data.arrow[0], &CustomerColumns::new()).unwrap();
        b.read_arrow_stream(pieces, &OrderColumns::new()).unwrap();
        let (got, got_report) = b.build().unwrap();
        let mut b = HistoryBuilder::new();
        b.read_arrow(&data.arrow[0], &CustomerColumns::new()).unwrap();
        b.read_arrow(orders, &OrderColumns::new()).unwrap();
        let (want, want_report) = b.build().unwrap();
        proptest::prop_assert!(got == want);
        proptest::prop_assert_eq!(issues(&got_report), issues(&want_report));
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(8))]
    /// Where streams of subscription and event batches are cut changes nothing.
    #[test]
    fn subscription_batch_boundaries_change_nothing(
        cuts in proptest::collection::vec(0usize..1_000, 0..5),
    ) {
        let data = subs_both();
        let pieces = |b: &RecordBatch| -> Vec<Result<RecordBatch, arrow_schema::ArrowError>> {
            let mut at: Vec<usize> = cuts.iter().map(|c| c * b.num_rows() / 1_000).collect();
            at.extend([0, b.num_rows()]);
            at.sort_unstable();
            at.windows(2).map(|w| Ok(b.slice(w[0], w[1] - w[0]))).collect()
        };
        let mut b = with_customers(&data.customers);
        b.read_arrow_stream(pieces(&data.arrow[0]), &SubscriptionColumns::new()).unwrap();
        b.read_arrow_stream(pieces(&data.arrow[1]), &SubscriptionEventColumns::new()).unwrap();
        let (got, got_report) = b.build().unwrap();
        let (want, want_report) = build_subs_arrow(&data);
        proptest::prop_assert!(got == want);
        proptest::prop_assert_eq!(full_issues(&got_report), full_issues(&want_report));
    }
}

//! CSV ingestion through the public API.

use std::io::Write;

use chrono::{TimeZone, Utc};
use churnwise::ErrorKind;
use churnwise::records::{
    CsvFormat, CustomerCsv, FeedbackCsv, HistoryBuilder, InteractionCsv, InteractionKind, OrderCsv,
    Problem, UnknownCustomers,
};

fn builder() -> HistoryBuilder {
    HistoryBuilder::new().unknown_customers(UnknownCustomers::Create)
}

#[test]
fn reads_user_column_names_crlf_and_timestamps() {
    let data = "value,ts,cust\r\n10.5,2024-03-01T10:00:00Z,A-1\r\n-2,2024-03-02 08:30:00,A-1\r\n7,2024-03-03T00:00:00+02:00,9\r\n";
    let mut b = builder();
    let n = b
        .read_orders_csv(
            data.as_bytes(),
            &OrderCsv::new().customer("cust").time("ts").amount("value"),
        )
        .unwrap();
    assert_eq!(n, 3);
    let (h, report) = b.build().unwrap();
    assert!(report.is_clean(), "{report}");
    let a = h.find(&"A-1".into()).unwrap();
    assert_eq!(a.orders().amounts(), [10.5, -2.0]);
    let nine = h.find(&9u64.into()).unwrap();
    let when: Vec<_> = nine.orders().times().collect();
    assert_eq!(when, [Utc.with_ymd_and_hms(2024, 3, 2, 22, 0, 0).unwrap()]);
}

#[test]
fn malformed_rows_are_reported_with_their_line_and_reading_goes_on() {
    let data = "customer_id,date,amount\n1,2024-01-01,5\n1,2024-01-02\n1,2024-13-01,5\n,2024-01-03,5\n1,2024-01-04,abc\n1,2024-01-05,NaN\n2,2024-01-06,6\n";
    let mut b = builder();
    assert_eq!(
        b.read_orders_csv(data.as_bytes(), &OrderCsv::new())
            .unwrap(),
        7
    );
    let (h, report) = b.build().unwrap();
    assert_eq!(h.order_count(), 2);
    let got: Vec<_> = report
        .iter()
        .map(|i| (i.record().line().unwrap(), i.field(), i.problem().name()))
        .collect();
    assert_eq!(
        got,
        [
            (3, None, "malformed"),
            (4, Some("time"), "malformed"),
            (5, Some("customer"), "missing"),
            (6, Some("amount"), "malformed"),
            (7, Some("amount"), "non_finite"),
        ]
    );
    let first = report.issues()[0].to_string();
    assert_eq!(
        first,
        "order 1 (<reader> line 3): malformed row: expected 3 fields, found 2; record dropped"
    );
}

#[test]
fn strict_build_fails_on_the_first_bad_row_with_its_line() {
    let data = "customer_id,date,amount\n1,2024-01-01,5\n1,yesterday,5\n";
    let mut b = builder();
    b.read_orders_csv(
        data.as_bytes(),
        &OrderCsv::new().format(CsvFormat::new().source_name("orders.csv")),
    )
    .unwrap();
    let err = b.build_strict().unwrap_err();
    let ErrorKind::InvalidRecord { record, line, .. } = err.kind() else {
        panic!("{err}")
    };
    assert_eq!(*line, Some(3));
    assert_eq!(record, "order 1 (orders.csv line 3)");
    assert!(err.to_string().contains("orders.csv line 3"), "{err}");
}

#[test]
fn quoted_fields_may_hold_line_ends_and_lines_stay_correct() {
    let data = "customer_id,date,amount,order_id\n1,2024-01-01,5,\"a\"\n2,2024-01-02,6,\"multi\nline\"\n3,2024-01-03,oops,c\n";
    let mut b = builder();
    b.read_orders_csv(data.as_bytes(), &OrderCsv::new())
        .unwrap();
    let (h, report) = b.build().unwrap();
    assert_eq!(h.order_count(), 2);
    let ids: Vec<_> = h.orders().map(|o| o.order_id.unwrap()).collect();
    assert_eq!(ids, ["a", "multi\nline"]);
    assert_eq!(report.issues()[0].record().line(), Some(5));
}

#[test]
fn custom_delimiter_and_time_format() {
    let data = "kunde;datum;betrag\n5;31.12.2023;9.5\n";
    let spec = OrderCsv::new()
        .customer("kunde")
        .time("datum")
        .amount("betrag")
        .format(CsvFormat::new().delimiter(b';').time_format("%d.%m.%Y"));
    let mut b = builder();
    b.read_orders_csv(data.as_bytes(), &spec).unwrap();
    let (h, _) = b.build().unwrap();
    let t: Vec<_> = h.orders().map(|o| o.time).collect();
    assert_eq!(t, [Utc.with_ymd_and_hms(2023, 12, 31, 0, 0, 0).unwrap()]);
}

#[test]
fn a_missing_column_is_an_error_listing_the_header() {
    let mut b = builder();
    let err = b
        .read_orders_csv(
            "cust,when,value\n".as_bytes(),
            &OrderCsv::new().customer("cust"),
        )
        .unwrap_err();
    match err.kind() {
        ErrorKind::MissingColumn {
            column, available, ..
        } => {
            assert_eq!(column, "time|date|timestamp|ts|datetime");
            assert_eq!(available, "cust,when,value");
        }
        other => panic!("{other:?}"),
    }
    let err = b
        .read_orders_csv("".as_bytes(), &OrderCsv::new())
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io { .. }), "{err}");
    let err = b
        .read_orders_csv_path("/nonexistent/orders.csv", &OrderCsv::new())
        .unwrap_err();
    assert!(
        err.to_string().starts_with("/nonexistent/orders.csv: "),
        "{err}"
    );
}

#[test]
fn reads_all_four_kinds_from_files() {
    let dir = std::env::temp_dir().join(format!("churnwise-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::File::create(&p)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        p
    };
    let customers = write(
        "customers.csv",
        "\u{feff}customer_id,signup,plan,channel,region,tags\nC1,2024-01-01,gold,web,EU,a|b\nC2,2024-01-05,,,,\n",
    );
    let orders = write(
        "orders.csv",
        "customer_id,date,amount\nC1,2024-02-01,10\nC3,2024-02-01,10\n",
    );
    let interactions = write(
        "interactions.csv",
        "customer_id,time,kind,first_response_hours,topic,campaign\nC1,2024-02-02,Support_Ticket,36,,\nC2,2024-02-03,complaint,,product,\nC2,2024-02-04,campaign_response,,,spring\nC2,2024-02-05,cancellation,,,\nC1,2024-02-06,login,,,\n",
    );
    let feedback = write(
        "feedback.csv",
        "customer_id,date,satisfaction,nps\nC1,2024-03-01,2,3\nC2,2024-03-01,4,\n",
    );

    let mut b = HistoryBuilder::new();
    assert_eq!(
        b.read_customers_csv_path(&customers, &CustomerCsv::new())
            .unwrap(),
        2
    );
    assert_eq!(
        b.read_orders_csv_path(&orders, &OrderCsv::new()).unwrap(),
        2
    );
    assert_eq!(
        b.read_interactions_csv_path(&interactions, &InteractionCsv::new())
            .unwrap(),
        5
    );
    assert_eq!(
        b.read_feedback_csv_path(&feedback, &FeedbackCsv::new())
            .unwrap(),
        2
    );
    let (h, report) = b.build().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    // C3 is unknown and rejected by default, with its file and line.
    assert_eq!(report.issues().len(), 1, "{report}");
    let issue = &report.issues()[0];
    assert!(matches!(issue.problem(), Problem::UnknownCustomer { .. }));
    assert_eq!(issue.record().line(), Some(3));
    assert!(issue.record().source().unwrap().ends_with("orders.csv"));

    let c1 = h.find(&"C1".into()).unwrap();
    assert_eq!(
        (c1.plan(), c1.channel(), c1.region()),
        (Some("gold"), Some("web"), Some("EU"))
    );
    assert_eq!(c1.tags().collect::<Vec<_>>(), ["a", "b"]);
    let kinds: Vec<_> = c1.interactions().kinds().collect();
    assert_eq!(
        kinds,
        [
            InteractionKind::SupportTicket {
                first_response_hours: Some(36.0)
            },
            InteractionKind::Login
        ]
    );
    let c2 = h.find(&"C2".into()).unwrap();
    assert_eq!(c2.interactions().len(), 3);
    assert_eq!(c2.feedback().iter().next().unwrap().nps, None);
    assert_eq!(c1.feedback().iter().next().unwrap().nps, Some(3));
}

#[test]
fn parallel_parsing_gives_the_same_result_on_any_number_of_threads() {
    // About 4 MB: several pieces per block, some rows bad.
    let mut data = String::from("customer_id,date,amount\n");
    for i in 0..200_000u64 {
        let amount = if i % 9_973 == 0 {
            "x".to_owned()
        } else {
            format!("{}.{:02}", i % 500, i % 100)
        };
        data.push_str(&format!(
            "{},2024-{:02}-{:02},{amount}\n",
            (i * 7_919) % 20_011,
            1 + i % 12,
            1 + i % 28
        ));
    }
    let read = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let mut b = builder();
                b.read_orders_csv(data.as_bytes(), &OrderCsv::new())
                    .unwrap();
                b.build().unwrap()
            })
    };
    let (h1, r1) = read(1);
    let (h2, r2) = read(2);
    assert!(h1 == h2, "histories differ");
    assert_eq!(r1, r2);
    assert_eq!(r1.count("malformed"), 21);
    assert_eq!(h1.order_count(), 200_000 - 21);
}

/// Reads `data` as orders on a pool of `threads` threads.
fn read_on(
    data: &[u8],
    threads: usize,
) -> (
    churnwise::records::History,
    churnwise::records::DataQualityReport,
) {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| {
            let mut b = builder();
            b.read_orders_csv(data, &OrderCsv::new()).unwrap();
            b.build().unwrap()
        })
}

#[test]
fn quoted_fields_in_every_row_parse_the_same_on_any_number_of_threads() {
    // About 8 MB (several blocks and pieces): every order id quoted, holding
    // the delimiter, doubled quotes, and every 1000th row a CRLF; every 9973rd row bad.
    let mut data = String::from("customer_id,order_id,date,amount\n");
    let mut lines = 1u64;
    let mut bad_lines = Vec::new();
    for i in 0..200_000u64 {
        let note = if i % 1_000 == 0 { "\r\n" } else { "" };
        let amount = if i % 9_973 == 0 {
            bad_lines.push(lines + 1);
            "x".to_owned()
        } else {
            format!("{}.{:02}", i % 500, i % 100)
        };
        data.push_str(&format!(
            "{},\"o{i},{note} \"\"gift\"\"\",2024-{:02}-{:02},{amount}\n",
            (i * 7_919) % 20_011,
            1 + i % 12,
            1 + i % 28
        ));
        lines += 1 + u64::from(!note.is_empty());
    }
    let (h1, r1) = read_on(data.as_bytes(), 1);
    let (h2, r2) = read_on(data.as_bytes(), 2);
    assert!(h1 == h2, "histories differ");
    assert_eq!(r1, r2);
    let got: Vec<u64> = r1.iter().map(|i| i.record().line().unwrap()).collect();
    assert_eq!(got, bad_lines);
    assert_eq!(h1.order_count(), 200_000 - 21);
    let customer = h1.find(&((1_000 * 7_919 % 20_011) as u64).into()).unwrap();
    let ids: Vec<String> = customer
        .orders()
        .iter()
        .filter_map(|o| o.order_id)
        .collect();
    assert!(ids.iter().any(|id| id == "o1000,\r\n \"gift\""), "{ids:?}");
}

#[test]
fn line_numbers_in_quoted_files_count_crlf_and_blank_lines() {
    let data = "customer_id,date,amount,order_id\r\n1,2024-01-01,5,\"a\"\r\n\r\n2,2024-01-02,oops,\"b\"\r\n3,2024-01-03,oops,\"c\r\nd\"\r\n4,2024-01-04,oops,e\r\n";
    let (h, report) = read_on(data.as_bytes(), 2);
    assert_eq!(h.order_count(), 1);
    let lines: Vec<_> = report.iter().map(|i| i.record().line().unwrap()).collect();
    assert_eq!(lines, [4, 5, 7]);
}

#[test]
fn an_unterminated_quote_runs_to_the_end_of_the_file() {
    // Small, and past the first block (1 MiB): the open field swallows the
    // rest of the file, so its row has too few fields.
    for rows_before in [1u64, 60_000] {
        let mut data = String::from("customer_id,date,amount\n");
        for i in 0..rows_before {
            data.push_str(&format!("{},2024-01-{:02},{i}.25\n", i % 1_000, 1 + i % 28));
        }
        data.push_str("7,\"2024-02-01,5\n");
        for i in 0..20_000 {
            data.push_str(&format!("{i},2024-03-01,1\n"));
        }
        let mut b = builder();
        let rows = b
            .read_orders_csv(data.as_bytes(), &OrderCsv::new())
            .unwrap();
        assert_eq!(rows as u64, rows_before + 1);
        let (h, report) = b.build().unwrap();
        assert_eq!(h.order_count() as u64, rows_before);
        assert_eq!(report.issues().len(), 1);
        assert_eq!(
            report.issues()[0].to_string(),
            format!(
                "order {} (<reader> line {}): malformed row: expected 3 fields, found 2; record dropped",
                rows_before,
                rows_before + 2
            )
        );
    }
}

#[test]
fn a_quote_or_line_end_is_not_a_delimiter() {
    for delimiter in [b'"', b'\n', b'\r'] {
        let spec = OrderCsv::new().format(CsvFormat::new().delimiter(delimiter));
        let err = builder()
            .read_orders_csv("customer_id,date,amount\n".as_bytes(), &spec)
            .unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::InvalidParameter {
                    name: "delimiter",
                    ..
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn cr_only_line_ends_are_separate_records() {
    // Classic Mac line ends: every row is its own record.
    let data = "customer_id,date,amount\r1,2024-01-05,9.5\r2,2024-01-06,3\r3,2024-01-07,oops\r";
    let mut b = builder();
    assert_eq!(
        b.read_orders_csv(data.as_bytes(), &OrderCsv::new())
            .unwrap(),
        3
    );
    let (h, report) = b.build().unwrap();
    assert_eq!(h.order_count(), 2);
    assert_eq!(report.issues().len(), 1);
    // Lines are numbered by the CR line ends: the bad row is line 4.
    assert_eq!(report.issues()[0].record().line(), Some(4));
}

#[test]
fn a_repeated_header_column_is_an_error() {
    let data = "customer_id,date,amount,amount\n1,2024-01-05,9.5,3\n";
    let err = builder()
        .read_orders_csv(data.as_bytes(), &OrderCsv::new())
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::DuplicateName { name, .. } if name == "amount"),
        "{err}"
    );
    for delimiter in [b'\n', b'\r', b'"'] {
        let err = builder()
            .read_orders_csv(
                "a\n".as_bytes(),
                &OrderCsv::new().format(CsvFormat::new().delimiter(delimiter)),
            )
            .unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "delimiter",
                ..
            }
        ));
    }
}

#[test]
fn ids_and_fields_past_their_limits_reject_the_row_and_issues_quote_little() {
    use churnwise::records::{MAX_FIELD_BYTES, MAX_ID_BYTES};
    let long_id = "x".repeat(MAX_ID_BYTES + 1);
    let ok_id = "y".repeat(MAX_ID_BYTES);
    let long_amount = "9".repeat(MAX_FIELD_BYTES + 1);
    let long_date = "2".repeat(10_000);
    let data = format!(
        "customer_id,date,amount,order_id\n{long_id},2024-01-05,1,a\n{ok_id},2024-01-05,1,b\n1,2024-01-05,{long_amount},c\n1,{long_date},1,d\n1,2024-01-05,1,{long_id}\n"
    );
    let mut b = builder();
    b.read_orders_csv(data.as_bytes(), &OrderCsv::new())
        .unwrap();
    let (h, report) = b.build().unwrap();
    assert_eq!(h.order_count(), 1); // only the id at the limit
    let issues: Vec<(Option<u64>, String)> = report
        .issues()
        .iter()
        .map(|i| (i.record().line(), i.to_string()))
        .collect();
    assert_eq!(
        issues.iter().map(|i| i.0).collect::<Vec<_>>(),
        [Some(2), Some(4), Some(5), Some(6)]
    );
    assert!(
        issues[0]
            .1
            .contains("an id of 257 bytes exceeds the limit of 256"),
        "{issues:?}"
    );
    assert!(issues[1].1.contains("a field of 65537 bytes"), "{issues:?}");
    assert!(issues[2].1.contains("more bytes"), "{issues:?}");
    assert!(issues.iter().all(|i| i.1.len() < 600), "{issues:?}");
}

/// A reader of `header` then `fill` bytes forever, counting what was read.
struct Endless {
    header: Vec<u8>,
    fill: u8,
    read: usize,
}

impl std::io::Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(4096);
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = self.header.get(self.read + k).copied().unwrap_or(self.fill);
        }
        self.read += n;
        Ok(n)
    }
}

#[test]
fn lines_past_the_limit_stop_the_read_after_a_bounded_amount() {
    use churnwise::records::MAX_LINE_BYTES;
    // A header that never ends: reading stops once it passes the limit, so the
    // work is bounded by the limit, whatever the input.
    let mut endless = Endless {
        header: Vec::new(),
        fill: b'h',
        read: 0,
    };
    let err = builder()
        .read_orders_csv(&mut endless, &OrderCsv::new())
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::TooLarge {
            what: "line length in bytes",
            limit: MAX_LINE_BYTES,
            ..
        }
    ));
    assert!(
        err.to_string()
            .starts_with("<reader> line 1: line length in bytes")
    );
    assert!(
        endless.read <= MAX_LINE_BYTES + (64 << 10),
        "{}",
        endless.read
    );
    // A data line that never ends: the same.
    let mut endless = Endless {
        header: b"customer_id,date,amount\n1,2024-01-05,1\n".to_vec(),
        fill: b'7',
        read: 0,
    };
    let err = builder()
        .read_orders_csv(&mut endless, &OrderCsv::new())
        .unwrap_err();
    assert!(
        err.to_string().starts_with("<reader> line 3: line length"),
        "{err}"
    );
    assert!(endless.read <= 4 * MAX_LINE_BYTES, "{}", endless.read);
    // A long line inside a block is refused too.
    let data = format!(
        "customer_id,date,amount\n1,2024-01-05,\"{}\"\n2,2024-01-05,1\n",
        "9".repeat(MAX_LINE_BYTES)
    );
    let err = builder()
        .read_orders_csv(data.as_bytes(), &OrderCsv::new())
        .unwrap_err();
    assert!(
        err.to_string().starts_with("<reader> line 2: line length"),
        "{err}"
    );
    // The missing-column error quotes at most 200 characters of the header.
    let header = (0..10_000)
        .map(|k| format!("c{k}"))
        .collect::<Vec<_>>()
        .join(",");
    let err = builder()
        .read_orders_csv(format!("{header}\n").as_bytes(), &OrderCsv::new())
        .unwrap_err();
    assert!(err.to_string().len() < 400, "{}", err.to_string().len());
}

#[test]
fn interrupted_reads_are_retried() {
    struct Flaky<'a>(&'a [u8], bool);
    impl std::io::Read for Flaky<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.1 = !self.1;
            if self.1 {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(5).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let data = b"customer_id,date,amount\n1,2024-01-05,9.5\n2,2024-01-06,3\n";
    let mut b = builder();
    assert_eq!(
        b.read_orders_csv(Flaky(data, false), &OrderCsv::new())
            .unwrap(),
        2
    );
}

#[test]
fn an_nps_outside_0_to_10_is_cleared_above_or_below_and_the_answer_kept() {
    let data = "customer_id,date,satisfaction,nps\n1,2024-03-01,2,11\n2,2024-03-01,4,-1\n3,2024-03-01,5,300\n4,2024-03-01,3,7\n";
    let mut b = builder();
    b.read_feedback_csv(data.as_bytes(), &FeedbackCsv::new())
        .unwrap();
    let (h, report) = b.build().unwrap();
    assert_eq!(h.feedback_count(), 4); // every satisfaction kept
    assert_eq!(report.repaired(), 3);
    let values: Vec<String> = report.issues().iter().map(|i| i.to_string()).collect();
    assert!(values[1].contains("-1"), "{values:?}");
    let nps: Vec<Option<u8>> = (1..=4u64)
        .map(|id| {
            h.find(&id.into())
                .unwrap()
                .feedback()
                .iter()
                .next()
                .unwrap()
                .nps
        })
        .collect();
    assert_eq!(nps, [None, None, None, Some(7)]);
}

//! Time parsing shared by the builder and the CSV reader.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::util::{MICROS_PER_DAY, to_micros};

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian), by
/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(s: &[u8]) -> Option<i64> {
    let mut n = 0i64;
    for &b in s {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + i64::from(d);
    }
    Some(n)
}

/// `YYYY-MM-DD` at midnight UTC, without going through chrono's general parser
/// (the hot path when reading millions of dated transactions).
fn parse_iso_date(s: &[u8]) -> Option<i64> {
    if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&s[..4])?, digits(&s[5..7])?, digits(&s[8..])?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d) * MICROS_PER_DAY)
}

/// How time fields in text input are read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum TimeFormat {
    /// `YYYY-MM-DD` (midnight UTC), RFC 3339 (`2024-05-01T12:00:00Z`,
    /// `+02:00` offsets converted to UTC), or `YYYY-MM-DD HH:MM:SS[.fff]` /
    /// `YYYY-MM-DDTHH:MM:SS[.fff]` taken as UTC.
    #[default]
    Auto,
    /// A chrono `strftime` format; a date-only format means midnight UTC.
    Custom(String),
}

/// Parses a time field to microseconds since the epoch.
pub(crate) fn parse_time(s: &str, format: &TimeFormat) -> Result<i64, String> {
    let s = s.trim();
    match format {
        TimeFormat::Auto => {
            if let Some(m) = parse_iso_date(s.as_bytes()) {
                return Ok(m);
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Ok(to_micros(t.with_timezone(&Utc)));
            }
            for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
                if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
                    return Ok(to_micros(t.and_utc()));
                }
            }
            let s = crate::util::quote_truncated(s);
            Err(format!(
                "cannot parse {s:?} as a date (YYYY-MM-DD) or timestamp (RFC 3339 or YYYY-MM-DD HH:MM:SS)"
            ))
        }
        TimeFormat::Custom(f) => {
            if let Ok(t) = DateTime::parse_from_str(s, f) {
                return Ok(to_micros(t.with_timezone(&Utc)));
            }
            if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
                return Ok(to_micros(t.and_utc()));
            }
            if let Ok(d) = NaiveDate::parse_from_str(s, f) {
                return Ok(to_micros(d.and_time(chrono::NaiveTime::MIN).and_utc()));
            }
            let s = crate::util::quote_truncated(s);
            Err(format!("cannot parse {s:?} with the format {f:?}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn fast_date_path_matches_chrono() {
        for (y, m, d) in [
            (1970, 1, 1),
            (2024, 2, 29),
            (1900, 3, 1),
            (2199, 12, 31),
            (1969, 12, 31),
        ] {
            let s = format!("{y:04}-{m:02}-{d:02}");
            let want = to_micros(Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap());
            assert_eq!(parse_time(&s, &TimeFormat::Auto), Ok(want), "{s}");
        }
    }

    #[test]
    fn rejects_impossible_dates() {
        for s in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "2024-1-01",
            "24-01-01",
        ] {
            assert!(parse_time(s, &TimeFormat::Auto).is_err(), "{s}");
        }
    }

    #[test]
    fn reads_timestamps_in_several_forms() {
        let want = to_micros(Utc.with_ymd_and_hms(2024, 5, 1, 10, 30, 0).unwrap());
        for s in [
            "2024-05-01T10:30:00Z",
            "2024-05-01T12:30:00+02:00",
            "2024-05-01 10:30:00",
            "2024-05-01T10:30:00.000",
        ] {
            assert_eq!(parse_time(s, &TimeFormat::Auto), Ok(want), "{s}");
        }
        let custom = TimeFormat::Custom("%d/%m/%Y".into());
        assert_eq!(
            parse_time("01/05/2024", &custom),
            Ok(to_micros(
                Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap()
            ))
        );
    }
}

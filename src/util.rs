//! Crate-internal helpers shared by every module: the fast hash map, time
//! conversion and its constants, and the seeded mixer behind reproducible
//! random choices. Nothing here is public; it sits at the bottom of the
//! import graph (it imports no other module of the crate).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

/// A hash map with a fast, seeded hasher (foldhash).
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Seconds in a day.
pub(crate) const SECONDS_PER_DAY: i64 = 86_400;
/// Microseconds in an hour.
pub(crate) const MICROS_PER_HOUR: i64 = 3_600_000_000;
/// Microseconds in a day.
pub(crate) const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Microseconds since the Unix epoch. Every `DateTime<Utc>` fits.
pub(crate) fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The inverse of [`to_micros`]; values outside chrono's range (never produced
/// by the records builder, which validates times) saturate.
pub(crate) fn from_micros(m: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(m).unwrap_or(if m < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// The most characters of input text an error message quotes.
pub(crate) const MAX_QUOTED_CHARS: usize = 200;

/// `text` cut to [`MAX_QUOTED_CHARS`] characters (at a character boundary),
/// followed by `… (N more bytes)` when cut: what error messages quote of
/// input, so that a huge header, field or document never fills a message.
pub(crate) fn quote_truncated(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => std::borrow::Cow::Owned(format!(
            "{}… ({} more bytes)",
            &text[..cut],
            text.len() - cut
        )),
    }
}

/// A number for people to read: as Rust writes it while that stays short
/// (`12.5`, `0.001`), in scientific notation when it would not (`1e308`
/// rather than 309 digits), and never `-0`.
pub(crate) struct Readable(pub(crate) f64);

impl std::fmt::Display for Readable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = if self.0 == 0.0 { 0.0 } else { self.0 };
        let a = v.abs();
        if v.is_finite() && a != 0.0 && !(1e-6..1e15).contains(&a) {
            write!(f, "{v:e}")
        } else {
            write!(f, "{v}")
        }
    }
}

/// An amount of money with two decimals, like `{:.2}` but never `-0.00`
/// and in scientific notation past 10^15 (`1.00e308`).
pub(crate) struct Money(pub(crate) f64);

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        let text = if v.is_finite() && v.abs() >= 1e15 {
            format!("{v:.2e}")
        } else {
            let t = format!("{v:.2}");
            // A tiny negative (or -0) rounds to "-0.00": show it as 0.
            if t == "-0.00" { "0.00".to_owned() } else { t }
        };
        f.pad(&text)
    }
}

/// SplitMix64, the one seeded mixer behind every reproducible random choice
/// in the crate (synthetic populations, cross-validation folds, hold-outs).
/// Implemented here, not taken from a crate, so the same seed gives the same
/// bits in every release.
pub(crate) mod mix {
    /// The SplitMix64 increment (the golden ratio in 64-bit fixed point).
    pub(crate) const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

    /// SplitMix64's output function (Steele, Lea & Flood 2014; the variant of
    /// Vigna's reference `splitmix64.c`): a bijective 64-bit mixer.
    pub(crate) fn mix64(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// One SplitMix64 step: advances `state` and returns the next output.
    pub(crate) fn splitmix64(state: &mut u64) -> u64 {
        *state = state.wrapping_add(GOLDEN_GAMMA);
        mix64(*state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people_are_short_and_never_negative_zero() {
        assert_eq!(Readable(1e308).to_string(), "1e308");
        assert_eq!(Readable(-0.0).to_string(), "0");
        assert_eq!(Readable(12.5).to_string(), "12.5");
        assert_eq!(Readable(1e-9).to_string(), "1e-9");
        assert_eq!(Readable(f64::NAN).to_string(), "NaN");
        assert_eq!(Money(-0.0).to_string(), "0.00");
        assert_eq!(Money(-0.001).to_string(), "0.00");
        assert_eq!(Money(1e308).to_string(), "1.00e308");
        assert_eq!(format!("{:>8}", Money(3.5)), "    3.50");
    }

    #[test]
    fn quoted_text_is_cut_at_a_character_boundary_with_the_rest_counted() {
        assert_eq!(quote_truncated("short"), "short");
        let long = "é".repeat(MAX_QUOTED_CHARS + 10);
        let cut = quote_truncated(&long);
        assert!(cut.starts_with(&"é".repeat(MAX_QUOTED_CHARS)));
        assert!(cut.ends_with("… (20 more bytes)"), "{cut}");
    }

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // splitmix64.c seeded with 1234567: the first outputs.
        let mut s = 1_234_567;
        assert_eq!(mix::splitmix64(&mut s), 6_457_827_717_110_365_317);
        assert_eq!(mix::splitmix64(&mut s), 3_203_168_211_198_807_973);
    }

    #[test]
    fn micros_round_trip_and_saturate() {
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap();
        assert_eq!(from_micros(to_micros(t)), t);
        assert_eq!(from_micros(i64::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(from_micros(i64::MIN), DateTime::<Utc>::MIN_UTC);
        assert_eq!(MICROS_PER_DAY, SECONDS_PER_DAY * 1_000_000);
        assert_eq!(MICROS_PER_DAY, 24 * MICROS_PER_HOUR);
    }
}

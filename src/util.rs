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

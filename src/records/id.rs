//! Customer identifiers that accept both the integer and the string keys real systems use.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A customer's identifier: an integer (`42`) or a string (`"C-000042"`, a UUID).
///
/// A string that is the canonical decimal form of a `u64` (digits only, no
/// leading zero, no sign) is stored as that integer, so `"42"` read from one
/// file and `42` read from another name the same customer:
/// `CustomerId::from("42") == CustomerId::from(42u64)`. Strings such as
/// `"042"` or `"C-42"` stay strings. Cloning is cheap (a copy or a reference
/// count increment). Ids order integers first (numerically), then strings
/// (byte-wise). Serde writes an integer id as a JSON number and a string id as
/// a JSON string.
///
/// # Example
///
/// ```
/// use churnwise::records::CustomerId;
///
/// let a = CustomerId::from("C-000042");
/// let b = CustomerId::from(42u64);
/// assert_eq!(a.as_str(), Some("C-000042"));
/// assert_eq!(b.as_u64(), Some(42));
/// assert_eq!(CustomerId::from("42"), b);
/// assert!(b < a); // integers order before strings
/// assert_eq!(b.to_string(), "42");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerId(Repr);

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Repr {
    Num(u64),
    Str(Arc<str>),
}

impl CustomerId {
    /// The id as an integer, when it is one.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::CustomerId;
    ///
    /// assert_eq!(CustomerId::from("42").as_u64(), Some(42));
    /// assert_eq!(CustomerId::from("C-42").as_u64(), None);
    /// ```
    pub fn as_u64(&self) -> Option<u64> {
        match &self.0 {
            Repr::Num(n) => Some(*n),
            Repr::Str(_) => None,
        }
    }

    /// The id's representation, for exhaustive matching inside the crate.
    pub(crate) fn repr(&self) -> IdRef<'_> {
        match &self.0 {
            Repr::Num(n) => IdRef::Num(*n),
            Repr::Str(s) => IdRef::Str(s),
        }
    }

    /// The id as a string, when it is not an integer.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::CustomerId;
    ///
    /// assert_eq!(CustomerId::from("042").as_str(), Some("042"));
    /// assert_eq!(CustomerId::from(42u64).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Num(_) => None,
            Repr::Str(s) => Some(s),
        }
    }
}

/// A borrowed view of a [`CustomerId`].
pub(crate) enum IdRef<'a> {
    Num(u64),
    Str(&'a str),
}

/// Parses the canonical decimal form of a `u64`: digits only, no leading zero
/// unless the number is `0`, no overflow.
pub(crate) fn parse_canonical_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || (s.len() > 1 && s[0] == b'0') {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

impl From<u64> for CustomerId {
    fn from(n: u64) -> Self {
        CustomerId(Repr::Num(n))
    }
}

impl From<&str> for CustomerId {
    fn from(s: &str) -> Self {
        match parse_canonical_u64(s.as_bytes()) {
            Some(n) => CustomerId(Repr::Num(n)),
            None => CustomerId(Repr::Str(Arc::from(s))),
        }
    }
}

impl From<String> for CustomerId {
    fn from(s: String) -> Self {
        match parse_canonical_u64(s.as_bytes()) {
            Some(n) => CustomerId(Repr::Num(n)),
            None => CustomerId(Repr::Str(Arc::from(s))),
        }
    }
}

impl From<&CustomerId> for CustomerId {
    fn from(id: &CustomerId) -> Self {
        id.clone()
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Num(n) => fmt::Display::fmt(n, f),
            Repr::Str(s) => f.write_str(s),
        }
    }
}

impl fmt::Debug for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Num(n) => write!(f, "CustomerId({n})"),
            Repr::Str(s) => write!(f, "CustomerId({s:?})"),
        }
    }
}

impl Serialize for CustomerId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Num(n) => s.serialize_u64(*n),
            Repr::Str(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for CustomerId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = CustomerId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a customer id: a non-negative integer or a string")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<CustomerId, E> {
                Ok(CustomerId::from(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<CustomerId, E> {
                u64::try_from(v)
                    .map(CustomerId::from)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CustomerId, E> {
                Ok(CustomerId::from(v))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_decimal_strings_become_integers() {
        assert_eq!(CustomerId::from("0").as_u64(), Some(0));
        assert_eq!(
            CustomerId::from("18446744073709551615").as_u64(),
            Some(u64::MAX)
        );
        for s in ["042", "18446744073709551616", "-1", "+1", "", "1 ", "C-1"] {
            assert_eq!(CustomerId::from(s).as_str(), Some(s), "{s:?}");
        }
    }

    #[test]
    fn serde_uses_plain_numbers_and_strings() {
        let ids = vec![CustomerId::from(7u64), CustomerId::from("C-7")];
        let json = serde_json::to_string(&ids).unwrap();
        assert_eq!(json, r#"[7,"C-7"]"#);
        let back: Vec<CustomerId> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ids);
        assert!(serde_json::from_str::<CustomerId>("-3").is_err());
        assert!(serde_json::from_str::<CustomerId>("1.5").is_err());
    }
}

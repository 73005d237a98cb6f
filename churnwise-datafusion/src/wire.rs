//! How churnwise's functions travel inside a serialized plan (Ballista):
//! the function's fitted state as a tagged JSON payload.
//!
//! A payload is `b"CW1"`, then the tag of the function type and a NUL byte,
//! then the JSON of its state. Functions of other crates get no payload and
//! are looked up by name on the receiving side.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::common::{DataFusionError, Result, exec_err};

/// The magic prefix and version of a churnwise payload.
const MAGIC: &[u8] = b"CW1";

/// A churnwise function that carries fitted state and can be rebuilt from it
/// on another process.
pub(crate) trait Portable: Sized {
    /// Identifies the function type in a payload; unique within the crate.
    const TAG: &'static str;
    /// The state the function is rebuilt from (its fitted objects and name).
    fn to_json(&self) -> Result<serde_json::Value>;
    /// Rebuilds the function from [`to_json`](Self::to_json)'s output.
    fn from_json(value: serde_json::Value) -> Result<Self>;
}

/// A function's fitted state as canonical JSON, with its
/// [`fingerprint`]: two functions with equal states are equal (the
/// fingerprints compared first, cheaply), and a state hashes as its
/// fingerprint.
#[derive(Debug, Clone)]
pub(crate) struct State {
    json: Arc<str>,
    fingerprint: u64,
}

impl State {
    pub(crate) fn new(json: String) -> State {
        State {
            fingerprint: fingerprint(json.as_bytes()),
            json: json.into(),
        }
    }

    /// The state as a JSON value.
    pub(crate) fn to_value(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_str(&self.json)
    }
}

impl PartialEq for State {
    fn eq(&self, o: &Self) -> bool {
        self.fingerprint == o.fingerprint && self.json == o.json
    }
}

impl Eq for State {}

impl Hash for State {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.fingerprint.hash(h);
    }
}

/// FNV-1a, 64 bits, of a function's state: what its `Eq` and `Hash` compare
/// first. Stable across processes and releases (unlike `DefaultHasher`).
pub(crate) fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Appends the payload of `f` to `buf`.
pub(crate) fn encode<P: Portable>(f: &P, buf: &mut Vec<u8>) -> Result<()> {
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(P::TAG.as_bytes());
    buf.push(0);
    serde_json::to_writer(&mut *buf, &f.to_json()?)
        .map_err(|e| DataFusionError::External(Box::new(e)))
}

/// The tag and JSON state of a payload, or `None` when `buf` is not a
/// churnwise payload.
pub(crate) fn split(buf: &[u8]) -> Option<(&str, &[u8])> {
    let rest = buf.strip_prefix(MAGIC)?;
    let nul = rest.iter().position(|&b| b == 0)?;
    let tag = std::str::from_utf8(&rest[..nul]).ok()?;
    Some((tag, &rest[nul + 1..]))
}

/// Rebuilds a `P` from the JSON state of a payload whose tag is `P::TAG`.
pub(crate) fn decode<P: Portable>(name: &str, json: &[u8]) -> Result<P> {
    match serde_json::from_slice(json) {
        Ok(value) => P::from_json(value),
        Err(e) => exec_err!("cannot decode the state of churnwise function `{name}`: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_fnv1a() {
        // FNV-1a 64 of "a" (published test vector).
        assert_eq!(fingerprint(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fingerprint(b""), 0xcbf2_9ce4_8422_2325);
    }
}

//! Locations inside a policy document, for error messages.

use std::fmt;

use crate::features::closest_names;
use crate::{Error, ErrorKind};

/// A path such as `rules[2].condition.all[0]`; empty at the top level.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Path(String);

impl Path {
    /// The top of the document.
    pub(crate) fn root() -> Path {
        Path::default()
    }

    /// The member `key` of this object.
    pub(crate) fn key(&self, key: &str) -> Path {
        if self.0.is_empty() {
            Path(key.to_owned())
        } else {
            Path(format!("{}.{key}", self.0))
        }
    }

    /// The element `i` of this list.
    pub(crate) fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }

    /// An [`ErrorKind::InvalidPolicy`] here.
    pub(crate) fn error(&self, reason: impl fmt::Display) -> Error {
        ErrorKind::InvalidPolicy {
            path: self.0.clone(),
            reason: reason.to_string(),
            suggestions: Vec::new(),
        }
        .into()
    }

    /// An [`ErrorKind::InvalidPolicy`] here, with suggested names.
    pub(crate) fn error_with(&self, reason: String, suggestions: Vec<String>) -> Error {
        ErrorKind::InvalidPolicy {
            path: self.0.clone(),
            reason,
            suggestions,
        }
        .into()
    }

    /// An [`ErrorKind::TooLarge`] here (`condition` at the top level).
    pub(crate) fn too_large(&self, what: &'static str, size: usize, limit: usize) -> Error {
        ErrorKind::TooLarge {
            location: if self.0.is_empty() {
                "condition".to_owned()
            } else {
                self.0.clone()
            },
            what,
            size,
            limit,
        }
        .into()
    }

    /// An [`ErrorKind::InvalidPolicy`] for an unknown name, suggesting the closest known ones.
    pub(crate) fn unknown(&self, what: &str, name: &str, known: &[&str]) -> Error {
        ErrorKind::InvalidPolicy {
            path: self.0.clone(),
            reason: format!("unknown {what} `{name}`"),
            suggestions: closest_names(name, known),
        }
        .into()
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

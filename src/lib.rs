//! churnwise: find customers who are about to leave, understand why, warn the
//! right people, choose what to do within a budget, and measure whether it worked.

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![forbid(unsafe_code)]

pub mod error;
pub mod records;
pub mod synth;

pub use error::{Error, ErrorKind, Result};

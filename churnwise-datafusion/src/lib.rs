//! churnwise inside Apache DataFusion and Ballista.
//!
//! (Crate documentation: written by the `dfscalar` helper.)

pub mod aggregate;
#[cfg(feature = "ballista")]
pub mod ballista;
pub mod scalar;
mod wire;

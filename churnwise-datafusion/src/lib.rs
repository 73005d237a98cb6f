//! churnwise inside Apache DataFusion and Ballista.
//!
//! (Crate documentation: written by the `dfscalar` helper.)

pub mod aggregate;
pub mod scalar;
mod wire;

//! Scalar functions (owned by the `dfscalar` helper).

//! Aggregate functions (owned by the `dfagg` helper).

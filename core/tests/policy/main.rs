//! Policy evaluation at issuance: the seed scenario, load-time validation,
//! the step budget, and the algebra checked against `scope` semantics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../common/mod.rs"]
mod common;
#[path = "../lit/mod.rs"]
mod lit;
mod support;

mod algebra;
mod budget;
mod evaluation;
mod validation;

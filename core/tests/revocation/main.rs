//! Revocation by `jti` and the signed revocation list: every refusal with
//! its stable code.
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

mod checks;
mod format;
mod signing;

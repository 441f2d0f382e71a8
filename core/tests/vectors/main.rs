//! External conformance vectors replayed against ed25519-dalek (the primitive
//! captoken is built on) and against captoken's own key, JWS and token layers.
//!
//! The data lives in `/work/shared/vectors` (see its README) and is read in
//! place; `support::vectors_dir` finds it or prints `SKIPPED:`. Every count
//! is pinned so a regression in either direction fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod helpers;
#[path = "../support/mod.rs"]
mod support;

mod ed25519;
mod foreign;
mod rfc;

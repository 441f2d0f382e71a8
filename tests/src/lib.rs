//! Cross-host tests live in `tests/`; this library holds what they and the
//! vector generator share: the conformance cases and the vector format.
// A generator of fixed data and its test harness: a panic is a bug in a
// case, reported where it is.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub mod vectors;

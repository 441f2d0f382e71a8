//! The HTTP gateway end to end: a real server on 127.0.0.1 (in-process, or
//! the `captoken serve` binary for the crash test), driven over TCP by a
//! small HTTP/1.1 client so that malformed and oversized requests can be
//! sent exactly as written.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

mod audit;
mod console;
mod events;
mod granted;
mod grants;
mod hostile;
mod interop;
mod keys;
mod metrics;
mod requests;
mod resilience;
mod revocation;
mod shared;
mod startup;
mod status;
mod tokens;

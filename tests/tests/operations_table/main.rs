//! One table of operations and their expected outcomes, run natively, in
//! wasmtime (raw ABI) and in Node (JS API): every row must give the same
//! outcome and byte-identical responses in all three.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
mod table;

mod hosts;

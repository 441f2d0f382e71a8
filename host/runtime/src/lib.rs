#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod abi;
mod cache;
mod digest;
mod error;
mod inputs;
mod limits;
mod ops;
mod runtime;

pub use cache::ModuleSource;
pub use digest::sha256_hex;
pub use error::HostError;
pub use inputs::{entropy, now};
pub use ops::op;
pub use runtime::{Runtime, RuntimeConfig, Session};

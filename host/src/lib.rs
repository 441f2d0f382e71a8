#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod abi;
pub mod b64;
mod cache;
mod digest;
mod error;
pub mod gateway;
mod inputs;
mod limits;
mod ops;
mod runtime;

pub use cache::ModuleSource;
pub use error::HostError;
pub use inputs::{entropy, now};
pub use ops::op;
pub use runtime::{Runtime, RuntimeConfig};

#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod gateway;

// The runtime the gateway and the CLI are built on, re-exported so their
// callers need one dependency.
pub use captoken_runtime::{
    HostError, ModuleSource, Runtime, RuntimeConfig, Session, entropy, now, op,
};

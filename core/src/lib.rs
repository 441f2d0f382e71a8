#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod audit;
pub mod b64;
pub mod claims;
pub mod codes;
mod constraint;
pub mod delegation;
pub mod entropy;
pub mod error;
pub mod json;
pub mod jws;
pub mod keys;
mod narrowing;
pub mod ops;
mod pattern;
pub mod policy;
pub mod pop;
pub mod refresh;
pub mod replay;
pub mod revocation;
pub mod scope;
pub mod status;
pub mod token;
pub mod zlib;

pub use audit::{AuditChain, AuditError, AuditRecord, EventKind};
pub use claims::{Audience, Capability, Claims, Confirmation, Constraints, TokenRequest};
pub use delegation::{Delegation, DelegationError};
pub use entropy::{Entropy, SliceEntropy};
pub use error::TokenError;
pub use keys::{KeyError, KeySet, TrustedKey};
pub use ops::{OPERATIONS, OpError};
pub use policy::{Decision, Policy, PolicyError, PolicyRequest};
pub use pop::{PopError, PopOptions};
pub use refresh::{RefreshError, RefreshRequest, refresh};
pub use replay::{MemoryReplayGuard, ReplayError, ReplayGuard};
pub use revocation::{RevocationCheck, RevocationError, RevocationList, RevocationListVerifier};
pub use scope::{Context, Request, ScopeError};
pub use token::{IssuedToken, TokenIssuer, UnverifiedToken, VerifiedToken, Verifier};

pub use ed25519_dalek::{SigningKey, VerifyingKey};

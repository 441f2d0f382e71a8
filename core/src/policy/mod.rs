//! Policy evaluation at issuance: what a requester may be granted.
//!
//! A [`Policy`] is an ordered list of allow and deny rules, loaded from a
//! strict JSON document (`docs/POLICY.md`). [`Policy::evaluate`] answers a
//! [`PolicyRequest`] with a [`Decision`]: the requested capabilities
//! narrowed to what the allow rules permit, each rule's required
//! constraints merged into what that rule grants, and the lifetime capped;
//! or a denial with a reason. Deny overrides allow, and nothing is granted
//! by default.
//!
//! All capability arithmetic is [`crate::scope`]'s: a grant is the meet of
//! the request and a rule, so the policy can never grant a pattern or a
//! constraint that `scope` would read more widely than the rule meant.
//!
//! Evaluation is bounded by a step budget, never by a clock: the same
//! request costs the same number of steps on every host, so a large policy
//! or a hostile request ends in `policy_budget_exceeded` instead of running
//! away, and whether it does is reproducible.
//!
//! ```
//! use captoken_core::policy::{DEFAULT_BUDGET, Decision, Policy, PolicyRequest};
//!
//! let policy = Policy::from_json(br#"{"version": 1, "rules": [
//!   {"id": "readers", "effect": "allow", "subjects": {"patterns": ["agent-*"]},
//!    "capabilities": [{"actions": ["read"], "resources": ["doc:*"]}],
//!    "required_constraints": {"pii_access": false}, "max_ttl": 60}]}"#)?;
//! let request = PolicyRequest::from_json(br#"{"subject": {"id": "agent-1"},
//!   "capabilities": [{"actions": ["read", "write"], "resources": ["doc:1"]}],
//!   "ttl": 300}"#)?;
//! let Decision::Granted { capabilities, ttl, narrowed, .. } =
//!     policy.evaluate(&request, DEFAULT_BUDGET)?
//! else {
//!     unreachable!()
//! };
//! assert_eq!(capabilities[0].actions, ["read"]);
//! assert_eq!(capabilities[0].constraints.pii_access, Some(false));
//! assert_eq!((ttl, narrowed), (60, true));
//! # Ok::<(), captoken_core::policy::PolicyError>(())
//! ```

use alloc::borrow::ToOwned;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::json::{Map, Value};

use crate::claims::{self, Capability, ClaimsError, Constraints, MAX_SAFE_INTEGER};
use crate::json::{self, JsonError};
use crate::scope::{self, ScopeError};

/// The policy document version this crate reads and writes.
pub const POLICY_VERSION: u64 = 1;

/// The lifetime cap, in seconds, when a policy sets no `max_ttl`: the
/// seed's five minutes.
pub const DEFAULT_MAX_TTL: u64 = 300;

/// Most rules a policy may hold.
pub const MAX_RULES: usize = 10_000;

/// A budget that evaluates a 1,000-rule policy in which every rule applies
/// and contributes a capability (about nine million steps, nearly all of
/// them normalizing the union of the grants), with room to spare. A step is
/// about one string comparison (`docs/POLICY.md`).
pub const DEFAULT_BUDGET: u64 = 16_000_000;

/// Nesting allowed in a policy or request document (a policy nests six
/// deep: `rules[].capabilities[].constraints.domains[]`).
const MAX_DEPTH: usize = 16;

mod decision;
mod decode;
mod error;
mod evaluate;

pub use decision::*;
use decode::*;
pub use error::*;
pub use evaluate::*;

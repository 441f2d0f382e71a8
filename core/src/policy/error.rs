//! Why a policy or a request was refused, and where (`path`).

use super::*;
use crate::codes::ErrorCode;

// ---------------------------------------------------------------------------
// Errors

/// Why a policy or a policy request was refused, or evaluation stopped.
///
/// A denial is not an error: it is a [`Decision::Denied`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// A document is not a strict JSON object.
    Json {
        /// Which document: `policy` or `request`.
        document: &'static str,
        /// What is wrong with it.
        err: JsonError,
    },
    /// `version` is not a version this crate reads.
    UnsupportedVersion {
        /// The `version` member as JSON text.
        found: String,
    },
    /// A policy member is missing, unknown, of the wrong type or out of range.
    Invalid {
        /// Path of the member, e.g. `rules[3].max_ttl`.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A subject, action, resource or domain pattern in the policy is malformed.
    BadPattern {
        /// Path of the pattern, e.g. `rules[3].capabilities[0].actions[1]`.
        path: String,
        /// The pattern.
        pattern: String,
    },
    /// A constraint kind this version does not understand: refused at load,
    /// so a rule never grants something no verifier can check.
    UnknownConstraint {
        /// Path of the constraint, e.g. `rules[0].required_constraints.max_speed`.
        path: String,
    },
    /// Two rules share an id, so a decision naming it would be ambiguous.
    DuplicateRuleId {
        /// Path of the second use, e.g. `rules[4].id`.
        path: String,
        /// The id.
        id: String,
    },
    /// More rules than [`MAX_RULES`].
    TooManyRules {
        /// How many the policy has.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The request to evaluate is malformed.
    BadRequest {
        /// Path of the member at fault, e.g. `capabilities[0].actions[1]`.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Evaluation needed more steps than its budget allowed.
    BudgetExceeded {
        /// The budget.
        budget: u64,
    },
}

impl PolicyError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            PolicyError::Json { err, .. } => err.error_code(),
            PolicyError::UnsupportedVersion { .. } => ErrorCode::UnsupportedPolicyVersion,
            PolicyError::Invalid { .. } => ErrorCode::BadPolicy,
            PolicyError::BadPattern { .. } => ErrorCode::BadPattern,
            PolicyError::UnknownConstraint { .. } => ErrorCode::UnknownConstraint,
            PolicyError::DuplicateRuleId { .. } => ErrorCode::DuplicateRuleId,
            PolicyError::TooManyRules { .. } => ErrorCode::TooManyRules,
            PolicyError::BadRequest { .. } => ErrorCode::BadRequest,
            PolicyError::BudgetExceeded { .. } => ErrorCode::PolicyBudgetExceeded,
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The JSON path of the member at fault, when there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            PolicyError::Invalid { path, .. }
            | PolicyError::BadPattern { path, .. }
            | PolicyError::UnknownConstraint { path }
            | PolicyError::DuplicateRuleId { path, .. }
            | PolicyError::BadRequest { path, .. } => Some(path),
            PolicyError::UnsupportedVersion { .. } => Some("version"),
            PolicyError::TooManyRules { .. } => Some("rules"),
            PolicyError::Json { .. } | PolicyError::BudgetExceeded { .. } => None,
        }
    }

    /// The same fault, reported against a request rather than a policy:
    /// requests share the capability checks, but their faults are the
    /// caller's, so they carry one code.
    pub(super) fn in_request(self) -> PolicyError {
        let reason = match &self {
            PolicyError::Invalid { reason, .. } | PolicyError::BadRequest { reason, .. } => {
                reason.clone()
            }
            PolicyError::BadPattern { pattern, .. } => {
                format!("`{pattern}` is not a valid pattern")
            }
            PolicyError::UnknownConstraint { .. } => {
                "is a constraint kind this version does not understand".into()
            }
            other => return other.clone(),
        };
        PolicyError::BadRequest {
            path: self.path().unwrap_or_default().to_owned(),
            reason,
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Json { document, err } => write!(f, "{document}: {err}"),
            PolicyError::UnsupportedVersion { found } => {
                write!(f, "unsupported policy version `{found}`")
            }
            PolicyError::Invalid { path, reason } => write!(f, "policy `{path}`: {reason}"),
            PolicyError::BadPattern { path, pattern } => {
                write!(f, "policy `{path}`: `{pattern}` is not a valid pattern")
            }
            PolicyError::UnknownConstraint { path } => write!(
                f,
                "policy `{path}` is a constraint kind this version does not understand"
            ),
            PolicyError::DuplicateRuleId { path, id } => {
                write!(f, "policy `{path}`: rule id `{id}` is already used")
            }
            PolicyError::TooManyRules { count, limit } => {
                write!(
                    f,
                    "policy has {count} rules, more than the limit of {limit}"
                )
            }
            PolicyError::BadRequest { path, reason } => write!(f, "request `{path}`: {reason}"),
            PolicyError::BudgetExceeded { budget } => {
                write!(
                    f,
                    "policy evaluation needs more than its budget of {budget} steps"
                )
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PolicyError {}

// ---------------------------------------------------------------------------
// Paths

/// `path.key`, or `path["key"]` when the key would make a dotted path
/// ambiguous (it contains `.`, `[`, spaces…).
pub(super) fn member(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    match (plain, path.is_empty()) {
        (true, true) => key.to_owned(),
        (true, false) => format!("{path}.{key}"),
        (false, _) => format!("{path}[{}]", Value::String(key.to_owned())),
    }
}

pub(super) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Re-root a path that `scope` or `claims` reported under `from` (they name
/// a token's `caps`) at `to`, where the capabilities sit in this document.
pub(super) fn rebase(path: &str, from: &str, to: &str) -> String {
    match path.strip_prefix(from) {
        Some(rest) => format!("{to}{rest}"),
        None => to.to_owned(),
    }
}

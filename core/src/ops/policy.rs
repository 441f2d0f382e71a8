//! Policy: check, evaluate, explain.

use alloc::format;
use alloc::vec::Vec;

use crate::json::{Value, object};

use super::OpError;
use super::fields::{Fields, respond};
use crate::policy::{self, Policy, PolicyRequest};

/// The most evaluation steps a caller may grant one policy call; the host's
/// fuel limit is the outer bound in any case.
const MAX_POLICY_BUDGET: u64 = 4 * policy::DEFAULT_BUDGET;

pub(super) fn policy_check(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "policy_check")?;
    let doc = f.value("policy")?;
    f.done()?;
    let policy = Policy::from_value(&doc)?;
    respond(&object! {
        "valid" => true,
        "rules" => policy.rules().len(),
        "max_ttl" => policy.max_ttl(),
        "policy" => policy.to_json(),
    })
}

/// The optional `budget` member: policy evaluation steps, bounded.
pub(super) fn read_budget(f: &mut Fields) -> Result<u64, OpError> {
    match f.opt("budget")? {
        None => Ok(policy::DEFAULT_BUDGET),
        Some(v) => v
            .as_u64()
            .filter(|b| *b <= MAX_POLICY_BUDGET)
            .ok_or_else(|| {
                OpError::BadRequest(format!(
                    "`budget` must be an integer no larger than {MAX_POLICY_BUDGET}"
                ))
            }),
    }
}

/// The policy, the request and the step budget of an evaluate/explain call.
fn policy_args(op: &str, request: &[u8]) -> Result<(Policy, PolicyRequest, u64), OpError> {
    let mut f = Fields::parse(request, op)?;
    let doc = f.value("policy")?;
    let req = f.value("request")?;
    let budget = read_budget(&mut f)?;
    f.done()?;
    Ok((
        Policy::from_value(&doc)?,
        PolicyRequest::from_value(&req)?,
        budget,
    ))
}

pub(super) fn policy_evaluate(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let (policy, req, budget) = policy_args("policy_evaluate", request)?;
    respond(&Value::Object(policy.evaluate(&req, budget)?.to_json()))
}

pub(super) fn policy_explain(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let (policy, req, budget) = policy_args("policy_explain", request)?;
    respond(&Value::Object(policy.explain(&req, budget)?.to_json()))
}

//! `issue`: claims from flags, a token from the module.

use serde_json::{Map, Value, json};

use super::fail::CliError;
use super::files::{inline_or_file, read_json};
use super::keys::public_jwk;
use super::{IssueArgs, print_json, print_line};

pub(crate) fn issue(args: &IssueArgs) -> Result<(), CliError> {
    let key = read_json(&args.key)?;
    let claims = claims(args)?;
    let response = super::runtime()?.issue_now(&key, &args.issuer, args.ttl, &claims)?;
    if args.json {
        return print_json(&response);
    }
    match response.get("token").and_then(Value::as_str) {
        Some(token) => print_line(token),
        None => print_json(&response),
    }
}

/// The claims the module signs, built from the flags.
fn claims(args: &IssueArgs) -> Result<Value, CliError> {
    let caps = capabilities(&args.caps, args.constraints.as_deref())?;

    let mut claims = json!({
        "sub": args.sub,
        "aud": args.aud,
        "cnf": { "jwk": holder_jwk(&args.holder)? },
        "caps": caps,
    });
    if let (Some(plan_id), Value::Object(members)) = (&args.plan_id, &mut claims) {
        members.insert("plan_id".to_owned(), Value::String(plan_id.clone()));
    }
    Ok(claims)
}

/// The `--cap` flags as capabilities, each carrying the `--constraints`
/// object when one is given.
pub(crate) fn capabilities(
    caps: &[String],
    constraints: Option<&str>,
) -> Result<Vec<Value>, CliError> {
    let constraints = constraints
        .map(|text| {
            serde_json::from_str::<Map<String, Value>>(text).map_err(|err| {
                CliError::usage(
                    "bad_constraints",
                    format!("`--constraints` must be a json object: {err}"),
                )
            })
        })
        .transpose()?;
    caps.iter()
        .map(|cap| capability(cap, constraints.as_ref()))
        .collect()
}

/// `drive,stop@robot:7,robot:8` as a capability: actions before the first
/// `@`, resources after it (a resource may itself contain `@`).
fn capability(cap: &str, constraints: Option<&Map<String, Value>>) -> Result<Value, CliError> {
    let bad = |why: &str| {
        CliError::usage(
            "bad_cap",
            format!("`--cap {cap}` {why}; expected `ACTION[,ACTION]@RESOURCE[,RESOURCE]`"),
        )
    };
    let (actions, resources) = cap.split_once('@').ok_or_else(|| bad("has no `@`"))?;
    let actions = list(actions).ok_or_else(|| bad("has an empty action"))?;
    let resources = list(resources).ok_or_else(|| bad("has an empty resource"))?;
    let mut capability = json!({ "actions": actions, "resources": resources });
    if let (Some(constraints), Value::Object(members)) = (constraints, &mut capability) {
        members.insert("constraints".to_owned(), Value::Object(constraints.clone()));
    }
    Ok(capability)
}

/// A comma-separated list, or `None` if any item is empty.
fn list(items: &str) -> Option<Vec<&str>> {
    items
        .split(',')
        .map(str::trim)
        .map(|item| (!item.is_empty()).then_some(item))
        .collect()
}

/// The holder's public JWK from a JWK, a one-key JWKS, or a private JWK
/// (whose private part is dropped, never embedded in a token).
pub(crate) fn holder_jwk(arg: &str) -> Result<Value, CliError> {
    let value = inline_or_file(arg)?;
    let jwk = match value
        .get("keys")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([only]) => only,
        Some(_) => {
            return Err(CliError::usage(
                "bad_jwk",
                "`--holder` key set must hold exactly one key",
            ));
        }
        None => &value,
    };
    public_jwk(jwk, "`--holder`")
}

//! `delegate`: a holder mints a narrower child of its token for someone else.

use std::path::PathBuf;

use captoken_core::b64;
use captoken_host::{entropy, now};
use clap::Args;
use serde_json::{Value, json};

use super::fail::CliError;
use super::files::{arg_or_stdin, read_json};
use super::issue::{capabilities, holder_jwk};
use super::keys::read_jwks;
use super::{print_json, print_line};

/// Entropy bytes for the child's `jti` (the module needs at least 16).
const ENTROPY_BYTES: usize = 32;

#[derive(Debug, Args)]
pub(crate) struct DelegateArgs {
    /// The parent token (or chain, `child~parent~…`) you hold, or `-` to
    /// read it from stdin
    #[arg(long, value_name = "TOKEN")]
    parent: String,
    /// Your private JWK: the key the parent token is bound to (its `cnf`)
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The issuer's public JWKS, to verify the parent before delegating
    #[arg(long, value_name = "FILE")]
    jwks: PathBuf,
    /// The issuer the parent must come from
    #[arg(long, value_name = "ISS")]
    issuer: String,
    /// The audience the parent is verified for, and the child's `aud`
    #[arg(long, value_name = "AUD")]
    aud: String,
    /// The delegate: the child's subject (`sub`)
    #[arg(long, value_name = "SUB")]
    sub: String,
    /// The delegate's JWK (file or inline JSON); the child is bound to it
    /// and only its public part is used
    #[arg(long, value_name = "JWK")]
    holder: String,
    /// A capability, `ACTION[,ACTION]@RESOURCE[,RESOURCE]`; repeatable.
    /// Each must be covered by one of the parent's
    #[arg(long = "cap", value_name = "CAP", required = true)]
    caps: Vec<String>,
    /// A JSON object of constraints, attached to every `--cap`
    #[arg(long, value_name = "JSON")]
    constraints: Option<String>,
    /// Lifetime in seconds (never past the parent's expiry)
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    ttl: u64,
    /// Print the module's whole response (token, jti, id, depth, exp, audit)
    #[arg(long)]
    json: bool,
}

pub(crate) fn delegate(args: &DelegateArgs) -> Result<(), CliError> {
    let parent = arg_or_stdin(&args.parent)?;
    let key = read_json(&args.key)?;
    let keys = read_jwks(&args.jwks)?;
    let caps = capabilities(&args.caps, args.constraints.as_deref())?;
    let claims = json!({
        "sub": args.sub,
        "aud": args.aud,
        "cnf": { "jwk": holder_jwk(&args.holder)? },
        "caps": caps,
    });
    let runtime = super::runtime()?;
    let op = runtime.op_id("delegate")?;
    let response = runtime.call_json(
        op,
        &json!({
            "parent": parent,
            "jwks": keys,
            "issuer": args.issuer,
            "audience": args.aud,
            "now": now(),
            "key": key,
            "ttl": args.ttl,
            "entropy": b64::encode(&entropy::<ENTROPY_BYTES>()?),
            "claims": claims,
        }),
    )?;
    if args.json {
        return print_json(&response);
    }
    match response.get("token").and_then(Value::as_str) {
        Some(token) => print_line(token),
        None => print_json(&response),
    }
}

//! `keygen` and `jwks`: key files in, public key sets out.

use std::io::Write;
use std::path::Path;

use captoken_host::{HostError, Runtime, entropy, now};
use serde_json::{Value, json};

use super::fail::CliError;
use super::files::{read_json, write_secret};
use super::{print_json, print_line};

/// A fresh key pair: the private JWK goes to `out`, never to the terminal.
pub(crate) fn keygen(runtime: &Runtime, out: &Path, force: bool) -> Result<(), CliError> {
    let pair = runtime.keygen(entropy::<32>()?)?;
    let private_jwk = field(&pair, "private_jwk")?;
    let kid = field(&pair, "kid")?.as_str().unwrap_or_default();
    let private_text = serde_json::to_string_pretty(private_jwk).map_err(bad_response)?;
    write_secret(out, &(private_text + "\n"), force)?;
    // stdout carries only the JWKS, so it can be redirected into a file.
    // A closed stderr must not stop the command after the key is written.
    let _ = writeln!(
        std::io::stderr(),
        "kid: {kid}\nprivate key written to `{}`",
        out.display()
    );
    print_json(&jwks(field(&pair, "public_jwk")?))
}

/// `keygen --rotate`: a new signing key for a gateway's key directory.
pub(crate) fn rotate(runtime: &Runtime, key_dir: &Path, retire_after: u64) -> Result<(), CliError> {
    let done = captoken_host::gateway::rotate_signing_key(runtime, key_dir, retire_after, now())
        .map_err(|err| match err {
            captoken_host::gateway::GatewayError::Host(err) => CliError::Host(err),
            other => CliError::setup(other.code(), other.to_string()),
        })?;
    let retired = if retire_after == 0 {
        "no longer trusted".to_owned()
    } else {
        format!("verifies until {}", done.retired_until)
    };
    print_line(&format!(
        "new signing key {}\nretired key     {} ({retired})",
        done.kid, done.retired_kid
    ))?;
    for kid in &done.dropped {
        print_line(&format!("dropped         {kid} (its window had closed)"))?;
    }
    print_line("send the gateway SIGHUP (kill -HUP <pid>) to sign with the new key")
}

/// The public key set of a private key file.
pub(crate) fn jwks_of_file(key: &Path) -> Result<(), CliError> {
    let jwk = read_json(key)?;
    print_json(&jwks(&public_jwk(&jwk, &format!("`{}`", key.display()))?))
}

/// The public half of a JWK: the JWK without its private member `d`.
///
/// A private key is never meant to leave its file, so anything that puts a
/// key into a token or a key set goes through here.
pub(crate) fn public_jwk(jwk: &Value, origin: &str) -> Result<Value, CliError> {
    let Value::Object(members) = jwk else {
        return Err(CliError::usage(
            "bad_jwk",
            format!("{origin} is not a json object"),
        ));
    };
    let mut public = members.clone();
    public.remove("d");
    Ok(Value::Object(public))
}

/// `{"keys": [jwk]}`.
pub(crate) fn jwks(public_jwk: &Value) -> Value {
    json!({ "keys": [public_jwk] })
}

/// The trusted key set in `path`: a JWKS, or a lone public JWK, accepted as
/// the one-key set it stands for.
pub(crate) fn read_jwks(path: &Path) -> Result<Value, CliError> {
    let keys = read_json(path)?;
    Ok(if keys.get("keys").is_none() && keys.get("kty").is_some() {
        jwks(&keys)
    } else {
        keys
    })
}

/// A member the module promised in its response.
pub(crate) fn field<'a>(response: &'a Value, name: &str) -> Result<&'a Value, CliError> {
    response.get(name).ok_or_else(|| {
        CliError::Host(HostError::GuestBadResponse {
            reason: format!("response has no `{name}`"),
        })
    })
}

fn bad_response(err: serde_json::Error) -> CliError {
    CliError::Host(HostError::GuestBadResponse {
        reason: err.to_string(),
    })
}

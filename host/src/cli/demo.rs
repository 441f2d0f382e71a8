//! `demo`: the whole life of a token, in memory, narrated.

use captoken_host::{HostError, Runtime, entropy, now};
use serde_json::{Value, json};

use super::fail::CliError;
use super::keys::{field, jwks};
use super::print_line;

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "robot-gateway";

pub(crate) fn demo(runtime: &Runtime) -> Result<(), CliError> {
    print_line(&format!("module sha-256  {}", runtime.module_sha256()))?;

    let issuer = runtime.keygen(entropy::<32>()?)?;
    let holder = runtime.keygen(entropy::<32>()?)?;
    print_line("\n1. keygen (seeds from the host's getrandom, keys made in the module)")?;
    print_line(&format!("   issuer kid   {}", text(field(&issuer, "kid")?)))?;
    print_line(&format!("   holder kid   {}", text(field(&holder, "kid")?)))?;

    let claims = json!({
        "sub": "agent:planner",
        "aud": AUDIENCE,
        "cnf": { "jwk": field(&holder, "public_jwk")? },
        "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }],
    });
    let issued = runtime.issue_now(field(&issuer, "private_jwk")?, ISSUER, 300, &claims)?;
    let token = text(field(&issued, "token")?);
    print_line("\n2. issue `drive@robot:7` to the holder, valid 300 s")?;
    print_line(&format!("   token        {token}"))?;

    let issuer_keys = jwks(field(&issuer, "public_jwk")?);
    let request = |audience: &str| {
        json!({
            "token": token,
            "jwks": issuer_keys,
            "issuer": ISSUER,
            "audience": audience,
            "now": now(),
        })
    };
    let verified = runtime.verify(&request(AUDIENCE))?;
    let pretty = serde_json::to_string_pretty(field(&verified, "claims")?).unwrap_or_default();
    print_line(&format!(
        "\n3. verify for audience `{AUDIENCE}`: accepted, claims"
    ))?;
    for line in pretty.lines() {
        print_line(&format!("   {line}"))?;
    }

    print_line("\n4. verify for audience `elsewhere`: must be rejected")?;
    match runtime.verify(&request("elsewhere")) {
        Err(HostError::Op { code, message, .. }) => {
            print_line(&format!("   rejected     {code}: {message}"))?;
            Ok(())
        }
        Err(err) => Err(err.into()),
        Ok(_) => Err(CliError::Host(HostError::GuestBadResponse {
            reason: "a token for another audience was accepted".to_owned(),
        })),
    }
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

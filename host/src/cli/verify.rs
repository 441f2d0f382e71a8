//! `verify`: a token and a key set in, verified header and claims out.

use captoken_host::{Runtime, now};
use serde_json::{Value, json};

use super::fail::CliError;
use super::files::{arg_or_stdin, read_json};
use super::keys::jwks;
use super::{VerifyArgs, print_json};

pub(crate) fn verify(args: &VerifyArgs) -> Result<(), CliError> {
    let token = arg_or_stdin(&args.token)?;
    let keys = read_json(&args.jwks)?;
    // A lone public JWK is accepted as the one-key set it stands for.
    let keys = if keys.get("keys").is_none() && keys.get("kty").is_some() {
        jwks(&keys)
    } else {
        keys
    };
    let runtime = Runtime::embedded()?;
    // The clock is read after the module is loaded, right before it is used.
    let mut request = json!({
        "token": token,
        "jwks": keys,
        "issuer": args.issuer,
        "audience": args.aud,
        "now": now(),
    });
    if let (Some(leeway), Value::Object(members)) = (args.leeway, &mut request) {
        members.insert("leeway".to_owned(), Value::from(leeway));
    }
    print_json(&runtime.verify(&request)?)
}

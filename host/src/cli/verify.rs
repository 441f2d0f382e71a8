//! `verify`: a token and a key set in, verified header and claims out.

use captoken_host::now;
use serde_json::{Value, json};

use super::fail::CliError;
use super::files::arg_or_stdin;
use super::keys::read_jwks;
use super::{VerifyArgs, print_json};

pub(crate) fn verify(args: &VerifyArgs) -> Result<(), CliError> {
    let token = arg_or_stdin(&args.token)?;
    let keys = read_jwks(&args.jwks)?;
    let runtime = super::runtime()?;
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

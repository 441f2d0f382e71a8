//! The compact JWS and delegation-chain parser and the verifier behind it,
//! through `verify` and `authorize` as every host calls them. Half the runs
//! mutate a valid token's text in place, so the signature and claims
//! checks are reached, not only the framing.
#![no_main]

use std::sync::OnceLock;

use captoken_core::jws::Limits;
use captoken_core::token::UnverifiedToken;
use captoken_fuzz::{call_checked, text, token, trust};
use libfuzzer_sys::fuzz_target;

fn valid() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(token)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let presented = if mode & 1 == 1 {
        // Overwrite the valid token with the input from a position the
        // first byte picks.
        let base = valid().as_bytes();
        let at = (usize::from(mode >> 1) * base.len() / 128).min(base.len());
        let mut spliced = base[..at].to_vec();
        spliced.extend_from_slice(rest);
        spliced.extend_from_slice(&base[(at + rest.len()).min(base.len())..]);
        spliced
    } else {
        rest.to_vec()
    };
    let text_value = text(&presented);
    if let Some(t) = text_value.as_str() {
        let _ = UnverifiedToken::parse(t, &Limits::default());
    }
    let mut request = trust();
    request.insert("token".into(), text_value);
    let verified = call_checked("verify", &request.clone().into());
    let mut authorize = request;
    authorize.insert(
        "request".into(),
        captoken_fuzz::doc(
            r#"{"action": "drive", "resource": "robot:7", "context": {"purchase_amount": 5}}"#,
        ),
    );
    let authorized = call_checked("authorize", &authorize.into());
    // What verifies is one of the seeds (nothing else is signed): its
    // authorization is decided by its scope, never refused as a token.
    if verified.is_ok() {
        assert!(
            authorized.is_ok() || authorized.as_ref().is_err_and(|code| code == "not_granted"),
            "verified but refused as a token: {authorized:?}"
        );
    } else {
        assert!(authorized.is_err(), "authorized what does not verify");
    }
});

//! Shared by every module: a sample list, signing it, its verdict as a code,
//! and raw headers and payloads to sign after an edit.

use captoken_core::b64;
use captoken_core::json::{Map, Value};
use captoken_core::keys;
use captoken_core::revocation::{
    CheckedList, RevocationError, RevocationList, RevocationListIssuer, RevokedEntry,
    VerifiedRevocationList, verify_list,
};

use super::common::*;
use super::lit::json;

pub(crate) const NEXT: i64 = NOW + 3600;

pub(crate) fn jti(n: u8) -> String {
    b64::encode(&[n; 16])
}

pub(crate) fn list(seq: u64) -> RevocationList {
    RevocationList::new(ISS, seq, NOW, NEXT)
        .revoke(RevokedEntry::new(jti(3), NOW - 10).reason("key compromise"))
        .revoke(RevokedEntry::new(jti(1), NOW - 30))
        .revoke(RevokedEntry::new(jti(2), NOW - 20).reason("operator left"))
}

pub(crate) fn sign(list: &RevocationList) -> String {
    RevocationListIssuer::new(&issuer_key()).sign(list).unwrap()
}

pub(crate) fn code(result: Result<CheckedList, RevocationError>) -> &'static str {
    match result {
        Ok(CheckedList::Fresh(_)) => "fresh",
        Ok(CheckedList::Stale { .. }) => "stale",
        Err(e) => e.code(),
    }
}

pub(crate) fn verify_code(text: &str) -> &'static str {
    code(verify_list(text, &keyset(), NOW, None))
}

pub(crate) fn fresh(result: Result<CheckedList, RevocationError>) -> VerifiedRevocationList {
    match result.unwrap() {
        CheckedList::Fresh(list) => list,
        other => panic!("expected a fresh list, got {other:?}"),
    }
}

pub(crate) fn list_header() -> Value {
    json!({ "alg": "EdDSA", "typ": "captoken-rl+jwt", "kid": keys::thumbprint(&issuer_key().verifying_key()) })
}

pub(crate) fn list_payload() -> Value {
    json!({
        "ver": 1, "iss": ISS, "seq": 7, "iat": NOW, "next_update": NEXT,
        "revoked": [
            { "jti": jti(1), "revoked_at": NOW - 30 },
            { "jti": jti(2), "revoked_at": NOW - 20, "reason": "operator left" },
        ],
    })
}

pub(crate) fn with_payload(f: impl FnOnce(&mut Map)) -> String {
    let mut p = list_payload();
    f(p.as_object_mut().unwrap());
    sign_values(&list_header(), &p)
}

pub(crate) fn with_entry(f: impl FnOnce(&mut Map)) -> String {
    with_payload(|p| f(p["revoked"][1].as_object_mut().unwrap()))
}

pub(crate) fn with_header(f: impl FnOnce(&mut Map)) -> String {
    let mut h = list_header();
    f(h.as_object_mut().unwrap());
    sign_values(&h, &list_payload())
}

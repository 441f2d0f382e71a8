//! Property tests: whatever is issued verifies to the same claims, and any
//! change to a token's bytes is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use captoken_core::{SliceEntropy, TokenIssuer, TokenRequest};
use common::*;
use proptest::prelude::*;
mod lit;
use captoken_core::json::{Map, Value};
use lit::json;

fn ident() -> impl Strategy<Value = String> {
    // A `*` may only end a pattern.
    "[a-zA-Z0-9:._/-]{1,23}\\*?"
}

fn extra_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        (0i64..1_000_000).prop_map(Value::from),
        "\\PC{0,16}".prop_map(Value::from),
        prop::collection::vec("[a-z]{0,5}", 0..4).prop_map(|v| json!(v)),
    ]
}

fn request_strategy() -> impl Strategy<Value = Value> {
    (
        ident(),
        prop::collection::vec(ident(), 1..3),
        prop::collection::vec((prop::collection::vec(ident(), 1..4), prop::collection::vec(ident(), 1..4), proptest::option::of(0u64..1_000_000), proptest::option::of(any::<bool>()), proptest::option::of(prop::collection::vec(ident(), 0..3))), 1..4),
        proptest::option::of(ident()),
        prop::collection::btree_map("x_[a-z]{1,8}", extra_value(), 0..4),
    )
        .prop_map(|(sub, aud, caps, plan, extra)| {
            let caps: Vec<Value> = caps
                .into_iter()
                .map(|(actions, resources, max_purchase, pii, rooms)| {
                    let mut constraints = Map::new();
                    if let Some(m) = max_purchase {
                        constraints.insert("max_purchase".into(), m.into());
                    }
                    if let Some(p) = pii {
                        constraints.insert("pii_access".into(), p.into());
                    }
                    if let Some(r) = rooms {
                        constraints.insert("rooms".into(), json!(r));
                    }
                    json!({ "actions": actions, "resources": resources, "constraints": constraints })
                })
                .collect();
            let mut req = json!({
                "sub": sub,
                "aud": aud,
                "cnf": { "jwk": captoken_core::keys::public_jwk(&holder_key().verifying_key()) },
                "caps": caps,
            });
            if let Some(p) = plan {
                req["plan_id"] = p.into();
            }
            for (k, v) in extra {
                req[k.as_str()] = v;
            }
            req
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn issued_tokens_verify_to_the_requested_claims(req in request_strategy(), ttl in 1u64..100_000, jti in any::<[u8; 16]>()) {
        let mut req = req;
        req["aud"] = json!([AUD, "other"]);
        let request = TokenRequest::from_json(req.as_object().unwrap().clone()).unwrap();
        let issued = TokenIssuer::new(&issuer_key(), ISS).issue(request.clone(), NOW, ttl, &mut SliceEntropy::new(&jti)).unwrap();
        let keys = keyset();
        let verified = verifier(&keys).verify(&issued.token, NOW).unwrap();
        prop_assert_eq!(&verified.claims().request, &request);
        prop_assert_eq!(verified.claims(), &issued.claims);
        prop_assert_eq!(verified.claims().exp, NOW + ttl as i64);
        // Serialization is canonical: re-encoding the verified claims gives
        // the signed payload back byte for byte.
        let payload = issued.token.split('.').nth(1).unwrap();
        prop_assert_eq!(captoken_core::b64::decode(payload.as_bytes()).unwrap(), captoken_core::token::claims_json(&verified));
    }

    #[test]
    fn any_single_byte_change_is_refused(pos in any::<prop::sample::Index>(), byte in 0x20u8..0x7f) {
        let token = issue_at(NOW, 300);
        let mut bytes = token.clone().into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let mutated = String::from_utf8(bytes).unwrap();
        prop_assert_ne!(code_of(&mutated), "ok", "mutation at {} accepted", i);
    }
}

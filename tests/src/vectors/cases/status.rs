//! Status lists and the `status` claim: signing, checking, and verify
//! with a token's place in a list.

use serde_json::{Value, json};

use super::super::build::*;

const STATUS_URI: &str = "https://gateway.example/v1/status-lists/0";

/// The cases, over the root token's issue request and the signed
/// revocation lists (one naming the root, one empty).
pub(super) fn rows(issue: &Value, rl_root: &Value, rl_empty: &Value) -> Vec<Row> {
    // A status list of 4096 tokens, 3 of them revoked.
    let status_list = ok(
        "status_list_sign",
        &json!({ "key": keygen(1)["private_jwk"], "list": { "iss": ISS, "sub": STATUS_URI, "iat": NOW - 10, "exp": NOW + 100, "ttl": 60, "size": 4096, "revoked": [0, 9, 4095] } }),
    )["list"]
        .clone();
    let status_verify = |idx: u64| json!({ "list": status_list, "jwks": { "keys": [keygen(1)["public_jwk"]] }, "issuer": ISS, "uri": STATUS_URI, "now": NOW, "idx": idx });
    // Tokens that name their place in that list: 9 (revoked) and 10.
    let placed = |idx: u64| {
        let claims = with(
            claims(2, drive7()),
            "status",
            json!({ "status_list": { "idx": idx, "uri": STATUS_URI } }),
        );
        ok("issue", &with(issue.clone(), "claims", claims))["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (placed_revoked, placed_valid) = (placed(9), placed(10));
    let with_status = |tok: &str| with(trust(tok), "status_list", status_list.clone());
    vec![
        Row {
            name: "status_list_sign",
            op: "status_list_sign",
            request: json!({ "key": keygen(1)["private_jwk"], "list": { "iss": ISS, "sub": STATUS_URI, "iat": NOW, "exp": NOW + 60, "size": 16, "revoked": [3, 15] } }),
            expect: "ok",
        },
        Row {
            name: "status_list_sign index past the end",
            op: "status_list_sign",
            request: json!({ "key": keygen(1)["private_jwk"], "list": { "iss": ISS, "sub": STATUS_URI, "iat": NOW, "exp": NOW + 60, "size": 16, "revoked": [16] } }),
            expect: "status_index_out_of_range",
        },
        Row {
            name: "status_list_sign no token",
            op: "status_list_sign",
            request: json!({ "key": keygen(1)["private_jwk"], "list": { "iss": ISS, "sub": STATUS_URI, "iat": NOW, "exp": NOW + 60, "size": 0, "revoked": [] } }),
            expect: "bad_status_list",
        },
        Row {
            name: "status_list_sign exp not after iat",
            op: "status_list_sign",
            request: json!({ "key": keygen(1)["private_jwk"], "list": { "iss": ISS, "sub": STATUS_URI, "iat": NOW, "exp": NOW, "size": 8, "revoked": [] } }),
            expect: "bad_status_list",
        },
        Row {
            name: "status_list_verify a revoked token",
            op: "status_list_verify",
            request: status_verify(9),
            expect: "ok",
        },
        Row {
            name: "status_list_verify a valid token",
            op: "status_list_verify",
            request: status_verify(10),
            expect: "ok",
        },
        Row {
            name: "status_list_verify stale is an outcome",
            op: "status_list_verify",
            request: with(status_verify(4095), "now", json!(NOW + 100)),
            expect: "ok",
        },
        Row {
            name: "status_list_verify index past the end",
            op: "status_list_verify",
            request: status_verify(4096),
            expect: "status_index_out_of_range",
        },
        Row {
            name: "status_list_verify another list",
            op: "status_list_verify",
            request: with(
                status_verify(0),
                "uri",
                json!("https://gateway.example/v1/status-lists/1"),
            ),
            expect: "wrong_status_list",
        },
        Row {
            name: "status_list_verify a revocation list is not one",
            op: "status_list_verify",
            request: with(status_verify(0), "list", rl_root.clone()),
            expect: "bad_typ",
        },
        Row {
            name: "status_list_verify untrusted key",
            op: "status_list_verify",
            request: with(
                status_verify(0),
                "jwks",
                json!({ "keys": [keygen(3)["public_jwk"]] }),
            ),
            expect: "unknown_kid",
        },
        Row {
            name: "issue with a place in a status list",
            op: "issue",
            request: with(
                issue.clone(),
                "claims",
                with(claims(2, drive7()), "status", json!({ "status_list": { "idx": 10, "uri": STATUS_URI } })),
            ),
            expect: "ok",
        },
        Row {
            name: "issue with a malformed status",
            op: "issue",
            request: with(
                issue.clone(),
                "claims",
                with(claims(2, drive7()), "status", json!({ "status_list": { "idx": -1, "uri": STATUS_URI } })),
            ),
            expect: "bad_claims",
        },
        Row {
            name: "verify a token its status list revokes",
            op: "verify",
            request: with_status(&placed_revoked),
            expect: "revoked",
        },
        Row {
            name: "verify a token its status list does not revoke",
            op: "verify",
            request: with_status(&placed_valid),
            expect: "ok",
        },
        Row {
            name: "verify against the id list alone, a token that names a status list",
            op: "verify",
            request: with(trust(&placed_valid), "revocation_list", rl_empty.clone()),
            expect: "status_list_required",
        },
        Row {
            name: "verify with another status list than the token names",
            op: "verify",
            request: with(
                trust(&placed_valid),
                "status_list",
                ok("status_list_sign", &json!({ "key": keygen(1)["private_jwk"], "list": { "iss": ISS, "sub": "https://gateway.example/v1/status-lists/1", "iat": NOW - 10, "exp": NOW + 100, "size": 16, "revoked": [] } }))["list"].clone(),
            ),
            expect: "wrong_status_list",
        },
    ]
}

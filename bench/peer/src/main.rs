//! The peer the gateway is measured against: the verify service a user
//! would write with the usual Rust JWT stack instead of running captoken.
//! axum and jsonwebtoken (EdDSA, its pure-Rust backend), the same route and
//! request body as the gateway's `POST /v1/tokens/verify`, checking what a
//! careful JWT service checks: the signature under the issuer's key (by
//! `kid`), `alg`, `typ`, `iss`, `aud`, `exp` and `nbf` with 30 s of
//! leeway. It does not check what only captoken knows of (the capability
//! schema, delegation chains, revocation, holder binding): the benchmark
//! prices those.
//!
//!     captoken-bench-peer <listen addr> <jwks.json> <issuer> <audience>
//!
//! prints `listening on http://<addr>` on its first line.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use serde_json::{Value, json};

struct Peer {
    kid: String,
    key: DecodingKey,
    validation: Validation,
}

#[derive(Deserialize)]
struct VerifyRequest {
    token: String,
}

fn refuse(code: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "valid": false, "error": code })),
    )
        .into_response()
}

async fn verify(State(peer): State<Arc<Peer>>, Json(request): Json<VerifyRequest>) -> Response {
    let header = match decode_header(&request.token) {
        Ok(header) => header,
        Err(_) => return refuse("malformed"),
    };
    if header.typ.as_deref() != Some("captoken+jwt") {
        return refuse("bad_typ");
    }
    if header.kid.as_deref() != Some(peer.kid.as_str()) {
        return refuse("unknown_kid");
    }
    match decode::<Value>(&request.token, &peer.key, &peer.validation) {
        Ok(data) => {
            let claims = data.claims;
            Json(json!({
                "valid": true,
                "jti": claims.get("jti"),
                "sub": claims.get("sub"),
                "audience": claims.get("aud"),
                "scope": claims.get("caps"),
                "issued_at": claims.get("iat"),
                "expires_at": claims.get("exp"),
                "claims": claims,
            }))
            .into_response()
        }
        Err(err) => refuse(&format!("{:?}", err.kind())),
    }
}

/// The Ed25519 key of a JWKS file: its `kid` and `x`.
fn read_key(path: &str) -> Result<(String, String), String> {
    let text = std::fs::read_to_string(path).map_err(|err| format!("{path}: {err}"))?;
    let jwks: Value = serde_json::from_str(&text).map_err(|err| format!("{path}: {err}"))?;
    let key = jwks
        .get("keys")
        .and_then(Value::as_array)
        .and_then(|keys| {
            keys.iter()
                .find(|k| k.get("crv") == Some(&json!("Ed25519")))
        })
        .ok_or_else(|| format!("{path}: no Ed25519 key"))?;
    let field = |name: &str| {
        key.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("{path}: the key has no `{name}`"))
    };
    Ok((field("kid")?, field("x")?))
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, jwks, issuer, audience] = args.as_slice() else {
        return Err(
            "usage: captoken-bench-peer <listen addr> <jwks.json> <issuer> <audience>".into(),
        );
    };
    let (kid, x) = read_key(jwks)?;
    let key = DecodingKey::from_ed_components(&x).map_err(|err| err.to_string())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.leeway = 30;
    validation.validate_nbf = true;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    let peer = Arc::new(Peer {
        kid,
        key,
        validation,
    });
    let app = Router::new()
        .route("/v1/tokens/verify", post(verify))
        .with_state(peer);
    let listener = tokio::net::TcpListener::bind(listen.as_str())
        .await
        .map_err(|err| format!("{listen}: {err}"))?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    println!("listening on http://{addr}");
    axum::serve(listener, app)
        .await
        .map_err(|err| err.to_string())
}

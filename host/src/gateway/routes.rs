//! The HTTP routes. Each handler reads and checks its input, calls the
//! module and the store off the async runtime, and answers JSON; every
//! refusal is an [`ApiError`] body `{"error", "reason"}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::audit::AuditEvent;
use super::body::{self, Fields};
use super::error::ApiError;
use super::module::CallError;
use super::store::{Grant, Spend, Store, StoreError, TokenRow};
use super::{Gateway, Inner};
use captoken_core::b64;
use captoken_core::token::is_token_id;

use crate::{entropy, now};

/// Longest principal id, workspace id, audience, plan id or `jti` accepted.
const MAX_ID_BYTES: usize = 256;
/// Longest revocation reason accepted.
const MAX_REASON_BYTES: usize = 1024;
/// The largest lifetime a token can have: JavaScript's exact integers.
const MAX_TTL: u64 = (1 << 53) - 1;
/// Tokens returned by one capabilities listing, at most.
const MAX_LIST: u32 = 1000;
/// Who the admin bearer token stands for in the store.
const ADMIN_PRINCIPAL: &str = "admin";
/// The largest leeway a verifier may allow (docs/FORMAT.md), in seconds:
/// core's constant, linked natively.
const MAX_LEEWAY: i64 = captoken_core::token::MAX_LEEWAY;
/// The longest a proof of possession may be accepted after it was made:
/// core's bound on `max_age`.
const MAX_POP_AGE: u64 = captoken_core::pop::MAX_MAX_AGE.unsigned_abs();
/// Entropy bytes per issued token (the module needs at least 16).
const ISSUE_ENTROPY_BYTES: usize = 32;

pub(crate) fn router(gateway: Gateway) -> Router {
    Router::new()
        .route("/v1/tokens", post(issue))
        .route("/v1/tokens/verify", post(verify))
        .route("/v1/tokens/revoke", post(revoke))
        .route("/v1/capabilities", get(capabilities))
        .route("/v1/capabilities/grant", post(grant))
        .route("/v1/capabilities/revoke", post(revoke_capability))
        .route("/v1/revocations", get(revocations))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(gateway.clone(), deadline))
        .layer(middleware::from_fn_with_state(gateway.clone(), count))
        .with_state(gateway)
}

/// Gives the request's body a deadline, `request_timeout` from now (its
/// headers arrived within `header_timeout` already): a client that stalls
/// mid-body is answered 408 and its connection closed. Only the receiving
/// is bounded: work the gateway has started on a whole request is never
/// cut short, so an answer is never lost after a write committed.
async fn deadline(State(gateway): State<Gateway>, request: Request, next: Next) -> Response {
    let limit = gateway.inner.config.request_timeout;
    let due = tokio::time::Instant::now() + limit;
    let request = request.map(|body| Body::new(body::Deadline::new(body, due, limit)));
    let mut response = next.run(request).await;
    if response.status() == StatusCode::REQUEST_TIMEOUT {
        // The rest of that body may never come: do not wait for it to read
        // the next request.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Counts every answer by method, route pattern and status.
async fn count(State(gateway): State<Gateway>, request: Request, next: Next) -> Response {
    // Only standard methods become label values; anything else is `other`,
    // so made-up methods cannot grow the label set.
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    gateway
        .inner
        .metrics
        .request(method, &route, response.status().as_u16());
    response
}

/// Runs a store operation on the blocking pool: SQLite calls block, and a
/// commit waits for an fsync.
async fn blocking<T: Send + 'static>(
    gw: &Inner,
    work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let slot = Arc::clone(&gw.store_slots)
        .acquire_owned()
        .await
        .map_err(|_| ApiError::internal("host_shutting_down", "the store is closed"))?;
    let store = Arc::clone(&gw.store);
    let joined = tokio::task::spawn_blocking(move || {
        let done = work(&store);
        drop(slot);
        done
    })
    .await;
    match joined {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(store_error(err)),
        Err(join) => Err(ApiError::internal(
            "host_task_failed",
            format!("the store call did not complete: {join}"),
        )),
    }
}

/// What a store error answers.
fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::UnknownToken(id) => ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_token",
            format!(
                "no token recorded here has the id `{id}`: revoke by the `id` verify \
                 reports (a delegated token's is its chain's jtis joined by `.`)"
            ),
        ),
        StoreError::AmbiguousId { id, candidates } => ApiError::new(
            StatusCode::CONFLICT,
            "ambiguous_id",
            format!("`{id}` is the jti of several recorded delegated tokens: revoke one by its id"),
        )
        .with("candidates", json!(candidates)),
        // The store's writes call the module (audit records): a full
        // instance pool is the same 503 as for any other module call.
        err if err.code() == "host_busy" => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, err.code(), err.to_string())
        }
        err => ApiError::internal(err.code(), err.to_string()),
    }
}

/// `POST /v1/tokens`: policy, then signature, then the store, then the token.
async fn issue(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    let live = gateway.live();
    gw.admin.check(&headers).await?;
    let bytes = body::read(&headers, body, gw.config.max_body_bytes).await?;
    let mut fields = Fields::parse(&bytes)?;
    let subject = fields.string("subject", MAX_ID_BYTES)?;
    let subject_key = fields.object("subject_public_key")?;
    let capabilities = fields.opt_array("capabilities")?;
    let scope = fields.opt_string("scope", MAX_ID_BYTES)?;
    let requested_ttl = fields.opt_positive("expires_in_seconds", MAX_TTL)?;
    let audience = fields.opt_string("audience", MAX_ID_BYTES)?;
    let attributes = fields.opt_object("subject_attributes")?;
    let workspace = fields.opt_string("workspace_id", MAX_ID_BYTES)?;
    let plan_id = fields.opt_string("plan_id", MAX_ID_BYTES)?;
    fields.done()?;

    let capabilities = match (capabilities, scope) {
        (Some(caps), None) => caps,
        (None, Some(scope)) => vec![tier(&scope)?],
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_value",
                "give `capabilities` or `scope`, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "missing_field",
                "`capabilities` (or a `scope` tier) is required",
            ));
        }
    };
    if subject_key.contains_key("d") {
        // Stripping `d` would hide the mistake; the key has left its holder.
        return Err(ApiError::bad_request(
            "private_key_submitted",
            "`subject_public_key` holds a private key (`d`): send only the public key, \
             and treat this key pair as compromised",
        ));
    }
    let audience = audience.unwrap_or_else(|| gw.config.audience.clone());
    let workspace = workspace.unwrap_or_else(|| "default".to_owned());

    // 1. One module decision: what the policy grants this subject of what
    // was asked, signed exactly (the prepared token, then the signature
    // attached), or the policy's denial with nothing signed.
    let mut claims = json!({
        "sub": subject,
        "aud": audience,
        "cnf": { "jwk": subject_key },
        "caps": capabilities,
    });
    if let (Some(plan_id), Value::Object(members)) = (&plan_id, &mut claims) {
        members.insert("plan_id".to_owned(), Value::String(plan_id.clone()));
    }
    let entropy = entropy::<ISSUE_ENTROPY_BYTES>().map_err(|err| ApiError::from_host(&err))?;
    let mut request = json!({
        "issuer": gw.config.issuer,
        "now": now(),
        "entropy": b64::encode(&entropy),
        "claims": claims,
        "policy": live.policy,
    });
    if let Value::Object(members) = &mut request {
        if let Some(ttl) = requested_ttl {
            members.insert("ttl".to_owned(), Value::from(ttl));
        }
        if let Some(attributes) = attributes {
            members.insert("attributes".to_owned(), Value::Object(attributes));
        }
    }
    let issued = gw
        .module
        .call_signed(
            gw.ops.issue,
            "issue",
            Arc::clone(&live.key.signer),
            live.key.public_jwk.clone(),
            request,
            "token",
        )
        .await
        .map_err(|err| match err {
            // The policy could not decide within its budget: no grant.
            CallError::Rejected {
                code,
                message,
                path,
            } if code == "policy_budget_exceeded" => {
                ApiError::new(StatusCode::FORBIDDEN, code, message).at(path)
            }
            // The issuing key and the policy are checked at start-up, so a
            // refusal here is about what the client sent: its key, its
            // claims, its attributes.
            CallError::Rejected {
                code,
                message,
                path,
            } => ApiError::bad_request(&code, message).at(path),
            CallError::Failed(err) => err,
        })?;
    if issued.get("decision").and_then(Value::as_str) != Some("granted") {
        let code = text(&issued, "code").unwrap_or("denied");
        let reason = text(&issued, "reason").unwrap_or("the policy denied the request");
        return Err(ApiError::new(StatusCode::FORBIDDEN, code, reason)
            .with("rule", issued.get("rule").cloned().unwrap_or(Value::Null)));
    }
    let granted = issued
        .get("capabilities")
        .cloned()
        .ok_or_else(|| bad_module_response("issue", "capabilities"))?;
    let ttl = issued
        .get("ttl")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad_module_response("issue", "ttl"))?;
    let jti = text(&issued, "jti")
        .ok_or_else(|| bad_module_response("issue", "jti"))?
        .to_owned();
    let iat = issued
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad_module_response("issue", "iat"))?;
    let exp = issued
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad_module_response("issue", "exp"))?;

    // 2. Record it before handing it out: a token the store does not know
    // cannot be listed, and the client gets a 500 instead of it.
    let mut scopes = json!({ "caps": granted, "aud": audience });
    if let (Some(plan_id), Value::Object(members)) = (&plan_id, &mut scopes) {
        members.insert("plan_id".to_owned(), Value::String(plan_id.clone()));
    }
    let row = TokenRow {
        token_id: jti.clone(),
        workspace_id: workspace.clone(),
        issued_to: subject.clone(),
        granted_by: ADMIN_PRINCIPAL.to_owned(),
        parent_token_id: None,
        scopes,
        valid_until: Some(exp),
        revoked_at: None,
        created_at: iat,
        token_sha256: issued
            .get("token")
            .and_then(Value::as_str)
            .map(token_sha256),
    };
    let event = issued
        .get("audit")
        .and_then(AuditEvent::from_module)
        .ok_or_else(|| bad_module_response("issue", "audit"))?;
    blocking(gw, move |store| store.insert_token(&row, &event)).await?;

    let body = json!({
        "token": issued.get("token"),
        "jti": jti,
        "kid": issued.get("kid"),
        "subject": subject,
        "audience": audience,
        "workspace_id": workspace,
        "capabilities": granted,
        "issued_at": iat,
        "expires_at": exp,
        "expires_in_seconds": ttl,
        "narrowed": issued.get("narrowed"),
        "matched_rules": issued.get("matched_rules"),
    });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// The capability a seed document's tier names: core's mapping
/// (`Capability::tier`), linked natively.
fn tier(scope: &str) -> Result<Value, ApiError> {
    let cap = captoken_core::Capability::tier(scope).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_value",
            format!("`scope` must be `READ`, `USER`, `INPUT` or `service:<name>`, not `{scope}`"),
        )
    })?;
    serde_json::to_value(&cap).map_err(|err| ApiError::internal("host_json", err.to_string()))
}

/// `POST /v1/tokens/verify`: the module verifies, the store says whether any
/// id of the chain is revoked; then, if asked, the holder's proof of
/// possession (`proof`) is checked and the token's single use (`single_use`)
/// is spent, each through the store's replay guard.
async fn verify(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    let live = gateway.live();
    let bytes = body::read(&headers, body, gw.config.max_body_bytes).await?;
    let mut fields = Fields::parse(&bytes)?;
    let token = fields.string("token", gw.config.max_body_bytes)?;
    let audience = fields.opt_string("audience", MAX_ID_BYTES)?;
    let single_use = fields.opt_bool("single_use")?;
    let proof = fields.opt_string("proof", gw.config.max_body_bytes)?;
    let pop_audience = fields.opt_string("pop_audience", MAX_ID_BYTES)?;
    let nonce = fields.opt_string("nonce", MAX_ID_BYTES)?;
    let request_hash = fields.opt_string("request_hash", MAX_ID_BYTES)?;
    let max_age = fields.opt_positive("max_age", MAX_POP_AGE)?;
    fields.done()?;
    if proof.is_none()
        && (pop_audience.is_some()
            || nonce.is_some()
            || request_hash.is_some()
            || max_age.is_some())
    {
        return Err(ApiError::bad_request(
            "missing_field",
            "`pop_audience`, `nonce`, `request_hash` and `max_age` qualify a `proof`, which is missing",
        ));
    }
    // One module call: the token, and the proof of possession with it.
    let at = now();
    let proof = proof.map(|proof| {
        let mut check = json!({ "proof": proof });
        if let Value::Object(members) = &mut check {
            // The proof is addressed to this verifier: by default (the
            // module's) the audience the token is verified for.
            for (name, value) in [
                ("audience", pop_audience),
                ("nonce", nonce),
                ("request_hash", request_hash),
            ] {
                if let Some(value) = value {
                    members.insert(name.to_owned(), Value::String(value));
                }
            }
            if let Some(max_age) = max_age {
                members.insert("max_age".to_owned(), Value::from(max_age));
            }
        }
        check
    });
    let verified = verify_token_at(
        gw,
        live.key.trusted(),
        token.clone(),
        audience.clone(),
        proof,
        at,
    )
    .await?;

    let presented = match verified.get("proof") {
        None => Value::Null,
        Some(checked) => {
            let replay = checked
                .get("replay")
                .ok_or_else(|| bad_module_response("verify", "proof.replay"))?;
            let (Some(key), Some(exp)) = (
                text(replay, "key"),
                replay.get("exp").and_then(Value::as_i64),
            ) else {
                return Err(bad_module_response(
                    "verify",
                    "proof.replay.key, proof.replay.exp",
                ));
            };
            let chain = chain_ids(&verified)?;
            spend(
                gw,
                vec![key.to_owned()],
                chain,
                exp,
                at,
                "this proof of possession was presented before",
            )
            .await?;
            json!({
                "kid": checked.get("kid"),
                "aud": checked.get("aud"),
                "iat": checked.get("iat"),
                "nonce": checked.get("nonce"),
                "request_hash": checked.get("request_hash"),
            })
        }
    };
    if single_use {
        // The whole chain is spent: the grant the issuer made can be used
        // once, whichever delegation of it is presented (otherwise a holder
        // could mint itself a fresh child per use).
        let chain = chain_ids(&verified)?;
        let keys = chain.iter().map(|id| format!("token:{id}")).collect();
        let exp = verified
            .get("claims")
            .and_then(|claims| claims.get("exp"))
            .and_then(Value::as_i64)
            .ok_or_else(|| bad_module_response("verify", "claims.exp"))?;
        spend(
            gw,
            keys,
            chain,
            exp,
            at,
            "this single-use token (or one it was delegated from) was used before",
        )
        .await?;
    }

    let claims = verified.get("claims").cloned().unwrap_or(Value::Null);
    let body = json!({
        "valid": true,
        "jti": claims.get("jti"),
        "id": verified.get("id"),
        "sub": claims.get("sub"),
        "root_sub": verified.get("root_sub"),
        "audience": claims.get("aud"),
        "scope": claims.get("caps"),
        "issued_at": claims.get("iat"),
        "expires_at": claims.get("exp"),
        "subject_public_key": claims.get("cnf").and_then(|cnf| cnf.get("jwk")),
        "depth": verified.get("depth"),
        "chain": verified.get("chain"),
        "claims": claims,
        "single_use": single_use,
        "proof": presented,
    });
    Ok(axum::Json(body).into_response())
}

/// Records a use of `keys` in the replay guard, kept until `exp` plus the
/// largest leeway any verifier allows: 401 `replayed` if any was seen
/// before, 401 `revoked` if an id of `chain` was revoked since the token was
/// verified (checked in the same transaction, so a revocation acknowledged
/// before the spend always wins).
async fn spend(
    gw: &Inner,
    keys: Vec<String>,
    chain: Vec<String>,
    exp: i64,
    at: i64,
    replayed: &str,
) -> Result<(), ApiError> {
    let until = exp.saturating_add(MAX_LEEWAY);
    let own = chain.last().cloned().unwrap_or_default();
    let outcome = blocking(gw, move |store| store.spend(&keys, &chain, until, at)).await?;
    match outcome {
        Spend::Fresh => Ok(()),
        Spend::Replayed => Err(ApiError::unauthorized("replayed", replayed)),
        Spend::Revoked(id) => Err(revoked_error(&id, &own)),
    }
}

/// Verifies `token` and refuses it if any `jti` of its chain is revoked.
async fn verify_token(
    gw: &Inner,
    jwks: Value,
    token: String,
    audience: Option<String>,
) -> Result<Value, ApiError> {
    verify_token_at(gw, jwks, token, audience, None, now()).await
}

/// [`verify_token`] at `now`, with a proof of possession (`verify`'s
/// `proof` member) checked in the same module call.
async fn verify_token_at(
    gw: &Inner,
    jwks: Value,
    token: String,
    audience: Option<String>,
    proof: Option<Value>,
    now: i64,
) -> Result<Value, ApiError> {
    let mut request = json!({
        "token": token,
        "jwks": jwks,
        "issuer": gw.config.issuer,
        "audience": audience.unwrap_or_else(|| gw.config.audience.clone()),
        "now": now,
    });
    if let (Some(proof), Value::Object(members)) = (proof, &mut request) {
        members.insert("proof".to_owned(), proof);
    }
    let verified = gw
        .module
        .call(gw.ops.verify, "verify", request)
        .await
        .map_err(|err| match err {
            CallError::Rejected {
                code,
                message,
                path,
            } => ApiError::unauthorized(&code, message).at(path),
            CallError::Failed(err) => err,
        })?;
    let ids = chain_ids(&verified)?;
    let own = ids.last().cloned().unwrap_or_default();
    let revoked = blocking(gw, move |store| {
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        Ok(store.first_revoked(&refs)?.map(str::to_owned))
    })
    .await?;
    match revoked {
        None => Ok(verified),
        Some(id) => Err(revoked_error(&id, &own)),
    }
}

fn revoked_error(id: &str, own: &str) -> ApiError {
    if id == own {
        ApiError::unauthorized("revoked", format!("token `{id}` has been revoked"))
    } else {
        ApiError::unauthorized(
            "revoked",
            format!(
                "token `{id}`, an ancestor of this one in its delegation chain, has been revoked"
            ),
        )
    }
}

/// The ids of a verified token's chain, root first, the token's own last:
/// the module's `chain` lists the ancestors, each with its id
/// (docs/FORMAT.md: a delegated token's id is scoped under its parent's, so
/// a copied `jti` cannot collide), and `id` is the token's own. A link
/// without one fails closed.
fn chain_ids(verified: &Value) -> Result<Vec<String>, ApiError> {
    let mut ids: Vec<String> = Vec::new();
    for link in verified
        .get("chain")
        .and_then(Value::as_array)
        .ok_or_else(|| bad_module_response("verify", "chain"))?
    {
        let id = text(link, "id").ok_or_else(|| bad_module_response("verify", "chain[].id"))?;
        ids.push(id.to_owned());
    }
    let own = text(verified, "id").ok_or_else(|| bad_module_response("verify", "id"))?;
    ids.push(own.to_owned());
    Ok(ids)
}

/// `POST /v1/tokens/revoke` `{jti, reason?}`: answered only once the
/// revocation is on disk; audited as `token_revoked`.
async fn revoke(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    revoke_id(&gateway, &headers, body, "jti", "token_revoked").await
}

/// `POST /v1/capabilities/revoke` `{token_id, reason?}`: the same
/// revocation, named as TASK-103 names it and audited as
/// `agent.capability.revoked`.
async fn revoke_capability(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    revoke_id(
        &gateway,
        &headers,
        body,
        "token_id",
        "agent.capability.revoked",
    )
    .await
}

/// Revokes the token id in the body's member `field`, with `event` in the
/// audit log; a delegated token's descendants fall with it.
async fn revoke_id(
    gateway: &Gateway,
    headers: &HeaderMap,
    body: Body,
    field: &'static str,
    event: &'static str,
) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    gw.admin.check(headers).await?;
    let bytes = body::read(headers, body, gw.config.max_body_bytes).await?;
    let mut fields = Fields::parse(&bytes)?;
    // `id`, as verify reports it; `field` (`jti`, `token_id`) is the name
    // the route had first, read by the same rule.
    let (name, given) = match (
        fields.opt_string("id", MAX_ID_BYTES)?,
        fields.opt_string(field, MAX_ID_BYTES)?,
    ) {
        (Some(id), None) => ("id", id),
        (None, Some(id)) => (field, id),
        (None, None) => {
            return Err(ApiError::bad_request(
                "missing_field",
                "`id` is required (the token's id, as verify reports it)",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_value",
                format!("give `id` or `{field}`, not both"),
            ));
        }
    };
    let reason = fields.opt_string("reason", MAX_REASON_BYTES)?;
    fields.done()?;
    check_token_id(name, &given)?;
    let at = now();
    let key = given.clone();
    let done = blocking(gw, move |store| {
        store.revoke(&key, ADMIN_PRINCIPAL, reason.as_deref(), at, event)
    })
    .await?;
    Ok(axum::Json(json!({
        "id": done.id,
        field: given,
        "revoked": true,
        "revoked_at": done.revoked_at,
        "already_revoked": done.already_revoked,
        "known_token": done.known_token,
        "rows_marked": done.rows_marked,
    }))
    .into_response())
}

/// `POST /v1/capabilities/grant` `{token, workspace_id?, audience?}`:
/// records a delegation its holder made (`captoken delegate`, or the npm
/// package's `delegate`), after the module has verified the whole chain:
/// every link signed by its parent's holder, every capability within its
/// parent's (min(parent, granted)), expiring no later, at most the depth
/// limit deep. The gateway cannot mint the child itself: that takes the
/// parent holder's private key, which never leaves the holder.
///
/// A chain whose parent is sound but whose last link the rules refuse
/// (an escalation, a link too deep, a broken or swapped link, a child of a
/// revoked token) is refused with 403 and the module's code, and leaves
/// `agent.delegation.attempted` in the audit log. Recording is idempotent:
/// the same chain again is 200 with what was recorded; another token under
/// a recorded id is 409 `id_conflict`, audited as an attempt.
async fn grant(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    gw.admin.check(&headers).await?;
    let bytes = body::read(&headers, body, gw.config.max_body_bytes).await?;
    let mut fields = Fields::parse(&bytes)?;
    let token = fields.string("token", gw.config.max_body_bytes)?;
    let workspace = fields.opt_string("workspace_id", MAX_ID_BYTES)?;
    let audience = fields.opt_string("audience", MAX_ID_BYTES)?;
    fields.done()?;

    let jwks = gateway.trusted_jwks();
    let verified = match verify_token(gw, jwks.clone(), token.clone(), audience.clone()).await {
        Ok(verified) => verified,
        Err(err) if err.status() == StatusCode::UNAUTHORIZED => {
            return Err(refused_delegation(gw, jwks, &token, audience, err).await);
        }
        Err(err) => return Err(err),
    };
    let depth = verified
        .get("depth")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad_module_response("verify", "depth"))?;
    let Some(parent) = verified
        .get("chain")
        .and_then(Value::as_array)
        .and_then(|chain| chain.last())
    else {
        return Err(ApiError::bad_request(
            "not_delegated",
            "`token` is a root token: a grant records a delegated one \
             (`child~parent`); root tokens are issued by POST /v1/tokens",
        ));
    };
    let parent_id = text(parent, "id")
        .ok_or_else(|| bad_module_response("verify", "chain[].id"))?
        .to_owned();
    let granted_by = text(parent, "sub")
        .ok_or_else(|| bad_module_response("verify", "chain[].sub"))?
        .to_owned();
    let id = text(&verified, "id")
        .ok_or_else(|| bad_module_response("verify", "id"))?
        .to_owned();
    let claims = verified
        .get("claims")
        .ok_or_else(|| bad_module_response("verify", "claims"))?;
    let sub = text(claims, "sub")
        .ok_or_else(|| bad_module_response("verify", "claims.sub"))?
        .to_owned();
    // The delegator chose the child's `sub`: it becomes a principal id.
    body::no_controls("sub", &sub)?;
    let caps = claims
        .get("caps")
        .cloned()
        .ok_or_else(|| bad_module_response("verify", "claims.caps"))?;
    let (iat, exp) = match (
        claims.get("iat").and_then(Value::as_i64),
        claims.get("exp").and_then(Value::as_i64),
    ) {
        (Some(iat), Some(exp)) => (iat, exp),
        _ => return Err(bad_module_response("verify", "claims.iat, claims.exp")),
    };
    let row = TokenRow {
        token_id: id.clone(),
        // The store puts a child in its parent's workspace unless told.
        workspace_id: String::new(),
        issued_to: sub.clone(),
        granted_by: granted_by.clone(),
        parent_token_id: Some(parent_id.clone()),
        scopes: json!({ "caps": caps, "aud": claims.get("aud") }),
        valid_until: Some(exp),
        revoked_at: None,
        // When the gateway recorded it: the child's `iat` is its
        // delegator's to choose (and could be backdated).
        created_at: now(),
        // The whole chain: the same child id under the same parent with
        // any other bytes (wider, longer-lived) is another token.
        token_sha256: Some(token_sha256(&token)),
    };
    let chain = chain_ids(&verified)?;
    let event = AuditEvent::new(
        "agent.capability.granted",
        json!({ "id": id, "parent_id": parent_id, "sub": sub, "caps": caps, "exp": exp }),
    );
    let outcome = blocking(gw, move |store| {
        store.grant(&row, workspace.as_deref(), depth, &chain, &event)
    })
    .await?;
    let workspace_id = match outcome {
        Grant::Recorded { workspace_id } => workspace_id,
        Grant::AlreadyRecorded { row, depth } => {
            // Answered from what was recorded, never from the request.
            let recorded = json!({
                "token_id": row.token_id,
                "parent_token_id": row.parent_token_id,
                "issued_to_principal_id": row.issued_to,
                "granted_by_principal_id": row.granted_by,
                "workspace_id": row.workspace_id,
                "capabilities": row.scopes.get("caps"),
                "depth": depth,
                "issued_at": iat,
                "expires_at": row.valid_until,
                "recorded_at": row.created_at,
                "already_recorded": true,
            });
            return Ok((StatusCode::OK, axum::Json(recorded)).into_response());
        }
        Grant::IdConflict => {
            let conflict = ApiError::new(
                StatusCode::CONFLICT,
                "id_conflict",
                format!(
                    "another token is recorded under the id `{id}`: a delegator must give \
                     every child its own `jti`"
                ),
            );
            return Err(attempted(gw, &parent_id, conflict).await);
        }
        Grant::UnknownParent => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "parent_not_recorded",
                format!(
                    "the parent `{parent_id}` is not a token this gateway issued or recorded: \
                     record each link of a chain, parent first"
                ),
            ));
        }
        Grant::Revoked(revoked) => {
            // Revoked between the verify above and the write: the chain is
            // no longer valid, so there is no sound parent to audit from.
            return Err(revoked_error(&revoked, &id));
        }
    };
    let body = json!({
        "token_id": id,
        "parent_token_id": parent_id,
        "issued_to_principal_id": sub,
        "granted_by_principal_id": granted_by,
        "workspace_id": workspace_id,
        "capabilities": caps,
        "depth": depth,
        "issued_at": iat,
        "expires_at": exp,
        "already_recorded": false,
    });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// A chain the module (or the revocation check) refused, as a grant's
/// answer: when the chain's parent verifies on its own, the refusal is of
/// the delegation itself, which is audited and answered 403; otherwise the
/// token is simply not valid (401, nothing recorded: there is no sound
/// parent a delegation was attempted from).
async fn refused_delegation(
    gw: &Inner,
    jwks: Value,
    token: &str,
    audience: Option<String>,
    err: ApiError,
) -> ApiError {
    // docs/FORMAT.md: a chain is `child~parent~…~root`.
    let Some((_, parent_text)) = token.split_once('~') else {
        return err;
    };
    let Ok(parent) = verify_token(gw, jwks, parent_text.to_owned(), audience).await else {
        return err;
    };
    let Some(parent_id) = text(&parent, "id") else {
        return bad_module_response("verify", "id");
    };
    let refused = err.with_status(StatusCode::FORBIDDEN);
    attempted(gw, parent_id, refused).await
}

/// The lowercase hex SHA-256 of a token's text, as the store keeps it.
fn token_sha256(text: &str) -> String {
    captoken_runtime::sha256_hex(text.as_bytes())
}

/// Appends `agent.delegation.attempted` for a refused delegation from
/// `parent_id`, and answers `refusal`, or the store's error if the record
/// could not be written (a refusal is not reported as audited unless it is).
async fn attempted(gw: &Inner, parent_id: &str, refusal: ApiError) -> ApiError {
    let event = AuditEvent::new(
        "agent.delegation.attempted",
        json!({ "parent_id": parent_id, "code": refusal.code() }),
    );
    let at = now();
    match blocking(gw, move |store| store.record_event(at, &event)).await {
        Ok(()) => refusal,
        Err(err) => err,
    }
}

/// `GET /v1/capabilities?principal_id=…[&workspace_id=…][&include_inactive=true][&limit=…]`.
async fn capabilities(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    gw.admin.check(&headers).await?;
    let Query(mut params) = query.map_err(|err| {
        ApiError::bad_request("malformed_query", format!("cannot read the query: {err}"))
    })?;
    let principal = params
        .remove("principal_id")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::bad_request("missing_field", "`principal_id` is required"))?;
    if principal.len() > MAX_ID_BYTES {
        return Err(ApiError::bad_request(
            "invalid_value",
            format!("`principal_id` is longer than {MAX_ID_BYTES} bytes"),
        ));
    }
    body::no_controls("principal_id", &principal)?;
    let workspace = params.remove("workspace_id");
    if let Some(workspace) = &workspace {
        body::no_controls("workspace_id", workspace)?;
    }
    let include_inactive = match params.remove("include_inactive").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_value",
                format!("`include_inactive` must be `true` or `false`, not `{other}`"),
            ));
        }
    };
    let limit = match params.remove("limit") {
        None => 100,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIST).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_value",
                    format!("`limit` must be an integer in 1..={MAX_LIST}"),
                )
            })?,
    };
    if let Some(name) = params.keys().next() {
        return Err(ApiError::bad_request(
            "unknown_field",
            format!("`{name}` is not a parameter of this request"),
        ));
    }
    let at = now();
    let who = principal.clone();
    let rows = blocking(gw, move |store| {
        store.tokens_of(&who, workspace.as_deref(), at, include_inactive, limit)
    })
    .await?;
    let tokens: Vec<Value> = rows
        .into_iter()
        .map(|row| {
            let status = if row.revoked_at.is_some() {
                "revoked"
            } else if row.valid_until.is_some_and(|until| until <= at) {
                "expired"
            } else {
                "active"
            };
            json!({
                "token_id": row.token_id,
                "workspace_id": row.workspace_id,
                "issued_to_principal_id": row.issued_to,
                "granted_by_principal_id": row.granted_by,
                "parent_token_id": row.parent_token_id,
                "scopes": row.scopes,
                "valid_until": row.valid_until,
                "revoked_at": row.revoked_at,
                "created_at": row.created_at,
                "status": status,
            })
        })
        .collect();
    Ok(axum::Json(json!({
        "principal_id": principal,
        "count": tokens.len(),
        "tokens": tokens,
    }))
    .into_response())
}

/// `GET /v1/revocations`: the revoked ids as a list signed with the
/// gateway's key, for verifiers that cannot ask the gateway each time (a
/// browser console, an offline device). Public, like the JWKS, and
/// readable across origins whatever it answers, so a console on another
/// origin sees a refusal's code too.
async fn revocations(State(gateway): State<Gateway>) -> Response {
    signed_revocation_list(&gateway)
        .await
        .unwrap_or_else(|err| {
            let mut response = err.into_response();
            public_to_pages(&mut response);
            response
        })
}

async fn signed_revocation_list(gateway: &Gateway) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    let live = gateway.live();
    let at = now();
    let interval = i64::try_from(gw.config.revocation_list_interval.as_secs())
        .unwrap_or(i64::MAX)
        .max(1);
    // The route is public: sign a list once per `seq` and reuse it while it
    // has at least half its freshness left, so readers cost one indexed
    // read, not a table scan and two module calls each.
    let seq = blocking(gw, |store| store.revocation_seq()).await?;
    if let Some(kept) = gw.lists.cached(seq, &live.key.kid, at, interval) {
        return kept.map(|body| revocation_list_response(body, interval));
    }
    // One reader signs; the others wait for its outcome instead of each
    // redoing the scan and the module calls.
    let _signing = gw.lists.signing.lock().await;
    let seq = blocking(gw, |store| store.revocation_seq()).await?;
    if let Some(kept) = gw.lists.cached(seq, &live.key.kid, at, interval) {
        return kept.map(|body| revocation_list_response(body, interval));
    }
    // Tokens this gateway issued that expired longer ago than any
    // verifier's leeway are refused as expired anyway: leave them out.
    let snapshot = blocking(gw, move |store| store.revocation_list(at, MAX_LEEWAY)).await?;
    let next_update = at.saturating_add(interval);
    let entries: Vec<Value> = snapshot
        .entries
        .iter()
        // Only ids are revoked through the API; a row that is not one (an
        // older store's) can match no token, and the list would refuse it.
        .filter(|entry| is_token_id(&entry.id))
        .map(|entry| {
            let mut item = json!({ "jti": entry.id, "revoked_at": entry.revoked_at });
            if let (Some(reason), Value::Object(members)) =
                (entry.reason.as_ref().filter(|r| !r.is_empty()), &mut item)
            {
                members.insert("reason".to_owned(), Value::String(reason.clone()));
            }
            item
        })
        .collect();
    let count = entries.len();
    let signed = gw
        .module
        .call_signed(
            gw.ops.revocation_list_sign,
            "revocation_list_sign",
            Arc::clone(&live.key.signer),
            live.key.public_jwk.clone(),
            json!({
                "list": {
                    "iss": gw.config.issuer,
                    "seq": snapshot.seq,
                    "iat": at,
                    "next_update": next_update,
                    "revoked": entries,
                },
            }),
            "list",
        )
        .await;
    let signed = match signed {
        Ok(signed) => signed,
        // Too many entries for one signed list (the module's
        // refusal, or the request already past the module's input limit):
        // a state of the store, not of this request. Kept like a signed
        // list, so a public route does not redo the work for every reader.
        Err(CallError::Rejected { code, .. }) if code == "revocation_list_too_large" => {
            return Err(keep_too_large(gw, snapshot.seq, &live.key.kid, at, count));
        }
        Err(CallError::Failed(err)) if err.code() == "request_too_large" => {
            return Err(keep_too_large(gw, snapshot.seq, &live.key.kid, at, count));
        }
        // Everything in the list came from the store, not the client: a
        // refusal is a state of the store too, kept for `seq` like a
        // success so a public route cannot be made to redo it per reader.
        // Only a full module pool is left to the next reader.
        Err(CallError::Failed(err)) if err.code() == "host_busy" => return Err(err),
        Err(CallError::Rejected { code, message, .. }) => {
            let err = ApiError::internal(&code, message);
            gw.lists
                .keep(snapshot.seq, &live.key.kid, at, Err(err.clone()));
            return Err(err);
        }
        Err(CallError::Failed(err)) => {
            gw.lists
                .keep(snapshot.seq, &live.key.kid, at, Err(err.clone()));
            return Err(err);
        }
    };
    let body = json!({
        "list": signed.get("list"),
        "kid": signed.get("kid"),
        "iss": gw.config.issuer,
        "seq": snapshot.seq,
        "iat": at,
        "next_update": next_update,
        "count": count,
    });
    gw.lists
        .keep(snapshot.seq, &live.key.kid, at, Ok(body.clone()));
    Ok(revocation_list_response(body, interval))
}

/// 503 `revocation_list_too_large`, kept for `seq` like a signed list.
fn keep_too_large(gw: &Inner, seq: i64, kid: &str, at: i64, count: usize) -> ApiError {
    let err = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "revocation_list_too_large",
        format!(
            "{count} revoked ids do not fit one signed list; \
             they leave the list as the tokens they revoke expire. This gateway \
             still refuses every one of them in /v1/tokens/verify"
        ),
    )
    .with("count", Value::from(count));
    gw.lists.keep(seq, kid, at, Err(err.clone()));
    err
}

fn revocation_list_response(body: Value, interval: i64) -> Response {
    let mut response = axum::Json(body).into_response();
    // A cached copy is still fresh for a while; never past `next_update`.
    let max_age = (interval / 5).clamp(1, 60);
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    public_to_pages(&mut response);
    response
}

/// The last signed revocation list (or the refusal to sign one), for reuse
/// by [`revocations`], and the lock one signing reader holds.
#[derive(Debug, Default)]
pub(crate) struct SignedLists {
    kept: std::sync::Mutex<Option<KeptList>>,
    signing: tokio::sync::Mutex<()>,
}

/// A list's `seq`, the `kid` of the key in force, when it was signed (or
/// refused), and the outcome.
type KeptList = (i64, String, i64, Result<Value, ApiError>);

impl SignedLists {
    /// The kept outcome, if it is for `seq` under the key `kid` (after a
    /// reload to a new key, lists the old key signed no longer match) and
    /// was reached less than half an interval before `at`.
    fn cached(
        &self,
        seq: i64,
        kid: &str,
        at: i64,
        interval: i64,
    ) -> Option<Result<Value, ApiError>> {
        let kept = self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*kept {
            Some((kept_seq, kept_kid, iat, outcome))
                if *kept_seq == seq && kept_kid == kid && at < iat.saturating_add(interval / 2) =>
            {
                Some(outcome.clone())
            }
            _ => None,
        }
    }

    fn keep(&self, seq: i64, kid: &str, iat: i64, outcome: Result<Value, ApiError>) {
        *self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((seq, kid.to_owned(), iat, outcome));
    }
}

/// Lets a page on any origin read this response (CORS): an operator console
/// verifying client-side fetches the JWKS and the signed revocation list
/// straight from the gateway. Both are public and signed or self-checking;
/// no credentials are involved, so `*` grants nothing a `curl` would not.
fn public_to_pages(response: &mut Response) {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

/// `GET /.well-known/jwks.json`: the key tokens are verified with.
async fn jwks(State(gateway): State<Gateway>) -> Response {
    let mut response = axum::Json(gateway.jwks()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    public_to_pages(&mut response);
    response
}

/// `GET /healthz`: the store answers and the module runs.
async fn healthz(State(gateway): State<Gateway>) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    let live = gateway.live();
    let unhealthy = |err: ApiError| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            err.code(),
            format!("unhealthy: {}", err.reason()),
        )
    };
    let schema_version = blocking(gw, |store| {
        store.ping()?;
        store.schema_version()
    })
    .await
    .map_err(unhealthy)?;
    gw.module
        .call(gw.ops.info, "info", json!({}))
        .await
        .map_err(|err| match err {
            CallError::Rejected { code, message, .. } => ApiError::internal(&code, message),
            CallError::Failed(err) => err,
        })
        .map_err(unhealthy)?;
    Ok(axum::Json(json!({
        "status": "ok",
        "module_sha256": gw.module.runtime().module_sha256(),
        "schema_version": schema_version,
        "kid": live.key.kid,
    }))
    .into_response())
}

/// `GET /metrics`: Prometheus text format.
async fn metrics(State(gateway): State<Gateway>) -> Response {
    // The names come from `info`, read at start-up: this cannot fail then,
    // and if it ever did, the other families are still worth serving.
    let instances = gateway
        .inner
        .module
        .runtime()
        .instance_counts()
        .unwrap_or_default();
    let mut text = gateway.inner.metrics.render(&instances);
    gateway.inner.admin.render_metrics(&mut text);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for `{method} {}`", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("`{}` does not accept `{method}`", uri.path()),
    )
}

/// Refuses what cannot be a token id (docs/FORMAT.md "Delegation"): such a
/// revocation could never refuse a token, and would stop the revocation
/// list from being signed.
fn check_token_id(name: &str, id: &str) -> Result<(), ApiError> {
    if is_token_id(id) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_value",
            format!(
                "`{name}` must be a token id: a `jti` (base64url of at least 128 bits), \
                 or a delegated token's `jti`s joined by `.`"
            ),
        ))
    }
}

fn text<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value.get(name).and_then(Value::as_str)
}

/// The module answered without a member its ABI promises.
fn bad_module_response(op: &str, member: &str) -> ApiError {
    ApiError::internal(
        "guest_bad_response",
        format!("the module's `{op}` response has no usable `{member}`"),
    )
}

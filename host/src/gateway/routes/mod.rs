//! The HTTP routes, one file per resource (`tokens`, `revoke`, `grants`,
//! `public`); here the router, its middleware and what they share. Each
//! handler reads and checks its input, calls the module and the store off
//! the async runtime, and answers JSON; every refusal is an [`ApiError`]
//! body `{"error", "reason"}`.

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

use super::audit::{AuditEvent, DEFAULT_WORKSPACE};
use super::body::{self, Fields};
use super::error::ApiError;
use super::module::CallError;
use super::store::{Grant, Refreshed, Spend, Store, StoreError, TokenRow};
use super::{Gateway, Inner};
use captoken_core::b64;
use captoken_core::token::{id_chain, is_token_id};

use crate::{entropy, now};

mod console;
mod events;
mod granted;
mod grants;
mod public;
mod refresh;
mod revoke;
mod status;
mod tokens;

use console::*;
use events::*;
use granted::*;
use grants::*;
use public::*;
use refresh::*;
use revoke::*;
use status::*;
use tokens::*;

pub(crate) use public::SignedLists;
pub(crate) use status::Places;

/// Longest principal id, workspace id, audience, plan id or `jti` accepted.
const MAX_ID_BYTES: usize = 256;
/// Longest revocation reason accepted.
const MAX_REASON_BYTES: usize = 1024;
/// The largest lifetime a token can have: JavaScript's exact integers,
/// core's bound on every integer claim.
const MAX_TTL: u64 = captoken_core::claims::MAX_SAFE_INTEGER.unsigned_abs();
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
        .route("/v1/tokens/refresh", post(refresh))
        .route("/v1/tokens/revoke", post(revoke))
        .route("/v1/capabilities", get(capabilities))
        .route("/v1/capabilities/grant", post(grant))
        .route("/v1/capabilities/revoke", post(revoke_capability))
        .route("/v1/revocations", get(revocations))
        .route("/v1/status-lists/{n}", get(status_list))
        .route("/v1/events", get(events))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/healthz", get(healthz))
        .route("/console", get(console_root))
        .route("/console/", get(console_dir))
        .route("/console/{*file}", get(console_file))
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
        err => ApiError::internal(err.code(), err.to_string()),
    }
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

/// A route's query parameters, or 400 `malformed_query`.
fn query_params(
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let Query(params) = query.map_err(|err| {
        ApiError::bad_request("malformed_query", format!("cannot read the query: {err}"))
    })?;
    Ok(params)
}

/// The query's `workspace_id`, if given (no control characters).
fn query_workspace(params: &mut BTreeMap<String, String>) -> Result<Option<String>, ApiError> {
    let workspace = params.remove("workspace_id");
    if let Some(workspace) = &workspace {
        body::no_controls("workspace_id", workspace)?;
    }
    Ok(workspace)
}

/// The query's `limit`: `default` when absent, else an integer in
/// `1..=MAX_LIST`.
fn query_limit(params: &mut BTreeMap<String, String>, default: u32) -> Result<u32, ApiError> {
    match params.remove("limit") {
        None => Ok(default),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIST).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_value",
                    format!("`limit` must be an integer in 1..={MAX_LIST}"),
                )
            }),
    }
}

/// Refuses what is left of a query once every known parameter was taken.
fn no_other_parameters(params: &BTreeMap<String, String>) -> Result<(), ApiError> {
    match params.keys().next() {
        Some(name) => Err(ApiError::bad_request(
            "unknown_field",
            format!("`{name}` is not a parameter of this request"),
        )),
        None => Ok(()),
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

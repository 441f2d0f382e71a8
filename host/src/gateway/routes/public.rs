//! The public routes: the signed revocation list, the key set, health and
//! metrics.

use super::*;
use crate::gateway::Live;

/// `GET /v1/revocations`: the revoked ids as a list signed with the
/// gateway's key, for verifiers that cannot ask the gateway each time (a
/// browser console, an offline device). Public, like the JWKS, and
/// readable across origins whatever it answers, so a console on another
/// origin sees a refusal's code too.
pub(super) async fn revocations(State(gateway): State<Gateway>) -> Response {
    signed_revocation_list(&gateway)
        .await
        .unwrap_or_else(public_refusal)
}

/// A public route's refusal, readable across origins like its answers, so
/// a console on another origin sees a refusal's code too.
pub(super) fn public_refusal(err: ApiError) -> Response {
    let mut response = err.into_response();
    public_to_pages(&mut response);
    response
}

pub(super) async fn signed_revocation_list(gateway: &Gateway) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    let live = gateway.live();
    let at = now();
    let interval = list_interval(gw);
    let body = kept_or_signed(gw, &live, ListKey::Ids, at, || async {
        // Tokens this gateway issued that expired longer ago than any
        // verifier's leeway are refused as expired anyway: leave them out.
        let snapshot = blocking(gw, move |store| store.revocation_list(at, MAX_LEEWAY)).await?;
        let lists = blocking(gw, |store| store.status_next()).await?;
        let next_update = at.saturating_add(interval);
        let entries: Vec<Value> = snapshot
            .entries
            .iter()
            // Only ids are revoked through the API; a row that is not one
            // (an older store's) can match no token, and the list would
            // refuse it.
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
        let too_large = || {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "revocation_list_too_large",
                format!(
                    "{count} revoked ids do not fit one signed list; \
                     they leave the list as the tokens they revoke expire. This gateway \
                     still refuses every one of them in /v1/tokens/verify"
                ),
            )
            .with("count", Value::from(count))
        };
        let signed =
            signed_or_refused(signed, snapshot.seq, "revocation_list_too_large", too_large)?;
        let body = json!({
            "list": signed.get("list"),
            "kid": signed.get("kid"),
            "iss": gw.config.issuer,
            "seq": snapshot.seq,
            "iat": at,
            "next_update": next_update,
            "count": count,
            // Tokens this gateway issues are revoked by their bit in these
            // lists; their ids are not repeated here.
            "status_lists": (0..list_count(lists)).map(|n| list_uri(gw, n)).collect::<Vec<_>>(),
        });
        Ok((snapshot.seq, body))
    })
    .await?;
    Ok(list_response(body, interval))
}

/// How long a signed list is fresh, in seconds (at least one).
pub(super) fn list_interval(gw: &Inner) -> i64 {
    i64::try_from(gw.config.revocation_list_interval.as_secs())
        .unwrap_or(i64::MAX)
        .max(1)
}

/// A list signed for the revocation `seq` it was read at, kept for readers
/// until `seq` moves on, the key changes or half its freshness is gone;
/// else `sign` makes it (one reader at a time: the others wait for its
/// outcome instead of each redoing the scan and the module calls). The
/// routes are public: readers cost one indexed read, not a table scan and
/// two module calls each. A refusal that is a state of the store is kept
/// like a list, so a reader cannot make the gateway redo it.
pub(super) async fn kept_or_signed<F, Fut>(
    gw: &Inner,
    live: &Live,
    key: ListKey,
    at: i64,
    sign: F,
) -> Result<Value, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(i64, Value), Refusal>>,
{
    let interval = list_interval(gw);
    let kid = live.key.kid.as_str();
    let seq = blocking(gw, |store| store.revocation_seq()).await?;
    if let Some(kept) = gw.lists.cached(key, seq, kid, at, interval) {
        return kept;
    }
    let _signing = gw.lists.signing.lock().await;
    let seq = blocking(gw, |store| store.revocation_seq()).await?;
    if let Some(kept) = gw.lists.cached(key, seq, kid, at, interval) {
        return kept;
    }
    match sign().await {
        Ok((seq, body)) => {
            gw.lists.keep(key, seq, kid, at, Ok(body.clone()));
            Ok(body)
        }
        Err(Refusal { err, kept_for }) => {
            if let Some(seq) = kept_for {
                gw.lists.keep(key, seq, kid, at, Err(err.clone()));
            }
            Err(err)
        }
    }
}

/// Why a list was not signed, and the revocation `seq` to keep that
/// answer for (none: the next reader tries again).
pub(super) struct Refusal {
    err: ApiError,
    kept_for: Option<i64>,
}

impl From<ApiError> for Refusal {
    /// A failure to read the store: not kept.
    fn from(err: ApiError) -> Self {
        Refusal {
            err,
            kept_for: None,
        }
    }
}

/// The module's signed list, or why not: `too_large` when the list is too
/// long to sign (the module's `too_large_code`, or the request already past
/// the module's input limit). Everything in a list came from the store read
/// at `seq`, not from the client, so a refusal is a state of the store,
/// kept for `seq`; only a full module pool (`host_busy`) is left to the
/// next reader.
pub(super) fn signed_or_refused(
    signed: Result<Value, CallError>,
    seq: i64,
    too_large_code: &str,
    too_large: impl FnOnce() -> ApiError,
) -> Result<Value, Refusal> {
    let kept = |err: ApiError| Refusal {
        err,
        kept_for: Some(seq),
    };
    match signed {
        Ok(signed) => Ok(signed),
        Err(CallError::Rejected { code, .. }) if code == too_large_code => Err(kept(too_large())),
        Err(CallError::Failed(err)) if err.code() == "request_too_large" => Err(kept(too_large())),
        Err(CallError::Failed(err)) if err.code() == "host_busy" => Err(err.into()),
        Err(CallError::Rejected { code, message, .. }) => {
            Err(kept(ApiError::internal(&code, message)))
        }
        Err(CallError::Failed(err)) => Err(kept(err)),
    }
}

pub(super) fn list_response(body: Value, interval: i64) -> Response {
    let mut response = axum::Json(body).into_response();
    // A cached copy is still fresh for a while; never past `next_update`.
    let max_age = list_max_age(interval);
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    public_to_pages(&mut response);
    response
}

/// How long a reader may keep a signed list before asking again.
pub(super) fn list_max_age(interval: i64) -> i64 {
    (interval / 5).clamp(1, 60)
}

/// Which list is kept: the revoked ids, or status list `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum ListKey {
    Ids,
    Status(u64),
}

/// The last signed list of each kind (or the refusal to sign one), for
/// reuse by the public routes, and the lock one signing reader holds.
#[derive(Debug, Default)]
pub(crate) struct SignedLists {
    kept: std::sync::Mutex<std::collections::HashMap<ListKey, KeptList>>,
    signing: tokio::sync::Mutex<()>,
}

/// A list's `seq`, the `kid` of the key in force, when it was signed (or
/// refused), and the outcome.
type KeptList = (i64, String, i64, Result<Value, ApiError>);

impl SignedLists {
    /// The kept outcome for `key`, if it is for `seq` under the key `kid`
    /// (after a reload to a new key, lists the old key signed no longer
    /// match) and was reached less than half an interval before `at`.
    fn cached(
        &self,
        key: ListKey,
        seq: i64,
        kid: &str,
        at: i64,
        interval: i64,
    ) -> Option<Result<Value, ApiError>> {
        let kept = self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match kept.get(&key) {
            Some((kept_seq, kept_kid, iat, outcome))
                if *kept_seq == seq && kept_kid == kid && at < iat.saturating_add(interval / 2) =>
            {
                Some(outcome.clone())
            }
            _ => None,
        }
    }

    /// Keeps an outcome; lists only exist below the places handed out, so
    /// the map holds one entry per list there is.
    fn keep(&self, key: ListKey, seq: i64, kid: &str, iat: i64, outcome: Result<Value, ApiError>) {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, (seq, kid.to_owned(), iat, outcome));
    }
}

/// Lets a page on any origin read this response (CORS): an operator console
/// verifying client-side fetches the JWKS and the signed revocation list
/// straight from the gateway. Both are public and signed or self-checking;
/// no credentials are involved, so `*` grants nothing a `curl` would not.
pub(super) fn public_to_pages(response: &mut Response) {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

/// `GET /.well-known/jwks.json`: the key tokens are verified with.
pub(super) async fn jwks(State(gateway): State<Gateway>) -> Response {
    let mut response = axum::Json(gateway.jwks()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    public_to_pages(&mut response);
    response
}

/// `GET /healthz`: the store answers and the module runs.
pub(super) async fn healthz(State(gateway): State<Gateway>) -> Result<Response, ApiError> {
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
pub(super) async fn metrics(State(gateway): State<Gateway>) -> Response {
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

//! The public routes: the signed revocation list, the key set, health and
//! metrics.

use super::*;

/// `GET /v1/revocations`: the revoked ids as a list signed with the
/// gateway's key, for verifiers that cannot ask the gateway each time (a
/// browser console, an offline device). Public, like the JWKS, and
/// readable across origins whatever it answers, so a console on another
/// origin sees a refusal's code too.
pub(super) async fn revocations(State(gateway): State<Gateway>) -> Response {
    signed_revocation_list(&gateway)
        .await
        .unwrap_or_else(|err| {
            let mut response = err.into_response();
            public_to_pages(&mut response);
            response
        })
}

pub(super) async fn signed_revocation_list(gateway: &Gateway) -> Result<Response, ApiError> {
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
pub(super) fn keep_too_large(gw: &Inner, seq: i64, kid: &str, at: i64, count: usize) -> ApiError {
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

pub(super) fn revocation_list_response(body: Value, interval: i64) -> Response {
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

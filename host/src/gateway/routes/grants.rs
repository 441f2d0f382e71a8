//! `POST /v1/capabilities/grant` (recording a holder's delegation) and
//! `GET /v1/capabilities`.

use super::*;
use captoken_core::audit::EventKind;

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
pub(super) async fn grant(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    gw.admin.check(&headers).await?;
    let bytes = body::read(&headers, body, gw.config.max_body_bytes).await?;
    let mut fields = Fields::parse(&bytes)?;
    if !fields.has("token") {
        // TASK-103's shape: the gateway mints the grant itself.
        return grant_issued(&gateway, fields).await;
    }
    let token = fields.string("token", gw.config.max_body_bytes)?;
    let workspace = fields.opt_string("workspace_id", MAX_ID_BYTES)?;
    let audience = fields.opt_string("audience", MAX_ID_BYTES)?;
    fields.done()?;

    // A refusal is recorded in the workspace the request named.
    let refusals_in = workspace
        .clone()
        .unwrap_or_else(|| DEFAULT_WORKSPACE.to_owned());
    let verified = verify_grant(gw, gateway.trusted_jwks(), &token, audience, &refusals_in).await?;
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
        // It carries its root's place in the status lists.
        status_idx: None,
    };
    let chain = chain_ids(&verified)?;
    // The module counts links from the token its issuer signed, and
    // refuses past the limit counting that token's `grant_depth` (a grant
    // the gateway minted below another); recorded is the whole depth.
    let depth = depth.saturating_add(
        claims
            .get("grant_depth")
            .and_then(Value::as_i64)
            .unwrap_or(0),
    );
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
            return Err(attempted(gw, &parent_id, Some(&sub), conflict, &refusals_in).await);
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

/// Verifies `token` as a grant: one module call (`verify` with `grant`),
/// then this gateway's revocations. A chain refused while its parent is
/// sound (the module says so by naming the `agent.delegation.attempted`
/// event to append; the store then finds no revoked id on the parent's
/// chain) is a refused delegation: audited and answered 403 with the
/// module's code. Any other refusal is 401, nothing recorded: there is no
/// sound parent a delegation was attempted from.
async fn verify_grant(
    gw: &Inner,
    jwks: Value,
    token: &str,
    audience: Option<String>,
    workspace: &str,
) -> Result<Value, ApiError> {
    let mut request = verify_request(gw, jwks, token, audience, now());
    if let Value::Object(members) = &mut request {
        members.insert("grant".to_owned(), Value::Bool(true));
    }
    let verified = match gw.module.call(gw.ops.verify, "verify", request).await {
        Ok(verified) => verified,
        Err(CallError::Rejected {
            code,
            message,
            path,
            audit,
        }) => {
            let refusal = ApiError::unauthorized(&code, message).at(path);
            let Some(event) = audit.as_deref().and_then(AuditEvent::from_module) else {
                return Err(refusal);
            };
            let event = event.in_workspace(workspace);
            let parent_id = text(&event.data, "parent_id")
                .ok_or_else(|| bad_module_response("verify", "audit.data.parent_id"))?
                .to_owned();
            let ids: Vec<String> = id_chain(&parent_id).map(str::to_owned).collect();
            if first_revoked(gw, ids).await?.is_some() {
                return Err(refusal);
            }
            return Err(
                append_refusal(gw, event, refusal.with_status(StatusCode::FORBIDDEN)).await,
            );
        }
        Err(CallError::Failed(err)) => return Err(err),
    };
    let ids = chain_ids(&verified)?;
    let own = ids.last().cloned().unwrap_or_default();
    match first_revoked(gw, ids).await? {
        None => Ok(verified),
        // The child itself was revoked (recorded, then revoked): its parent
        // is sound, so presenting it again is a refused delegation.
        Some(id) if id == own => {
            let parent_id = verified
                .get("chain")
                .and_then(Value::as_array)
                .and_then(|chain| chain.last())
                .and_then(|parent| text(parent, "id"))
                .ok_or_else(|| bad_module_response("verify", "chain[].id"))?;
            let sub = verified.get("claims").and_then(|c| text(c, "sub"));
            let refusal = revoked_error(&id, &own).with_status(StatusCode::FORBIDDEN);
            Err(attempted(gw, parent_id, sub, refusal, workspace).await)
        }
        Some(id) => Err(revoked_error(&id, &own)),
    }
}

/// The lowercase hex SHA-256 of a token's text, as the store keeps it.
pub(super) fn token_sha256(text: &str) -> String {
    captoken_runtime::sha256_hex(text.as_bytes())
}

/// Appends `agent.delegation.attempted` for a refused delegation from
/// `parent_id` (for `sub`, when known), in `workspace`, as core writes that event's data,
/// and answers `refusal`, or the store's error if the record could not be
/// written (a refusal is not reported as audited unless it is).
pub(super) async fn attempted(
    gw: &Inner,
    parent_id: &str,
    sub: Option<&str>,
    refusal: ApiError,
    workspace: &str,
) -> ApiError {
    let data = captoken_core::audit::data::delegation_attempted(parent_id, sub, refusal.code());
    let event = match serde_json::to_value(&data) {
        Ok(data) => {
            AuditEvent::new(EventKind::DelegationAttempted.name(), data).in_workspace(workspace)
        }
        Err(err) => return ApiError::internal("host_json", err.to_string()),
    };
    append_refusal(gw, event, refusal).await
}

/// Appends `event` for a refusal and answers `refusal`, or the store's
/// error if the record could not be written.
async fn append_refusal(gw: &Inner, event: AuditEvent, refusal: ApiError) -> ApiError {
    let at = now();
    match blocking(gw, move |store| store.record_event(at, &event)).await {
        Ok(()) => refusal,
        Err(err) => err,
    }
}

/// `GET /v1/capabilities?principal_id=…[&workspace_id=…][&include_inactive=true][&limit=…]`.
pub(super) async fn capabilities(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    gw.admin.check(&headers).await?;
    let mut params = query_params(query)?;
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
    let workspace = query_workspace(&mut params)?;
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
    let limit = query_limit(&mut params, 100)?;
    no_other_parameters(&params)?;
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

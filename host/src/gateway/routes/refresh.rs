//! `POST /v1/tokens/refresh`: a holder trades its token, with a proof of
//! possession of the token's key, for a fresh one the policy in force
//! grants, never wider.

use super::*;

/// The holder proves possession (the module checks the proof with the
/// token, the replay guard accepts it once), then the module's `refresh`
/// decides and the host signs; the new token is recorded with its audit
/// record before it is handed out.
pub(super) async fn refresh(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    let live = gateway.live();
    let bytes = body::read(&headers, body, gw.config.max_body_bytes).await?;
    let mut fields = Fields::parse(&bytes)?;
    let token = fields.string("token", gw.config.max_body_bytes)?;
    let proof = fields.string("proof", gw.config.max_body_bytes)?;
    let audience = fields.opt_string("audience", MAX_ID_BYTES)?;
    let nonce = fields.opt_string("nonce", MAX_ID_BYTES)?;
    let requested_ttl = fields.opt_positive("expires_in_seconds", MAX_TTL)?;
    fields.done()?;

    // 1. The token (401 if it is bad, expired or revoked) and the proof
    // that the caller holds its key, spent once.
    let at = now();
    let mut check = json!({ "proof": proof });
    if let (Some(nonce), Value::Object(members)) = (nonce, &mut check) {
        members.insert("nonce".to_owned(), Value::String(nonce));
    }
    let verified =
        verify_token_at(gw, &live, token.clone(), audience.clone(), Some(check), at).await?;
    let own = chain_ids(&verified)?.last().cloned().unwrap_or_default();
    let recorded = own.clone();
    if let Some(lineage) = blocking(gw, move |store| store.lineage(&recorded)).await?
        && lineage.row.parent_token_id.is_some()
    {
        return Err(not_root(&own, lineage.depth));
    }
    spend_proof(gw, &verified, at).await?;

    // 2. The module's decision: the policy in force, never wider than the
    // token, signed by the host's signer.
    let entropy = entropy::<ISSUE_ENTROPY_BYTES>().map_err(|err| ApiError::from_host(&err))?;
    let mut request = verify_request(gw, live.key.trusted(), &token, audience, at);
    if let Value::Object(members) = &mut request {
        members.insert("policy".to_owned(), live.policy.clone());
        members.insert("entropy".to_owned(), Value::from(b64::encode(&entropy)));
        if let Some(ttl) = requested_ttl {
            members.insert("ttl".to_owned(), Value::from(ttl));
        }
    }
    // A place of its own: revoking the new token must not be revoking the
    // old one's place, nor the other way round.
    let (place, status) = status_place(gw).await?;
    if let Value::Object(members) = &mut request {
        members.insert("status".to_owned(), status);
    }
    let refreshed = gw
        .module
        .call_signed(
            gw.ops.refresh,
            "refresh",
            Arc::clone(&live.key.signer),
            live.key.public_jwk.clone(),
            request,
            "token",
        )
        .await
        // The token passed above: what the module refuses now is the
        // refresh itself (a delegated token, a policy that no longer grants
        // it, one it could not decide within its budget).
        .map_err(|err| err.refused(|_| StatusCode::FORBIDDEN))?;
    let member = |name: &str| {
        refreshed
            .get(name)
            .cloned()
            .ok_or_else(|| bad_module_response("refresh", name))
    };
    let (jti, iat, exp) = issued_times(&refreshed, "refresh")?;
    let replaces = text(&refreshed, "replaces")
        .ok_or_else(|| bad_module_response("refresh", "replaces"))?
        .to_owned();
    let caps = member("caps")?;
    let claims = verified.get("claims").cloned().unwrap_or(Value::Null);
    let subject = text(&claims, "sub")
        .ok_or_else(|| bad_module_response("verify", "claims.sub"))?
        .to_owned();
    let event = refreshed
        .get("audit")
        .and_then(AuditEvent::from_module)
        .ok_or_else(|| bad_module_response("refresh", "audit"))?;

    // 3. Recorded before it is handed out, unless the token was revoked
    // meanwhile.
    let mut scopes = json!({ "caps": caps, "aud": claims.get("aud") });
    if let (Some(plan_id), Value::Object(members)) = (claims.get("plan_id"), &mut scopes) {
        members.insert("plan_id".to_owned(), plan_id.clone());
    }
    let row = TokenRow {
        token_id: jti.clone(),
        workspace_id: DEFAULT_WORKSPACE.to_owned(),
        issued_to: subject.clone(),
        granted_by: ADMIN_PRINCIPAL.to_owned(),
        parent_token_id: None,
        scopes,
        valid_until: Some(exp),
        revoked_at: None,
        created_at: iat,
        token_sha256: refreshed
            .get("token")
            .and_then(Value::as_str)
            .map(token_sha256),
        status_idx: Some(place),
    };
    let chain = chain_ids(&verified)?;
    let own = chain.last().cloned().unwrap_or_default();
    let recorded = blocking(gw, move |store| {
        store.insert_refreshed(&row, &replaces, &chain, &event)
    })
    .await?;
    let workspace = match recorded {
        Refreshed::Recorded { workspace_id } => workspace_id,
        Refreshed::Revoked(id) => return Err(revoked_error(&id, &own)),
        // A token granted below another (POST /v1/capabilities/grant with
        // a parent): its grantor decides what it holds and until when, so
        // the policy may not renew it past its parent.
        Refreshed::NotRoot { depth } => return Err(not_root(&own, depth)),
    };
    let body = json!({
        "token": member("token")?,
        "jti": jti,
        "kid": refreshed.get("kid"),
        "replaces": refreshed.get("replaces"),
        "subject": subject,
        "workspace_id": workspace,
        "capabilities": caps,
        "issued_at": iat,
        "expires_at": exp,
        "expires_in_seconds": exp.saturating_sub(iat),
    });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// 403 `refresh_not_root`: `id` was granted below another token.
fn not_root(id: &str, depth: i64) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "refresh_not_root",
        format!(
            "`{id}` was granted below another token (depth {depth}): its grantor, not the \
             policy, renews it"
        ),
    )
}

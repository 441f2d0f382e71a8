//! `POST /v1/tokens/revoke` and `POST /v1/capabilities/revoke`.

use super::*;

/// `POST /v1/tokens/revoke` `{jti, reason?}`: answered only once the
/// revocation is on disk; audited as `token_revoked`.
pub(super) async fn revoke(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    revoke_id(&gateway, &headers, body, "jti", "token_revoked").await
}

/// `POST /v1/capabilities/revoke` `{token_id, reason?}`: the same
/// revocation, named as TASK-103 names it and audited as
/// `agent.capability.revoked`.
pub(super) async fn revoke_capability(
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
pub(super) async fn revoke_id(
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

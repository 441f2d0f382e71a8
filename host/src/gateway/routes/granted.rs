//! `POST /v1/capabilities/grant` in TASK-103's shape: the gateway mints the
//! grant. Without `parent_token_id` it is a root grant through the policy,
//! as `POST /v1/tokens`; with one, a child of a recorded token, never wider
//! and never longer-lived than it, at most [`MAX_DEPTH`] below its root.

use super::*;
use crate::gateway::Live;
use crate::gateway::store::Lineage;

/// The deepest a grant may be below its root: the module's delegation
/// limit, so a chain of grants and holder delegations is held to one rule.
pub(super) const MAX_DEPTH: i64 = 3;

/// `{workspace_id?, issued_to_principal_id, granted_by_principal_id,
/// parent_token_id?, scopes, expires_in_seconds? | valid_until?,
/// subject_public_key? | subject_pubkey?}`.
pub(super) async fn grant_issued(
    gateway: &Gateway,
    mut fields: Fields,
) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    let live = gateway.live();
    let workspace = fields.opt_string("workspace_id", MAX_ID_BYTES)?;
    let issued_to = fields.string("issued_to_principal_id", MAX_ID_BYTES)?;
    let granted_by = fields.string("granted_by_principal_id", MAX_ID_BYTES)?;
    let parent = fields.opt_string("parent_token_id", MAX_ID_BYTES)?;
    let scopes = fields.opt_array("scopes")?.ok_or_else(|| {
        ApiError::bad_request("missing_field", "`scopes` (a capability list) is required")
    })?;
    let ttl = fields.opt_positive("expires_in_seconds", MAX_TTL)?;
    let until = fields.opt_positive("valid_until", MAX_TTL)?;
    let jwk = fields.opt_object("subject_public_key")?;
    let raw = fields.opt_string("subject_pubkey", MAX_ID_BYTES)?;
    fields.done()?;
    let at = now();
    let requested_ttl = match (ttl, until) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_value",
                "give `expires_in_seconds` or `valid_until`, not both",
            ));
        }
        (ttl, None) => ttl,
        (None, Some(until)) => {
            let left = i64::try_from(until).unwrap_or(i64::MAX).saturating_sub(at);
            Some(u64::try_from(left).ok().filter(|&s| s > 0).ok_or_else(|| {
                ApiError::bad_request("invalid_value", "`valid_until` has passed")
            })?)
        }
    };
    // A grant binds its holder's key: TASK-103 grants are never bearer tokens.
    let (subject, subject_key) = holder(Some(issued_to), jwk, raw)?;
    let Some(parent) = parent else {
        let ask = RootAsk {
            subject,
            subject_key: Some(subject_key),
            capabilities: scopes,
            requested_ttl,
            audience: gw.config.audience.clone(),
            attributes: None,
            workspace: workspace.unwrap_or_else(|| DEFAULT_WORKSPACE.to_owned()),
            plan_id: None,
            granted_by: granted_by.clone(),
            grant: true,
        };
        let mut body = issue_root(gw, &live, ask).await?;
        if let Value::Object(members) = &mut body {
            let more = [
                (
                    "token_id",
                    members.get("jti").cloned().unwrap_or(Value::Null),
                ),
                ("parent_token_id", Value::Null),
                (
                    "issued_to_principal_id",
                    members.get("subject").cloned().unwrap_or(Value::Null),
                ),
                ("granted_by_principal_id", Value::String(granted_by)),
                ("depth", Value::from(0)),
            ];
            for (name, value) in more {
                members.insert(name.to_owned(), value);
            }
        }
        return Ok((StatusCode::CREATED, axum::Json(body)).into_response());
    };
    check_token_id("parent_token_id", &parent)?;
    let child = Child {
        subject,
        subject_key,
        scopes,
        requested_ttl,
        workspace,
        granted_by,
    };
    let body = grant_child(gw, &live, &parent, child, at).await?;
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// What a child grant asks for.
struct Child {
    subject: String,
    subject_key: serde_json::Map<String, Value>,
    scopes: Vec<Value>,
    requested_ttl: Option<u64>,
    /// Named by the request; else the parent's.
    workspace: Option<String>,
    granted_by: String,
}

/// The parent found and checked, the scope computed with the module, the
/// child signed by the gateway's key with a place of its own in the status
/// lists (its bit, and its descendants', are set when it or an ancestor is
/// revoked: a revocation marks the rows below it), then recorded with its
/// edge and audited, unless an ancestor was revoked meanwhile.
async fn grant_child(
    gw: &Inner,
    live: &Live,
    parent: &str,
    child: Child,
    at: i64,
) -> Result<Value, ApiError> {
    let Child {
        subject,
        subject_key,
        scopes,
        requested_ttl,
        workspace,
        granted_by,
    } = child;
    let wanted = parent.to_owned();
    let lineage = blocking(gw, move |store| store.lineage(&wanted))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_token",
                format!("no token recorded here has the id `{parent}`"),
            )
        })?;
    let Lineage {
        row: parent_row,
        depth: parent_depth,
        ids: chain,
    } = lineage;
    // Refusals are recorded where the grant would have gone.
    let workspace = workspace.unwrap_or_else(|| parent_row.workspace_id.clone());
    // Refusals below are attempts on a sound parent: audited.
    let refuse = |code: &str, message: String| ApiError::new(StatusCode::FORBIDDEN, code, message);
    let parent_until = parent_row.valid_until.unwrap_or(i64::MAX);
    if parent_row.revoked_at.is_some() {
        return Err(refuse(
            "revoked",
            format!("the parent `{parent}` has been revoked"),
        ));
    }
    if parent_until <= at {
        return Err(refuse(
            "expired",
            format!("the parent `{parent}` has expired"),
        ));
    }
    let depth = parent_depth.saturating_add(1);
    if depth > MAX_DEPTH {
        let refusal = refuse(
            "delegation_too_deep",
            format!("a grant below `{parent}` would be {depth} deep; at most {MAX_DEPTH}"),
        );
        return Err(attempted(gw, parent, Some(&subject), refusal, &workspace).await);
    }
    // min(parent, asked), by the module; narrowing is reported, an empty
    // result refused.
    let held = parent_row
        .scopes
        .get("caps")
        .cloned()
        .unwrap_or(Value::Null);
    let asked = Value::Array(scopes);
    let meet = |a: &Value, b: &Value| {
        let request = json!({ "a": a, "b": b });
        async move {
            gw.module
                .call(gw.ops.scope_meet, "scope_meet", request)
                .await
                .map_err(|err| match err {
                    CallError::Rejected {
                        code,
                        message,
                        path,
                        ..
                    } => {
                        // `b` is what the request calls `scopes`.
                        let path = path.map(|p| match p.strip_prefix('b') {
                            Some(rest) => format!("scopes{rest}"),
                            None => p,
                        });
                        ApiError::bad_request(&code, message).at(path)
                    }
                    CallError::Failed(err) => err,
                })?
                .get("caps")
                .cloned()
                .ok_or_else(|| bad_module_response("scope_meet", "caps"))
        }
    };
    let granted = meet(&held, &asked).await?;
    if granted.as_array().is_none_or(Vec::is_empty) {
        let refusal = refuse(
            "delegation_escalation",
            format!("nothing of `scopes` is within what `{parent}` holds"),
        );
        return Err(attempted(gw, parent, Some(&subject), refusal, &workspace).await);
    }
    let narrowed = granted != meet(&asked, &asked).await?;
    // Never past the parent's expiry.
    let left = u64::try_from(parent_until.saturating_sub(at)).unwrap_or(0);
    let ttl = requested_ttl.map_or(left, |asked| asked.min(left));
    let audience = parent_row.scopes.get("aud").cloned().unwrap_or(Value::Null);
    // It says how deep it was granted: every verifier's depth limit, and
    // its holder's own delegations from it, count from there.
    let mut claims = json!({
        "sub": subject,
        "aud": audience,
        "cnf": { "jwk": subject_key },
        "caps": granted,
        "grant_depth": depth,
    });
    // The parent's plan, as a delegated child carries it.
    let plan_id = parent_row.scopes.get("plan_id").cloned();
    let (place, status) = status_place(gw).await?;
    if let Value::Object(members) = &mut claims {
        members.insert("status".to_owned(), status);
        if let Some(plan_id) = &plan_id {
            members.insert("plan_id".to_owned(), plan_id.clone());
        }
    }
    let entropy = entropy::<ISSUE_ENTROPY_BYTES>().map_err(|err| ApiError::from_host(&err))?;
    let issued = gw
        .module
        .call_signed(
            gw.ops.issue,
            "issue",
            Arc::clone(&live.key.signer),
            live.key.public_jwk.clone(),
            json!({
                "issuer": gw.config.issuer,
                "now": at,
                "entropy": b64::encode(&entropy),
                "ttl": ttl,
                "claims": claims,
            }),
            "token",
        )
        .await
        .map_err(|err| err.refused(|_| StatusCode::BAD_REQUEST))?;
    let (jti, iat, exp) = issued_times(&issued, "issue")?;
    let token = issued.get("token").cloned().unwrap_or(Value::Null);
    let row = TokenRow {
        token_id: jti.clone(),
        workspace_id: workspace.clone(),
        issued_to: subject.clone(),
        granted_by: granted_by.clone(),
        parent_token_id: Some(parent.to_owned()),
        scopes: match &plan_id {
            Some(plan_id) => json!({ "caps": granted, "aud": audience, "plan_id": plan_id }),
            None => json!({ "caps": granted, "aud": audience }),
        },
        valid_until: Some(exp),
        revoked_at: None,
        created_at: iat,
        token_sha256: token.as_str().map(token_sha256),
        status_idx: Some(place),
    };
    let event = AuditEvent::new(
        "agent.capability.granted",
        json!({ "id": jti, "parent_id": parent, "sub": subject, "caps": granted, "exp": exp }),
    );
    let recorded = blocking(gw, move |store| {
        store.grant(&row, Some(&workspace), depth, &chain, &event)
    })
    .await?;
    let workspace_id = match recorded {
        Grant::Recorded { workspace_id } => workspace_id,
        // Revoked since it was read: refused like a revoked parent.
        Grant::Revoked(id) => {
            return Err(refuse(
                "revoked",
                format!("`{id}`, the parent or an ancestor, has been revoked"),
            ));
        }
        Grant::UnknownParent => {
            return Err(bad_module_response("lineage", "parent_token_id"));
        }
        // A fresh `jti` from the module's entropy is recorded nowhere.
        Grant::IdConflict | Grant::AlreadyRecorded { .. } => {
            return Err(ApiError::internal(
                "id_conflict",
                format!("the fresh id `{jti}` is recorded already"),
            ));
        }
    };
    Ok(json!({
        "token": token,
        "token_id": jti,
        "jti": jti,
        "kid": issued.get("kid"),
        "parent_token_id": parent,
        "issued_to_principal_id": subject,
        "granted_by_principal_id": granted_by,
        "workspace_id": workspace_id,
        "capabilities": granted,
        "depth": depth,
        "narrowed": narrowed,
        "issued_at": iat,
        "expires_at": exp,
        "expires_in_seconds": exp.saturating_sub(iat),
        "requested_expires_in_seconds": requested_ttl,
        "ttl_capped": requested_ttl.is_some_and(|asked| asked > ttl),
    }))
}

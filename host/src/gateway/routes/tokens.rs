//! `POST /v1/tokens` (issue through the policy) and `POST /v1/tokens/verify`
//! (the token, its proof of possession, its single use).

use super::*;
use crate::gateway::Live;

/// `POST /v1/tokens`: policy, then signature, then the store, then the token.
pub(super) async fn issue(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    let live = gateway.live();
    gw.admin.check(&headers).await?;
    let bytes = body::read(&headers, body, gw.config.max_body_bytes).await?;
    let mut fields = Fields::parse(&bytes)?;
    let subject = fields.opt_string("subject", MAX_ID_BYTES)?;
    let subject_jwk = fields.opt_object("subject_public_key")?;
    let subject_raw = fields.opt_string("subject_pubkey", MAX_ID_BYTES)?;
    let capabilities = fields.opt_array("capabilities")?;
    let scope = fields.opt_string("scope", MAX_ID_BYTES)?;
    let requested_ttl = fields.opt_positive("expires_in_seconds", MAX_TTL)?;
    let audience = fields.opt_string("audience", MAX_ID_BYTES)?;
    let attributes = fields.opt_object("subject_attributes")?;
    let workspace = fields.opt_string("workspace_id", MAX_ID_BYTES)?;
    let plan_id = fields.opt_string("plan_id", MAX_ID_BYTES)?;
    let bearer = fields.opt_bool("bearer")?;
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
    let (subject, subject_key) = if bearer {
        (
            bearer_subject(subject, subject_jwk.is_some() || subject_raw.is_some())?,
            None,
        )
    } else {
        let (subject, key) = holder(subject, subject_jwk, subject_raw)?;
        (subject, Some(key))
    };
    let ask = RootAsk {
        subject,
        subject_key,
        capabilities,
        requested_ttl,
        audience: audience.unwrap_or_else(|| gw.config.audience.clone()),
        attributes,
        workspace: workspace.unwrap_or_else(|| DEFAULT_WORKSPACE.to_owned()),
        plan_id,
        granted_by: ADMIN_PRINCIPAL.to_owned(),
        grant: false,
    };
    let body = issue_root(gw, &live, ask).await?;
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// A token to issue through the policy: what `POST /v1/tokens` asks, and
/// a TASK-103 grant without a parent.
pub(super) struct RootAsk {
    pub(super) subject: String,
    /// The holder's public key; `None` asks the policy for a bearer token
    /// (the request said `bearer: true`).
    pub(super) subject_key: Option<serde_json::Map<String, Value>>,
    pub(super) capabilities: Vec<Value>,
    pub(super) requested_ttl: Option<u64>,
    pub(super) audience: String,
    pub(super) attributes: Option<serde_json::Map<String, Value>>,
    pub(super) workspace: String,
    pub(super) plan_id: Option<String>,
    /// Who asked, as the store records it.
    pub(super) granted_by: String,
    /// A TASK-103 grant (`agent.capability.granted` in the log), not an
    /// issue (`token_issued`).
    pub(super) grant: bool,
}

/// Policy, then signature, then the store: the issued token, recorded and
/// audited, as `POST /v1/tokens` answers it; 403 with the policy's code
/// when it grants nothing.
pub(super) async fn issue_root(gw: &Inner, live: &Live, ask: RootAsk) -> Result<Value, ApiError> {
    let RootAsk {
        subject,
        subject_key,
        capabilities,
        requested_ttl,
        audience,
        attributes,
        workspace,
        plan_id,
        granted_by,
        grant,
    } = ask;

    // 1. One module decision: what the policy grants this subject of what
    // was asked, signed exactly (the prepared token, then the signature
    // attached), or the policy's denial with nothing signed.
    // Without a holder key the module asks the policy for a bearer token.
    let bearer = subject_key.is_none();
    let mut claims = json!({
        "sub": subject,
        "aud": audience,
        "caps": capabilities,
    });
    if let Value::Object(members) = &mut claims {
        if let Some(key) = subject_key {
            members.insert("cnf".to_owned(), json!({ "jwk": key }));
        }
        if let Some(plan_id) = &plan_id {
            members.insert("plan_id".to_owned(), Value::String(plan_id.clone()));
        }
    }
    // Its place in a status list, where its revocation will be published.
    let (place, status) = status_place(gw).await?;
    if let Value::Object(members) = &mut claims {
        members.insert("status".to_owned(), status);
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
        if bearer {
            members.insert("bearer".to_owned(), Value::Bool(true));
        }
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
        .map_err(|err| {
            err.refused(|code| match code {
                // The policy could not decide within its budget: no grant.
                "policy_budget_exceeded" => StatusCode::FORBIDDEN,
                // The issuing key and the policy are checked at start-up,
                // so a refusal here is about what the client sent: its
                // key, its claims, its attributes.
                _ => StatusCode::BAD_REQUEST,
            })
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
    let (jti, iat, exp) = issued_times(&issued, "issue")?;

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
        granted_by,
        parent_token_id: None,
        scopes,
        valid_until: Some(exp),
        revoked_at: None,
        created_at: iat,
        token_sha256: issued
            .get("token")
            .and_then(Value::as_str)
            .map(token_sha256),
        status_idx: Some(place),
    };
    let event = issued
        .get("audit")
        .and_then(AuditEvent::from_module)
        .ok_or_else(|| bad_module_response("issue", "audit"))?;
    // TASK-103: a grant emits `agent.capability.granted` (a root grant has
    // no `parent_id`), with the same members a minted grant's event has.
    let event = if grant {
        AuditEvent::new(
            "agent.capability.granted",
            json!({ "id": jti, "sub": subject, "caps": granted, "exp": exp }),
        )
    } else {
        event
    };
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
        // A lifetime asked for beyond the policy's cap is capped, not refused.
        "requested_expires_in_seconds": requested_ttl,
        "ttl_capped": requested_ttl.is_some_and(|asked| asked > ttl),
        "narrowed": issued.get("narrowed"),
        "matched_rules": issued.get("matched_rules"),
        "bearer": bearer,
    });
    Ok(body)
}

/// The `jti`, `iat` and `exp` of a token `op` answered.
pub(super) fn issued_times(answer: &Value, op: &str) -> Result<(String, i64, i64), ApiError> {
    let jti = text(answer, "jti").ok_or_else(|| bad_module_response(op, "jti"))?;
    let time = |name: &str| {
        answer
            .get(name)
            .and_then(Value::as_i64)
            .ok_or_else(|| bad_module_response(op, name))
    };
    Ok((jti.to_owned(), time("iat")?, time("exp")?))
}

/// The holder's public key and the principal it is issued to, from a JWK
/// (`subject_public_key`) or a raw key as the seed how-to pastes one
/// (`subject_pubkey`: hex, base64 or base64url), read by core's own
/// readers. Without `subject`, the principal is the key itself:
/// `key:<RFC 7638 thumbprint>`.
pub(super) fn holder(
    subject: Option<String>,
    jwk: Option<serde_json::Map<String, Value>>,
    raw: Option<String>,
) -> Result<(String, serde_json::Map<String, Value>), ApiError> {
    use captoken_core::keys;
    let refused = |err: keys::KeyError, member: &str| {
        ApiError::bad_request(err.code(), format!("`{member}`: {err}"))
    };
    let (thumbprint, jwk) = match (jwk, raw) {
        (Some(jwk), None) => {
            if jwk.contains_key("d") {
                // Stripping `d` would hide the mistake; the key has left its holder.
                return Err(ApiError::bad_request(
                    "private_key_submitted",
                    "`subject_public_key` holds a private key (`d`): send only the public key, \
                     and treat this key pair as compromised",
                ));
            }
            if let Some(subject) = &subject {
                // The module reads the key, as it reads every claim.
                return Ok((subject.clone(), jwk));
            }
            let text = serde_json::to_vec(&jwk)
                .map_err(|err| ApiError::internal("host_json", err.to_string()))?;
            let parsed = captoken_core::json::parse(&text, captoken_core::ops::MAX_REQUEST_DEPTH)
                .map_err(|err| ApiError::bad_request(err.code(), err.to_string()))?;
            let key = keys::verifying_key_from_jwk(&parsed)
                .map_err(|err| refused(err, "subject_public_key"))?;
            (keys::thumbprint(&key), jwk)
        }
        (None, Some(raw)) => {
            let key =
                keys::verifying_key_from_raw(&raw).map_err(|err| refused(err, "subject_pubkey"))?;
            let jwk = serde_json::from_slice(&keys::public_jwk(&key).to_vec())
                .map_err(|err| ApiError::internal("host_json", err.to_string()))?;
            (keys::thumbprint(&key), jwk)
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_value",
                "give `subject_public_key` (a JWK) or `subject_pubkey` (raw), not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "missing_field",
                "`subject_public_key` (a JWK) or `subject_pubkey` (a raw Ed25519 key) is \
                 required (or `bearer: true`, where the policy allows bearer tokens)",
            ));
        }
    };
    let subject = subject.unwrap_or_else(|| format!("key:{thumbprint}"));
    Ok((subject, jwk))
}

/// The principal of a bearer token (`bearer: true`): a `subject` is
/// needed, and no key may be given (the token binds none); the policy
/// grants it or refuses.
fn bearer_subject(subject: Option<String>, has_key: bool) -> Result<String, ApiError> {
    match (subject, has_key) {
        (Some(subject), false) => Ok(subject),
        (None, _) => Err(ApiError::bad_request(
            "missing_field",
            "a bearer token (`bearer: true`) needs `subject`",
        )),
        (Some(_), true) => Err(ApiError::bad_request(
            "invalid_value",
            "a bearer token binds no key: leave out `subject_public_key` and `subject_pubkey`",
        )),
    }
}

/// The capability a seed document's tier names: core's mapping
/// (`Capability::tier`), linked natively.
pub(super) fn tier(scope: &str) -> Result<Value, ApiError> {
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
pub(super) async fn verify(
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
    let action = fields.opt_string("action", MAX_ID_BYTES)?;
    let resource = fields.opt_string("resource", MAX_ID_BYTES)?;
    let context = fields.opt_object("context")?;
    fields.done()?;
    let asked = match (action, resource, context) {
        (Some(action), Some(resource), context) => {
            let mut asked = json!({ "action": action, "resource": resource });
            if let (Some(context), Value::Object(members)) = (context, &mut asked) {
                members.insert("context".to_owned(), Value::Object(context));
            }
            Some(asked)
        }
        (None, None, None) => None,
        _ => {
            return Err(ApiError::bad_request(
                "missing_field",
                "`action` and `resource` name the request to authorize, and `context` qualifies it: give both, or none of the three",
            ));
        }
    };
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
    let verified = verify_token_at(gw, &live, token.clone(), audience.clone(), proof, at).await?;
    // Asked to authorize: the module decides, before anything is spent (a
    // refused request uses neither the token nor the proof).
    let authorized = match asked {
        None => Value::Null,
        Some(asked) => authorize(gw, &live, &token, audience.clone(), asked, at).await?,
    };

    let presented = spend_proof(gw, &verified, at).await?;
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
        "bearer": verified.get("bearer"),
        "depth": verified.get("depth"),
        "chain": verified.get("chain"),
        "claims": claims,
        "single_use": single_use,
        "proof": presented,
        "authorized": authorized,
    });
    Ok(axum::Json(body).into_response())
}

/// The module's `authorize` of `asked` (`{action, resource, context?}`)
/// under `token`, already verified at `now` with the same keys: what it
/// answers, or 403 with its code (`not_granted`, `constraint_violated`,
/// `missing_context`) and the constraint's `path`; a context the module
/// cannot read (`bad_context`) is the caller's mistake, 400.
async fn authorize(
    gw: &Inner,
    live: &Live,
    token: &str,
    audience: Option<String>,
    asked: Value,
    now: i64,
) -> Result<Value, ApiError> {
    let mut request = verify_request(gw, live.key.trusted(), token, audience, now);
    if let Value::Object(members) = &mut request {
        members.insert("request".to_owned(), asked.clone());
    }
    let answer = gw
        .module
        .call(gw.ops.authorize, "authorize", request)
        .await
        .map_err(|err| {
            err.refused(|code| match code {
                "bad_context" => StatusCode::BAD_REQUEST,
                _ => StatusCode::FORBIDDEN,
            })
        })?;
    let mut authorized = asked;
    if let Value::Object(members) = &mut authorized {
        members.insert(
            "cap_index".to_owned(),
            answer.get("cap_index").cloned().unwrap_or(Value::Null),
        );
    }
    Ok(authorized)
}

/// The proof of possession `verified` holds (the module checked it), its
/// replay key recorded so it is accepted once: what the answer reports of
/// it, or null without one. 401 `replayed` if it was presented before.
pub(super) async fn spend_proof(gw: &Inner, verified: &Value, at: i64) -> Result<Value, ApiError> {
    Ok(match verified.get("proof") {
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
            let chain = chain_ids(verified)?;
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
    })
}

/// Records a use of `keys` in the replay guard, kept until `exp` plus the
/// largest leeway any verifier allows: 401 `replayed` if any was seen
/// before, 401 `revoked` if an id of `chain` was revoked since the token was
/// verified (checked in the same transaction, so a revocation acknowledged
/// before the spend always wins).
pub(super) async fn spend(
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

/// Verifies `token` at `now` under `live`'s keys and refuses it if any id
/// of its chain is revoked here; with a proof of possession (`verify`'s
/// `proof` member) checked in the same module call. Without a proof, the
/// module's answer is kept while it says it holds, and a token presented
/// again is answered from it (`verified.rs`); the revocation check runs
/// every time.
pub(super) async fn verify_token_at(
    gw: &Inner,
    live: &Live,
    token: String,
    audience: Option<String>,
    proof: Option<Value>,
    now: i64,
) -> Result<Arc<Value>, ApiError> {
    let cacheable = proof.is_none();
    let cached = cacheable
        .then(|| live.verified.get(&token, audience.as_deref(), now))
        .flatten();
    if cacheable {
        gw.metrics.verify_cache(cached.is_some());
    }
    let verified = match cached {
        Some(answer) => answer,
        None => {
            let mut request = verify_request(gw, live.key.trusted(), &token, audience.clone(), now);
            if let (Some(proof), Value::Object(members)) = (proof, &mut request) {
                members.insert("proof".to_owned(), proof);
            }
            let answer = gw
                .module
                .call(gw.ops.verify, "verify", request)
                .await
                .map_err(|err| err.refused(|_| StatusCode::UNAUTHORIZED))?;
            if cacheable {
                live.verified.put(&token, audience.as_deref(), &answer, now);
            }
            Arc::new(answer)
        }
    };
    let ids = chain_ids(&verified)?;
    let own = ids.last().cloned().unwrap_or_default();
    match first_revoked(gw, ids).await? {
        None => Ok(verified),
        Some(id) => Err(revoked_error(&id, &own)),
    }
}

/// The `verify` request for `token` as this gateway trusts tokens: its key
/// set, its issuer, `audience` or its own, at `now`.
pub(super) fn verify_request(
    gw: &Inner,
    jwks: Value,
    token: &str,
    audience: Option<String>,
    now: i64,
) -> Value {
    json!({
        "token": token,
        "jwks": jwks,
        "issuer": gw.config.issuer,
        "audience": audience.unwrap_or_else(|| gw.config.audience.clone()),
        "now": now,
    })
}

/// The first of `ids` this gateway has revoked.
pub(super) async fn first_revoked(
    gw: &Inner,
    ids: Vec<String>,
) -> Result<Option<String>, ApiError> {
    blocking(gw, move |store| {
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        Ok(store.first_revoked(&refs)?.map(str::to_owned))
    })
    .await
}

pub(super) fn revoked_error(id: &str, own: &str) -> ApiError {
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
pub(super) fn chain_ids(verified: &Value) -> Result<Vec<String>, ApiError> {
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

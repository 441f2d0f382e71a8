//! Signed revocation lists, proofs of possession, the audit chain, refresh.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::OpError;
use super::fields::{Fields, respond, wrong_type};
use super::policy::read_budget;
use super::signer::OpSigner;
use super::tokens::{Trust, audit_event, issued_json, root_sub, string_set};
use crate::audit::{self, AuditChain, AuditError, AuditRecord, EventKind};
use crate::entropy::SliceEntropy;
use crate::json::{Value, object};
use crate::policy::Policy;
use crate::pop::{self, PopOptions};
use crate::refresh::{self, RefreshRequest};
use crate::replay::{ReplayError, ReplayGuard};
use crate::revocation::{
    CheckedList, RevocationList, RevocationListIssuer, RevocationListVerifier, RevokedEntry,
};
use crate::status::{CheckedStatusList, StatusList, StatusListIssuer, StatusListVerifier};
use crate::token::TokenIssuer;

// ---------------------------------------------------------------------------
// Revocation lists

pub(super) fn revocation_list_sign(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "revocation_list_sign")?;
    let key = OpSigner::take(&mut f)?;
    let list = RevocationList::from_unsigned_json(f.object("list")?)?;
    f.done()?;
    let issuer = RevocationListIssuer::new(&key);
    let text = issuer.sign(&list)?;
    let mut out = object! { "list" => text, "kid" => issuer.kid() };
    key.finish(&mut out, "list")?;
    respond(&out)
}

pub(super) fn revocation_list_verify(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "revocation_list_verify")?;
    let text = f.string("list")?;
    let jwks = f.value("jwks")?;
    let issuer = f.names("issuer")?;
    let now = f.int("now")?;
    let last_seen = f.opt_uint("last_seen_seq")?;
    let leeway = f.opt_int("leeway")?;
    f.done()?;
    let keys = super::tokens::key_set(&issuer, &jwks)?;
    let mut verifier = RevocationListVerifier::new(&keys);
    if let Some(leeway) = leeway {
        verifier = verifier.leeway(Trust::check_leeway(leeway)?);
    }
    let checked = verifier.verify(&text, now, last_seen)?;
    let (status, since) = match &checked {
        CheckedList::Fresh(_) => ("fresh", Value::Null),
        CheckedList::Stale { since, .. } => ("stale", (*since).into()),
    };
    let list = checked.allow_stale();
    respond(&object! {
        "status" => status,
        "stale_since" => since,
        "kid" => list.kid(),
        "iss" => list.iss(),
        "seq" => list.seq(),
        "iat" => list.iat(),
        "next_update" => list.next_update(),
        "revoked" => list.entries().iter().map(RevokedEntry::to_json).collect::<Value>(),
    })
}

// ---------------------------------------------------------------------------
// Status lists

/// `status_list_sign`: `{list: {iss, sub, iat, exp, ttl?, size, revoked:
/// [idx…]}}` and a signer: the module sets the bits and compresses them,
/// so no host writes the format.
pub(super) fn status_list_sign(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "status_list_sign")?;
    let key = OpSigner::take(&mut f)?;
    let content = f.object("list")?;
    let mut l = f.nested("list", content);
    let iss = l.string("iss")?;
    let sub = l.string("sub")?;
    let iat = l.int("iat")?;
    let exp = l.int("exp")?;
    let ttl = l.opt_uint("ttl")?;
    let size = l.uint("size")?;
    let revoked = l.value("revoked")?;
    l.done()?;
    f.done()?;
    let mut list = StatusList::new(iss, sub, iat, exp, size)?;
    list.ttl = ttl;
    let Value::Array(indices) = revoked else {
        return Err(wrong_type("list.revoked", "an array of status indices"));
    };
    for (i, idx) in indices.iter().enumerate() {
        let idx = idx
            .as_u64()
            .ok_or_else(|| wrong_type(&format!("list.revoked[{i}]"), "a status index"))?;
        list.revoke(idx)?;
    }
    let issuer = StatusListIssuer::new(&key);
    let text = issuer.sign(&list)?;
    let mut out = object! { "list" => text, "kid" => issuer.kid() };
    key.finish(&mut out, "list")?;
    respond(&out)
}

/// `status_list_verify`: the list at `uri`, checked; with `idx`, whether
/// that token is revoked.
pub(super) fn status_list_verify(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "status_list_verify")?;
    let text = f.string("list")?;
    let jwks = f.value("jwks")?;
    let issuer = f.names("issuer")?;
    let uri = f.string("uri")?;
    let now = f.int("now")?;
    let idx = f.opt_uint("idx")?;
    let leeway = f.opt_int("leeway")?;
    f.done()?;
    let keys = super::tokens::key_set(&issuer, &jwks)?;
    let mut verifier = StatusListVerifier::new(&keys);
    if let Some(leeway) = leeway {
        verifier = verifier.leeway(Trust::check_leeway(leeway)?);
    }
    let checked = verifier.verify(&text, &uri, now)?;
    let (status, since) = match &checked {
        CheckedStatusList::Fresh(_) => ("fresh", Value::Null),
        CheckedStatusList::Stale { since, .. } => ("stale", (*since).into()),
    };
    let verified = checked.allow_stale();
    let list = verified.list();
    let revoked = match idx {
        Some(idx) => list.is_revoked(idx)?.into(),
        None => Value::Null,
    };
    respond(&object! {
        "status" => status,
        "stale_since" => since,
        "kid" => verified.kid(),
        "iss" => list.iss.as_str(),
        "sub" => list.sub.as_str(),
        "iat" => list.iat,
        "exp" => list.exp,
        "ttl" => list.ttl.map_or(Value::Null, Value::from),
        "size" => list.len(),
        "revoked_count" => list.revoked_count(),
        "revoked" => revoked,
    })
}

// ---------------------------------------------------------------------------
// Proof of possession

pub(super) fn pop_create(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "pop_create")?;
    let key = OpSigner::take(&mut f)?;
    let token = f.string("token")?;
    let audience = f.string("audience")?;
    let nonce = f.opt_string("nonce")?;
    let request_hash = f.opt_string("request_hash")?;
    let now = f.int("now")?;
    let entropy = f.bytes("entropy")?;
    f.done()?;
    let proof = pop::create_presentation(
        &key,
        &token,
        &audience,
        nonce.as_deref(),
        request_hash.as_deref(),
        now,
        &mut SliceEntropy::new(&entropy),
    )?;
    let mut out = object! { "proof" => proof };
    key.finish(&mut out, "proof")?;
    respond(&out)
}

/// The module keeps no state between calls, so replay is the caller's to
/// record: this guard refuses the keys the caller says it has seen; the
/// presentation names the one to record.
struct Recording {
    seen: BTreeSet<String>,
}

impl ReplayGuard for Recording {
    fn check_and_record(&mut self, key: &str, _exp: i64, _now: i64) -> Result<(), ReplayError> {
        if self.seen.contains(key) {
            return Err(ReplayError::Replayed {
                jti: key.to_string(),
            });
        }
        Ok(())
    }
}

pub(super) fn pop_verify(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "pop_verify")?;
    let proof = f.string("proof")?;
    let token = f.string("token")?;
    let trust = Trust::take(&mut f)?;
    let audience = f.string("pop_audience")?;
    let check = ProofCheck::take(&mut f, proof, audience, trust.leeway)?;
    f.done()?;
    let verified = trust.verify(&token)?;
    let mut out = check.run(&verified, trust.now)?;
    out.set("token_jti", verified.claims().jti.as_str());
    out.set("token_id", verified.id());
    out.set("sub", verified.claims().request.sub.as_str());
    out.set("root_sub", root_sub(&verified));
    respond(&out)
}

/// A proof of possession to check against a token, and how: what
/// `pop_verify` takes, and `verify`'s `proof` member.
pub(super) struct ProofCheck {
    proof: String,
    opts: PopOptions,
    seen: BTreeSet<String>,
}

impl ProofCheck {
    /// Reads `max_age`, `nonce`, `request_hash` and `seen` from `f`.
    pub(super) fn take(
        f: &mut Fields,
        proof: String,
        audience: String,
        leeway: i64,
    ) -> Result<Self, OpError> {
        let mut opts = PopOptions::new(audience).leeway(leeway);
        if let Some(age) = f.opt_int("max_age")? {
            if !(1..=pop::MAX_MAX_AGE).contains(&age) {
                return Err(OpError::BadRequest(format!(
                    "`max_age` must be in 1..={} seconds",
                    pop::MAX_MAX_AGE
                )));
            }
            opts = opts.max_age(age);
        }
        if let Some(nonce) = f.opt_string("nonce")? {
            opts = opts.expect_nonce(nonce);
        }
        if let Some(hash) = f.opt_string("request_hash")? {
            opts = opts.expect_request_hash(hash);
        }
        let seen = match f.opt("seen")? {
            None => BTreeSet::new(),
            Some(v) => string_set(&v, "seen")?,
        };
        Ok(Self { proof, opts, seen })
    }

    /// Checks the proof against `verified`: the presentation's members and
    /// the replay record to keep.
    pub(super) fn run(
        self,
        verified: &crate::token::VerifiedToken,
        now: i64,
    ) -> Result<Value, OpError> {
        let mut guard = Recording { seen: self.seen };
        let p = pop::verify_presentation(&self.proof, verified, &self.opts, now, &mut guard)?;
        let replay = object! { "key" => p.replay_key(), "exp" => p.replay_exp() };
        Ok(object! {
            "kid" => p.kid(),
            "jti" => p.jti(),
            "iat" => p.iat(),
            "aud" => p.audience(),
            "nonce" => p.nonce(),
            "request_hash" => p.request_hash(),
            "replay" => replay,
        })
    }
}

// ---------------------------------------------------------------------------
// Audit

pub(super) fn audit_append(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "audit_append")?;
    let last = f.opt("last")?;
    let time = f.int("time")?;
    let event = f.string("event")?;
    let data = f.object("data")?;
    f.done()?;
    let kind = EventKind::from_name(&event)
        .ok_or_else(|| OpError::BadRequest(format!("unknown audit event `{event}`")))?;
    let mut chain = match last {
        None => AuditChain::new(),
        Some(value) => {
            // The record must at least be what its own hash says, or the
            // new record would link to content nobody wrote.
            let last = AuditRecord::from_json(&value)?;
            if last.computed_hash() != last.hash {
                return Err(AuditError::BadHash { seq: last.seq }.into());
            }
            AuditChain::resume(&last)
        }
    };
    let record = chain.append(time, kind, data);
    // Read back what was written: data a verifier would refuse (numbers
    // that are not integers) is refused now, not discovered later.
    let value = record.to_json();
    AuditRecord::from_json(&value)?;
    respond(&value)
}

pub(super) fn audit_verify(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "audit_verify")?;
    let records = match f.value("records")? {
        Value::Array(items) => items,
        _ => return Err(wrong_type("records", "an array of audit records")),
    };
    let head = f.opt_string("head")?;
    let genesis = f.opt("genesis")?;
    let after = f.opt("after")?;
    f.done()?;
    let verifier = match (genesis, after) {
        (Some(genesis), _) if !matches!(genesis, Value::Bool(_)) => {
            return Err(wrong_type("genesis", "a boolean"));
        }
        (Some(Value::Bool(true)), Some(_)) => {
            return Err(OpError::BadRequest(
                "`genesis` and `after` both say where the records start: give one".into(),
            ));
        }
        (Some(Value::Bool(true)), None) => audit::ChainVerifier::genesis(),
        (_, None) => audit::ChainVerifier::new(),
        (_, Some(Value::Object(after))) => {
            let mut after = f.nested("after", after);
            let seq = after.uint("seq")?;
            let hash = after.string("hash")?;
            after.done()?;
            audit::ChainVerifier::resume(seq, hash)
        }
        (_, Some(_)) => return Err(wrong_type("after", "an object `{seq, hash}`")),
    };
    let summary = audit::verify_chain_json_with(verifier, &records)?;
    let summary = match head {
        None => summary,
        Some(head) => audit::check_head(summary, &head)?,
    };
    respond(&object! {
        "valid" => true,
        "first_seq" => summary.first_seq,
        "last_seq" => summary.last_seq,
        "count" => summary.count,
        "head" => summary.head,
    })
}

// ---------------------------------------------------------------------------
// Refresh

pub(super) fn refresh(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "refresh")?;
    let token = f.string("token")?;
    let trust = Trust::take(&mut f)?;
    let key = OpSigner::take(&mut f)?;
    let policy = Policy::from_value(&f.value("policy")?)?;
    let attributes = read_attributes(&mut f)?;
    let ttl = f.opt_uint("ttl")?.unwrap_or(crate::token::DEFAULT_TTL);
    let status = f
        .opt("status")?
        .map(|claim| crate::status::StatusRef::from_claim(&claim))
        .transpose()
        .map_err(crate::error::TokenError::from)?;
    let budget = read_budget(&mut f)?;
    let entropy = f.bytes("entropy")?;
    f.done()?;
    let current = trust.verify(&token)?;
    // Re-issued under the name it was issued under (one of those trusted).
    let issuer = TokenIssuer::new(&key, current.claims().iss.clone());
    let issued = refresh::refresh(
        &issuer,
        &current,
        &trust.revoked,
        &RefreshRequest {
            policy: &policy,
            attributes,
            ttl,
            budget,
            status,
        },
        trust.now,
        &mut SliceEntropy::new(&entropy),
    )?;
    let mut out = issued_json(&issued);
    let caps = crate::claims::Capability::list_to_json(&issued.claims.request.caps);
    out.set("replaces", current.claims().jti.as_str());
    out.set(
        "audit",
        audit_event(
            EventKind::TokenIssued,
            audit::data::token_issued(
                &issued.claims.jti,
                &issued.claims.request.sub,
                &caps,
                issued.claims.exp,
            ),
        ),
    );
    out.set("caps", caps);
    key.finish(&mut out, "token")?;
    respond(&out)
}

/// The optional `attributes` member: what the issuer knows of the subject,
/// an object of strings that policy rules may match.
fn read_attributes(f: &mut Fields) -> Result<BTreeMap<String, String>, OpError> {
    let mut attributes = BTreeMap::new();
    if let Some(v) = f.opt("attributes")? {
        let Value::Object(map) = v else {
            return Err(wrong_type("attributes", "an object of strings"));
        };
        for (name, value) in map {
            let Value::String(value) = value else {
                return Err(wrong_type(&format!("attributes.{name}"), "a string"));
            };
            attributes.insert(name, value);
        }
    }
    Ok(attributes)
}

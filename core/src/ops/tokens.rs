//! Keys, tokens, authorization, delegation and `min()`.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::audit::{self, EventKind};
use crate::json::{Map, Value, object};
use ed25519_dalek::SigningKey;

use super::fields::{Fields, respond, wrong_type};
use super::policy::read_budget;
use super::records::ProofCheck;
use super::signer::OpSigner;
use super::{ABI_VERSION, OPERATIONS, OpError};
use crate::claims::{Capability, TokenRequest};
use crate::delegation::{self, Delegation};
use crate::entropy::SliceEntropy;
use crate::error::TokenError;
use crate::keys::{self, KeySet};
use crate::policy::{Decision, Policy, PolicyRequest};
use crate::revocation::{self, CheckedList, RevocationListVerifier};
use crate::scope::{self, Context};
use crate::status::{CheckedStatusList, StatusError, StatusListVerifier, StatusRef};
use crate::token::{self, MAX_LEEWAY, TokenIssuer, VerifiedToken, Verifier};

pub(super) fn info(request: &[u8]) -> Result<Vec<u8>, OpError> {
    Fields::parse(request, "info")?.done()?;
    // Ids with their names: a host looks an id up by name, never by the
    // position in this list.
    let ops: Vec<Value> = OPERATIONS
        .iter()
        .map(|o| object! { "id" => o.id, "name" => o.name })
        .collect();
    respond(&object! { "abi" => ABI_VERSION, "version" => env!("CARGO_PKG_VERSION"), "ops" => ops })
}

pub(super) fn keygen(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "keygen")?;
    let seed: [u8; 32] = f
        .bytes("seed")?
        .try_into()
        .map_err(|_| OpError::BadRequest("`seed` must be 32 bytes".into()))?;
    f.done()?;
    let key = SigningKey::from_bytes(&seed);
    let public = key.verifying_key();
    respond(&object! {
        "kid" => keys::thumbprint(&public),
        "private_jwk" => keys::private_jwk(&key),
        "public_jwk" => keys::public_jwk(&public),
        "handle" => keys::KeyHandle::text_of(&key),
    })
}

pub(super) fn issued_json(issued: &crate::token::IssuedToken) -> Value {
    object! {
        "token" => issued.token.as_str(),
        "kid" => issued.header.kid.as_str(),
        "jti" => issued.claims.jti.as_str(),
        "iat" => issued.claims.iat,
        "exp" => issued.claims.exp,
    }
}

/// `issue`: sign the claims given; or, with `policy`, first decide what
/// the policy grants the claims' subject of the claims' `caps` for `ttl`
/// (absent: as long as the policy allows) and sign exactly that. A denial
/// is an answer, not an error (as `policy_evaluate` gives it), and signs
/// nothing; a grant answers the token and the decision's members. With
/// `bearer: true` (a policy's option) the claims, without `cnf`, ask the
/// policy for a bearer token; otherwise a missing `cnf` is refused.
pub(super) fn issue(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "issue")?;
    let key = OpSigner::take(&mut f)?;
    let issuer = f.string("issuer")?;
    let now = f.int("now")?;
    let lifetime = match f.opt("policy")? {
        Some(doc) => Lifetime::Decided(ThroughPolicy {
            policy: Policy::from_value(&doc)?,
            attributes: f.opt("attributes")?,
            budget: read_budget(&mut f)?,
            ttl: f.opt_uint("ttl")?,
            bearer: f.opt_bool("bearer")?,
        }),
        None => Lifetime::Given(f.opt_uint("ttl")?.unwrap_or(token::DEFAULT_TTL)),
    };
    let entropy = f.bytes("entropy")?;
    let mut claims = f.object("claims")?;
    f.done()?;

    // A bearer token is asked for by name, and only a policy grants one:
    // otherwise claims without `cnf` are refused for the missing key.
    let bearer = matches!(&lifetime, Lifetime::Decided(t) if t.bearer);
    let (ttl, decided) = match lifetime {
        Lifetime::Given(ttl) => (ttl, None),
        Lifetime::Decided(through) => {
            let decision = through.decide(&claims)?;
            let Decision::Granted {
                capabilities, ttl, ..
            } = &decision
            else {
                // A denial is the answer, and nothing is signed.
                return respond(&Value::Object(decision.to_json()));
            };
            claims.insert("caps".into(), Capability::list_to_json(capabilities));
            (*ttl, Some(decision.to_json()))
        }
    };
    let claims = read_claims(claims, bearer)?;

    let issued =
        TokenIssuer::new(&key, issuer).issue(claims, now, ttl, &mut SliceEntropy::new(&entropy))?;
    let mut out = issued_json(&issued);
    for (name, value) in decided.into_iter().flatten() {
        out.set(&name, value);
    }
    let caps = Capability::list_to_json(&issued.claims.request.caps);
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
    key.finish(&mut out, "token")?;
    respond(&out)
}

/// The claims of an issue: a bearer token's without `cnf`, any other's
/// with it.
fn read_claims(claims: Map, bearer: bool) -> Result<TokenRequest, OpError> {
    Ok(if bearer {
        TokenRequest::bearer_from_json(claims)
    } else {
        TokenRequest::from_json(claims)
    }
    .map_err(TokenError::from)?)
}

/// How long an issued token lives: the `ttl` given, or what a policy
/// decides (capping `ttl`, when one is asked for).
enum Lifetime {
    Given(u64),
    Decided(ThroughPolicy),
}

/// An issue's policy members: the policy, what the issuer knows of the
/// subject, the evaluation budget and the lifetime asked for.
struct ThroughPolicy {
    policy: Policy,
    attributes: Option<Value>,
    budget: u64,
    ttl: Option<u64>,
    /// A bearer token is asked for (`bearer: true`): claims without `cnf`.
    bearer: bool,
}

impl ThroughPolicy {
    /// The decision for the claims' subject asking for the claims' `caps`:
    /// the policy request `policy_evaluate` would be given, read by the
    /// same reader (so a fault has the same code and path).
    fn decide(self, claims: &Map) -> Result<Decision, OpError> {
        let (Some(sub), Some(caps)) = (claims.get("sub"), claims.get("caps")) else {
            // Missing claims are the claims reader's to name.
            read_claims(claims.clone(), self.bearer)?;
            return Err(OpError::BadRequest(
                "`claims` needs `sub` and `caps`".into(),
            ));
        };
        let mut subject = object! { "id" => sub.clone() };
        if let Some(attributes) = self.attributes {
            subject.set("attributes", attributes);
        }
        let mut asked = object! { "subject" => subject, "capabilities" => caps.clone() };
        if let Some(ttl) = self.ttl {
            asked.set("ttl", ttl);
        }
        if self.bearer {
            asked.set("bearer", Value::Bool(true));
        }
        Ok(self
            .policy
            .evaluate(&PolicyRequest::from_value(&asked)?, self.budget)?)
    }
}

/// `{"event", "data"}`: what the host appends to its audit log for an
/// operation (`audit_append` takes exactly these members, with `time`).
pub(super) fn audit_event(kind: EventKind, data: Map) -> Value {
    object! { "event" => kind.name(), "data" => data }
}

/// How to trust a token: the members every verifying operation shares.
pub(super) struct Trust {
    jwks: Value,
    /// The `iss` values trusted (one issuer, by any of its names).
    pub(super) issuer: Vec<String>,
    /// This verifier's audiences: a token naming any of them is for it.
    audience: Vec<String>,
    pub(super) now: i64,
    pub(super) leeway: i64,
    max_depth: usize,
    pub(super) revoked: BTreeSet<String>,
    /// A signed revocation list to check the chain against as well.
    revocation_list: Option<String>,
    /// The signed status list a token's `status` claim names.
    status_list: Option<String>,
    /// How long past its `next_update` the list may still be used; `None`:
    /// it must be fresh.
    max_stale: Option<i64>,
    /// The highest list `seq` the caller accepted before: an older list
    /// (which could un-revoke what was revoked since) is refused.
    last_seen_seq: Option<u64>,
}

impl Trust {
    pub(super) fn check_leeway(leeway: i64) -> Result<i64, OpError> {
        if (0..=MAX_LEEWAY).contains(&leeway) {
            Ok(leeway)
        } else {
            Err(OpError::BadRequest(format!(
                "`leeway` must be in 0..={MAX_LEEWAY} seconds"
            )))
        }
    }

    pub(super) fn take(f: &mut Fields) -> Result<Self, OpError> {
        let leeway = Self::check_leeway(f.opt_int("leeway")?.unwrap_or(token::DEFAULT_LEEWAY))?;
        let max_depth = match f.opt_int("max_depth")? {
            None => delegation::DEFAULT_MAX_DEPTH,
            Some(d) => {
                usize::try_from(d).map_err(|_| wrong_type("max_depth", "a non-negative integer"))?
            }
        };
        let revoked = match f.opt("revoked")? {
            None => BTreeSet::new(),
            Some(v) => string_set(&v, "revoked")?,
        };
        let revocation_list = f.opt_string("revocation_list")?;
        let status_list = f.opt_string("status_list")?;
        let max_stale = f.opt_int("max_stale")?;
        if max_stale.is_some_and(|m| !(0..=crate::json::MAX_SAFE_INTEGER).contains(&m)) {
            return Err(wrong_type("max_stale", "a number of seconds in 0..=2^53-1"));
        }
        let last_seen_seq = f.opt_uint("last_seen_seq")?;
        if revocation_list.is_none() && last_seen_seq.is_some()
            || revocation_list.is_none() && status_list.is_none() && max_stale.is_some()
        {
            return Err(OpError::BadRequest(
                "`max_stale` qualifies a `revocation_list` or `status_list`, `last_seen_seq` a `revocation_list`".into(),
            ));
        }
        Ok(Trust {
            jwks: f.value("jwks")?,
            issuer: f.names("issuer")?,
            audience: f.names("audience")?,
            now: f.int("now")?,
            leeway,
            max_depth,
            revoked,
            revocation_list,
            status_list,
            max_stale,
            last_seen_seq,
        })
    }

    /// Verify, then refuse the token if any `jti` of its chain is in the
    /// caller's revocation set (`revoked`) or in the signed revocation list
    /// (checked first, with the same keys, issuer and clock): revoking a
    /// parent revokes its descendants.
    pub(super) fn verify(&self, token: &str) -> Result<VerifiedToken, OpError> {
        let keys = key_set(&self.issuer, &self.jwks)?;
        let mut audiences = self.audience.iter();
        let first = audiences.next().cloned().unwrap_or_default();
        let verifier = audiences
            .fold(Verifier::new(&keys, first), |v, a| v.or_audience(a.clone()))
            .leeway(self.leeway)
            .max_delegation_depth(self.max_depth);
        let verified = verifier.verify(token, self.now)?;
        if let Some(text) = &self.revocation_list {
            let checked = RevocationListVerifier::new(&keys)
                .leeway(self.leeway)
                .verify(text, self.now, self.last_seen_seq)?;
            let list = match checked {
                CheckedList::Fresh(list) => list,
                CheckedList::Stale { list, since } if self.still_usable(since) => list,
                CheckedList::Stale { since, .. } => {
                    return Err(revocation::RevocationError::Stale { since }.into());
                }
            };
            revocation::check_chain(verified.chain_ids(), &list)?;
        }
        revocation::check_chain(verified.chain_ids(), &self.revoked)?;
        self.check_status(&keys, &verified)?;
        Ok(verified)
    }

    /// Whether a list stale since `since` may still be used: only within
    /// the caller's `max_stale`.
    fn still_usable(&self, since: i64) -> bool {
        self.max_stale
            .is_some_and(|max| self.now.saturating_sub(since) <= max)
    }

    /// The token's place in its status list, when it names one: refused
    /// when the list (checked as a revocation list is: keys, issuer, clock,
    /// freshness within `max_stale`) has its bit set; and when revocation
    /// was checked against the id list alone, which need not list it.
    fn check_status(&self, keys: &KeySet, verified: &VerifiedToken) -> Result<(), OpError> {
        let Some(place) = StatusRef::of(&verified.claims().request).map_err(TokenError::from)?
        else {
            return Ok(());
        };
        let Some(text) = &self.status_list else {
            return match self.revocation_list {
                Some(_) => Err(StatusError::Required { uri: place.uri }.into()),
                None => Ok(()),
            };
        };
        let list = match StatusListVerifier::new(keys)
            .leeway(self.leeway)
            .verify(text, &place.uri, self.now)?
        {
            CheckedStatusList::Fresh(list) => list,
            CheckedStatusList::Stale { list, since } if self.still_usable(since) => list,
            CheckedStatusList::Stale { since, .. } => {
                return Err(StatusError::Stale { since }.into());
            }
        };
        if list.list().is_revoked(place.idx)? {
            let root = verified.chain_ids().next().unwrap_or_default().into();
            return Err(revocation::RevocationError::Revoked { jti: root }.into());
        }
        Ok(())
    }
}

/// The key set of an issuer known by `names` (never empty: `Fields::names`
/// refuses an empty list).
pub(super) fn key_set(names: &[String], jwks: &Value) -> Result<KeySet, OpError> {
    let mut names = names.iter();
    let first = names.next().cloned().unwrap_or_default();
    let keys = KeySet::from_jwks(first, jwks)?;
    Ok(names.fold(keys, |keys, name| keys.also_issuer(name.clone())))
}

pub(super) fn string_set(v: &Value, name: &str) -> Result<BTreeSet<String>, OpError> {
    v.as_array()
        .and_then(|items| {
            items
                .iter()
                .map(|x| x.as_str().map(String::from))
                .collect::<Option<_>>()
        })
        .ok_or_else(|| wrong_type(name, "a list of strings"))
}

/// The principal the issuer itself vouched for. A delegated token's own
/// `sub` is named by its delegator; this one is not.
pub(super) fn root_sub(verified: &VerifiedToken) -> &str {
    verified
        .chain()
        .first()
        .map_or(verified.claims().request.sub.as_str(), |root| {
            root.sub.as_str()
        })
}

fn verified_json(verified: &VerifiedToken) -> Value {
    let chain: Vec<Value> = verified
        .chain()
        .iter()
        .map(|l| object! { "jti" => l.jti.as_str(), "id" => l.id.as_str(), "sub" => l.sub.as_str(), "kid" => l.kid.as_str() })
        .collect();
    object! {
        "header" => object! { "alg" => "EdDSA", "typ" => token::TYP, "kid" => verified.header().kid.as_str() },
        "claims" => verified.claims().to_json(),
        "depth" => verified.depth(),
        "id" => verified.id(),
        "chain" => chain,
        "root_sub" => root_sub(verified),
        "bearer" => verified.is_bearer(),
    }
}

/// `verify`, and with a `proof` member the holder's proof of possession of
/// the verified token too, in the same call (as `pop_verify` checks it;
/// its `audience` defaults to this verifier's).
pub(super) fn verify(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "verify")?;
    let token = f.string("token")?;
    let trust = Trust::take(&mut f)?;
    let proof = match f.opt("proof")? {
        None => None,
        Some(Value::Object(members)) => {
            let mut p = f.nested("proof", members);
            let text = p.string("proof")?;
            let audience = match p.opt_string("audience")? {
                Some(audience) => audience,
                None => trust.audience.first().cloned().unwrap_or_default(),
            };
            let check = ProofCheck::take(&mut p, text, audience, trust.leeway)?;
            p.done()?;
            Some(check)
        }
        Some(_) => return Err(wrong_type("proof", "an object")),
    };
    let grant = f.opt_bool("grant")?;
    f.done()?;
    let verified = match trust.verify(&token) {
        Ok(verified) => verified,
        Err(err) if grant => return Err(refused_grant(&trust, &token, err)),
        Err(err) => return Err(err),
    };
    let mut out = verified_json(&verified);
    match proof {
        Some(check) => out.set("proof", check.run(&verified, trust.now)?),
        // The answer's own times, where nothing else in the request
        // depends on the time (a proof's age, a revocation list's
        // freshness): the same request gives this answer at every `now`
        // in [valid_from, valid_until).
        None if trust.revocation_list.is_none() => {
            let (from, until) = verified.valid_between();
            out.set("valid_from", from);
            out.set("valid_until", until);
        }
        None => {}
    }
    respond(&out)
}

/// A chain presented as a grant (`"grant": true`) and refused: when its
/// parent (the chain without its leaf) verifies on its own, the refusal is
/// of the delegation itself, an attempt the host must audit; otherwise the
/// token is simply not valid and there is no sound parent to audit from.
fn refused_grant(trust: &Trust, token: &str, err: OpError) -> OpError {
    let parent = token
        .split_once(delegation::CHAIN_SEPARATOR)
        .and_then(|(_, parent)| trust.verify(parent).ok());
    match parent {
        Some(parent) => {
            // Who the leaf was for is not known here (it may not even
            // parse): the event names the parent and the refusal.
            let event = audit_event(
                EventKind::DelegationAttempted,
                audit::data::delegation_attempted(parent.id(), None, err.code()),
            );
            OpError::Audited(alloc::boxed::Box::new(err), event)
        }
        None => err,
    }
}

pub(super) fn authorize(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "authorize")?;
    let token = f.string("token")?;
    let trust = Trust::take(&mut f)?;
    // The action is read before the token is verified: a malformed request
    // is the caller's bug and should say so whatever the token.
    let action = f.object("request")?;
    let mut action = f.nested("request", action);
    f.done()?;
    let context = match action.opt("context")? {
        Some(v) => Context::from_json(v)?,
        None => Context::default(),
    };
    let request = scope::Request {
        action: action.string("action")?,
        resource: action.string("resource")?,
        context,
    };
    action.done()?;
    let verified = trust.verify(&token)?;
    let allowed = verified.authorize(&request)?;
    respond(&object! {
        "allowed" => true,
        "cap_index" => allowed.cap_index,
        "sub" => verified.claims().request.sub.as_str(),
        "root_sub" => root_sub(&verified),
        "jti" => verified.claims().jti.as_str(),
        "id" => verified.id(),
        "depth" => verified.depth(),
    })
}

pub(super) fn delegate(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "delegate")?;
    let parent_text = f.string("parent")?;
    let trust = Trust::take(&mut f)?;
    let holder = OpSigner::take(&mut f)?;
    let ttl = f.opt_uint("ttl")?.unwrap_or(token::DEFAULT_TTL);
    let entropy = f.bytes("entropy")?;
    let claims = TokenRequest::from_json(f.object("claims")?).map_err(TokenError::from)?;
    f.done()?;
    let parent = trust.verify(&parent_text)?;
    let sub = claims.sub.clone();
    let issued = Delegation::of(&parent)
        .ttl(ttl)
        .max_depth(trust.max_depth)
        .sign(&holder, claims, trust.now, &mut SliceEntropy::new(&entropy))
        .map_err(|err| {
            // A refusal by the delegation rules (not a host failure) is an
            // attempt the log must show.
            let event = match &err {
                TokenError::Delegation(_) | TokenError::Claims(_) | TokenError::BadTtl { .. } => {
                    Some(audit_event(
                        EventKind::DelegationAttempted,
                        audit::data::delegation_attempted(parent.id(), Some(&sub), err.code()),
                    ))
                }
                _ => None,
            };
            match event {
                Some(event) => OpError::Audited(alloc::boxed::Box::new(err.into()), event),
                None => err.into(),
            }
        })?;
    let mut out = issued_json(&issued);
    out.set("depth", parent.depth() + 1);
    let id = format!(
        "{}{}{}",
        parent.id(),
        token::ID_SEPARATOR,
        issued.claims.jti
    );
    let caps = Capability::list_to_json(&issued.claims.request.caps);
    out.set(
        "audit",
        audit_event(
            EventKind::CapabilityGranted,
            audit::data::capability_granted(
                &id,
                Some(parent.id()),
                &issued.claims.request.sub,
                &caps,
                issued.claims.exp,
            ),
        ),
    );
    out.set("id", id);
    holder.finish(&mut out, "token")?;
    respond(&out)
}

/// Most capability pairs one `scope_meet` call may combine.
const MAX_MEET_PAIRS: usize = 64;

pub(super) fn scope_meet(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "scope_meet")?;
    let a = f.caps("a")?;
    let b = f.caps("b")?;
    f.done()?;
    // The meet is pairwise and its normalization quadratic in the pairs:
    // bound the pairs so one request cannot buy minutes of work.
    if a.len() * b.len() > MAX_MEET_PAIRS {
        return Err(OpError::BadRequest(format!(
            "`a` and `b` may form at most {MAX_MEET_PAIRS} pairs of capabilities"
        )));
    }
    let caps = scope::meet(&a, &b)?;
    respond(&object! { "caps" => Capability::list_to_json(&caps) })
}

/// `decode`: the headers and claims of a token or chain, read by the
/// module's strict rules (size, segments, base64url, JSON, the header
/// policy) but not verified: nothing in the answer is authenticated, and a
/// token that decodes may still be refused by `verify`.
pub(super) fn decode(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "decode")?;
    let token = f.string("token")?;
    f.done()?;
    let limits = crate::jws::Limits::default();
    limits.check_len(&token)?;
    // The text is leaf first; read root first, so the ancestors are
    // answered root first, as `verify` answers them, and the leaf last.
    let mut out = Map::new();
    let mut chain = Vec::new();
    for text in token.rsplit(crate::narrowing::CHAIN_SEPARATOR) {
        let jws = crate::jws::parse(text, &limits)?;
        crate::jws::typed_kid(&jws.header, token::TYP)?;
        let claims =
            crate::json::parse_object(&jws.payload, limits.max_json_depth).map_err(|err| {
                TokenError::Json {
                    part: crate::error::Part::Payload,
                    err,
                }
            })?;
        if !out.is_empty() {
            chain.push(Value::Object(out));
        }
        out = Map::new();
        out.insert("header".into(), Value::Object(jws.header));
        out.insert("claims".into(), Value::Object(claims));
    }
    out.insert("chain".into(), Value::Array(chain));
    respond(&Value::Object(out))
}

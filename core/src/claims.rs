//! The captoken claims set: registered JWT claims, the holder binding, and
//! capabilities. Described for users in `docs/FORMAT.md`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::json::{Map, Value};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

pub use crate::constraint::{Constraints, MAX_LIST_LEN};
use crate::constraint::{Fault, UNSAFE_NUMBERS, string_list};
pub use crate::error::ClaimsError;
use crate::keys;
use crate::pattern::valid_pattern;

/// The claims schema version this crate writes and reads.
pub const SCHEMA_VERSION: u64 = 1;

/// Largest integer every host represents exactly (JavaScript's
/// `Number.MAX_SAFE_INTEGER`): bigger numbers would verify differently in
/// the browser than in the gateway.
pub const MAX_SAFE_INTEGER: i64 = crate::json::MAX_SAFE_INTEGER;

/// The fewest bytes a `jti` carries: 128 bits of entropy.
pub const MIN_JTI_BYTES: usize = 16;
/// Longest `jti`, in bytes. A delegated token's id joins the `jti`s of its
/// chain, so an unbounded one would make an id no store can index (a
/// delegator could mint a child nobody can revoke by itself).
pub const MAX_JTI_BYTES: usize = 32;

/// `aud`: one audience or several (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// A single audience string.
    One(String),
    /// A list of audiences.
    Many(Vec<String>),
}

impl Audience {
    /// The audience as JSON: a string, or a list of strings.
    pub fn to_json(&self) -> Value {
        match self {
            Audience::One(a) => Value::String(a.clone()),
            Audience::Many(list) => Value::Array(list.iter().cloned().map(Value::String).collect()),
        }
    }

    /// Whether `aud` names this audience.
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(a) => a == audience,
            Audience::Many(list) => list.iter().any(|a| a == audience),
        }
    }
}

/// One grant: these actions on these resources, under these constraints.
///
/// The seed tiers are capabilities too: `READ`, `USER` and `INPUT` are
/// actions on resource `*`; `service:<name>` is the resource of a
/// service-to-service grant.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Capability {
    /// Actions, e.g. `drive`, or `*` for all.
    pub actions: Vec<String>,
    /// Resource patterns, e.g. `robot:7`, `robot:*`, `service:billing`.
    pub resources: Vec<String>,
    /// Constraints on every (action, resource) pair above.
    pub constraints: Constraints,
}

impl Capability {
    /// `actions` on `resources` under `constraints`. Unchecked: a token
    /// issuer or scope operation validates the lists it is handed.
    pub fn new(actions: Vec<String>, resources: Vec<String>, constraints: Constraints) -> Self {
        Capability {
            actions,
            resources,
            constraints,
        }
    }

    /// Read a capability from JSON; `path` locates it in error messages.
    ///
    /// # Errors
    /// [`ClaimsError::Invalid`] for a missing or unknown member or a
    /// malformed constraint. Patterns are checked with the capability list (`check_caps`).
    pub fn from_json(v: &Value, path: &str) -> Result<Self, ClaimsError> {
        let map = v
            .as_object()
            .ok_or_else(|| ClaimsError::invalid(path, "must be an object"))?;
        if let Some(extra) = map
            .keys()
            .find(|k| !["actions", "resources", "constraints"].contains(&k.as_str()))
        {
            return Err(ClaimsError::invalid(
                format!("{path}.{extra}"),
                "unknown member",
            ));
        }
        let list = |key: &str| match map.get(key) {
            Some(v) => string_list(v, &format!("{path}.{key}")),
            None => Err(ClaimsError::invalid(format!("{path}.{key}"), "is required")),
        };
        Ok(Capability {
            actions: list("actions")?,
            resources: list("resources")?,
            constraints: match map.get("constraints") {
                Some(c) => Constraints::from_json(c, &format!("{path}.constraints"))?,
                None => Constraints::default(),
            },
        })
    }

    /// Read a list of capabilities; `path` locates it in error messages.
    ///
    /// # Errors
    /// As [`Capability::from_json`], for the first bad element.
    pub fn list_from_json(v: &Value, path: &str) -> Result<Vec<Self>, ClaimsError> {
        let items = v
            .as_array()
            .ok_or_else(|| ClaimsError::invalid(path, "must be a list of capabilities"))?;
        if items.len() > MAX_LIST_LEN {
            return Err(ClaimsError::invalid(
                path,
                format!("must have at most {MAX_LIST_LEN} capabilities"),
            ));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, c)| Capability::from_json(c, &format!("{path}[{i}]")))
            .collect()
    }

    /// The capability as JSON (`constraints` omitted when empty).
    pub fn to_json(&self) -> Value {
        let list = |l: &Vec<String>| Value::Array(l.iter().cloned().map(Value::String).collect());
        let mut map = Map::new();
        map.insert("actions".into(), list(&self.actions));
        if !self.constraints.is_empty() {
            map.insert(
                "constraints".into(),
                Value::Object(self.constraints.to_json()),
            );
        }
        map.insert("resources".into(), list(&self.resources));
        Value::Object(map)
    }

    /// A list of capabilities as a JSON array.
    pub fn list_to_json(caps: &[Capability]) -> Value {
        Value::Array(caps.iter().map(Capability::to_json).collect())
    }

    /// The capability a seed document's tier names (docs/FORMAT.md):
    /// `READ`, `USER` and `INPUT` are that action on every resource;
    /// `service:<name>` is every action on that service. `None` for
    /// anything else.
    pub fn tier(scope: &str) -> Option<Capability> {
        let (action, resource) = match scope {
            "READ" | "USER" | "INPUT" => (scope, "*"),
            _ => match scope.strip_prefix("service:") {
                Some(name) if !name.is_empty() => ("*", scope),
                _ => return None,
            },
        };
        Some(Capability {
            actions: alloc::vec![action.into()],
            resources: alloc::vec![resource.into()],
            constraints: Constraints::default(),
        })
    }
}

impl Serialize for Capability {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Capability {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Capability::from_json(&v, "capability").map_err(serde::de::Error::custom)
    }
}

impl Serialize for Constraints {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Constraints {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Constraints::from_json(&v, "constraints").map_err(serde::de::Error::custom)
    }
}

/// The holder's key (RFC 7800 `cnf`): only the holder of the matching
/// private key can prove possession or delegate.
///
/// Holds the key's checked 32-byte encoding. The issuer decodes it before
/// signing; a verifier decodes it only when a proof of possession or a
/// delegation needs the point (a field exponentiation it need not pay to
/// check a bearer token), and [`Confirmation::key`] fails closed then.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Confirmation {
    x: [u8; 32],
}

impl Confirmation {
    /// Bind to this public key.
    pub fn new(key: &VerifyingKey) -> Self {
        Confirmation { x: key.to_bytes() }
    }
    /// The bound public key, decoded.
    ///
    /// # Errors
    /// [`keys::KeyError`] when the encoding is not a strong curve point.
    pub fn key(&self) -> Result<VerifyingKey, keys::KeyError> {
        keys::decode_public(&self.x)
    }
    /// The bound key's encoding.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.x
    }
    /// The bound key's RFC 7638 thumbprint.
    pub fn thumbprint(&self) -> String {
        keys::thumbprint_of(&self.x)
    }
    fn to_value(&self) -> Value {
        let mut jwk = Map::new();
        jwk.insert("crv".into(), "Ed25519".into());
        jwk.insert("kty".into(), "OKP".into());
        jwk.insert("x".into(), crate::b64::encode(&self.x).into());
        let mut cnf = Map::new();
        cnf.insert("jwk".into(), Value::Object(jwk));
        Value::Object(cnf)
    }
    fn from_value(v: &Value, decode: bool) -> Result<Self, ClaimsError> {
        let jwk = v
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.get("jwk"))
            .ok_or_else(|| {
                ClaimsError::invalid("cnf", "must be an object with exactly one member `jwk`")
            })?;
        let x =
            keys::public_key_bytes_from_jwk(jwk).map_err(|e| ClaimsError::invalid("cnf.jwk", e))?;
        if decode {
            keys::decode_public(&x).map_err(|e| ClaimsError::invalid("cnf.jwk", e))?;
        }
        Ok(Confirmation { x })
    }
}

/// What the caller chooses when asking for a token; the issuer adds the rest.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TokenRequest {
    /// Subject: who the token is for (principal id).
    pub sub: String,
    /// Audience: the service(s) that accept it.
    pub aud: Audience,
    /// The holder's public key; `None` for a bearer token, which anyone
    /// holding its text may present (a policy must allow it; it cannot
    /// carry a proof of possession, be delegated or be refreshed).
    pub cnf: Option<Confirmation>,
    /// The granted capabilities (at least one).
    pub caps: Vec<Capability>,
    /// Optional plan the grant belongs to.
    pub plan_id: Option<String>,
    /// Additional claims, preserved verbatim.
    pub extra: Map,
}

/// The longest a bearer token may live, in seconds (`exp - iat`): whoever
/// holds its text may use it, so it is short-lived by construction. The
/// issuer refuses to sign a longer one and every verifier to accept one.
pub const MAX_BEARER_TTL: u64 = 3600;

/// What a bearer token's lifetime breaks (`bad_ttl` or `bad_claims`).
pub(crate) const BEARER_TTL: &str = "a bearer token is short-lived: 1..=3600 seconds";

/// The most a `grant_depth` claim may say: no verifier allows chains
/// deeper than this.
pub const MAX_GRANT_DEPTH: u64 = 16;

impl TokenRequest {
    /// How deep below its root grant the issuer minted this token (its
    /// `grant_depth` claim; 0 without one). An issuer that grants below a
    /// token it issued (a gateway's server-side grant) signs the child as
    /// a token of its own and says its depth here; delegated children
    /// carry it unchanged, and every depth limit counts it.
    ///
    /// # Errors
    /// [`ClaimsError`] when `grant_depth` is there but not an integer in
    /// `1..=16`.
    pub fn grant_depth(&self) -> Result<usize, ClaimsError> {
        match self.extra.get("grant_depth") {
            None => Ok(0),
            Some(v) => v
                .as_u64()
                .filter(|d| (1..=MAX_GRANT_DEPTH).contains(d))
                .and_then(|d| usize::try_from(d).ok())
                .ok_or_else(|| ClaimsError::invalid("grant_depth", "must be an integer in 1..=16")),
        }
    }
}

/// A complete claims set, as signed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Claims {
    /// Schema version (`ver`).
    pub ver: u64,
    /// Issuer.
    pub iss: String,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry: the token is invalid at and after this second.
    pub exp: i64,
    /// Unique token id (base64url of at least 128 random bits).
    pub jti: String,
    /// For a delegated token: base64url SHA-256 of the parent token's
    /// compact text. Absent on a token the issuer signed directly.
    pub prf: Option<String>,
    /// Subject, audience, holder, capabilities and extras.
    pub request: TokenRequest,
}

/// Claims names the schema owns; anything else is an extra claim.
const REGISTERED: &[&str] = &[
    "ver", "iss", "sub", "aud", "iat", "nbf", "exp", "jti", "cnf", "caps", "plan_id", "prf",
];

fn take_string(map: &mut Map, name: &'static str) -> Result<String, ClaimsError> {
    match map.remove(name) {
        None => Err(ClaimsError::Missing(name)),
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(ClaimsError::invalid(name, "must be a non-empty string")),
    }
}

fn take_date(map: &mut Map, name: &'static str) -> Result<Option<i64>, ClaimsError> {
    match map.remove(name) {
        None => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if (0..=MAX_SAFE_INTEGER).contains(&n) => Ok(Some(n)),
            _ => Err(ClaimsError::BadDate(name)),
        },
    }
}

/// The path and text of the first malformed pattern of `caps`: an action
/// or resource pattern, or one a constraint kind holds (a domain pattern).
pub(crate) fn first_bad_pattern(caps: &[Capability]) -> Option<(String, String)> {
    for (i, cap) in caps.iter().enumerate() {
        for (field, list) in [("actions", &cap.actions), ("resources", &cap.resources)] {
            if let Some((j, p)) = list.iter().enumerate().find(|(_, p)| !valid_pattern(p)) {
                return Some((format!("caps[{i}].{field}[{j}]"), p.clone()));
            }
        }
        for kind in crate::constraint::KINDS {
            if let Some(Fault::Pattern { at, pattern }) = kind.fault(&cap.constraints) {
                return Some((
                    format!("caps[{i}].constraints.{}{at}", kind.name()),
                    pattern,
                ));
            }
        }
    }
    None
}

pub(crate) fn check_caps(caps: &[Capability]) -> Result<(), ClaimsError> {
    if caps.is_empty() {
        return Err(ClaimsError::invalid(
            "caps",
            "must grant at least one capability",
        ));
    }
    if let Some((path, pattern)) = first_bad_pattern(caps) {
        return Err(ClaimsError::invalid(
            path,
            format!("`{pattern}` is not a valid pattern"),
        ));
    }
    for (i, cap) in caps.iter().enumerate() {
        for (field, list) in [("actions", &cap.actions), ("resources", &cap.resources)] {
            if list.is_empty() || list.iter().any(String::is_empty) {
                return Err(ClaimsError::invalid(
                    format!("caps[{i}].{field}"),
                    "must be a non-empty list of non-empty strings",
                ));
            }
        }
        for kind in crate::constraint::KINDS {
            if let Some(crate::constraint::Fault::Range(reason)) = kind.fault(&cap.constraints) {
                return Err(ClaimsError::invalid(
                    format!("caps[{i}].constraints.{}", kind.name()),
                    reason,
                ));
            }
        }
    }
    Ok(())
}

impl TokenRequest {
    /// Read the caller-chosen part of a claims set from JSON. Issuer-owned
    /// claims (`ver`, `iss`, `iat`, `nbf`, `exp`, `jti`) are refused here:
    /// a caller must not pick its own expiry or token id.
    ///
    /// # Errors
    /// [`ClaimsError`] naming the first claim that does not fit the schema.
    pub fn from_json(map: Map) -> Result<Self, ClaimsError> {
        // An issuer must not sign a holder key nobody could ever prove.
        Self::asked(map, true)
    }

    /// Read the caller-chosen part of a bearer token's claims: as
    /// [`TokenRequest::from_json`], but `cnf` must be absent. Holder
    /// binding is the default; asking for a bearer token is this call.
    ///
    /// # Errors
    /// As [`TokenRequest::from_json`]; a `cnf` present is `bad_claims`.
    pub fn bearer_from_json(map: Map) -> Result<Self, ClaimsError> {
        if map.contains_key("cnf") {
            return Err(ClaimsError::invalid("cnf", crate::error::BEARER));
        }
        Self::asked(map, false)
    }

    /// Whether the token is a bearer token (no `cnf`).
    pub fn is_bearer(&self) -> bool {
        self.cnf.is_none()
    }

    fn asked(mut map: Map, issuing: bool) -> Result<Self, ClaimsError> {
        for owned in ["ver", "iss", "iat", "nbf", "exp", "jti", "prf"] {
            if map.contains_key(owned) {
                return Err(ClaimsError::invalid(
                    owned,
                    "is set by the issuer, not the request",
                ));
            }
        }
        Self::take(&mut map, issuing)
    }

    fn take(map: &mut Map, issuing: bool) -> Result<Self, ClaimsError> {
        let sub = take_string(map, "sub")?;
        let aud = match map.remove("aud") {
            None => return Err(ClaimsError::Missing("aud")),
            Some(Value::String(s)) if !s.is_empty() => Audience::One(s),
            Some(Value::Array(items)) if !items.is_empty() => Audience::Many(
                items
                    .into_iter()
                    .map(|v| match v {
                        Value::String(s) if !s.is_empty() => Ok(s),
                        _ => Err(ClaimsError::invalid("aud", "must hold non-empty strings")),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Some(_) => {
                return Err(ClaimsError::invalid(
                    "aud",
                    "must be a string or a non-empty list",
                ));
            }
        };
        // The issuer requires a key and decodes it; a verifier reads a
        // bearer token too, and decodes the key only when it needs it.
        let cnf = match map.remove("cnf") {
            None if issuing => return Err(ClaimsError::Missing("cnf")),
            None => None,
            Some(v) => Some(Confirmation::from_value(&v, issuing)?),
        };
        let caps = Capability::list_from_json(
            &map.remove("caps").ok_or(ClaimsError::Missing("caps"))?,
            "caps",
        )?;
        check_caps(&caps)?;
        let plan_id = match map.remove("plan_id") {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err(ClaimsError::invalid("plan_id", "must be a string")),
        };
        let extra = core::mem::take(map);
        if let Some((name, _)) = extra
            .iter()
            .find(|(_, v)| !crate::json::numbers_are_safe(v))
        {
            return Err(ClaimsError::invalid(name, UNSAFE_NUMBERS));
        }
        let request = TokenRequest {
            sub,
            aud,
            cnf,
            caps,
            plan_id,
            extra,
        };
        // `status` and `grant_depth` are the extras with a schema: a place
        // in a status list that is not one would be a revocation no
        // verifier checks, a depth that is not one a limit nobody holds.
        crate::status::StatusRef::of(&request)?;
        request.grant_depth()?;
        Ok(request)
    }
}

impl Claims {
    /// Read a signed claims set.
    ///
    /// # Errors
    /// [`ClaimsError`] naming the first claim that does not fit the schema.
    pub fn from_json(mut map: Map) -> Result<Self, ClaimsError> {
        let ver = match map.remove("ver") {
            Some(v) if v.as_u64() == Some(SCHEMA_VERSION) => SCHEMA_VERSION,
            Some(v) => return Err(ClaimsError::UnsupportedVersion(format!("{v}"))),
            None => return Err(ClaimsError::Missing("ver")),
        };
        let iss = take_string(&mut map, "iss")?;
        let exp = take_date(&mut map, "exp")?.ok_or(ClaimsError::MissingExp)?;
        let iat = take_date(&mut map, "iat")?.ok_or(ClaimsError::Missing("iat"))?;
        let nbf = take_date(&mut map, "nbf")?.ok_or(ClaimsError::Missing("nbf"))?;
        let jti = take_string(&mut map, "jti")?;
        if crate::b64::decode(jti.as_bytes()).map_or(true, |b| {
            !(MIN_JTI_BYTES..=MAX_JTI_BYTES).contains(&b.len())
        }) {
            return Err(ClaimsError::invalid(
                "jti",
                "must be base64url of 128 to 256 bits",
            ));
        }
        let prf = match map.remove("prf") {
            None => None,
            Some(Value::String(p)) if crate::b64::decode_array::<32>(&p).is_some() => Some(p),
            Some(_) => {
                return Err(ClaimsError::invalid(
                    "prf",
                    "must be base64url of a SHA-256 digest",
                ));
            }
        };
        let request = TokenRequest::take(&mut map, false)?;
        if request.cnf.is_none() && exp - iat > MAX_BEARER_TTL as i64 {
            return Err(ClaimsError::invalid("exp", BEARER_TTL));
        }
        Ok(Claims {
            ver,
            iss,
            iat,
            nbf,
            exp,
            jti,
            prf,
            request,
        })
    }

    /// The claims as a JSON object. Keys come out sorted, so the same claims
    /// always serialize to the same bytes on every host.
    pub fn to_json(&self) -> Map {
        let r = &self.request;
        let mut map = r.extra.clone();
        map.reserve(REGISTERED.len());
        // INVARIANT: extras never shadow registered claims; parsing removed
        // them from `extra`, and `TokenRequest` is only built by parsing or
        // by a caller who set `extra` itself (checked in `issue`).
        // Inserted in key order, so each one appends (`Map::insert`).
        map.insert("aud".into(), r.aud.to_json());
        map.insert("caps".into(), Capability::list_to_json(&r.caps));
        if let Some(cnf) = &r.cnf {
            map.insert("cnf".into(), cnf.to_value());
        }
        map.insert("exp".into(), self.exp.into());
        map.insert("iat".into(), self.iat.into());
        map.insert("iss".into(), self.iss.clone().into());
        map.insert("jti".into(), self.jti.clone().into());
        map.insert("nbf".into(), self.nbf.into());
        if let Some(p) = &r.plan_id {
            map.insert("plan_id".into(), p.clone().into());
        }
        if let Some(p) = &self.prf {
            map.insert("prf".into(), p.clone().into());
        }
        map.insert("sub".into(), r.sub.clone().into());
        map.insert("ver".into(), self.ver.into());
        map
    }
}

/// Whether `name` is a claim the schema owns (extras may not use it).
pub fn is_registered(name: &str) -> bool {
    REGISTERED.contains(&name)
}

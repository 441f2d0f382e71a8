//! Issuing and verifying captoken tokens.
//!
//! A token string becomes an [`UnverifiedToken`] by parsing, and a
//! [`VerifiedToken`] only through [`Verifier::verify`]: the only type that
//! later stages (authorization, delegation) accept.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::json::Map;
use ed25519_dalek::{Signature, VerifyingKey};
use signature::{Keypair, Signer};

use crate::b64;
use crate::claims::{self, Claims, ClaimsError, TokenRequest};
use crate::entropy::Entropy;
use crate::error::DelegationError;
use crate::error::{Part, TokenError};
use crate::json;
use crate::jws::{self, Compact, Limits};
use crate::keys::{self, KeySet};
use crate::narrowing::{self, CHAIN_SEPARATOR};

/// The `typ` header of every captoken token (RFC 8725 §3.11 explicit typing,
/// so a captoken cannot be confused with an ID token or any other JWT).
pub const TYP: &str = "captoken+jwt";

/// Default bounds for a token (a delegation chain included) a verifier
/// reads: [`Limits::TOKEN`].
pub const DEFAULT_LIMITS: Limits = Limits::TOKEN;

/// Default clock skew tolerated when verifying, in seconds.
pub const DEFAULT_LEEWAY: i64 = 30;
/// Largest clock skew a verifier may be configured with, in seconds.
pub const MAX_LEEWAY: i64 = 300;
/// The lifetime the operations give a token whose caller asks for none,
/// in seconds (an issue through a policy gets as long as the policy allows).
pub const DEFAULT_TTL: u64 = 300;

/// Bytes of entropy in a `jti` (128 bits).
const JTI_BYTES: usize = 16;

/// The protected header of a captoken token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header {
    /// The signing key's thumbprint.
    pub kid: String,
}

impl Header {
    fn to_json(&self) -> Map {
        jws::header(TYP, &self.kid)
    }
}

/// A freshly signed token.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IssuedToken {
    /// The compact serialization.
    pub token: String,
    /// The header as signed.
    pub header: Header,
    /// The claims as signed.
    pub claims: Claims,
}

/// Signs tokens for one issuer with one key.
///
/// Generic over [`signature::Signer`], so the private key can stay in an
/// HSM, a KMS, WebCrypto or the host process.
#[derive(Debug)]
pub struct TokenIssuer<'s, S> {
    signer: &'s S,
    issuer: String,
    kid: String,
}

impl<'s, S> TokenIssuer<'s, S>
where
    S: Signer<Signature> + Keypair<VerifyingKey = VerifyingKey>,
{
    /// Issue as `issuer` with `signer`; the `kid` is computed once here.
    pub fn new(signer: &'s S, issuer: impl Into<String>) -> Self {
        let kid = keys::thumbprint(&signer.verifying_key());
        TokenIssuer {
            signer,
            issuer: issuer.into(),
            kid,
        }
    }

    /// The `kid` this issuer stamps on its tokens.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The `iss` this issuer stamps on its tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Sign `request` valid from `now` for `ttl` seconds, with a fresh `jti`.
    ///
    /// # Errors
    /// [`TokenError::BadTtl`] for `ttl == 0`, dates past 2^53-1, or a
    /// bearer token (no `cnf`) asked to live past
    /// [`crate::claims::MAX_BEARER_TTL`],
    /// [`TokenError::Claims`] for an invalid request,
    /// [`TokenError::EntropyUnavailable`] and [`TokenError::SigningFailed`]
    /// when the host's parts fail.
    pub fn issue(
        &self,
        request: TokenRequest,
        now: i64,
        ttl: u64,
        entropy: &mut dyn Entropy,
    ) -> Result<IssuedToken, TokenError> {
        if request.is_bearer() && ttl > crate::claims::MAX_BEARER_TTL {
            return Err(TokenError::BadTtl(crate::claims::BEARER_TTL));
        }
        let fields = Minted {
            iss: &self.issuer,
            kid: &self.kid,
            exp_cap: None,
            nbf_floor: None,
            prf: None,
        };
        mint(self.signer, fields, request, now, ttl, entropy)
    }
}

/// What differs between a token the issuer signs and one a holder delegates.
pub(crate) struct Minted<'a> {
    pub iss: &'a str,
    pub kid: &'a str,
    /// A delegated token never outlives its parent.
    pub exp_cap: Option<i64>,
    /// A delegated token never starts before its parent.
    pub nbf_floor: Option<i64>,
    pub prf: Option<String>,
}

/// Sign a claims set: the one place tokens are made.
pub(crate) fn mint<S: Signer<Signature> + ?Sized>(
    signer: &S,
    fields: Minted<'_>,
    request: TokenRequest,
    now: i64,
    ttl: u64,
    entropy: &mut dyn Entropy,
) -> Result<IssuedToken, TokenError> {
    if !(0..=claims::MAX_SAFE_INTEGER).contains(&now) {
        return Err(TokenError::BadTtl("`now` must be in 0..=2^53-1"));
    }
    if ttl == 0 {
        return Err(TokenError::BadTtl("`ttl` must be at least 1 second"));
    }
    let exp = i64::try_from(ttl)
        .ok()
        .and_then(|t| now.checked_add(t))
        .filter(|e| *e <= claims::MAX_SAFE_INTEGER)
        .ok_or(TokenError::BadTtl("`now + ttl` exceeds 2^53-1"))?;
    let exp = fields.exp_cap.map_or(exp, |cap| exp.min(cap));
    let nbf = fields.nbf_floor.map_or(now, |floor| now.max(floor));
    if exp <= nbf {
        return Err(TokenError::BadTtl(
            "the token would expire before it starts",
        ));
    }
    if let Some(name) = request.extra.keys().find(|k| claims::is_registered(k)) {
        return Err(ClaimsError::Invalid {
            path: name.clone(),
            reason: "is a registered claim".into(),
        }
        .into());
    }
    let mut jti = [0u8; JTI_BYTES];
    entropy
        .fill(&mut jti)
        .map_err(|_| TokenError::EntropyUnavailable)?;
    let claims = Claims {
        ver: claims::SCHEMA_VERSION,
        iss: fields.iss.into(),
        iat: now,
        nbf,
        exp,
        jti: b64::encode(&jti),
        prf: fields.prf,
        request,
    };
    // The request is already typed (`cnf` is a decoded point), so only
    // the rules types cannot express are checked; `tests/roundtrip.rs`
    // proves everything issued parses back through the verifier.
    claims::check_caps(&claims.request.caps)?;
    let header = Header {
        kid: fields.kid.into(),
    };
    let payload_bytes = json::object_to_vec(&claims.to_json());
    let token = jws::sign_compact(&header.to_json(), &payload_bytes, signer)?;
    Ok(IssuedToken {
        token,
        header,
        claims,
    })
}

/// A token whose structure and header have been checked, not its signature.
/// It cannot be authorized or delegated: only [`VerifiedToken`] can.
///
/// The compiler holds that line. Verified, a token can be asked and handed on:
///
/// ```
/// # use captoken_core::json;
/// # use captoken_core::{KeySet, SigningKey, SliceEntropy, TokenIssuer, TokenRequest, TrustedKey};
/// # type Error = Box<dyn std::error::Error>;
/// # let claims = |sub: &str, holder: &SigningKey| -> Result<TokenRequest, Error> {
/// #     let mut doc = json::parse(
/// #         br#"{"aud": "robot-gateway", "caps": [{"actions": ["drive"], "resources": ["robot:7"]}]}"#,
/// #         16,
/// #     )?;
/// #     doc["sub"] = sub.into();
/// #     doc["cnf"]["jwk"] = captoken_core::keys::public_jwk(&holder.verifying_key());
/// #     Ok(TokenRequest::from_json(doc.as_object().cloned().unwrap_or_default())?)
/// # };
/// # let (issuer, holder) = (SigningKey::from_bytes(&[7; 32]), SigningKey::from_bytes(&[9; 32]));
/// # let now = 1_700_000_000;
/// # let text = TokenIssuer::new(&issuer, "https://gw.example")
/// #     .issue(claims("operator-1", &holder)?, now, 300, &mut SliceEntropy::new(&[42; 16]))?
/// #     .token;
/// # let mut keys = KeySet::new("https://gw.example");
/// # keys.insert(TrustedKey::new(issuer.verifying_key(), None, None))?;
/// # let request = captoken_core::Request::new("drive", "robot:7", Default::default());
/// # let child = claims("agent-2", &SigningKey::from_bytes(&[11; 32]))?;
/// # let mut entropy = SliceEntropy::new(&[43; 16]);
/// use captoken_core::jws::Limits;
/// use captoken_core::{Delegation, UnverifiedToken, Verifier};
///
/// let token = UnverifiedToken::parse(&text, &Limits::default())?;
/// let token = Verifier::new(&keys, "robot-gateway").verify_parsed(token, now)?;
/// token.authorize(&request)?;
/// Delegation::of(&token).ttl(60).sign(&holder, child, now, &mut entropy)?;
/// # Ok::<(), Error>(())
/// ```
///
/// The same token, unverified, has no `authorize`:
///
/// ```compile_fail,E0599
/// # use captoken_core::json;
/// # use captoken_core::{KeySet, SigningKey, SliceEntropy, TokenIssuer, TokenRequest, TrustedKey};
/// # type Error = Box<dyn std::error::Error>;
/// # let claims = |sub: &str, holder: &SigningKey| -> Result<TokenRequest, Error> {
/// #     let mut doc = json::parse(
/// #         br#"{"aud": "robot-gateway", "caps": [{"actions": ["drive"], "resources": ["robot:7"]}]}"#,
/// #         16,
/// #     )?;
/// #     doc["sub"] = sub.into();
/// #     doc["cnf"]["jwk"] = captoken_core::keys::public_jwk(&holder.verifying_key());
/// #     Ok(TokenRequest::from_json(doc.as_object().cloned().unwrap_or_default())?)
/// # };
/// # let (issuer, holder) = (SigningKey::from_bytes(&[7; 32]), SigningKey::from_bytes(&[9; 32]));
/// # let now = 1_700_000_000;
/// # let text = TokenIssuer::new(&issuer, "https://gw.example")
/// #     .issue(claims("operator-1", &holder)?, now, 300, &mut SliceEntropy::new(&[42; 16]))?
/// #     .token;
/// # let mut keys = KeySet::new("https://gw.example");
/// # keys.insert(TrustedKey::new(issuer.verifying_key(), None, None))?;
/// # let request = captoken_core::Request::new("drive", "robot:7", Default::default());
/// # let child = claims("agent-2", &SigningKey::from_bytes(&[11; 32]))?;
/// # let mut entropy = SliceEntropy::new(&[43; 16]);
/// use captoken_core::jws::Limits;
/// use captoken_core::{UnverifiedToken, Verifier, delegate};
///
/// let token = UnverifiedToken::parse(&text, &Limits::default())?;
/// token.authorize(&request)?;
/// # Ok::<(), Error>(())
/// ```
///
/// and is not a parent [`crate::Delegation`] accepts:
///
/// ```compile_fail,E0308
/// # use captoken_core::json;
/// # use captoken_core::{KeySet, SigningKey, SliceEntropy, TokenIssuer, TokenRequest, TrustedKey};
/// # type Error = Box<dyn std::error::Error>;
/// # let claims = |sub: &str, holder: &SigningKey| -> Result<TokenRequest, Error> {
/// #     let mut doc = json::parse(
/// #         br#"{"aud": "robot-gateway", "caps": [{"actions": ["drive"], "resources": ["robot:7"]}]}"#,
/// #         16,
/// #     )?;
/// #     doc["sub"] = sub.into();
/// #     doc["cnf"]["jwk"] = captoken_core::keys::public_jwk(&holder.verifying_key());
/// #     Ok(TokenRequest::from_json(doc.as_object().cloned().unwrap_or_default())?)
/// # };
/// # let (issuer, holder) = (SigningKey::from_bytes(&[7; 32]), SigningKey::from_bytes(&[9; 32]));
/// # let now = 1_700_000_000;
/// # let text = TokenIssuer::new(&issuer, "https://gw.example")
/// #     .issue(claims("operator-1", &holder)?, now, 300, &mut SliceEntropy::new(&[42; 16]))?
/// #     .token;
/// # let mut keys = KeySet::new("https://gw.example");
/// # keys.insert(TrustedKey::new(issuer.verifying_key(), None, None))?;
/// # let request = captoken_core::Request::new("drive", "robot:7", Default::default());
/// # let child = claims("agent-2", &SigningKey::from_bytes(&[11; 32]))?;
/// # let mut entropy = SliceEntropy::new(&[43; 16]);
/// use captoken_core::jws::Limits;
/// use captoken_core::{Delegation, UnverifiedToken, Verifier};
///
/// let token = UnverifiedToken::parse(&text, &Limits::default())?;
/// Delegation::of(&token).ttl(60).sign(&holder, child, now, &mut entropy)?;
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct UnverifiedToken<'t> {
    raw: &'t str,
    jws: Compact<'t>,
    header: Header,
}

impl<'t> UnverifiedToken<'t> {
    /// Parse and check everything that needs no key.
    ///
    /// # Errors
    /// The structural and header errors of [`TokenError`].
    pub fn parse(token: &'t str, limits: &Limits) -> Result<Self, TokenError> {
        let jws = jws::parse(token, limits)?;
        let kid = jws::typed_kid(&jws.header, TYP)?;
        Ok(UnverifiedToken {
            raw: token,
            jws,
            header: Header { kid },
        })
    }

    /// The `kid` the token claims to be signed with (unauthenticated).
    pub fn kid(&self) -> &str {
        &self.header.kid
    }
}

/// A token whose signature, issuer, audience and times have been checked.
/// Only [`Verifier::verify`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    header: Header,
    claims: Claims,
    chain: Vec<Link>,
    token_hash: [u8; 32],
    id: String,
    /// The text verified: the compact token, or the chain `leaf~…~root`.
    text: String,
    /// The times `now` at which the same verification gives this answer.
    valid: (i64, i64),
}

/// Separates the `jti`s of a delegated token's id (see [`VerifiedToken::id`]).
/// Not a base64url character, so an id splits one way only.
pub const ID_SEPARATOR: char = '.';

/// Whether `id` is a token id as docs/FORMAT.md defines it: a `jti`
/// (strict base64url of at least [`claims::MIN_JTI_BYTES`]), or such `jti`s joined
/// by [`ID_SEPARATOR`] for a delegated token. Anything else can never name a
/// token: a signed revocation list refuses to carry it, and a host can
/// refuse it before looking it up.
#[must_use]
pub fn is_token_id(id: &str) -> bool {
    id.split(ID_SEPARATOR)
        .all(|jti| b64::decode(jti.as_bytes()).is_ok_and(|b| b.len() >= claims::MIN_JTI_BYTES))
}

/// The ids of a token id's chain, root first, `id` itself last: a token is
/// revoked when any of them is. (`root.child` gives `root`, `root.child`.)
pub fn id_chain(id: &str) -> impl Iterator<Item = &str> {
    id.match_indices(ID_SEPARATOR)
        .map(|(at, _)| id.get(..at).unwrap_or_default())
        .chain(core::iter::once(id))
}

/// One ancestor of a delegated token, root first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Link {
    /// The ancestor's `jti`.
    pub jti: String,
    /// The ancestor's id ([`VerifiedToken::id`]).
    pub id: String,
    /// The ancestor's subject.
    pub sub: String,
    /// The key that signed the ancestor.
    pub kid: String,
}

impl VerifiedToken {
    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }
    /// The verified claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }
    /// Authorize `request` against this token's capabilities. Only a
    /// verified token can be asked: an [`UnverifiedToken`] has no such method.
    ///
    /// # Errors
    /// [`crate::scope::ScopeError`] saying which capability or constraint refused.
    pub fn authorize(
        &self,
        request: &crate::scope::Request,
    ) -> Result<crate::scope::Allowed, crate::scope::ScopeError> {
        crate::scope::authorize_caps(&self.claims.request.caps, request)
    }

    /// The holder's key binding (`cnf`); `None` for a bearer token.
    pub fn holder(&self) -> Option<&crate::claims::Confirmation> {
        self.claims.request.cnf.as_ref()
    }

    /// Whether this is a bearer token: no holder key, so no proof of
    /// possession, delegation or refresh.
    pub fn is_bearer(&self) -> bool {
        self.claims.request.is_bearer()
    }

    /// The ancestors of a delegated token, root first; empty for a token
    /// the issuer signed directly.
    pub fn chain(&self) -> &[Link] {
        &self.chain
    }

    /// How many delegations separate this token from the issuer (0 for a
    /// token the issuer signed).
    pub fn depth(&self) -> usize {
        self.chain.len()
    }

    /// Every `jti` of the chain, root first, this token's last.
    pub fn chain_jtis(&self) -> impl Iterator<Item = &str> {
        self.chain
            .iter()
            .map(|l| l.jti.as_str())
            .chain(core::iter::once(self.claims.jti.as_str()))
    }

    /// The name to revoke this token by, and to key a replay guard with.
    ///
    /// For a token the issuer signed it is its `jti`. A delegated token's
    /// `jti` is chosen by its delegator, who could copy any other token's,
    /// so its id is its parent's id, [`ID_SEPARATOR`], and its `jti`
    /// (`root.child.grandchild`): a delegator can only name ids inside its
    /// own subtree, and an id never collides with a token outside it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Every id of the chain ([`VerifiedToken::id`]), root first, this
    /// token's last: a token is revoked when any of them is, so revoking a
    /// parent revokes its descendants.
    pub fn chain_ids(&self) -> impl Iterator<Item = &str> {
        self.chain
            .iter()
            .map(|l| l.id.as_str())
            .chain(core::iter::once(self.id.as_str()))
    }

    /// SHA-256 of this token's own compact text (its `prf` for a child).
    pub fn token_hash(&self) -> &[u8; 32] {
        &self.token_hash
    }

    /// The times `now` at which verifying the same text with the same
    /// verifier gives this same token, from the first (inclusive) to the
    /// second (exclusive): every link's `nbf` and `iat` to its `exp`, and
    /// the issuer key's window, each widened by the leeway. Outside it the
    /// verification fails (expired, not yet valid, issued in the future,
    /// key not valid). A host may keep the answer for that long; whatever
    /// else it checks (revocation, proofs) it checks on every use.
    pub fn valid_between(&self) -> (i64, i64) {
        self.valid
    }

    /// The text this token was verified from: the compact token, or for a
    /// delegated token the whole chain `leaf~parent~…~root`. A delegation
    /// from it or a proof of possession for it needs no other copy.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Verifies tokens of one issuer for one audience.
#[derive(Debug, Clone)]
pub struct Verifier<'k> {
    keys: &'k KeySet,
    audiences: Vec<String>,
    leeway: i64,
    limits: Limits,
    max_depth: usize,
}

impl<'k> Verifier<'k> {
    /// Trust `keys` (which name their issuer), serving `audience`.
    /// Both are required: a verifier that skips either accepts tokens minted
    /// for someone else.
    pub fn new(keys: &'k KeySet, audience: impl Into<String>) -> Self {
        Verifier {
            keys,
            audiences: alloc::vec![audience.into()],
            leeway: DEFAULT_LEEWAY,
            limits: Limits::default(),
            max_depth: narrowing::DEFAULT_MAX_DEPTH,
        }
    }

    /// Serve `audience` too: a token whose `aud` names any of this
    /// verifier's audiences is for it.
    #[must_use]
    pub fn or_audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Tolerate this much clock skew, clamped to `0..=MAX_LEEWAY` seconds.
    #[must_use]
    pub fn leeway(mut self, seconds: i64) -> Self {
        self.leeway = seconds.clamp(0, MAX_LEEWAY);
        self
    }

    /// Use these size and depth limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Accept delegation chains of at most `depth` links (default 3).
    #[must_use]
    pub fn max_delegation_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Verify a token, or a delegation chain `leaf~parent~…~root`, at time
    /// `now` (seconds since the epoch).
    ///
    /// The order is fixed and documented in `docs/FORMAT.md`; signatures
    /// are checked before any claim is parsed, and the whole chain's size
    /// and depth before any signature.
    ///
    /// # Errors
    /// The first [`TokenError`] met in that order.
    pub fn verify(&self, token: &str, now: i64) -> Result<VerifiedToken, TokenError> {
        self.limits.check_len(token)?;
        let parts: Vec<&str> = token.split(CHAIN_SEPARATOR).collect();
        let links = parts.len().saturating_sub(1);
        if links > self.max_depth {
            return Err(DelegationError::TooDeep {
                depth: links,
                max: self.max_depth,
            }
            .into());
        }
        let mut texts = parts.iter().rev();
        let root_text = texts.next().copied().unwrap_or_default();
        let root = UnverifiedToken::parse(root_text, &self.limits)?;
        let mut verified = self.verify_parsed(root, now)?;
        if verified.claims.prf.is_some() {
            return Err(DelegationError::ParentMismatch { depth: 0 }.into());
        }
        // A root the issuer granted below another counts from there: its
        // (signed) `grant_depth`, read once its signature held, before any
        // link's.
        let granted = verified.claims.request.grant_depth()?;
        if links.saturating_add(granted) > self.max_depth {
            return Err(DelegationError::TooDeep {
                depth: links.saturating_add(granted),
                max: self.max_depth,
            }
            .into());
        }
        for (i, child_text) in texts.enumerate() {
            verified = self.verify_link(verified, child_text, i + 1, now)?;
        }
        Ok(verified)
    }

    /// Verify an already parsed token signed by the issuer at time `now`.
    ///
    /// # Errors
    /// As [`Verifier::verify`], from the key lookup on.
    pub fn verify_parsed(
        &self,
        token: UnverifiedToken<'_>,
        now: i64,
    ) -> Result<VerifiedToken, TokenError> {
        let kid = token.kid();
        let trusted = self
            .keys
            .get(kid)
            .ok_or_else(|| TokenError::UnknownKid(kid.to_string()))?;
        token.jws.verify_signature(trusted.key())?;
        if !trusted.in_window(now, self.leeway) {
            return Err(TokenError::KeyNotValid(kid.to_string()));
        }
        let claims = self.check_claims(&token, now)?;
        let (key_from, key_until) = trusted.window(self.leeway);
        let (from, until) = self.claims_window(&claims);
        Ok(VerifiedToken {
            header: token.header,
            id: claims.jti.clone(),
            claims,
            chain: Vec::new(),
            token_hash: sha256(token.raw),
            text: token.raw.to_string(),
            valid: (from.max(key_from), until.min(key_until)),
        })
    }

    /// Verify `child_text`, delegated by the holder of `parent`.
    fn verify_link(
        &self,
        parent: VerifiedToken,
        child_text: &str,
        depth: usize,
        now: i64,
    ) -> Result<VerifiedToken, TokenError> {
        let child = UnverifiedToken::parse(child_text, &self.limits)?;
        let Some(holder) = &parent.claims.request.cnf else {
            return Err(DelegationError::Bearer.into());
        };
        if child.kid() != holder.thumbprint() {
            return Err(DelegationError::BrokenLink { depth }.into());
        }
        child.jws.verify_signature(&holder.key()?)?;
        let claims = self.check_claims(&child, now)?;
        if claims.prf.as_deref() != Some(b64::encode(&parent.token_hash).as_str()) {
            return Err(DelegationError::ParentMismatch { depth }.into());
        }
        if parent.chain_jtis().any(|j| j == claims.jti) {
            return Err(DelegationError::Cycle {
                jti: claims.jti.clone(),
            }
            .into());
        }
        narrowing::check_narrower(&parent.claims, &claims, depth)?;
        let (from, until) = self.claims_window(&claims);
        let valid = (from.max(parent.valid.0), until.min(parent.valid.1));
        let id = format!("{}{ID_SEPARATOR}{}", parent.id, claims.jti);
        let text = format!("{child_text}{}{}", CHAIN_SEPARATOR, parent.text);
        let mut chain = parent.chain;
        chain.push(Link {
            jti: parent.claims.jti,
            id: parent.id,
            sub: parent.claims.request.sub,
            kid: parent.header.kid,
        });
        Ok(VerifiedToken {
            header: child.header,
            id,
            claims,
            chain,
            token_hash: sha256(child_text),
            text,
            valid,
        })
    }

    /// The times `now` at which [`Verifier::check_claims`] passes the time
    /// claims of `claims`: from the later of `nbf` and `iat`, to `exp`,
    /// widened by the leeway (first inclusive, second exclusive).
    fn claims_window(&self, claims: &Claims) -> (i64, i64) {
        (
            claims.nbf.max(claims.iat).saturating_sub(self.leeway),
            claims.exp.saturating_add(self.leeway),
        )
    }

    /// Everything after the signature: schema, times, audience, issuer.
    fn check_claims(&self, token: &UnverifiedToken<'_>, now: i64) -> Result<Claims, TokenError> {
        let payload =
            json::parse_object(&token.jws.payload, self.limits.max_json_depth).map_err(|err| {
                TokenError::Json {
                    part: Part::Payload,
                    err,
                }
            })?;
        let claims = Claims::from_json(payload)?;
        if claims.exp <= now.saturating_sub(self.leeway) {
            return Err(TokenError::Expired {
                now,
                exp: claims.exp,
            });
        }
        if claims.nbf > now.saturating_add(self.leeway) {
            return Err(TokenError::NotYetValid {
                now,
                nbf: claims.nbf,
            });
        }
        if claims.iat > now.saturating_add(self.leeway) {
            return Err(TokenError::IssuedInFuture {
                now,
                iat: claims.iat,
            });
        }
        if !self
            .audiences
            .iter()
            .any(|a| claims.request.aud.contains(a))
        {
            return Err(TokenError::BadAudience {
                expected: self.audiences.join("` or `"),
            });
        }
        if !self.keys.signs_for(&claims.iss) {
            return Err(TokenError::BadIssuer {
                expected: self.keys.issuer_names(),
                found: claims.iss,
            });
        }
        Ok(claims)
    }
}

fn sha256(text: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).into()
}

/// The claims of a verified token as JSON bytes: sorted keys, no
/// whitespace, so every host prints the same bytes for the same token.
pub fn claims_json(token: &VerifiedToken) -> Vec<u8> {
    json::object_to_vec(&token.claims.to_json())
}

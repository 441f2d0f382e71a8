//! Issuing and verifying captoken tokens.
//!
//! A token string becomes an [`UnverifiedToken`] by parsing, and a
//! [`VerifiedToken`] only through [`Verifier::verify`]: the only type that
//! later stages (authorization, delegation) accept.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Map, Value};
use signature::{Keypair, Signer};

use crate::b64;
use crate::claims::{self, Claims, ClaimsError, TokenRequest};
use crate::entropy::Entropy;
use crate::error::{Part, TokenError};
use crate::json;
use crate::jws::{self, Compact, Limits};
use crate::keys::{self, KeySet};

/// The `typ` header of every captoken token (RFC 8725 §3.11 explicit typing,
/// so a captoken cannot be confused with an ID token or any other JWT).
pub const TYP: &str = "captoken+jwt";

/// Header members the format defines; anything else is refused.
const HEADER_MEMBERS: &[&str] = &["alg", "typ", "kid"];

/// Default clock skew tolerated when verifying, in seconds.
pub const DEFAULT_LEEWAY: i64 = 30;
/// Largest clock skew a verifier may be configured with, in seconds.
pub const MAX_LEEWAY: i64 = 300;

/// Bytes of entropy in a `jti` (128 bits).
const JTI_BYTES: usize = 16;

/// The protected header of a captoken token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The signing key's thumbprint.
    pub kid: String,
}

impl Header {
    fn to_json(&self) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("alg".into(), "EdDSA".into());
        map.insert("kid".into(), self.kid.clone().into());
        map.insert("typ".into(), TYP.into());
        map
    }
}

/// A freshly signed token.
#[derive(Debug, Clone, PartialEq)]
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

    /// Sign `request` valid from `now` for `ttl` seconds, with a fresh `jti`.
    ///
    /// # Errors
    /// [`TokenError::BadTtl`] for `ttl == 0` or dates past 2^53-1,
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
            iss: self.issuer.clone(),
            iat: now,
            nbf: now,
            exp,
            jti: b64::encode(&jti),
            request,
        };
        // The request is already typed (`cnf` is a decoded point), so only
        // the rules types cannot express are checked; `tests/roundtrip.rs`
        // proves everything issued parses back through the verifier.
        claims::check_caps(&claims.request.caps)?;
        let payload_json = Value::Object(claims.to_json());
        let header = Header {
            kid: self.kid.clone(),
        };
        let header_bytes = serde_json::to_vec(&Value::Object(header.to_json()))
            .map_err(|_| TokenError::SigningFailed)?;
        let payload_bytes =
            serde_json::to_vec(&payload_json).map_err(|_| TokenError::SigningFailed)?;
        let mut token = b64::encode(&header_bytes);
        token.push('.');
        token.push_str(&b64::encode(&payload_bytes));
        let signature = self
            .signer
            .try_sign(token.as_bytes())
            .map_err(|_| TokenError::SigningFailed)?;
        token.push('.');
        token.push_str(&b64::encode(&signature.to_bytes()));
        Ok(IssuedToken {
            token,
            header,
            claims,
        })
    }
}

/// A token whose structure and header have been checked, not its signature.
/// It cannot be authorized or delegated: only [`VerifiedToken`] can.
#[derive(Debug, Clone)]
pub struct UnverifiedToken<'t> {
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
        if let Some(extra) = jws
            .header
            .keys()
            .find(|k| !HEADER_MEMBERS.contains(&k.as_str()))
        {
            return Err(TokenError::BadHeader(extra.clone()));
        }
        match jws.header.get("typ") {
            Some(Value::String(t)) if t == TYP => {}
            Some(Value::String(t)) => return Err(TokenError::BadTyp(Some(t.clone()))),
            Some(other) => return Err(TokenError::BadTyp(Some(other.to_string()))),
            None => return Err(TokenError::BadTyp(None)),
        }
        let kid = match jws.header.get("kid") {
            Some(Value::String(k)) if !k.is_empty() => k.clone(),
            _ => return Err(TokenError::MissingKid),
        };
        Ok(UnverifiedToken {
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
    /// The holder's key binding (`cnf`).
    pub fn holder(&self) -> &crate::claims::Confirmation {
        &self.claims.request.cnf
    }
}

/// Verifies tokens of one issuer for one audience.
#[derive(Debug, Clone)]
pub struct Verifier<'k> {
    keys: &'k KeySet,
    audience: String,
    leeway: i64,
    limits: Limits,
}

impl<'k> Verifier<'k> {
    /// Trust `keys` (which name their issuer), serving `audience`.
    /// Both are required: a verifier that skips either accepts tokens minted
    /// for someone else.
    pub fn new(keys: &'k KeySet, audience: impl Into<String>) -> Self {
        Verifier {
            keys,
            audience: audience.into(),
            leeway: DEFAULT_LEEWAY,
            limits: Limits::default(),
        }
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

    /// Verify a token string at time `now` (seconds since the epoch).
    ///
    /// The order is fixed and documented in `docs/FORMAT.md`; the signature
    /// is checked before any claim is parsed.
    ///
    /// # Errors
    /// The first [`TokenError`] met in that order.
    pub fn verify(&self, token: &str, now: i64) -> Result<VerifiedToken, TokenError> {
        self.verify_parsed(UnverifiedToken::parse(token, &self.limits)?, now)
    }

    /// Verify an already parsed token at time `now`.
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
        if !claims.request.aud.contains(&self.audience) {
            return Err(TokenError::BadAudience {
                expected: self.audience.clone(),
            });
        }
        if claims.iss != self.keys.issuer() {
            return Err(TokenError::BadIssuer {
                expected: self.keys.issuer().to_string(),
                found: claims.iss,
            });
        }
        Ok(VerifiedToken {
            header: token.header,
            claims,
        })
    }
}

/// The claims of a verified token as JSON bytes: sorted keys, no
/// whitespace, so every host prints the same bytes for the same token.
pub fn claims_json(token: &VerifiedToken) -> Vec<u8> {
    serde_json::to_vec(&Value::Object(token.claims.to_json())).unwrap_or_default()
}

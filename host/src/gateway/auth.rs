//! The admin bearer token that guards issuing, revoking and listing.

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;

/// The admin token, kept only as its SHA-256.
///
/// Comparing digests in constant time hides both the token's bytes and its
/// length from a caller timing the refusals; keeping only the digest means
/// the token itself is not in memory after start-up.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

impl AdminToken {
    /// The token a client must present as `Authorization: Bearer <token>`.
    #[must_use]
    pub fn new(token: &str) -> Self {
        Self {
            digest: Sha256::digest(token.as_bytes()).into(),
        }
    }

    /// Whether the request carries this token.
    ///
    /// # Errors
    ///
    /// 401 `missing_credentials` without an `Authorization: Bearer` header,
    /// 401 `bad_credentials` with a different token.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "missing_credentials",
                    "this endpoint needs `Authorization: Bearer <admin token>`",
                )
            })?;
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        if bool::from(digest.ct_eq(&self.digest)) {
            Ok(())
        } else {
            Err(ApiError::unauthorized(
                "bad_credentials",
                "the bearer token is not the admin token",
            ))
        }
    }
}

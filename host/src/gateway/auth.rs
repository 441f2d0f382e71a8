//! The admin bearer token that guards issuing, revoking and listing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::GatewayError;
use super::error::ApiError;

/// The least an admin token must look like it carries, in bits.
const MIN_BITS: f64 = 128.0;
/// The fewest distinct characters an admin token may have.
const MIN_DISTINCT: usize = 8;
/// Failed attempts in a row answered at once; after them, each failure
/// waits its turn and then [`failure_delay`].
const FREE_FAILURES: u32 = 5;

/// The admin token, kept only as its SHA-256.
///
/// Comparing digests in constant time hides both the token's bytes and its
/// length from a caller timing the refusals; keeping only the digest means
/// the token itself is not in memory after start-up.
///
/// Failed attempts are slowed down: after a few in a row, refusals are
/// answered one at a time, each after a growing delay (up to 1 s), so
/// guessing costs time whatever the number of connections; a presented
/// right token is never delayed, and resets the count.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
    failures: Arc<Failures>,
}

/// Failed attempts in a row, the turn each delayed refusal waits for, and
/// how many refusals were answered at once and after a delay.
#[derive(Default)]
struct Failures {
    in_a_row: AtomicU32,
    turn: tokio::sync::Mutex<()>,
    refused: [AtomicU64; 2],
}

/// How long the `n`th failure in a row waits (`n` > [`FREE_FAILURES`]).
fn failure_delay(n: u32) -> Duration {
    let doublings = n.saturating_sub(FREE_FAILURES).min(5);
    Duration::from_millis(50 << doublings).min(Duration::from_secs(1))
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

impl AdminToken {
    /// The token a client must present as `Authorization: Bearer <token>`.
    ///
    /// # Errors
    ///
    /// [`GatewayError::WeakAdminToken`] for a token that cannot be sent as
    /// a header value (controls, spaces, non-ASCII), or that does not look
    /// like at least 128 random bits: too short for the kinds of character
    /// it uses, or made of fewer than 8 distinct characters. A generated
    /// token ([`super::generate_admin_token`]) is 256 bits.
    pub fn new(token: &str) -> Result<Self, GatewayError> {
        let weak = |why: &str| {
            Err(GatewayError::WeakAdminToken(format!(
                "the admin token {why}; use at least 128 random bits, e.g. \
                 `head -c 32 /dev/urandom | base64`"
            )))
        };
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return weak("must be printable ASCII without spaces");
        }
        let bits = token.len() as f64 * (alphabet(token) as f64).log2();
        if bits < MIN_BITS {
            return weak(&format!(
                "looks like at most {} random bits ({} characters)",
                bits.floor(),
                token.len()
            ));
        }
        let mut distinct: Vec<u8> = token.bytes().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < MIN_DISTINCT {
            return weak(&format!("uses only {} distinct characters", distinct.len()));
        }
        Ok(Self {
            digest: Sha256::digest(token.as_bytes()).into(),
            failures: Arc::default(),
        })
    }

    /// Whether the request carries this token.
    ///
    /// # Errors
    ///
    /// 401 `missing_credentials` without an `Authorization: Bearer` header,
    /// 401 `bad_credentials` with a different token.
    pub(crate) async fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
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
            self.failures.in_a_row.store(0, Ordering::Relaxed);
            return Ok(());
        }
        let n = self
            .failures
            .in_a_row
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        let delayed = n > FREE_FAILURES;
        if let Some(count) = self.failures.refused.get(usize::from(delayed)) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        if delayed {
            let _turn = self.failures.turn.lock().await;
            tokio::time::sleep(failure_delay(n)).await;
        }
        Err(ApiError::unauthorized(
            "bad_credentials",
            "the bearer token is not the admin token",
        ))
    }
}

impl AdminToken {
    /// `captoken_admin_refusals_total{delayed}` in the Prometheus text
    /// format: wrong admin tokens refused at once, and after a delay.
    pub(crate) fn render_metrics(&self, out: &mut String) {
        out.push_str(
            "# HELP captoken_admin_refusals_total Wrong admin tokens refused, at once or delayed.\n\
             # TYPE captoken_admin_refusals_total counter\n",
        );
        for (delayed, count) in ["false", "true"].iter().zip(&self.failures.refused) {
            out.push_str(&format!(
                "captoken_admin_refusals_total{{delayed=\"{delayed}\"}} {}\n",
                count.load(Ordering::Relaxed)
            ));
        }
    }
}

/// How many characters the kinds present in `token` could have been drawn
/// from: lower case, upper case, digits, other printable ASCII.
fn alphabet(token: &str) -> u32 {
    let has = |f: fn(&u8) -> bool| token.as_bytes().iter().any(f);
    let mut size = 0;
    if has(u8::is_ascii_lowercase) {
        size += 26;
    }
    if has(u8::is_ascii_uppercase) {
        size += 26;
    }
    if has(u8::is_ascii_digit) {
        size += 10;
    }
    if has(u8::is_ascii_punctuation) {
        size += 32;
    }
    size.max(1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn weak_admin_tokens_are_refused_and_strong_ones_taken() {
        for weak in [
            "x",
            "password",
            "correct-horse",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "abababababababababababababababababababababababab",
            "has a space in the middle of it, 0123456789",
            "tab\there-0123456789abcdefghijklmnopqrstu",
            "ünïcödé-0123456789abcdefghijklmnopqrstuvwxyz",
        ] {
            let err = AdminToken::new(weak).unwrap_err();
            assert_eq!(err.code(), "weak_admin_token", "{weak:?}");
        }
        for strong in [
            "0123456789abcdef0123456789abcdef",
            "test-admin-token-0123456789",
            "Y8am_YA_f3OrQk2d9Lw0mZ1xVb7nT4sR6uE5hJcGpKi",
        ] {
            AdminToken::new(strong).unwrap();
        }
        let generated = super::super::generate_admin_token().unwrap();
        AdminToken::new(&generated).unwrap();
    }

    #[test]
    fn failure_delays_grow_and_are_capped() {
        assert_eq!(failure_delay(FREE_FAILURES + 1), Duration::from_millis(100));
        assert!(failure_delay(FREE_FAILURES + 2) > failure_delay(FREE_FAILURES + 1));
        assert_eq!(failure_delay(u32::MAX), Duration::from_secs(1));
    }
}

//! What the module cannot produce for itself: the time and randomness.
//!
//! The module has no clock and no entropy source, so that it is pure and
//! every host (wasmtime, Node, a browser) answers the same request the same
//! way; a host reads them here and passes them in as request fields.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::HostError;

/// Seconds since the Unix epoch, the `now` of a request.
#[must_use]
pub fn now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        // A clock set before 1970 is wrong, but saying so is the module's job.
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// `N` bytes from the operating system's secure random number generator,
/// for a `seed` or an `entropy` field.
///
/// # Errors
///
/// `host_entropy` if the generator is unavailable.
pub fn entropy<const N: usize>() -> Result<[u8; N], HostError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|err| HostError::HostEntropy {
        reason: err.to_string(),
    })?;
    Ok(bytes)
}

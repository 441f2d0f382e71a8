//! Entropy comes from outside: the core has no randomness source of its own.

/// The entropy source could not supply bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntropyError;

/// A source of cryptographically secure random bytes, supplied by the host
/// (`getrandom` natively, `crypto.getRandomValues` in JS).
pub trait Entropy {
    /// Fill `dest` entirely.
    ///
    /// # Errors
    /// [`EntropyError`] when the source cannot supply `dest.len()` bytes.
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), EntropyError>;
}

/// Entropy handed over as bytes (what a host passes through the ABI).
/// Each byte is used at most once; running out is an error, never a repeat.
#[derive(Debug)]
pub struct SliceEntropy<'a> {
    rest: &'a [u8],
}

impl<'a> SliceEntropy<'a> {
    /// Use these bytes, which must come from a secure random source.
    pub fn new(bytes: &'a [u8]) -> Self {
        SliceEntropy { rest: bytes }
    }
}

impl Entropy for SliceEntropy<'_> {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), EntropyError> {
        let (now, later) = self.rest.split_at_checked(dest.len()).ok_or(EntropyError)?;
        dest.copy_from_slice(now);
        self.rest = later;
        Ok(())
    }
}

//! The per-call memory cap, enforced as a trap the host can recognise.

use wasmtime::ResourceLimiter;

/// Caps one store's linear memory and tables.
///
/// Unlike `wasmtime::StoreLimits`, an over-cap growth fails the call with
/// [`MemoryCapExceeded`] instead of returning `-1` to the guest: a Rust guest
/// would turn `-1` into an `unreachable` trap indistinguishable from a bug.
pub(crate) struct CallLimits {
    pub(crate) memory_bytes: usize,
}

/// Raised from the limiter when the guest asks for more memory than the cap.
#[derive(Debug, thiserror::Error)]
#[error("memory growth to {desired} bytes exceeds the cap of {limit}")]
pub(crate) struct MemoryCapExceeded {
    pub(crate) desired: usize,
    pub(crate) limit: usize,
}

/// wasm-bindgen modules have a function table and an externref table; the
/// tables never need to grow far, so their cap is only a backstop.
const TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for CallLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            return Err(wasmtime::Error::new(MemoryCapExceeded {
                desired,
                limit: self.memory_bytes,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        2
    }

    fn memories(&self) -> usize {
        1
    }
}

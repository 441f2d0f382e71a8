//! The raw ABI of docs/ABI.md, bound to one instance.

use wasmtime::{Instance, Memory, Store, TypedFunc};

use crate::HostError;
use crate::limits::CallLimits;

/// The only ABI version this host speaks.
pub(crate) const ABI_VERSION: i32 = 1;

/// `ct_call` status: the response is the operation's result.
pub(crate) const STATUS_OK: i32 = 0;
/// `ct_call` status: the response is an error object.
pub(crate) const STATUS_ERROR: i32 = 1;

/// The exports of one instance, typed.
pub(crate) struct Exports {
    pub(crate) memory: Memory,
    pub(crate) abi_version: TypedFunc<(), i32>,
    pub(crate) alloc: TypedFunc<i32, i32>,
    pub(crate) free: TypedFunc<(i32, i32), ()>,
    pub(crate) call: TypedFunc<(i32, i32, i32), i32>,
    pub(crate) out_ptr: TypedFunc<(), i32>,
    pub(crate) out_len: TypedFunc<(), i32>,
}

impl Exports {
    /// Binds every export the raw ABI needs.
    ///
    /// # Errors
    ///
    /// [`HostError::ModuleMissingExport`] for an export that is absent or
    /// has another type.
    pub(crate) fn bind(
        store: &mut Store<CallLimits>,
        instance: &Instance,
    ) -> Result<Self, HostError> {
        Ok(Self {
            memory: instance
                .get_memory(&mut *store, "memory")
                .ok_or(HostError::ModuleMissingExport { name: "memory" })?,
            abi_version: func(store, instance, "ct_abi_version")?,
            alloc: func(store, instance, "ct_alloc")?,
            free: func(store, instance, "ct_free")?,
            call: func(store, instance, "ct_call")?,
            out_ptr: func(store, instance, "ct_out_ptr")?,
            out_len: func(store, instance, "ct_out_len")?,
        })
    }
}

fn func<Params, Results>(
    store: &mut Store<CallLimits>,
    instance: &Instance,
    name: &'static str,
) -> Result<TypedFunc<Params, Results>, HostError>
where
    Params: wasmtime::WasmParams,
    Results: wasmtime::WasmResults,
{
    instance
        .get_typed_func(store, name)
        .map_err(|_| HostError::ModuleMissingExport { name })
}

/// The wasm `i32` as the `u32` offset or length it encodes.
pub(crate) fn unsigned(value: i32) -> usize {
    u32::from_ne_bytes(value.to_ne_bytes()) as usize
}

/// The bytes at `ptr..ptr + len`, refusing a region outside `memory`.
///
/// # Errors
///
/// [`HostError::GuestBadRegion`] when the region does not lie in `memory`.
pub(crate) fn region(memory: &[u8], ptr: i32, len: i32) -> Result<&[u8], HostError> {
    let (start, len) = (unsigned(ptr), unsigned(len));
    start
        .checked_add(len)
        .and_then(|end| memory.get(start..end))
        .ok_or_else(|| HostError::GuestBadRegion {
            what: format!(
                "response at {start} of {len} bytes, memory is {} bytes",
                memory.len()
            ),
        })
}

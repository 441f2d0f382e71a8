//! The raw ABI (docs/ABI.md). No `unsafe`: request buffers are `Vec`s this
//! module owns and finds again by address, so reading one is a safe slice
//! of our own allocation. The host writes into them through the exported
//! memory between calls, which Rust never observes mid-borrow.

use std::cell::RefCell;
use std::collections::BTreeMap;

use wasm_bindgen::prelude::*;

thread_local! {
    // Wasm is single-threaded; thread_local just gives us safe interior
    // mutability without `static mut`.
    static BUFFERS: RefCell<BTreeMap<usize, Vec<u8>>> = const { RefCell::new(BTreeMap::new()) };
    static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Status: the response is the operation's result.
const OK: u32 = 0;
/// Status: the response is `{"code", "message"}`.
const ERR: u32 = 1;

fn addr(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.as_ptr() as usize).unwrap_or(0)
}

/// ABI version; a host refuses a module whose version it does not know.
#[wasm_bindgen]
pub fn ct_abi_version() -> u32 {
    captoken_core::ops::ABI_VERSION
}

/// Allocate `len` bytes for a request; 0 when impossible.
#[wasm_bindgen]
pub fn ct_alloc(len: u32) -> u32 {
    let Ok(len) = usize::try_from(len) else {
        return 0;
    };
    let mut buf = Vec::new();
    if buf.try_reserve_exact(len.max(1)).is_err() {
        return 0;
    }
    buf.resize(len, 0);
    let ptr = addr(&buf);
    BUFFERS.with_borrow_mut(|b| b.insert(ptr as usize, buf));
    ptr
}

/// Free a buffer from `ct_alloc`. Unknown pointers are ignored.
#[wasm_bindgen]
pub fn ct_free(ptr: u32, _len: u32) {
    BUFFERS.with_borrow_mut(|b| b.remove(&(ptr as usize)));
}

/// Run operation `op` on the request at `ptr..ptr+len`; 0 = ok, 1 = error.
#[wasm_bindgen]
pub fn ct_call(op: u32, ptr: u32, len: u32) -> u32 {
    let result = BUFFERS.with_borrow(|b| {
        let request = b
            .get(&(ptr as usize))
            .and_then(|buf| buf.get(..len as usize));
        match request {
            Some(req) => captoken_core::ops::call(op, req),
            None => Err(captoken_core::OpError::BadRequest(
                "request buffer was not allocated by `ct_alloc`".into(),
            )),
        }
    });
    let (status, bytes) = match result {
        Ok(bytes) => (OK, bytes),
        Err(err) => (ERR, err.to_json()),
    };
    OUT.set(bytes);
    status
}

/// Address of the last response.
#[wasm_bindgen]
pub fn ct_out_ptr() -> u32 {
    OUT.with_borrow(|o| addr(o))
}

/// Length of the last response.
#[wasm_bindgen]
pub fn ct_out_len() -> u32 {
    OUT.with_borrow(|o| u32::try_from(o.len()).unwrap_or(0))
}

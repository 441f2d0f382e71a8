//! The captoken operations table, exported from one `.wasm` two ways:
//!
//! * the raw ABI (`ct_*`, documented in `docs/ABI.md`) for wasmtime and any
//!   other non-JS host;
//! * a wasm-bindgen JS API (`call`, `abiVersion`, `operations`) for Node and
//!   browsers.
//!
//! This crate holds no logic: both paths end in `captoken_core::ops`.
//! Requests and responses cross as JSON text, not as JS objects, so both
//! hosts feed the core the very same bytes and get the very same bytes back.
#![deny(missing_docs)]

mod raw;

use wasm_bindgen::prelude::*;

/// Run operation `op` (by name) on a JSON request; returns the JSON response.
///
/// # Errors
/// Throws an `Error` whose `code` property is the stable error code and
/// whose `body` is the error document every host reports (`code`,
/// `message`, and `path` / `audit` when present; docs/ABI.md).
#[wasm_bindgen]
pub fn call(op: &str, request: &str) -> Result<String, JsValue> {
    match captoken_core::ops::call_named(op, request.as_bytes()) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| JsValue::from_str("non-utf8 response")),
        Err(err) => {
            let js = js_sys::Error::new(&err.to_string());
            js.set_name("CaptokenError");
            // Reflect::set only fails on frozen objects; a fresh Error is not.
            let _ = js_sys::Reflect::set(&js, &"code".into(), &err.code().into());
            let body = String::from_utf8(err.to_json()).unwrap_or_default();
            let _ = js_sys::Reflect::set(&js, &"body".into(), &body.into());
            Err(js.into())
        }
    }
}

/// The ABI version this module speaks.
#[wasm_bindgen(js_name = abiVersion)]
pub fn abi_version() -> u32 {
    captoken_core::ops::ABI_VERSION
}

/// The names of the operations, in id order.
#[wasm_bindgen]
pub fn operations() -> Vec<String> {
    captoken_core::ops::OPERATIONS
        .iter()
        .map(|o| o.name.into())
        .collect()
}

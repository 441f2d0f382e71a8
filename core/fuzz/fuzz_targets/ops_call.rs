//! `ops::call`, the one entry every host reaches: the first byte picks the
//! operation (ids past the table too), the rest is the request. It must
//! answer, with JSON, whatever it is handed.
#![no_main]

use captoken_core::json;
use captoken_core::ops::{self, OPERATIONS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&op, request)) = data.split_first() else {
        return;
    };
    let id = u32::from(op) % (OPERATIONS.len() as u32 + 2);
    match ops::call(id, request) {
        Ok(out) => {
            json::parse(&out, 64).expect("a response is json");
        }
        Err(err) => {
            json::parse(&err.to_json(), 64).expect("an error is json");
        }
    }
});

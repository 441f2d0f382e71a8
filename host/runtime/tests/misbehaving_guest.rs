//! The host against hand-written modules that break the ABI on purpose: each
//! misbehaviour must come back as its typed error, and the runtime must go on
//! serving the next call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use captoken_runtime::{HostError, Runtime, RuntimeConfig};
use sha2::{Digest, Sha256};

/// A raw-ABI module whose `ct_call` misbehaves according to `op`:
/// 0 echoes the request, 1 answers an error object, 2 loops forever,
/// 3 traps, 4 grows memory past any cap, 5 points its response outside
/// memory, 6 returns status 7, 7 calls a JS-glue import, 8 answers a
/// malformed error object, 9 answers the first 16 bytes of memory (a data
/// segment) and 16 bytes at 8192 (zeros in the image), then overwrites
/// both with the request.
const MOCK: &str = r#"
(module
  (import "./captoken_bg.js" "__wbindgen_throw" (func $glue (param i32 i32)))
  (memory (export "memory") 1)
  (global $out_ptr (mut i32) (i32.const 0))
  (global $out_len (mut i32) (i32.const 0))
  (data (i32.const 0) "{\"code\":\"nope\",\"message\":\"mock says no\"}")
  (data (i32.const 64) "not json")
  (func (export "ct_abi_version") (result i32) (i32.const ABI))
  (func (export "ct_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "ct_free") (param i32 i32))
  (func (export "ct_out_ptr") (result i32) (global.get $out_ptr))
  (func (export "ct_out_len") (result i32) (global.get $out_len))
  (func (export "ct_call") (param $op i32) (param $ptr i32) (param $len i32) (result i32)
    (block $echo
    (block $error
    (block $loop
    (block $trap
    (block $grow
    (block $region
    (block $status
    (block $import
    (block $bad_error
    (block $remember
      (br_table $echo $error $loop $trap $grow $region $status $import $bad_error $remember $trap
        (local.get $op)))
    ;; 9
    (memory.copy (i32.const 4096) (i32.const 0) (i32.const 16))
    (memory.copy (i32.const 4112) (i32.const 8192) (i32.const 16))
    (memory.copy (i32.const 0) (local.get $ptr) (local.get $len))
    (memory.copy (i32.const 8192) (local.get $ptr) (local.get $len))
    (global.set $out_ptr (i32.const 4096))
    (global.set $out_len (i32.const 32))
    (return (i32.const 0)))
    ;; 8: status 1 with something that is not an error object
    (global.set $out_ptr (i32.const 64))
    (global.set $out_len (i32.const 8))
    (return (i32.const 1)))
    ;; 7
    (call $glue (i32.const 0) (i32.const 0))
    (return (i32.const 0)))
    ;; 6
    (return (i32.const 7)))
    ;; 5
    (global.set $out_ptr (i32.const 0xfffffff0))
    (global.set $out_len (i32.const 100))
    (return (i32.const 0)))
    ;; 4: 4 GiB
    (drop (memory.grow (i32.const 65535)))
    (return (i32.const 0)))
    ;; 3
    (unreachable))
    ;; 2
    (loop $forever (br $forever))
    (return (i32.const 0)))
    ;; 1
    (global.set $out_ptr (i32.const 0))
    (global.set $out_len (i32.const 40))
    (return (i32.const 1)))
    ;; 0
    (global.set $out_ptr (local.get $ptr))
    (global.set $out_len (local.get $len))
    (i32.const 0)))
"#;

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn wasm(abi: i32) -> Vec<u8> {
    wat::parse_str(MOCK.replace("ABI", &abi.to_string())).unwrap()
}

fn mock_with(config: RuntimeConfig) -> Runtime {
    let bytes = wasm(1);
    Runtime::from_bytes_with(&bytes, &hex_sha256(&bytes), config).unwrap()
}

fn mock() -> Runtime {
    mock_with(RuntimeConfig::default().fuel(10_000_000))
}

fn assert_still_serves(runtime: &Runtime) {
    assert_eq!(runtime.call(0, b"ping").unwrap(), b"ping");
}

#[test]
fn echo_round_trips_bytes_and_reports_the_digest() {
    let bytes = wasm(1);
    let runtime = Runtime::from_bytes(&bytes, &hex_sha256(&bytes)).unwrap();
    assert_eq!(runtime.module_sha256(), hex_sha256(&bytes));
    assert_still_serves(&runtime);
    assert_eq!(runtime.call(0, b"").unwrap(), b"");
}

#[test]
fn every_call_starts_from_the_modules_initial_memory() {
    // Whether a slot's dirtied pages are unmapped (the default) or reset in
    // place (`keep_resident`, where Linux can find them), a call never sees
    // what the call before it wrote, not even in the same slot: neither in
    // a data segment nor in memory the image leaves zero.
    let mut initial = b"{\"code\":\"nope\",\"".to_vec();
    initial.extend([0; 16]);
    for config in [
        RuntimeConfig::default(),
        RuntimeConfig::default().keep_resident(1 << 20),
    ] {
        let runtime = mock_with(config.fuel(10_000_000));
        for secret in [
            b"secret number 1.",
            b"secret number 2.",
            b"secret number 3.",
        ] {
            assert_eq!(runtime.call(9, secret).unwrap(), initial);
        }
    }
}

#[test]
fn a_session_is_one_instance_and_nothing_outlives_it() {
    let mut initial = b"{\"code\":\"nope\",\"".to_vec();
    initial.extend([0; 16]);
    let runtime = mock();
    let mut session = runtime.session(9).unwrap();
    assert_eq!(session.call(9, b"secret number 1.").unwrap(), initial);
    // The second call finds what the first wrote: the same instance.
    assert_eq!(
        session.call(9, b"secret number 2.").unwrap(),
        b"secret number 1.secret number 1."
    );
    drop(session);
    // A call after the session starts from the image again.
    assert_eq!(runtime.call(9, b"secret number 3.").unwrap(), initial);
}

#[test]
fn a_session_goes_on_after_a_refusal_and_takes_nothing_after_a_trap() {
    let runtime = mock();
    let mut session = runtime.session(0).unwrap();
    assert_eq!(session.call(1, b"{}").unwrap_err().code(), "nope");
    assert_eq!(session.call(0, b"ping").unwrap(), b"ping");
    assert!(matches!(
        session.call(3, b"{}").unwrap_err(),
        HostError::Trap { .. }
    ));
    let after = session.call(0, b"ping").unwrap_err();
    assert!(
        matches!(&after, HostError::Trap { reason } if reason.contains("earlier call")),
        "{after:?}"
    );
    drop(session);
    assert_still_serves(&runtime);
}

#[test]
fn each_call_in_a_session_gets_the_whole_fuel_budget() {
    let (_, one_call) = mock().metered_call(0, b"ping").unwrap();
    // Room for one call and a half: two calls sharing one budget would not
    // both finish.
    let runtime = mock_with(RuntimeConfig::default().fuel(one_call * 3 / 2));
    let mut session = runtime.session(0).unwrap();
    for _ in 0..3 {
        assert_eq!(session.call(0, b"ping").unwrap(), b"ping");
    }
    // And no more than the whole budget.
    let starved = mock_with(RuntimeConfig::default().fuel(one_call / 2));
    assert!(matches!(
        starved.session(0).unwrap().call(0, b"ping").unwrap_err(),
        HostError::GuestOutOfFuel { .. }
    ));
}

#[test]
fn error_object_is_an_op_error_with_the_guest_code() {
    let runtime = mock();
    let err = runtime.call(1, b"{}").unwrap_err();
    assert!(err.is_rejection());
    assert_eq!(err.code(), "nope");
    assert_eq!(err.to_string(), "mock says no");
    assert_still_serves(&runtime);
}

#[test]
fn endless_loop_runs_out_of_fuel() {
    let runtime = mock();
    let err = runtime.call(2, b"").unwrap_err();
    assert!(
        matches!(err, HostError::GuestOutOfFuel { budget: 10_000_000 }),
        "{err:?}"
    );
    assert_eq!(err.code(), "guest_out_of_fuel");
    assert_still_serves(&runtime);
}

#[test]
fn trap_is_a_typed_error_and_the_runtime_survives() {
    let runtime = mock();
    let err = runtime.call(3, b"").unwrap_err();
    assert!(matches!(err, HostError::Trap { .. }), "{err:?}");
    assert_eq!(err.code(), "guest_trap");
    assert!(err.to_string().contains("unreachable"), "{err}");
    assert_still_serves(&runtime);
}

#[test]
fn memory_growth_past_the_cap_is_out_of_memory() {
    let runtime = mock_with(RuntimeConfig::default().memory_bytes(1 << 20));
    let err = runtime.call(4, b"").unwrap_err();
    assert!(
        matches!(
            err,
            HostError::GuestOutOfMemory {
                limit: 1_048_576,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "guest_out_of_memory");
    assert_still_serves(&runtime);
}

#[test]
fn response_outside_memory_is_refused() {
    let runtime = mock();
    let err = runtime.call(5, b"").unwrap_err();
    assert_eq!(err.code(), "guest_bad_region", "{err:?}");
    assert_still_serves(&runtime);
}

#[test]
fn unknown_status_is_refused() {
    let runtime = mock();
    let err = runtime.call(6, b"").unwrap_err();
    assert!(
        matches!(err, HostError::GuestBadStatus { status: 7 }),
        "{err:?}"
    );
    assert_still_serves(&runtime);
}

#[test]
fn calling_a_js_glue_import_traps() {
    let runtime = mock();
    let err = runtime.call(7, b"").unwrap_err();
    assert_eq!(err.code(), "guest_trap", "{err:?}");
    assert_still_serves(&runtime);
}

#[test]
fn malformed_error_object_is_a_bad_response_not_a_rejection() {
    let runtime = mock();
    let err = runtime.call(8, b"").unwrap_err();
    assert!(!err.is_rejection());
    assert_eq!(err.code(), "guest_bad_response", "{err:?}");
}

#[test]
fn oversized_request_is_refused_before_the_guest_sees_it() {
    let runtime = mock_with(RuntimeConfig::default().max_request_bytes(4));
    let err = runtime.call(0, b"12345").unwrap_err();
    assert!(
        matches!(err, HostError::RequestTooLarge { len: 5, limit: 4 }),
        "{err:?}"
    );
    assert_eq!(runtime.call(0, b"1234").unwrap(), b"1234");
}

#[test]
fn unknown_abi_version_is_refused() {
    let bytes = wasm(2);
    let err = Runtime::from_bytes(&bytes, &hex_sha256(&bytes)).unwrap_err();
    assert!(
        matches!(
            err,
            HostError::AbiMismatch {
                found: 2,
                expected: 1
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "abi_mismatch");
}

#[test]
fn module_without_the_abi_is_refused() {
    let bytes = wat::parse_str(r#"(module (memory (export "memory") 1))"#).unwrap();
    let err = Runtime::from_bytes(&bytes, &hex_sha256(&bytes)).unwrap_err();
    assert_eq!(err.code(), "module_missing_export", "{err:?}");
}

#[test]
fn bytes_that_are_not_wasm_are_refused() {
    let bytes = b"not wasm at all";
    let err = Runtime::from_bytes(bytes, &hex_sha256(bytes)).unwrap_err();
    assert_eq!(err.code(), "module_invalid", "{err:?}");
}

#[test]
fn a_malformed_expected_digest_is_refused() {
    let bytes = wasm(1);
    let err = Runtime::from_bytes(&bytes, "not a digest").unwrap_err();
    assert_eq!(err.code(), "module_bad_digest", "{err:?}");
}

#[test]
fn concurrent_calls_past_the_pool_fail_as_busy_and_never_crash() {
    let runtime = mock_with(RuntimeConfig::default().max_concurrent_calls(2));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let runtime = &runtime;
                scope.spawn(move || {
                    (0..50)
                        .map(|_| runtime.call(0, format!("call {i}").as_bytes()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for (i, handle) in handles.into_iter().enumerate() {
            for result in handle.join().unwrap() {
                match result {
                    Ok(echo) => assert_eq!(echo, format!("call {i}").as_bytes()),
                    Err(err) => assert_eq!(err.code(), "host_busy", "{err:?}"),
                }
            }
        }
    });
    assert_still_serves(&runtime);
}

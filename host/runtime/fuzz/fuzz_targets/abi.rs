//! The raw ABI as a wasmtime host drives it, differential against the same
//! operations run natively.
//!
//! The input is a script of steps, each `[tag][len: u16 LE][payload]` (a
//! short last payload takes what is left); `tag & 7` picks the step and
//! `tag >> 3` its parameter. The steps run in one long-lived instance of
//! the shipped module, as the npm package keeps one: whole calls, buffers
//! allocated, written, called through and freed out of order, calls on
//! pointers and lengths the module never handed out, allocations past the
//! memory cap. The oracle is a model of the buffers the module owns:
//!
//! - every `ct_call` answers exactly what `captoken_core::ops::call` answers
//!   for the bytes the model says the buffer holds (status and bytes), or,
//!   for a region `ct_alloc` did not hand out, the module's `bad_request`;
//! - buffers never overlap, responses lie inside memory, nothing traps;
//! - a whole call also gives the same answer through `Runtime::call` (a
//!   fresh pooled instance per call, as the gateway runs it).
//!
//! Coverage comes from the native core (instrumented); the module's code is
//! the same source, compiled to wasm and run by Cranelift.
#![no_main]

use std::sync::LazyLock;

use captoken_core::OpError;
use captoken_core::ops::{self, OPERATIONS};
use captoken_runtime::{HostError, Runtime};
use libfuzzer_sys::fuzz_target;
use wasmtime::{
    Collector, Config, Engine, Instance, Linker, Memory, Module, Store, StoreLimits,
    StoreLimitsBuilder, TypedFunc,
};

/// The instance's memory cap: an allocation past it must fail with `0`.
const MEMORY_CAP: usize = 64 << 20;
/// What the script may keep allocated at once, so that an operation always
/// has room to run (running out is a trap, by design, not a finding).
const LIVE_BUDGET: usize = 16 << 20;
/// Steps per input: enough to interleave, few enough to stay fast.
const MAX_STEPS: usize = 24;

struct Harness {
    engine: Engine,
    module: Module,
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let mut config = Config::new();
    config
        .wasm_gc(true)
        .collector(Collector::DeferredReferenceCounting);
    let engine = Engine::new(&config).expect("engine");
    let module = Module::new(&engine, Runtime::embedded_module()).expect("module");
    Harness { engine, module }
});

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| Runtime::embedded().expect("runtime"));

struct Guest {
    store: Store<StoreLimits>,
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    free: TypedFunc<(i32, i32), ()>,
    call: TypedFunc<(i32, i32, i32), i32>,
    out_ptr: TypedFunc<(), i32>,
    out_len: TypedFunc<(), i32>,
}

impl Guest {
    fn new() -> Self {
        let harness = &*HARNESS;
        let limits = StoreLimitsBuilder::new()
            .memory_size(MEMORY_CAP)
            .trap_on_grow_failure(false)
            .build();
        let mut store = Store::new(&harness.engine, limits);
        store.limiter(|limits| limits);
        let mut linker = Linker::new(&harness.engine);
        linker
            .define_unknown_imports_as_traps(&harness.module)
            .expect("imports");
        let instance: Instance = linker
            .instantiate(&mut store, &harness.module)
            .expect("instantiate");
        let memory = instance.get_memory(&mut store, "memory").expect("memory");
        let alloc = instance
            .get_typed_func(&mut store, "ct_alloc")
            .expect("ct_alloc");
        let free = instance
            .get_typed_func(&mut store, "ct_free")
            .expect("ct_free");
        let call = instance
            .get_typed_func(&mut store, "ct_call")
            .expect("ct_call");
        let out_ptr = instance
            .get_typed_func(&mut store, "ct_out_ptr")
            .expect("ct_out_ptr");
        let out_len = instance
            .get_typed_func(&mut store, "ct_out_len")
            .expect("ct_out_len");
        Guest {
            store,
            memory,
            alloc,
            free,
            call,
            out_ptr,
            out_len,
        }
    }

    fn alloc(&mut self, len: u32) -> u32 {
        let ptr = self
            .alloc
            .call(&mut self.store, len as i32)
            .expect("ct_alloc traps");
        ptr as u32
    }

    fn write(&mut self, ptr: u32, bytes: &[u8]) {
        self.memory
            .write(&mut self.store, ptr as usize, bytes)
            .expect("a buffer from ct_alloc lies in memory");
    }

    fn free(&mut self, ptr: u32, len: u32) {
        self.free
            .call(&mut self.store, (ptr as i32, len as i32))
            .expect("ct_free traps");
    }

    /// `ct_call`, and the response it leaves: `(status, bytes)`.
    fn call(&mut self, op: u32, ptr: u32, len: u32) -> (i32, Vec<u8>) {
        let status = self
            .call
            .call(&mut self.store, (op as i32, ptr as i32, len as i32))
            .expect("ct_call traps");
        let out_ptr = self.out_ptr.call(&mut self.store, ()).expect("ct_out_ptr") as u32;
        let out_len = self.out_len.call(&mut self.store, ()).expect("ct_out_len") as u32;
        let memory = self.memory.data(&self.store);
        let out = (out_ptr as usize)
            .checked_add(out_len as usize)
            .and_then(|end| memory.get(out_ptr as usize..end))
            .expect("the response lies in memory");
        (status, out.to_vec())
    }
}

/// What the native core answers: `(status, bytes)` as the ABI spells them.
fn native(op: u32, request: &[u8]) -> (i32, Vec<u8>) {
    match ops::call(op, request) {
        Ok(bytes) => (0, bytes),
        Err(err) => (1, err.to_json()),
    }
}

/// What the module answers for a region it did not hand out.
fn not_allocated() -> (i32, Vec<u8>) {
    let err = OpError::BadRequest("request buffer was not allocated by `ct_alloc`".into());
    (1, err.to_json())
}

fn op_id(param: u8) -> u32 {
    u32::from(param) % (OPERATIONS.len() as u32 + 2)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    for (slot, byte) in word.iter_mut().zip(bytes.iter().skip(at)) {
        *slot = *byte;
    }
    u32::from_le_bytes(word)
}

/// A buffer the module handed out, and what the model says it holds.
struct Live {
    ptr: u32,
    bytes: Vec<u8>,
}

fn overlaps(live: &[Live], ptr: u32, len: usize) -> bool {
    let (start, end) = (ptr as usize, ptr as usize + len.max(1));
    live.iter().any(|buf| {
        let (s, e) = (buf.ptr as usize, buf.ptr as usize + buf.bytes.len().max(1));
        start < e && s < end
    })
}

fn expect_same(what: &str, op: u32, got: &(i32, Vec<u8>), want: &(i32, Vec<u8>)) {
    assert!(
        got == want,
        "{what}: op {op}: the module answered {} {:?}, the core {} {:?}",
        got.0,
        String::from_utf8_lossy(&got.1),
        want.0,
        String::from_utf8_lossy(&want.1),
    );
}

/// `Runtime::call`'s answer in the ABI's spelling, for comparison.
fn through_runtime(op: u32, request: &[u8]) -> (i32, Vec<u8>) {
    match RUNTIME.call(op, request) {
        Ok(bytes) => (0, bytes),
        Err(HostError::Op {
            code,
            message,
            path,
            audit,
            seq,
        }) => {
            // The runtime parses the error object; compare its parts with
            // the core's, parsed the same way.
            let mut object = serde_json::json!({ "code": code, "message": message });
            if let Some(path) = path {
                object["path"] = path.into();
            }
            if let Some(audit) = audit {
                object["audit"] = *audit;
            }
            if let Some(seq) = seq {
                object["seq"] = seq.into();
            }
            (1, serde_json::to_vec(&object).expect("json"))
        }
        Err(other) => panic!("op {op}: the runtime failed to run it: {other}"),
    }
}

fn normalized_error(answer: (i32, Vec<u8>)) -> (i32, Vec<u8>) {
    if answer.0 == 0 {
        return answer;
    }
    let value: serde_json::Value = serde_json::from_slice(&answer.1).expect("an error is json");
    (1, serde_json::to_vec(&value).expect("json"))
}

fuzz_target!(|data: &[u8]| {
    let mut guest = Guest::new();
    let mut live: Vec<Live> = Vec::new();
    let mut rest = data;
    for _ in 0..MAX_STEPS {
        let Some((&tag, after)) = rest.split_first() else {
            break;
        };
        let len = match after {
            [lo, hi, ..] => usize::from(u16::from_le_bytes([*lo, *hi])),
            _ => 0,
        };
        let after = after.get(2..).unwrap_or_default();
        let (payload, next) = after.split_at(len.min(after.len()));
        rest = next;
        let param = tag >> 3;
        let live_bytes: usize = live.iter().map(|buf| buf.bytes.len()).sum();

        match tag & 7 {
            // A whole call, as a host makes one: alloc, write, call, free;
            // and the same request through a fresh instance of the runtime.
            0 | 7 => {
                let op = op_id(param);
                let ptr = guest.alloc(payload.len() as u32);
                assert!(
                    ptr != 0 || payload.is_empty(),
                    "ct_alloc({}) failed",
                    payload.len()
                );
                assert!(
                    !overlaps(&live, ptr, payload.len()),
                    "ct_alloc handed out a live region"
                );
                guest.write(ptr, payload);
                let got = guest.call(op, ptr, payload.len() as u32);
                guest.free(ptr, payload.len() as u32);
                let want = native(op, payload);
                expect_same("call", op, &got, &want);
                expect_same(
                    "runtime",
                    op,
                    &through_runtime(op, payload),
                    &normalized_error(want),
                );
            }
            // Allocate and fill a buffer, and keep it.
            1 => {
                let len = payload.len() + usize::from(param);
                if live_bytes + len > LIVE_BUDGET {
                    continue;
                }
                let ptr = guest.alloc(len as u32);
                assert!(ptr != 0, "ct_alloc({len}) failed");
                assert!(
                    !overlaps(&live, ptr, len),
                    "ct_alloc handed out a live region"
                );
                let mut bytes = vec![0u8; len];
                // A fresh buffer reads as zeros.
                let memory = guest.memory.data(&guest.store);
                assert!(
                    memory
                        .get(ptr as usize..ptr as usize + len)
                        .is_some_and(|b| b.iter().all(|&x| x == 0)),
                    "a fresh buffer is not zeroed"
                );
                bytes[..payload.len()].copy_from_slice(payload);
                guest.write(ptr, &bytes);
                live.push(Live { ptr, bytes });
            }
            // Call on a kept buffer, or a prefix of it.
            2 => {
                if live.is_empty() {
                    continue;
                }
                let pick = u32_at(payload, 0) as usize % live.len();
                let buf = &live[pick];
                let cut = (u32_at(payload, 4) as usize) % (buf.bytes.len() + 1);
                let len = buf.bytes.len() - cut;
                let op = op_id(param);
                let (ptr, want) = (buf.ptr, native(op, &buf.bytes[..len]));
                let got = guest.call(op, ptr, len as u32);
                expect_same("kept buffer", op, &got, &want);
            }
            // Call on any pointer and length.
            3 => {
                let (ptr, len) = (u32_at(payload, 0), u32_at(payload, 4));
                let op = op_id(param);
                let want = match live.iter().find(|buf| buf.ptr == ptr) {
                    Some(buf) if (len as usize) <= buf.bytes.len() => {
                        native(op, &buf.bytes[..len as usize])
                    }
                    _ => not_allocated(),
                };
                let got = guest.call(op, ptr, len);
                expect_same("raw region", op, &got, &want);
            }
            // Free a kept buffer, or any pointer (ignored by the module).
            4 => {
                let word = u32_at(payload, 0);
                if param & 1 == 0 && !live.is_empty() {
                    let buf = live.swap_remove(word as usize % live.len());
                    guest.free(buf.ptr, buf.bytes.len() as u32);
                } else if !live.iter().any(|buf| buf.ptr == word) {
                    guest.free(word, u32_at(payload, 4));
                }
            }
            // The host writes into a kept buffer between calls.
            5 => {
                if live.is_empty() {
                    continue;
                }
                let pick = u32_at(payload, 0) as usize % live.len();
                let buf = &mut live[pick];
                let data = payload.get(8..).unwrap_or_default();
                let at = (u32_at(payload, 4) as usize) % (buf.bytes.len() + 1);
                let n = data.len().min(buf.bytes.len() - at);
                buf.bytes[at..at + n].copy_from_slice(&data[..n]);
                let ptr = buf.ptr + at as u32;
                guest.write(ptr, &data[..n]);
            }
            // An allocation of any size: past the cap it is 0, never a trap.
            6 => {
                let len = u32_at(payload, 0);
                let ptr = guest.alloc(len);
                if len as usize >= MEMORY_CAP {
                    assert_eq!(ptr, 0, "ct_alloc({len}) past the memory cap succeeded");
                } else if ptr != 0 {
                    // Small enough to succeed or fail; give it back at once
                    // so that the budget for the operations holds.
                    assert!(
                        !overlaps(&live, ptr, len as usize),
                        "ct_alloc handed out a live region"
                    );
                    guest.free(ptr, len);
                }
            }
            _ => unreachable!(),
        }
    }
});

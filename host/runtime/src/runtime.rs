//! One compiled module, and a fresh sandboxed instance for every call.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::{
    Collector, Config, Enabled, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolConcurrencyLimitError, PoolingAllocationConfig, ProfilingStrategy, Store, Trap,
};

use crate::HostError;
use crate::abi::{self, ABI_VERSION, Exports, STATUS_ERROR, STATUS_OK};
use crate::cache::{self, ModuleSource};
use crate::digest::{parse_expected, sha256_hex};
use crate::limits::{CallLimits, MemoryCapExceeded};

const EMBEDDED_MODULE: &[u8] = include_bytes!("../../../npm/dist/captoken_bg.wasm");
const EMBEDDED_SHA256_FILE: &str = include_str!("../../../npm/dist/captoken_bg.wasm.sha256");

/// The sandbox every call runs in.
///
/// The defaults leave an issue or a verify two orders of magnitude of
/// headroom (see the crate README for measured costs) while still stopping a
/// runaway guest within about a second.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    fuel: u64,
    memory_bytes: usize,
    max_concurrent_calls: u32,
    max_request_bytes: usize,
    cache_dir: Option<PathBuf>,
    keep_resident: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            fuel: 2_000_000_000,
            memory_bytes: 64 << 20,
            max_concurrent_calls: 64,
            max_request_bytes: 1 << 20,
            cache_dir: None,
            keep_resident: 0,
        }
    }
}

impl RuntimeConfig {
    /// Fuel for one call: roughly one unit per wasm instruction.
    #[must_use]
    pub fn fuel(mut self, fuel: u64) -> Self {
        self.fuel = fuel;
        self
    }

    /// The most linear memory one call may use, in bytes.
    #[must_use]
    pub fn memory_bytes(mut self, bytes: usize) -> Self {
        self.memory_bytes = bytes;
        self
    }

    /// How many calls may run at once; one more fails with `host_busy`.
    ///
    /// Each slot reserves address space (not memory) for one instance.
    #[must_use]
    pub fn max_concurrent_calls(mut self, calls: u32) -> Self {
        self.max_concurrent_calls = calls.max(1);
        self
    }

    /// The largest request accepted, in bytes.
    #[must_use]
    pub fn max_request_bytes(mut self, bytes: usize) -> Self {
        self.max_request_bytes = bytes;
        self
    }

    /// Keep the compiled module in `dir` (created 0700), keyed by the
    /// module's digest and the engine, and load it from there next time
    /// instead of compiling (`host/runtime/src/cache.rs` says when a file is
    /// trusted). Without it, every `Runtime` compiles.
    #[must_use]
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// How much of the memory a call wrote its instance slot keeps mapped
    /// for the next call, in bytes; 0 (the default) gives every page back
    /// after each call.
    ///
    /// Where Linux has `PAGEMAP_SCAN` (6.7 and later), wasmtime finds the
    /// pages a call dirtied and, up to this many bytes, rewrites them to the
    /// module's initial contents in place instead of unmapping them: the
    /// next call in the slot then takes no page faults and no `madvise`
    /// (`info` 1.4-1.6x, `verify` 1.1x faster; docs/BENCHMARKS.md). The
    /// price is resident memory: at most this much per slot that has run a
    /// call; 1 MiB covers a `verify`.
    ///
    /// Off by default because it is only sound without swap: wasmtime 48's
    /// scan resets the dirtied pages that are present, and a dirtied page
    /// the kernel has swapped out would keep one call's memory (a request's
    /// private key, say) for the next call in that slot. So it is honoured
    /// only if `/proc/swaps` lists no swap when the [`Runtime`] is made, and
    /// ignored without `PAGEMAP_SCAN` (resetting a fixed prefix blind costs
    /// more than it saves). Do not turn swap on under a running gateway
    /// that uses it.
    #[must_use]
    pub fn keep_resident(mut self, bytes: usize) -> Self {
        self.keep_resident = bytes;
        self
    }

    /// The cache directory the CLI uses unless told otherwise:
    /// `$CAPTOKEN_CACHE_DIR` (empty: no cache), else
    /// `$XDG_CACHE_HOME/captoken`, else `$HOME/.cache/captoken`.
    #[must_use]
    pub fn default_cache_dir() -> Option<PathBuf> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = std::env::var_os("CAPTOKEN_CACHE_DIR") {
            return (!dir.is_empty()).then(|| PathBuf::from(dir));
        }
        var("XDG_CACHE_HOME")
            .map(|d| PathBuf::from(d).join("captoken"))
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache/captoken")))
    }
}

/// The captoken module, compiled once, called from any number of threads.
///
/// Every call gets its own `Store` and instance, with a fuel budget and a
/// memory cap, and the instance is dropped afterwards: no state leaks
/// between calls, and a trap costs only the call that caused it.
pub struct Runtime {
    engine: Engine,
    pre: InstancePre<CallLimits>,
    sha256: String,
    config: RuntimeConfig,
    source: ModuleSource,
    /// The operation names of `info`, read on first use by [`Runtime::op_id`].
    op_names: OnceLock<Vec<(u32, String)>>,
    /// Instances made, by what they were made for: operation ids below
    /// [`COUNTED_OPS`], then one slot for any larger id, then one for the
    /// ABI version probe.
    instances: [AtomicU64; COUNTED_OPS + 2],
}

/// Operation ids counted one by one in [`Runtime::instance_counts`].
const COUNTED_OPS: usize = 64;
/// The counter of operation ids past [`COUNTED_OPS`].
const OTHER_OPS: usize = COUNTED_OPS;
/// The counter of the ABI version probe.
const PROBE: usize = COUNTED_OPS + 1;

// A `Runtime` is meant to be shared by a server's worker threads.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Runtime>();
};

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("sha256", &self.sha256)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// The module built into this binary, with the default [`RuntimeConfig`].
    ///
    /// # Errors
    ///
    /// See [`Runtime::from_bytes_with`].
    pub fn embedded() -> Result<Self, HostError> {
        Self::embedded_with(RuntimeConfig::default())
    }

    /// The module built into this binary, with `config`.
    ///
    /// # Errors
    ///
    /// See [`Runtime::from_bytes_with`].
    pub fn embedded_with(config: RuntimeConfig) -> Result<Self, HostError> {
        Self::from_bytes_with(EMBEDDED_MODULE, EMBEDDED_SHA256_FILE, config)
    }

    /// The bytes of the module built into this binary.
    #[must_use]
    pub fn embedded_module() -> &'static [u8] {
        EMBEDDED_MODULE
    }

    /// The SHA-256 the built-in module was shipped with, as lowercase hex
    /// (or the raw digest file, trimmed, if it is malformed).
    #[must_use]
    pub fn embedded_module_sha256() -> &'static str {
        parse_expected(EMBEDDED_SHA256_FILE).unwrap_or(EMBEDDED_SHA256_FILE.trim())
    }

    /// Loads `wasm` after checking it hashes to `expected_sha256`, with the
    /// default [`RuntimeConfig`].
    ///
    /// # Errors
    ///
    /// See [`Runtime::from_bytes_with`].
    pub fn from_bytes(wasm: &[u8], expected_sha256: &str) -> Result<Self, HostError> {
        Self::from_bytes_with(wasm, expected_sha256, RuntimeConfig::default())
    }

    /// Loads `wasm` after checking it hashes to `expected_sha256` (lowercase
    /// hex, or a `sha256sum` line), and checks it speaks ABI version 1.
    ///
    /// # Errors
    ///
    /// - `module_bad_digest` if `expected_sha256` is not a SHA-256 in hex;
    /// - `module_digest_mismatch` if the bytes hash to something else;
    /// - `host_engine`, `module_invalid`, `module_missing_export` if wasmtime
    ///   cannot be set up, or cannot compile or link the module;
    /// - `abi_mismatch` if `ct_abi_version` is not 1;
    /// - any `guest_*` error if the probe call that reads the ABI version fails.
    pub fn from_bytes_with(
        wasm: &[u8],
        expected_sha256: &str,
        config: RuntimeConfig,
    ) -> Result<Self, HostError> {
        let expected = parse_expected(expected_sha256)?;
        let actual = sha256_hex(wasm);
        if actual != expected {
            return Err(HostError::ModuleDigestMismatch {
                expected: expected.to_owned(),
                actual,
            });
        }

        let engine = Engine::new(&engine_config(&config)).map_err(|err| HostError::HostEngine {
            reason: describe(&err),
        })?;
        let invalid = |err: wasmtime::Error| HostError::ModuleInvalid {
            reason: describe(&err),
        };
        let (module, source) = match &config.cache_dir {
            Some(dir) => cache::load_or_compile(&engine, wasm, &actual, dir).map_err(invalid)?,
            None => (
                Module::new(&engine, wasm).map_err(invalid)?,
                ModuleSource::Compiled,
            ),
        };
        let mut linker = Linker::new(&engine);
        // wasm-bindgen's JS glue imports exist only for the JS API; the raw
        // ABI never reaches them, and if a bug ever did, it must trap.
        linker
            .define_unknown_imports_as_traps(&module)
            .map_err(invalid)?;
        let pre = linker.instantiate_pre(&module).map_err(invalid)?;

        let runtime = Self {
            engine,
            pre,
            sha256: actual,
            config,
            source,
            op_names: OnceLock::new(),
            instances: std::array::from_fn(|_| AtomicU64::new(0)),
        };
        runtime.check_abi_version()?;
        Ok(runtime)
    }

    /// Whether the module was compiled or loaded precompiled from the cache.
    #[must_use]
    pub fn module_source(&self) -> &ModuleSource {
        &self.source
    }

    /// The lowercase hex SHA-256 of the loaded module: its identity.
    #[must_use]
    pub fn module_sha256(&self) -> &str {
        &self.sha256
    }

    /// The sandbox each call runs in.
    #[must_use]
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// The id of the operation called `name`, looked up in the module's own
    /// `info` (read once) rather than assumed: a module whose table grew or
    /// was reordered is then called correctly, or refused by name.
    ///
    /// # Errors
    ///
    /// `guest_bad_response` when the module has no such operation; as
    /// [`Runtime::call_json`] when `info` itself fails.
    pub fn op_id(&self, name: &str) -> Result<u32, HostError> {
        self.op_names()?
            .iter()
            .find(|(_, op)| op == name)
            .map(|(id, _)| *id)
            .ok_or_else(|| HostError::GuestBadResponse {
                reason: format!("the module has no operation `{name}`"),
            })
    }

    /// The module's operations, `(id, name)`, read from `info` once.
    fn op_names(&self) -> Result<&[(u32, String)], HostError> {
        if let Some(names) = self.op_names.get() {
            return Ok(names);
        }
        let info = self.call_json(crate::op::INFO, &serde_json::json!({}))?;
        let listed = info.get("ops").and_then(serde_json::Value::as_array);
        let mut names = Vec::new();
        for op in listed.into_iter().flatten() {
            let id = op
                .get("id")
                .and_then(serde_json::Value::as_u64)
                .and_then(|id| u32::try_from(id).ok());
            let name = op.get("name").and_then(serde_json::Value::as_str);
            let (Some(id), Some(name)) = (id, name) else {
                return Err(HostError::GuestBadResponse {
                    reason: format!("`info` lists an operation without an id and a name: {op}"),
                });
            };
            names.push((id, name.to_owned()));
        }
        // Two threads may both read `info`; they read the same list.
        Ok(self.op_names.get_or_init(|| names))
    }

    /// How many module instances this runtime has made, by what for: the
    /// operation's name (`issue`, `verify`, …; `other` for ids the module
    /// does not have, `abi_version` for the probe when loading), with
    /// those never instantiated left out. Every call is one instance, so
    /// this is what a request costs in instantiations: the gateway serves
    /// it as `captoken_module_instances_total{op}`.
    ///
    /// # Errors
    ///
    /// As [`Runtime::op_id`], when the names cannot be read.
    pub fn instance_counts(&self) -> Result<Vec<(String, u64)>, HostError> {
        let names = self.op_names()?;
        let mut counts = Vec::new();
        for (slot, count) in self.instances.iter().enumerate() {
            let count = count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let name = match slot {
                OTHER_OPS => "other".to_owned(),
                PROBE => "abi_version".to_owned(),
                slot => names
                    .iter()
                    .find(|(id, _)| usize::try_from(*id).is_ok_and(|id| id == slot))
                    .map_or_else(|| format!("op_{slot}"), |(_, name)| name.clone()),
            };
            counts.push((name, count));
        }
        Ok(counts)
    }

    /// Runs operation `op` (see [`crate::op`]) on a JSON `request`, returning
    /// the operation's JSON response.
    ///
    /// # Errors
    ///
    /// [`HostError::Op`] when the operation rejects the request, with the
    /// module's code; a `guest_*` error when the module fails to answer
    /// (trap, fuel, memory, malformed output); `host_busy` when every instance
    /// slot is taken; `request_too_large` past the configured size.
    pub fn call(&self, op: u32, request: &[u8]) -> Result<Vec<u8>, HostError> {
        self.metered_call(op, request).map(|(response, _)| response)
    }

    /// Like [`Runtime::call`], but also returns the fuel the call used, for
    /// sizing [`RuntimeConfig::fuel`].
    ///
    /// # Errors
    ///
    /// As [`Runtime::call`].
    pub fn metered_call(&self, op: u32, request: &[u8]) -> Result<(Vec<u8>, u64), HostError> {
        let (mut store, exports) = self.instantiate(count_slot(op))?;
        self.run(&mut store, &exports, op, request)
    }

    /// One fresh instance for the steps of one request, called in turn
    /// ([`Session::call`]): an issue's prepare and, once the host has
    /// signed, its `attach_signature`, without a second instance between
    /// them. It is counted once, as made for `op`. Nothing outlives the
    /// session: the instance is discarded when it is dropped.
    ///
    /// # Errors
    ///
    /// As [`Runtime::call`], for making the instance.
    pub fn session(&self, op: u32) -> Result<Session<'_>, HostError> {
        let (store, exports) = self.instantiate(count_slot(op))?;
        Ok(Session {
            runtime: self,
            store,
            exports,
            broken: false,
        })
    }

    /// Runs `op` on `request` in an instance, with the instance's fuel
    /// budget as it stands; the response and the fuel the call used.
    fn run(
        &self,
        store: &mut Store<CallLimits>,
        exports: &Exports,
        op: u32,
        request: &[u8],
    ) -> Result<(Vec<u8>, u64), HostError> {
        let limit = self.config.max_request_bytes;
        let too_large = || HostError::RequestTooLarge {
            len: request.len(),
            limit,
        };
        if request.len() > limit {
            return Err(too_large());
        }
        let len = i32::try_from(request.len()).map_err(|_| too_large())?;

        let before = store.get_fuel().unwrap_or_default();
        let ptr = exports
            .alloc
            .call(&mut *store, len)
            .map_err(|err| self.guest_error(&err))?;
        if ptr == 0 && len > 0 {
            return Err(HostError::GuestAlloc { len: request.len() });
        }
        exports
            .memory
            .write(&mut *store, abi::unsigned(ptr), request)
            .map_err(|_| HostError::GuestBadRegion {
                what: format!(
                    "request buffer at {} of {} bytes",
                    abi::unsigned(ptr),
                    request.len()
                ),
            })?;

        let op = i32::from_ne_bytes(op.to_ne_bytes());
        let status = exports
            .call
            .call(&mut *store, (op, ptr, len))
            .map_err(|err| self.guest_error(&err))?;
        let out_ptr = exports
            .out_ptr
            .call(&mut *store, ())
            .map_err(|err| self.guest_error(&err))?;
        let out_len = exports
            .out_len
            .call(&mut *store, ())
            .map_err(|err| self.guest_error(&err))?;
        let response = abi::region(exports.memory.data(&*store), out_ptr, out_len)?.to_vec();
        let fuel_used = before.saturating_sub(store.get_fuel().unwrap_or_default());
        // The request buffer is the caller's to free; an instance that makes
        // one call is discarded whole, one that makes more frees it.
        exports
            .free
            .call(&mut *store, (ptr, len))
            .map_err(|err| self.guest_error(&err))?;

        match status {
            STATUS_OK => Ok((response, fuel_used)),
            STATUS_ERROR => Err(HostError::from_error_object(&response)),
            status => Err(HostError::GuestBadStatus { status }),
        }
    }

    fn check_abi_version(&self) -> Result<(), HostError> {
        let (mut store, exports) = self.instantiate(PROBE)?;
        let found = exports
            .abi_version
            .call(&mut store, ())
            .map_err(|err| self.guest_error(&err))?;
        if found == ABI_VERSION {
            Ok(())
        } else {
            Err(HostError::AbiMismatch {
                found,
                expected: ABI_VERSION,
            })
        }
    }

    /// A fresh store with this call's budget, and a fresh instance in it,
    /// counted in `instances[slot]`.
    // Never calls `__wbindgen_start`: it only sets up the JS side, and the
    // raw ABI must work without it.
    fn instantiate(&self, slot: usize) -> Result<(Store<CallLimits>, Exports), HostError> {
        let mut store = Store::new(
            &self.engine,
            CallLimits {
                memory_bytes: self.config.memory_bytes,
            },
        );
        store.limiter(|limits| limits);
        store
            .set_fuel(self.config.fuel)
            .map_err(|err| HostError::HostEngine {
                reason: describe(&err),
            })?;
        let instance = self.pre.instantiate(&mut store).map_err(|err| {
            if err.is::<PoolConcurrencyLimitError>() {
                HostError::HostBusy {
                    limit: self.config.max_concurrent_calls,
                }
            } else if err.is::<MemoryCapExceeded>() || err.is::<Trap>() {
                self.guest_error(&err)
            } else {
                HostError::GuestInstantiate {
                    reason: describe(&err),
                }
            }
        })?;
        if let Some(count) = self.instances.get(slot) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        let exports = Exports::bind(&mut store, &instance)?;
        Ok((store, exports))
    }

    fn guest_error(&self, err: &wasmtime::Error) -> HostError {
        if let Some(cap) = err.downcast_ref::<MemoryCapExceeded>() {
            return HostError::GuestOutOfMemory {
                desired: cap.desired,
                limit: cap.limit,
            };
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => HostError::GuestOutOfFuel {
                budget: self.config.fuel,
            },
            _ => HostError::Trap {
                reason: describe(err),
            },
        }
    }
}

/// The instance counter an instance made for `op` is counted in.
fn count_slot(op: u32) -> usize {
    usize::try_from(op).map_or(OTHER_OPS, |id| id.min(OTHER_OPS))
}

/// One instance serving the steps of one request in turn
/// ([`Runtime::session`]). Each call gets the full fuel budget
/// ([`RuntimeConfig::fuel`]); the memory cap is the instance's, for all of
/// them. After a call that fails other than by the module's refusal (a
/// trap, fuel or memory run out, a malformed answer) the instance may be
/// anywhere mid-call, so the session refuses every later call.
pub struct Session<'rt> {
    runtime: &'rt Runtime,
    store: Store<CallLimits>,
    exports: Exports,
    broken: bool,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl Session<'_> {
    /// Runs operation `op` on `request` in this session's instance, as
    /// [`Runtime::call`] would in a fresh one.
    ///
    /// # Errors
    ///
    /// As [`Runtime::call`]; [`HostError::Trap`] for any call after one that
    /// failed other than by the module's refusal.
    pub fn call(&mut self, op: u32, request: &[u8]) -> Result<Vec<u8>, HostError> {
        if self.broken {
            return Err(HostError::Trap {
                reason: "an earlier call in this instance failed; it takes no more".to_owned(),
            });
        }
        let runtime = self.runtime;
        let result = self
            .store
            .set_fuel(runtime.config.fuel)
            .map_err(|err| HostError::HostEngine {
                reason: describe(&err),
            })
            .and_then(|()| runtime.run(&mut self.store, &self.exports, op, request));
        if let Err(err) = &result {
            self.broken = !err.is_rejection();
        }
        result.map(|(response, _)| response)
    }
}

fn engine_config(config: &RuntimeConfig) -> Config {
    let slots = config.max_concurrent_calls;
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(slots)
        // wasm-bindgen emits a funcref table and an externref table.
        .max_tables_per_module(2)
        .total_tables(slots.saturating_mul(2))
        // A GC heap takes a memory slot of its own.
        .total_memories(slots.saturating_mul(2))
        .total_gc_heaps(slots)
        .max_memory_size(config.memory_bytes);
    if config.keep_resident > 0 && PoolingAllocationConfig::is_pagemap_scan_available() && no_swap()
    {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(config.keep_resident)
            // The two tables are a few KiB; their pages are reset the same way.
            .table_keep_resident(64 << 10);
    }

    let mut engine = Config::new();
    // wasm-bindgen's externref table is typed with GC reference types, which
    // wasmtime refuses ("gc types are disallowed") without a collector.
    engine
        .wasm_gc(true)
        .collector(Collector::DeferredReferenceCounting)
        .consume_fuel(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // A profiling knob, off by default: with `CAPTOKEN_PERF_MAP` set, the
    // module's compiled functions are named in /tmp/perf-<pid>.map, so
    // `perf report` attributes samples inside the guest (bench/profile.sh).
    if std::env::var_os("CAPTOKEN_PERF_MAP").is_some() {
        engine.profiler(ProfilingStrategy::PerfMap);
    }
    engine
}

/// Whether the kernel lists no active swap (`/proc/swaps` holds its header
/// only). Unreadable counts as swap.
fn no_swap() -> bool {
    std::fs::read_to_string("/proc/swaps").is_ok_and(|swaps| swaps.lines().count() == 1)
}

/// wasmtime's error and its causes, outermost first.
fn describe(err: &wasmtime::Error) -> String {
    err.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

//! Prometheus metrics, in the text exposition format, kept by hand: six
//! families do not justify a metrics framework.
//!
//! - `captoken_http_requests_total{method, route, status}`: `route` is the
//!   route's pattern (`/v1/tokens`), or `unmatched`, so a scan of random
//!   paths cannot grow the label set without bound;
//! - `captoken_module_call_seconds{op}`: a histogram of module call
//!   latency, waiting for a free slot included;
//! - `captoken_module_failures_total{op, code}`: calls the module failed to
//!   answer (traps, fuel, memory, a busy host): `guest_*`/`host_*` codes;
//! - `captoken_module_instances_total{op}`: module instances made, by the
//!   operation they were made for (every module call is one), read from
//!   the runtime's own counters: what a request costs in instantiations;
//! - `captoken_verify_cache_total{result}`: verifies answered from the
//!   verified-token cache (`hit`) or by the module (`miss`; requests with a
//!   proof of possession are neither);
//! - `captoken_reloads_total{outcome}`: reloads of the key and policy
//!   (SIGHUP), `applied` or `refused` (a refused one changed nothing), so an
//!   alert can catch a rotation that did not take.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds: an issue or a verify
/// takes about a millisecond, a runaway guest about a second before its
/// fuel runs out.
const BUCKETS: [f64; 12] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The gateway's counters; cheap to update from any thread.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    calls: Mutex<BTreeMap<&'static str, Histogram>>,
    failures: Mutex<BTreeMap<(&'static str, String), u64>>,
    /// Applied and refused reloads.
    reloads: Mutex<[u64; 2]>,
    /// Verified-token cache hits and misses.
    verify_cache: Mutex<[u64; 2]>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics(..)")
    }
}

/// A counter update must not fail because another thread panicked while
/// holding the lock: the numbers inside are still numbers.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Metrics {
    /// Counts one answered request.
    pub(crate) fn request(&self, method: &str, route: &str, status: u16) {
        *lock(&self.requests)
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
    }

    /// Records how long one module call took.
    pub(crate) fn module_call(&self, op: &'static str, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut calls = lock(&self.calls);
        let histogram = calls.entry(op).or_default();
        for (count, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *count += 1;
            }
        }
        histogram.sum += seconds;
        histogram.count += 1;
    }

    /// Counts one call the module failed to answer.
    pub(crate) fn module_failure(&self, op: &'static str, code: &str) {
        *lock(&self.failures)
            .entry((op, code.to_owned()))
            .or_default() += 1;
    }

    /// Counts one verify answered from the verified-token cache (`hit`) or
    /// by the module.
    pub(crate) fn verify_cache(&self, hit: bool) {
        if let Some(count) = lock(&self.verify_cache).get_mut(usize::from(!hit)) {
            *count += 1;
        }
    }

    /// Counts one reload, applied or refused.
    pub(crate) fn reload(&self, applied: bool) {
        if let Some(count) = lock(&self.reloads).get_mut(usize::from(!applied)) {
            *count += 1;
        }
    }

    /// Everything, in the Prometheus text format (version 0.0.4), with the
    /// runtime's instance counts ([`crate::Runtime::instance_counts`]).
    #[must_use]
    pub fn render(&self, instances: &[(String, u64)]) -> String {
        let mut out = String::new();
        // Writing to a `String` cannot fail; the results are ignored on purpose.
        let _ = writeln!(
            out,
            "# HELP captoken_http_requests_total HTTP requests answered, by route and status.\n\
             # TYPE captoken_http_requests_total counter"
        );
        for ((method, route, status), count) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "captoken_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {count}",
                escape(method),
                escape(route)
            );
        }
        let _ = writeln!(
            out,
            "# HELP captoken_module_call_seconds Latency of calls into the wasm module.\n\
             # TYPE captoken_module_call_seconds histogram"
        );
        for (op, histogram) in lock(&self.calls).iter() {
            for (count, bound) in histogram.counts.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "captoken_module_call_seconds_bucket{{op=\"{op}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "captoken_module_call_seconds_bucket{{op=\"{op}\",le=\"+Inf\"}} {}\n\
                 captoken_module_call_seconds_sum{{op=\"{op}\"}} {}\n\
                 captoken_module_call_seconds_count{{op=\"{op}\"}} {}",
                histogram.count, histogram.sum, histogram.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP captoken_module_failures_total Module calls that trapped, ran out of fuel or memory, or found the host busy.\n\
             # TYPE captoken_module_failures_total counter"
        );
        for ((op, code), count) in lock(&self.failures).iter() {
            let _ = writeln!(
                out,
                "captoken_module_failures_total{{op=\"{op}\",code=\"{}\"}} {count}",
                escape(code)
            );
        }
        let _ = writeln!(
            out,
            "# HELP captoken_module_instances_total Module instances made, by the operation they ran.\n\
             # TYPE captoken_module_instances_total counter"
        );
        for (op, count) in instances {
            let _ = writeln!(
                out,
                "captoken_module_instances_total{{op=\"{}\"}} {count}",
                escape(op)
            );
        }
        let [hits, misses] = *lock(&self.verify_cache);
        let _ = writeln!(
            out,
            "# HELP captoken_verify_cache_total Verifies answered from the verified-token cache, or by the module.\n\
             # TYPE captoken_verify_cache_total counter\n\
             captoken_verify_cache_total{{result=\"hit\"}} {hits}\n\
             captoken_verify_cache_total{{result=\"miss\"}} {misses}"
        );
        let [applied, refused] = *lock(&self.reloads);
        let _ = writeln!(
            out,
            "# HELP captoken_reloads_total Reloads of the signing key and policy (SIGHUP); a refused one changed nothing.\n\
             # TYPE captoken_reloads_total counter\n\
             captoken_reloads_total{{outcome=\"applied\"}} {applied}\n\
             captoken_reloads_total{{outcome=\"refused\"}} {refused}"
        );
        out
    }
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

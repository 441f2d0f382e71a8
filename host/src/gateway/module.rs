//! Calls into the wasm module from async handlers.
//!
//! A module call is synchronous and CPU-bound (an issue or verify is about a
//! millisecond; a runaway guest up to a second before its fuel runs out), so
//! it runs on tokio's blocking pool, never on a worker thread that is
//! serving connections. A semaphore sized to the machine bounds how many run
//! at once: past that, requests wait their turn instead of piling threads up
//! or exhausting the runtime's instance slots (`host_busy`).

use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use serde_json::Value;
use tokio::sync::Semaphore;

use super::error::ApiError;
use super::metrics::Metrics;
use super::signer::{TokenSigner, call_signed};
use crate::{HostError, Runtime};

/// Why a module call produced no response.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The operation ran and refused the request: what that means for the
    /// client (400, 401, 403) depends on the operation, so the route decides.
    Rejected {
        code: String,
        message: String,
        /// Where in the request the problem is, when the module says.
        path: Option<String>,
        /// The audit event the module asks the host to append for this
        /// refusal (`{"event", "data"}`), when it names one.
        audit: Option<Box<Value>>,
    },
    /// The module or the host failed to run the call: a typed 5xx for this
    /// request only.
    Failed(ApiError),
}

impl CallError {
    /// The answer to the client: a refusal with the status the route
    /// gives its code (`status(code)`), at the module's path; a failure as
    /// it is.
    pub(crate) fn refused(self, status: impl FnOnce(&str) -> StatusCode) -> ApiError {
        match self {
            Self::Rejected {
                code,
                message,
                path,
                ..
            } => ApiError::new(status(&code), code, message).at(path),
            Self::Failed(err) => err,
        }
    }
}

impl From<ApiError> for CallError {
    fn from(err: ApiError) -> Self {
        Self::Failed(err)
    }
}

/// The runtime, shared by every request, and its admission control.
pub(crate) struct Module {
    runtime: Arc<Runtime>,
    /// `attach_signature`'s id, for signing calls.
    attach: u32,
    slots: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl Module {
    pub(crate) fn new(
        runtime: Arc<Runtime>,
        attach: u32,
        concurrency: usize,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            runtime,
            attach,
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            metrics,
        }
    }

    pub(crate) fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Runs operation `op` (named `name` in metrics) on `request`.
    pub(crate) async fn call(
        &self,
        op: u32,
        name: &'static str,
        request: Value,
    ) -> Result<Value, CallError> {
        self.run(name, move |runtime| runtime.call_json(op, &request))
            .await
    }

    /// Runs signing operation `op` with the host's `signer` in place of a
    /// private key ([`super::signer::call_signed`]): one admission slot for
    /// the prepare, the signature and `attach_signature`.
    pub(crate) async fn call_signed(
        &self,
        op: u32,
        name: &'static str,
        signer: Arc<dyn TokenSigner>,
        published: Value,
        request: Value,
        member: &'static str,
    ) -> Result<Value, CallError> {
        let attach = self.attach;
        self.run(name, move |runtime| {
            call_signed(runtime, op, attach, &signer, &published, request, member)
        })
        .await
    }

    async fn run(
        &self,
        name: &'static str,
        work: impl FnOnce(&Runtime) -> Result<Value, HostError> + Send + 'static,
    ) -> Result<Value, CallError> {
        let started = Instant::now();
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::internal("host_shutting_down", "the module pool is closed"))?;
        let runtime = Arc::clone(&self.runtime);
        let joined = tokio::task::spawn_blocking(move || {
            let result = work(&runtime);
            drop(slot);
            result
        })
        .await;
        self.metrics.module_call(name, started.elapsed());
        match joined {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(HostError::Op {
                code,
                message,
                path,
                audit,
                ..
            })) => Err(CallError::Rejected {
                code,
                message,
                path,
                audit,
            }),
            Ok(Err(err)) => {
                self.metrics.module_failure(name, err.code());
                Err(CallError::Failed(ApiError::from_host(&err)))
            }
            Err(join) => {
                self.metrics.module_failure(name, "host_task_failed");
                Err(CallError::Failed(ApiError::internal(
                    "host_task_failed",
                    format!("the module call did not complete: {join}"),
                )))
            }
        }
    }
}

/// The operation ids the gateway uses, looked up by name in the module's
/// `info` rather than hard-coded, so a module whose table grew or moved is
/// either used correctly or refused at start-up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpIds {
    pub(crate) info: u32,
    pub(crate) issue: u32,
    pub(crate) verify: u32,
    pub(crate) authorize: u32,
    pub(crate) refresh: u32,
    pub(crate) policy_check: u32,
    pub(crate) revocation_list_sign: u32,
    pub(crate) status_list_sign: u32,
    pub(crate) scope_meet: u32,
    pub(crate) attach_signature: u32,
}

impl OpIds {
    pub(crate) fn resolve(runtime: &Runtime) -> Result<Self, HostError> {
        Ok(Self {
            info: runtime.op_id("info")?,
            issue: runtime.op_id("issue")?,
            verify: runtime.op_id("verify")?,
            authorize: runtime.op_id("authorize")?,
            refresh: runtime.op_id("refresh")?,
            policy_check: runtime.op_id("policy_check")?,
            revocation_list_sign: runtime.op_id("revocation_list_sign")?,
            status_list_sign: runtime.op_id("status_list_sign")?,
            scope_meet: runtime.op_id("scope_meet")?,
            attach_signature: runtime.op_id("attach_signature")?,
        })
    }
}

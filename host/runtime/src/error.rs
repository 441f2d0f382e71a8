//! What can go wrong between the host and the module.

/// An error from loading the module or from one call into it.
///
/// [`HostError::code`] is a stable machine string. For [`HostError::Op`] it is
/// the module's own code (`"expired"`, `"bad_audience"`, …), the same string
/// the JS API, HTTP bodies and the CLI report; every other variant is the
/// host's, prefixed `module_`, `guest_` or `host_` by where it came from.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The operation ran and rejected its request (status `1`).
    #[error("{message}{}", path.as_ref().map_or_else(String::new, |p| format!(" (at `{p}`)")))]
    Op {
        /// The module's stable error code.
        code: String,
        /// The module's human-readable message.
        message: String,
        /// Where in the request's document the problem is (e.g.
        /// `caps[0].constraints.max_purchase`), when the module says.
        path: Option<String>,
        /// The audit event the module asks the host to append for this
        /// refusal (`{"event", "data"}`, docs/ABI.md), when it names one:
        /// a delegation the rules refused.
        audit: Option<Box<serde_json::Value>>,
        /// Where an audit chain broke: the `seq` of the first bad record,
        /// when the module says.
        seq: Option<u64>,
    },

    /// The module's bytes do not hash to the digest they were shipped with.
    #[error("module sha-256 is `{actual}`, expected `{expected}`")]
    ModuleDigestMismatch {
        /// The digest the module was expected to have.
        expected: String,
        /// The digest of the bytes actually given.
        actual: String,
    },

    /// The expected digest is not 64 lowercase hex characters.
    #[error("expected module digest `{digest}` is not 64 lowercase hex characters")]
    BadModuleDigest {
        /// The digest text as given.
        digest: String,
    },

    /// wasmtime could not compile or link the module.
    #[error("cannot load the module: {reason}")]
    ModuleInvalid {
        /// wasmtime's explanation.
        reason: String,
    },

    /// The module lacks an export of the raw ABI, or it has the wrong type.
    #[error("the module has no usable export `{name}`")]
    ModuleMissingExport {
        /// The export's name.
        name: &'static str,
    },

    /// The module speaks an ABI version this host does not know.
    #[error("the module speaks abi version {found}, this host speaks {expected}")]
    AbiMismatch {
        /// What `ct_abi_version` returned.
        found: i32,
        /// The version this host implements.
        expected: i32,
    },

    /// The wasmtime engine could not be configured on this machine.
    #[error("cannot configure wasmtime: {reason}")]
    HostEngine {
        /// wasmtime's explanation.
        reason: String,
    },

    /// Every pooled instance slot is in use by a concurrent call.
    #[error("all {limit} instance slots are busy")]
    HostBusy {
        /// How many calls may run at once.
        limit: u32,
    },

    /// The host's signer (the gateway key, an HSM) did not produce a
    /// signature the module accepts under its public key: the host is at
    /// fault, not the request.
    #[error("the signer failed: {reason}")]
    SigningFailed {
        /// What went wrong.
        reason: String,
    },

    /// The host's system random number generator failed.
    #[error("the system random number generator failed: {reason}")]
    HostEntropy {
        /// The generator's explanation.
        reason: String,
    },

    /// The request is larger than the module can be asked to hold.
    #[error("request of {len} bytes exceeds the limit of {limit} bytes")]
    RequestTooLarge {
        /// The request's length.
        len: usize,
        /// The largest request accepted.
        limit: usize,
    },

    /// A request or response was not the JSON the typed helpers expect.
    #[error("cannot encode the request as json: {reason}")]
    BadRequestJson {
        /// serde_json's explanation.
        reason: String,
    },

    /// The module could not be instantiated for a call.
    #[error("cannot instantiate the module: {reason}")]
    GuestInstantiate {
        /// wasmtime's explanation.
        reason: String,
    },

    /// The module trapped (a bug in it, or a guard it hit); its instance is gone.
    #[error("the module trapped: {reason}")]
    Trap {
        /// wasmtime's description of the trap.
        reason: String,
    },

    /// The call used up its fuel budget.
    #[error("the module ran out of its fuel budget of {budget}")]
    GuestOutOfFuel {
        /// The budget the call had.
        budget: u64,
    },

    /// The call tried to grow its memory past the store's cap.
    #[error("the module asked for {desired} bytes of memory, the cap is {limit}")]
    GuestOutOfMemory {
        /// The size the module asked for.
        desired: usize,
        /// The cap.
        limit: usize,
    },

    /// `ct_alloc` could not give a buffer for the request.
    #[error("the module could not allocate {len} bytes for the request")]
    GuestAlloc {
        /// The size asked for.
        len: usize,
    },

    /// A pointer or length the module returned lies outside its memory.
    #[error("the module returned a region outside its memory: {what}")]
    GuestBadRegion {
        /// Which region, and where.
        what: String,
    },

    /// `ct_call` returned a status the ABI does not define.
    #[error("the module returned unknown status {status}")]
    GuestBadStatus {
        /// The status returned.
        status: i32,
    },

    /// The module returned something that is not the JSON the ABI promises.
    #[error("the module returned malformed json: {reason}")]
    GuestBadResponse {
        /// What was wrong with it.
        reason: String,
    },
}

impl HostError {
    /// The operations' error object, `{"code", "message", "path"?,
    /// "audit"?, "seq"?}` (what `ct_call` answers with status `1`, and what
    /// `captoken_core::OpError::to_json` writes), as [`HostError::Op`]; an
    /// object that is not one is `guest_bad_response`.
    #[must_use]
    pub fn from_error_object(bytes: &[u8]) -> Self {
        #[derive(serde::Deserialize)]
        struct ErrorObject {
            code: String,
            message: String,
            #[serde(default)]
            path: Option<String>,
            #[serde(default)]
            audit: Option<Box<serde_json::Value>>,
            #[serde(default)]
            seq: Option<u64>,
        }
        match serde_json::from_slice::<ErrorObject>(bytes) {
            Ok(ErrorObject {
                code,
                message,
                path,
                audit,
                seq,
            }) if !code.is_empty() => Self::Op {
                code,
                message,
                path,
                audit,
                seq,
            },
            Ok(_) => Self::GuestBadResponse {
                reason: "error object with an empty `code`".to_owned(),
            },
            Err(err) => Self::GuestBadResponse {
                reason: format!("error object: {err}"),
            },
        }
    }

    /// The stable machine code of this error.
    ///
    /// For [`HostError::Op`] it is the module's own code; otherwise one of
    /// the host's codes, which never change meaning once released.
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            Self::Op { code, .. } => code,
            Self::ModuleDigestMismatch { .. } => "module_digest_mismatch",
            Self::BadModuleDigest { .. } => "module_bad_digest",
            Self::ModuleInvalid { .. } => "module_invalid",
            Self::ModuleMissingExport { .. } => "module_missing_export",
            Self::AbiMismatch { .. } => "abi_mismatch",
            Self::HostEngine { .. } => "host_engine",
            Self::HostBusy { .. } => "host_busy",
            Self::HostEntropy { .. } => "host_entropy",
            Self::SigningFailed { .. } => "signing_failed",
            Self::RequestTooLarge { .. } => "request_too_large",
            Self::BadRequestJson { .. } => "bad_request_json",
            Self::GuestInstantiate { .. } => "guest_instantiate",
            Self::Trap { .. } => "guest_trap",
            Self::GuestOutOfFuel { .. } => "guest_out_of_fuel",
            Self::GuestOutOfMemory { .. } => "guest_out_of_memory",
            Self::GuestAlloc { .. } => "guest_alloc",
            Self::GuestBadRegion { .. } => "guest_bad_region",
            Self::GuestBadStatus { .. } => "guest_bad_status",
            Self::GuestBadResponse { .. } => "guest_bad_response",
        }
    }

    /// Whether the module itself rejected the request, as opposed to the
    /// host or the module failing to run it.
    #[must_use]
    pub fn is_rejection(&self) -> bool {
        matches!(self, Self::Op { .. })
    }

    /// Where in the request a refusal points (see [`HostError::Op`]).
    #[must_use]
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Op { path, .. } => path.as_deref(),
            _ => None,
        }
    }

    /// Where an audit chain broke, when a refusal says (see [`HostError::Op`]).
    #[must_use]
    pub fn seq(&self) -> Option<u64> {
        match self {
            Self::Op { seq, .. } => *seq,
            _ => None,
        }
    }

    /// The audit event a refusal carries (see [`HostError::Op`]).
    #[must_use]
    pub fn audit(&self) -> Option<&serde_json::Value> {
        match self {
            Self::Op { audit, .. } => audit.as_deref(),
            _ => None,
        }
    }
}

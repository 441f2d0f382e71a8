//! The HTTP gateway (`captoken serve`): issue, verify and revoke tokens over
//! HTTP, with an embedded SQLite store. See docs/GATEWAY.md.
//!
//! The gateway holds no token logic. Policy evaluation, signing and
//! verification are calls into the same wasm module every other host runs
//! ([`Runtime`]); the gateway adds what the module must not do itself: the
//! clock, entropy, the signing key file, the store (issued tokens,
//! revocations) and the HTTP surface.
//!
//! Revocation is checked by the gateway, not passed into the module: verify
//! runs first, then every `jti` of the verified chain (the token's and each
//! ancestor's, at most four) is looked up in the store by primary key. Passing
//! the whole revocation list into every verify call would grow each request
//! with the store, past the module's request limit eventually; the look-up
//! costs a handful of index probes whatever the store holds.

mod audit;
mod auth;
mod body;
mod error;
mod metrics;
mod module;
mod routes;
mod server;
mod setup;
mod signer;
mod store;
mod verified;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::Value;

pub use audit::{AuditEvent, Auditor, DEFAULT_WORKSPACE};
pub use auth::AdminToken;
pub use error::ApiError;
pub use metrics::Metrics;
pub use server::{raise_fd_limit, serve};
pub use setup::{
    KeyFile, RETIRED_KEYS_FILE, Rotation, SIGNING_KEY_FILE, generate_admin_token,
    rotate_signing_key,
};
pub use signer::{KeyFileSigner, TokenSigner};
pub use store::{AuditReport, AuditVerifyError, verify_log};
pub use store::{
    DEFAULT_REASON, Database, Grant, Lineage, Refreshed, Revocation, RevocationSnapshot, RevokedId,
    SCHEMA_VERSION, Spend, StatusSnapshot, Store, StoreError, StoredEvent, TokenRow,
};

use crate::{HostError, Runtime};
use module::{Module, OpIds};
use setup::{Create, SigningKey};

/// Store calls that may run at once. SQLite serializes reads behind one
/// connection, and writes behind another, where the writes waiting share
/// one commit (store: group commit): enough for a group to form under load,
/// few enough that a flood of requests parks no more blocking threads.
const STORE_CONCURRENCY: usize = 16;

/// How many verified tokens a gateway keeps unless told otherwise
/// ([`GatewayConfig::verify_cache_entries`]).
pub const DEFAULT_VERIFY_CACHE_ENTRIES: usize = verified::DEFAULT_ENTRIES;

/// The environment variable holding the admin bearer token.
pub const ADMIN_TOKEN_ENV: &str = "CAPTOKEN_ADMIN_TOKEN";

/// Why the gateway cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The module could not be loaded or called.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The database could not be opened or migrated.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The signing key file is unusable.
    #[error("signing key: {0}")]
    Key(String),
    /// The signing key file is readable by others.
    #[error("{0}")]
    KeyPermissions(String),
    /// The policy file is unusable.
    #[error("policy: {0}")]
    Policy(String),
    /// A file or directory could not be read or written.
    #[error("{0}")]
    Io(String),
    /// The admin token is too weak to guard the admin endpoints.
    #[error("{0}")]
    WeakAdminToken(String),
    /// The public URL is not an `http(s)://host[:port][/path]` URL.
    #[error(
        "public URL `{0}`: must be http:// or https:// and a host, with no query, fragment or spaces"
    )]
    BadPublicUrl(String),
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The system's explanation.
        reason: String,
    },
}

impl GatewayError {
    /// The stable code of this error.
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            Self::Host(err) => err.code(),
            Self::Store(err) => err.code(),
            Self::Key(_) => "bad_signing_key",
            Self::KeyPermissions(_) => "key_file_permissions",
            Self::Policy(_) => "bad_policy_file",
            Self::Io(_) => "io_error",
            Self::WeakAdminToken(_) => "weak_admin_token",
            Self::BadPublicUrl(_) => "bad_public_url",
            Self::Bind { .. } => "bind_failed",
        }
    }
}

/// Tunables of a running gateway.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The `iss` of every token issued, and the issuer verify expects.
    pub issuer: String,
    /// The audience tokens are issued for, and verified against, when a
    /// request names none.
    pub audience: String,
    /// The largest request body accepted (413 `body_too_large` beyond).
    pub max_body_bytes: usize,
    /// The most bytes of request line and headers (at least 8 KiB; beyond:
    /// 431 from the HTTP layer).
    pub max_header_bytes: usize,
    /// The most header fields in one request (beyond: 431).
    pub max_headers: usize,
    /// How long a client may take to send its headers, and how long a
    /// connection may sit idle between requests.
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body once its
    /// headers arrived (beyond: 408 `request_timeout`, connection closed).
    pub request_timeout: Duration,
    /// The most connections open at once; more wait in the listen backlog
    /// until one closes. Keep it under the file-descriptor limit
    /// ([`raise_fd_limit`]), so a flood of connections cannot starve the
    /// store and the module cache of descriptors.
    pub max_connections: usize,
    /// How many module calls may run at once; more wait their turn.
    pub module_concurrency: usize,
    /// How long a signed revocation list from `GET /v1/revocations` is
    /// fresh: its `next_update` is this long after its `iat`.
    pub revocation_list_interval: Duration,
    /// How many verified tokens to keep, answered again without the module
    /// while its answer holds (revocation still checked every time); 0
    /// verifies every request in the module.
    pub verify_cache_entries: usize,
    /// The URL clients reach this gateway at (behind a load balancer: the
    /// balancer's, the same for every gateway of a database), which issued
    /// tokens name their status list under. `None`: `http://` and the
    /// address [`serve`] listens on.
    pub public_url: Option<String>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            issuer: "urn:captoken:gateway".to_owned(),
            audience: "captoken".to_owned(),
            max_body_bytes: 64 << 10,
            max_header_bytes: 16 << 10,
            max_headers: 64,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            max_connections: 4096,
            module_concurrency: std::thread::available_parallelism()
                .map_or(2, std::num::NonZeroUsize::get),
            revocation_list_interval: Duration::from_secs(300),
            verify_cache_entries: verified::DEFAULT_ENTRIES,
            public_url: None,
        }
    }
}

/// Where the gateway keeps its state.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The store: a SQLite file (created with its directory if absent) or
    /// a PostgreSQL database.
    pub db: Database,
    /// The directory of the signing key (`signing.jwk`, created 0600).
    pub key_dir: PathBuf,
    /// The issuance policy (a sample is written if absent).
    pub policy: PathBuf,
}

/// What start-up found or created, for the operator to read once.
#[derive(Debug, Clone)]
pub struct Startup {
    /// The signing key file.
    pub key: KeyFile,
    /// The policy file.
    pub policy: PathBuf,
    /// Whether the sample policy was written just now.
    pub policy_created: bool,
    /// The store.
    pub db: Database,
    /// Its schema version after migration.
    pub schema_version: i64,
    /// The module's SHA-256.
    pub module_sha256: String,
}

/// The signing key and the policy in force. A request takes one snapshot
/// ([`Gateway::live`]) and uses it throughout, so a reload never mixes an
/// old key with a new policy within a request.
pub(crate) struct Live {
    pub(crate) key: SigningKey,
    pub(crate) policy: Value,
    /// Tokens verified under this key set ([`verified`]): a reload starts
    /// an empty cache.
    pub(crate) verified: verified::VerifiedCache,
}

impl Live {
    fn new(key: SigningKey, policy: Value, config: &GatewayConfig) -> Self {
        Live {
            key,
            policy,
            verified: verified::VerifiedCache::new(config.verify_cache_entries),
        }
    }
}

/// What [`Gateway::reload`] put in force.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reloaded {
    /// The key id that signs from now on.
    pub kid: String,
    /// The key id that signed before the reload.
    pub previous_kid: String,
    /// The retired key ids still published, each until its window ends.
    pub retired: Vec<String>,
    /// Whether the policy differs from the one in force before.
    pub policy_changed: bool,
}

/// A ready gateway: cheap to clone, shared by every connection.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("config", &self.inner.config)
            .field("kid", &self.live().key.kid)
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: GatewayConfig,
    paths: Paths,
    module: Module,
    ops: OpIds,
    store: Arc<Store>,
    /// Store calls running at once on the blocking pool; more wait here,
    /// not as parked threads queued on the store's connections.
    store_slots: Arc<tokio::sync::Semaphore>,
    /// The key and policy in force; [`Gateway::reload`] replaces them.
    live: RwLock<Arc<Live>>,
    /// Whether the key file's key signs (not a signer from
    /// [`Gateway::with_signer`], which a reload must not replace).
    key_file_signs: bool,
    /// Held for the whole of a reload.
    reloading: std::sync::Mutex<()>,
    admin: AdminToken,
    metrics: Arc<Metrics>,
    /// The last signed revocation list (`GET /v1/revocations`) and status
    /// lists (`GET /v1/status-lists/{n}`).
    lists: routes::SignedLists,
    /// Status-list places reserved by this process, not yet handed out.
    places: Arc<routes::Places>,
    /// The URL status lists are published under: the configured one, or
    /// set from the listening address when serving starts.
    public_url: Arc<std::sync::OnceLock<String>>,
}

/// Refuses a public URL a status list could not be fetched from, or whose
/// list URIs would be ambiguous (a query or fragment would end up before
/// the route).
fn check_public_url(url: &str) -> Result<(), GatewayError> {
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .map(|rest| rest.split('/').next().unwrap_or_default());
    let clean = !url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#');
    match host {
        Some(host) if clean && !host.is_empty() && !host.contains('@') => Ok(()),
        _ => Err(GatewayError::BadPublicUrl(url.to_owned())),
    }
}

impl Inner {
    /// The URL status lists are published under (see
    /// [`GatewayConfig::public_url`]).
    fn public_url(&self) -> &str {
        self.public_url
            .get()
            .or(self.config.public_url.as_ref())
            .map_or("http://localhost", String::as_str)
    }
}

impl Gateway {
    /// Loads (or creates) the key and policy, opens and migrates the
    /// database, and checks the module can sign and verify with the key.
    ///
    /// Blocking: call it before serving, or from a blocking thread.
    ///
    /// # Errors
    ///
    /// Any [`GatewayError`]; nothing is served then.
    pub fn open(
        runtime: Arc<Runtime>,
        paths: &Paths,
        admin: AdminToken,
        config: GatewayConfig,
    ) -> Result<(Self, Startup), GatewayError> {
        if let Some(url) = &config.public_url {
            check_public_url(url)?;
        }
        let ops = OpIds::resolve(&runtime)?;
        let (key, key_file) = setup::signing_key(&runtime, &paths.key_dir, Create::IfMissing)?;
        let (policy, policy_created) =
            setup::policy(&runtime, &ops, &paths.policy, Create::IfMissing)?;
        if let Some(file) = paths.db.sqlite_path() {
            create_parent(file)?;
        }
        let store = Store::open_database(&paths.db, Auditor::new(Arc::clone(&runtime))?)?;
        let startup = Startup {
            key: key_file,
            policy: paths.policy.clone(),
            policy_created,
            db: paths.db.clone(),
            schema_version: store.schema_version()?,
            module_sha256: runtime.module_sha256().to_owned(),
        };
        let metrics = Arc::new(Metrics::default());
        let module = Module::new(
            runtime,
            ops.attach_signature,
            config.module_concurrency,
            Arc::clone(&metrics),
        );
        let live = Live::new(key, policy, &config);
        let inner = Inner {
            config,
            paths: paths.clone(),
            module,
            ops,
            store: Arc::new(store),
            store_slots: Arc::new(tokio::sync::Semaphore::new(STORE_CONCURRENCY)),
            live: RwLock::new(Arc::new(live)),
            key_file_signs: true,
            reloading: std::sync::Mutex::new(()),
            admin,
            metrics,
            lists: routes::SignedLists::default(),
            places: Arc::default(),
            public_url: Arc::default(),
        };
        Ok((
            Self {
                inner: Arc::new(inner),
            },
            startup,
        ))
    }

    /// The same gateway (store, key, policy, admin token, metrics) calling
    /// another runtime: for running under a different sandbox budget.
    ///
    /// # Errors
    ///
    /// As [`Runtime::info`], if the runtime cannot describe its operations.
    pub fn with_runtime(&self, runtime: Arc<Runtime>) -> Result<Self, GatewayError> {
        let ops = OpIds::resolve(&runtime)?;
        Ok(self.rebuilt(
            runtime,
            ops,
            self.live().key.clone(),
            self.inner.key_file_signs,
        ))
    }

    /// The same gateway signing with `signer` instead of its key file's
    /// key: for an HSM or KMS backend. The published key set is unchanged
    /// and every signature is checked against it, so `signer` must sign
    /// with the published key; one that signs with another key or returns
    /// a bad signature fails the request with `signing_failed` (500)
    /// before anything is stored or handed out. [`Gateway::reload`] then
    /// re-reads the policy only, never the key directory.
    #[must_use]
    pub fn with_signer(&self, signer: Arc<dyn TokenSigner>) -> Self {
        let mut key = self.live().key.clone();
        key.signer = signer;
        self.rebuilt(
            Arc::clone(self.inner.module.runtime()),
            self.inner.ops,
            key,
            false,
        )
    }

    /// This gateway's store, policy, admin token and metrics, with
    /// `runtime` (whose operation ids are `ops`) and `key`.
    fn rebuilt(
        &self,
        runtime: Arc<Runtime>,
        ops: OpIds,
        key: SigningKey,
        key_file_signs: bool,
    ) -> Self {
        let inner = &self.inner;
        let policy = self.live().policy.clone();
        Self {
            inner: Arc::new(Inner {
                config: inner.config.clone(),
                paths: inner.paths.clone(),
                module: Module::new(
                    runtime,
                    ops.attach_signature,
                    inner.config.module_concurrency,
                    Arc::clone(&inner.metrics),
                ),
                ops,
                store: Arc::clone(&inner.store),
                store_slots: Arc::clone(&inner.store_slots),
                live: RwLock::new(Arc::new(Live::new(key, policy, &inner.config))),
                key_file_signs,
                reloading: std::sync::Mutex::new(()),
                admin: inner.admin.clone(),
                metrics: Arc::clone(&inner.metrics),
                lists: routes::SignedLists::default(),
                places: Arc::clone(&inner.places),
                public_url: Arc::clone(&inner.public_url),
            }),
        }
    }

    /// Names the URL status lists are published under, from the address
    /// the gateway listens on, unless one was configured or named already.
    pub(crate) fn listening_on(&self, addr: SocketAddr) {
        let configured = self.inner.config.public_url.clone();
        self.inner
            .public_url
            .get_or_init(|| configured.unwrap_or_else(|| format!("http://{addr}")));
    }

    /// The key and policy in force now.
    pub(crate) fn live(&self) -> Arc<Live> {
        Arc::clone(
            &self
                .inner
                .live
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Re-reads the signing key directory (the key, and the retired keys
    /// still in their window) and the policy file, checks them as start-up
    /// does (the key signs a token the module verifies; the module accepts
    /// the policy), and puts them in force for every request that starts
    /// afterwards. What `captoken serve` does on `SIGHUP`, so that
    /// `captoken keygen --rotate` or a policy edit takes effect without a
    /// restart.
    ///
    /// All or nothing: if either file is missing or refused, the error is
    /// returned and the key and policy in force stay as they were. A
    /// gateway given its signer by [`Gateway::with_signer`] keeps it and
    /// re-reads the policy only.
    ///
    /// Blocking: call it from a blocking thread.
    ///
    /// # Errors
    ///
    /// As [`Gateway::open`], and `io_error` if a file start-up would have
    /// created is missing (a reload never creates a key or a policy).
    pub fn reload(&self) -> Result<Reloaded, GatewayError> {
        let outcome = self.reload_files();
        self.inner.metrics.reload(outcome.is_ok());
        outcome
    }

    fn reload_files(&self) -> Result<Reloaded, GatewayError> {
        // One reload at a time: two racing could otherwise put the older
        // reading of the files in force last.
        let _one = self
            .inner
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let runtime = self.inner.module.runtime();
        let paths = &self.inner.paths;
        let before = self.live();
        let key = if self.inner.key_file_signs {
            setup::signing_key(runtime, &paths.key_dir, Create::Never)?.0
        } else {
            before.key.clone()
        };
        let (policy, _) = setup::policy(runtime, &self.inner.ops, &paths.policy, Create::Never)?;
        let reloaded = Reloaded {
            kid: key.kid.clone(),
            previous_kid: before.key.kid.clone(),
            retired: key
                .retired
                .iter()
                .filter_map(|jwk| jwk.get("kid").and_then(Value::as_str).map(str::to_owned))
                .collect(),
            policy_changed: policy != before.policy,
        };
        let mut live = self
            .inner
            .live
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A kept revocation list is kept with the `kid` that signed it, so
        // after a new key the next reader gets a list signed by that key.
        *live = Arc::new(Live::new(key, policy, &self.inner.config));
        drop(live);
        Ok(reloaded)
    }

    /// The routes, ready to be served.
    pub fn router(&self) -> axum::Router {
        routes::router(self.clone())
    }

    /// The gateway's configuration.
    #[must_use]
    pub fn config(&self) -> &GatewayConfig {
        &self.inner.config
    }

    /// The counters `/metrics` reports.
    #[must_use]
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Drops the replay guard's entries whose time has passed, in batches,
    /// each under the store's bound like a request's store call. Returns
    /// how many it dropped.
    ///
    /// # Errors
    ///
    /// The store's error; what was dropped before it stays dropped.
    pub async fn purge_replay(&self) -> Result<usize, StoreError> {
        const BATCH: u32 = 1000;
        let mut total = 0;
        loop {
            let Ok(slot) = Arc::clone(&self.inner.store_slots).acquire_owned().await else {
                return Ok(total);
            };
            let store = Arc::clone(&self.inner.store);
            let now = crate::now();
            let dropped = tokio::task::spawn_blocking(move || {
                let dropped = store.purge_replay(now, BATCH);
                drop(slot);
                dropped
            })
            .await
            .unwrap_or(Ok(0))?;
            total += dropped;
            if dropped < BATCH as usize {
                return Ok(total);
            }
        }
    }

    /// The public key set `/.well-known/jwks.json` serves: the current
    /// key, and each retired key until its `exp`.
    #[must_use]
    pub fn jwks(&self) -> Value {
        self.live().key.published(crate::now())
    }

    /// The key set tokens are verified against: the current key and every
    /// retired key, whose windows the module enforces.
    pub(crate) fn trusted_jwks(&self) -> Value {
        self.live().key.trusted()
    }
}

/// Creates the directories above `path` that are missing, 0700 like the
/// key directory: the store in them holds principals, scopes and the audit
/// log. Directories that exist are left as they are.
fn create_parent(path: &Path) -> Result<(), GatewayError> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(parent)
        .map_err(|err| GatewayError::Io(format!("`{}`: {err}", parent.display())))
}

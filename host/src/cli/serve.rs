//! `serve`: the HTTP gateway, on an embedded SQLite file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use captoken_host::gateway::{
    self, ADMIN_TOKEN_ENV, AdminToken, Gateway, GatewayConfig, GatewayError, Paths,
};
use captoken_host::{Runtime, RuntimeConfig};
use clap::Args;

use super::fail::CliError;
use super::print_line;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (port 0 picks a free port, printed at start)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The store: a SQLite file (created, with its directory, if absent) or
    /// postgres://user@host:port/db, shared with other gateways
    /// [env: CAPTOKEN_DATABASE_URL] [default: captoken-data/captoken.db]
    #[arg(long, value_name = "FILE|URL")]
    db: Option<String>,
    /// Directory of the signing key `signing.jwk` (generated, mode 0600, if absent)
    #[arg(long, value_name = "DIR", default_value = "captoken-data/keys")]
    key_dir: PathBuf,
    /// Issuance policy (a sample is written if absent; see docs/POLICY.md)
    #[arg(long, value_name = "FILE", default_value = "captoken-data/policy.json")]
    policy: PathBuf,
    /// The `iss` of issued tokens
    #[arg(long, value_name = "ISS", default_value = "urn:captoken:gateway")]
    issuer: String,
    /// The audience tokens are issued for and verified against, unless a
    /// request names another
    #[arg(long, value_name = "AUD", default_value = "captoken")]
    audience: String,
    /// Largest request body, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 10)]
    max_body_bytes: usize,
    /// How long a signed revocation list (GET /v1/revocations) stays fresh,
    /// in seconds: its `next_update` is this long after it is signed
    #[arg(long, value_name = "SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    revocation_list_interval: u64,
    /// Directory of the precompiled module (created 0700; compiled and
    /// written there on first start, loaded from there afterwards)
    #[arg(long, value_name = "DIR", default_value = "captoken-data/cache")]
    cache_dir: PathBuf,
    /// Worker threads serving connections (module calls run on a separate
    /// blocking pool)
    #[arg(long, value_name = "N", default_value_t = 2)]
    threads: usize,
    /// Most connections open at once (more wait until one closes); at most
    /// half the file-descriptor limit
    #[arg(long, value_name = "N", default_value_t = 4096,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// Verified tokens kept, so a token presented again is answered without
    /// the module while its times allow (revocation is checked on every
    /// request); 0 verifies every request in the module
    #[arg(long, value_name = "N", default_value_t = gateway::DEFAULT_VERIFY_CACHE_ENTRIES)]
    verify_cache_entries: usize,
    /// The URL clients reach this gateway at, which issued tokens name
    /// their status list under (behind a load balancer: the balancer's,
    /// the same for every gateway of a database) [env: CAPTOKEN_PUBLIC_URL]
    /// [default: http:// and the address listened on]
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Seconds a client may take to send a request body (then 408, and the
    /// connection is closed)
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    request_timeout: u64,
}

pub(crate) fn serve(args: &ServeArgs) -> Result<(), CliError> {
    let runtime = Arc::new(Runtime::embedded_with(
        RuntimeConfig::default().cache_dir(&args.cache_dir),
    )?);
    let (admin_token, generated) = match std::env::var(ADMIN_TOKEN_ENV) {
        Ok(token) if !token.is_empty() => (token, false),
        _ => (gateway::generate_admin_token().map_err(setup_error)?, true),
    };
    // Descriptors for the connections, and as many again for everything
    // else (the store, the module cache, the blocking pool's files).
    let fd_limit = gateway::raise_fd_limit();
    let max_connections = fd_limit.map_or(args.max_connections, |limit| {
        args.max_connections.min((limit / 2).max(1))
    });
    let public_url = args.public_url.clone().or_else(|| {
        std::env::var("CAPTOKEN_PUBLIC_URL")
            .ok()
            .filter(|url| !url.is_empty())
    });
    if public_url.is_none() && args.listen.ip().is_unspecified() {
        // Tokens would name their status list at `http://0.0.0.0:…`, which
        // no verifier can fetch, for as long as they live.
        return Err(CliError::setup(
            "public_url_required",
            format!(
                "listening on {} names no address clients can reach: give --public-url                  (or CAPTOKEN_PUBLIC_URL), the URL issued tokens name their status list under",
                args.listen
            ),
        ));
    }
    let config = GatewayConfig {
        issuer: args.issuer.clone(),
        audience: args.audience.clone(),
        max_body_bytes: args.max_body_bytes,
        max_connections: usize::try_from(max_connections).unwrap_or(usize::MAX),
        request_timeout: std::time::Duration::from_secs(args.request_timeout),
        revocation_list_interval: std::time::Duration::from_secs(args.revocation_list_interval),
        verify_cache_entries: args.verify_cache_entries,
        public_url,
        ..GatewayConfig::default()
    };
    let paths = Paths {
        db: super::database(args.db.as_deref(), Some("captoken-data/captoken.db"))?,
        key_dir: args.key_dir.clone(),
        policy: args.policy.clone(),
    };
    let runtime_source = runtime.module_source().to_string();
    let admin = AdminToken::new(&admin_token).map_err(|err| {
        setup_error(match err {
            GatewayError::WeakAdminToken(why) => {
                GatewayError::WeakAdminToken(format!("{ADMIN_TOKEN_ENV}: {why}"))
            }
            other => other,
        })
    })?;
    let (gateway, startup) = Gateway::open(runtime, &paths, admin, config).map_err(setup_error)?;

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .map_err(|err| CliError::usage("io_error", format!("cannot start tokio: {err}")))?;
    tokio.block_on(async {
        // Before anything is printed: whoever reads the banner may send
        // SIGHUP at once, and its default action would end the process.
        reload_on_hangup(gateway.clone());
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|err| {
                setup_error(GatewayError::Bind {
                    addr: args.listen,
                    reason: err.to_string(),
                })
            })?;
        let local = listener
            .local_addr()
            .map_err(|err| CliError::usage("io_error", err.to_string()))?;

        let created = |yes: bool| if yes { " (created)" } else { "" };
        print_line(&format!("captoken gateway listening on http://{local}"))?;
        print_line(&format!("  module sha-256  {}", startup.module_sha256))?;
        print_line(&format!("  module          {}", runtime_source))?;
        print_line(&format!(
            "  database        {} (schema v{})",
            startup.db,
            startup.schema_version
        ))?;
        print_line(&format!(
            "  signing key     {}{} kid {}",
            startup.key.path.display(),
            created(startup.key.created),
            startup.key.kid
        ))?;
        for kid in &startup.key.retired {
            print_line(&format!("  retired key     kid {kid} (verifies until its window ends)"))?;
        }
        print_line(&format!(
            "  policy          {}{}",
            startup.policy.display(),
            created(startup.policy_created)
        ))?;
        print_line(&format!(
            "  issuer          {}  audience {}",
            args.issuer, args.audience
        ))?;
        print_line(&format!(
            "  connections     at most {max_connections} open (file descriptors: {})",
            fd_limit.map_or_else(|| "unlimited".to_owned(), |n| n.to_string())
        ))?;
        if generated {
            // The only time the generated token is ever shown.
            print_line(&format!(
                "  admin token     {admin_token}\n                  (generated for this run and not shown again; \
                 set {ADMIN_TOKEN_ENV} to choose one)"
            ))?;
        } else {
            print_line(&format!("  admin token     from {ADMIN_TOKEN_ENV}"))?;
        }
        drop(admin_token);
        print_line(&format!(
            "  reload          kill -HUP {} (re-reads the key directory and the policy)",
            std::process::id()
        ))?;

        gateway::serve(listener, gateway, shutdown_signal())
            .await
            .map_err(|err| CliError::usage("io_error", err.to_string()))
    })
}

fn setup_error(err: GatewayError) -> CliError {
    match err {
        GatewayError::Host(err) => CliError::Host(err),
        other => CliError::setup(other.code(), other.to_string()),
    }
}

/// On every SIGHUP, [`Gateway::reload`]: a rotated key or an edited policy
/// takes effect for the requests that start afterwards. A refused reload
/// changes nothing and says why on stderr.
fn reload_on_hangup(gateway: Gateway) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangup) = signal(SignalKind::hangup()) else {
            eprintln!("warning: cannot listen for SIGHUP: reloading needs a restart");
            return;
        };
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                let gw = gateway.clone();
                match tokio::task::spawn_blocking(move || gw.reload()).await {
                    Ok(Ok(done)) => {
                        let key = if done.kid == done.previous_kid {
                            format!("signing key kid {} (unchanged)", done.kid)
                        } else {
                            format!("signing key kid {} (was {})", done.kid, done.previous_kid)
                        };
                        let retired = if done.retired.is_empty() {
                            String::new()
                        } else {
                            format!(", retired {}", done.retired.join(" "))
                        };
                        let policy = if done.policy_changed {
                            "changed"
                        } else {
                            "unchanged"
                        };
                        let _ = print_line(&format!(
                            "reloaded on SIGHUP: {key}{retired}; policy {policy}"
                        ));
                    }
                    Ok(Err(err)) => eprintln!(
                        "error: reload on SIGHUP refused, the key and policy in force are unchanged: {}: {err}",
                        err.code()
                    ),
                    Err(err) => eprintln!("error: reload on SIGHUP failed: {err}"),
                }
            }
        });
    }
    #[cfg(not(unix))]
    drop(gateway);
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

//! The accept loop. axum's own `serve` does not expose hyper's limits, so
//! each connection is served by hyper directly, with a cap on the size and
//! number of headers, a deadline for receiving them (which also ends an
//! idle keep-alive connection), and a cap on the connections open at once.
//! The body's deadline is the router's (`routes::deadline`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use super::Gateway;

/// How often the replay guard's expired entries are dropped.
const PURGE_INTERVAL: Duration = Duration::from_secs(60);

/// Ends a background task when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// hyper refuses (panics on) a header buffer below 8 KiB.
const MIN_HEADER_BYTES: usize = 8 << 10;

/// Serves `gateway` on `listener` until `shutdown` completes.
///
/// Connections in flight when `shutdown` completes are dropped with the
/// runtime; nothing is lost by that, because every change the API has
/// acknowledged was committed to the store before its response was sent.
///
/// # Errors
///
/// None today: a failed `accept` (say, out of file descriptors) is retried
/// after a pause rather than ending the server.
pub async fn serve(
    listener: TcpListener,
    gateway: Gateway,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let config = gateway.config().clone();
    if let Ok(addr) = listener.local_addr() {
        gateway.listening_on(addr);
    }
    let service = TowerToHyperService::new(gateway.router());
    let mut shutdown = std::pin::pin!(shutdown);
    // The replay guard's expired entries go in the background, never in
    // a request's transaction.
    let purging = gateway.clone();
    let purge = tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(err) = purging.purge_replay().await {
                eprintln!(
                    "warning: purging the replay guard failed: {}: {err}",
                    err.code()
                );
            }
        }
    });
    let _purge = AbortOnDrop(purge);
    let open = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    loop {
        // At the cap, stop accepting: new connections wait in the kernel's
        // backlog until one closes, and every deadline above bounds how
        // long that takes.
        let slot = tokio::select! {
            slot = Arc::clone(&open).acquire_owned() => slot,
            () = &mut shutdown => return Ok(()),
        };
        let Ok(slot) = slot else { return Ok(()) };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return Ok(()),
        };
        let Ok((stream, _peer)) = accepted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let service = service.clone();
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .max_buf_size(config.max_header_bytes.max(MIN_HEADER_BYTES))
            .max_headers(config.max_headers)
            .header_read_timeout(config.header_timeout);
        tokio::spawn(async move {
            // A connection error (a client hanging up, a limit refused) is
            // that connection's business only.
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(slot);
        });
    }
}

/// Raises this process's soft limit on open file descriptors to its hard
/// limit (a default soft limit of 1024 is easily reached by a busy
/// gateway), and returns the limit now in force, if the system reports one.
#[must_use]
pub fn raise_fd_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    // `None` is unlimited.
    let below = match (limit.current, limit.maximum) {
        (Some(current), Some(maximum)) => current < maximum,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if below {
        limit.current = limit.maximum;
        // Refused (a sandbox): the soft limit stays what it was.
        let _ = setrlimit(Resource::Nofile, limit);
    }
    getrlimit(Resource::Nofile).current
}

//! The accept loop. axum's own `serve` does not expose hyper's limits, so
//! each connection is served by hyper directly, with a cap on the size and
//! number of headers and a deadline for receiving them.

use std::future::Future;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use super::Gateway;

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
    let service = TowerToHyperService::new(gateway.router());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
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
        });
    }
}

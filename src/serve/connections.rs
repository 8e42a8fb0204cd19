//! The connections under the router: accepted here and served by hyper's HTTP/1 server, as
//! axum's `serve-with-hyper` example does, because `axum::serve` sets no timer and so no
//! header-read timeout: a client that sent half a header kept its connection forever.
//!
//! hyper's header-read timeout also closes idle keep-alive connections: the timer starts
//! whenever hyper waits for a request head, the first one or the next. Stalled bodies are the
//! router's business (`RequestBodyTimeoutLayer`).

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// Longest a client may take to send a request's head (request line and headers), counted
/// from when the server starts waiting for it; also how long an idle keep-alive connection
/// stays open.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Pause after an accept error that is not about one connection (out of file descriptors):
/// retrying at once would spin while nothing has changed. axum's own `serve` waits 1 s.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Serves `app` on every connection `listener` accepts until `shutdown` resolves; then stops
/// accepting, lets each connection finish the request it is answering (idle ones close at
/// once), and returns when all are closed.
pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    if !is_connection_error(&error) {
                        eprintln!("cannot accept a connection: {error}");
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // The answer is written at once, head and body; Nagle's delay would only hold it back.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Timeouts, resets and clients that speak no HTTP end here; nobody waits for them,
            // and a line each would flood the log during a stall.
            let _ = connection.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Errors of one connection that went away before it was accepted: nothing to wait for.
fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}

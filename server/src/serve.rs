//! The accept loop: one hyper HTTP/1.1 connection per TCP stream, with upgrades.
//!
//! Hand-rolled rather than `axum::serve` for one setting axum does not expose: hyper's
//! header-read timeout (`HTTP_HEADER_TIMEOUT_S`), without which a client that sends half a
//! request (slowloris) holds its socket and file descriptor forever. Each accepted socket gets
//! `TCP_NODELAY` and the configured send buffer; on shutdown the loop stops accepting and asks
//! every HTTP connection to finish its request and close (upgraded WebSockets are closed
//! by the hub with 1001 on their own).

use crate::state::AppState;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

/// Serves `app` on `listener` until the hub's shutdown is triggered, then waits for the
/// HTTP connections that were mid-request to finish.
pub async fn serve(listener: TcpListener, app: Router, state: AppState) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let http = TaskTracker::new();
    let header_timeout = state.config.header_timeout();
    let sndbuf = state.config.ws_socket_sndbuf;
    let shutdown = state.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.triggered() => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // EMFILE/ENFILE and aborted handshakes: keep serving; back off when out of
                // descriptors so the loop does not spin.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        tune(&tcp, sndbuf);
        // Every request knows its peer (`ConnectInfo`), for the per-IP connection cap.
        let service = TowerToHyperService::new(
            tower::ServiceBuilder::new()
                .map_request(move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    request
                })
                .service(app.clone()),
        );
        let mut stop = stop_rx.clone();
        http.spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            tokio::pin!(connection);
            let finished = tokio::select! {
                r = connection.as_mut() => Some(r),
                _ = stop.wait_for(|s| *s) => None,
            };
            let result = match finished {
                Some(r) => r,
                None => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                debug!(error = %e, "http connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    http.close();
    http.wait().await;
    Ok(())
}

/// Per-socket options: no Nagle delay, and a small send buffer so a client that stops reading
/// is detected (and cut with 4001) quickly.
fn tune(tcp: &TcpStream, sndbuf: usize) {
    let _ = tcp.set_nodelay(true);
    if sndbuf > 0 {
        let _ = socket2::SockRef::from(tcp).set_send_buffer_size(sndbuf);
    }
}

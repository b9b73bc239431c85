//! The accept loop: HTTP/1.1 connections served by hyper with a header-read timeout, and a
//! graceful stop on Ctrl-C or SIGTERM ([`super::shutdown`]).
//!
//! Not `axum::serve`: it gives hyper no timer, so a client that sends half a request line and
//! stalls would hold its connection (and a file descriptor) for ever.

use std::{net::SocketAddr, time::Duration};

use axum::{extract::ConnectInfo, Router};
use hyper::{body::Incoming, server::conn::http1, Request};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::watch};
use tower::ServiceExt as _;

use super::shutdown::Stop;

/// Binds the listener. Separate from [`serve`] so callers can learn the bound port first.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("could not listen on {addr}: {e}"))
}

/// Serves `app` until Ctrl-C or SIGTERM plus the drain period (see [`Stop`]), then lets
/// in-flight requests finish within the stop's timeout. A client gets `header_read_timeout`
/// to send each request's line and headers (an idle keep-alive connection is closed after as
/// long); handlers see the peer as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    stop_with: Stop,
) -> anyhow::Result<()> {
    // Dropping `stop` tells every connection to finish; `done` waits until they all have.
    let (stop, stopping) = watch::channel(());
    let (done, finished) = watch::channel(());
    let shutdown = stop_with.accepting_ends();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let mut stopping = stopping.clone();
        let finished = finished.clone();
        tokio::spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            let connection =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                }
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(finished);
        });
    }
    drop(listener);
    drop(stop);
    drop(finished);
    if tokio::time::timeout(stop_with.timeout, done.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            open = done.receiver_count(),
            "requests still running after PAR_SHUTDOWN_TIMEOUT: closing their connections"
        );
    }
    Ok(())
}

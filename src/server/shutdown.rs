//! Stopping cleanly: once SIGTERM (or Ctrl-C) arrives the process is *draining*: `/readyz`
//! answers 503, background workers claim nothing new, and after `PAR_SHUTDOWN_DRAIN` the
//! listener closes while in-flight requests get up to `PAR_SHUTDOWN_TIMEOUT` to finish.

use std::{sync::Arc, time::Duration};

use tokio::sync::watch;

/// Whether the process is stopping; shared by the listener, `/readyz` and the workers.
#[derive(Debug, Clone)]
pub struct Draining(Arc<watch::Sender<bool>>);

impl Default for Draining {
    fn default() -> Self {
        Self(Arc::new(watch::Sender::new(false)))
    }
}

impl Draining {
    /// Starts draining (idempotent).
    pub fn start(&self) {
        self.0.send_replace(true);
    }

    pub fn is_draining(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once draining has started.
    pub async fn started(&self) {
        let mut watching = self.0.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = watching.wait_for(|draining| *draining).await;
    }
}

/// How a listener stops: the shared [`Draining`], how long it goes on accepting once draining
/// has started, and how long in-flight requests then get.
#[derive(Debug, Clone)]
pub struct Stop {
    pub draining: Draining,
    pub drain: Duration,
    pub timeout: Duration,
}

impl Stop {
    /// Resolves `drain` after the signal (or after draining started elsewhere): the moment
    /// to stop accepting.
    pub async fn accepting_ends(&self) {
        tokio::select! {
            () = signal() => self.draining.start(),
            () = self.draining.started() => {}
        }
        tracing::info!(
            drain_seconds = self.drain.as_secs_f64(),
            "draining: /readyz answers 503; closing the listener after the drain period"
        );
        tokio::time::sleep(self.drain).await;
    }
}

/// Ctrl-C or SIGTERM.
async fn signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "could not listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "could not listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

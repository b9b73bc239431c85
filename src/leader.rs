//! Scheduled work (syncs, the campaign schedule, checkpoints) runs on one instance at a time.
//! On PostgreSQL the leader is the instance holding a session-level advisory lock on a
//! connection of its own; the others try again every few seconds and one of them takes over
//! when that connection ends (a crash or SIGKILL closes it). SQLite serves one instance, which
//! always leads. Work that is claimed row by row (revocations, the outbox) needs no leader.

use std::time::Duration;

use sqlx::{AnyConnection, Connection as _};
use tokio::sync::watch;

use crate::{
    db::{Backend, Db, LockKey},
    server::shutdown::Draining,
};

/// How often a follower asks for the lock, and the leader checks its connection.
pub const RETRY: Duration = Duration::from_secs(2);

/// Whether this instance leads now.
#[derive(Debug, Clone)]
pub struct Leadership(watch::Receiver<bool>);

impl Leadership {
    /// An instance that always leads (SQLite, and callers that run alone).
    pub fn always() -> Self {
        // A receiver keeps reading the last value after its sender is gone.
        Self(watch::channel(true).1)
    }

    pub fn is_leader(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once this instance leads (at once when it does); never, once it has stopped
    /// competing (the process is draining).
    pub async fn until_leader(&self) {
        let mut watching = self.0.clone();
        if watching.wait_for(|leads| *leads).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Competes for leadership until `draining` starts (then gives it up at once).
    pub fn spawn(db: Db, draining: Draining) -> Self {
        if db.backend() == Backend::Sqlite {
            return Self::always();
        }
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            while !draining.is_draining() {
                match try_lead(&db).await {
                    Ok(Some(connection)) => {
                        tx.send_replace(true);
                        tracing::info!("leading the scheduled work");
                        hold(connection, &draining).await;
                        tx.send_replace(false);
                        tracing::info!("no longer leading the scheduled work");
                    }
                    Ok(None) => {}
                    Err(error) => tracing::warn!(%error, "could not ask for leadership"),
                }
                tokio::select! {
                    () = tokio::time::sleep(RETRY) => {}
                    () = draining.started() => {}
                }
            }
        });
        Self(rx)
    }
}

/// A connection of its own holding the leader lock, or `None` when another instance has it.
async fn try_lead(db: &Db) -> Result<Option<AnyConnection>, sqlx::Error> {
    let mut pooled = db.pool().acquire().await?;
    let (won,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
        .bind(LockKey::Leader.id())
        .fetch_one(&mut *pooled)
        .await?;
    if !won {
        // Nothing held: the connection goes back to the pool.
        return Ok(None);
    }
    // Detached: the lock lives as long as this connection, which must not go back to the pool.
    let mut connection = pooled.detach();
    // If this host vanishes (power, network) rather than its process, the server would keep
    // the lock until the operating system's keepalive gives up (two hours by default): probe
    // the client every 10 s and drop it after three missed answers.
    for setting in [
        "SET tcp_keepalives_idle = 10",
        "SET tcp_keepalives_interval = 5",
        "SET tcp_keepalives_count = 3",
    ] {
        sqlx::query(setting).execute(&mut connection).await?;
    }
    Ok(Some(connection))
}

/// Keeps the lock until the connection fails or draining starts.
async fn hold(mut connection: AnyConnection, draining: &Draining) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(RETRY) => {
                // A ping that does not come back in time counts as a lost lock: better no
                // leader for a moment than two (the server drops the lock soon after).
                match tokio::time::timeout(RETRY, connection.ping()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => {
                        tracing::warn!(%error, "the leader's connection failed");
                        return;
                    }
                    Err(_) => {
                        tracing::warn!("the leader's connection stopped answering");
                        return;
                    }
                }
            }
            () = draining.started() => {
                // Closing the connection releases the lock; a follower takes over at its next try.
                let _ = connection.close().await;
                return;
            }
        }
    }
}

//! The inventory's run-time pieces: the Postmark client (when configured), one sync at a time,
//! and the schedule.

use std::{sync::Arc, time::Duration};

use tokio::sync::Mutex;

use super::{
    sync::{self, Progress, SyncError, SyncOutcome},
    Trigger,
};
use crate::{
    audit::Actor,
    clock::Clock,
    config::InventoryConfig,
    db::Db,
    postmark::{gateway::UsersGateway, PostmarkClient, PostmarkConfig, RetryPolicy},
};

pub struct InventoryService {
    client: Option<PostmarkClient>,
    gateway: Option<UsersGateway>,
    running: Mutex<()>,
    pub config: InventoryConfig,
}

/// A sync could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("no Postmark account token is configured (PAR_POSTMARK_ACCOUNT_TOKEN)")]
    NotConfigured,
    #[error("a sync is already running")]
    Busy,
    #[error(transparent)]
    Sync(#[from] SyncError),
}

impl InventoryService {
    pub fn new(config: InventoryConfig) -> anyhow::Result<Self> {
        let client = match &config.account_token {
            Some(token) => Some(PostmarkClient::new(&PostmarkConfig {
                api_url: config.api_url.clone(),
                account_token: token.clone(),
                connect_timeout: Duration::from_secs(10),
                request_timeout: Duration::from_secs(30),
                retry: RetryPolicy::default(),
            })?),
            None => None,
        };
        let gateway = match &config.users_gateway {
            Some((url, token)) => Some(UsersGateway::new(url.clone(), token.clone())?),
            None => None,
        };
        Ok(Self {
            client,
            gateway,
            running: Mutex::new(()),
            config,
        })
    }

    pub fn connected(&self) -> bool {
        self.client.is_some()
    }

    /// The Account API client, for the few calls an admin makes by hand (restoring a
    /// quarantined server); `None` without an account token.
    pub fn client(&self) -> Option<&PostmarkClient> {
        self.client.as_ref()
    }

    /// Runs one sync unless another is running in this process.
    pub async fn sync(
        &self,
        db: &Db,
        clock: &dyn Clock,
        trigger: Trigger,
        actor: &Actor,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<SyncOutcome, StartError> {
        let client = self.client.as_ref().ok_or(StartError::NotConfigured)?;
        let _guard = self.running.try_lock().map_err(|_| StartError::Busy)?;
        let outcome = sync::run(db, clock, client, trigger, actor, progress).await?;
        if let Some(gateway) = &self.gateway {
            // Users after servers: permissions must name servers of the fresh inventory.
            if let Err(error) = sync::users_from_gateway(db, clock, gateway, trigger, actor).await {
                tracing::warn!(%error, "users from the gateway not synced");
            }
        }
        self.prune_snapshots(db, clock).await;
        Ok(outcome)
    }

    /// Applies the snapshot retention (after every sync and users import). A failure is
    /// logged: the next sync tries again, and nothing depends on old versions being gone.
    pub async fn prune_snapshots(&self, db: &Db, clock: &dyn Clock) {
        let days = self.config.snapshot_retention_days;
        if let Err(error) = super::snapshots::prune(db, clock, days).await {
            tracing::warn!(%error, "old inventory snapshots not pruned");
        }
    }

    /// The users gateway, when configured (revocations use it too).
    pub fn gateway(&self) -> Option<&UsersGateway> {
        self.gateway.as_ref()
    }

    /// Syncs every `interval` in the background (the first one right away).
    pub fn spawn_schedule(
        self: &Arc<Self>,
        db: Db,
        clock: Arc<dyn Clock>,
        leadership: crate::leader::Leadership,
    ) {
        let (Some(interval), true) = (self.config.sync_interval, self.connected()) else {
            return;
        };
        let service = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // One instance syncs; the others wait to take over (and then sync at once).
                leadership.until_leader().await;
                let actor = Actor::system("scheduler");
                match service
                    .sync(&db, clock.as_ref(), Trigger::Schedule, &actor, &|_| {})
                    .await
                {
                    Ok(outcome) => tracing::info!(
                        sync = outcome.sync_id,
                        servers = outcome.servers,
                        "scheduled sync done"
                    ),
                    Err(error) => tracing::warn!(%error, "scheduled sync did not complete"),
                }
            }
        });
    }
}

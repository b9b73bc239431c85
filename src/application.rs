//! Start-up in one place: the application state, its background jobs and the router, for
//! `serve`, `demo`, the benchmarks and the test suite alike. Callers say what differs (run
//! mode, database, sign-in, Postmark, clock, which jobs run) in a [`Startup`]; everything else
//! is wired here.

use std::{sync::Arc, time::Duration};

use axum::Router;
use tokio::net::TcpListener;

use crate::{
    auth::{service::AuthService, session::Store},
    clock::Clock,
    config::{CampaignConfig, DatabaseConfig, InventoryConfig, MailConfig, ServerConfig},
    db::Db,
    inventory::service::InventoryService,
    notifications::worker::Worker,
    server,
    signing::SigningConfig,
    state::{AppState, RunMode},
};

/// How often expired sessions are deleted.
const SESSION_CLEANUP_EVERY: Duration = Duration::from_secs(300);

/// The background jobs that start with [`Application::serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jobs {
    /// Deletes expired sessions every five minutes.
    pub session_cleanup: bool,
    /// Syncs the inventory every `InventoryConfig::sync_interval` (when there is one and an
    /// account token is configured).
    pub inventory_schedule: bool,
    /// Closes due campaigns and drafts recurring ones every `CampaignConfig::check_interval`.
    pub campaign_schedule: bool,
    /// Sends queued notifications about every second (when mail is configured).
    pub notifications: bool,
    /// Carries out applied revocations about every second, against Postmark and the users
    /// gateway (jobs without either become manual tasks).
    pub revocations: bool,
    /// Signs a checkpoint of the audit head every `SigningConfig::checkpoint_interval` (when
    /// there is one).
    pub checkpoints: bool,
}

impl Jobs {
    pub const ALL: Jobs = Jobs {
        session_cleanup: true,
        inventory_schedule: true,
        campaign_schedule: true,
        notifications: true,
        revocations: true,
        checkpoints: true,
    };
    pub const NONE: Jobs = Jobs {
        session_cleanup: false,
        inventory_schedule: false,
        campaign_schedule: false,
        notifications: false,
        revocations: false,
        checkpoints: false,
    };
}

/// Where the application keeps its data.
pub enum Storage {
    /// Connect to this database and apply pending migrations; sessions are kept there too.
    Connect(DatabaseConfig),
    /// A database that is already connected and migrated, and the one sessions go to.
    Connected { db: Db, sessions: DatabaseConfig },
}

/// What differs between the ways the application starts.
pub struct Startup {
    pub mode: RunMode,
    pub server: ServerConfig,
    pub storage: Storage,
    pub auth: AuthService,
    pub inventory: InventoryConfig,
    pub campaigns: CampaignConfig,
    /// Outgoing mail; `None`: mail is off and notifications stay queued.
    pub mail: Option<MailConfig>,
    pub clock: Arc<dyn Clock>,
    /// Where the signing key is (created there on first start) and the checkpoint schedule.
    pub signing: SigningConfig,
    pub jobs: Jobs,
    /// The demo's simulated Postmark, for the Inbox page (demo only).
    pub simulator: Option<crate::postmark::simulator::Simulator>,
}

/// The application, ready to serve.
pub struct Application {
    state: AppState,
    router: Router,
    jobs: Jobs,
    revocation_settings: crate::revocations::worker::Settings,
    checkpoint_interval: Option<Duration>,
}

impl Application {
    /// Opens the database (and the session store), marks syncs the last stop interrupted as
    /// failed, and builds the state and the router. Nothing runs in the background yet.
    pub async fn build(startup: Startup) -> anyhow::Result<Self> {
        let Startup {
            mode,
            server,
            storage,
            auth,
            inventory,
            campaigns,
            mail,
            clock,
            signing,
            jobs,
            simulator,
        } = startup;
        let (db, sessions) = match storage {
            Storage::Connect(config) => {
                let db = Db::connect(&config).await?;
                db.migrate().await?;
                crate::inventory::hook_credentials::scrub_stored(&db, clock.as_ref()).await?;
                (db, config)
            }
            Storage::Connected { db, sessions } => (db, sessions),
        };
        crate::people::store_aliases(&db, &campaigns.email_aliases).await?;
        let sessions = Store::connect(&sessions).await?;
        let inventory = Arc::new(InventoryService::new(inventory)?);
        let interrupted = crate::inventory::sync::mark_interrupted(&db, clock.as_ref()).await?;
        if interrupted > 0 {
            tracing::warn!(
                interrupted,
                "syncs interrupted by the last stop marked failed"
            );
        }
        // Before anything is served: a missing key file over existing signatures stops here.
        let signer = Arc::new(crate::signing::load(&signing, &db, clock.as_ref()).await?);
        let mut state = AppState::new(server, db, sessions, auth, inventory, clock, mode, signer)
            .with_campaigns(campaigns)
            .with_mail(mail);
        state.simulator = simulator;
        let router = server::router(state.clone());
        Ok(Self {
            state,
            router,
            jobs,
            revocation_settings: Default::default(),
            checkpoint_interval: signing.checkpoint_interval,
        })
    }

    /// The shared state (the database, sessions, services and clock the app uses).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Starts the background jobs, then serves on `listener` until Ctrl-C or SIGTERM. The
    /// caller binds it ([`server::bind`]), so it can learn the port first.
    pub async fn serve(self, listener: TcpListener) -> anyhow::Result<()> {
        // Bound before anything starts: an address in use stops start-up with its reason.
        let metrics = self.state.config.metrics.clone();
        let header_read_timeout = self.state.config.timeouts.header_read;
        let metrics_listener = match metrics.addr {
            Some(addr) => Some(server::bind(addr).await?),
            None => None,
        };
        let revocations = self.start_jobs()?;
        let stop = server::shutdown::Stop {
            draining: self.state.draining.clone(),
            drain: self.state.config.timeouts.drain,
            timeout: self.state.config.timeouts.shutdown,
        };
        let stopping_by = {
            let stop = stop.clone();
            async move {
                stop.draining.started().await;
                tokio::time::Instant::now() + stop.drain + stop.timeout
            }
        };
        if let Some(metrics_listener) = metrics_listener {
            let router = server::metrics::own_router(self.state.metrics.clone(), &metrics);
            tracing::info!(address = ?metrics.addr, "serving /metrics on its own address");
            let stop = stop.clone();
            tokio::spawn(async move {
                let serving = server::serve(metrics_listener, router, header_read_timeout, stop);
                if let Err(error) = serving.await {
                    tracing::error!(
                        error = format!("{error:#}"),
                        "the /metrics listener stopped"
                    );
                }
            });
        }
        // The deadline for everything counts from the signal.
        let (served, deadline) = tokio::join!(
            server::serve(listener, self.router, header_read_timeout, stop),
            stopping_by
        );
        if let Some(worker) = revocations {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            worker.stop(left).await;
        }
        served
    }

    /// The outbox worker over this application's database, clock and mail settings (the
    /// `notifications` job runs one; tests drive one by hand with `run_once`).
    pub fn notification_worker(&self) -> anyhow::Result<Worker> {
        let state = &self.state;
        Worker::new(
            state.db.clone(),
            state.clock.clone(),
            state.mail.as_deref(),
            state.config.public_url.clone(),
            state.campaigns.grace_days,
        )
    }

    /// Paces the revocation worker differently (the demo shows retries and a failure within
    /// seconds instead of minutes).
    pub fn with_revocation_settings(
        mut self,
        settings: crate::revocations::worker::Settings,
    ) -> Self {
        self.revocation_settings = settings;
        self
    }

    /// The revocation worker over this application's database, clock and Postmark settings
    /// (the `revocations` job runs one; tests drive their own with `run_once`).
    pub fn revocation_worker(&self) -> anyhow::Result<crate::revocations::worker::Worker> {
        crate::revocations::worker::Worker::new(
            self.state.db.clone(),
            self.state.clock.clone(),
            &self.state.inventory.config,
            self.revocation_settings,
        )
        .map(|worker| worker.with_fulfilment(self.state.auth.config().fulfilment_emails.clone()))
    }

    /// Starts the background jobs; the revocation worker's handle is returned, to wait for
    /// its job in hand when the process stops.
    fn start_jobs(&self) -> anyhow::Result<Option<crate::revocations::worker::Running>> {
        let state = &self.state;
        let leadership = crate::leader::Leadership::spawn(state.db.clone(), state.draining.clone());
        if self.jobs.session_cleanup {
            state.sessions.spawn_cleanup(SESSION_CLEANUP_EVERY);
        }
        if self.jobs.inventory_schedule {
            state.inventory.spawn_schedule(
                state.db.clone(),
                state.clock.clone(),
                leadership.clone(),
            );
        }
        if self.jobs.campaign_schedule {
            crate::campaigns::schedule::spawn(
                state.db.clone(),
                state.clock.clone(),
                state.campaigns.grace_days,
                state.campaigns.check_interval,
                state.auth.config().admin_emails.clone(),
                leadership.clone(),
            );
        }
        if self.jobs.notifications {
            self.notification_worker()?.spawn();
        }
        let revocations = if self.jobs.revocations {
            Some(self.revocation_worker()?.spawn(state.draining.clone()))
        } else {
            None
        };
        if let Some(every) = self.checkpoint_interval.filter(|_| self.jobs.checkpoints) {
            spawn_checkpoints(state.clone(), every, leadership);
        }
        Ok(revocations)
    }
}

/// Signs a checkpoint every `every` (the first one `every` after start), on the leading
/// instance.
fn spawn_checkpoints(state: AppState, every: Duration, leadership: crate::leader::Leadership) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            leadership.until_leader().await;
            match crate::audit::record_checkpoint(
                &state.db,
                state.clock.as_ref(),
                &state.signer,
                &crate::audit::Actor::system("checkpoint-schedule"),
                crate::audit::Reason::Schedule,
            )
            .await
            {
                Ok(checkpoint) => {
                    tracing::info!(checkpoint.id = checkpoint.id, "signed an audit checkpoint")
                }
                Err(error) => tracing::error!(
                    error = format!("{error:#}"),
                    "could not sign the scheduled audit checkpoint"
                ),
            }
        }
    });
}

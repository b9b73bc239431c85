//! Shared resources handed to handlers and server functions.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{
    auth::{service::AuthService, session::Store},
    clock::Clock,
    config::{CampaignConfig, MailConfig, ServerConfig},
    db::Db,
    error::AppError,
    inventory::service::InventoryService,
    server::metrics::Metrics,
};

/// How the process was started; `Demo` shows a banner and serves sample data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    Serve,
    Demo,
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<ServerConfig>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub mode: RunMode,
    pub auth: Arc<AuthService>,
    pub sessions: Store,
    pub inventory: Arc<InventoryService>,
    pub campaigns: Arc<CampaignConfig>,
    /// Outgoing mail; `None` when no server token is configured.
    pub mail: Option<Arc<MailConfig>>,
    /// The demo's simulated Postmark, whose received emails the Inbox page shows.
    pub simulator: Option<crate::postmark::simulator::Simulator>,
    /// The Ed25519 key that signs audit checkpoints (and sign-offs).
    pub signer: Arc<crate::signing::Signer>,
    /// Set once the process is stopping (see [`crate::server::shutdown`]).
    pub draining: crate::server::shutdown::Draining,
}

/// The application state inside a server function.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        AppError::internal(anyhow::anyhow!("application state missing from context"))
    })
}

impl AppState {
    #[expect(
        clippy::too_many_arguments,
        reason = "each is required; a builder would let a state start without one"
    )]
    pub fn new(
        config: ServerConfig,
        db: Db,
        sessions: Store,
        auth: AuthService,
        inventory: Arc<InventoryService>,
        clock: Arc<dyn Clock>,
        mode: RunMode,
        signer: Arc<crate::signing::Signer>,
    ) -> Self {
        let leptos_options = LeptosOptions::builder()
            .output_name(crate::OUTPUT_NAME)
            .site_root(config.site_root.to_string_lossy().to_string())
            .site_pkg_dir(crate::server::assets::pkg_dir(&config.site_root))
            .site_addr(config.bind_addr)
            .env(leptos::config::Env::PROD)
            .build();
        Self {
            leptos_options,
            db,
            config: Arc::new(config),
            clock,
            metrics: Arc::new(Metrics::default()),
            mode,
            auth: Arc::new(auth),
            sessions,
            inventory,
            campaigns: Arc::new(CampaignConfig::default()),
            mail: None,
            simulator: None,
            signer,
            draining: Default::default(),
        }
    }

    /// Campaign settings other than the defaults.
    pub fn with_campaigns(mut self, campaigns: CampaignConfig) -> Self {
        self.campaigns = Arc::new(campaigns);
        self
    }

    /// Mail settings (`None`: mail is off).
    pub fn with_mail(mut self, mail: Option<MailConfig>) -> Self {
        self.mail = mail.map(Arc::new);
        self
    }

    /// Whether emails are sent; without it notifications stay queued and the admin page says so.
    pub fn mail_enabled(&self) -> bool {
        self.mail.is_some()
    }
}

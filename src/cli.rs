//! Command line: `serve`, `demo`, `migrate`, `audit verify`.

use std::{
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use secrecy::SecretString;

use crate::{
    audit,
    auth::{oidc::DevelopmentProviderRefused, service::AuthService, session::Store},
    clock::SystemClock,
    config::{ConfigError, DatabaseConfig, RawConfig, ServerConfig},
    db::{redacted, Db},
    server,
    state::{AppState, RunMode},
    telemetry,
};

/// Quarterly user-access reviews for a Postmark account.
///
/// Configuration comes from PAR_* environment variables and, optionally, a TOML file given
/// with --config; the environment wins. See README.md for every key.
#[derive(Debug, Parser)]
#[command(name = "postmark-access-review", version, about, long_about)]
pub struct Cli {
    /// TOML file with configuration keys in lower case (public_url = "https://…").
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web application (needs PAR_PUBLIC_URL; applies migrations first).
    Serve,
    /// Run a self-contained demo on 127.0.0.1 with sample data and a throwaway SQLite database.
    Demo {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Folder for the demo database; its previous contents are replaced at start.
        #[arg(long, value_name = "DIR", default_value = "data/demo")]
        data_dir: PathBuf,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain from the first event and name the first one that does not hold.
    /// Exits 0 when the chain is intact, 1 when it is broken.
    Verify,
}

/// Process exit codes.
pub mod exit {
    pub const OK: u8 = 0;
    /// A runtime failure, or a broken audit chain.
    pub const FAILURE: u8 = 1;
    /// Missing or invalid configuration.
    pub const CONFIG: u8 = 2;
}

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    #[error("{0:#}")]
    Runtime(#[from] anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Config(_) => exit::CONFIG,
            Failure::Runtime(_) => exit::FAILURE,
        }
    }
}

/// Runs a parsed command line; returns the exit code for successful runs.
pub async fn run(cli: Cli) -> Result<u8, Failure> {
    let raw = RawConfig::from_process(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => {
            let server_config = raw.server()?;
            let db_config = raw.database()?;
            let auth_config = raw.auth()?;
            init_telemetry(&raw)?;
            let auth = AuthService::production(auth_config, &server_config.public_url)?;
            match auth.oidc().check().await {
                Ok(()) => {}
                Err(error) if error.is::<DevelopmentProviderRefused>() => {
                    return Err(Failure::Config(ConfigError::Invalid {
                        key: "PAR_OIDC_ISSUER".to_string(),
                        origin: auth.oidc().issuer().to_string(),
                        reason: error.to_string(),
                    }));
                }
                // The provider may come up later; sign-in retries discovery on first use.
                Err(error) => tracing::warn!(
                    error = format!("{error:#}"),
                    "identity provider not reachable at startup"
                ),
            }
            let db = connect_and_migrate(&db_config).await?;
            let sessions = Store::connect(&db_config).await?;
            sessions.spawn_cleanup(std::time::Duration::from_secs(300));
            let listener = server::bind(server_config.bind_addr).await?;
            tracing::info!(
                address = %server_config.bind_addr,
                public_url = %server_config.public_url,
                database = %redacted(&db_config.url),
                issuer = %auth.oidc().issuer(),
                "serving"
            );
            let state = AppState::new(
                server_config,
                db,
                sessions,
                auth,
                Arc::new(SystemClock),
                RunMode::Serve,
            );
            server::serve(listener, state).await?;
            Ok(exit::OK)
        }
        Command::Demo { port, data_dir } => {
            init_telemetry(&raw)?;
            run_demo(&raw, port, &data_dir).await?;
            Ok(exit::OK)
        }
        Command::Migrate => {
            let db_config = raw.database()?;
            init_telemetry(&raw)?;
            connect_and_migrate(&db_config).await?;
            println!(
                "database schema is up to date ({})",
                redacted(&db_config.url)
            );
            Ok(exit::OK)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db_config = raw.database()?;
            init_telemetry(&raw)?;
            let db = Db::connect_read_only(&db_config).await?;
            let outcome = audit::verify(&db)
                .await
                .context("could not read the audit log (has `migrate` been run?)")?;
            Ok(match outcome {
                Ok(report) => {
                    println!(
                        "audit chain intact: {} events, head {}",
                        report.events,
                        report.head.as_deref().unwrap_or("(empty log)")
                    );
                    exit::OK
                }
                Err(problem) => {
                    println!("audit chain BROKEN at event #{}: {problem}", problem.seq());
                    exit::FAILURE
                }
            })
        }
    }
}

fn init_telemetry(raw: &RawConfig) -> Result<(), Failure> {
    telemetry::init(&raw.telemetry()?)?;
    raw.warn_unknown();
    Ok(())
}

async fn connect_and_migrate(config: &DatabaseConfig) -> anyhow::Result<Db> {
    let db = Db::connect(config).await?;
    db.migrate().await?;
    Ok(db)
}

/// The demo always runs on a fresh SQLite file on 127.0.0.1, whatever the environment says
/// about the database or the public URL, so it can never touch a real deployment.
async fn run_demo(raw: &RawConfig, port: u16, data_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("could not create {}", data_dir.display()))?;
    let db_path = data_dir.join("demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", db_path.display()));
        if file.exists() {
            std::fs::remove_file(&file).with_context(|| {
                format!("could not remove the old demo file {}", file.display())
            })?;
        }
    }
    let db_config = DatabaseConfig {
        url: SecretString::from(format!("sqlite://{}", db_path.display())),
        max_connections: 5,
    };
    let db = connect_and_migrate(&db_config).await?;
    let sessions = Store::connect(&db_config).await?;
    sessions.spawn_cleanup(std::time::Duration::from_secs(300));

    let listener = server::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    let bound = listener.local_addr()?;
    let public_url = format!("http://{bound}");
    let mut demo_raw = raw.clone();
    demo_raw.set("PUBLIC_URL", public_url.clone());
    demo_raw.set("BIND_ADDR", bound.to_string());
    let server_config: ServerConfig = demo_raw.server()?;

    println!();
    println!("  Postmark Access Review — DEMO MODE");
    println!(
        "  Sample data on a throwaway database: {}",
        db_path.display()
    );
    println!("  Sign-in goes through the built-in development identity provider:");
    println!("  pick Ada (admin), Aubrey (auditor), Rita or Manny (reviewers).");
    println!("  Listening on 127.0.0.1 only. Press Ctrl-C to stop.");
    println!();
    println!("  Open {public_url}");
    println!();

    let auth = AuthService::development(&server_config.public_url)?;
    let state = AppState::new(
        server_config,
        db,
        sessions,
        auth,
        Arc::new(SystemClock),
        RunMode::Demo,
    );
    server::serve(listener, state).await
}

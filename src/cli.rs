//! Command line: `serve`, `demo`, `migrate`, `backup`, `audit verify`, `audit checkpoint`,
//! `keys rotate`, `bench …`.

mod audit;
mod backup;
mod bench;
mod demo;
mod snapshot;

use std::{path::PathBuf, sync::Arc};

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::{
    application::{Application, Jobs, Startup, Storage},
    audit::Actor,
    auth::{oidc::DevelopmentProviderRefused, service::AuthService},
    clock::SystemClock,
    config::{ConfigError, DatabaseConfig, RawConfig},
    db::{redacted, Db},
    inventory::{
        service::{InventoryService, StartError},
        sync::Progress,
        Trigger,
    },
    server,
    state::RunMode,
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
        /// Run as a team without a users gateway: users come from the sample CSV import, and
        /// revoked user access becomes manual fulfilment tasks.
        #[arg(long)]
        without_users_gateway: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run the in-repo Postmark simulator on 127.0.0.1 (the demo's account and users gateway)
    /// until Ctrl-C, printing the settings that point `serve` at it.
    Simulator {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 4010)]
        port: u16,
    },
    /// Sync the inventory from Postmark once (needs PAR_POSTMARK_ACCOUNT_TOKEN).
    Sync,
    /// Replace the users inventory with a CSV file (columns in README.md). A file with any
    /// problem changes nothing; every problem is listed.
    ImportUsers {
        /// The CSV file.
        file: PathBuf,
    },
    /// Copy the SQLite database to FILE while `serve` runs (one consistent instant), then
    /// verify the copy's audit chain and checkpoints. FILE must not exist. For PostgreSQL use
    /// pg_dump.
    Backup {
        /// The new file.
        file: PathBuf,
    },
    /// Print the inventory as a successful sync saw it (servers or users, from the stored
    /// snapshot versions), one JSON object per line.
    Snapshot {
        /// The sync's number (as the sync history lists it).
        sync_id: i64,
    },
    /// Benchmarks that print numbers (run a release build).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The signing key.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

pub use audit::{AuditCommand, KeysCommand};
pub use bench::BenchCommand;

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
            let inventory_config = raw.inventory()?;
            raw.refuse_plain_http(Some(&server_config.public_url), &inventory_config)?;
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
            let campaigns = raw.campaigns()?;
            let mail = raw.mail()?;
            let lease = raw.revocation_lease()?;
            let signing = raw.signing()?;
            let database = redacted(&db_config.url);
            let app = Application::build(Startup {
                mode: RunMode::Serve,
                server: server_config,
                storage: Storage::Connect(db_config),
                auth,
                inventory: inventory_config,
                campaigns,
                mail,
                clock: Arc::new(SystemClock),
                signing,
                jobs: Jobs::ALL,
                simulator: None,
            })
            .await?
            .with_revocation_settings(
                crate::revocations::worker::Settings::default().with_lease(lease),
            );
            let state = app.state();
            let listener = server::bind(state.config.bind_addr).await?;
            tracing::info!(
                address = %state.config.bind_addr,
                public_url = %state.config.public_url,
                database = %database,
                issuer = %state.auth.oidc().issuer(),
                "serving"
            );
            app.serve(listener).await?;
            Ok(exit::OK)
        }
        Command::Demo {
            port,
            data_dir,
            without_users_gateway,
        } => {
            init_telemetry(&raw)?;
            demo::run_demo(&raw, port, &data_dir, !without_users_gateway).await?;
            Ok(exit::OK)
        }
        Command::Simulator { port } => {
            init_telemetry(&raw)?;
            demo::run_simulator(port).await?;
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
        Command::Sync => {
            let db_config = raw.database()?;
            let inventory_config = raw.inventory()?;
            raw.refuse_plain_http(None, &inventory_config)?;
            init_telemetry(&raw)?;
            let db = connect_and_migrate(&db_config).await?;
            let inventory = InventoryService::new(inventory_config)?;
            let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let report = move |p: Progress| report_progress(p, terminal);
            match inventory
                .sync(
                    &db,
                    &SystemClock,
                    Trigger::Cli,
                    &Actor::system("cli"),
                    &report,
                )
                .await
            {
                Ok(outcome) => {
                    println!(
                        "sync #{} done: {} servers ({} added, {} removed, {} changed)",
                        outcome.sync_id,
                        outcome.servers,
                        outcome.added,
                        outcome.removed,
                        outcome.changed
                    );
                    Ok(exit::OK)
                }
                Err(StartError::NotConfigured) => Err(Failure::Config(ConfigError::Missing {
                    key: "PAR_POSTMARK_ACCOUNT_TOKEN".to_string(),
                    hint: "set the account API token from Postmark's API Tokens page",
                })),
                Err(error) => {
                    println!("sync failed: {error}; the previous inventory is unchanged");
                    Ok(exit::FAILURE)
                }
            }
        }
        Command::Bench { command } => bench::run(&raw, command).await,
        Command::Backup { file } => backup::run(&raw, &file).await,
        Command::Snapshot { sync_id } => snapshot::run(&raw, sync_id).await,
        Command::ImportUsers { file } => {
            let db_config = raw.database()?;
            init_telemetry(&raw)?;
            let bytes = std::fs::read(&file)
                .with_context(|| format!("could not read {}", file.display()))?;
            let db = connect_and_migrate(&db_config).await?;
            let known = crate::inventory::db::server_ids(&db)
                .await
                .map_err(anyhow::Error::from)?;
            match crate::inventory::users_csv::parse(&bytes, &known) {
                Err(rejected) => {
                    eprintln!(
                        "{}: nothing imported; {} problems:",
                        file.display(),
                        rejected.errors.len() + rejected.more
                    );
                    for e in &rejected.errors {
                        match &e.column {
                            Some(column) => eprintln!("  line {}, {column}: {}", e.line, e.message),
                            None => eprintln!("  line {}: {}", e.line, e.message),
                        }
                    }
                    if rejected.more > 0 {
                        eprintln!("  … and {} more", rejected.more);
                    }
                    Ok(exit::FAILURE)
                }
                Ok(records) => {
                    let source = file.file_name().map_or_else(
                        || file.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    let outcome = crate::inventory::users::import(
                        &db,
                        &SystemClock,
                        &Actor::system("cli"),
                        Trigger::Cli,
                        &source,
                        records,
                    )
                    .await
                    .map_err(anyhow::Error::from)?;
                    let retention = raw.inventory()?.snapshot_retention_days;
                    crate::inventory::snapshots::prune(&db, &SystemClock, retention)
                        .await
                        .map_err(anyhow::Error::from)?;
                    println!(
                        "imported {} users as sync #{}: {} added, {} removed, {} changed",
                        outcome.users,
                        outcome.sync_id,
                        outcome.added,
                        outcome.removed,
                        outcome.changed
                    );
                    Ok(exit::OK)
                }
            }
        }
        Command::Audit { command } => audit::run_audit(&raw, command).await,
        Command::Keys { command } => audit::run_keys(&raw, command).await,
    }
}

/// A one-line progress display on a terminal, plain lines otherwise.
fn report_progress(progress: Progress, terminal: bool) {
    let line = match progress {
        Progress::Servers(n) => format!("fetched {n} servers"),
        Progress::Activity { done, total } => {
            let width = 30;
            let filled = (done * width).checked_div(total).unwrap_or(width);
            format!(
                "activity [{}{}] {done}/{total}",
                "#".repeat(filled),
                "-".repeat(width - filled)
            )
        }
        Progress::Saving => "saving snapshot".to_string(),
    };
    if terminal {
        eprint!("\r\x1b[2K{line}");
        if progress == Progress::Saving {
            eprintln!();
        }
    } else if !matches!(progress, Progress::Activity { done, total } if done != total) {
        eprintln!("{line}");
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
    crate::inventory::hook_credentials::scrub_stored(&db, &SystemClock).await?;
    Ok(db)
}

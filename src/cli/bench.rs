//! `bench sync`, `bench campaign`, `bench revocations`, `bench export`, `bench audit` and
//! `bench load`.

use clap::Subcommand;

use super::{exit, init_telemetry, Failure};
use crate::config::RawConfig;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Sync a simulated account of this many servers, then import this many users.
    Sync {
        #[arg(long, default_value_t = 10_000)]
        servers: usize,
        #[arg(long, default_value_t = 2_000)]
        users: usize,
    },
    /// Launch a campaign of about this many items (against a plain bulk insert of the same
    /// rows), then time the queue page of a reviewer with `--queue` items.
    Campaign {
        #[arg(long, default_value_t = 100_000)]
        items: usize,
        #[arg(long, default_value_t = 5_000)]
        queue: usize,
    },
    /// Carry out this many revocation jobs against a local simulator, against the same HTTP
    /// calls made bare.
    Revocations {
        #[arg(long, default_value_t = 10_000)]
        jobs: usize,
    },
    /// Export this many seeded audit events as CSV through the streamed response, against
    /// `sqlite3 -csv` of the same columns.
    Export {
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// Rows per database page.
        #[arg(long, default_value_t = crate::export::PAGE_ROWS)]
        page_rows: i64,
    },
    /// `--reviewers` signed-in reviewers open their queues and decide items for `--seconds`;
    /// then every accepted decision must be in the database and the audit log exactly once.
    /// Compared in the same run with a bare axum handler; a reviewer with `--queue` items
    /// times the queue page alone.
    Load {
        #[arg(long, default_value_t = 200)]
        reviewers: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Items per reviewer, about (enough that nobody runs out in 60 s).
        #[arg(long, default_value_t = 150)]
        items: usize,
        #[arg(long, default_value_t = 5_000)]
        queue: usize,
        /// An empty PostgreSQL database to run on instead of a temporary SQLite file.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Seed this many audit events, then time the Audit page's query for each kind of
    /// filter and for a deep page (median of `--runs`).
    Audit {
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        #[arg(long, default_value_t = 7)]
        runs: usize,
        /// An empty PostgreSQL database to seed instead of a temporary SQLite file
        /// (postgres://…); its audit_events table must be empty.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

pub async fn run(raw: &RawConfig, command: BenchCommand) -> Result<u8, Failure> {
    init_telemetry(raw)?;
    match command {
        BenchCommand::Sync { servers, users } => crate::bench::sync(servers, users).await?,
        BenchCommand::Campaign { items, queue } => {
            crate::bench::campaign::run(items, queue).await?
        }
        BenchCommand::Revocations { jobs } => crate::bench::revocations::run(jobs).await?,
        BenchCommand::Export { events, page_rows } => {
            crate::bench::export::run(events, page_rows).await?
        }
        BenchCommand::Audit {
            events,
            runs,
            database_url,
        } => crate::bench::audit::run(events, runs, database_url).await?,
        BenchCommand::Load {
            reviewers,
            seconds,
            items,
            queue,
            database_url,
        } => {
            crate::bench::load::run(crate::bench::load::Options {
                reviewers,
                seconds,
                items,
                queue,
                database_url,
            })
            .await?
        }
    }
    Ok(exit::OK)
}

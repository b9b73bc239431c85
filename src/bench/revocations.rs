//! `postmark-access-review bench revocations`: carries out a queue of revocation jobs (half
//! server quarantines, half permission removals through the users gateway) against a local
//! simulator with the production worker settings, then makes the same HTTP calls bare, one
//! after another with one client, against a second simulator in the same state. The difference
//! is what the worker adds per job: claiming under a lease, keeping a server's previous values,
//! recording the attempt and its audit events, and reading the gateway's user list once a pass.

use std::{sync::Arc, time::Instant};

use anyhow::Context as _;
use secrecy::SecretString;
use serde_json::json;

use super::{
    jobs::{seed_account, seed_jobs, Plan},
    peak_rss_mib,
};
use crate::{
    clock::SystemClock,
    config::{DatabaseConfig, InventoryConfig},
    db::Db,
    postmark::simulator::Simulator,
    revocations::worker::{Settings, Worker},
};

const ACCOUNT_TOKEN: &str = "bench-account-token";
const GATEWAY_TOKEN: &str = "bench-gateway-token";

/// The account for `jobs` jobs: every server is quarantined, every user loses one permission.
fn plan(jobs: usize) -> Plan {
    let quarantines = jobs / 2;
    Plan {
        servers: quarantines.max(1),
        quarantines,
        users: jobs - quarantines,
    }
}

async fn simulator(plan: &Plan) -> anyhow::Result<(Simulator, url::Url)> {
    let simulator = Simulator::new(ACCOUNT_TOKEN);
    simulator.enable_gateway(GATEWAY_TOKEN);
    seed_account(&simulator, plan);
    let url = simulator.spawn(0).await?;
    Ok((simulator, url))
}

/// Runs the benchmark with `jobs` jobs, in a fresh SQLite file under the system temp folder.
pub async fn run(jobs: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("par-bench-revocations-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(&dir, jobs).await;
    std::fs::remove_dir_all(&dir).with_context(|| format!("could not remove {}", dir.display()))?;
    result
}

async fn measure(dir: &std::path::Path, jobs: usize) -> anyhow::Result<()> {
    let plan = plan(jobs);
    let db = Db::connect(&DatabaseConfig {
        url: SecretString::from(format!("sqlite://{}", dir.join("bench.db").display())),
        max_connections: 5,
    })
    .await?;
    db.migrate().await?;
    let clock = Arc::new(SystemClock);
    let started = Instant::now();
    seed_jobs(&db, clock.as_ref(), &plan).await?;
    let seed_time = started.elapsed();

    let (simulator, url) = simulator(&plan).await?;
    let inventory = InventoryConfig {
        snapshot_retention_days: crate::config::DEFAULT_SNAPSHOT_RETENTION_DAYS,
        api_url: url.clone(),
        account_token: Some(SecretString::from(ACCOUNT_TOKEN.to_string())),
        sync_interval: None,
        webhook_host_allowlist: Vec::new(),
        users_gateway: Some((
            url.join("gateway/")?,
            SecretString::from(GATEWAY_TOKEN.to_string()),
        )),
    };
    let worker = Worker::new(db.clone(), clock, &inventory, Settings::default())?;
    // Passes back to back: the spawned loop waits `poll_every` only after a pass that found
    // less than a batch, so a full queue drains at this pace.
    let started = Instant::now();
    let mut done = 0;
    loop {
        let report = worker.run_once().await?;
        done += report.done;
        if report.worked() == 0 || report.paused {
            break;
        }
    }
    let worker_time = started.elapsed();
    let worker_calls = simulator.requests();
    anyhow::ensure!(
        done == plan.jobs(),
        "only {done} of {} jobs ended done",
        plan.jobs()
    );

    let (bare_calls, bare_time) = bare(&plan, Settings::default().batch).await?;

    let per_second = done as f64 / worker_time.as_secs_f64();
    let per_job_ms = |time: std::time::Duration| time.as_secs_f64() * 1000.0 / done as f64;
    // Debug builds are several times slower; say which one made the numbers.
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!("build: {build}");
    println!(
        "jobs: {} ({} quarantines, {} permission removals)",
        plan.jobs(),
        plan.quarantines,
        plan.users
    );
    println!(
        "seed (campaign, items, apply):  {:.2} s",
        seed_time.as_secs_f64()
    );
    println!(
        "worker:      {done} jobs in {:.2} s = {per_second:.0} jobs/s ({:.2} ms a job, {worker_calls} HTTP calls)",
        worker_time.as_secs_f64(),
        per_job_ms(worker_time)
    );
    println!(
        "bare calls:  {bare_calls} HTTP calls in {:.2} s ({:.2} ms a job)",
        bare_time.as_secs_f64(),
        per_job_ms(bare_time)
    );
    println!(
        "worker overhead: {:.2} ms a job ({:.1}x the bare calls)",
        per_job_ms(worker_time.saturating_sub(bare_time)),
        worker_time.as_secs_f64() / bare_time.as_secs_f64().max(f64::EPSILON)
    );
    match peak_rss_mib() {
        Some(mib) => println!("peak memory (VmHWM):  {mib:.1} MiB"),
        None => println!("peak memory:          unavailable on this system"),
    }
    db.close().await;
    Ok(())
}

/// The calls the worker makes for the plan, without the worker: per quarantine a read and
/// the edit, per permission the gateway write, and the user list once per `batch` jobs (the
/// worker reads it once a pass). Returns the calls made and the time they took.
async fn bare(plan: &Plan, batch: usize) -> anyhow::Result<(u64, std::time::Duration)> {
    let (simulator, url) = simulator(plan).await?;
    let client = reqwest::Client::new();
    let gateway = url.join("gateway/")?;
    let check = |response: reqwest::Response| -> anyhow::Result<()> {
        anyhow::ensure!(
            response.status().is_success(),
            "{}: {}",
            response.url().path(),
            response.status()
        );
        Ok(())
    };
    let started = Instant::now();
    let mut jobs = 0;
    for index in 0..plan.quarantines.max(plan.users) {
        if index < plan.quarantines {
            if jobs % batch == 0 {
                let list = client
                    .get(gateway.join("users")?)
                    .bearer_auth(GATEWAY_TOKEN)
                    .send()
                    .await?;
                check(list)?;
            }
            jobs += 1;
            let server = url.join(&format!("servers/{}", plan.server_id(index)))?;
            let read = client
                .get(server.clone())
                .header("X-Postmark-Account-Token", ACCOUNT_TOKEN)
                .header("Accept", "application/json")
                .send()
                .await?;
            check(read)?;
            let edit = client
                .put(server)
                .header("X-Postmark-Account-Token", ACCOUNT_TOKEN)
                .header("Accept", "application/json")
                .json(&json!({
                    "Name": format!("[revoked 2026-01-01] {}", Plan::server_name(index)),
                    "SmtpApiActivated": false, "InboundHookUrl": "", "BounceHookUrl": "",
                    "OpenHookUrl": "", "DeliveryHookUrl": "", "ClickHookUrl": "",
                }))
                .send()
                .await?;
            check(edit)?;
        }
        if index < plan.users {
            jobs += 1;
            let path = format!(
                "users/{}/servers/{}",
                Plan::user_email(index),
                plan.user_servers(index).0
            );
            let write = client
                .put(gateway.join(&path)?)
                .bearer_auth(GATEWAY_TOKEN)
                .json(&json!({ "permission": null }))
                .send()
                .await?;
            check(write)?;
        }
    }
    Ok((simulator.requests(), started.elapsed()))
}

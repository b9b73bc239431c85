//! Benchmarks behind `postmark-access-review bench …`.
//!
//! `bench sync` times a full inventory sync of a large simulated account and a large users
//! import, and reports peak memory; `bench campaign` a launch and the review queue;
//! `bench revocations` the revocation worker against the same HTTP calls made bare;
//! `bench export` the streamed audit-log CSV against `sqlite3 -csv`; `bench audit` the Audit
//! page's search at a million events; `bench load` many reviewers deciding at once. Numbers, not pass/fail: run them with `--release` and
//! compare against the targets in the README.
//! [`jobs`] is the revocation queue `bench revocations` and the crash test share.

pub mod audit;
pub mod campaign;
pub mod export;
pub mod jobs;
pub mod load;
pub mod revocations;

use std::{fmt::Write as _, sync::Arc, time::Instant};

use anyhow::Context as _;
use secrecy::SecretString;

use crate::{
    audit::Actor,
    clock::SystemClock,
    config::{DatabaseConfig, InventoryConfig},
    db::Db,
    inventory::{service::InventoryService, users, users_csv, Trigger},
    postmark::{simulator::Simulator, ServerInfo},
};

/// Peak resident memory of this process so far, from Linux's `/proc/self/status`.
pub(crate) fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Syncs `servers` servers from a local simulator, then imports `users` users with two
/// permissions each, into a fresh SQLite database under the system temp folder.
/// Snapshot versions stored, and the SQLite database's size in bytes (pages in use).
async fn storage(db: &Db) -> anyhow::Result<(i64, i64)> {
    let (versions,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM snapshot_versions")
        .fetch_one(db.pool())
        .await?;
    let (pages,): (i64,) = sqlx::query_as("SELECT page_count FROM pragma_page_count()")
        .fetch_one(db.pool())
        .await?;
    let (size,): (i64,) = sqlx::query_as("SELECT page_size FROM pragma_page_size()")
        .fetch_one(db.pool())
        .await?;
    Ok((versions, pages * size))
}

pub async fn sync(servers: usize, users_count: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("par-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = Db::connect(&DatabaseConfig {
        url: SecretString::from(format!("sqlite://{}", dir.join("bench.db").display())),
        max_connections: 5,
    })
    .await?;
    db.migrate().await?;

    let simulator = Simulator::new("bench-account-token");
    for i in 0..servers {
        let id = 100_000 + i as i64;
        let token = format!("bench-token-{id}");
        let mut server = ServerInfo::sample(id, &format!("bench server {i}"), &[&token]);
        if i % 3 == 0 {
            server.bounce_hook_url = Some(format!("https://hooks{}.example.com/b", i % 7));
        }
        simulator.add_server(server);
        simulator.set_sent(id, (i % 500) as i64);
    }
    let url = simulator.spawn(0).await?;
    let inventory = Arc::new(InventoryService::new(InventoryConfig {
        snapshot_retention_days: crate::config::DEFAULT_SNAPSHOT_RETENTION_DAYS,
        api_url: url,
        account_token: Some(SecretString::from("bench-account-token".to_string())),
        sync_interval: None,
        webhook_host_allowlist: vec![],
        users_gateway: None,
    })?);
    let clock = SystemClock;
    let actor = Actor::system("bench");

    let started = Instant::now();
    let first = inventory
        .sync(&db, &clock, Trigger::Cli, &actor, &|_| {})
        .await
        .map_err(|e| anyhow::anyhow!("first sync failed: {e}"))?;
    let first_sync = started.elapsed();

    let (versions_before, bytes_before) = storage(&db).await?;
    let started = Instant::now();
    inventory
        .sync(&db, &clock, Trigger::Cli, &actor, &|_| {})
        .await
        .map_err(|e| anyhow::anyhow!("second sync failed: {e}"))?;
    let second_sync = started.elapsed();
    let (versions_after, bytes_after) = storage(&db).await?;

    // One server in a hundred renamed: what a resync with some change costs and stores.
    for i in (0..servers).step_by(100) {
        let id = 100_000 + i as i64;
        simulator.update_server(id, |s| s.name = format!("bench server {i} renamed"));
    }
    let started = Instant::now();
    let third = inventory
        .sync(&db, &clock, Trigger::Cli, &actor, &|_| {})
        .await
        .map_err(|e| anyhow::anyhow!("third sync failed: {e}"))?;
    let third_sync = started.elapsed();
    let (versions_third, bytes_third) = storage(&db).await?;

    let mut csv = String::from("email,name,role,status,invited_at,server_id,permission\n");
    for u in 0..users_count {
        for k in 0..2 {
            let server = 100_000 + ((u * 7 + k * 13) % servers.max(1)) as i64;
            let _ = writeln!(
                csv,
                "user{u}@example.com,User {u},Server Access,active,,{server},Server Viewer"
            );
        }
    }
    let started = Instant::now();
    let known = crate::inventory::db::server_ids(&db).await?;
    let records = users_csv::parse(csv.as_bytes(), &known)
        .map_err(|r| anyhow::anyhow!("bench CSV refused: {:?}", r.errors.first()))?;
    let imported = users::import(&db, &clock, &actor, Trigger::Cli, "bench.csv", records).await?;
    let import_time = started.elapsed();

    // The inventory pages' queries at this size (the pages render one of these per request).
    let today = time::OffsetDateTime::UNIX_EPOCH.date();
    let mut page_times = Vec::new();
    for (label, query) in [
        (
            "servers, page 1 by name",
            crate::inventory::ServerQuery::default(),
        ),
        (
            "servers, search + flag + sort",
            crate::inventory::ServerQuery {
                search: Some("server 99".into()),
                flag: Some("no-sends".into()),
                sort: Some("sent".into()),
                page: Some(1),
            },
        ),
        (
            "servers, last page",
            crate::inventory::ServerQuery {
                page: Some(usize::MAX),
                ..Default::default()
            },
        ),
    ] {
        let started = Instant::now();
        crate::inventory::lists::servers(&db, &query, &[], true).await?;
        page_times.push((label, started.elapsed()));
    }
    let started = Instant::now();
    crate::inventory::lists::users(&db, &Default::default(), today).await?;
    page_times.push(("users, page 1", started.elapsed()));

    println!("servers synced:           {}", first.servers);
    println!(
        "first sync (all added):   {:.2} s",
        first_sync.as_secs_f64()
    );
    println!(
        "second sync (unchanged):  {:.2} s",
        second_sync.as_secs_f64()
    );
    println!(
        "  stored by it:           {} snapshot versions, {:+} KiB of database",
        versions_after - versions_before,
        (bytes_after - bytes_before) / 1024
    );
    println!(
        "third sync ({} changed):  {:.2} s",
        third.changed,
        third_sync.as_secs_f64()
    );
    println!(
        "  stored by it:           {} snapshot versions, {:+} KiB of database",
        versions_third - versions_after,
        (bytes_third - bytes_after) / 1024
    );
    println!(
        "users import ({} users, {} permissions): {:.2} s",
        imported.users,
        users_count * 2,
        import_time.as_secs_f64()
    );
    for (label, time) in page_times {
        println!("query {label}: {:.1} ms", time.as_secs_f64() * 1000.0);
    }
    match peak_rss_mib() {
        Some(mib) => println!("peak memory (VmHWM):      {mib:.1} MiB"),
        None => println!("peak memory:              unavailable on this system"),
    }
    db.close().await;
    std::fs::remove_dir_all(&dir).with_context(|| format!("could not remove {}", dir.display()))?;
    Ok(())
}

//! `postmark-access-review bench export`: seeds a SQLite database with a million audit events
//! of realistic size, exports them through the same streamed response `/exports/audit.csv`
//! sends (keyset pages into `Body::from_stream`, read back as the body's data stream), and in
//! the same run times `sqlite3 -csv` writing the same columns of the same table. Prints
//! events/s, MB/s, the ratio to `sqlite3` and the peak memory of the export.
//!
//! The events are inserted with one SQL statement per 100,000 rows, not through the audit
//! writer: the benchmark measures the export, and the writer's per-event lock and hash would
//! make seeding take minutes. Their hashes are random, so the chain does not verify; sizes and
//! shapes (a person or system actor, a dotted action, JSON details with quotes and commas,
//! two 64-digit hashes) match real events.

use std::{io::Write as _, path::Path, process::Command, time::Instant};

use anyhow::Context as _;
use futures::StreamExt as _;
use secrecy::SecretString;

use super::peak_rss_mib;
use crate::{
    config::DatabaseConfig,
    db::Db,
    export::{
        self,
        audit::{AuditFilter, AuditSource, HEADER},
    },
};

/// Rows per seeding statement.
const SEED_BATCH: usize = 100_000;

/// Runs the benchmark over `events` events in a fresh SQLite file under the system temp folder.
pub async fn run(events: usize, page_rows: i64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("par-bench-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(&dir, events, page_rows).await;
    std::fs::remove_dir_all(&dir).with_context(|| format!("could not remove {}", dir.display()))?;
    result
}

pub(crate) async fn seed(db: &Db, events: usize) -> anyhow::Result<()> {
    let mut start = 1;
    while start <= events {
        let end = (start + SEED_BATCH - 1).min(events);
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
             INSERT INTO audit_events (seq, occurred_at, actor_kind, actor_issuer, actor_sub, \
                 actor_email, action, subject, details, prev_hash, hash) \
             SELECT i, \
               strftime('%Y-%m-%dT%H:%M:%f', 1767225600 + i * 20, 'unixepoch') || '000Z', \
               CASE WHEN i % 4 = 0 THEN 'system' ELSE 'person' END, \
               CASE WHEN i % 4 = 0 THEN NULL ELSE 'https://idp.example.com/oauth2/default' END, \
               CASE WHEN i % 4 = 0 THEN 'revocation-worker' ELSE '00u' || (i % 997) || 'abcdEFGH' END, \
               CASE WHEN i % 4 = 0 THEN NULL ELSE 'reviewer' || (i % 997) || '@example.com' END, \
               CASE i % 5 WHEN 0 THEN 'review.decided' WHEN 1 THEN 'revocation.done' \
                 WHEN 2 THEN 'auth.signed_in' WHEN 3 THEN 'notification.sent' \
                 ELSE 'inventory.synced' END, \
               'review_item:' || i, \
               '{\"campaign_id\":' || (i / 5000) || ',\"decision\":\"revoke\",\"item_id\":' || i \
                 || ',\"justification\":\"Left the team in March, access no longer needed\",' \
                 || '\"reviewer\":\"reviewer' || (i % 997) || '@example.com\",\"version\":1}', \
               lower(hex(randomblob(32))), lower(hex(randomblob(32))) \
             FROM n",
        )
        .bind(start as i64)
        .bind(end as i64)
        .execute(db.pool())
        .await?;
        start = end + 1;
    }
    Ok(())
}

/// Resets the process's peak memory (VmHWM) to its current size, so the figure printed
/// after the export is the export's; answers whether Linux allowed it.
fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

async fn measure(dir: &Path, events: usize, page_rows: i64) -> anyhow::Result<()> {
    let file = dir.join("bench.db");
    let db = Db::connect(&DatabaseConfig {
        url: SecretString::from(format!("sqlite://{}", file.display())),
        max_connections: 5,
    })
    .await?;
    db.migrate().await?;
    let started = Instant::now();
    seed(&db, events).await?;
    let seed_time = started.elapsed();
    let reset = reset_peak_memory();

    // The handler's path: the source, the streamed response, its body read chunk by chunk.
    let out_path = dir.join("export.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&out_path)?);
    let started = Instant::now();
    let source = AuditSource::new(db.clone(), AuditFilter::default())
        .await?
        .with_page_rows(page_rows);
    let mut body = export::response(source, "bench.csv")
        .into_body()
        .into_data_stream();
    let mut bytes = 0usize;
    let mut records = 0usize;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| anyhow::anyhow!("export failed: {e}"))?;
        bytes += chunk.len();
        // Records end with CRLF and the details never hold a line break, so counting LF counts
        // them. memchr: a byte-pair scan took 0.16 s of a 1.3 s export at a million events.
        records += memchr::memchr_iter(b'\n', &chunk).count();
        out.write_all(&chunk)?;
    }
    out.flush()?;
    let export_time = started.elapsed();
    let peak = peak_rss_mib();
    anyhow::ensure!(
        records == events + 1,
        "the export has {records} records, expected {} (header and events)",
        events + 1
    );
    db.close().await;

    let sqlite3 = time_sqlite3(&file, &dir.join("sqlite3.csv"))?;

    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let mb = bytes as f64 / 1_000_000.0;
    let secs = export_time.as_secs_f64();
    println!("build: {build}");
    println!(
        "events: {events} (seeded in {:.1} s)",
        seed_time.as_secs_f64()
    );
    println!("page size: {page_rows} rows");
    println!(
        "export (streamed response): {secs:.2} s = {:.0} events/s, {:.1} MB/s ({mb:.1} MB)",
        events as f64 / secs,
        mb / secs
    );
    match sqlite3 {
        Some((time, size)) => {
            let s = time.as_secs_f64();
            println!(
                "sqlite3 -csv, same columns:  {s:.2} s = {:.0} events/s, {:.1} MB/s ({:.1} MB)",
                events as f64 / s,
                size as f64 / 1_000_000.0 / s,
                size as f64 / 1_000_000.0
            );
            println!("ratio (export / sqlite3):    {:.2}x", secs / s);
        }
        None => println!("sqlite3: not installed (apt-get install -y sqlite3); no comparison"),
    }
    match (peak, reset) {
        (Some(mib), true) => println!("peak memory during the export (VmHWM): {mib:.1} MiB"),
        (Some(mib), false) => {
            println!("peak memory (VmHWM, includes seeding: reset refused): {mib:.1} MiB")
        }
        (None, _) => println!("peak memory: unavailable on this system"),
    }
    Ok(())
}

/// `sqlite3 -csv -header DB 'SELECT <the export's columns> …' > out`: its time and output size,
/// or `None` when `sqlite3` is not installed.
fn time_sqlite3(db: &Path, out: &Path) -> anyhow::Result<Option<(std::time::Duration, u64)>> {
    let query = format!(
        "SELECT {} FROM audit_events ORDER BY seq",
        HEADER.join(", ")
    );
    let started = Instant::now();
    // A busy timeout: the file's last writer may still be letting go of its lock (seen as
    // "database is locked" under load), and waiting a moment is what any reader would do.
    let status = Command::new("sqlite3")
        .arg("-csv")
        .arg("-header")
        .arg("-cmd")
        .arg(".timeout 30000")
        .arg(db)
        .arg(&query)
        .stdout(std::fs::File::create(out)?)
        .status();
    let elapsed = started.elapsed();
    match status {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).context("could not run sqlite3"),
        Ok(status) => {
            anyhow::ensure!(status.success(), "sqlite3 failed: {status}");
            Ok(Some((elapsed, std::fs::metadata(out)?.len())))
        }
    }
}

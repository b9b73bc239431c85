//! `postmark-access-review bench audit`: seeds a million audit events (the same rows as
//! `bench export`, on SQLite or an empty PostgreSQL database), then times the Audit page's
//! query ([`search_db::page`], what the `audit_events` server function runs) for each kind
//! of filter and for a deep page. Prints the median of several runs in milliseconds.
//!
//! The seeded log: 1,000,000 events 20 s apart from 2026-01-01, three in four by one of 997
//! reviewers (`reviewer<N>@example.com`), one in four by `system:revocation-worker`, five
//! actions in turn, and a subject of its own each (`review_item:<seq>`).

use std::time::{Duration, Instant};

use anyhow::Context as _;
use secrecy::SecretString;

use crate::{
    audit::{
        search::{AuditQuery, Search},
        search_db,
    },
    config::DatabaseConfig,
    db::{Backend, Db},
};

/// Rows per seeding statement on PostgreSQL.
const SEED_BATCH: i64 = 100_000;

pub async fn run(events: usize, runs: usize, database_url: Option<String>) -> anyhow::Result<()> {
    match database_url {
        Some(url) => {
            let db = connect(&url).await?;
            let result = measure(&db, events, runs).await;
            db.close().await;
            result
        }
        None => {
            let dir = std::env::temp_dir().join(format!("par-bench-audit-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let url = format!("sqlite://{}", dir.join("bench.db").display());
            let result = async {
                let db = connect(&url).await?;
                let result = measure(&db, events, runs).await;
                db.close().await;
                result
            }
            .await;
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("could not remove {}", dir.display()))?;
            result
        }
    }
}

async fn connect(url: &str) -> anyhow::Result<Db> {
    let db = Db::connect(&DatabaseConfig {
        url: SecretString::from(url.to_string()),
        max_connections: 5,
    })
    .await?;
    db.migrate().await?;
    Ok(db)
}

async fn seed_postgres(db: &Db, events: usize) -> anyhow::Result<()> {
    let events = i64::try_from(events)?;
    let mut start = 1;
    while start <= events {
        let end = (start + SEED_BATCH - 1).min(events);
        sqlx::query(
            "INSERT INTO audit_events (seq, occurred_at, actor_kind, actor_issuer, actor_sub, \
                 actor_email, action, subject, details, prev_hash, hash) \
             SELECT i, \
               to_char(to_timestamp(1767225600 + i * 20) AT TIME ZONE 'UTC', \
                 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
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
               md5(random()::text) || md5(random()::text), md5(i::text) || md5(random()::text) \
             FROM generate_series($1, $2) AS i",
        )
        .bind(start)
        .bind(end)
        .execute(db.pool())
        .await?;
        start = end + 1;
    }
    // Statistics as autovacuum would gather them on a live database, and the visibility map
    // that lets index-only scans skip the table.
    sqlx::query("VACUUM ANALYZE audit_events")
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The searches timed, as the Audit page's address would carry them.
fn cases() -> Vec<(&'static str, AuditQuery)> {
    let q = AuditQuery::default;
    vec![
        ("no filter, newest page", q()),
        (
            "actor reviewer42@ (one person, 0.08%)",
            AuditQuery {
                actor: Some("reviewer42@".into()),
                ..q()
            },
        ),
        (
            "actor system:revocation (25%)",
            AuditQuery {
                actor: Some("system:revocation".into()),
                ..q()
            },
        ),
        (
            "actor example.com (997 people: substring)",
            AuditQuery {
                actor: Some("example.com".into()),
                ..q()
            },
        ),
        (
            "action review.decided (exact, 20%)",
            AuditQuery {
                action: Some("review.decided".into()),
                ..q()
            },
        ),
        (
            "action prefix revocation.",
            AuditQuery {
                action: Some("revocation.".into()),
                ..q()
            },
        ),
        (
            "subject review_item:500000 (exact)",
            AuditQuery {
                subject: Some("review_item:500000".into()),
                ..q()
            },
        ),
        (
            "subject prefix review_item:12345* (111 subjects)",
            AuditQuery {
                subject: Some("review_item:12345*".into()),
                ..q()
            },
        ),
        (
            "time range, one day (2026-04-10)",
            AuditQuery {
                from: Some("2026-04-10".into()),
                to: Some("2026-04-10".into()),
                ..q()
            },
        ),
        (
            "time range, one month (2026-03)",
            AuditQuery {
                from: Some("2026-03-01".into()),
                to: Some("2026-03-31".into()),
                ..q()
            },
        ),
        (
            "action + actor + day",
            AuditQuery {
                action: Some("review.decided".into()),
                actor: Some("reviewer42@".into()),
                from: Some("2026-02-01".into()),
                to: Some("2026-06-30".into()),
                ..q()
            },
        ),
        (
            "free text revocation (common)",
            AuditQuery {
                q: Some("revocation".into()),
                ..q()
            },
        ),
        (
            "free text reviewer42@ (0.08%)",
            AuditQuery {
                q: Some("reviewer42@".into()),
                ..q()
            },
        ),
        (
            "free text no-such-thing (no match: reads every row)",
            AuditQuery {
                q: Some("no-such-thing".into()),
                ..q()
            },
        ),
    ]
}

/// The `before` of page `n` (1-based) of `query`, found by paging from the newest.
async fn page_start(db: &Db, query: &AuditQuery, n: usize) -> anyhow::Result<AuditQuery> {
    let mut query = query.clone();
    for _ in 1..n {
        let page = search_db::page(db, &parse(&query)?).await?;
        query.before = Some(
            page.older
                .context("the log ended before the page asked for")?,
        );
    }
    Ok(query)
}

fn parse(query: &AuditQuery) -> anyhow::Result<Search> {
    Search::parse(query).map_err(|e| anyhow::anyhow!("bench query refused: {e}"))
}

/// Median time of `runs` reads of the page (after one untimed read), and what it showed.
async fn time(db: &Db, query: &AuditQuery, runs: usize) -> anyhow::Result<(Duration, String)> {
    let search = parse(query)?;
    let first = search_db::page(db, &search).await?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        search_db::page(db, &search).await?;
        times.push(started.elapsed());
    }
    times.sort();
    let shown = format!(
        "{} rows{}, {:?}",
        first.events.len(),
        if first.older.is_some() {
            " + older"
        } else {
            ""
        },
        first.matching
    );
    Ok((times[times.len() / 2], shown))
}

async fn measure(db: &Db, events: usize, runs: usize) -> anyhow::Result<()> {
    let (existing,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_events")
        .fetch_one(db.pool())
        .await?;
    anyhow::ensure!(
        existing == 0,
        "audit_events already holds {existing} events: give an empty database"
    );
    let started = Instant::now();
    match db.backend() {
        Backend::Sqlite => super::export::seed(db, events).await?,
        Backend::Postgres => seed_postgres(db, events).await?,
    }
    let seed_time = started.elapsed();

    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!("build: {build}; database: {}", db.backend().name());
    println!(
        "events: {events} (seeded in {:.1} s); median of {runs} runs",
        seed_time.as_secs_f64()
    );
    let mut timed: Vec<(String, AuditQuery)> = cases()
        .into_iter()
        .map(|(label, query)| (label.to_string(), query))
        .collect();
    for (label, query) in [
        ("100th page, no filter", AuditQuery::default()),
        (
            "100th page, action review.decided",
            AuditQuery {
                action: Some("review.decided".into()),
                ..AuditQuery::default()
            },
        ),
    ] {
        timed.push((label.to_string(), page_start(db, &query, 100).await?));
    }
    for (label, query) in timed {
        let (median, shown) = time(db, &query, runs).await?;
        println!(
            "{:>8.1} ms  {label}  [{shown}]",
            median.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}

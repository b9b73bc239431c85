//! `postmark-access-review bench load`: many signed-in reviewers open their queues and decide
//! items at once, against the app served on a local port (a temporary SQLite file, or an
//! empty PostgreSQL database with `--database-url`). Afterwards every decision the app
//! accepted must be in the database and in the audit log exactly once. In the same run, the
//! same concurrency against a bare axum handler and against the queue page alone gives the
//! comparison, and a reviewer with `--queue` items gives the queue page's server time.

use std::{
    collections::{HashMap, HashSet},
    net::{Ipv4Addr, SocketAddr},
    path::Path,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use secrecy::SecretString;
use serde_json::{json, Value};
use tower_sessions::{session::Record, SessionStore as _};

use super::campaign::{fill_inventory, input, serve, QUEUE_REVIEWER};
use crate::{
    audit::Actor,
    auth::session::{SessionUser, Store, USER_KEY},
    campaigns::{
        db::create,
        lifecycle::launch,
        validate::{validate, Known},
    },
    clock::{Clock, SystemClock},
    config::DatabaseConfig,
    db::Db,
};

/// What `bench load` is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub reviewers: usize,
    pub seconds: u64,
    /// Items per load reviewer, about.
    pub items: usize,
    /// Items of the one reviewer whose queue page is timed alone.
    pub queue: usize,
    pub database_url: Option<String>,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    anyhow::ensure!(options.reviewers > 0, "--reviewers must be at least 1");
    let dir = std::env::temp_dir().join(format!("par-bench-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(&dir, &options).await;
    std::fs::remove_dir_all(&dir).with_context(|| format!("could not remove {}", dir.display()))?;
    result
}

/// The database and the session store's URL: a SQLite file in `dir`, or the given database.
async fn open(dir: &Path, url: Option<&str>) -> anyhow::Result<(Db, String)> {
    let (url, sessions) = match url {
        Some(url) => (url.to_string(), url.to_string()),
        None => (
            format!("sqlite://{}", dir.join("load.db").display()),
            format!("sqlite://{}", dir.join("sessions.db").display()),
        ),
    };
    let db = Db::connect(&DatabaseConfig {
        url: SecretString::from(url),
        max_connections: 10,
    })
    .await?;
    db.migrate().await?;
    let (existing,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM review_items")
        .fetch_one(db.pool())
        .await?;
    anyhow::ensure!(
        existing == 0,
        "review_items already holds {existing} rows: give an empty database"
    );
    Ok((db, sessions))
}

fn reviewer(n: usize) -> String {
    format!("manager{n}@example.com")
}

/// A session for `email`, written to the store as the sign-in would: the cookie's value.
async fn session_for(store: &Store, db: &Db, email: &str) -> anyhow::Result<String> {
    let now = SystemClock.now();
    let (person_id,): (i64,) = sqlx::query_as(
        "INSERT INTO people (issuer, subject, email, name, first_sign_in_at, last_sign_in_at) \
         VALUES ('bench', $1, $1, $1, $2, $2) RETURNING id",
    )
    .bind(email)
    .bind(crate::clock::format_timestamp(now))
    .fetch_one(db.pool())
    .await?;
    let user = SessionUser {
        person_id,
        issuer: "bench".into(),
        subject: email.into(),
        email: email.into(),
        name: email.into(),
        roles: Vec::new(),
        email_verified: Some(true),
        groups: Vec::new(),
        signed_in_at: now.unix_timestamp(),
        id_token: String::new(),
    };
    let mut record = Record {
        id: Default::default(),
        data: HashMap::from([(USER_KEY.to_string(), serde_json::to_value(&user)?)]),
        expiry_date: now + time::Duration::hours(2),
    };
    store
        .create(&mut record)
        .await
        .map_err(|e| anyhow::anyhow!("could not create a session: {e}"))?;
    Ok(format!(
        "{}={}",
        crate::auth::session::COOKIE_NAME,
        record.id
    ))
}

/// Latencies and failures of one kind of request.
#[derive(Debug, Default)]
struct Samples {
    times: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
}

impl Samples {
    fn ok(&mut self, took: Duration) {
        self.times.push(took);
    }

    fn error(&mut self, what: String) {
        self.errors += 1;
        self.first_error.get_or_insert(what);
    }

    fn merge(&mut self, other: Samples) {
        self.times.extend(other.times);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn percentile(sorted: &[Duration], p: f64) -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[index].as_secs_f64() * 1000.0
    }

    fn report(mut self, label: &str, seconds: f64) {
        self.times.sort();
        println!(
            "  {label:<26} {:>8} ok {:>9.1}/s  p50 {:>7.1} ms  p99 {:>7.1} ms  errors {}",
            self.times.len(),
            self.times.len() as f64 / seconds,
            Self::percentile(&self.times, 0.5),
            Self::percentile(&self.times, 0.99),
            self.errors,
        );
        if let Some(error) = self.first_error {
            println!("    first error: {error}");
        }
    }
}

/// A GET that must answer 200; its time, or what went wrong.
async fn get(client: &reqwest::Client, url: &str, cookie: &str) -> Result<Duration, String> {
    let started = Instant::now();
    let response = client
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = response.status();
    response
        .bytes()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if status != 200 {
        return Err(format!("GET {url}: {status}"));
    }
    Ok(started.elapsed())
}

/// `concurrency` clients sending GETs to `url(n)` back to back for `length`.
async fn hammer<F>(
    client: &reqwest::Client,
    concurrency: usize,
    length: Duration,
    url: F,
) -> Samples
where
    F: Fn(usize) -> (String, String),
{
    let until = Instant::now() + length;
    let tasks: Vec<_> = (0..concurrency)
        .map(|n| {
            let client = client.clone();
            let (url, cookie) = url(n);
            tokio::spawn(async move {
                let mut samples = Samples::default();
                while Instant::now() < until {
                    match get(&client, &url, &cookie).await {
                        Ok(took) => samples.ok(took),
                        Err(error) => samples.error(error),
                    }
                }
                samples
            })
        })
        .collect();
    let mut all = Samples::default();
    for task in tasks {
        if let Ok(samples) = task.await {
            all.merge(samples);
        }
    }
    all
}

/// What one reviewer did during the mixed load.
#[derive(Default)]
struct Reviewer {
    pages: Samples,
    fetches: Samples,
    decisions: Samples,
    /// Items whose decision the app accepted (200).
    accepted: Vec<i64>,
}

/// A reviewer's loop: open the queue page, fetch the undecided items as the page's client
/// does, approve the first one; until `until`.
async fn review(
    client: reqwest::Client,
    base: url::Url,
    cookie: String,
    until: Instant,
) -> Reviewer {
    let mut me = Reviewer::default();
    let origin = base.origin().ascii_serialization();
    let page = format!("{base}reviews");
    let (queue_url, decide_url) = (
        format!("{base}api/reviews_queue"),
        format!("{base}api/reviews_decide"),
    );
    while Instant::now() < until {
        match get(&client, &page, &cookie).await {
            Ok(took) => me.pages.ok(took),
            Err(error) => me.pages.error(error),
        }
        let started = Instant::now();
        let queue = client
            .post(&queue_url)
            .header("cookie", &cookie)
            .header("origin", &origin)
            .json(&json!({ "query": { "status": "undecided" } }))
            .send()
            .await;
        let item = match queue {
            Ok(response) if response.status() == 200 => match response.json::<Value>().await {
                Ok(queue) => {
                    me.fetches.ok(started.elapsed());
                    queue["groups"]
                        .get(0)
                        .and_then(|group| group[1].get(0))
                        .map(|item| (item["id"].as_i64(), item["version"].as_i64()))
                }
                Err(error) => {
                    me.fetches.error(format!("reviews_queue: {error}"));
                    None
                }
            },
            Ok(response) => {
                me.fetches
                    .error(format!("reviews_queue: {}", response.status()));
                None
            }
            Err(error) => {
                me.fetches.error(format!("reviews_queue: {error}"));
                None
            }
        };
        // Nothing left to decide: this reviewer only opens pages from now on.
        let Some((Some(id), Some(version))) = item else {
            continue;
        };
        let started = Instant::now();
        let decided = client
            .post(&decide_url)
            .header("cookie", &cookie)
            .header("origin", &origin)
            .form(&[
                ("item_id", id.to_string()),
                ("decision", "approve".to_string()),
                ("justification", "bench load".to_string()),
                ("version", version.to_string()),
            ])
            .send()
            .await;
        match decided {
            Ok(response) if response.status() == 200 => {
                me.decisions.ok(started.elapsed());
                me.accepted.push(id);
            }
            Ok(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                me.decisions
                    .error(format!("reviews_decide {id}: {status} {body}"));
            }
            Err(error) => me.decisions.error(format!("reviews_decide {id}: {error}")),
        }
    }
    me
}

/// Plain axum handlers on a free port, for the comparison, without sessions, middleware or
/// rendering: `/` answers "ok"; `/queue/{n}` answers reviewer `n`'s first queue page as JSON
/// (the queue's own queries); `/page-data/{n}` answers that page with its context, all the
/// data the queue page shows (what its server function answers).
async fn bare(db: Db) -> anyhow::Result<String> {
    use axum::{
        extract::{Path as UrlPath, State},
        http::StatusCode,
        routing::get,
        Json,
    };
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
    let address = listener.local_addr()?;
    let router = axum::Router::new()
        .route("/", get(|| async { "ok" }))
        .route(
            "/queue/{n}",
            get(
                |State(db): State<Db>, UrlPath(n): UrlPath<usize>| async move {
                    crate::reviews::db::queue(&db, &reviewer(n), &Default::default())
                        .await
                        .map(Json)
                        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
                },
            ),
        )
        .route(
            "/page-data/{n}",
            get(
                |State(db): State<Db>, UrlPath(n): UrlPath<usize>| async move {
                    crate::reviews::db::queue_with_context(
                        &db,
                        &reviewer(n),
                        &Default::default(),
                        &[],
                    )
                    .await
                    .map(Json)
                    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
                },
            ),
        )
        .with_state(db);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(format!("http://{address}/"))
}

/// Median of ten GETs of `url`.
async fn median_get(client: &reqwest::Client, url: &str, cookie: &str) -> anyhow::Result<f64> {
    let mut times = Vec::new();
    for _ in 0..10 {
        times.push(get(client, url, cookie).await.map_err(anyhow::Error::msg)?);
    }
    times.sort();
    Ok(times[times.len() / 2].as_secs_f64() * 1000.0)
}

async fn measure(dir: &Path, options: &Options) -> anyhow::Result<()> {
    let (db, sessions) = open(dir, options.database_url.as_deref()).await?;
    let engine = if options.database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    // Three items per user (role, two permissions): enough users for every load reviewer's
    // share and for the timed reviewer's queue.
    let queue_users = options.queue / 3;
    let users = queue_users + options.reviewers * options.items.div_ceil(3);
    fill_inventory(&db, users, queue_users, options.reviewers).await?;
    let clock = SystemClock;
    let actor = Actor::system("bench");
    let known = Known::load(&db).await?;
    let id = create(&db, &clock, &actor, "bench", &validate(&input(), &known)?).await?;
    let launched = launch(&db, &clock, &actor, "bench", id, &[]).await?;

    let base = serve(&db, dir, sessions.clone()).await?;
    let store = Store::connect(&DatabaseConfig {
        url: SecretString::from(sessions),
        max_connections: 5,
    })
    .await?;
    let mut cookies = Vec::with_capacity(options.reviewers);
    for n in 0..options.reviewers {
        cookies.push(session_for(&store, &db, &reviewer(n)).await?);
    }
    let timed_cookie = session_for(&store, &db, QUEUE_REVIEWER).await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(options.reviewers * 2)
        .build()?;

    let (queue_items,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM review_items WHERE reviewer_email = $1")
            .bind(QUEUE_REVIEWER)
            .fetch_one(db.pool())
            .await?;
    let first_page = median_get(&client, &format!("{base}reviews"), &timed_cookie).await?;
    let last_page = median_get(&client, &format!("{base}reviews?page=1000"), &timed_cookie).await?;
    let page_bytes = client
        .get(format!("{base}reviews"))
        .header("cookie", &timed_cookie)
        .send()
        .await?
        .bytes()
        .await?
        .len();
    let mut query_times = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        crate::reviews::db::queue(&db, QUEUE_REVIEWER, &Default::default()).await?;
        query_times.push(started.elapsed());
    }
    query_times.sort();

    println!(
        "{engine}: campaign of {} items; {} reviewers",
        launched.items, options.reviewers
    );
    println!("queue of one reviewer with {queue_items} items (100 a page), median of 10:");
    println!(
        "  queue query (page 1):        {:.1} ms",
        query_times[5].as_secs_f64() * 1000.0
    );
    println!("  GET /reviews, page 1:        {first_page:.1} ms");
    println!("  GET /reviews, last page:     {last_page:.1} ms");
    println!(
        "  page 1's HTML:               {:.1} KiB, uncompressed",
        page_bytes as f64 / 1024.0
    );

    let comparison = Duration::from_secs(options.seconds.clamp(1, 10));
    let bare_url = bare(db.clone()).await?;
    let bare = hammer(&client, options.reviewers, comparison, |_| {
        (bare_url.clone(), String::new())
    })
    .await;
    let bare_queue = hammer(&client, options.reviewers, comparison, |n| {
        (format!("{bare_url}queue/{n}"), String::new())
    })
    .await;
    let bare_data = hammer(&client, options.reviewers, comparison, |n| {
        (format!("{bare_url}page-data/{n}"), String::new())
    })
    .await;
    let pages = hammer(&client, options.reviewers, comparison, |n| {
        (format!("{base}reviews"), cookies[n].clone())
    })
    .await;
    let seconds = comparison.as_secs_f64();
    let rate = |samples: &Samples| samples.times.len() as f64 / seconds;
    let (bare_rate, queue_rate, data_rate, page_rate) = (
        rate(&bare),
        rate(&bare_queue),
        rate(&bare_data),
        rate(&pages),
    );
    println!(
        "{} concurrent clients for {seconds:.0} s each:",
        options.reviewers
    );
    bare.report("bare handler, \"ok\"", seconds);
    bare_queue.report("bare handler, queue JSON", seconds);
    bare_data.report("bare handler, page's data", seconds);
    pages.report("GET /reviews", seconds);
    println!(
        "  queue page / bare \"ok\":        {:.3}\n  \
         queue page / bare queue JSON:   {:.2}\n  \
         queue page / bare page's data:  {:.2} (target: at least 0.25)",
        page_rate / bare_rate,
        page_rate / queue_rate,
        page_rate / data_rate,
    );

    let length = Duration::from_secs(options.seconds);
    let until = Instant::now() + length;
    let started = Instant::now();
    let tasks: Vec<_> = cookies
        .iter()
        .map(|cookie| tokio::spawn(review(client.clone(), base.clone(), cookie.clone(), until)))
        .collect();
    let mut all = Reviewer::default();
    for task in tasks {
        let one = task.await.context("a reviewer task failed")?;
        all.pages.merge(one.pages);
        all.fetches.merge(one.fetches);
        all.decisions.merge(one.decisions);
        all.accepted.extend(one.accepted);
    }
    let took = started.elapsed().as_secs_f64();
    let requests = all.pages.times.len() + all.fetches.times.len() + all.decisions.times.len();
    let errors = all.pages.errors + all.fetches.errors + all.decisions.errors;
    println!(
        "{} reviewers opening their queues and deciding for {took:.0} s: {requests} requests, \
         {:.1}/s, {errors} errors",
        options.reviewers,
        requests as f64 / took
    );
    let accepted = all.accepted.clone();
    all.pages.report("GET /reviews", took);
    all.fetches.report("POST /api/reviews_queue", took);
    all.decisions.report("POST /api/reviews_decide", took);
    check(&db, &accepted).await?;
    db.close().await;
    if let Some(mib) = super::peak_rss_mib() {
        println!("peak memory (VmHWM): {mib:.1} MiB");
    }
    Ok(())
}

/// Every accepted decision is in `review_items` and has exactly one `review.decided` event,
/// and nothing else was decided.
async fn check(db: &Db, accepted: &[i64]) -> anyhow::Result<()> {
    let unique: HashSet<i64> = accepted.iter().copied().collect();
    let decided: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM review_items WHERE decision IS NOT NULL AND reviewer_email LIKE 'manager%'",
    )
    .fetch_all(db.pool())
    .await?;
    let decided: HashSet<i64> = decided.into_iter().map(|(id,)| id).collect();
    let events: Vec<(String,)> =
        sqlx::query_as("SELECT subject FROM audit_events WHERE action = 'review.decided'")
            .fetch_all(db.pool())
            .await?;
    let mut per_item: HashMap<i64, usize> = HashMap::new();
    for (subject,) in events {
        if let Some(id) = subject.strip_prefix("item:").and_then(|s| s.parse().ok()) {
            *per_item.entry(id).or_default() += 1;
        }
    }
    let lost = unique.iter().filter(|id| !decided.contains(id)).count();
    let unexpected = decided.iter().filter(|id| !unique.contains(id)).count();
    let unaudited = unique
        .iter()
        .filter(|id| !per_item.contains_key(id))
        .count();
    let doubled = per_item.values().filter(|n| **n > 1).count() + accepted.len() - unique.len();
    println!(
        "accepted decisions: {}; in the database: {}; lost: {lost}; decided but not accepted: \
         {unexpected}; without an audit event: {unaudited}; doubled: {doubled}",
        accepted.len(),
        decided.len()
    );
    match crate::audit::verify(db).await? {
        Ok(report) => println!("audit chain: intact, {} events", report.events),
        Err(broken) => anyhow::bail!("audit chain broken: {broken}"),
    }
    anyhow::ensure!(
        lost + unexpected + unaudited + doubled == 0,
        "decisions were lost or doubled"
    );
    Ok(())
}

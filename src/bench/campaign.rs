//! `postmark-access-review bench campaign`: launches a campaign of about 100,000 items on
//! SQLite and compares it with a plain bulk insert of the same rows, then times the server
//! render of the review queue for a reviewer with 5,000 items, signed in through the
//! development identity provider like a browser.

use std::{
    net::{Ipv4Addr, SocketAddr},
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use secrecy::SecretString;

use super::peak_rss_mib;
use crate::{
    application::{Application, Jobs, Startup, Storage},
    audit::Actor,
    auth::service::AuthService,
    campaigns::{
        assign::{self, Assignment},
        db::{create, get},
        lifecycle::launch,
        validate::{validate, Known},
        CampaignInput,
    },
    clock::{format_timestamp, Clock, SystemClock},
    config::{CampaignConfig, DatabaseConfig, InventoryConfig, ServerConfig},
    db::Db,
    server,
    state::RunMode,
};

/// The reviewer whose queue is timed: Rita of the development identity provider.
pub(super) const QUEUE_REVIEWER: &str = "rita.reviewer@example.com";

/// Servers in the benchmark inventory; each user holds two server permissions.
const SERVERS: i64 = 1000;

/// Rows per INSERT while filling the inventory.
const FILL_BATCH: usize = 500;

/// Fills `db` with the benchmark inventory: the first `queue_users` users are managed by
/// [`QUEUE_REVIEWER`], the rest by `managers` managers in turn (`manager{n}@example.com`).
pub(super) async fn fill_inventory(
    db: &Db,
    users: usize,
    queue_users: usize,
    managers: usize,
) -> anyhow::Result<()> {
    let now = format_timestamp(SystemClock.now());
    let mut tx = db.begin().await?;
    let (sync_id,): (i64,) = sqlx::query_as(
        "INSERT INTO syncs (trigger_kind, started_at, finished_at, status, scope) \
         VALUES ('cli', $1, $1, 'succeeded', 'servers') RETURNING id",
    )
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO syncs (trigger_kind, started_at, finished_at, status, scope) \
         VALUES ('cli', $1, $1, 'succeeded', 'users')",
    )
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    for id in 1..=SERVERS {
        sqlx::query(
            "INSERT INTO servers (postmark_id, name, smtp_api_activated, raw_email_enabled, \
             track_opens, token_count, token_fingerprints, sent_30d, first_seen_sync, \
             last_seen_sync) VALUES ($1, $2, TRUE, FALSE, FALSE, 1, '[]', $3, $4, $4)",
        )
        .bind(id)
        .bind(format!("bench server {id}"))
        .bind(id % 50)
        .bind(sync_id)
        .execute(&mut *tx)
        .await?;
    }
    let emails: Vec<String> = (0..users)
        .map(|u| format!("user{u:06}@example.com"))
        .collect();
    for chunk in emails.chunks(FILL_BATCH) {
        let mut users_sql = String::from(
            "INSERT INTO postmark_users (email, name, role, status, first_seen_sync, \
             last_seen_sync) VALUES ",
        );
        let mut permissions_sql = String::from(
            "INSERT INTO user_permissions (email, postmark_server_id, permission) VALUES ",
        );
        let mut managers_sql = String::from(
            "INSERT INTO manager_mappings (user_email, manager_email, imported_at) VALUES ",
        );
        for (i, email) in chunk.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let n: usize = email[4..10].parse().unwrap_or(0);
            users_sql.push_str(&format!(
                "{sep}('{email}', 'User {n}', 'Server Access', 'active', {sync_id}, {sync_id})"
            ));
            let (a, b) = (
                (n as i64 * 7) % SERVERS + 1,
                (n as i64 * 13 + 1) % SERVERS + 1,
            );
            let b = if a == b { a % SERVERS + 1 } else { b };
            permissions_sql.push_str(&format!(
                "{sep}('{email}', {a}, 'Server Viewer'), ('{email}', {b}, 'Server Admin')"
            ));
            let manager = if n < queue_users {
                QUEUE_REVIEWER.to_string()
            } else {
                format!("manager{}@example.com", n % managers.max(1))
            };
            managers_sql.push_str(&format!("{sep}('{email}', '{manager}', '{now}')"));
        }
        for sql in [users_sql, permissions_sql, managers_sql] {
            sqlx::query(&sql).execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub(super) fn input() -> CampaignInput {
    let on = Some("on".to_string());
    CampaignInput {
        name: "Benchmark review".into(),
        kind_account_role: on.clone(),
        kind_server_permission: on.clone(),
        kind_server: on.clone(),
        starts_on: "2026-01-01".into(),
        due_on: "2099-12-31".into(),
        default_outcome: "flag".into(),
        use_manager_mapping: on,
        fallback_reviewer: "fallback@example.com".into(),
        ..CampaignInput::default()
    }
}

async fn open_db(dir: &Path, name: &str) -> anyhow::Result<Db> {
    let db = Db::connect(&DatabaseConfig {
        url: SecretString::from(format!("sqlite://{}", dir.join(name).display())),
        max_connections: 5,
    })
    .await?;
    db.migrate().await?;
    Ok(db)
}

/// Runs the benchmark; `items` is the campaign size to aim for, `queue` the reviewer's items.
pub async fn run(items: usize, queue: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("par-bench-campaign-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(&dir, items, queue).await;
    std::fs::remove_dir_all(&dir).with_context(|| format!("could not remove {}", dir.display()))?;
    result
}

async fn measure(dir: &Path, items: usize, queue: usize) -> anyhow::Result<()> {
    // Each user brings three items (their role and two permissions); servers are items too.
    let users = items.saturating_sub(SERVERS as usize) / 3;
    let queue_users = queue / 3;
    let db = open_db(dir, "bench.db").await?;
    fill_inventory(&db, users, queue_users, 200).await?;
    let clock = SystemClock;
    let actor = Actor::system("bench");
    let known = Known::load(&db).await?;

    // The launch as an admin runs it.
    let settings = validate(&input(), &known)?;
    let id = create(&db, &clock, &actor, "bench", &settings).await?;
    let started = Instant::now();
    let launched = launch(&db, &clock, &actor, "bench", id, &[]).await?;
    let launch_time = started.elapsed();

    // The same rows written by a plain bulk insert, into a second database.
    let plain_db = open_db(dir, "plain.db").await?;
    fill_inventory(&plain_db, users, queue_users, 200).await?;
    let plain_id = create(&plain_db, &clock, &actor, "bench", &settings).await?;
    let campaign = get(&plain_db, plain_id)
        .await?
        .context("benchmark campaign missing")?;
    let mut conn = plain_db.pool().acquire().await?;
    let rules = assign::rules(&mut conn, &campaign).await?;
    let candidates = assign::candidates(&mut conn, &campaign, &[], clock.now().date()).await?;
    drop(conn);
    let rows = Assignment::new(candidates, &rules).items;
    let started = Instant::now();
    let mut tx = plain_db.begin().await?;
    crate::review_items::db::insert(&mut tx, plain_id, &rows).await?;
    tx.commit().await?;
    let plain_time = started.elapsed();
    plain_db.close().await;

    let (queue_items,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM review_items WHERE reviewer_email = $1")
            .bind(QUEUE_REVIEWER)
            .fetch_one(db.pool())
            .await?;
    let (first, last, query_time) = render_queue(&db, dir).await?;

    println!("campaign items launched:   {}", launched.items);
    println!(
        "launch (read inventory, assign, insert, audit): {:.2} s",
        launch_time.as_secs_f64()
    );
    println!(
        "plain bulk insert of the same rows:             {:.2} s",
        plain_time.as_secs_f64()
    );
    println!("queue of {QUEUE_REVIEWER}: {queue_items} items, 100 per page");
    println!(
        "queue query (page 1):          median {:.1} ms",
        ms(query_time)
    );
    println!(
        "GET /reviews server render, page 1:  median {:.1} ms (min {:.1})",
        ms(first.0),
        ms(first.1)
    );
    println!(
        "GET /reviews server render, last page: median {:.1} ms (min {:.1})",
        ms(last.0),
        ms(last.1)
    );
    match peak_rss_mib() {
        Some(mib) => println!("peak memory (VmHWM):       {mib:.1} MiB"),
        None => println!("peak memory:               unavailable on this system"),
    }
    db.close().await;
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Median and minimum of ten timings.
async fn timed<F, Fut>(mut run: F) -> anyhow::Result<(Duration, Duration)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut times = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        run().await?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok((times[times.len() / 2], times[0]))
}

type Renders = ((Duration, Duration), (Duration, Duration), Duration);

/// Serves the app on a free port over `db`, with its sessions in `sessions` (a database URL),
/// and no schedules: nothing but the benchmark's requests touches the database.
pub(super) async fn serve(db: &Db, dir: &Path, sessions: String) -> anyhow::Result<url::Url> {
    let listener = server::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
    let address = listener.local_addr()?;
    let public_url: url::Url = format!("http://{address}").parse()?;
    let config = ServerConfig {
        public_url: public_url.clone(),
        bind_addr: address,
        max_body_bytes: 2 * 1024 * 1024,
        site_root: std::path::PathBuf::from("target/site"),
        metrics: Default::default(),
        timeouts: Default::default(),
    };
    let app = Application::build(Startup {
        mode: RunMode::Serve,
        server: config,
        storage: Storage::Connected {
            db: db.clone(),
            sessions: DatabaseConfig {
                url: SecretString::from(sessions),
                max_connections: 5,
            },
        },
        auth: AuthService::development(&public_url)?,
        inventory: InventoryConfig {
            snapshot_retention_days: crate::config::DEFAULT_SNAPSHOT_RETENTION_DAYS,
            api_url: "http://127.0.0.1:9/".parse()?,
            account_token: None,
            sync_interval: None,
            webhook_host_allowlist: vec![],
            users_gateway: None,
        },
        campaigns: CampaignConfig::default(),
        mail: None,
        clock: Arc::new(SystemClock),
        signing: crate::signing::SigningConfig {
            key_file: dir.join("signing-key.pem"),
            key_pem: None,
            checkpoint_interval: None,
        },
        jobs: Jobs::NONE,
        simulator: None,
    })
    .await?;
    tokio::spawn(async move {
        let _ = app.serve(listener).await;
    });
    Ok(public_url)
}

/// Serves the app on a free port, signs Rita in and times her queue page.
async fn render_queue(db: &Db, dir: &Path) -> anyhow::Result<Renders> {
    let sessions = format!("sqlite://{}", dir.join("sessions.db").display());
    let public_url = serve(db, dir, sessions).await?;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    sign_in(&client, &public_url).await?;

    let started = Instant::now();
    crate::reviews::db::queue(db, QUEUE_REVIEWER, &Default::default()).await?;
    let mut query_times = vec![started.elapsed()];
    for _ in 0..9 {
        let started = Instant::now();
        crate::reviews::db::queue(db, QUEUE_REVIEWER, &Default::default()).await?;
        query_times.push(started.elapsed());
    }
    query_times.sort();
    let get = |path: String| {
        let client = client.clone();
        let url = public_url.join(&path);
        async move {
            let response = client.get(url?).send().await?;
            anyhow::ensure!(response.status() == 200, "{path}: {}", response.status());
            let body = response.text().await?;
            anyhow::ensure!(body.contains("queue-item"), "{path} rendered no items");
            Ok(())
        }
    };
    let first = timed(|| get("/reviews".to_string())).await?;
    let last = timed(|| get("/reviews?page=1000".to_string())).await?;
    Ok((first, last, query_times[query_times.len() / 2]))
}

/// The development provider's sign-in, as a browser does it: login → chooser → callback.
async fn sign_in(client: &reqwest::Client, base: &url::Url) -> anyhow::Result<()> {
    let location = |response: &reqwest::Response| -> anyhow::Result<url::Url> {
        let to = response
            .headers()
            .get("location")
            .context("no redirect")?
            .to_str()?;
        Ok(response.url().join(to)?)
    };
    let login = client
        .get(base.join("/auth/login?next=/reviews")?)
        .send()
        .await?;
    let authorize = location(&login)?;
    let chooser = client.get(authorize.clone()).send().await?;
    anyhow::ensure!(chooser.status() == 200, "chooser: {}", chooser.status());
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    // Rita is the third person of the development provider.
    form.push(("person".into(), "2".into()));
    let chosen = client
        .post(base.join("/dev-idp/authorize")?)
        .header("origin", base.origin().ascii_serialization())
        .form(&form)
        .send()
        .await?;
    let callback = location(&chosen)?;
    let done = client.get(callback).send().await?;
    anyhow::ensure!(
        done.status().is_redirection(),
        "sign-in failed: {}",
        done.status()
    );
    Ok(())
}

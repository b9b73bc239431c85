//! Snapshots store what changed: an unchanged resync writes nothing and asks Postmark for
//! activity at most once a day, every past sync's inventory can be rebuilt from the versions,
//! old versions go after the retention except those a campaign was launched from, and the
//! full snapshots of earlier releases become versions on upgrade.

use std::collections::BTreeMap;

use postmark_access_review::{
    db::Db,
    inventory::snapshots::{self, Scope},
    postmark::ServerInfo,
};
use serde_json::Value;
use time::Duration;

use crate::{
    auth::{signed_in, Browser, ADA},
    campaigns::launched,
    cli::run_binary,
    helpers::{count, TestApp, TestDb},
};

async fn sync_now(browser: &Browser) -> i64 {
    let response = browser.post("/api/inventory_sync_now", &[]).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body["id"].as_i64().unwrap()
}

fn stats_requests(app: &TestApp) -> usize {
    app.simulator
        .request_log()
        .iter()
        .filter(|line| line.starts_with("GET /stats/outbound"))
        .count()
}

/// The names of the servers in the snapshot as of `sync_id`, by Postmark id.
async fn names_at(db: &Db, sync_id: i64) -> BTreeMap<String, String> {
    let mut conn = db.pool().acquire().await.unwrap();
    snapshots::at(&mut conn, Scope::Servers, sync_id)
        .await
        .unwrap()
        .expect("a successful servers sync")
        .into_iter()
        .map(|(id, data)| {
            let data: Value = serde_json::from_str(&data).unwrap();
            (id, data["name"].as_str().unwrap().to_string())
        })
        .collect()
}

fn names(pairs: &[(i64, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(id, name)| (id.to_string(), name.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_resync_writes_nothing_and_reads_activity_once_a_day() {
    let app = TestApp::spawn().await;
    for id in 1..=5 {
        let token = format!("tok-{id}");
        app.simulator
            .add_server(ServerInfo::sample(id, &format!("server-{id}"), &[&token]));
        app.simulator.set_sent(id, 10 * id);
    }
    let ada = signed_in(&app, ADA).await;
    let first = sync_now(&ada).await;
    assert_eq!(stats_requests(&app), 5);
    let versions = "SELECT COUNT(*) FROM snapshot_versions";
    assert_eq!(count(&app.db, versions).await, 5);

    app.simulator.set_sent(2, 999);
    let second = sync_now(&ada).await;
    assert_eq!(count(&app.db, versions).await, 5, "nothing changed");
    assert_eq!(
        stats_requests(&app),
        5,
        "activity read at the first sync is fresh"
    );
    let changes = format!("SELECT COUNT(*) FROM sync_changes WHERE sync_id = {second}");
    assert_eq!(count(&app.db, &changes).await, 0);
    let seen = format!("SELECT COUNT(*) FROM servers WHERE last_seen_sync = {second}");
    assert_eq!(
        count(&app.db, &seen).await,
        5,
        "every server was seen again"
    );
    let first_seen = format!("SELECT COUNT(*) FROM servers WHERE first_seen_sync = {first}");
    assert_eq!(count(&app.db, &first_seen).await, 5);
    let sent = "SELECT sent_30d FROM servers WHERE postmark_id = 2";
    assert_eq!(count(&app.db, sent).await, 20, "the kept reading");

    // A day on, activity is read again; it is not part of the snapshot.
    app.clock.advance(Duration::hours(21));
    sync_now(&ada).await;
    assert_eq!(stats_requests(&app), 10);
    assert_eq!(count(&app.db, sent).await, 999);
    assert_eq!(count(&app.db, versions).await, 5);

    // A change writes one version and ends the one before.
    app.simulator
        .update_server(3, |s| s.name = "server-3-renamed".to_string());
    let renamed = sync_now(&ada).await;
    assert_eq!(count(&app.db, versions).await, 6);
    let ended = format!("SELECT COUNT(*) FROM snapshot_versions WHERE to_sync = {renamed}");
    assert_eq!(count(&app.db, &ended).await, 1);
    assert_eq!(names_at(&app.db, renamed).await["3"], "server-3-renamed");
    assert_eq!(names_at(&app.db, first).await["3"], "server-3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sync_can_be_rebuilt_from_the_versions() {
    let app = TestApp::spawn().await;
    for (id, name) in [(1, "alpha"), (2, "beta"), (3, "gamma")] {
        let token = format!("tok-{id}");
        app.simulator
            .add_server(ServerInfo::sample(id, name, &[&token]));
    }
    let ada = signed_in(&app, ADA).await;
    let one = sync_now(&ada).await;

    let gamma = app.simulator.server(3).unwrap();
    app.simulator
        .update_server(2, |s| s.name = "beta-2".to_string());
    app.simulator.remove_server(3);
    app.simulator
        .add_server(ServerInfo::sample(4, "delta", &["tok-4"]));
    let two = sync_now(&ada).await;

    // Back as it was: a version of its own, the gap kept.
    app.simulator.add_server(gamma);
    let three = sync_now(&ada).await;
    let four = sync_now(&ada).await;

    assert_eq!(
        names_at(&app.db, one).await,
        names(&[(1, "alpha"), (2, "beta"), (3, "gamma")])
    );
    assert_eq!(
        names_at(&app.db, two).await,
        names(&[(1, "alpha"), (2, "beta-2"), (4, "delta")])
    );
    let now = names(&[(1, "alpha"), (2, "beta-2"), (3, "gamma"), (4, "delta")]);
    assert_eq!(names_at(&app.db, three).await, now);
    assert_eq!(names_at(&app.db, four).await, now);
    // alpha once, beta twice, gamma twice (before and after the gap), delta once.
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM snapshot_versions WHERE scope = 'servers'"
        )
        .await,
        6
    );

    // The same from the command line, as an auditor asks for it.
    let database = ("PAR_DATABASE_URL", app.database_url());
    let env = [(database.0, database.1.as_str())];
    let printed = run_binary(&["snapshot", &two.to_string()], &env);
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    let lines: BTreeMap<String, String> = printed
        .stdout
        .lines()
        .map(|line| {
            let item: Value = serde_json::from_str(line).unwrap();
            let name = item["data"]["name"].as_str().unwrap().to_string();
            (item["key"].as_str().unwrap().to_string(), name)
        })
        .collect();
    assert_eq!(lines, names(&[(1, "alpha"), (2, "beta-2"), (4, "delta")]));
    let missing = run_binary(&["snapshot", "999"], &env);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("sync #999: no such successful sync"),
        "{}",
        missing.stderr
    );

    let mut conn = app.db.pool().acquire().await.unwrap();
    assert!(
        snapshots::at(&mut conn, Scope::Users, one)
            .await
            .unwrap()
            .is_none(),
        "a servers sync is not a users snapshot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_versions_go_after_the_retention_but_a_campaigns_launch_snapshot_stays() {
    let (app, ada, campaign) = launched().await;
    let launched_from = count(
        &app.db,
        &format!("SELECT servers_sync_id FROM campaigns WHERE id = {campaign}"),
    )
    .await;
    let at_launch = names_at(&app.db, launched_from).await;
    assert_eq!(at_launch.len(), 3);

    app.simulator
        .update_server(2, |s| s.name = "renamed once".to_string());
    sync_now(&ada).await;
    app.simulator
        .update_server(2, |s| s.name = "renamed twice".to_string());
    let twice = sync_now(&ada).await;
    let ended = "SELECT COUNT(*) FROM snapshot_versions WHERE to_sync IS NOT NULL";
    assert_eq!(count(&app.db, ended).await, 2);

    // Within the retention (400 days by default) nothing goes. (Sessions do not last that
    // long: Ada signs in again.)
    app.clock.advance(Duration::days(399));
    let ada = signed_in(&app, ADA).await;
    sync_now(&ada).await;
    assert_eq!(count(&app.db, ended).await, 2);

    app.clock.advance(Duration::days(2));
    let ada = signed_in(&app, ADA).await;
    sync_now(&ada).await;
    // "renamed once" went; server 2 as the campaign was launched from it stays.
    assert_eq!(count(&app.db, ended).await, 1);
    assert_eq!(names_at(&app.db, launched_from).await, at_launch);
    assert_eq!(names_at(&app.db, twice).await["2"], "renamed twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_snapshots_of_earlier_releases_become_versions() {
    let test_db = TestDb::fresh().await;
    let db = Db::connect(&test_db.config).await.unwrap();
    db.migrate_until(20).await.unwrap();
    // Sync 2 ran long and was saved after sync 3: saved order is 1, 3, 2, 5 (4 failed).
    let syncs = [
        (1, "2026-10-01T00:00:00.000000Z", "succeeded", "servers"),
        (2, "2026-10-03T00:00:00.000000Z", "succeeded", "servers"),
        (3, "2026-10-02T00:00:00.000000Z", "succeeded", "servers"),
        (4, "2026-10-04T00:00:00.000000Z", "failed", "servers"),
        (5, "2026-10-05T00:00:00.000000Z", "succeeded", "servers"),
        (6, "2026-10-05T01:00:00.000000Z", "succeeded", "users"),
    ];
    for (id, finished, status, scope) in syncs {
        sqlx::query(
            "INSERT INTO syncs (id, trigger_kind, started_at, finished_at, status, scope) \
             VALUES ($1, 'cli', $2, $2, $3, $4)",
        )
        .bind(id as i64)
        .bind(finished)
        .bind(status)
        .bind(scope)
        .execute(db.pool())
        .await
        .unwrap();
    }
    let seen = [
        (1, 1, "A"),
        (1, 2, "B"),
        (3, 1, "A"),
        (3, 2, "B2"),
        (2, 1, "A"),
        (2, 3, "C"),
        (5, 1, "A"),
        (5, 2, "B2"),
        (5, 3, "C"),
    ];
    for (sync, server, name) in seen {
        sqlx::query(
            "INSERT INTO server_snapshots (sync_id, postmark_id, data) VALUES ($1, $2, $3)",
        )
        .bind(sync as i64)
        .bind(server as i64)
        .bind(format!(r#"{{"name":"{name}"}}"#))
        .execute(db.pool())
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO user_snapshots (sync_id, email, data) VALUES (6, 'u@example.com', '{}')",
    )
    .execute(db.pool())
    .await
    .unwrap();

    db.migrate().await.unwrap();

    let versions: Vec<(String, String, i64, Option<i64>, String)> = sqlx::query_as(
        "SELECT scope, item_key, from_sync, to_sync, data FROM snapshot_versions \
         ORDER BY scope, item_key, from_sync",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let version = |scope: &str, key: &str, from: i64, to: Option<i64>, name: &str| {
        let data = if scope == "users" {
            "{}".to_string()
        } else {
            format!(r#"{{"name":"{name}"}}"#)
        };
        (scope.to_string(), key.to_string(), from, to, data)
    };
    assert_eq!(
        versions,
        [
            version("servers", "1", 1, None, "A"),
            version("servers", "2", 1, Some(3), "B"),
            // Gone at sync 2, back at sync 5: two versions.
            version("servers", "2", 3, Some(2), "B2"),
            version("servers", "2", 5, None, "B2"),
            version("servers", "3", 2, None, "C"),
            version("users", "u@example.com", 6, None, ""),
        ]
    );
    assert_eq!(names_at(&db, 3).await, names(&[(1, "A"), (2, "B2")]));
    assert_eq!(names_at(&db, 2).await, names(&[(1, "A"), (3, "C")]));
    let mut conn = db.pool().acquire().await.unwrap();
    assert!(snapshots::at(&mut conn, Scope::Servers, 4)
        .await
        .unwrap()
        .is_none());
}

//! Webhook URLs with basic-auth credentials (`https://user:pass@host/…`, as Postmark documents
//! for webhook authentication): after a sync, a quarantine and a restore, neither the
//! database, the pages, the exports, the audit log nor the logs hold the password, and a
//! changed password still shows as a change. Credentials stored before migration 0018 are
//! scrubbed once.

use postmark_access_review::{
    audit::Actor,
    clock::ManualClock,
    config::InventoryConfig,
    db::{Backend, Db},
    inventory::{hook_credentials, service::InventoryService, sync::ServerRecord, Trigger},
    postmark::ServerInfo,
    review_items::ItemKind,
};
use secrecy::SecretString;
use serde_json::{json, Value};
use time::macros::datetime;

use crate::{
    auth::{signed_in, Browser, ADA},
    helpers::{TestApp, TestDb, SIMULATOR_TOKEN},
    inventory::change_summary,
};

const PASSWORD: &str = "S3cret-Pa55w0rd";
const NEW_PASSWORD: &str = "N3w-Pa55w0rd-2";
const CLI_PASSWORD: &str = "Th1rd-Pa55w0rd-3";
/// A bearer-like token as the whole userinfo.
const TOKEN: &str = "Cl1ckT0ken77";

fn bounce(password: &str) -> String {
    format!("https://hookuser:{password}@hooks.example.com/postmark/bounce")
}

fn assert_clean(what: &str, text: &str) {
    for secret in [PASSWORD, NEW_PASSWORD, CLI_PASSWORD, TOKEN] {
        assert!(!text.contains(secret), "{what} holds {secret}:\n{text}");
    }
}

/// Every row of every table of the application's schema, as text.
pub async fn dump(db: &Db) -> String {
    let tables: Vec<(String,)> = match db.backend() {
        Backend::Sqlite => {
            sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(db.pool())
                .await
        }
        Backend::Postgres => {
            sqlx::query_as(
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
                 WHERE table_schema = 'public'",
            )
            .fetch_all(db.pool())
            .await
        }
    }
    .unwrap();
    let mut dump = String::new();
    for (table,) in tables {
        let columns: Vec<(String,)> = match db.backend() {
            Backend::Sqlite => sqlx::query_as("SELECT name FROM pragma_table_info($1)")
                .bind(&table)
                .fetch_all(db.pool())
                .await
                .unwrap(),
            Backend::Postgres => sqlx::query_as(
                "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = $1",
            )
            .bind(&table)
            .fetch_all(db.pool())
            .await
            .unwrap(),
        };
        let row = columns
            .iter()
            .map(|(c,)| format!("COALESCE(CAST(\"{c}\" AS TEXT), '')"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        // As bytes: binary columns (session data, checksums) are not UTF-8.
        let row = match db.backend() {
            Backend::Sqlite => format!("CAST({row} AS BLOB)"),
            Backend::Postgres => format!("convert_to({row}, 'UTF8')"),
        };
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(&format!("SELECT {row} FROM \"{table}\""))
            .fetch_all(db.pool())
            .await
            .unwrap();
        for (bytes,) in rows {
            dump.push_str(&table);
            dump.push_str(": ");
            dump.push_str(&String::from_utf8_lossy(&bytes));
            dump.push('\n');
        }
    }
    dump
}

async fn text(browser: &Browser, path: &str) -> String {
    let response = browser.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

async fn post_text(browser: &Browser, path: &str, form: &[(&str, &str)]) -> String {
    let response = browser.post(path, form).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_webhook_urls_stay_out_of_the_database_pages_audit_and_logs() {
    let app = TestApp::spawn().await;
    let mut server = ServerInfo::sample(7, "Hooked", &["tok-7"]);
    server.bounce_hook_url = Some(bounce(PASSWORD));
    server.click_hook_url = Some(format!("https://{TOKEN}@hooks.example.com/c"));
    app.simulator.add_server(server);
    let ada = signed_in(&app, ADA).await;
    let first: Value = ada
        .post("/api/inventory_sync_now", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["status"], "succeeded", "{first}");

    // A new password is a change of the server, told by fingerprints alone.
    app.simulator.update_server(7, |s| {
        s.bounce_hook_url = Some(bounce(NEW_PASSWORD));
    });
    let second: Value = ada
        .post("/api/inventory_sync_now", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["changed"], 1, "{second}");
    let (summary, changes) = change_summary(&ada, second["id"].as_i64().unwrap()).await;
    assert_eq!(summary, ["changed server 7"]);
    let fields = changes[0]["fields"].to_string();
    assert!(fields.contains("bounce_hook_credentials: "), "{fields}");
    assert!(
        !fields.contains("bounce_hook_url"),
        "the URL itself is unchanged: {fields}"
    );
    assert_clean("the change list", &changes.to_string());

    // The server's page shows the URL and that it had credentials.
    let page = text(&ada, "/inventory/servers/7").await;
    assert!(
        page.contains(
            "https://hooks.example.com/postmark/bounce (with basic-auth credentials, fingerprint "
        ),
        "{page}"
    );
    assert!(page.contains("https://hooks.example.com/c (with basic-auth credentials"));
    assert_clean("the server page", &page);
    for path in [
        "/inventory",
        "/inventory/syncs",
        "/audit",
        "/exports/inventory-servers.csv",
        "/exports/audit.csv",
    ] {
        assert_clean(path, &text(&ada, path).await);
    }
    assert_clean(
        "the server function",
        &post_text(&ada, "/api/inventory_server", &[("postmark_id", "7")]).await,
    );
    let first_changes = change_summary(&ada, first["id"].as_i64().unwrap()).await.1;
    assert_clean("the first sync's changes", &first_changes.to_string());
    let events = ada
        .post_json("/api/audit_events", &json!({ "query": {} }))
        .await
        .text()
        .await
        .unwrap();
    assert_clean("the audit log", &events);

    // The command-line sync, logging at debug level, on the same database.
    app.simulator.update_server(7, |s| {
        s.bounce_hook_url = Some(bounce(CLI_PASSWORD));
    });
    // Not blocking: the simulator answers from this test's runtime.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_postmark-access-review"))
        .arg("sync")
        .env_clear()
        .env("PAR_DATABASE_URL", app.database_url())
        .env("PAR_POSTMARK_API_URL", app.simulator_url.as_str())
        .env("PAR_POSTMARK_ACCOUNT_TOKEN", SIMULATOR_TOKEN)
        .env("PAR_LOG_LEVEL", "debug")
        .output()
        .await
        .unwrap();
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{logs}");
    assert!(logs.contains("1 changed"), "{logs}");
    assert_clean("the logs", &logs);

    let stored = dump(&app.db).await;
    assert!(
        stored.contains("https://hooks.example.com/postmark/bounce"),
        "{stored}"
    );
    assert_clean("the database", &stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantine_keeps_no_credentials_and_a_restore_says_to_set_them_again() {
    let (app, _) = crate::revocations::applied_servers(0).await;
    app.simulator.update_server(1, |s| {
        s.bounce_hook_url = Some(bounce(PASSWORD));
    });
    let report = crate::revocations::worker(&app, crate::revocations::quick())
        .run_once()
        .await
        .unwrap();
    assert_eq!(report.done, 3, "{report:?}");
    let id = crate::revocations::one(&app, ItemKind::Server, Some(1))
        .await
        .id;
    let (previous,): (String,) = sqlx::query_as("SELECT previous FROM revocations WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let previous: Value = serde_json::from_str(&previous).unwrap();
    assert_eq!(
        previous["BounceHookUrl"],
        "https://hooks.example.com/postmark/bounce"
    );
    assert_eq!(previous["HooksWithCredentials"], json!(["BounceHookUrl"]));

    let ada = signed_in(&app, ADA).await;
    let page = text(&ada, "/inventory/servers/1").await;
    assert!(
        page.contains("its basic-auth credentials were not kept: set them again in Postmark"),
        "{page}"
    );
    assert_clean("the quarantine's page", &page);
    let response = ada
        .post("/api/revocation_restore", &[("id", &id.to_string())])
        .await;
    assert_eq!(response.status(), 200);
    // Postmark gets the URL back without the credentials it no longer has.
    assert_eq!(
        app.simulator.server(1).unwrap().bounce_hook_url.as_deref(),
        Some("https://hooks.example.com/postmark/bounce")
    );
    assert_clean("the database", &dump(&app.db).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_stored_before_the_upgrade_are_scrubbed_once_and_compare_equal() {
    let test_db = TestDb::fresh().await;
    // Data as a release before 0018 wrote it (full snapshots were folded into versions by
    // 0021), then migrated but not started: the scrub is still pending, as after an upgrade.
    let db = Db::connect(&test_db.config).await.unwrap();
    db.migrate_until(17).await.unwrap();
    let clock = ManualClock::new(datetime!(2026-11-28 09:00 UTC));
    let mut server = ServerInfo::sample(7, "Hooked", &["tok-7"]);
    server.bounce_hook_url = Some(bounce(PASSWORD));
    // The snapshot as a sync wrote it before 0018: the URL whole, no fingerprint field.
    let mut old = serde_json::to_value(ServerRecord::new(&server, b"unused")).unwrap();
    old["bounce_hook_url"] = bounce(PASSWORD).into();
    old.as_object_mut()
        .unwrap()
        .remove("bounce_hook_credentials");
    let (sync_id,): (i64,) = sqlx::query_as(
        "INSERT INTO syncs (trigger_kind, started_at, finished_at, status, scope) \
         VALUES ('cli', '2026-11-01T00:00:00Z', '2026-11-01T00:00:01Z', 'succeeded', 'servers') \
         RETURNING id",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO servers (postmark_id, name, smtp_api_activated, raw_email_enabled, \
         track_opens, bounce_hook_url, token_count, token_fingerprints, first_seen_sync, \
         last_seen_sync) VALUES (7, 'Hooked', $1, $2, $3, $4, 1, '[]', $5, $5)",
    )
    .bind(server.smtp_api_activated)
    .bind(server.raw_email_enabled)
    .bind(server.track_opens)
    .bind(bounce(PASSWORD))
    .bind(sync_id)
    .execute(db.pool())
    .await
    .unwrap();
    sqlx::query("INSERT INTO server_snapshots (sync_id, postmark_id, data) VALUES ($1, 7, $2)")
        .bind(sync_id)
        .bind(old.to_string())
        .execute(db.pool())
        .await
        .unwrap();
    let detail = json!({"name": "Hooked", "fields": [
        {"field": "bounce_hook_url", "before": null, "after": bounce(PASSWORD)}
    ]});
    sqlx::query(
        "INSERT INTO sync_changes (sync_id, kind, item_key, change, detail) \
         VALUES ($1, 'server', '7', 'changed', $2)",
    )
    .bind(sync_id)
    .bind(detail.to_string())
    .execute(db.pool())
    .await
    .unwrap();
    db.migrate().await.unwrap();
    assert!(dump(&db).await.contains(PASSWORD));

    assert_eq!(
        hook_credentials::scrub_stored(&db, &clock).await.unwrap(),
        3
    );
    let stored = dump(&db).await;
    assert_clean("the scrubbed database", &stored);
    assert!(stored.contains("https://hooks.example.com/postmark/bounce"));
    // Once: the marker is gone.
    assert_eq!(
        hook_credentials::scrub_stored(&db, &clock).await.unwrap(),
        0
    );

    // The next sync sees the same server: the scrubbed snapshot carries the fingerprint the
    // sync computes.
    let simulator = postmark_access_review::postmark::simulator::Simulator::new(SIMULATOR_TOKEN);
    simulator.add_server(server);
    let url = simulator.spawn(0).await.unwrap();
    let inventory = InventoryService::new(InventoryConfig {
        snapshot_retention_days: postmark_access_review::config::DEFAULT_SNAPSHOT_RETENTION_DAYS,
        api_url: url,
        account_token: Some(SecretString::from(SIMULATOR_TOKEN.to_string())),
        sync_interval: None,
        webhook_host_allowlist: vec![],
        users_gateway: None,
    })
    .unwrap();
    let outcome = inventory
        .sync(&db, &clock, Trigger::Cli, &Actor::system("test"), &|_| {})
        .await
        .unwrap();
    assert_eq!((outcome.added, outcome.changed, outcome.removed), (0, 0, 0));
    assert_clean("the database after a sync", &dump(&db).await);
    // The page's fingerprint is the one of these credentials under this installation's key.
    let (credentials,): (String,) =
        sqlx::query_as("SELECT hook_credentials FROM servers WHERE postmark_id = 7")
            .fetch_one(db.pool())
            .await
            .unwrap();
    let credentials: Value = serde_json::from_str(&credentials).unwrap();
    assert_eq!(
        credentials["bounce_hook_url"].as_str().unwrap().len(),
        12,
        "{credentials}"
    );
}

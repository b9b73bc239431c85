//! Syncing servers from the (simulated) Postmark account and reading the inventory.

use postmark_access_review::postmark::{simulator::Fault, ServerInfo};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    auth::{signed_in, Browser, ADA, AUBREY, RITA},
    helpers::{backend_under_test, TestApp, SIMULATOR_TOKEN},
};

fn seed(app: &TestApp, n: i64) {
    for id in 1..=n {
        let mut server = ServerInfo::sample(
            id,
            &format!("server-{id:02}"),
            &[&format!("secret-token-{id}")],
        );
        server.bounce_hook_url = Some(if id % 2 == 0 {
            "https://hooks.example.com/bounce".to_string()
        } else {
            "https://elsewhere.example.net/bounce".to_string()
        });
        app.simulator.add_server(server);
        app.simulator
            .set_sent(id, if id == 3 { 0 } else { 100 * id });
    }
}

/// A sync's changes as `"change kind key"` lines, and the raw answer.
pub async fn change_summary(browser: &Browser, sync_id: i64) -> (Vec<String>, Value) {
    let changes: Value = browser
        .post(
            "/api/inventory_sync_changes",
            &[("sync_id", &sync_id.to_string())],
        )
        .await
        .json()
        .await
        .unwrap();
    let summary = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c["change"].as_str().unwrap(),
                c["kind"].as_str().unwrap(),
                c["key"].as_str().unwrap()
            )
        })
        .collect();
    (summary, changes)
}

async fn sync_now(browser: &Browser) -> Value {
    let response = browser.post("/api/inventory_sync_now", &[]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn servers(browser: &Browser, params: &[(&str, &str)]) -> Value {
    let query: serde_json::Map<String, Value> = params
        .iter()
        .map(|(k, v)| {
            let value = v.parse::<u64>().map_or_else(|_| json!(v), |n| json!(n));
            (k.to_string(), value)
        })
        .collect();
    let response = browser
        .post_json("/api/inventory_servers", &json!({ "query": query }))
        .await;
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_syncs_and_sees_servers_with_flags() {
    let app = TestApp::spawn().await;
    seed(&app, 5);
    let ada = signed_in(&app, ADA).await;
    let sync = sync_now(&ada).await;
    assert_eq!(sync["status"], "succeeded", "{sync}");
    assert_eq!(sync["servers"], 5);
    assert_eq!(sync["added"], 5);

    let list = servers(&ada, &[]).await;
    assert_eq!(list["matching"], 5);
    let third = &list["servers"][2];
    assert_eq!(third["name"], "server-03");
    assert_eq!(third["sent_30d"], 0);
    let flags: Vec<&str> = third["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(flags, ["NoRecentSends", "UnexpectedWebhookHost"]);
    assert_eq!(list["servers"][1]["flags"], serde_json::json!([]));

    let filtered = servers(&ada, &[("flag", "webhook-host")]).await;
    assert_eq!(filtered["matching"], 3);
    let searched = servers(&ada, &[("search", "server-04")]).await;
    assert_eq!(searched["matching"], 1);

    let page = ada.get("/inventory").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("server-05") && html.contains("No sends in 30 days"),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sync_records_what_changed() {
    let app = TestApp::spawn().await;
    seed(&app, 3);
    let ada = signed_in(&app, ADA).await;
    sync_now(&ada).await;

    // Postmark changes: a server added, one rotated its token and turned SMTP off.
    app.simulator
        .add_server(ServerInfo::sample(4, "server-04", &["secret-token-4"]));
    app.simulator.update_server(2, |s| {
        s.api_tokens = vec!["rotated-secret".to_string()];
        s.smtp_api_activated = false;
    });
    app.simulator.remove_server(1);
    let second = sync_now(&ada).await;
    assert_eq!(
        (
            second["added"].as_i64(),
            second["removed"].as_i64(),
            second["changed"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );

    let response = ada
        .post(
            "/api/inventory_sync_changes",
            &[("sync_id", &second["id"].to_string())],
        )
        .await;
    let changes: Value = response.json().await.unwrap();
    let summary: Vec<(String, String)> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap().into(),
                c["key"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("added".into(), "4".into()),
            ("changed".into(), "2".into()),
            ("removed".into(), "1".into())
        ]
    );
    let fields: Vec<&str> = changes[1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        fields
            .iter()
            .any(|f| f.starts_with("smtp_api_activated: true → false")),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|f| f.starts_with("token_fingerprints:")),
        "rotation is visible: {fields:?}"
    );

    let page = ada
        .get(&format!("/inventory/syncs?sync={}", second["id"]))
        .await;
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Changes in sync #2") && html.contains("server-04"),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sync_keeps_the_previous_inventory() {
    let app = TestApp::spawn().await;
    seed(&app, 4);
    let ada = signed_in(&app, ADA).await;
    sync_now(&ada).await;
    app.simulator
        .add_server(ServerInfo::sample(9, "server-09", &["t9"]));

    for fault in [
        vec![
            Fault::ServerError,
            Fault::ServerError,
            Fault::ServerError,
            Fault::ServerError,
        ],
        vec![Fault::MalformedJson],
        vec![Fault::ShortPage],
        vec![Fault::Unprocessable {
            code: 701,
            message: "Account suspended".into(),
        }],
    ] {
        for f in fault {
            app.simulator.push_fault(f);
        }
        let sync = sync_now(&ada).await;
        assert_eq!(sync["status"], "failed", "{sync}");
        assert!(
            sync["error"]
                .as_str()
                .unwrap()
                .starts_with("listing servers failed"),
            "{sync}"
        );
        assert_eq!(
            servers(&ada, &[]).await["matching"],
            4,
            "previous inventory intact"
        );
    }
    let (failed,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_events WHERE action = 'inventory.sync_failed'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(failed, 4);

    // Throttling is waited out: the sync completes.
    app.simulator.push_fault(Fault::TooManyRequests {
        retry_after_secs: 1,
    });
    let sync = sync_now(&ada).await;
    assert_eq!(sync["status"], "succeeded");
    assert_eq!(servers(&ada, &[]).await["matching"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_tokens_never_reach_the_database() {
    let app = TestApp::spawn().await;
    seed(&app, 6);
    let ada = signed_in(&app, ADA).await;
    sync_now(&ada).await;
    let dump = match backend_under_test() {
        postmark_access_review::db::Backend::Sqlite => {
            let path = app.database_file().unwrap();
            let mut bytes = std::fs::read(&path).unwrap();
            for suffix in ["-wal", "-shm"] {
                if let Ok(more) = std::fs::read(format!("{}{suffix}", path.display())) {
                    bytes.extend(more);
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        postmark_access_review::db::Backend::Postgres => {
            let tables: Vec<(String, String)> = sqlx::query_as(
                "SELECT CAST(table_schema AS TEXT), CAST(table_name AS TEXT) FROM information_schema.tables \
                 WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
            )
            .fetch_all(app.db.pool())
            .await
            .unwrap();
            let mut dump = String::new();
            for (schema, table) in tables {
                let rows: Vec<(String,)> = sqlx::query_as(&format!(
                    "SELECT CAST(t AS TEXT) FROM \"{schema}\".\"{table}\" t"
                ))
                .fetch_all(app.db.pool())
                .await
                .unwrap();
                dump.extend(rows.into_iter().map(|(r,)| r));
            }
            dump
        }
    };
    assert!(dump.contains("server-06"), "the dump holds the inventory");
    for id in 1..=6 {
        assert!(
            !dump.contains(&format!("secret-token-{id}")),
            "token {id} stored"
        );
    }
    assert!(!dump.contains(SIMULATOR_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_functions_check_the_caller() {
    let app = TestApp::spawn().await;
    seed(&app, 1);
    let anonymous = Browser::new(&app);
    let rita = signed_in(&app, RITA).await;
    let aubrey = signed_in(&app, AUBREY).await;
    for (browser, expected) in [(&anonymous, 401), (&rita, 403), (&aubrey, 403)] {
        let response = browser.post("/api/inventory_sync_now", &[]).await;
        assert_eq!(response.status().as_u16(), expected);
    }
    for (browser, expected) in [(&anonymous, 401), (&rita, 403), (&aubrey, 200)] {
        let response = browser.post("/api/inventory_syncs", &[]).await;
        assert_eq!(response.status().as_u16(), expected);
    }
    assert_eq!(
        rita.post_json("/api/inventory_servers", &json!({ "query": { "page": 1 } }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sync_command_runs_against_postmark() {
    let app = TestApp::spawn().await;
    seed(&app, 3);
    let env = [
        ("PAR_DATABASE_URL", app.database_url()),
        ("PAR_POSTMARK_API_URL", app.simulator_url.to_string()),
        ("PAR_POSTMARK_ACCOUNT_TOKEN", SIMULATOR_TOKEN.to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = crate::cli::run_binary(&["sync"], &env);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .starts_with("sync #1 done: 3 servers (3 added, 0 removed, 0 changed)"),
        "{out:?}"
    );
    assert!(out.stderr.contains("fetched 3 servers"), "{out:?}");

    let out = crate::cli::run_binary(&["sync"], &env[..2]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("PAR_POSTMARK_ACCOUNT_TOKEN is required"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_page_shows_settings_tokens_and_who_has_access() {
    let app = TestApp::spawn().await;
    seed(&app, 3);
    let ada = signed_in(&app, ADA).await;
    sync_now(&ada).await;
    let csv = "email,name,role,status,server_id,permission\n\
               ben@example.com,Ben,Member,active,2,Server Admin\n";
    let imported = ada
        .post_json(
            "/api/inventory_import_users",
            &serde_json::json!({ "file_name": "u.csv", "csv": csv }),
        )
        .await;
    assert_eq!(imported.status(), 200);

    let html = ada
        .get("/inventory/servers/2")
        .await
        .text()
        .await
        .unwrap()
        .replace("<!>", "");
    assert!(
        html.contains("<h2 id=\"server-heading\">server-02</h2>"),
        "{html}"
    );
    assert!(html.contains("https://hooks.example.com/bounce"));
    assert!(html.contains("ben@example.com") && html.contains("Server Admin"));
    let fingerprint = postmark_access_review::inventory::sync::fingerprint("secret-token-2");
    assert!(html.contains(&fingerprint), "token fingerprint shown");
    assert!(!html.contains("secret-token-2"), "never the token");

    let missing = ada.get("/inventory/servers/999").await;
    assert_eq!(missing.status(), 404);
    let reviewer = signed_in(&app, RITA).await;
    assert_eq!(reviewer.get("/inventory/servers/2").await.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_server_takes_its_permissions_with_it() {
    let app = TestApp::spawn().await;
    seed(&app, 3);
    let ada = signed_in(&app, ADA).await;
    sync_now(&ada).await;
    let csv = "email,name,role,status,server_id,permission\n\
               ben@example.com,Ben,Member,active,2,Server Admin\n\
               ben@example.com,Ben,Member,active,3,Server Viewer\n";
    let imported = ada
        .post_json(
            "/api/inventory_import_users",
            &serde_json::json!({ "file_name": "u.csv", "csv": csv }),
        )
        .await;
    assert_eq!(imported.status(), 200);
    app.simulator.remove_server(3);
    let sync = sync_now(&ada).await;
    let (keys, _) = change_summary(&ada, sync["id"].as_i64().unwrap()).await;
    assert_eq!(
        keys,
        ["removed permission ben@example.com@3", "removed server 3"]
    );
    let (left,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM user_permissions WHERE postmark_server_id = 3")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_left_running_by_a_stop_are_marked_interrupted() {
    let app = TestApp::spawn().await;
    let mut tx = app.db.begin().await.unwrap();
    sqlx::query("INSERT INTO syncs (trigger_kind, started_at, status) VALUES ('schedule', '2026-11-28T08:00:00.000000Z', 'running')")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let marked = postmark_access_review::inventory::sync::mark_interrupted(&app.db, &app.clock)
        .await
        .unwrap();
    assert_eq!(marked, 1);
    let (status, error): (String, String) = sqlx::query_as("SELECT status, error FROM syncs")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(status, "failed");
    assert!(error.starts_with("interrupted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_change_the_allowlist_and_server_owners_with_audit_events() {
    let app = TestApp::spawn().await;
    seed(&app, 4);
    let ada = signed_in(&app, ADA).await;
    sync_now(&ada).await;
    assert_eq!(
        servers(&ada, &[("flag", "webhook-host")]).await["matching"],
        2
    );

    let bad = ada
        .post(
            "/api/inventory_set_allowlist",
            &[("hosts", "https://elsewhere.example.net/x")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let saved = ada
        .post(
            "/api/inventory_set_allowlist",
            &[("hosts", "hooks.example.com\nElsewhere.Example.net")],
        )
        .await;
    assert_eq!(saved.status(), 200);
    assert_eq!(
        servers(&ada, &[("flag", "webhook-host")]).await["matching"],
        0
    );
    let (details,): (String,) = sqlx::query_as(
        "SELECT details FROM audit_events WHERE action = 'inventory.allowlist_changed'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        details,
        r#"{"after":["elsewhere.example.net","hooks.example.com"],"before":["hooks.example.com"]}"#
    );

    // Owners are people who can review: Manny has signed in (see tests/it/handover.rs for
    // unknown addresses and auditors).
    signed_in(&app, 3).await;
    let owner = ada
        .post(
            "/api/inventory_set_owner",
            &[("postmark_id", "2"), ("email", "Manny.Manager@example.com")],
        )
        .await;
    assert_eq!(owner.status(), 200);
    let page = ada.get("/inventory/servers/2").await.text().await.unwrap();
    assert!(page.contains("manny.manager@example.com"), "{page}");
    assert_eq!(
        ada.post(
            "/api/inventory_set_owner",
            &[("postmark_id", "2"), ("email", "not an email")]
        )
        .await
        .status(),
        422
    );
    assert_eq!(
        ada.post(
            "/api/inventory_set_owner",
            &[("postmark_id", "99"), ("email", "x@example.com")]
        )
        .await
        .status(),
        404
    );
    let (details,): (String,) = sqlx::query_as(
        "SELECT details FROM audit_events WHERE action = 'inventory.server_owner_changed'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        details,
        r#"{"after":"manny.manager@example.com","before":null}"#
    );

    let aubrey = signed_in(&app, AUBREY).await;
    let rita = signed_in(&app, RITA).await;
    for browser in [&aubrey, &rita] {
        let r = browser
            .post(
                "/api/inventory_set_allowlist",
                &[("hosts", "a.example.com")],
            )
            .await;
        assert_eq!(r.status(), 403);
        let r = browser
            .post(
                "/api/inventory_set_owner",
                &[("postmark_id", "2"), ("email", "")],
            )
            .await;
        assert_eq!(r.status(), 403);
    }
}

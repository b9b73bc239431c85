//! Importing Postmark users and their per-server permissions from CSV.

use postmark_access_review::postmark::ServerInfo;
use serde_json::{json, Value};

use crate::{
    auth::{signed_in, Browser, ADA, AUBREY, RITA},
    helpers::TestApp,
};

const BAD: &str = "email,name,role,status,invited_at,server_id,permission\n\
                   ada@example.com,Ada,Account Owner,active,,,\n\
                   not-an-email,Ben,Member,active,,1,Server Admin\n\
                   cy@example.com,Cy,Member,asleep,,1,Server Admin\n\
                   dee@example.com,Dee,Member,active,,42,Server Viewer\n";

const GOOD: &str = "email,name,role,status,invited_at,server_id,permission\n\
                    ada@example.com,Ada,Account Owner,active,,,\n\
                    ben@example.com,\"Brooks, Ben\",Member,active,,1,Server Admin\n\
                    ben@example.com,\"Brooks, Ben\",Member,active,,2,Server Viewer\n\
                    cy@example.com,Cy,Member,pending,2026-01-10,1,Server Viewer\n";

async fn synced_app() -> (TestApp, Browser) {
    synced(TestApp::spawn().await).await
}

async fn synced(app: TestApp) -> (TestApp, Browser) {
    for id in 1..=6 {
        app.simulator.add_server(ServerInfo::sample(
            id,
            &format!("server-{id}"),
            &[&format!("tok-{id}")],
        ));
    }
    let ada = signed_in(&app, ADA).await;
    assert_eq!(ada.post("/api/inventory_sync_now", &[]).await.status(), 200);
    (app, ada)
}

async fn import(browser: &Browser, name: &str, csv: &str) -> Value {
    let response = browser
        .post_json(
            "/api/inventory_import_users",
            &json!({ "file_name": name, "csv": csv }),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn users(browser: &Browser) -> Value {
    let response = browser.post("/api/inventory_users", &[]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(app.db.pool()).await.unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_file_lists_every_problem_and_changes_nothing() {
    let (app, ada) = synced_app().await;
    let before = (
        count(&app, "SELECT COUNT(*) FROM syncs").await,
        count(&app, "SELECT COUNT(*) FROM audit_events").await,
    );
    let result = import(&ada, "users.csv", BAD).await;
    let errors = &result["Rejected"]["errors"];
    let found: Vec<(i64, String)> = errors
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap(),
                e["column"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (3, "email".into()),
            (4, "status".into()),
            (5, "server_id".into())
        ],
        "{result}"
    );
    assert_eq!(users(&ada).await["matching"], 0);
    let after = (
        count(&app, "SELECT COUNT(*) FROM syncs").await,
        count(&app, "SELECT COUNT(*) FROM audit_events").await,
    );
    assert_eq!(before, after, "no sync row, no audit event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_replace_the_users_and_record_the_diff() {
    let (app, ada) = synced_app().await;
    let first = import(&ada, "users.csv", GOOD).await;
    assert_eq!(first["Imported"]["users"], 3, "{first}");
    assert_eq!(first["Imported"]["added"], 6, "3 users and 3 permissions");

    let list = users(&ada).await;
    let ben = &list["users"][1];
    assert_eq!(ben["name"], "Brooks, Ben");
    assert_eq!(
        ben["permissions"],
        json!(["server-1 (1): Server Admin", "server-2 (2): Server Viewer"])
    );
    let flags = |i: usize| list["users"][i]["flags"].clone();
    assert_eq!(flags(0), json!(["AccountAdmin"]));
    assert_eq!(flags(2), json!(["StalePendingInvitation"]));

    // Next quarter: Ben lost server 2 and became admin of 1..=5; Cy left; Dee joined.
    let next = "email,name,role,status,invited_at,server_id,permission\n\
                ada@example.com,Ada,Account Owner,active,,,\n\
                ben@example.com,\"Brooks, Ben\",Member,active,,1,Server Admin\n\
                ben@example.com,\"Brooks, Ben\",Member,active,,3,Server Admin\n\
                ben@example.com,\"Brooks, Ben\",Member,active,,4,Server Admin\n\
                ben@example.com,\"Brooks, Ben\",Member,active,,5,Server Admin\n\
                ben@example.com,\"Brooks, Ben\",Member,active,,6,Server Viewer\n\
                dee@example.com,Dee,Account Admin,active,,,\n";
    let second = import(&ada, "users-q2.csv", next).await;
    let sync_id = second["Imported"]["sync_id"].as_i64().unwrap();
    let (summary, _) = crate::inventory::change_summary(&ada, sync_id).await;
    assert_eq!(
        summary,
        [
            "added permission ben@example.com@3",
            "added permission ben@example.com@4",
            "added permission ben@example.com@5",
            "added permission ben@example.com@6",
            "added user dee@example.com",
            "removed permission ben@example.com@2",
            "removed permission cy@example.com@1",
            "removed user cy@example.com",
        ]
    );
    let list = users(&ada).await;
    assert_eq!(list["users"][1]["flags"], json!(["ManyServers"]));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'inventory.users_imported'"
        )
        .await,
        2
    );

    let page = ada.get("/inventory/users").await.text().await.unwrap();
    assert!(
        page.contains("Brooks, Ben") && page.contains("Access to many servers"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_import_and_only_admins_and_auditors_read() {
    let (app, _ada) = synced_app().await;
    let anonymous = Browser::new(&app);
    let rita = signed_in(&app, RITA).await;
    let aubrey = signed_in(&app, AUBREY).await;
    let body = json!({ "file_name": "x.csv", "csv": GOOD });
    for (browser, expected) in [(&anonymous, 401), (&rita, 403), (&aubrey, 403)] {
        let response = browser
            .post_json("/api/inventory_import_users", &body)
            .await;
        assert_eq!(response.status().as_u16(), expected);
    }
    for (browser, expected) in [(&anonymous, 401), (&rita, 403), (&aubrey, 200)] {
        assert_eq!(
            browser
                .post("/api/inventory_users", &[])
                .await
                .status()
                .as_u16(),
            expected
        );
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM postmark_users").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_files_are_refused_and_change_nothing() {
    let (app, ada) = synced(TestApp::builder().max_body_bytes(4 << 20).spawn().await).await;
    let mut big = String::from("email,name,role,status\n");
    while big.len() <= 1024 * 1024 {
        big.push_str("someone@example.com,Someone Somebody,Member,active\n");
    }
    let result = import(&ada, "big.csv", &big).await;
    assert_eq!(
        result["Rejected"]["errors"][0]["message"], "the file is larger than 1024 KiB",
        "{result}"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM postmark_users").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_import_users_command_reports_problems_and_imports() {
    let (app, _ada) = synced_app().await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    let good = dir.path().join("good.csv");
    std::fs::write(&bad, BAD).unwrap();
    std::fs::write(&good, format!("\u{feff}{GOOD}")).unwrap();
    let url = app.database_url();
    let out = crate::cli::run_binary(
        &["import-users", bad.to_str().unwrap()],
        &[("PAR_DATABASE_URL", &url)],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("nothing imported; 3 problems"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("line 4, status: `asleep` is not active or pending"),
        "{out:?}"
    );
    let out = crate::cli::run_binary(
        &["import-users", good.to_str().unwrap()],
        &[("PAR_DATABASE_URL", &url)],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.starts_with("imported 3 users as sync #2"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_can_be_filtered_and_sorted() {
    let (_app, ada) = synced_app().await;
    import(&ada, "users.csv", GOOD).await;
    let list = |params: &'static [(&'static str, &'static str)]| {
        let ada = &ada;
        async move {
            let response = ada.post("/api/inventory_users", params).await;
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            body["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["email"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(&[("status", "pending")]).await, ["cy@example.com"]);
    assert_eq!(
        list(&[("flag", "account-admin")]).await,
        ["ada@example.com"]
    );
    assert_eq!(
        list(&[("flag", "stale-invitation")]).await,
        ["cy@example.com"]
    );
    assert_eq!(
        list(&[("sort", "servers")]).await,
        ["ben@example.com", "cy@example.com", "ada@example.com"]
    );
    assert_eq!(list(&[("search", "BROOKS")]).await, ["ben@example.com"]);
    let page = ada
        .get("/inventory/users?flag=account-admin")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("1 user matches. Page 1 of 1."), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_page_shows_permissions_and_history() {
    let (app, ada) = synced_app().await;
    import(&ada, "users.csv", GOOD).await;
    let next = "email,name,role,status,invited_at,server_id,permission\n\
                ben@example.com,\"Brooks, Ben\",Member,active,,1,Server Viewer\n";
    import(&ada, "users-2.csv", next).await;
    let response = ada.get("/inventory/users/ben@example.com").await;
    assert_eq!(response.status(), 200);
    // Without Leptos' hydration markers (`<!>`), which erased components add after text.
    let html = response.text().await.unwrap().replace("<!>", "");
    assert!(
        html.contains("<h2 id=\"user-heading\">Brooks, Ben</h2>"),
        "{html}"
    );
    assert!(html.contains("server-1 (1): Server Viewer"));
    assert!(
        html.contains("permission: Server Admin → Server Viewer"),
        "{html}"
    );
    assert!(
        html.contains("permission: Server Viewer → (none)"),
        "server 2 removed: {html}"
    );
    assert_eq!(
        ada.get("/inventory/users/nobody@example.com")
            .await
            .status(),
        404
    );
    let rita = signed_in(&app, RITA).await;
    assert_eq!(
        rita.get("/inventory/users/ben@example.com").await.status(),
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_page_shows_the_history_of_an_email_with_an_underscore() {
    let (_app, ada) = synced_app().await;
    let first = "email,name,role,status,invited_at,server_id,permission\n\
                 first_last@example.com,First Last,Member,active,,1,Server Admin\n\
                 firstxlast@example.com,Lookalike,Member,active,,2,Server Admin\n";
    import(&ada, "users.csv", first).await;
    let next = "email,name,role,status,invited_at,server_id,permission\n\
                first_last@example.com,First Last,Member,active,,1,Server Viewer\n\
                firstxlast@example.com,Lookalike,Member,active,,2,Server Viewer\n";
    import(&ada, "users-2.csv", next).await;
    let html = ada
        .get("/inventory/users/first_last@example.com")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("permission: Server Admin → Server Viewer"),
        "{html}"
    );
    // `_` is not a wildcard: the lookalike's change on server 2 is not in this history.
    assert!(!html.contains("server-2"), "{html}");
}

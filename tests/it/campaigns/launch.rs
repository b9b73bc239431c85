//! Preview and launch: reviewer assignment, the stale-inventory warning, items nobody can
//! review, and the launch's snapshot, written all or nothing.

use postmark_access_review::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{call, count, create, form, launch, launched, setup, MANNY_EMAIL, RITA_EMAIL};
use crate::auth::{signed_in, ADA};

fn loads(preview: &Value) -> Vec<(String, i64)> {
    preview["reviewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["reviewer"].as_str().unwrap().to_string(),
                r["items"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_assigns_reviewers_in_order_and_reroutes_self_review() {
    let (_app, ada) = setup().await;
    let id = create(&ada, &form("Q4 access review", &[])).await;
    let preview = call(&ada, "/api/campaign_preview", &json!({ "id": id })).await;
    assert_eq!(preview["items"], 12, "{preview}");
    assert_eq!(
        loads(&preview),
        [(MANNY_EMAIL.to_string(), 6), (RITA_EMAIL.to_string(), 6)]
    );
    // Rita owns server 1 and holds a permission on it herself: that item goes to Manny.
    assert_eq!(preview["self_review_rerouted"], 1);
    assert_eq!(preview["unassigned"], json!([]));
    assert_eq!(preview["stale_warning"], Value::Null);
    assert_eq!(preview["auditor_reviewers"], json!([]));
    // An auditor as fixed reviewer is pointed out: auditors never decide.
    let audited = create(
        &ada,
        &form(
            "Auditor reviews",
            &[
                ("use_manager_mapping", ""),
                ("use_server_owners", ""),
                ("fixed_reviewer", "aubrey.auditor@example.com"),
            ],
        ),
    )
    .await;
    let preview = call(&ada, "/api/campaign_preview", &json!({ "id": audited })).await;
    assert_eq!(
        preview["auditor_reviewers"],
        json!(["aubrey.auditor@example.com"])
    );

    // Scope: only server 2 and no account roles.
    let narrow = create(
        &ada,
        &form(
            "Server 2 only",
            &[("kind_account_role", ""), ("server_ids", "2")],
        ),
    )
    .await;
    let preview = call(&ada, "/api/campaign_preview", &json!({ "id": narrow })).await;
    assert_eq!(preview["items"], 2, "{preview}");
    assert_eq!(
        loads(&preview),
        [(MANNY_EMAIL.to_string(), 1), (RITA_EMAIL.to_string(), 1)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_warns_when_the_inventory_is_stale() {
    let (app, ada) = setup().await;
    let id = create(&ada, &form("Q4", &[])).await;
    app.clock.advance(time::Duration::days(8));
    // Eight days is past the session's lifetime too.
    let ada = signed_in(&app, ADA).await;
    let preview = call(&ada, "/api/campaign_preview", &json!({ "id": id })).await;
    let warning = preview["stale_warning"].as_str().unwrap();
    assert!(warning.contains("8 days ago"), "{warning}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_without_a_reviewer_are_listed_and_block_launch() {
    let (app, ada) = setup().await;
    // Dan is the fallback and has no manager in a campaign without the mapping: his own
    // account role has nobody left to review it.
    let id = create(
        &ada,
        &form(
            "No mapping",
            &[
                ("use_manager_mapping", ""),
                ("fallback_reviewer", "dan@example.com"),
            ],
        ),
    )
    .await;
    let preview = call(&ada, "/api/campaign_preview", &json!({ "id": id })).await;
    let unassigned = preview["unassigned"].as_array().unwrap();
    assert_eq!(unassigned.len(), 1, "{preview}");
    assert!(unassigned[0]["subject"]
        .as_str()
        .unwrap()
        .starts_with("dan@example.com"));
    let response = launch(&ada, id).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("1 items have no reviewer"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM review_items").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_snapshots_the_inventory_and_later_syncs_change_nothing() {
    let (app, ada, id) = launched().await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM review_items").await, 12);
    let campaign = call(&ada, "/api/campaign_get", &json!({ "id": id })).await;
    assert_eq!(campaign["status"], "Active");
    assert_eq!(campaign["items"], 12);
    // A second launch is refused.
    assert_eq!(launch(&ada, id).await.status(), StatusCode::CONFLICT);
    // Server 3 disappears from Postmark; the campaign still reviews it.
    app.simulator.remove_server(3);
    assert_eq!(ada.post("/api/inventory_sync_now", &[]).await.status(), 200);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM review_items").await, 12);
    let dashboard = call(&ada, "/api/campaign_dashboard", &json!({ "id": id })).await;
    assert_eq!(dashboard["undecided"], 12);
    let launched = count(
        &app,
        "SELECT COUNT(*) FROM audit_events WHERE action = 'campaign.launched'",
    )
    .await;
    assert_eq!(launched, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_is_all_or_nothing() {
    let (app, ada) = setup().await;
    let id = create(&ada, &form("Q4", &[])).await;
    // The database refuses the campaign's status change, the launch's last write but one: the
    // items written before it must go too.
    let refuse: &[&str] = match app.db.backend() {
        Backend::Sqlite => &["CREATE TRIGGER refuse_launch BEFORE UPDATE ON campaigns \
             WHEN NEW.status = 'active' BEGIN SELECT RAISE(ABORT, 'refused by test'); END"],
        Backend::Postgres => &[
            "CREATE FUNCTION refuse_launch() RETURNS trigger AS $$ BEGIN \
             IF NEW.status = 'active' THEN RAISE EXCEPTION 'refused by test'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_launch BEFORE UPDATE ON campaigns \
             FOR EACH ROW EXECUTE FUNCTION refuse_launch()",
        ],
    };
    for sql in refuse {
        sqlx::query(sql).execute(app.db.pool()).await.unwrap();
    }
    let audit_before = count(&app, "SELECT COUNT(*) FROM audit_events").await;
    let response = launch(&ada, id).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM review_items").await, 0);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_events").await,
        audit_before
    );
    let campaign = call(&ada, "/api/campaign_get", &json!({ "id": id })).await;
    assert_eq!(campaign["status"], "Draft");

    let drop = match app.db.backend() {
        Backend::Sqlite => "DROP TRIGGER refuse_launch",
        Backend::Postgres => "DROP TRIGGER refuse_launch ON campaigns",
    };
    sqlx::query(drop).execute(app.db.pool()).await.unwrap();
    assert_eq!(launch(&ada, id).await.status(), 200);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM review_items").await, 12);
}

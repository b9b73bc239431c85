//! Campaigns over HTTP: drafts, preview, launch, dashboard, close, the schedule, templates and
//! the manager mapping.

use postmark_access_review::{db::Backend, postmark::ServerInfo};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    auth::{signed_in, Browser, ADA},
    helpers::TestApp,
};

pub const RITA_EMAIL: &str = "rita.reviewer@example.com";
pub const MANNY_EMAIL: &str = "manny.manager@example.com";

const USERS: &str = "email,name,role,status,invited_at,server_id,permission\n\
    ada.admin@example.com,Ada Admin,Account Owner,active,,,\n\
    dan@example.com,Dan Diaz,Account Admin,active,,,\n\
    rita.reviewer@example.com,Rita Reviewer,Server Access,active,,1,Server Viewer\n\
    chloe@example.com,Chloe Chen,Server Access,active,,1,Server Admin\n\
    chloe@example.com,Chloe Chen,Server Access,active,,2,Server Viewer\n\
    erin@example.com,Erin Evans,Server Access,pending,2026-09-01,3,Server Viewer\n";

pub const MANAGERS: &str = "user_email,manager_email\n\
    chloe@example.com,rita.reviewer@example.com\n\
    erin@example.com,rita.reviewer@example.com\n\
    dan@example.com,manny.manager@example.com\n";

/// Three synced servers, six users, a manager mapping and two server owners; Ada signed in.
pub async fn setup() -> (TestApp, Browser) {
    let app = TestApp::spawn().await;
    for id in 1..=3 {
        app.simulator.add_server(ServerInfo::sample(
            id,
            &format!("server-{id}"),
            &[&format!("tok-{id}")],
        ));
    }
    let ada = signed_in(&app, ADA).await;
    assert_eq!(ada.post("/api/inventory_sync_now", &[]).await.status(), 200);
    let imported = call(
        &ada,
        "/api/inventory_import_users",
        &json!({ "file_name": "users.csv", "csv": USERS }),
    )
    .await;
    assert!(imported.get("Imported").is_some(), "{imported}");
    let mapping = call(
        &ada,
        "/api/managers_import",
        &json!({ "file_name": "managers.csv", "csv": MANAGERS }),
    )
    .await;
    assert_eq!(mapping["Imported"]["rows"], 3, "{mapping}");
    for (server, owner) in [("1", RITA_EMAIL), ("2", MANNY_EMAIL)] {
        let response = ada
            .post(
                "/api/inventory_set_owner",
                &[("postmark_id", server), ("email", owner)],
            )
            .await;
        assert_eq!(response.status(), 200);
    }
    (app, ada)
}

/// Server functions that take JSON; the others take a form, as the pages send them.
const JSON_ENDPOINTS: [&str; 5] = [
    "/api/inventory_import_users",
    "/api/inventory_servers",
    "/api/managers_import",
    "/api/reviews_decide_many",
    "/api/reviews_queue",
];

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}[{key}]")
                };
                flatten(&key, value, out);
            }
        }
        Value::String(text) => out.push((prefix.to_string(), text.clone())),
        Value::Null => {}
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// Calls a server function the way the app's pages do: JSON for the JSON endpoints, a form
/// (`query[page]=1` for nested fields) for the rest.
pub async fn send(browser: &Browser, path: &str, body: &Value) -> reqwest::Response {
    if JSON_ENDPOINTS.contains(&path) {
        browser.post_json(path, body).await
    } else {
        let mut pairs = Vec::new();
        flatten("", body, &mut pairs);
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        browser.post(path, &pairs).await
    }
}

/// A server function call that must succeed.
pub async fn call(browser: &Browser, path: &str, body: &Value) -> Value {
    let response = send(browser, path, body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The form fields of a campaign: everything in scope, managers and owners on, Manny as
/// fallback reviewer; `changes` replace or add fields.
pub fn form(name: &str, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        ("name", name),
        ("description", "Quarterly review"),
        ("kind_account_role", "on"),
        ("kind_server_permission", "on"),
        ("kind_server", "on"),
        ("starts_on", "2026-11-28"),
        ("due_on", "2026-12-12"),
        ("default_outcome", "revoke"),
        ("revoke_needs_justification", "on"),
        ("use_manager_mapping", "on"),
        ("use_server_owners", "on"),
        ("fallback_reviewer", MANNY_EMAIL),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (key, value) in changes {
        fields.retain(|(k, _)| k != key);
        if !value.is_empty() {
            fields.push((key.to_string(), value.to_string()));
        }
    }
    fields
        .into_iter()
        .map(|(k, v)| (format!("input[{k}]"), v))
        .collect()
}

/// Posts the campaign form; answers the response.
pub async fn post_form(
    browser: &Browser,
    path: &str,
    extra: &[(&str, &str)],
    fields: &[(String, String)],
) -> reqwest::Response {
    let mut all: Vec<(&str, &str)> = extra.to_vec();
    all.extend(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    browser.post(path, &all).await
}

/// Creates a draft and answers its id.
pub async fn create(browser: &Browser, fields: &[(String, String)]) -> i64 {
    let response = post_form(browser, "/api/campaign_create", &[], fields).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(
        status.is_success() || status.is_redirection(),
        "{status}: {text}"
    );
    let list = call(browser, "/api/campaigns_list", &json!({})).await;
    list[0]["id"].as_i64().unwrap()
}

pub async fn launch(browser: &Browser, id: i64) -> reqwest::Response {
    browser
        .post("/api/campaign_launch", &[("id", &id.to_string())])
        .await
}

/// A launched campaign over the [`setup`] inventory.
pub async fn launched() -> (TestApp, Browser, i64) {
    let (app, ada) = setup().await;
    let id = create(&ada, &form("Q4 access review", &[])).await;
    let response = launch(&ada, id).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    (app, ada, id)
}

pub async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(app.db.pool()).await.unwrap();
    n
}

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

#[tokio::test]
async fn a_bad_campaign_form_names_every_problem_and_saves_nothing() {
    let (app, ada) = setup().await;
    let bad = form(
        "",
        &[
            ("kind_account_role", ""),
            ("kind_server_permission", ""),
            ("kind_server", ""),
            ("due_on", "2026-11-01"),
            ("server_ids", "1, 99"),
            ("fallback_reviewer", "nobody"),
        ],
    );
    let response = post_form(&ada, "/api/campaign_create", &[], &bad).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = response.text().await.unwrap();
    for expected in [
        "name",
        "at least one kind",
        "due date is before",
        "server 99 is not in the inventory",
        "`nobody` is not an email address",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM campaigns").await, 0);
}

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
async fn drafts_change_with_before_and_after_launched_campaigns_do_not() {
    let (app, ada) = setup().await;
    let id = create(&ada, &form("Q4", &[])).await;
    let renamed = form("Q4 (renamed)", &[("due_on", "2026-12-20")]);
    let response = post_form(
        &ada,
        "/api/campaign_update",
        &[("id", &id.to_string())],
        &renamed,
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let (details,): (String,) =
        sqlx::query_as("SELECT details FROM audit_events WHERE action = 'campaign.updated'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["before"]["name"], "Q4");
    assert_eq!(details["after"]["name"], "Q4 (renamed)");
    assert_eq!(details["after"]["due_on"], "2026-12-20");

    assert_eq!(launch(&ada, id).await.status(), 200);
    let response = post_form(
        &ada,
        "/api/campaign_update",
        &[("id", &id.to_string())],
        &renamed,
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn closing_applies_the_default_outcome_and_queues_revocations() {
    let (app, ada, id) = launched().await;
    let response = ada
        .post("/api/campaign_close", &[("id", &id.to_string())])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "12");
    let dashboard = call(&ada, "/api/campaign_dashboard", &json!({ "id": id })).await;
    assert_eq!(dashboard["campaign"]["status"], "Closed");
    assert_eq!(dashboard["revoked"], 12);
    assert_eq!(dashboard["undecided"], 0);
    assert_eq!(dashboard["to_revoke"], 12);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM revocations WHERE status = 'to_revoke'"
        )
        .await,
        12
    );
    let response = ada
        .post("/api/campaign_close", &[("id", &id.to_string())])
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn an_open_campaign_closes_itself_after_the_grace_period() {
    let (app, ada) = setup().await;
    let id = create(&ada, &form("Q4", &[("default_outcome", "keep")])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    // Due 2026-12-12, three days' grace: still open on the 15th, closed on the 16th.
    app.clock.advance(time::Duration::days(17));
    let ada = signed_in(&app, ADA).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let campaign = call(&ada, "/api/campaign_get", &json!({ "id": id })).await;
    assert_eq!(campaign["status"], "Active");
    // Past the due date, in the grace period: everyone with undecided items is overdue.
    let dashboard = call(&ada, "/api/campaign_dashboard", &json!({ "id": id })).await;
    assert_eq!(dashboard["overdue"], json!([MANNY_EMAIL, RITA_EMAIL]));
    app.clock.advance(time::Duration::days(1));
    let mut status = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        status = call(&ada, "/api/campaign_get", &json!({ "id": id })).await["status"].clone();
        if status == "Closed" {
            break;
        }
    }
    assert_eq!(status, "Closed");
    let dashboard = call(&ada, "/api/campaign_dashboard", &json!({ "id": id })).await;
    assert_eq!(dashboard["approved"], 12);
    assert_eq!(dashboard["campaign"]["closed_by"], "scheduler");
    let (details,): (String,) =
        sqlx::query_as("SELECT details FROM audit_events WHERE action = 'campaign.closed'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(details.contains("\"automatic\":true"), "{details}");
}

#[tokio::test]
async fn a_recurring_template_creates_next_quarters_draft() {
    let (app, ada) = setup().await;
    let fields = form(
        "Quarterly review",
        &[
            ("recurring", "on"),
            ("starts_on", "2027-01-04"),
            ("due_on", "2027-01-18"),
        ],
    );
    let template = create(&ada, &fields).await;
    let campaign = call(&ada, "/api/campaign_get", &json!({ "id": template })).await;
    assert_eq!(campaign["status"], "Template");
    assert_eq!(campaign["next_run_on"], "2027-01-04");
    // A template is never launched itself.
    assert_eq!(launch(&ada, template).await.status(), StatusCode::CONFLICT);

    app.clock.advance(time::Duration::days(37)); // 2027-01-04
    let ada = signed_in(&app, ADA).await;
    let mut list = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        list = call(&ada, "/api/campaigns_list", &json!({})).await;
        if list.as_array().unwrap().len() == 2 {
            break;
        }
    }
    let draft = &list[0];
    assert_eq!(draft["status"], "Draft", "{list}");
    assert_eq!(draft["name"], "Quarterly review — 2027 Q1");
    assert_eq!(draft["starts_on"], "2027-01-04");
    assert_eq!(draft["due_on"], "2027-01-18");
    assert_eq!(draft["template_id"], template);
    let campaign = call(&ada, "/api/campaign_get", &json!({ "id": template })).await;
    assert_eq!(campaign["next_run_on"], "2027-04-04");
    // Only one draft per quarter, however often the schedule runs.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM campaigns").await, 2);
}

#[tokio::test]
async fn a_bad_manager_mapping_changes_nothing() {
    let (app, ada) = setup().await;
    let audit_before = count(&app, "SELECT COUNT(*) FROM audit_events").await;
    let result = call(
        &ada,
        "/api/managers_import",
        &json!({
            "file_name": "m.csv",
            "csv": "user_email,manager_email\nchloe@example.com,chloe@example.com\nx,y@example.com\n"
        }),
    )
    .await;
    let errors = result["Rejected"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{result}");
    assert_eq!(errors[0]["line"], 2);
    assert_eq!(errors[1]["column"], "user_email");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM manager_mappings").await,
        3
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_events").await,
        audit_before
    );

    let result = call(
        &ada,
        "/api/managers_import",
        &json!({ "file_name": "m.csv", "csv": "user_email,manager_email\nchloe@example.com,manny.manager@example.com\nzed@example.com,rita.reviewer@example.com\n" }),
    )
    .await;
    assert_eq!(
        result["Imported"],
        json!({ "rows": 2, "added": 1, "removed": 2, "changed": 1, "not_in_inventory": 1 })
    );
}

#[tokio::test]
async fn campaign_pages_render_with_real_statuses() {
    let (app, ada, id) = launched().await;
    let page = ada.get(&format!("/campaigns/{id}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Q4 access review") && html.contains("By reviewer"),
        "{html}"
    );
    assert_eq!(ada.get("/campaigns/999").await.status(), 404);
    let rita = signed_in(&app, crate::auth::RITA).await;
    // Reviewers are pointed to their queue without asking the server for what it would refuse.
    let page = rita.get(&format!("/campaigns/{id}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Campaigns are run by admins") && !html.contains("By reviewer"));
    // Free text is escaped wherever the server renders it, form fields included.
    let fields = form(
        "Markup test",
        &[("description", "</textarea><script>alert(1)</script>")],
    );
    let draft_id = create(&ada, &fields).await;
    let html = ada
        .get(&format!("/campaigns/{draft_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)"), "{html}");
    let queue = rita.get("/reviews?group=server").await;
    assert_eq!(queue.status(), 200);
    let html = queue.text().await.unwrap();
    assert!(
        html.contains("server-1 (1)") && html.contains("queue-item"),
        "{html}"
    );
}

async fn settle(browser: &Browser, item: &str, decision: &str, why: &str) -> StatusCode {
    browser
        .post(
            "/api/campaign_resolve_flag",
            &[
                ("item_id", item),
                ("decision", decision),
                ("justification", why),
            ],
        )
        .await
        .status()
}

#[tokio::test]
async fn an_admin_settles_items_flagged_at_close() {
    let (app, ada) = setup().await;
    let id = create(&ada, &form("Q4", &[("default_outcome", "flag")])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    let dashboard = call(&ada, "/api/campaign_dashboard", &json!({ "id": id })).await;
    let item = dashboard["undecided_items"][0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    // Not while the campaign is open.
    assert_eq!(
        settle(&ada, &item, "revoke", "gone").await,
        StatusCode::CONFLICT
    );
    assert_eq!(
        ada.post("/api/campaign_close", &[("id", &id.to_string())])
            .await
            .status(),
        200
    );
    let dashboard = call(&ada, "/api/campaign_dashboard", &json!({ "id": id })).await;
    assert_eq!(dashboard["flagged"], 12);
    assert_eq!(dashboard["to_revoke"], 0);
    // Admins only, and with a reason.
    let rita = signed_in(&app, crate::auth::RITA).await;
    assert_eq!(
        settle(&rita, &item, "revoke", "gone").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        settle(&ada, &item, "revoke", " ").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        settle(&ada, &item, "revoke", "Left in September").await,
        StatusCode::OK
    );
    assert_eq!(
        settle(&ada, &item, "approve", "again").await,
        StatusCode::CONFLICT
    );
    let dashboard = call(&ada, "/api/campaign_dashboard", &json!({ "id": id })).await;
    assert_eq!(dashboard["flagged"], 11);
    assert_eq!(dashboard["revoked"], 1);
    assert_eq!(dashboard["to_revoke"], 1);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM revocations WHERE decided_via = 'admin'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'review.flag_resolved'"
        )
        .await,
        1
    );
}

//! Campaigns over HTTP: drafts, preview, launch, dashboard, close, the schedule, templates and
//! the manager mapping.

mod close;
mod drafts;
mod flagged;
mod items;
mod launch;
mod managers;
mod reminders;
mod schedule;
mod scope_form;

use postmark_access_review::postmark::ServerInfo;
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
    seeded(TestApp::spawn().await).await
}

/// [`setup`] on an app built by the caller (with mail, say).
pub async fn seeded(app: TestApp) -> (TestApp, Browser) {
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
const JSON_ENDPOINTS: [&str; 8] = [
    "/api/campaign_items",
    "/api/campaign_resolve_flags",
    "/api/inventory_import_users",
    "/api/inventory_servers",
    "/api/managers_import",
    "/api/reviews_accept_recommended",
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

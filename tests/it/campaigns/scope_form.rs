//! The campaign form's scope and reviewers: servers and account roles are picked from the
//! inventory as checkboxes, an unknown server or role is refused by name and nothing is saved
//! (on create and on edit), and the reviewer fields suggest known reviewers, never auditors.

use reqwest::StatusCode;
use serde_json::json;

use super::{call, count, create, form, post_form, setup, MANNY_EMAIL, RITA_EMAIL};
use crate::auth::{signed_in, Browser, AUBREY};

/// The form's fields with checked boxes: `input[{field}][]` once per value.
fn with_checked(
    name: &str,
    changes: &[(&str, &str)],
    checked: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut fields = form(name, changes);
    fields.extend(
        checked
            .iter()
            .map(|(field, value)| (format!("input[{field}][]"), value.to_string())),
    );
    fields
}

/// `(value, checked)` of every `<input>` named `name` in `html`.
fn boxes(html: &str, name: &str) -> Vec<(String, bool)> {
    let needle = format!("name=\"{name}\"");
    html.split("<input")
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
        .filter(|tag| tag.contains(&needle))
        .map(|tag| {
            let value = tag
                .split("value=\"")
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap_or_default()
                .to_string();
            let checked = tag
                .split_whitespace()
                .any(|a| a == "checked" || a.starts_with("checked="));
            (value, checked)
        })
        .collect()
}

async fn stored_scope(app: &crate::helpers::TestApp) -> Vec<(Option<String>, Option<String>)> {
    sqlx::query_as("SELECT server_ids, roles FROM campaigns ORDER BY id")
        .fetch_all(app.db.pool())
        .await
        .unwrap()
}

async fn update(ada: &Browser, id: i64, fields: &[(String, String)]) -> reqwest::Response {
    post_form(
        ada,
        "/api/campaign_update",
        &[("id", &id.to_string())],
        fields,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_role_is_refused_by_name_and_nothing_is_saved() {
    let (app, ada) = setup().await;
    // Checked boxes, as the form posts them: one known role, one nobody holds.
    let fields = with_checked(
        "Roles",
        &[],
        &[("roles", "Account Admin"), ("roles", "Acount Admin")],
    );
    let response = post_form(&ada, "/api/campaign_create", &[], &fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("`Acount Admin` is not an account role"),
        "{text}"
    );
    // The comma-separated encoding of the former text field is checked the same way.
    let legacy = form("Roles", &[("roles", "Account Owner, Superuser")]);
    let response = post_form(&ada, "/api/campaign_create", &[], &legacy).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("`Superuser`"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM campaigns").await, 0);

    // Editing a draft: refused, the draft and the audit trail unchanged.
    let id = create(
        &ada,
        &with_checked("Roles", &[], &[("roles", "account admin")]),
    )
    .await;
    let before = stored_scope(&app).await;
    assert_eq!(before[0].1.as_deref(), Some(r#"["Account Admin"]"#));
    let response = update(
        &ada,
        id,
        &with_checked(
            "Roles renamed",
            &[],
            &[("roles", "Teammate"), ("roles", "Root")],
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("`Root`"));
    assert_eq!(stored_scope(&app).await, before);
    let name: (String,) = sqlx::query_as("SELECT name FROM campaigns")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(name.0, "Roles");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'campaign.updated'"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_server_is_refused_by_id_on_create_and_edit() {
    let (app, ada) = setup().await;
    let fields = with_checked("Servers", &[], &[("server_ids", "1"), ("server_ids", "99")]);
    let response = post_form(&ada, "/api/campaign_create", &[], &fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = response.text().await.unwrap();
    assert!(text.contains("server 99 is not in the inventory"), "{text}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM campaigns").await, 0);

    let id = create(&ada, &with_checked("Servers", &[], &[("server_ids", "2")])).await;
    let before = stored_scope(&app).await;
    assert_eq!(before[0].0.as_deref(), Some("[2]"));
    let response = update(
        &ada,
        id,
        &with_checked("Servers", &[], &[("server_ids", "4")]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("server 4 is not in the inventory"));
    assert_eq!(stored_scope(&app).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_lists_inventory_servers_and_roles_with_the_drafts_choices_checked() {
    let (_app, ada) = setup().await;
    let id = create(
        &ada,
        &with_checked(
            "Picked",
            &[],
            &[
                ("server_ids", "1"),
                ("server_ids", "3"),
                ("roles", "ACCOUNT ADMIN"),
            ],
        ),
    )
    .await;
    let saved = call(&ada, "/api/campaign_get", &json!({ "id": id })).await;
    assert_eq!(saved["server_ids"], json!([1, 3]));
    assert_eq!(saved["roles"], json!(["Account Admin"]));

    let html = ada
        .get(&format!("/campaigns/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let servers = boxes(&html, "input[server_ids][]");
    assert_eq!(
        servers,
        [("1", true), ("2", false), ("3", true)].map(|(v, c)| (v.to_string(), c)),
        "{html}"
    );
    for name in ["server-1", "server-2", "server-3", "every server"] {
        assert!(html.contains(name), "{name}");
    }
    let roles = boxes(&html, "input[roles][]");
    // Postmark's roles, and the inventory's (Server Access is held by Rita and Chloe).
    for role in [
        "Account Owner",
        "Account Admin",
        "Technical",
        "Billing",
        "Server Access",
    ] {
        let found = roles.iter().find(|(value, _)| value == role);
        assert_eq!(
            found.map(|(_, on)| *on),
            Some(role == "Account Admin"),
            "{role}: {roles:?}"
        );
    }
    // The text fields are gone.
    assert!(!html.contains("name=\"input[server_ids]\""), "{html}");
    assert!(!html.contains("name=\"input[roles]\""), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewer_fields_suggest_known_reviewers_but_not_auditors() {
    let (app, ada) = setup().await;
    // Aubrey signs in as an auditor: she is known, but never a reviewer.
    signed_in(&app, AUBREY).await;
    let html = ada.get("/campaigns/new").await.text().await.unwrap();
    let list = html
        .split("<datalist id=\"known-reviewers\">")
        .nth(1)
        .and_then(|rest| rest.split("</datalist>").next())
        .unwrap_or_else(|| panic!("no reviewer datalist: {html}"));
    // Ada signed in as admin; Rita and Manny are server owners, Rita and Manny managers.
    for reviewer in ["ada.admin@example.com", RITA_EMAIL, MANNY_EMAIL] {
        assert!(
            list.contains(&format!("value=\"{reviewer}\"")),
            "{reviewer}: {list}"
        );
    }
    assert!(!list.contains("aubrey"), "{list}");
    assert!(html.contains("list=\"known-reviewers\""), "{html}");
}

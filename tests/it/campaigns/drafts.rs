//! Campaign drafts: the settings form and its checks, updates while a draft, and the campaign
//! pages the server renders from them.

use reqwest::StatusCode;
use serde_json::Value;

use super::{count, create, form, launch, launched, post_form, setup};
use crate::auth::signed_in;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

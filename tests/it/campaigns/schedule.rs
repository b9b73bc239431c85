//! The campaign schedule: open campaigns closing themselves after the grace period, and
//! recurring templates creating each quarter's draft.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{call, count, create, form, launch, setup, MANNY_EMAIL, RITA_EMAIL};
use crate::auth::{signed_in, ADA};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_far_in_the_past_creates_one_catch_up_draft() {
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
    // Nobody ran the schedule for almost two years (the server was down, or the template was
    // imported with an old start): eight quarters were missed.
    app.clock.advance(time::Duration::days(37 + 365 + 366 - 60)); // 2028-10-05
    let ada = signed_in(&app, ADA).await;
    let mut list = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        list = call(&ada, "/api/campaigns_list", &json!({})).await;
        if list.as_array().unwrap().len() >= 2 {
            break;
        }
    }
    // Let the schedule run a few more times: still one draft, for the current quarter.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM campaigns").await,
        2,
        "{list}"
    );
    let list = call(&ada, "/api/campaigns_list", &json!({})).await;
    let draft = &list[0];
    assert_eq!(draft["name"], "Quarterly review — 2028 Q4", "{list}");
    assert_eq!(draft["starts_on"], "2028-10-04");
    assert_eq!(draft["due_on"], "2028-10-18");
    let campaign = call(&ada, "/api/campaign_get", &json!({ "id": template })).await;
    assert_eq!(campaign["next_run_on"], "2029-01-04");
    let (details,): (String,) = sqlx::query_as(
        "SELECT CAST(details AS TEXT) FROM audit_events WHERE action = 'campaign.created' \
         ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(details.contains("\"skipped_quarters\":7"), "{details}");
}

//! Closing a campaign by hand: the default outcome, the revocations it queues, and the items
//! flagged at close that an admin settles afterwards.

use reqwest::StatusCode;
use serde_json::json;

use super::{call, count, create, form, launch, launched, setup};
use crate::auth::{signed_in, Browser};

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
    let items = dashboard["undecided_items"].as_array().unwrap();
    // Ada settles items about others; her own Account Owner access is someone else's call.
    let own = items
        .iter()
        .find(|i| i["user_email"] == "ada.admin@example.com")
        .expect("an item about Ada")["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let item = items
        .iter()
        .find(|i| i["user_email"] != "ada.admin@example.com")
        .unwrap()["id"]
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
        settle(&ada, &own, "approve", "I still own the account").await,
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

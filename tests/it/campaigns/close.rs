//! Closing a campaign by hand: the default outcome, the revocations it queues, and the items
//! flagged at close that an admin settles afterwards.

use reqwest::StatusCode;
use serde_json::json;

use super::{call, count, create, form, launch, launched, setup};
use crate::auth::{signed_in, Browser};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_settles_items_flagged_at_close() {
    let (app, ada) = setup().await;
    let id = create(&ada, &form("Q4", &[("default_outcome", "flag")])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    let list = call(
        &ada,
        "/api/campaign_items",
        &json!({ "query": { "campaign": id, "decision": "undecided" } }),
    )
    .await;
    let items = list["items"].as_array().unwrap();
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

/// Two admins settling the same flagged item at once, one keeping it and one revoking it:
/// exactly one wins, and the item and its revocation agree (no approved item with a
/// revocation, no revoked item without one), on either engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_admins_settling_one_item_at_once_leave_one_consistent_outcome() {
    let (app, ada) = setup().await;
    let other_tab = signed_in(&app, crate::auth::ADA).await;
    let id = create(&ada, &form("Q4", &[("default_outcome", "flag")])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    let list = call(
        &ada,
        "/api/campaign_items",
        &json!({ "query": { "campaign": id, "decision": "undecided" } }),
    )
    .await;
    let items: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["user_email"] != "ada.admin@example.com")
        .map(|i| i["id"].as_i64().unwrap().to_string())
        .collect();
    assert!(items.len() >= 10, "{items:?}");
    let close = ada
        .post("/api/campaign_close", &[("id", &id.to_string())])
        .await;
    assert_eq!(close.status(), 200);

    for (n, item) in items.iter().enumerate() {
        // Alternate who asks first, so either order of arrival is tried.
        let (keep, revoke) = if n % 2 == 0 {
            (&ada, &other_tab)
        } else {
            (&other_tab, &ada)
        };
        let (kept, revoked) = tokio::join!(
            settle(keep, item, "approve", "Still on the team"),
            settle(revoke, item, "revoke", "Left in September"),
        );
        let mut answers = [kept.as_u16(), revoked.as_u16()];
        answers.sort_unstable();
        assert_eq!(answers, [200, 409], "item {item}: {kept} / {revoked}");
        let (decision, revocations): (String, i64) = sqlx::query_as(
            "SELECT i.decision, (SELECT COUNT(*) FROM revocations r WHERE r.item_id = i.id) \
             FROM review_items i WHERE i.id = $1",
        )
        .bind(item.parse::<i64>().unwrap())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        let expected = if kept == StatusCode::OK {
            ("approve", 0)
        } else {
            ("revoke", 1)
        };
        assert_eq!((decision.as_str(), revocations), expected, "item {item}");
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'review.flag_resolved'"
        )
        .await,
        items.len() as i64
    );
}

/// Closed with nobody deciding: the default outcome decided every item, and the campaign page
/// says so instead of reading 100%.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_tells_people_from_the_default_outcome() {
    let (app, ada) = setup().await;
    let id = create(&ada, &form("Q4", &[])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    let rita = signed_in(&app, crate::auth::RITA).await;
    let queue = call(&rita, "/api/reviews_queue", &json!({ "query": {} })).await;
    let first = &queue["groups"][0][1][0];
    let decided = super::send(
        &rita,
        "/api/reviews_decide",
        &json!({ "item_id": first["id"], "decision": "approve", "justification": "Still needed",
                 "version": first["version"] }),
    )
    .await;
    assert_eq!(decided.status(), 200);
    let close = ada
        .post("/api/campaign_close", &[("id", &id.to_string())])
        .await;
    assert_eq!(close.status(), 200);
    let dashboard = call(&ada, "/api/campaign_dashboard", &json!({ "id": id })).await;
    assert_eq!(dashboard["by_reviewers"], 1, "{dashboard}");
    assert_eq!(dashboard["by_admins"], 0);
    assert_eq!(dashboard["by_default"], 11);
    let page = ada
        .get(&format!("/campaigns/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("1 of 12 (8%)"), "{page}");
    assert!(
        page.contains(
            "Decided by reviewers: 1; by admins: 0; by the default outcome at close: 11."
        ),
        "{page}"
    );
}

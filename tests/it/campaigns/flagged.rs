//! Settling many flagged items at once: one justification, all or nothing, the same rules as
//! settling one (admins only, nobody settles their own access, closed and not signed off).

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{call, count, create, form, launch, send, setup};
use crate::{
    auth::{signed_in, Browser, AUBREY, RITA},
    helpers::TestApp,
};

const ADA_EMAIL: &str = "ada.admin@example.com";

/// A closed campaign whose every item was flagged at close: `(id, Ada's own item, the others)`.
async fn closed_with_flags(ada: &Browser) -> (i64, i64, Vec<i64>) {
    let id = create(ada, &form("Q4", &[("default_outcome", "flag")])).await;
    assert_eq!(launch(ada, id).await.status(), 200);
    assert_eq!(
        ada.post("/api/campaign_close", &[("id", &id.to_string())])
            .await
            .status(),
        200
    );
    let page = call(
        ada,
        "/api/campaign_items",
        &json!({ "query": { "campaign": id, "decision": "flag" } }),
    )
    .await;
    let items = page["items"].as_array().unwrap();
    let item_id = |i: &Value| i["id"].as_i64().unwrap();
    let own = items
        .iter()
        .find(|i| i["user_email"] == ADA_EMAIL)
        .map(item_id)
        .expect("an item about Ada");
    let others: Vec<i64> = items
        .iter()
        .filter(|i| i["user_email"] != ADA_EMAIL)
        .map(item_id)
        .collect();
    assert!(others.len() >= 6, "{others:?}");
    (id, own, others)
}

async fn settle_many(
    browser: &Browser,
    campaign: i64,
    ids: &[i64],
    decision: &str,
    why: &str,
) -> reqwest::Response {
    send(
        browser,
        "/api/campaign_resolve_flags",
        &json!({ "campaign_id": campaign, "item_ids": ids, "decision": decision, "justification": why }),
    )
    .await
}

/// What a refused request must leave as it was.
async fn state(app: &TestApp, campaign: i64) -> (i64, i64, i64) {
    (
        count(
            app,
            &format!(
                "SELECT COUNT(*) FROM review_items WHERE campaign_id = {campaign} \
                 AND decision = 'flag'"
            ),
        )
        .await,
        count(app, "SELECT COUNT(*) FROM revocations").await,
        count(
            app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'review.flag_resolved'",
        )
        .await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_settles_many_flagged_items_with_one_justification() {
    let (app, ada) = setup().await;
    let (id, _own, others) = closed_with_flags(&ada).await;
    let (flagged, _, _) = state(&app, id).await;
    let response = settle_many(&ada, id, &others[..3], "revoke", "Left in September").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "3");
    let response = settle_many(&ada, id, &others[3..5], "approve", "Still on the team").await;
    assert_eq!(response.text().await.unwrap(), "2");
    assert_eq!(state(&app, id).await, (flagged - 5, 3, 5));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM revocations WHERE decided_via = 'admin' AND status = 'to_revoke'"
        )
        .await,
        3
    );
    let (details,): (String,) = sqlx::query_as(
        "SELECT details FROM audit_events WHERE action = 'review.flag_resolved' \
         AND subject = $1",
    )
    .bind(format!("item:{}", others[0]))
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["after"]["decision"], "revoke");
    assert_eq!(details["after"]["justification"], "Left in September");
    assert_eq!(details["bulk"], 3);
    let dashboard = call(&ada, "/api/campaign_dashboard", &json!({ "id": id })).await;
    assert_eq!(dashboard["flagged"], flagged - 5);
    assert_eq!(dashboard["by_admins"], 5);
    let revoked = call(
        &ada,
        "/api/campaign_items",
        &json!({ "query": { "campaign": id, "decision": "revoke" } }),
    )
    .await;
    assert_eq!(revoked["matching"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ones_own_access_in_the_selection_refuses_all_of_it() {
    let (app, ada) = setup().await;
    let (id, own, others) = closed_with_flags(&ada).await;
    let before = state(&app, id).await;
    let response = settle_many(&ada, id, &[others[0], own, others[1]], "approve", "fine").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = response.text().await.unwrap();
    assert!(text.contains("your own access"), "{text}");
    assert!(text.contains(ADA_EMAIL), "{text}");
    assert!(text.contains("Nothing was settled"), "{text}");
    assert_eq!(state(&app, id).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_settle() {
    let (app, ada) = setup().await;
    let (id, _own, others) = closed_with_flags(&ada).await;
    let before = state(&app, id).await;
    for person in [RITA, AUBREY] {
        let browser = signed_in(&app, person).await;
        let response = settle_many(&browser, id, &others[..2], "revoke", "gone").await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(state(&app, id).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_item_that_cannot_be_settled_refuses_the_whole_request() {
    let (app, ada) = setup().await;
    let (id, _own, others) = closed_with_flags(&ada).await;
    // One settled already, on its own.
    let single = ada
        .post(
            "/api/campaign_resolve_flag",
            &[
                ("item_id", others[0].to_string().as_str()),
                ("decision", "approve"),
                ("justification", "kept"),
            ],
        )
        .await;
    assert_eq!(single.status(), 200);
    let before = state(&app, id).await;
    let response = settle_many(&ada, id, &others[..4], "revoke", "gone").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let text = response.text().await.unwrap();
    assert!(text.contains("not waiting for an admin"), "{text}");
    assert!(text.contains("Nothing was settled"), "{text}");
    assert_eq!(state(&app, id).await, before);

    // An item that is not the campaign's, and one that does not exist, are named.
    let other = create(&ada, &form("Other", &[("default_outcome", "flag")])).await;
    assert_eq!(launch(&ada, other).await.status(), 200);
    let (foreign,): (i64,) =
        sqlx::query_as("SELECT MIN(id) FROM review_items WHERE campaign_id = $1")
            .bind(other)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    for stranger in [foreign, 999_999] {
        let response = settle_many(&ada, id, &[others[1], stranger], "revoke", "gone").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let text = response.text().await.unwrap();
        assert!(text.contains(&format!("Item {stranger} ")), "{text}");
    }
    // No justification, no selection, or "flag" as the decision: refused.
    for (ids, decision, why) in [
        (&others[1..3], "revoke", "  "),
        (&others[..0], "revoke", "gone"),
        (&others[1..3], "flag", "gone"),
    ] {
        let response = settle_many(&ada, id, ids, decision, why).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(state(&app, id).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_while_the_campaign_is_open() {
    let (app, ada) = setup().await;
    let id = create(&ada, &form("Q4", &[("default_outcome", "flag")])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    let (item,): (i64,) = sqlx::query_as(
        "SELECT MIN(id) FROM review_items WHERE campaign_id = $1 AND user_email <> $2",
    )
    .bind(id)
    .bind(ADA_EMAIL)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let response = settle_many(&ada, id, &[item], "revoke", "gone").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("once their campaign is closed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_off_campaign_is_refused_before_anything_else() {
    // Sign-off needs every flag settled, so a signed-off campaign has none left: the refusal
    // names the sign-off, not the item.
    let (app, ada, id) = crate::signoff::signed_off().await;
    let (item,): (i64,) = sqlx::query_as("SELECT MIN(id) FROM review_items WHERE campaign_id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let before = state(&app, id).await;
    let response = settle_many(&ada, id, &[item], "revoke", "gone").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().await.unwrap().contains("signed off"));
    assert_eq!(state(&app, id).await, before);
}

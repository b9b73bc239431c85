//! Nobody decides about their own access, compared by person: when an identity provider lists
//! two emails for one person, every path that decides or places an item treats them as one
//! (assignment at launch, a decision, a bulk decision, handing on one item or a whole queue,
//! settling a flagged item).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    auth::{signed_in, Browser, RITA},
    campaigns::{
        call, count, create, form, launch, launched, seeded, send, setup, MANNY_EMAIL, RITA_EMAIL,
    },
    helpers::TestApp,
    scim::{Scim, USER},
};

/// A person at the provider called `user_name` who also has the email `other`.
async fn one_person(scim: &Scim<'_>, user_name: &str, other: &str) {
    scim.create_user(&json!({
        "schemas": [USER],
        "userName": user_name,
        "emails": [
            { "value": user_name, "type": "work", "primary": true },
            { "value": other.to_uppercase(), "type": "other" },
        ],
        "active": true,
    }))
    .await;
}

async fn queue_items(browser: &Browser) -> Vec<Value> {
    let queue = call(browser, "/api/reviews_queue", &json!({ "query": {} })).await;
    queue["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g[1].as_array().unwrap().clone())
        .collect()
}

fn about<'a>(items: &'a [Value], user: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["user_email"] == user)
        .unwrap_or_else(|| panic!("no item about {user}"))
}

async fn refused_as_own(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = response.text().await.unwrap();
    assert!(text.contains("own access"), "{text}");
}

async fn decisions(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM review_items WHERE decision IS NOT NULL",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewers_other_email_at_the_provider_is_their_own_access_on_every_path() {
    let (app, ada, campaign) = launched().await;
    let scim = Scim::new(&app, "Okta").await;
    // erin@example.com is Rita's other login; chloe@example.com is Manny's.
    one_person(&scim, RITA_EMAIL, "erin@example.com").await;
    one_person(&scim, MANNY_EMAIL, "chloe@example.com").await;
    let rita = signed_in(&app, RITA).await;
    let items = queue_items(&rita).await;
    let erin = about(&items, "erin@example.com");
    let chloe = about(&items, "chloe@example.com");

    // A decision, and a bulk decision that includes it: refused, nothing recorded.
    let one = send(
        &rita,
        "/api/reviews_decide",
        &json!({ "item_id": erin["id"], "decision": "approve", "justification": "",
                 "version": erin["version"] }),
    )
    .await;
    refused_as_own(one).await;
    let ids: Vec<i64> = items.iter().map(|i| i["id"].as_i64().unwrap()).collect();
    let many = rita
        .post_json(
            "/api/reviews_decide_many",
            &json!({ "item_ids": ids, "decision": "approve", "justification": "" }),
        )
        .await;
    refused_as_own(many).await;
    assert_eq!(decisions(&app).await, 0);

    // Handing Chloe's item, or Rita's whole queue, to Manny (Chloe's other self).
    let handed = rita
        .post(
            "/api/reviews_reassign",
            &[
                ("item_id", chloe["id"].to_string().as_str()),
                ("to", MANNY_EMAIL),
                ("reason", "holiday"),
            ],
        )
        .await;
    refused_as_own(handed).await;
    let delegated = ada
        .post(
            "/api/reviews_delegate",
            &[
                ("campaign_id", campaign.to_string().as_str()),
                ("from", RITA_EMAIL),
                ("to", MANNY_EMAIL),
                ("reason", "holiday"),
            ],
        )
        .await;
    refused_as_own(delegated).await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM review_items WHERE reviewer_email = 'rita.reviewer@example.com'"
        )
        .await,
        items.len() as i64
    );

    // A campaign launched now places Erin's item (Rita manages her) with the fallback.
    let next = create(&ada, &form("Q1 access review", &[])).await;
    assert_eq!(launch(&ada, next).await.status(), 200);
    let (reviewer, via): (String, String) = sqlx::query_as(
        "SELECT reviewer_email, assigned_via FROM review_items \
         WHERE campaign_id = $1 AND user_email = 'erin@example.com' AND kind = 'account_role'",
    )
    .bind(next)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        (reviewer.as_str(), via.as_str()),
        (MANNY_EMAIL, "self_review")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_cannot_settle_a_flagged_item_about_their_other_login() {
    let (app, ada) = setup().await;
    let id = create(&ada, &form("Q4", &[("default_outcome", "flag")])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    assert_eq!(
        ada.post("/api/campaign_close", &[("id", &id.to_string())])
            .await
            .status(),
        200
    );
    let scim = Scim::new(&app, "Entra ID").await;
    // dan@example.com is Ada's second login.
    one_person(&scim, "ada.admin@example.com", "dan@example.com").await;
    let (item,): (i64,) = sqlx::query_as(
        "SELECT id FROM review_items WHERE campaign_id = $1 AND user_email = 'dan@example.com' \
         AND decision = 'flag' ORDER BY id LIMIT 1",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let settled = ada
        .post(
            "/api/campaign_resolve_flag",
            &[
                ("item_id", item.to_string().as_str()),
                ("decision", "approve"),
                ("justification", "still needed"),
            ],
        )
        .await;
    refused_as_own(settled).await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'review.flag_resolved'"
        )
        .await,
        0
    );
}

/// `PAR_EMAIL_ALIASES` says chloe@example.com is Rita's other email: Rita manages Chloe, yet
/// a campaign places Chloe's items with the fallback reviewer, and nobody can hand one to Rita.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_aliases_are_one_person() {
    let app = TestApp::builder()
        .email_aliases(&[&["Rita.Reviewer@example.com", "chloe@example.com"]])
        .spawn()
        .await;
    let (app, ada) = seeded(app).await;
    let id = create(&ada, &form("Q4 access review", &[])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    let placed: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT id, reviewer_email, assigned_via FROM review_items \
         WHERE campaign_id = $1 AND user_email = 'chloe@example.com' ORDER BY id",
    )
    .bind(id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(placed.len(), 3);
    for (_, reviewer, via) in &placed {
        assert_eq!(
            (reviewer.as_str(), via.as_str()),
            (MANNY_EMAIL, "self_review")
        );
    }
    let handed = ada
        .post(
            "/api/reviews_reassign",
            &[
                ("item_id", placed[0].0.to_string().as_str()),
                ("to", RITA_EMAIL),
                ("reason", "Rita knows the team"),
            ],
        )
        .await;
    refused_as_own(handed).await;
}

//! Handing items on only to someone who can review, over HTTP: auditors refused (by the email
//! list or by their last sign-in), an address nobody here knows only once confirmed (and the
//! audit event says so), taking an item back, and server owners checked the same way.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    auth::{signed_in, Browser, AUBREY, RITA},
    campaigns::{count, launched, seeded, send, MANNY_EMAIL, RITA_EMAIL},
    helpers::TestApp,
};

const MANNY: usize = 3;
const AUBREY_EMAIL: &str = "aubrey.auditor@example.com";
const NEWCOMER: &str = "newcomer@example.com";

/// An undecided item of `reviewer` whose user is not `not_about`: `(id, version)`.
async fn item_of(app: &TestApp, reviewer: &str, not_about: &str) -> (i64, i64) {
    sqlx::query_as(
        "SELECT id, version FROM review_items WHERE reviewer_email = $1 AND decision IS NULL \
         AND COALESCE(user_email, '') <> $2 ORDER BY id LIMIT 1",
    )
    .bind(reviewer)
    .bind(not_about)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

async fn reviewer_of(app: &TestApp, item: i64) -> String {
    let (reviewer,): (String,) =
        sqlx::query_as("SELECT reviewer_email FROM review_items WHERE id = $1")
            .bind(item)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    reviewer
}

async fn reassign(browser: &Browser, item: i64, to: &str, confirm: bool) -> reqwest::Response {
    let mut body = json!({ "item_id": item, "to": to, "reason": "on leave" });
    if confirm {
        body["confirm"] = json!(true);
    }
    send(browser, "/api/reviews_reassign", &body).await
}

async fn events(app: &TestApp, action: &str) -> i64 {
    count(
        app,
        &format!("SELECT COUNT(*) FROM audit_events WHERE action = '{action}'"),
    )
    .await
}

async fn last_details(app: &TestApp, action: &str) -> Value {
    let (details,): (String,) = sqlx::query_as(
        "SELECT details FROM audit_events WHERE action = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(action)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    serde_json::from_str(&details).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditors_are_refused_and_unknown_addresses_need_a_confirmation() {
    let (app, ada, campaign) = launched().await;
    let rita = signed_in(&app, RITA).await;
    let (item, _) = item_of(&app, RITA_EMAIL, "").await;

    // An auditor on the email list (signed in or not) reviews nothing.
    let response = reassign(&rita, item, AUBREY_EMAIL, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = response.text().await.unwrap();
    assert!(text.contains("is an auditor"), "{text}");
    // Someone nobody here knows: asked about, then handed on once confirmed.
    let response = reassign(&rita, item, NEWCOMER, false).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = response.text().await.unwrap();
    assert!(text.contains("NeedsConfirmation"), "{text}");
    assert!(
        text.contains("newcomer@example.com has never signed in and is not in any mapping"),
        "{text}"
    );
    assert_eq!(reviewer_of(&app, item).await, RITA_EMAIL);
    assert_eq!(events(&app, "review.reassigned").await, 0);
    let response = reassign(&rita, item, NEWCOMER, true).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(reviewer_of(&app, item).await, NEWCOMER);
    let details = last_details(&app, "review.reassigned").await;
    assert_eq!(details["unknown_address_confirmed"], true);
    // A known person needs no confirmation, and the event does not mention one.
    let (other, _) = item_of(&app, RITA_EMAIL, "").await;
    let response = reassign(&rita, other, MANNY_EMAIL, false).await;
    assert_eq!(response.status(), 200);
    assert!(last_details(&app, "review.reassigned")
        .await
        .get("unknown_address_confirmed")
        .is_none());

    // Delegating a whole queue: the same rules.
    let delegate = |to: &'static str, confirm: bool| {
        let mut body =
            json!({ "campaign_id": campaign, "from": MANNY_EMAIL, "to": to, "reason": "holiday" });
        if confirm {
            body["confirm"] = json!(true);
        }
        body
    };
    let response = send(&ada, "/api/reviews_delegate", &delegate(AUBREY_EMAIL, true)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("is an auditor"));
    let response = send(
        &ada,
        "/api/reviews_delegate",
        &delegate("temp@example.com", false),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("has never signed in"));
    assert_eq!(events(&app, "review.delegated").await, 0);
    let response = send(
        &ada,
        "/api/reviews_delegate",
        &delegate("temp@example.com", true),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(
        last_details(&app, "review.delegated").await["unknown_address_confirmed"],
        true
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_whose_last_sign_in_made_them_an_auditor_is_refused() {
    // Aubrey is an auditor through a group here, not the email list: only her sign-in says so.
    let app = TestApp::builder()
        .auth(|auth| {
            auth.auditor_emails.clear();
            auth.auditor_group = Some("finance".into());
        })
        .spawn()
        .await;
    let (app, ada) = seeded(app).await;
    let id = crate::campaigns::create(&ada, &crate::campaigns::form("Q4", &[])).await;
    assert_eq!(crate::campaigns::launch(&ada, id).await.status(), 200);
    let rita = signed_in(&app, RITA).await;
    let (item, _) = item_of(&app, RITA_EMAIL, "").await;
    // Before she signs in she is nobody here.
    let response = reassign(&rita, item, AUBREY_EMAIL, false).await;
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("has never signed in"));
    signed_in(&app, AUBREY).await;
    let response = reassign(&rita, item, AUBREY_EMAIL, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("is an auditor"));
    assert_eq!(reviewer_of(&app, item).await, RITA_EMAIL);
}

async fn take_back(browser: &Browser, app: &TestApp, item: i64) -> reqwest::Response {
    let (version,): (i64,) = sqlx::query_as("SELECT version FROM review_items WHERE id = $1")
        .bind(item)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    send(
        browser,
        "/api/reviews_take_back",
        &json!({ "item_id": item, "version": version }),
    )
    .await
}

async fn handed_on(browser: &Browser) -> Vec<i64> {
    let response = send(browser, "/api/reviews_handed_on", &json!({})).await;
    assert_eq!(response.status(), 200);
    let items: Vec<Value> = response.json().await.unwrap();
    items.iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_previous_reviewer_takes_an_undecided_item_back() {
    let (app, ada, campaign) = launched().await;
    let rita = signed_in(&app, RITA).await;
    let manny = signed_in(&app, MANNY).await;
    let (item, _) = item_of(&app, RITA_EMAIL, "").await;
    assert_eq!(
        reassign(&rita, item, MANNY_EMAIL, false).await.status(),
        200
    );
    assert_eq!(handed_on(&rita).await, vec![item]);
    assert!(handed_on(&manny).await.is_empty());

    // Only Rita: not the new reviewer, not an admin, not a stale version.
    for browser in [&manny, &ada] {
        let response = take_back(browser, &app, item).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    let stale = send(
        &rita,
        "/api/reviews_take_back",
        &json!({ "item_id": item, "version": 0 }),
    )
    .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert_eq!(reviewer_of(&app, item).await, MANNY_EMAIL);
    let response = take_back(&rita, &app, item).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(reviewer_of(&app, item).await, RITA_EMAIL);
    assert!(handed_on(&rita).await.is_empty());
    let details = last_details(&app, "review.taken_back").await;
    assert_eq!(details["before"]["reviewer"], MANNY_EMAIL);
    assert_eq!(details["after"]["reviewer"], RITA_EMAIL);
    // Once only: it is hers again.
    assert_eq!(
        take_back(&rita, &app, item).await.status(),
        StatusCode::FORBIDDEN
    );

    // Decided by the new reviewer: too late.
    assert_eq!(
        reassign(&rita, item, MANNY_EMAIL, false).await.status(),
        200
    );
    let (version,): (i64,) = sqlx::query_as("SELECT version FROM review_items WHERE id = $1")
        .bind(item)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let decided = send(
        &manny,
        "/api/reviews_decide",
        &json!({ "item_id": item, "decision": "approve", "justification": "mine now", "version": version }),
    )
    .await;
    assert_eq!(decided.status(), 200, "{}", decided.text().await.unwrap());
    assert!(handed_on(&rita).await.is_empty());
    let response = take_back(&rita, &app, item).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("decided this item already"));
    assert_eq!(events(&app, "review.taken_back").await, 1);

    // Moved by an admin: the admin's choice stands.
    let (moved, _) = item_of(&app, RITA_EMAIL, "").await;
    assert_eq!(
        reassign(&ada, moved, MANNY_EMAIL, false).await.status(),
        200
    );
    assert_eq!(
        take_back(&rita, &app, moved).await.status(),
        StatusCode::FORBIDDEN
    );

    // Her own whole queue handed on: each item can come back, until the campaign closes.
    let response = send(
        &rita,
        "/api/reviews_delegate",
        &json!({ "campaign_id": campaign, "to": "dan@example.com", "reason": "holiday" }),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let delegated = handed_on(&rita).await;
    assert!(delegated.len() >= 2, "{delegated:?}");
    assert_eq!(take_back(&rita, &app, delegated[0]).await.status(), 200);
    assert_eq!(
        ada.post("/api/campaign_close", &[("id", &campaign.to_string())])
            .await
            .status(),
        200
    );
    let response = take_back(&rita, &app, delegated[1]).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(handed_on(&rita).await.is_empty());
}

async fn set_owner(ada: &Browser, email: &str, confirm: bool) -> reqwest::Response {
    let mut form = vec![("postmark_id", "3"), ("email", email)];
    if confirm {
        form.push(("confirm", "true"));
    }
    ada.post("/api/inventory_set_owner", &form).await
}

async fn owner_of_3(app: &TestApp) -> Option<String> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT owner_email FROM server_owners WHERE postmark_id = 3")
            .fetch_optional(app.db.pool())
            .await
            .unwrap();
    row.map(|(email,)| email)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_owners_are_checked_like_reviewers() {
    let (app, ada) = crate::campaigns::setup().await;
    let response = set_owner(&ada, AUBREY_EMAIL, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("auditors only read, so they cannot own a server"));
    let response = set_owner(&ada, NEWCOMER, false).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = response.text().await.unwrap();
    assert!(text.contains("NeedsConfirmation"), "{text}");
    assert!(text.contains("make them the owner anyway?"), "{text}");
    assert_eq!(owner_of_3(&app).await, None);
    let before = events(&app, "inventory.server_owner_changed").await;
    assert_eq!(set_owner(&ada, NEWCOMER, true).await.status(), 200);
    assert_eq!(owner_of_3(&app).await.as_deref(), Some(NEWCOMER));
    assert_eq!(
        events(&app, "inventory.server_owner_changed").await,
        before + 1
    );
    let details = last_details(&app, "inventory.server_owner_changed").await;
    assert_eq!(details["unknown_address_confirmed"], true);
    // Someone known needs no confirmation; clearing needs none either.
    assert_eq!(
        set_owner(&ada, "dan@example.com", false).await.status(),
        200
    );
    assert_eq!(set_owner(&ada, "", false).await.status(), 200);
    assert_eq!(owner_of_3(&app).await, None);
    let page = ada.get("/inventory/servers/3").await.text().await.unwrap();
    assert!(
        page.contains("owner-suggestions"),
        "the owner field suggests people"
    );
}

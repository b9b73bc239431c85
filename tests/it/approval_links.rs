//! Review links over HTTP: the email a launch queues, the link in it taking its reviewer (and
//! only them) to the queue through sign-in, and the pages for links that no longer open.

use postmark_access_review::approval_links::db as links;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    auth::{location, signed_in, Browser, RITA},
    campaigns::{count, create, form, launch, seeded, send, MANNY_EMAIL, RITA_EMAIL},
    helpers::TestApp,
};

const MANNY: usize = 3;

/// A launched campaign on an app that sends mail, with every launch email sent.
async fn launched_with_mail() -> (TestApp, Browser, i64) {
    let (app, ada) = seeded(TestApp::builder().mail().spawn().await).await;
    let id = create(&ada, &form("Q4 access review", &[])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    let report = app.worker.run_once().await.unwrap();
    assert!(report.sent >= 2, "{report:?}");
    (app, ada, id)
}

/// The path of the newest review link the simulator delivered to `to`.
fn link_of(app: &TestApp, to: &str) -> String {
    let inbox = app.simulator.inbox(to);
    let email = inbox.last().expect("an email");
    let url = email
        .text_body
        .split_whitespace()
        .find(|w| w.contains("/r/"))
        .expect("a link in the email");
    let url = url::Url::parse(url.trim_end_matches('.')).unwrap();
    url.path().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_emails_each_reviewer_once_with_a_link_to_their_queue() {
    let (app, _ada, id) = launched_with_mail().await;
    let reviewers = count(
        &app,
        "SELECT COUNT(DISTINCT reviewer_email) FROM review_items",
    )
    .await;
    let requests = "SELECT COUNT(*) FROM notifications WHERE kind = 'review_request' \
                    AND status = 'sent'";
    assert_eq!(
        count(&app, requests).await,
        reviewers,
        "one digest per reviewer"
    );
    assert_eq!(app.simulator.inbox(RITA_EMAIL).len(), 1);
    let link = link_of(&app, RITA_EMAIL);

    // Signed out: off to sign in, and back to the queue of that campaign.
    let browser = Browser::new(&app);
    let response = browser.get(&link).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to_login = location(&response);
    assert_eq!(to_login.path(), "/auth/login");
    assert!(
        !to_login.as_str().contains(&link[3..]),
        "the token stays out of the sign-in"
    );
    let callback = browser.sign_in("/r/continue", RITA).await;
    assert_eq!(location(&callback).path(), "/r/continue");
    let response = browser.get("/r/continue").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response).as_str(),
        app.at(&format!("/reviews?campaign={id}"))
    );
    // Signed in already: straight to the queue.
    let response = browser.get(&link).await;
    assert_eq!(location(&response).path(), "/reviews");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'approval_link.used'"
        )
        .await,
        2
    );
    let (used,): (Option<String>,) =
        sqlx::query_as("SELECT last_used_at FROM approval_links WHERE reviewer_email = $1")
            .bind(RITA_EMAIL)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(used.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_link_grants_nothing_and_is_audited() {
    let (app, _ada, _id) = launched_with_mail().await;
    let link = link_of(&app, RITA_EMAIL);
    let manny = signed_in(&app, MANNY).await;
    let response = manny.get(&link).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let page = response.text().await.unwrap();
    assert!(page.contains("This link is for someone else"), "{page}");
    let (actor, details): (String, String) = sqlx::query_as(
        "SELECT actor_email, details FROM audit_events WHERE action = 'approval_link.refused'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(actor, MANNY_EMAIL);
    assert!(details.contains(RITA_EMAIL));
    // Manny signing in through Rita's link fares no better.
    let browser = Browser::new(&app);
    browser.get(&link).await;
    browser.sign_in("/r/continue", MANNY).await;
    let response = browser.get("/r/continue").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_links_get_pages_that_say_why() {
    let (app, ada, id) = launched_with_mail().await;
    let first = link_of(&app, RITA_EMAIL);
    let anonymous = Browser::new(&app);
    for (path, status, words) in [
        ("/r/garbage", StatusCode::NOT_FOUND, "not valid"),
        (
            &first[..first.len() - 4],
            StatusCode::NOT_FOUND,
            "not valid",
        ),
        (&format!("{first}AAAA"), StatusCode::NOT_FOUND, "not valid"),
        ("/r/%00%01", StatusCode::NOT_FOUND, "not valid"),
    ] {
        let response = anonymous.get(path).await;
        assert_eq!(response.status(), status, "{path}");
        assert!(response.text().await.unwrap().contains(words), "{path}");
    }

    // Resending rotates: the first link says a newer email replaced it.
    let (notification,): (i64,) = sqlx::query_as(
        "SELECT id FROM notifications WHERE recipient = $1 AND kind = 'review_request'",
    )
    .bind(RITA_EMAIL)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let resent = send(
        &ada,
        "/api/notification_resend",
        &json!({ "id": notification }),
    )
    .await;
    assert_eq!(resent.status(), 200);
    app.worker.run_once().await.unwrap();
    let second = link_of(&app, RITA_EMAIL);
    assert_ne!(first, second);
    let response = anonymous.get(&first).await;
    assert_eq!(response.status(), StatusCode::GONE);
    assert!(response.text().await.unwrap().contains("newer email"));
    assert_eq!(anonymous.get(&second).await.status(), StatusCode::SEE_OTHER);

    // An admin withdraws it.
    let mut tx = app.db.begin().await.unwrap();
    let rita = postmark_access_review::email::Email::parse(RITA_EMAIL).unwrap();
    links::revoke(&mut tx, &app.clock, &rita, id).await.unwrap();
    tx.commit().await.unwrap();
    let response = anonymous.get(&second).await;
    assert_eq!(response.status(), StatusCode::GONE);
    assert!(response.text().await.unwrap().contains("withdrawn"));

    // Manny's link outlives the review period by the grace days, then expires.
    let manny_link = link_of(&app, MANNY_EMAIL);
    app.clock.advance(time::Duration::days(14 + 4));
    let response = anonymous.get(&manny_link).await;
    assert_eq!(response.status(), StatusCode::GONE);
    assert!(response.text().await.unwrap().contains("expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handing_items_on_emails_the_new_reviewer() {
    let (app, _ada, _id) = launched_with_mail().await;
    let rita = signed_in(&app, RITA).await;
    let queue = crate::campaigns::call(&rita, "/api/reviews_queue", &json!({ "query": {} })).await;
    let item = &queue["groups"][0][1][0];
    // Not to an address nobody here knows unless confirmed: the email would carry the item
    // and a link outside.
    let response = send(
        &rita,
        "/api/reviews_reassign",
        &json!({ "item_id": item["id"], "to": "outsider@evil.example", "reason": "help" }),
    )
    .await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("has never signed in and is not in any mapping"));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM notifications WHERE kind = 'handover'"
        )
        .await,
        0
    );
    let response = send(
        &rita,
        "/api/reviews_reassign",
        &json!({ "item_id": item["id"], "to": MANNY_EMAIL, "reason": "his server now" }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let (data,): (String,) =
        sqlx::query_as("SELECT data FROM notifications WHERE kind = 'handover' AND recipient = $1")
            .bind(MANNY_EMAIL)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data["from"], RITA_EMAIL);
    assert_eq!(data["items"], 1);
    app.worker.run_once().await.unwrap();
    let inbox = app.simulator.inbox(MANNY_EMAIL);
    assert_eq!(inbox.len(), 2, "launch digest and hand-over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_review_says_so_and_resend_needs_something_to_review() {
    let (app, ada, id) = launched_with_mail().await;
    let link = link_of(&app, RITA_EMAIL);
    let (notification,): (i64,) = sqlx::query_as(
        "SELECT id FROM notifications WHERE recipient = $1 AND kind = 'review_request'",
    )
    .bind(RITA_EMAIL)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    // Rita has decided everything: a resend would ask her to review nothing.
    sqlx::query(
        "UPDATE review_items SET decision = 'approve', decided_via = 'reviewer' \
         WHERE reviewer_email = $1",
    )
    .bind(RITA_EMAIL)
    .execute(app.db.pool())
    .await
    .unwrap();
    let resent = send(
        &ada,
        "/api/notification_resend",
        &json!({ "id": notification }),
    )
    .await;
    assert_eq!(resent.status(), 422);
    assert!(resent
        .text()
        .await
        .unwrap()
        .contains("nothing left to decide"));
    // Once the campaign is closed its link says so instead of opening an empty queue.
    let closed = ada
        .post("/api/campaign_close", &[("id", &id.to_string())])
        .await;
    assert_eq!(closed.status(), 200);
    let rita = signed_in(&app, RITA).await;
    let response = rita.get(&link).await;
    assert_eq!(response.status(), StatusCode::GONE);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("This review has closed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_of_a_campaign_closed_before_they_went_out_are_not_sent() {
    let (app, ada) = seeded(TestApp::builder().mail().spawn().await).await;
    let id = create(&ada, &form("Q4 access review", &[])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    let closed = ada
        .post("/api/campaign_close", &[("id", &id.to_string())])
        .await;
    assert_eq!(closed.status(), 200);
    let report = app.worker.run_once().await.unwrap();
    assert_eq!(report.sent, 0);
    assert!(app.simulator.inbox(RITA_EMAIL).is_empty());
    let queued = count(&app, "SELECT COUNT(*) FROM notifications").await;
    assert!(queued >= 2);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM notifications WHERE status = 'skipped'"
        )
        .await,
        queued
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'notification.skipped'"
        )
        .await,
        queued
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM approval_links").await, 0);
}

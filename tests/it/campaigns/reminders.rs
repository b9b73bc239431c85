//! Reminders before the due date and the escalation after it, with the injected clock: each
//! occasion reaches each reviewer once however many passes (or instances) run, a pass missed
//! while the process was down is made up, and "remind now" queues one at once.

use postmark_access_review::campaigns::schedule::tick;
use serde_json::json;

use super::{count, create, form, launch, post_form, send, setup, MANNY_EMAIL, RITA_EMAIL};
use crate::helpers::TestApp;

/// Reminders queued so far, per recipient.
async fn reminders(app: &TestApp, to: &str) -> i64 {
    count(
        app,
        &format!(
            "SELECT COUNT(*) FROM notifications WHERE kind = 'reminder' AND recipient = '{to}'"
        ),
    )
    .await
}

/// Runs the schedule's pass twice, as two instances would.
async fn passes(app: &TestApp) {
    for _ in 0..2 {
        tick(&app.db, &app.clock, 3, &[]).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_come_once_per_occasion_and_escalation_after_the_due_date() {
    let (app, ada) = setup().await;
    // Starts 2026-11-28 (the clock's today), due 2026-12-12; reminders 7 and 1 days before.
    let id = create(&ada, &form("Q4", &[("reminder_days", "1, 7")])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    passes(&app).await;
    assert_eq!(reminders(&app, RITA_EMAIL).await, 0, "nothing is due yet");

    // 2026-12-05: seven days before.
    app.clock.advance(time::Duration::days(7));
    passes(&app).await;
    assert_eq!(reminders(&app, RITA_EMAIL).await, 1);
    assert_eq!(reminders(&app, MANNY_EMAIL).await, 1);
    // The next day (a restart, another instance): nothing new.
    app.clock.advance(time::Duration::days(1));
    passes(&app).await;
    assert_eq!(reminders(&app, RITA_EMAIL).await, 1);

    // Rita decides everything of hers: the last reminder skips her.
    sqlx::query(
        "UPDATE review_items SET decision = 'approve', decided_via = 'reviewer' \
         WHERE reviewer_email = $1",
    )
    .bind(RITA_EMAIL)
    .execute(app.db.pool())
    .await
    .unwrap();
    app.clock.advance(time::Duration::days(5)); // 2026-12-11, one day before
    passes(&app).await;
    assert_eq!(reminders(&app, RITA_EMAIL).await, 1);
    assert_eq!(reminders(&app, MANNY_EMAIL).await, 2);
    let sent: Vec<(String,)> = sqlx::query_as(
        "SELECT occasion FROM campaign_reminders WHERE recipient = $1 ORDER BY occasion",
    )
    .bind(MANNY_EMAIL)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        sent,
        [("reminder:1".to_string(),), ("reminder:7".to_string(),)]
    );

    // After the due date: one escalation to the fallback reviewer, listing who is overdue.
    app.clock.advance(time::Duration::days(2));
    passes(&app).await;
    let escalations: Vec<(String, String)> = sqlx::query_as(
        "SELECT recipient, data FROM notifications WHERE kind = 'escalation' ORDER BY id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(escalations.len(), 1, "{escalations:?}");
    assert_eq!(escalations[0].0, MANNY_EMAIL);
    let data: serde_json::Value = serde_json::from_str(&escalations[0].1).unwrap();
    assert_eq!(data["overdue"], json!([MANNY_EMAIL]));
    app.clock.advance(time::Duration::days(1));
    passes(&app).await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM notifications WHERE kind = 'escalation'"
        )
        .await,
        1
    );
    // Every queued email has its audit event.
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM notifications").await,
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'notification.queued'"
        )
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_missed_while_down_is_made_up_with_one_email() {
    let (app, ada) = setup().await;
    let id = create(&ada, &form("Q4", &[("reminder_days", "7, 1")])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    // Down from launch until the day before the due date: both occasions are due at once.
    app.clock.advance(time::Duration::days(13));
    passes(&app).await;
    assert_eq!(reminders(&app, RITA_EMAIL).await, 1);
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM campaign_reminders WHERE recipient = '{RITA_EMAIL}'")
        )
        .await,
        2,
        "both occasions recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remind_now_and_bad_reminder_settings() {
    let (app, ada) = setup().await;
    let fields = form("Q4", &[("reminder_days", "7, soon")]);
    let bad = post_form(&ada, "/api/campaign_create", &[], &fields).await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("`soon` is not"));
    let id = create(&ada, &form("Q4", &[("reminder_days", "3")])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    let remind = |reviewer: &str| json!({ "id": id, "reviewer": reviewer });
    let response = send(&ada, "/api/campaign_remind", &remind(RITA_EMAIL)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(reminders(&app, RITA_EMAIL).await, 1);
    // A second click within the hour sends nothing.
    let response = send(&ada, "/api/campaign_remind", &remind(RITA_EMAIL)).await;
    assert_eq!(response.status(), 409);
    assert_eq!(reminders(&app, RITA_EMAIL).await, 1);
    // Everyone overdue: refused before the due date.
    let response = send(&ada, "/api/campaign_remind", &json!({ "id": id })).await;
    assert_eq!(response.status(), 422);
    app.clock.advance(time::Duration::days(15));
    // Two weeks idle ended Ada's session.
    let ada = crate::auth::signed_in(&app, crate::auth::ADA).await;
    let response = send(&ada, "/api/campaign_remind", &json!({ "id": id })).await;
    assert_eq!(response.status(), 200);
    assert_eq!(reminders(&app, MANNY_EMAIL).await, 1);
    // Someone without items: a clear refusal.
    let response = send(&ada, "/api/campaign_remind", &remind("nobody@example.com")).await;
    assert_eq!(response.status(), 422);
    // Reviewers cannot remind.
    let rita = crate::auth::signed_in(&app, crate::auth::RITA).await;
    let response = send(&rita, "/api/campaign_remind", &remind(MANNY_EMAIL)).await;
    assert_eq!(response.status(), 403);
}

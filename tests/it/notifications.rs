//! The notification outbox and approval links: the worker against the simulator, on the
//! engine under test, driven by hand (`run_once`) with the injected clock.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use postmark_access_review::{
    approval_links::db::{self as links, Lookup},
    db::Db,
    email::Email,
    notifications::{
        db::{self as outbox, NewNotification},
        worker::{Settings, Worker},
        Kind, NotificationView, Status,
    },
    postmark::simulator::Fault,
};
use serde_json::{json, Value};
use sqlx::{Column as _, Row as _};

use crate::helpers::{TestApp, MAIL_FROM, MAIL_SERVER};

const RITA: &str = "rita@example.com";

async fn campaign(db: &Db, due_on: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO campaigns (name, description, status, kinds, starts_on, due_on, \
         default_outcome, revoke_needs_justification, privileged_needs_justification, \
         use_manager_mapping, use_server_owners, fallback_reviewer, created_by, created_at, \
         updated_at) VALUES ('Q4 <2026>', '', 'active', '[]', '2026-11-28', $1, 'keep', 0, 0, \
         0, 0, 'ada@example.com', 'ada@example.com', 'x', 'x') RETURNING id",
    )
    .bind(due_on)
    .fetch_one(db.pool())
    .await
    .unwrap();
    id
}

fn request_data() -> Value {
    json!({"campaign_name": "Q4 <2026>", "items": 3, "due_on": "2026-12-15",
           "contact": "ada@example.com"})
}

async fn enqueue(db: &Db, app: &TestApp, kind: Kind, to: &str, campaign_id: i64) -> i64 {
    let recipient = Email::parse(to).unwrap();
    let mut tx = db.begin().await.unwrap();
    let id = outbox::enqueue(
        &mut tx,
        &app.clock,
        &NewNotification {
            kind,
            recipient: &recipient,
            campaign_id: Some(campaign_id),
            data: request_data(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn only(db: &Db) -> NotificationView {
    let mut all = outbox::list(db, None, None, 100).await.unwrap();
    assert_eq!(all.len(), 1, "{all:#?}");
    all.remove(0)
}

async fn audit_actions(db: &Db) -> Vec<String> {
    sqlx::query_as::<_, (String,)>("SELECT action FROM audit_events ORDER BY seq")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|(a,)| a)
        .collect()
}

/// The raw token from the link in an email body.
fn token_in(text: &str) -> String {
    let start = text.find("/r/").expect("a link") + 3;
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

fn quick(worker: &Worker) -> Worker {
    worker.clone().with_settings(Settings {
        batch: 5,
        ..Settings::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_email_is_sent_once_through_postmark() {
    let app = TestApp::builder().mail().spawn().await;
    let campaign_id = campaign(&app.db, "2026-12-15").await;
    let id = enqueue(
        &app.db,
        &app,
        Kind::ReviewRequest,
        "Rita@Example.com",
        campaign_id,
    )
    .await;

    assert_eq!(app.worker.run_once().await.unwrap().sent, 1);
    assert_eq!(
        app.worker.run_once().await.unwrap().sent,
        0,
        "sent once only"
    );
    let sent = app.simulator.sent_emails();
    assert_eq!(sent.len(), 1);
    let (server, body) = &sent[0];
    assert_eq!(
        *server, MAIL_SERVER,
        "sent with the configured server token"
    );
    assert_eq!(body["From"], MAIL_FROM);
    assert_eq!(body["To"], RITA);
    assert_eq!(body["Tag"], "review_request");
    assert_eq!(body["MessageStream"], "outbound");
    assert_eq!(
        body["Metadata"],
        json!({"campaign_id": campaign_id.to_string(), "notification_id": id.to_string()})
    );
    let subject = body["Subject"].as_str().unwrap();
    assert!(
        subject.contains("3 accesses") && subject.contains("2026-12-15"),
        "{subject}"
    );
    let text = body["TextBody"].as_str().unwrap();
    assert!(text.contains(&format!("{}/r/", app.url)), "{text}");
    assert!(text.contains("ada@example.com"));
    let html = body["HtmlBody"].as_str().unwrap();
    assert!(html.contains("Q4 &lt;2026&gt;") && !html.contains("Q4 <2026>"));

    let inbox = app.simulator.inbox(RITA);
    assert_eq!(inbox.len(), 1);
    let row = only(&app.db).await;
    assert_eq!(row.status, Status::Sent);
    assert_eq!(row.attempts, 1);
    assert_eq!(
        row.message_id.as_deref(),
        Some(inbox[0].message_id.as_str())
    );
    assert!(row.sent_at.is_some());
    assert_eq!(row.campaign_name.as_deref(), Some("Q4 <2026>"));
    let token = token_in(text);
    let preview = row.preview.unwrap();
    assert!(
        preview.contains("/r/[link]") && !preview.contains(&token),
        "{preview}"
    );
    match links::lookup(&app.db, &app.clock, &token).await.unwrap() {
        Lookup::Valid {
            reviewer,
            campaign_id: c,
            ..
        } => assert_eq!((reviewer.as_str(), c), (RITA, campaign_id)),
        other => panic!("{other:?}"),
    }
    assert_eq!(audit_actions(&app.db).await, ["notification.sent"]);
}

/// Collects formatted log lines (every level) written on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raw_token_reaches_neither_the_database_nor_the_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // The test runs on one thread (tokio's default test runtime), the worker with it.
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::info!("capture started");
    let app = TestApp::builder().mail().spawn().await;
    let campaign_id = campaign(&app.db, "2026-12-15").await;
    enqueue(&app.db, &app, Kind::ReviewRequest, RITA, campaign_id).await;
    app.simulator.push_fault(Fault::ServerError);
    app.worker.run_once().await.unwrap();
    app.clock.advance(time::Duration::hours(2));
    assert_eq!(app.worker.run_once().await.unwrap().sent, 1);
    let inbox = app.simulator.inbox(RITA);
    let tokens: Vec<String> = inbox.iter().map(|e| token_in(&e.text_body)).collect();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].len(), links::TOKEN_LEN);
    // Both attempts minted a link; the one of the failed attempt is in no email at all.
    let hashes: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM approval_links")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(hashes.len(), 2);
    assert!(hashes.contains(&(links::hash(&tokens[0]),)));

    for table in [
        "notifications",
        "approval_links",
        "audit_events",
        "campaigns",
    ] {
        let rows = sqlx::query(&format!("SELECT * FROM {table}"))
            .fetch_all(app.db.pool())
            .await
            .unwrap();
        assert!(!rows.is_empty(), "{table} has rows");
        for row in rows {
            for column in row.columns() {
                if let Ok(Some(text)) = row.try_get::<Option<String>, _>(column.ordinal()) {
                    assert!(
                        !text.contains(&tokens[0]),
                        "{table}.{} holds the token",
                        column.name()
                    );
                }
            }
        }
    }
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // A thread-local subscriber can miss events whose callsites other tests, running in
    // parallel, registered first; the test's own line shows the capture itself works.
    assert!(
        logs.contains("capture started"),
        "the capture works: {logs}"
    );
    assert!(!logs.contains(&tokens[0]), "token in the logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_after_retry_after() {
    let app = TestApp::builder().mail().spawn().await;
    let campaign_id = campaign(&app.db, "2026-12-15").await;
    enqueue(&app.db, &app, Kind::Reminder, RITA, campaign_id).await;
    app.simulator.push_fault(Fault::TooManyRequests {
        retry_after_secs: 120,
    });
    assert_eq!(app.worker.run_once().await.unwrap().retried, 1);
    let row = only(&app.db).await;
    assert_eq!((row.status, row.attempts), (Status::Queued, 1));
    assert!(row.last_error.unwrap().contains("429"));

    // The backoff alone would allow a retry after 15 to 30 s; Postmark asked for 120.
    app.clock.advance(time::Duration::seconds(60));
    assert_eq!(app.worker.run_once().await.unwrap(), Default::default());
    app.clock.advance(time::Duration::seconds(61));
    assert_eq!(app.worker.run_once().await.unwrap().sent, 1);
    assert_eq!(app.simulator.inbox(RITA).len(), 1);
    let row = only(&app.db).await;
    assert_eq!((row.status, row.attempts), (Status::Sent, 2));
    assert_eq!(row.last_error, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_until_the_last_attempt_fail_and_are_audited() {
    let app = TestApp::builder().mail().spawn().await;
    let campaign_id = campaign(&app.db, "2026-12-15").await;
    enqueue(&app.db, &app, Kind::ReviewRequest, RITA, campaign_id).await;
    let attempts = Settings::default().max_attempts;
    for _ in 0..attempts {
        app.simulator.push_fault(Fault::ServerError);
    }
    for attempt in 1..=attempts {
        let report = app.worker.run_once().await.unwrap();
        assert_eq!(
            (report.retried, report.failed),
            if attempt < attempts { (1, 0) } else { (0, 1) },
            "attempt {attempt}"
        );
        app.clock
            .advance(time::Duration::hours(1) + time::Duration::seconds(1));
    }
    let row = only(&app.db).await;
    assert_eq!(
        (row.status, row.attempts, row.permanent),
        (Status::Failed, attempts, false)
    );
    assert!(row.last_error.unwrap().contains("500"));
    assert_eq!(app.worker.run_once().await.unwrap(), Default::default());
    assert!(app.simulator.sent_emails().is_empty());
    assert_eq!(audit_actions(&app.db).await, ["notification.failed"]);
    assert!(outbox::unreachable(&app.db, campaign_id)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inactive_recipient_fails_at_once_and_is_unreachable() {
    let app = TestApp::builder().mail().spawn().await;
    let campaign_id = campaign(&app.db, "2026-12-15").await;
    app.simulator.deactivate_recipient(RITA);
    enqueue(&app.db, &app, Kind::ReviewRequest, RITA, campaign_id).await;
    enqueue(
        &app.db,
        &app,
        Kind::ReviewRequest,
        "manny@example.com",
        campaign_id,
    )
    .await;
    let report = app.worker.run_once().await.unwrap();
    assert_eq!((report.sent, report.failed), (1, 1));
    let rita = outbox::list(&app.db, Some(campaign_id), Some(Status::Failed), 10)
        .await
        .unwrap();
    assert_eq!(rita.len(), 1);
    assert_eq!((rita[0].recipient.as_str(), rita[0].attempts), (RITA, 1));
    assert!(rita[0].permanent);
    assert!(rita[0].last_error.as_deref().unwrap().contains("406"));
    assert_eq!(
        outbox::unreachable(&app.db, campaign_id).await.unwrap(),
        [RITA]
    );
    assert!(audit_actions(&app.db)
        .await
        .contains(&"notification.failed".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_send_one_row_twice() {
    let app = TestApp::builder().mail().spawn().await;
    let campaign_id = campaign(&app.db, "2026-12-15").await;
    for n in 0..30 {
        enqueue(
            &app.db,
            &app,
            Kind::ReviewRequest,
            &format!("r{n}@example.com"),
            campaign_id,
        )
        .await;
    }
    let run = |worker: Worker| {
        tokio::spawn(async move {
            let mut sent = 0;
            loop {
                let report = worker.run_once().await.unwrap();
                if report == Default::default() {
                    return sent;
                }
                sent += report.sent;
            }
        })
    };
    let (a, b) = (run(quick(&app.worker)), run(quick(&app.worker)));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(a + b, 30);
    let mut ids: Vec<String> = app
        .simulator
        .sent_emails()
        .iter()
        .map(|(_, body)| {
            body["Metadata"]["notification_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 30);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30, "each row sent once");
    let sent = outbox::list(&app.db, None, Some(Status::Sent), 100)
        .await
        .unwrap();
    assert!(sent.iter().all(|n| n.attempts == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_whose_worker_stopped_is_taken_again_after_its_lease() {
    let app = TestApp::builder().mail().spawn().await;
    let campaign_id = campaign(&app.db, "2026-12-15").await;
    enqueue(&app.db, &app, Kind::ReviewRequest, RITA, campaign_id).await;
    // A worker claims the row and dies before sending.
    let claimed = app.worker.claim().await.unwrap();
    assert_eq!(claimed.len(), 1);
    drop(claimed);
    assert_eq!(only(&app.db).await.status, Status::Sending);
    assert_eq!(
        app.worker.run_once().await.unwrap(),
        Default::default(),
        "lease is live"
    );
    app.clock.advance(time::Duration::seconds(301));
    assert_eq!(app.worker.run_once().await.unwrap().sent, 1);
    assert_eq!(app.simulator.sent_emails().len(), 1);
    let row = only(&app.db).await;
    assert_eq!((row.status, row.attempts), (Status::Sent, 2));
    let token = token_in(&app.simulator.inbox(RITA)[0].text_body);
    assert!(matches!(
        links::lookup(&app.db, &app.clock, &token).await.unwrap(),
        Lookup::Valid { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_mail_notifications_stay_queued() {
    let app = TestApp::spawn().await;
    assert!(!app.worker.mail_enabled());
    let campaign_id = campaign(&app.db, "2026-12-15").await;
    enqueue(&app.db, &app, Kind::ReviewRequest, RITA, campaign_id).await;
    assert_eq!(app.worker.run_once().await.unwrap(), Default::default());
    assert_eq!(only(&app.db).await.status, Status::Queued);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_rotate_expire_and_refuse_what_they_do_not_know() {
    let app = TestApp::spawn().await;
    let campaign_id = campaign(&app.db, "2026-12-15").await;
    let rita = Email::parse(RITA).unwrap();
    let expires = time::macros::datetime!(2026-12-19 00:00 UTC);
    let mint = || async {
        let mut tx = app.db.begin().await.unwrap();
        let raw = links::mint(&mut tx, &app.clock, &rita, campaign_id, expires, None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        raw
    };
    let first = mint().await;
    let second = mint().await;
    assert_eq!(
        links::lookup(&app.db, &app.clock, &first).await.unwrap(),
        Lookup::Rotated
    );
    let Lookup::Valid { link_id, .. } = links::lookup(&app.db, &app.clock, &second).await.unwrap()
    else {
        panic!("the newest link works");
    };
    links::mark_used(&app.db, &app.clock, link_id)
        .await
        .unwrap();

    for garbage in [
        &second[..second.len() - 1],
        "",
        "../../etc/passwd",
        &"A".repeat(links::TOKEN_LEN),
        &format!("{second}A"),
    ] {
        assert_eq!(
            links::lookup(&app.db, &app.clock, garbage).await.unwrap(),
            Lookup::Unknown,
            "{garbage:?}"
        );
    }

    app.clock.advance(time::Duration::days(21));
    assert_eq!(
        links::lookup(&app.db, &app.clock, &second).await.unwrap(),
        Lookup::Expired {
            reviewer: RITA.to_string(),
            campaign_id
        }
    );

    let mut tx = app.db.begin().await.unwrap();
    assert_eq!(
        links::revoke(&mut tx, &app.clock, &rita, campaign_id)
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
    assert_eq!(
        links::lookup(&app.db, &app.clock, &second).await.unwrap(),
        Lookup::Revoked
    );
}

//! The outbox across a hard stop, with the real binary: emails queued before a `kill -9` are
//! all sent after the restart, each exactly once, and a further restart sends nothing again.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use postmark_access_review::{
    email::Email,
    notifications::{
        db::{enqueue, NewNotification},
        Kind,
    },
    postmark::{simulator::Simulator, ServerInfo},
};
use serde_json::json;

use crate::helpers::{TestDb, MAIL_FROM, MAIL_SERVER, MAIL_TOKEN};

const REVIEWERS: [&str; 3] = ["ann@example.com", "bob@example.com", "cai@example.com"];

/// `serve` on a free port against `db_url`, sending mail through `postmark` when `mail`.
fn serve(db_url: &str, postmark: &url::Url, mail: bool) -> Child {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_postmark-access-review"));
    command
        .arg("serve")
        .env_clear()
        .env("PAR_LOG_LEVEL", "warn")
        .env("PAR_DATABASE_URL", db_url)
        .env("PAR_BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("PAR_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        // Never reached: sign-in is not part of this test, and serve starts without it.
        .env("PAR_OIDC_ISSUER", "https://idp.invalid")
        .env("PAR_OIDC_CLIENT_ID", "par")
        .env("PAR_OIDC_CLIENT_SECRET", "secret")
        .env("PAR_POSTMARK_API_URL", postmark.as_str())
        .env(
            "PAR_SIGNING_KEY_FILE",
            crate::helpers::test_key_file(db_url),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if mail {
        command
            .env("PAR_POSTMARK_SERVER_TOKEN", MAIL_TOKEN)
            .env("PAR_MAIL_FROM", MAIL_FROM);
    }
    command.spawn().unwrap()
}

fn stop(child: &mut Child, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn delivered(simulator: &Simulator) -> Vec<usize> {
    REVIEWERS.iter().map(|r| simulator.inbox(r).len()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_queued_before_a_kill_are_sent_once_after_the_restart() {
    let test_db = TestDb::fresh().await;
    let db = test_db.connect_migrated().await;
    let (campaign,): (i64,) = sqlx::query_as(
        "INSERT INTO campaigns (name, description, status, kinds, starts_on, due_on, \
         default_outcome, revoke_needs_justification, privileged_needs_justification, \
         use_manager_mapping, use_server_owners, fallback_reviewer, created_by, created_at, \
         updated_at) VALUES ('Q4', '', 'active', '[]', '2026-11-28', '2099-12-31', 'keep', 0, \
         0, 0, 0, 'ada@example.com', 'ada@example.com', 'x', 'x') RETURNING id",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    let clock = postmark_access_review::clock::SystemClock;
    let mut tx = db.begin().await.unwrap();
    for reviewer in REVIEWERS {
        let recipient = Email::parse(reviewer).unwrap();
        let new = NewNotification {
            kind: Kind::ReviewRequest,
            recipient: &recipient,
            campaign_id: Some(campaign),
            data: json!({ "campaign_name": "Q4", "items": 2, "due_on": "2099-12-31",
                          "contact": "ada@example.com" }),
        };
        enqueue(&mut tx, &clock, &new).await.unwrap();
    }
    tx.commit().await.unwrap();

    let simulator = Simulator::new("account-token");
    simulator.add_server(ServerInfo::sample(MAIL_SERVER, "Mail", &[MAIL_TOKEN]));
    let postmark = simulator.spawn(0).await.unwrap();

    // Up without mail, then killed hard: nothing sent, nothing lost.
    let mut first = serve(&test_db.url(), &postmark, false);
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop(&mut first, "-KILL");
    assert_eq!(delivered(&simulator), [0, 0, 0]);

    // Up with mail: every queued email goes, once.
    let mut second = serve(&test_db.url(), &postmark, true);
    for _ in 0..100 {
        if delivered(&simulator).iter().all(|n| *n > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop(&mut second, "-KILL");
    assert_eq!(delivered(&simulator), [1, 1, 1]);
    let (sent,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE status = 'sent'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(sent, 3);

    // And a further restart sends nothing again.
    let mut third = serve(&test_db.url(), &postmark, true);
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop(&mut third, "-TERM");
    assert_eq!(delivered(&simulator), [1, 1, 1]);
}

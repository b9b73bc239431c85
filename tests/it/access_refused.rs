//! Refused access (ASVS 7.2): every 401 and 403 is logged with who, what and why, and a
//! signed-in person's refusals are audit events, at most ten a minute each.

use std::{
    io::{BufRead as _, BufReader},
    process::{Command, Stdio},
    sync::Arc,
};

use reqwest::cookie::Jar;
use serde_json::Value;

use crate::{
    auth::{signed_in, Browser, ADA, RITA},
    helpers::{count, TestApp},
};

/// The `access.refused` events, oldest first: (actor email, subject, details).
async fn refusals(app: &TestApp) -> Vec<(String, String, Value)> {
    let rows: Vec<(Option<String>, String, String)> = sqlx::query_as(
        "SELECT actor_email, subject, details FROM audit_events \
         WHERE action = 'access.refused' ORDER BY seq",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(email, subject, details)| {
            (
                email.unwrap_or_default(),
                subject,
                serde_json::from_str(&details).unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_calling_an_admin_function_is_refused_and_audited() {
    let app = TestApp::spawn().await;
    let rita = signed_in(&app, RITA).await;
    let response = rita.post("/api/people", &[]).await;
    assert_eq!(response.status(), 403);
    let events = refusals(&app).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let (actor, subject, details) = &events[0];
    assert_eq!(actor, "rita.reviewer@example.com");
    assert_eq!(subject, "request:/api/people");
    assert_eq!(details["method"], "POST");
    assert_eq!(details["path"], "/api/people");
    assert_eq!(details["status"], 403);
    assert_eq!(details["reason"], "needs the admin role");

    // A page for admins and auditors, opened by a reviewer.
    let page = rita.get("/inventory").await;
    assert_eq!(page.status(), 403);
    let events = refusals(&app).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1].1, "request:/inventory");
    assert_eq!(events[1].2["reason"], "page for admins and auditors");

    // Nobody signed in: logged, but there is no one to name in the audit log.
    let anonymous = Browser::new(&app);
    assert_eq!(anonymous.post("/api/people", &[]).await.status(), 401);
    assert_eq!(refusals(&app).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_origin_request_of_a_signed_in_person_is_audited() {
    let app = TestApp::spawn().await;
    let ada = signed_in(&app, ADA).await;
    let response = ada
        .client
        .post(ada.base.join("/api/people").unwrap())
        .header("origin", "https://evil.example")
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let events = refusals(&app).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].0, "ada.admin@example.com");
    let reason = events[0].2["reason"].as_str().unwrap();
    assert!(reason.starts_with("cross-origin request"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_refusals_reaches_the_audit_log_ten_times_a_minute() {
    let app = TestApp::spawn().await;
    let rita = signed_in(&app, RITA).await;
    let before = count(&app.db, "SELECT COUNT(*) FROM audit_events").await;
    for _ in 0..40 {
        assert_eq!(rita.post("/api/people", &[]).await.status(), 403);
    }
    assert_eq!(refusals(&app).await.len(), 10);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM audit_events").await,
        before + 10
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_logged_at_warn_with_who_what_and_why() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_postmark-access-review"))
        .args(["demo", "--port", "0", "--data-dir"])
        .arg(data.path())
        .env_clear()
        .env("PAR_LOG_FORMAT", "json")
        .env("PAR_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = stdout
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.trim().strip_prefix("Open ").map(str::to_string))
        .expect("demo prints its address");
    std::thread::spawn(move || stdout.for_each(drop));
    let jar = Arc::new(Jar::default());
    let rita = Browser {
        client: reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        jar,
        base: url.parse().unwrap(),
    };
    assert_eq!(rita.sign_in("/", RITA).await.status(), 303);
    assert_eq!(rita.post("/api/people", &[]).await.status(), 403);
    let anonymous = reqwest::Client::new()
        .get(format!("{url}/exports/audit.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let refused: Vec<Value> = stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["message"] == "access refused")
        .collect();
    let by_rita = refused
        .iter()
        .find(|e| e["path"] == "/api/people")
        .unwrap_or_else(|| panic!("no refusal of /api/people logged in:\n{stderr}"));
    assert_eq!(by_rita["level"], "WARN");
    assert_eq!(by_rita["person.email"], "rita.reviewer@example.com");
    assert_eq!(by_rita["method"], "POST");
    assert_eq!(by_rita["status"], 403);
    assert_eq!(by_rita["reason"], "needs the admin role");
    let anonymous = refused
        .iter()
        .find(|e| e["path"] == "/exports/audit.csv")
        .unwrap_or_else(|| panic!("no anonymous refusal logged in:\n{stderr}"));
    assert_eq!(anonymous["person"], "anonymous");
    assert_eq!(anonymous["status"], 401);
    assert!(anonymous["client"]
        .as_str()
        .is_some_and(|c| c.contains("127.0.0.1")));
}

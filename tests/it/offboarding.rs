//! Offboarding over HTTP: an identity provider deactivates a person through SCIM, the worker
//! removes their Postmark login through the simulator's users gateway, the sync it runs proves
//! it, and the audit log holds the trail in order; reactivation in time keeps the access;
//! orphaned accounts are flagged; an admin's emergency removal; the deadline flag.

use std::time::Instant;

use postmark_access_review::{
    postmark::{
        gateway::{GatewayPermission, GatewayUser},
        ServerInfo,
    },
    revocations::worker::Report,
};
use serde_json::{json, Value};

use crate::{
    auth::{signed_in, Browser, ADA, RITA},
    helpers::{count, TestApp},
    revocations::{quick, worker},
    scim::{Scim, USER},
};

pub fn gateway_user(email: &str, role: &str, servers: &[(i64, &str)]) -> GatewayUser {
    GatewayUser {
        email: email.to_string(),
        name: format!("{} Person", email.split('@').next().unwrap_or_default()),
        role: role.to_string(),
        status: "active".to_string(),
        invited_at: None,
        servers: servers
            .iter()
            .map(|(server_id, permission)| GatewayPermission {
                server_id: *server_id,
                permission: permission.to_string(),
            })
            .collect(),
    }
}

/// An app whose Postmark account has Bea (two permissions), Carl and the owner Olga, synced
/// into the inventory through "Sync now"; Ada signed in.
pub async fn synced() -> (TestApp, Browser) {
    let app = TestApp::builder().users_gateway().spawn().await;
    for id in 1..=2 {
        app.simulator.add_server(ServerInfo::sample(
            id,
            &format!("server-{id}"),
            &[&format!("tok-{id}")],
        ));
    }
    app.simulator.put_user(gateway_user(
        "bea@example.com",
        "Server Access",
        &[(1, "Server Admin"), (2, "Server Viewer")],
    ));
    app.simulator
        .put_user(gateway_user("carl@example.com", "Server Access", &[]));
    app.simulator
        .put_user(gateway_user("olga@example.com", "Account Owner", &[]));
    let ada = signed_in(&app, ADA).await;
    sync_now(&ada).await;
    (app, ada)
}

pub async fn sync_now(ada: &Browser) {
    let response = ada.post("/api/inventory_sync_now", &[]).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

pub fn person(email: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": email,
        "name": { "givenName": "Some", "familyName": "One" },
        "emails": [{ "value": email.to_uppercase(), "type": "work", "primary": true }],
        "active": true,
    })
}

/// Entra ID's deactivation: `replace` on `active` without a path.
async fn deactivate(scim: &Scim<'_>, id: &str) {
    let answer = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{ "op": "Replace", "value": { "active": false } }]),
        )
        .await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
}

/// `(id, status, verification, action, origin)` of the removals outside campaigns.
async fn removals(app: &TestApp, email: &str) -> Vec<(i64, String, String, String, String)> {
    sqlx::query_as(
        "SELECT id, status, verification, action, origin FROM revocations \
         WHERE user_email = $1 AND origin <> 'campaign' ORDER BY id",
    )
    .bind(email)
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

async fn overview(ada: &Browser) -> Value {
    let response = ada.post("/api/offboarding_overview", &[]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// An emergency removal of `email` by `browser`, with `reason`.
async fn remove(browser: &Browser, email: &str, reason: &str) -> reqwest::Response {
    browser
        .post(
            "/api/offboarding_remove",
            &[("email", email), ("reason", reason)],
        )
        .await
}

pub async fn run_worker(app: &TestApp) -> Report {
    worker(app, quick()).run_once().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaver_deactivated_over_scim_is_removed_and_proved_with_the_trail_in_order() {
    let (app, ada) = synced().await;
    let scim = Scim::new(&app, "Entra ID").await;
    let bea = scim.create_user(&person("bea@example.com")).await;
    scim.create_user(&person("carl@example.com")).await;
    assert!(removals(&app, "bea@example.com").await.is_empty());

    let started = Instant::now();
    deactivate(&scim, &bea).await;
    // The job exists as soon as the SCIM call answers: in the same transaction.
    let jobs = removals(&app, "bea@example.com").await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(
        (jobs[0].1.as_str(), jobs[0].3.as_str(), jobs[0].4.as_str()),
        ("pending", "remove_user", "offboarding")
    );

    let report = run_worker(&app).await;
    assert_eq!(report.done, 1, "{report:?}");
    assert!(report.proved, "the worker synced the gateway to prove it");
    let took = started.elapsed();
    println!("SCIM deactivation to verified removal: {took:?} (worker pass included)");
    assert!(app.simulator.user("bea@example.com").is_none());
    assert!(app.simulator.user("carl@example.com").is_some());
    let jobs = removals(&app, "bea@example.com").await;
    assert_eq!(
        (jobs[0].1.as_str(), jobs[0].2.as_str()),
        ("done", "effective")
    );

    // The trail, in order, all about this job.
    let subject = format!("revocation:{}", jobs[0].0);
    let seq = |action: &'static str, subject: String| {
        let db = app.db.clone();
        async move {
            let row: (i64,) = sqlx::query_as(
                "SELECT MIN(seq) FROM audit_events WHERE action = $1 AND subject = $2",
            )
            .bind(action)
            .bind(&subject)
            .fetch_one(db.pool())
            .await
            .unwrap();
            row.0
        }
    };
    let trail = [
        seq("scim.user_deactivated", format!("scim_user:{bea}")).await,
        seq("offboarding.started", subject.clone()).await,
        seq("revocation.attempted", subject.clone()).await,
        seq("revocation.done", subject.clone()).await,
        seq("revocation.verified", subject.clone()).await,
    ];
    assert!(trail.windows(2).all(|w| w[0] < w[1]), "{trail:?}");

    // The page's view: verified, not overdue; Carl is not an orphan, Olga is (unknown).
    let page = overview(&ada).await;
    assert_eq!(page["cases"][0]["progress"], "Verified", "{page:#}");
    assert_eq!(page["cases"][0]["overdue"], false);
    let orphans: Vec<&str> = page["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["email"].as_str().unwrap())
        .collect();
    assert_eq!(orphans, ["olga@example.com"]);

    // Idempotent: a second deactivation call starts nothing new.
    deactivate(&scim, &bea).await;
    assert_eq!(removals(&app, "bea@example.com").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_reactivated_before_their_removal_ran_keeps_their_access() {
    let (app, _ada) = synced().await;
    let scim = Scim::new(&app, "Okta").await;
    let bea = scim.create_user(&person("bea@example.com")).await;
    deactivate(&scim, &bea).await;
    // Okta's reactivation: `replace` with a path.
    let answer = scim
        .patch(
            &format!("/Users/{bea}"),
            json!([{ "op": "replace", "path": "active", "value": true }]),
        )
        .await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    let jobs = removals(&app, "bea@example.com").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].1, "cancelled");
    let report = run_worker(&app).await;
    assert_eq!(report.worked(), 0, "{report:?}");
    assert!(app.simulator.user("bea@example.com").is_some());
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'revocation.cancelled'"
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphaned_accounts_are_flagged_only_once_a_provider_is_connected() {
    let (app, ada) = synced().await;
    let page = overview(&ada).await;
    assert_eq!(page["has_provider"], false);
    assert_eq!(page["orphans"], json!([]));
    let flagged = ada
        .get("/inventory/users?flag=orphaned")
        .await
        .text()
        .await
        .unwrap();
    assert!(!flagged.contains("bea@example.com"));

    let scim = Scim::new(&app, "Okta").await;
    scim.create_user(&person("carl@example.com")).await;
    let page = overview(&ada).await;
    assert_eq!(page["has_provider"], true);
    let orphans: Vec<&str> = page["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["email"].as_str().unwrap())
        .collect();
    assert_eq!(orphans, ["bea@example.com", "olga@example.com"]);
    let flagged = ada
        .get("/inventory/users?flag=orphaned")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        flagged.contains("bea@example.com"),
        "the users page filters by the flag"
    );
    assert!(!flagged.contains("carl@example.com"));
    // Unknown is not a leaver: nobody is removed without a decision.
    assert_eq!(run_worker(&app).await.worked(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emergency_removal_needs_an_admin_and_a_reason_and_runs_once() {
    let (app, ada) = synced().await;
    let rita = signed_in(&app, RITA).await;
    let refused = remove(&rita, "bea@example.com", "compromised").await;
    assert_eq!(refused.status(), 403);

    let plan: Value = ada
        .post("/api/offboarding_plan", &[("email", "BEA@example.com")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plan["role"], "Server Access", "{plan:#}");
    assert_eq!(plan["permissions"].as_array().unwrap().len(), 2, "{plan:#}");
    assert!(plan["steps"][0]
        .as_str()
        .unwrap()
        .contains("removes bea@example.com"));

    let no_reason = remove(&ada, "bea@example.com", "  ").await;
    assert_eq!(no_reason.status(), 422);
    assert!(no_reason.text().await.unwrap().contains("Say why"));
    assert!(removals(&app, "bea@example.com").await.is_empty());

    let started = remove(&ada, "bea@example.com", "Laptop stolen, IT-4411").await;
    assert_eq!(started.status(), 200);
    let again = remove(&ada, "bea@example.com", "twice").await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("already under way"));
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'offboarding.emergency'"
        )
        .await,
        1
    );

    let report = run_worker(&app).await;
    assert_eq!(report.done, 1, "{report:?}");
    let jobs = removals(&app, "bea@example.com").await;
    assert_eq!(
        (jobs[0].1.as_str(), jobs[0].2.as_str(), jobs[0].4.as_str()),
        ("done", "effective", "emergency")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_owner_leaving_becomes_a_task_and_an_unproved_removal_turns_overdue() {
    let (app, ada) = synced().await;
    let scim = Scim::new(&app, "Okta").await;
    let olga = scim.create_user(&person("olga@example.com")).await;
    deactivate(&scim, &olga).await;
    let report = run_worker(&app).await;
    assert_eq!(report.manual, 1, "{report:?}");
    assert_eq!(report.tasks, 1, "{report:?}");
    let (campaign,): (Option<i64>,) = sqlx::query_as("SELECT campaign_id FROM fulfilment_tasks")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(campaign, None, "offboarding's task belongs to no campaign");
    let tasks = ada.get("/tasks").await.text().await.unwrap();
    assert!(tasks.contains("Offboarding"), "the tasks list names it");
    let (task,): (i64,) = sqlx::query_as("SELECT id FROM fulfilment_tasks")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let page = ada
        .get(&format!("/tasks/{task}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("from the Postmark account: they left, and they are the Account Owner"),
        "the line asks for the whole login, not just the role"
    );

    let page = overview(&ada).await;
    assert_eq!(page["cases"][0]["progress"], "NeedsPerson", "{page:#}");
    assert_eq!(page["cases"][0]["overdue"], false);
    app.clock.advance(time::Duration::hours(25));
    // A day later the session has run out too: sign in again.
    let ada = signed_in(&app, ADA).await;
    let page = overview(&ada).await;
    assert_eq!(page["cases"][0]["overdue"], true, "{page:#}");
    assert_eq!(page["deadline"], "24 h");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_removal_can_be_retried_and_is_cancelled_when_the_person_comes_back() {
    use postmark_access_review::{postmark::simulator::Fault, revocations::worker::Settings};
    let (app, ada) = synced().await;
    app.simulator.fault_on(
        "DELETE /gateway/users/bea@example.com",
        Fault::ServerError,
        None,
    );
    let scim = Scim::new(&app, "Okta").await;
    let bea = scim.create_user(&person("bea@example.com")).await;
    deactivate(&scim, &bea).await;
    let once = Settings {
        max_attempts: 1,
        ..quick()
    };
    let report = worker(&app, once).run_once().await.unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    let page = overview(&ada).await;
    assert_eq!(page["cases"][0]["progress"], "Failed", "{page:#}");

    // An admin retries it from the page (the revocations' own retry).
    let job = removals(&app, "bea@example.com").await[0].0;
    let retried = ada
        .post("/api/revocation_retry", &[("id", job.to_string().as_str())])
        .await;
    assert_eq!(retried.status(), 200);
    assert_eq!(removals(&app, "bea@example.com").await[0].1, "pending");
    let report = worker(&app, once).run_once().await.unwrap();
    assert_eq!(report.failed, 1, "{report:?}");

    // Bea is back at the provider: the failed removal is cancelled, nothing is overdue.
    let answer = scim
        .patch(
            &format!("/Users/{bea}"),
            json!([{ "op": "replace", "path": "active", "value": "True" }]),
        )
        .await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    assert_eq!(removals(&app, "bea@example.com").await[0].1, "cancelled");
    app.clock.advance(time::Duration::hours(25));
    let ada = signed_in(&app, ADA).await;
    let page = overview(&ada).await;
    assert_eq!(page["cases"][0]["progress"], "Cancelled", "{page:#}");
    assert_eq!(page["cases"][0]["overdue"], false);
    assert!(app.simulator.user("bea@example.com").is_some());
}

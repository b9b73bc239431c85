//! Manual fulfilment tasks: revocations no API can carry out are gathered into one task per
//! apply, emailed through the outbox to the people in the fulfilment list, and marked line by
//! line over HTTP; the next sync proves a line marked done effective or not. The worker runs
//! without a users gateway here (so every user change is manual), while "Sync now" still
//! reads users from the simulated gateway, as an export would.

use std::sync::Arc;

use postmark_access_review::{
    auth::dev_idp::FULFILMENT_EMAIL,
    config::InventoryConfig,
    email::Email,
    postmark::simulator::Fault,
    revocations::{
        db as revocations,
        worker::{Settings, Worker},
        RevocationView, Status, Verification,
    },
};
use secrecy::SecretString;
use serde_json::{json, Value};

use super::{all, apply, audit_count, closed_campaign_with, quick, ADA_EMAIL};
use crate::{
    auth::{signed_in, Browser, ADA, AUBREY, PETRA, RITA},
    campaigns::{call, count, send},
    helpers::{TestApp, SIMULATOR_TOKEN},
};

/// A worker with Postmark's account token but no users gateway, emailing `recipients`.
fn without_gateway(app: &TestApp, settings: Settings, recipients: &[&str]) -> Worker {
    let inventory = InventoryConfig {
        snapshot_retention_days: postmark_access_review::config::DEFAULT_SNAPSHOT_RETENTION_DAYS,
        api_url: app.simulator_url.clone(),
        account_token: Some(SecretString::from(SIMULATOR_TOKEN.to_string())),
        sync_interval: None,
        webhook_host_allowlist: Vec::new(),
        users_gateway: None,
    };
    Worker::new(
        app.db.clone(),
        Arc::new(app.clock.clone()),
        &inventory,
        settings,
    )
    .unwrap()
    .with_fulfilment(
        recipients
            .iter()
            .map(|e| Email::parse(e).unwrap())
            .collect(),
    )
}

/// A closed campaign of server permissions only (Rita on 1, Chloe on 1 and 2, Erin on 3),
/// applied.
async fn permissions_applied() -> (TestApp, i64) {
    let (app, id) =
        closed_campaign_with(0, &[("kind_server", ""), ("kind_account_role", "")]).await;
    assert_eq!(apply(&app, id, &[], &[]).await.unwrap(), 4);
    (app, id)
}

fn line<'a>(rows: &'a [RevocationView], email: &str, server: i64) -> &'a RevocationView {
    rows.iter()
        .find(|r| r.user_email.as_deref() == Some(email) && r.server_id == Some(server))
        .unwrap()
}

async fn task_ids(app: &TestApp) -> Vec<i64> {
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM fulfilment_tasks ORDER BY id")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    rows.into_iter().map(|(id,)| id).collect()
}

async fn mark(
    who: &Browser,
    task: i64,
    revocation: i64,
    outcome: &str,
    note: &str,
) -> reqwest::Response {
    send(
        who,
        "/api/fulfilment_mark",
        &json!({ "task_id": task, "revocation_id": revocation, "outcome": outcome, "note": note }),
    )
    .await
}

/// The task emails: (recipient, template data).
async fn task_emails(app: &TestApp) -> Vec<(String, Value)> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT recipient, data FROM notifications WHERE kind = 'fulfilment_task' ORDER BY id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(to, data)| (to, serde_json::from_str(&data).unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_revocations_become_one_task_marked_by_a_fulfilment_person_and_proved_by_a_sync() {
    let (app, campaign) = permissions_applied().await;
    let worker = without_gateway(&app, quick(), &[FULFILMENT_EMAIL]);
    let report = worker.run_once().await.unwrap();
    assert_eq!((report.manual, report.tasks), (4, 1), "{report:?}");
    let tasks = task_ids(&app).await;
    assert_eq!(tasks.len(), 1);
    let task = tasks[0];
    // One email, to the fulfilment list, listing what to do; nothing more on the next pass.
    let emails = task_emails(&app).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].0, FULFILMENT_EMAIL);
    assert_eq!(emails[0].1["task_id"], json!(task));
    let lines = emails[0].1["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().any(|l| l
        .as_str()
        .unwrap()
        .starts_with("Remove rita.reviewer@example.com's \"Server Viewer\" permission")));
    assert_eq!(worker.run_once().await.unwrap().tasks, 0);
    assert_eq!(task_emails(&app).await.len(), 1);
    assert_eq!(audit_count(&app, "fulfilment.task_created").await, 1);

    // Who may see and mark it.
    let petra = signed_in(&app, PETRA).await;
    let aubrey = signed_in(&app, AUBREY).await;
    let rita = signed_in(&app, RITA).await;
    let listed = call(&petra, "/api/fulfilment_tasks", &json!({})).await;
    assert_eq!(listed[0]["open"], json!(4));
    let page = call(&aubrey, "/api/fulfilment_task", &json!({ "id": task })).await;
    assert_eq!(page["can_mark"], json!(false));
    assert_eq!(page["task"]["lines"].as_array().unwrap().len(), 4);
    assert_eq!(
        send(&rita, "/api/fulfilment_tasks", &json!({}))
            .await
            .status(),
        403
    );
    let html = petra.get(&format!("/tasks/{task}")).await;
    assert_eq!(html.status(), 200);
    assert!(html.text().await.unwrap().contains("still to do"));
    assert_eq!(rita.get(&format!("/tasks/{task}")).await.status(), 403);

    let rows = all(&app, None).await;
    let (removed, kept, stuck) = (
        line(&rows, "rita.reviewer@example.com", 1).id,
        line(&rows, "chloe@example.com", 1).id,
        line(&rows, "erin@example.com", 3).id,
    );
    // Refusals change nothing: an auditor marking, "could not do" without a note, a line of
    // another task, an unknown outcome.
    assert_eq!(mark(&aubrey, task, removed, "done", "").await.status(), 403);
    assert_eq!(
        mark(&petra, task, stuck, "not_done", " ").await.status(),
        422
    );
    assert_eq!(
        mark(&petra, task + 1, removed, "done", "").await.status(),
        404
    );
    assert_eq!(mark(&petra, task, removed, "maybe", "").await.status(), 422);
    assert_eq!(all(&app, Some(Status::Manual)).await.len(), 4);

    // Petra removes Rita's permission in Postmark and says so; she marks Chloe's done without
    // changing anything, and cannot do Erin's.
    let mut rita_user = app.simulator.user("rita.reviewer@example.com").unwrap();
    rita_user.servers.retain(|p| p.server_id != 1);
    app.simulator.put_user(rita_user);
    assert_eq!(
        mark(&petra, task, removed, "done", "Removed in the Postmark UI")
            .await
            .status(),
        200
    );
    assert_eq!(mark(&petra, task, kept, "done", "").await.status(), 200);
    assert_eq!(
        mark(
            &petra,
            task,
            stuck,
            "not_done",
            "Her invitation is pending; Postmark shows no edit"
        )
        .await
        .status(),
        200
    );
    // A line is marked once.
    let again = mark(&petra, task, removed, "not_done", "second thoughts").await;
    assert_eq!(again.status(), 409);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("petra.postmark@example.com"));
    assert_eq!(audit_count(&app, "revocation.task_done").await, 2);
    assert_eq!(audit_count(&app, "revocation.task_not_done").await, 1);
    let failed = revocations::get(&app.db, stuck).await.unwrap().unwrap();
    assert_eq!(failed.status, Status::Failed);
    assert!(failed.last_error.unwrap().contains("invitation is pending"));

    // The next sync decides the two lines marked done.
    let ada = signed_in(&app, ADA).await;
    let synced = ada.post("/api/inventory_sync_now", &[]).await;
    assert_eq!(synced.status(), 200);
    let effective = revocations::get(&app.db, removed).await.unwrap().unwrap();
    assert_eq!(effective.verification, Verification::Effective);
    let not_effective = revocations::get(&app.db, kept).await.unwrap().unwrap();
    assert_eq!(not_effective.verification, Verification::NotEffective);
    let listed = call(&ada, "/api/fulfilment_tasks", &json!({})).await;
    assert_eq!(listed[0]["not_effective"], json!(1));
    assert_eq!(listed[0]["open"], json!(1));

    // Retrying the line that could not be done sends it out again, in a task of its own.
    let retried = ada
        .post("/api/revocation_retry", &[("id", &stuck.to_string())])
        .await;
    assert_eq!(retried.status(), 200);
    let report = worker.run_once().await.unwrap();
    assert_eq!((report.manual, report.tasks), (1, 1), "{report:?}");
    assert_eq!(task_ids(&app).await.len(), 2);
    assert_eq!(task_emails(&app).await.len(), 2);
    // The first task keeps its history: four lines, Erin's still "could not do" with the note.
    let first = call(&ada, "/api/fulfilment_task", &json!({ "id": task })).await;
    let lines = first["task"]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 4);
    let erin = lines
        .iter()
        .find(|l| l["revocation_id"] == json!(stuck))
        .unwrap();
    assert_eq!(erin["outcome"], json!("NotDone"));
    assert!(erin["note"]
        .as_str()
        .unwrap()
        .contains("invitation is pending"));
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM fulfilment_lines l JOIN revocations r \
                 ON r.id = l.revocation_id WHERE r.campaign_id = {campaign}"
            )
        )
        .await,
        5
    );

    // A not effective line can be sent out again too; retrying withdraws nothing closed.
    let retried = ada
        .post("/api/revocation_retry", &[("id", &kept.to_string())])
        .await;
    assert_eq!(retried.status(), 200);
    let again = revocations::get(&app.db, kept).await.unwrap().unwrap();
    assert_eq!(
        (again.status, again.verification),
        (Status::Pending, Verification::Unverified)
    );
    let report = worker.run_once().await.unwrap();
    assert_eq!((report.manual, report.tasks), (1, 1), "{report:?}");
    assert_eq!(task_ids(&app).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_line_is_withdrawn_by_a_retry_and_nobody_confirms_their_own_revocation() {
    // Ada holds the Account Owner role: her own revocation is a task she may not confirm.
    let (app, id) =
        closed_campaign_with(0, &[("kind_server", ""), ("kind_server_permission", "")]).await;
    apply(&app, id, &[], &[]).await.unwrap();
    let worker =
        super::worker(&app, quick()).with_fulfilment(vec![Email::parse(FULFILMENT_EMAIL).unwrap()]);
    assert_eq!(worker.run_once().await.unwrap().tasks, 1);
    let task = task_ids(&app).await[0];
    let owner = all(&app, Some(Status::Manual)).await[0].id;
    let ada = signed_in(&app, ADA).await;
    let refused = mark(&ada, task, owner, "done", "").await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("your own access"));
    assert_eq!(all(&app, Some(Status::Manual)).await.len(), 1);

    // An admin retries the open line: it is withdrawn, and marking it now is refused.
    let retried = ada
        .post("/api/revocation_retry", &[("id", &owner.to_string())])
        .await;
    assert_eq!(retried.status(), 200);
    let petra = signed_in(&app, PETRA).await;
    assert_eq!(mark(&petra, task, owner, "done", "").await.status(), 409);
    let page = call(&petra, "/api/fulfilment_task", &json!({ "id": task })).await;
    assert_eq!(page["task"]["lines"][0]["outcome"], json!("Withdrawn"));
    // The retried job is manual again, in a task of its own.
    assert_eq!(worker.run_once().await.unwrap().tasks, 1);
    let tasks = task_ids(&app).await;
    assert_eq!(tasks.len(), 2);
    assert_eq!(
        mark(&petra, tasks[1], owner, "done", "Ownership moved to Ben")
            .await
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_apply_makes_one_task_even_when_its_jobs_take_several_passes() {
    let (app, _) = permissions_applied().await;
    let worker = without_gateway(
        &app,
        Settings {
            batch: 1,
            ..quick()
        },
        &[FULFILMENT_EMAIL, ADA_EMAIL],
    );
    for pass in 1..=3 {
        let report = worker.run_once().await.unwrap();
        assert_eq!((report.manual, report.tasks), (1, 0), "pass {pass}");
    }
    let report = worker.run_once().await.unwrap();
    assert_eq!((report.manual, report.tasks), (1, 1));
    assert_eq!(task_ids(&app).await.len(), 1);
    // One email per person on the list.
    let emails = task_emails(&app).await;
    let mut to: Vec<&str> = emails.iter().map(|(to, _)| to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, [ADA_EMAIL, FULFILMENT_EMAIL]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_owner_is_a_task_even_with_a_gateway_and_says_when_nobody_was_emailed() {
    let (app, id) =
        closed_campaign_with(0, &[("kind_server", ""), ("kind_server_permission", "")]).await;
    assert!(apply(&app, id, &[], &[]).await.unwrap() >= 2);
    let report = super::worker(&app, quick()).run_once().await.unwrap();
    assert_eq!((report.manual, report.tasks), (1, 1), "{report:?}");
    let task = task_ids(&app).await[0];
    assert!(task_emails(&app).await.is_empty());
    let ada = signed_in(&app, ADA).await;
    let page = call(&ada, "/api/fulfilment_task", &json!({ "id": task })).await;
    let lines = page["task"]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["user_email"], json!(ADA_EMAIL));
    assert!(lines[0]["instruction"]
        .as_str()
        .unwrap()
        .contains("make someone else the Account Owner"));
    let html = ada
        .get(&format!("/tasks/{task}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Nobody was emailed"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_the_users_gateway_cannot_make_becomes_a_task_not_a_failure() {
    let (app, _) = permissions_applied().await;
    // This gateway reads, but cannot make one of the permission changes.
    app.simulator.fault_on(
        "PUT /gateway/users/rita.reviewer@example.com/servers/1",
        Fault::NotImplemented,
        None,
    );
    let report = super::worker(&app, quick()).run_once().await.unwrap();
    assert_eq!(
        (report.done, report.manual, report.tasks),
        (3, 1, 1),
        "{report:?}"
    );
    let rows = all(&app, Some(Status::Manual)).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].user_email.as_deref(),
        Some("rita.reviewer@example.com")
    );
    assert!(rows[0]
        .last_error
        .as_deref()
        .unwrap()
        .starts_with("The users gateway cannot make this change (it answered 501)"));
    let attempts = revocations::attempts(&app.db, rows[0].id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].http_status, Some(501));
    assert_eq!(attempts[0].outcome, "manual");
    // The call was not counted as a spent attempt: a retry later starts a full round.
    assert_eq!(rows[0].attempts, 0);
    assert!(rows[0].task_id.is_some());
}

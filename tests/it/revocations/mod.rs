//! Revocations: applying a closed campaign's revocations, and the worker carrying them out
//! against the simulator (Postmark and the users gateway), driven by hand with `run_once` and
//! the injected clock, on the engine under test. Faults, pauses and concurrency are in
//! `faults`; two `serve` processes on one queue in `two_workers`; manual fulfilment tasks in
//! `tasks`; what the next sync proves (effective, not effective, drift) in `verify`; restoring
//! or deleting a quarantined server from its page in `restore`.

mod faults;
mod restore;
mod tasks;
mod two_workers;
mod verify;

use std::{sync::Arc, time::Duration};

use postmark_access_review::{
    audit::Actor,
    config::InventoryConfig,
    error::AppError,
    postmark::gateway::{GatewayPermission, GatewayUser},
    review_items::ItemKind,
    revocations::{
        db::{self as revocations, Exclusion},
        worker::{Settings, Worker},
        Action, RevocationView, Status, BASIC_ROLE, OWNER_IS_MANUAL,
    },
};
use secrecy::SecretString;
use serde_json::json;

use crate::{
    auth::Browser,
    campaigns::{count, create, form, launch, seeded},
    helpers::{TestApp, GATEWAY_TOKEN, SIMULATOR_TOKEN},
};

pub const ADA_EMAIL: &str = "ada.admin@example.com";

/// The users of the campaign fixtures' CSV, also in the simulated gateway.
fn gateway_users() -> Vec<GatewayUser> {
    let user = |email: &str, role: &str, status: &str, servers: &[(i64, &str)]| GatewayUser {
        email: email.to_string(),
        name: email.split('@').next().unwrap_or_default().to_string(),
        role: role.to_string(),
        status: status.to_string(),
        invited_at: None,
        servers: servers
            .iter()
            .map(|(server_id, permission)| GatewayPermission {
                server_id: *server_id,
                permission: permission.to_string(),
            })
            .collect(),
    };
    vec![
        user(ADA_EMAIL, "Account Owner", "active", &[]),
        user("dan@example.com", "Account Admin", "active", &[]),
        user(
            "rita.reviewer@example.com",
            "Server Access",
            "active",
            &[(1, "Server Viewer")],
        ),
        user(
            "chloe@example.com",
            "Server Access",
            "active",
            &[(1, "Server Admin"), (2, "Server Viewer")],
        ),
        user(
            "erin@example.com",
            "Server Access",
            "pending",
            &[(3, "Server Viewer")],
        ),
    ]
}

/// Extra servers (ids 4…) beside the fixtures' three.
pub async fn closed_campaign_with(extra_servers: i64, fields: &[(&str, &str)]) -> (TestApp, i64) {
    let app = TestApp::builder().users_gateway().spawn().await;
    for user in gateway_users() {
        app.simulator.put_user(user);
    }
    for id in 4..4 + extra_servers {
        app.simulator
            .add_server(postmark_access_review::postmark::ServerInfo::sample(
                id,
                &format!("server-{id}"),
                &[&format!("tok-{id}")],
            ));
    }
    let (app, ada) = seeded(app).await;
    app.simulator.update_server(1, |s| {
        s.bounce_hook_url = Some("https://hooks.example.com/bounce".into());
        s.click_hook_url = Some("https://hooks.example.com/click".into());
    });
    let id = create(&ada, &form("Q4 access review", fields)).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    close(&ada, id).await;
    (app, id)
}

/// The fixtures' campaign (12 items, every one revoked by default), closed.
pub async fn closed_campaign() -> (TestApp, i64) {
    closed_campaign_with(0, &[]).await
}

/// A closed campaign of servers only (the fixtures' three and `extra` more), applied.
pub async fn applied_servers(extra: i64) -> (TestApp, i64) {
    let (app, id) = closed_campaign_with(
        extra,
        &[("kind_account_role", ""), ("kind_server_permission", "")],
    )
    .await;
    assert_eq!(apply(&app, id, &[], &[]).await.unwrap(), 3 + extra as usize);
    (app, id)
}

pub async fn close(ada: &Browser, id: i64) {
    let response = ada
        .post("/api/campaign_close", &[("id", &id.to_string())])
        .await;
    assert_eq!(response.status(), 200);
}

pub fn ada() -> Actor {
    Actor::Person {
        issuer: "https://idp.example.com".into(),
        subject: "ada".into(),
        email: ADA_EMAIL.into(),
    }
}

pub async fn apply(
    app: &TestApp,
    id: i64,
    exclude: &[Exclusion<'_>],
    delete: &[i64],
) -> Result<usize, AppError> {
    let mut tx = app.db.begin().await.unwrap();
    let applied = revocations::apply(&mut tx, &app.clock, &ada(), id, exclude, delete).await;
    if applied.is_ok() {
        tx.commit().await.unwrap();
    }
    applied
}

/// Quick settings: small waits, three attempts, a short request timeout.
pub fn quick() -> Settings {
    Settings {
        batch: 100,
        max_attempts: 3,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(60),
        probe_every: Duration::from_secs(30),
        request_timeout: Duration::from_millis(400),
        ..Settings::default()
    }
}

/// A worker over the app's database and clock, talking to its simulator.
pub fn worker(app: &TestApp, settings: Settings) -> Worker {
    let inventory = InventoryConfig {
        snapshot_retention_days: postmark_access_review::config::DEFAULT_SNAPSHOT_RETENTION_DAYS,
        api_url: app.simulator_url.clone(),
        account_token: Some(SecretString::from(SIMULATOR_TOKEN.to_string())),
        sync_interval: None,
        webhook_host_allowlist: Vec::new(),
        users_gateway: Some((
            app.simulator_url.join("gateway/").unwrap(),
            SecretString::from(GATEWAY_TOKEN.to_string()),
        )),
    };
    Worker::new(
        app.db.clone(),
        Arc::new(app.clock.clone()),
        &inventory,
        settings,
    )
    .unwrap()
}

pub async fn all(app: &TestApp, status: Option<Status>) -> Vec<RevocationView> {
    revocations::list(&app.db, None, status, None, 1000)
        .await
        .unwrap()
}

pub async fn one(app: &TestApp, kind: ItemKind, server: Option<i64>) -> RevocationView {
    all(app, None)
        .await
        .into_iter()
        .find(|r| r.kind == kind && r.server_id == server)
        .unwrap()
}

pub async fn audit_count(app: &TestApp, action: &str) -> i64 {
    count(
        app,
        &format!("SELECT COUNT(*) FROM audit_events WHERE action = '{action}'"),
    )
    .await
}

async fn action_of(
    app: &TestApp,
    rows: &[RevocationView],
    email: Option<&str>,
    kind: ItemKind,
    server: Option<i64>,
) -> Option<Action> {
    let id = rows
        .iter()
        .find(|r| r.kind == kind && r.user_email.as_deref() == email && r.server_id == server)
        .unwrap()
        .id;
    revocations::get(&app.db, id).await.unwrap().unwrap().action
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_needs_a_closed_campaign_and_reasons_for_exclusions() {
    let (app, ada) = crate::campaigns::setup().await;
    let open = create(&ada, &form("Open", &[])).await;
    assert_eq!(launch(&ada, open).await.status(), 200);
    assert!(matches!(
        apply(&app, open, &[], &[]).await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        apply(&app, 999_999, &[], &[]).await,
        Err(AppError::NotFound)
    ));
    close(&ada, open).await;
    let rows = all(&app, Some(Status::ToRevoke)).await;
    assert_eq!(rows.len(), 12);
    let permission = rows
        .iter()
        .find(|r| r.kind == ItemKind::ServerPermission)
        .unwrap()
        .id;
    let server = rows
        .iter()
        .find(|r| r.kind == ItemKind::Server && r.server_id == Some(3))
        .unwrap()
        .id;
    let refused = [
        (
            vec![Exclusion {
                id: permission,
                reason: "  ",
            }],
            vec![],
        ),
        (
            vec![Exclusion {
                id: 999_999,
                reason: "x",
            }],
            vec![],
        ),
        (vec![], vec![permission]),
        (vec![], vec![999_999]),
    ];
    for (exclude, delete) in refused {
        let result = apply(&app, open, &exclude, &delete).await;
        assert!(
            matches!(result, Err(AppError::Validation(_))),
            "{exclude:?} {delete:?}: {result:?}"
        );
    }
    assert_eq!(all(&app, Some(Status::ToRevoke)).await.len(), 12);
    assert_eq!(audit_count(&app, "revocations.applied").await, 0);

    let exclude = [Exclusion {
        id: permission,
        reason: "Needed for the migration until January",
    }];
    assert_eq!(apply(&app, open, &exclude, &[server]).await.unwrap(), 11);
    let counts = revocations::counts(&app.db, open).await.unwrap();
    assert_eq!(
        (counts.pending, counts.excluded, counts.to_revoke),
        (11, 1, 0)
    );
    let excluded = &all(&app, Some(Status::Excluded)).await[0];
    assert_eq!(
        excluded.excluded_reason.as_deref(),
        Some("Needed for the migration until January")
    );
    assert_eq!(
        action_of(&app, &rows, Some(ADA_EMAIL), ItemKind::AccountRole, None).await,
        Some(Action::Manual)
    );
    assert_eq!(
        action_of(
            &app,
            &rows,
            Some("dan@example.com"),
            ItemKind::AccountRole,
            None
        )
        .await,
        Some(Action::Demote)
    );
    assert_eq!(
        action_of(
            &app,
            &rows,
            Some("chloe@example.com"),
            ItemKind::AccountRole,
            None
        )
        .await,
        Some(Action::RemoveUser)
    );
    assert_eq!(
        action_of(
            &app,
            &rows,
            Some("chloe@example.com"),
            ItemKind::ServerPermission,
            Some(2)
        )
        .await,
        Some(Action::RemovePermission)
    );
    assert_eq!(
        action_of(&app, &rows, None, ItemKind::Server, Some(3)).await,
        Some(Action::Delete)
    );
    assert_eq!(
        action_of(&app, &rows, None, ItemKind::Server, Some(1)).await,
        Some(Action::Quarantine)
    );
    assert!(all(&app, Some(Status::Pending))
        .await
        .iter()
        .all(|r| r.applied_at.is_some() && r.next_attempt_at.is_some()));
    let (details,): (String,) =
        sqlx::query_as("SELECT details FROM audit_events WHERE action = 'revocations.applied'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let details: serde_json::Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["jobs"], 11);
    assert_eq!(details["delete"], json!([server]));
    assert_eq!(details["excluded"][0]["revocation"], permission);
    // Applying again finds nothing left to apply.
    assert_eq!(apply(&app, open, &[], &[]).await.unwrap(), 0);
    assert_eq!(audit_count(&app, "revocations.applied").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_carries_out_every_kind_and_skips_access_already_gone() {
    let (app, id) = closed_campaign().await;
    let server3 = one(&app, ItemKind::Server, Some(3)).await.id;
    assert_eq!(apply(&app, id, &[], &[server3]).await.unwrap(), 12);
    // Gone before the worker comes: Erin left, server 2 lost its webhooks and SMTP by hand.
    assert!(app.simulator.remove_user("erin@example.com"));
    app.simulator.update_server(2, |s| {
        s.smtp_api_activated = false;
        s.name = format!("[revoked 2026-11-01] {}", s.name);
    });
    let before = app.simulator.request_log().len();

    let report = worker(&app, quick()).run_once().await.unwrap();
    assert_eq!(
        (report.done, report.manual, report.failed),
        (11, 1, 0),
        "{report:?}"
    );

    // Servers: 1 quarantined, 2 was already, 3 deleted.
    let one_now = app.simulator.server(1).unwrap();
    assert!(!one_now.smtp_api_activated);
    assert_eq!(one_now.name, "[revoked 2026-11-28] server-1");
    assert_eq!(one_now.bounce_hook_url.as_deref(), Some(""));
    assert_eq!(one_now.click_hook_url.as_deref(), Some(""));
    assert!(app.simulator.server(3).is_none());
    let (previous,): (Option<String>,) =
        sqlx::query_as("SELECT previous FROM revocations WHERE kind = 'server' AND server_id = 1")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let previous: serde_json::Value = serde_json::from_str(&previous.unwrap()).unwrap();
    assert_eq!(previous["Name"], "server-1");
    assert_eq!(previous["SmtpApiActivated"], true);
    assert_eq!(
        previous["BounceHookUrl"],
        "https://hooks.example.com/bounce"
    );
    assert_eq!(previous["InboundHookUrl"], "");

    // Users: the basic role removed, the elevated one demoted, the owner left to a person.
    let users = app.simulator.users();
    let emails: Vec<&str> = users.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(emails, [ADA_EMAIL, "dan@example.com"]);
    assert_eq!(users[1].role, BASIC_ROLE);
    let owner = all(&app, Some(Status::Manual)).await;
    assert_eq!(owner.len(), 1);
    assert_eq!(owner[0].user_email.as_deref(), Some(ADA_EMAIL));
    assert_eq!(owner[0].last_error.as_deref(), Some(OWNER_IS_MANUAL));
    assert!(all(&app, Some(Status::Done))
        .await
        .iter()
        .all(|r| r.attempts == 1 && r.finished_at.is_some()));

    // Access already gone: read, no write.
    let log: Vec<String> = app.simulator.request_log()[before..].to_vec();
    for untouched in [
        "PUT /servers/2",
        "DELETE /gateway/users/erin@example.com",
        "PUT /gateway/users/erin@example.com/servers/3",
    ] {
        assert!(!log.iter().any(|l| l == untouched), "{untouched}: {log:#?}");
    }
    assert_eq!(log.iter().filter(|l| *l == "GET /gateway/users").count(), 1);
    let server2 = one(&app, ItemKind::Server, Some(2)).await;
    let attempts = revocations::attempts(&app.db, server2.id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].operation, "GET /servers/2");
    assert_eq!(attempts[0].message.as_deref(), Some("already quarantined"));
    assert_eq!(attempts[0].outcome, "done");

    // Every edit the worker sent is an `EditServerPayload`.
    let account = crate::contract::spec("account-api.yaml");
    let edits = app.simulator.server_edits();
    assert_eq!(edits.len(), 1);
    let mut problems = Vec::new();
    for (server, body) in &edits {
        crate::contract::check(
            &account,
            crate::contract::schema(&account, "EditServerPayload"),
            body,
            &format!("PUT /servers/{server}"),
            &mut problems,
        );
    }
    assert!(problems.is_empty(), "{problems:#?}");

    // Audit: one attempt event per attempt, one outcome event per job.
    assert_eq!(audit_count(&app, "revocation.attempted").await, 11);
    assert_eq!(audit_count(&app, "revocation.done").await, 11);
    assert_eq!(audit_count(&app, "revocation.manual").await, 1);
    // Nothing is due any more: a second pass calls nobody.
    let calls = app.simulator.request_log().len();
    let report = worker(&app, quick()).run_once().await.unwrap();
    assert_eq!(
        report.done + report.retried + report.failed + report.manual,
        0
    );
    assert_eq!(app.simulator.request_log().len(), calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_users_gateway_user_jobs_become_manual_tasks() {
    let (app, id) = closed_campaign().await;
    apply(&app, id, &[], &[]).await.unwrap();
    let inventory = InventoryConfig {
        snapshot_retention_days: postmark_access_review::config::DEFAULT_SNAPSHOT_RETENTION_DAYS,
        api_url: app.simulator_url.clone(),
        account_token: Some(SecretString::from(SIMULATOR_TOKEN.to_string())),
        sync_interval: None,
        webhook_host_allowlist: Vec::new(),
        users_gateway: None,
    };
    let worker = Worker::new(
        app.db.clone(),
        Arc::new(app.clock.clone()),
        &inventory,
        quick(),
    )
    .unwrap();
    let report = worker.run_once().await.unwrap();
    assert_eq!((report.done, report.manual), (3, 9), "{report:?}");
    let manual = all(&app, Some(Status::Manual)).await;
    assert!(manual
        .iter()
        .filter(|r| r.user_email.as_deref() != Some(ADA_EMAIL))
        .all(|r| r
            .last_error
            .as_deref()
            .unwrap()
            .contains("No users gateway")));
    assert_eq!(app.simulator.users().len(), 5, "nobody removed");
}

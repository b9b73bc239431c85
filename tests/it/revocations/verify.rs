//! Verification: the next successful sync proves a done job effective (the access is gone from
//! the inventory) or not effective (it is still there); access that shows again after being
//! effective is drift, flagged once. Jobs run against the simulator, syncs go through "Sync
//! now" (servers, then the users gateway), on the engine under test.

use postmark_access_review::{
    postmark::gateway::GatewayPermission,
    review_items::ItemKind,
    revocations::{db as revocations, RevocationView, Status, Verification},
};
use serde_json::Value;

use super::{
    all, applied_servers, apply, audit_count, closed_campaign, closed_campaign_with, one, quick,
    worker, ADA_EMAIL,
};
use crate::{
    auth::{signed_in, Browser, ADA},
    helpers::TestApp,
};

/// "Sync now" as an admin: servers from Postmark, then users from the gateway.
async fn sync_now(ada: &Browser) {
    let response = ada.post("/api/inventory_sync_now", &[]).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// The latest successful sync of `scope`.
async fn latest_sync(app: &TestApp, scope: &str) -> i64 {
    let (id,): (i64,) =
        sqlx::query_as("SELECT MAX(id) FROM syncs WHERE scope = $1 AND status = 'succeeded'")
            .bind(scope)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    id
}

/// A closed campaign of server permissions only (Rita on 1, Chloe on 1 and 2, Erin on 3),
/// applied and carried out through the users gateway.
async fn permissions_done() -> (TestApp, i64, Browser) {
    let (app, id) =
        closed_campaign_with(0, &[("kind_server", ""), ("kind_account_role", "")]).await;
    assert_eq!(apply(&app, id, &[], &[]).await.unwrap(), 4);
    let report = worker(&app, quick()).run_once().await.unwrap();
    assert_eq!(report.done, 4, "{report:?}");
    let ada = signed_in(&app, ADA).await;
    (app, id, ada)
}

fn permission<'a>(rows: &'a [RevocationView], email: &str, server: i64) -> &'a RevocationView {
    rows.iter()
        .find(|r| r.user_email.as_deref() == Some(email) && r.server_id == Some(server))
        .unwrap()
}

/// The `details` of every audit event `action`, oldest first.
async fn audit_details(app: &TestApp, action: &str) -> Vec<Value> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT details FROM audit_events WHERE action = $1 ORDER BY seq")
            .bind(action)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    rows.into_iter()
        .map(|(d,)| serde_json::from_str(&d).unwrap())
        .collect()
}

async fn html(ada: &Browser, path: &str) -> String {
    let page = ada.get(path).await;
    assert_eq!(page.status(), 200, "{path}");
    page.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantined_server_is_proved_effective_by_the_next_servers_sync() {
    let (app, id) = applied_servers(0).await;
    let report = worker(&app, quick()).run_once().await.unwrap();
    assert_eq!(report.done, 3, "{report:?}");
    let done = all(&app, Some(Status::Done)).await;
    assert!(done
        .iter()
        .all(|r| r.verification == Verification::Unverified && r.verified_sync_id.is_none()));
    let ada = signed_in(&app, ADA).await;
    let page = html(&ada, &format!("/revocations?campaign={id}")).await;
    assert!(page.contains("Not verified yet"), "{page}");

    sync_now(&ada).await;
    let sync = latest_sync(&app, "servers").await;
    let rows = all(&app, Some(Status::Done)).await;
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row.verification, Verification::Effective, "{row:?}");
        assert_eq!(row.verified_sync_id, Some(sync));
        assert!(row.drift_at.is_none());
    }
    let events = audit_details(&app, "revocation.verified").await;
    assert_eq!(events.len(), 3);
    assert!(events
        .iter()
        .all(|e| e["outcome"] == "effective" && e["sync"] == sync && e["kind"] == "server"));
    let counts = revocations::counts(&app.db, id).await.unwrap();
    assert_eq!(
        (
            counts.done,
            counts.effective,
            counts.not_effective,
            counts.drift
        ),
        (3, 3, 0, 0)
    );
    let page = html(&ada, &format!("/revocations?campaign={id}")).await;
    assert!(
        page.contains(&format!("Effective (gone in sync #{sync})")),
        "{page}"
    );
    // A second sync decides nothing again.
    sync_now(&ada).await;
    assert_eq!(audit_count(&app, "revocation.verified").await, 3);
    assert_eq!(
        one(&app, ItemKind::Server, Some(1)).await.verified_sync_id,
        Some(sync)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_permission_is_proved_effective_by_the_next_users_sync() {
    let (app, id, ada) = permissions_done().await;
    sync_now(&ada).await;
    let users_sync = latest_sync(&app, "users").await;
    assert!(users_sync > latest_sync(&app, "servers").await);
    let rows = all(&app, Some(Status::Done)).await;
    assert_eq!(rows.len(), 4);
    for row in &rows {
        assert_eq!(row.verification, Verification::Effective, "{row:?}");
        // Decided by the users sync, which read the gateway, not by the servers sync.
        assert_eq!(row.verified_sync_id, Some(users_sync));
    }
    let counts = revocations::counts(&app.db, id).await.unwrap();
    assert_eq!((counts.effective, counts.not_effective), (4, 0));
    assert!(audit_details(&app, "revocation.verified")
        .await
        .iter()
        .all(|e| e["outcome"] == "effective" && e["kind"] == "server_permission"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_done_while_postmark_still_has_the_access_is_not_effective() {
    let (app, id, ada) = permissions_done().await;
    // Someone gives Chloe her permission on server 1 back before the sync reads the gateway.
    let mut chloe = app
        .simulator
        .users()
        .into_iter()
        .find(|u| u.email == "chloe@example.com")
        .unwrap();
    chloe.servers.push(GatewayPermission {
        server_id: 1,
        permission: "Server Admin".to_string(),
    });
    app.simulator.put_user(chloe);

    sync_now(&ada).await;
    let users_sync = latest_sync(&app, "users").await;
    let rows = all(&app, Some(Status::Done)).await;
    let chloe_1 = permission(&rows, "chloe@example.com", 1);
    assert_eq!(chloe_1.verification, Verification::NotEffective);
    assert_eq!(chloe_1.verified_sync_id, Some(users_sync));
    assert_eq!(
        permission(&rows, "chloe@example.com", 2).verification,
        Verification::Effective
    );
    let events = audit_details(&app, "revocation.verified").await;
    let not_effective: Vec<&Value> = events
        .iter()
        .filter(|e| e["outcome"] == "not_effective")
        .collect();
    assert_eq!(not_effective.len(), 1);
    assert_eq!(not_effective[0]["user"], "chloe@example.com");
    assert_eq!(not_effective[0]["server"], 1);
    assert_eq!(not_effective[0]["campaign"], id);

    let counts = revocations::counts(&app.db, id).await.unwrap();
    assert_eq!((counts.effective, counts.not_effective), (3, 1));
    let dashboard = html(&ada, &format!("/campaigns/{id}")).await;
    assert!(
        dashboard.contains("1 revocation not effective: ")
            && dashboard.contains("count-not-effective"),
        "{dashboard}"
    );
    let list = html(&ada, &format!("/revocations?campaign={id}")).await;
    assert!(
        list.contains(&format!(
            "Not effective — still in Postmark after sync #{users_sync}"
        )),
        "{list}"
    );
    // Decided once: the next sync, with the access still there, records nothing new.
    sync_now(&ada).await;
    assert_eq!(audit_count(&app, "revocation.verified").await, 4);
    assert_eq!(audit_count(&app, "revocation.drift").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_that_comes_back_after_being_effective_is_drift_flagged_once() {
    let (app, id, ada) = permissions_done().await;
    sync_now(&ada).await;
    assert_eq!(revocations::counts(&app.db, id).await.unwrap().effective, 4);

    // Rita's permission on server 1 comes back.
    let mut rita = app
        .simulator
        .users()
        .into_iter()
        .find(|u| u.email == "rita.reviewer@example.com")
        .unwrap();
    rita.servers.push(GatewayPermission {
        server_id: 1,
        permission: "Server Viewer".to_string(),
    });
    app.simulator.put_user(rita);
    sync_now(&ada).await;
    let back_in = latest_sync(&app, "users").await;
    let rows = all(&app, Some(Status::Done)).await;
    let rita_1 = permission(&rows, "rita.reviewer@example.com", 1);
    assert!(rita_1.drift_at.is_some());
    assert_eq!(rita_1.drift_sync_id, Some(back_in));
    // Still proved effective when it was: drift is a flag beside that, not a new verdict.
    assert_eq!(rita_1.verification, Verification::Effective);
    assert_eq!(
        rows.iter().filter(|r| r.drift_at.is_some()).count(),
        1,
        "{rows:?}"
    );
    let events = audit_details(&app, "revocation.drift").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["user"], "rita.reviewer@example.com");
    assert_eq!(events[0]["sync"], back_in);

    // Once: later syncs that still show it record nothing more.
    sync_now(&ada).await;
    sync_now(&ada).await;
    assert_eq!(audit_count(&app, "revocation.drift").await, 1);
    let again = revocations::get(&app.db, rita_1.id).await.unwrap().unwrap();
    assert_eq!(again.drift_sync_id, Some(back_in));

    let counts = revocations::counts(&app.db, id).await.unwrap();
    assert_eq!((counts.effective, counts.drift), (4, 1));
    let dashboard = html(&ada, &format!("/campaigns/{id}")).await;
    assert!(
        dashboard.contains("Drift: access came back for 1 revocation "),
        "{dashboard}"
    );
    let list = html(&ada, &format!("/revocations?campaign={id}")).await;
    assert!(
        list.contains(&format!("Drift: access came back in sync #{back_in}")),
        "{list}"
    );
    for page in [
        "/inventory/users/rita.reviewer@example.com",
        "/inventory/servers/1",
    ] {
        let page = html(&ada, page).await;
        assert!(
            page.contains(
                "rita.reviewer@example.com: Server Viewer on server 1: revoked in campaign "
            ) && page.contains("Q4 access review")
                && page.contains("access came back"),
            "{page}"
        );
    }
    let other = html(&ada, "/inventory/users/chloe@example.com").await;
    assert!(!other.contains("access came back"), "{other}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_unquarantined_drifts() {
    let (app, id) = applied_servers(0).await;
    worker(&app, quick()).run_once().await.unwrap();
    let ada = signed_in(&app, ADA).await;
    sync_now(&ada).await;
    app.simulator
        .update_server(2, |s| s.smtp_api_activated = true);
    sync_now(&ada).await;
    let server_2 = one(&app, ItemKind::Server, Some(2)).await;
    assert_eq!(
        server_2.drift_sync_id,
        Some(latest_sync(&app, "servers").await)
    );
    assert_eq!(revocations::counts(&app.db, id).await.unwrap().drift, 1);
    let page = html(&ada, "/inventory/servers/2").await;
    assert!(page.contains("server 2: revoked in campaign "), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_that_are_not_done_are_left_unverified() {
    let (app, id) = closed_campaign().await;
    let ada = signed_in(&app, ADA).await;
    // Not applied yet: nothing to verify.
    sync_now(&ada).await;
    assert!(all(&app, None)
        .await
        .iter()
        .all(|r| r.verification == Verification::Unverified));

    assert_eq!(apply(&app, id, &[], &[]).await.unwrap(), 12);
    // Server 1's quarantine is refused for good; the Account Owner is a manual task.
    app.simulator.fault_on(
        "PUT /servers/1",
        postmark_access_review::postmark::simulator::Fault::Unprocessable {
            code: 701,
            message: "Server is locked".into(),
        },
        None,
    );
    let report = worker(&app, quick()).run_once().await.unwrap();
    assert_eq!(
        (report.done, report.failed, report.manual),
        (10, 1, 1),
        "{report:?}"
    );
    // One job finished after the coming sync starts (as if it ended while the sync ran).
    let late = one(&app, ItemKind::Server, Some(2)).await.id;
    sqlx::query("UPDATE revocations SET finished_at = $1 WHERE id = $2")
        .bind("2026-11-28T12:00:00.000000Z")
        .bind(late)
        .execute(app.db.pool())
        .await
        .unwrap();

    sync_now(&ada).await;
    let rows = all(&app, None).await;
    for row in &rows {
        let expected = if row.status == Status::Done && row.id != late {
            Verification::Effective
        } else {
            Verification::Unverified
        };
        assert_eq!(row.verification, expected, "{row:?}");
    }
    let owner = rows
        .iter()
        .find(|r| r.user_email.as_deref() == Some(ADA_EMAIL))
        .unwrap();
    assert_eq!(owner.status, Status::Manual);
    assert_eq!(audit_count(&app, "revocation.verified").await, 9);
    let counts = revocations::counts(&app.db, id).await.unwrap();
    assert_eq!(
        (
            counts.effective,
            counts.not_effective,
            counts.failed,
            counts.manual
        ),
        (9, 0, 1, 1)
    );

    // The first sync that starts after it finished decides the late one.
    app.clock.advance(time::Duration::hours(4));
    sync_now(&ada).await;
    let late = revocations::get(&app.db, late).await.unwrap().unwrap();
    assert_eq!(late.verification, Verification::Effective);
    assert_eq!(
        late.verified_sync_id,
        Some(latest_sync(&app, "servers").await)
    );
}

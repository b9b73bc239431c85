//! After a quarantine, from the server's page: restoring the server's previous values in
//! Postmark (admins only; Postmark's refusals change nothing), and turning the quarantine into
//! a deletion confirmed by the server's name. Driven over HTTP against the simulator, on the
//! engine under test.

use postmark_access_review::{
    postmark::simulator::Fault,
    review_items::ItemKind,
    revocations::{db as revocations, Action, Status, Verification},
};
use serde_json::Value;

use super::{applied_servers, audit_count, one, quick, worker};

/// The development provider's manager (not exported by `auth`).
const MANNY: usize = 3;
use crate::{
    auth::{signed_in, Browser, ADA, AUBREY, RITA},
    helpers::TestApp,
};

/// Servers 1–3 quarantined by the worker (server 1 had a bounce and a click webhook), and Ada.
async fn quarantined() -> (TestApp, Browser, i64) {
    let (app, _) = applied_servers(0).await;
    let report = worker(&app, quick()).run_once().await.unwrap();
    assert_eq!(report.done, 3, "{report:?}");
    let ada = signed_in(&app, ADA).await;
    let server_1 = one(&app, ItemKind::Server, Some(1)).await.id;
    (app, ada, server_1)
}

/// The status and the answer's text: a refusal's message (the JSON-encoded `AppError`'s text),
/// or the answer as it came.
async fn answer(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let message = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) if status != 200 => map
            .values()
            .find_map(|v| v.as_str().map(str::to_string))
            .unwrap_or(text),
        _ => text,
    };
    (status, message)
}

async fn restore(browser: &Browser, id: i64) -> (u16, String) {
    answer(
        browser
            .post("/api/revocation_restore", &[("id", &id.to_string())])
            .await,
    )
    .await
}

async fn delete(browser: &Browser, id: i64, name: &str) -> (u16, String) {
    answer(
        browser
            .post(
                "/api/revocation_delete_server",
                &[("id", &id.to_string()), ("confirm_name", name)],
            )
            .await,
    )
    .await
}

async fn sync_now(ada: &Browser) {
    let response = ada.post("/api/inventory_sync_now", &[]).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

async fn restored_at(app: &TestApp, id: i64) -> Option<String> {
    let (at,): (Option<String>,) =
        sqlx::query_as("SELECT restored_at FROM revocations WHERE id = $1")
            .bind(id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    at
}

fn still_quarantined(app: &TestApp) {
    let server = app.simulator.server(1).unwrap();
    assert_eq!(server.name, "[revoked 2026-11-28] server-1");
    assert!(!server.smtp_api_activated);
    assert_eq!(server.bounce_hook_url.as_deref(), Some(""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_restores_a_quarantined_server_and_later_syncs_leave_it_alone() {
    let (app, ada, id) = quarantined().await;
    sync_now(&ada).await;
    assert_eq!(
        revocations::get(&app.db, id)
            .await
            .unwrap()
            .unwrap()
            .verification,
        Verification::Effective
    );
    // The page says what the quarantine changed and that the tokens still work.
    let page = ada.get("/inventory/servers/1").await.text().await.unwrap();
    let page = page.replace("&#x27;", "'").replace("&#39;", "'");
    for expected in [
        "Quarantined by ",
        "Q4 access review",
        "https://hooks.example.com/bounce",
        "Postmark's API cannot disable a server's API tokens",
        "Restore…",
        "Delete server in Postmark…",
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    let edits_before = app.simulator.server_edits().len();

    let (status, body) = restore(&ada, id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<String>(&body).unwrap(), "server-1");
    let server = app.simulator.server(1).unwrap();
    assert_eq!(server.name, "server-1");
    assert!(server.smtp_api_activated);
    assert_eq!(
        server.bounce_hook_url.as_deref(),
        Some("https://hooks.example.com/bounce")
    );
    assert_eq!(
        server.click_hook_url.as_deref(),
        Some("https://hooks.example.com/click")
    );
    assert_eq!(server.inbound_hook_url.as_deref(), Some(""));
    // The restoring edit is an `EditServerPayload`, like the worker's.
    let edits = app.simulator.server_edits();
    assert_eq!(edits.len(), edits_before + 1);
    let account = crate::contract::spec("account-api.yaml");
    let mut problems = Vec::new();
    let (server_id, body) = &edits[edits.len() - 1];
    crate::contract::check(
        &account,
        crate::contract::schema(&account, "EditServerPayload"),
        body,
        &format!("PUT /servers/{server_id}"),
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:#?}");

    assert!(restored_at(&app, id).await.is_some());
    let (actor, details): (String, String) = sqlx::query_as(
        "SELECT actor_email, details FROM audit_events WHERE action = 'revocation.restored'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(actor, super::ADA_EMAIL);
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["server"], 1);
    assert_eq!(details["restored"]["Name"], "server-1");
    assert_eq!(details["restored"]["SmtpApiActivated"], true);
    assert!(details["campaign"].is_i64());

    // The page no longer offers a restore, and says who restored it.
    let page = ada.get("/inventory/servers/1").await.text().await.unwrap();
    assert!(!page.contains("Restore…"), "{page}");
    assert!(page.contains("Restored on 2026-11-28 by ada.admin@example.com"));
    let list = ada.get("/revocations").await.text().await.unwrap();
    assert!(
        list.contains("Restored on 2026-11-28 by ada.admin@example.com"),
        "{list}"
    );
    // A second restore is refused; nothing more is sent.
    let (status, body) = restore(&ada, id).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("already restored"), "{body}");
    assert_eq!(app.simulator.server_edits().len(), edits_before + 1);

    // The server is back on purpose: the next syncs call it neither drift nor not effective.
    sync_now(&ada).await;
    sync_now(&ada).await;
    let row = revocations::get(&app.db, id).await.unwrap().unwrap();
    assert!(row.drift_at.is_none(), "{row:?}");
    assert_eq!(row.verification, Verification::Effective);
    assert_eq!(audit_count(&app, "revocation.drift").await, 0);
    assert_eq!(audit_count(&app, "revocation.restored").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_postmark_refuses_changes_nothing() {
    let (app, ada, id) = quarantined().await;
    let refusals = [
        (
            Fault::Unprocessable {
                code: 300,
                message: "Invalid webhook URL".into(),
            },
            "Postmark refused the change: 422 (ErrorCode 300): Invalid webhook URL",
        ),
        (Fault::ServerError, "Postmark failed (500"),
    ];
    for (fault, message) in refusals {
        app.simulator.fault_on("PUT /servers/1", fault, None);
        let (status, body) = restore(&ada, id).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains(message), "{message}: {body}");
        assert!(body.contains("Nothing was restored."), "{body}");
        app.simulator.clear_route_faults();
        still_quarantined(&app);
        assert!(restored_at(&app, id).await.is_none());
    }
    app.simulator.refuse_credentials(true);
    let (status, body) = restore(&ada, id).await;
    app.simulator.refuse_credentials(false);
    assert_eq!(status, 409, "{body}");
    assert!(
        body.contains("Postmark rejected the account token"),
        "{body}"
    );
    still_quarantined(&app);
    assert!(restored_at(&app, id).await.is_none());
    assert_eq!(audit_count(&app, "revocation.restored").await, 0);

    // Postmark accepts again: the restore goes through.
    let (status, body) = restore(&ada, id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.simulator.server(1).unwrap().name, "server-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_restore_or_delete_and_auditors_read() {
    let (app, _ada, id) = quarantined().await;
    for person in [AUBREY, RITA] {
        let browser = signed_in(&app, person).await;
        assert_eq!(restore(&browser, id).await.0, 403);
        assert_eq!(delete(&browser, id, "server-1").await.0, 403);
    }
    let anonymous = Browser::new(&app);
    assert_eq!(restore(&anonymous, id).await.0, 401);
    still_quarantined(&app);
    assert!(app.simulator.server(1).is_some());
    assert_eq!(
        audit_count(&app, "revocation.restored").await
            + audit_count(&app, "revocation.delete_requested").await,
        0
    );

    // The auditor sees the panel, without its buttons.
    let aubrey = signed_in(&app, AUBREY).await;
    let answer = aubrey
        .post("/api/server_revocations", &[("server_id", "1")])
        .await;
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["quarantine"]["revocation_id"], id);
    assert_eq!(answer["quarantine"]["name"], "server-1");
    let page = aubrey
        .get("/inventory/servers/1")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Quarantined by "), "{page}");
    assert!(!page.contains("Restore…") && !page.contains("Delete server in Postmark…"));
    // A reviewer reads only their own revocations.
    let rita = signed_in(&app, RITA).await;
    let refused = rita
        .post("/api/server_revocations", &[("server_id", "1")])
        .await;
    assert_eq!(refused.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantined_server_is_deleted_once_its_name_is_typed() {
    let (app, ada, id) = quarantined().await;
    sync_now(&ada).await;
    for wrong in ["", "server-2", "[revoked 2026-11-28] server-1", "Server-1"] {
        let (status, body) = delete(&ada, id, wrong).await;
        assert_eq!(status, 422, "{wrong}: {body}");
        assert!(
            body.contains("type its name exactly (\"server-1\")"),
            "{body}"
        );
    }
    let row = revocations::get(&app.db, id).await.unwrap().unwrap();
    assert_eq!(
        (row.status, row.action),
        (Status::Done, Some(Action::Quarantine))
    );
    assert_eq!(audit_count(&app, "revocation.delete_requested").await, 0);

    let (status, body) = delete(&ada, id, " server-1 ").await;
    assert_eq!(status, 200, "{body}");
    let row = revocations::get(&app.db, id).await.unwrap().unwrap();
    assert_eq!(
        (row.status, row.action, row.verification),
        (
            Status::Pending,
            Some(Action::Delete),
            Verification::Unverified
        )
    );
    let (details,): (String,) = sqlx::query_as(
        "SELECT details FROM audit_events WHERE action = 'revocation.delete_requested'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["before"]["action"], "quarantine");
    assert_eq!(details["before"]["verification"], "effective");
    assert_eq!(details["after"]["action"], "delete");
    // Asked twice: the second finds no quarantine left to turn into a deletion.
    assert_eq!(delete(&ada, id, "server-1").await.0, 409);

    let report = worker(&app, quick()).run_once().await.unwrap();
    assert_eq!(report.done, 1, "{report:?}");
    assert!(app.simulator.server(1).is_none());
    assert!(app.simulator.server(2).is_some());
    sync_now(&ada).await;
    let row = revocations::get(&app.db, id).await.unwrap().unwrap();
    assert_eq!(
        (row.status, row.verification),
        (Status::Done, Verification::Effective)
    );
    // A deleted server cannot be restored.
    assert_eq!(restore(&ada, id).await.0, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_page_and_my_reviews_show_what_became_of_a_revocation() {
    let (app, id) =
        super::closed_campaign_with(0, &[("kind_server", ""), ("kind_account_role", "")]).await;
    super::apply(&app, id, &[], &[]).await.unwrap();
    worker(&app, quick()).run_once().await.unwrap();
    let ada = signed_in(&app, ADA).await;
    let page = ada
        .get("/inventory/users/rita.reviewer@example.com")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("rita.reviewer@example.com: Server Viewer on server 1")
            && page.contains("Not verified yet: the next sync decides"),
        "{page}"
    );
    sync_now(&ada).await;
    let page = ada
        .get("/inventory/users/rita.reviewer@example.com")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Effective (gone in sync #"), "{page}");
    // The dashboard's revoke decisions say the same: its item list (drawn in the browser, see
    // end2end/tests/dashboard.test.mjs) shows what the campaign's revocations answer.
    let fulfilment = crate::campaigns::call(
        &ada,
        "/api/campaign_revocations",
        &serde_json::json!({ "campaign_id": id }),
    )
    .await;
    let rows = fulfilment.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|f| f["revocation"]["verification"] == "Effective"),
        "{fulfilment}"
    );

    // Each reviewer reads their own revocations, nobody else's, on "My reviews".
    let mut seen = 0;
    for (person, email) in [
        (ADA, super::ADA_EMAIL),
        (RITA, "rita.reviewer@example.com"),
        (MANNY, "manny.manager@example.com"),
    ] {
        let reviewer = signed_in(&app, person).await;
        let mine: Value = reviewer
            .post("/api/my_revocations", &[])
            .await
            .json()
            .await
            .unwrap();
        let mut listed: Vec<i64> = mine
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["revocation"]["id"].as_i64().unwrap())
            .collect();
        listed.sort_unstable();
        let reviewed: Vec<i64> = sqlx::query_as::<_, (i64,)>(
            "SELECT r.id FROM revocations r JOIN review_items i ON i.id = r.item_id \
             WHERE i.reviewer_email = $1 ORDER BY r.id",
        )
        .bind(email)
        .fetch_all(app.db.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|(id,)| id)
        .collect();
        assert_eq!(listed, reviewed, "{email}");
        if !reviewed.is_empty() {
            seen += 1;
            let page = reviewer.get("/reviews").await.text().await.unwrap();
            assert!(
                page.contains("Your revoke decisions in closed campaigns")
                    && page.contains("Effective (gone in sync #"),
                "{email}: {page}"
            );
        }
    }
    assert!(seen > 0, "nobody reviewed a revoked item");
}

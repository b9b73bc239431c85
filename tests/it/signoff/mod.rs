//! Campaign sign-off over HTTP, on the engine under test: what blocks it, who may do it, the
//! stored record and its "Verified" check, and that a signed-off campaign refuses every write
//! (through the application and, bypassing it, through the database). The signed files
//! against `openssl` and the evidence bundle's VERIFY.txt are in `offline`.

mod offline;

use postmark_access_review::{
    db::Backend,
    postmark::simulator::Fault,
    review_items::ItemKind,
    revocations::Status,
    signoff::{SignatureCheck, SignoffState, SignoffView, FROZEN},
};
use serde_json::Value;
use sqlx::Executor as _;

use crate::{
    auth::{signed_in, Browser, ADA, AUBREY, RITA},
    helpers::TestApp,
    revocations::{all, applied_servers, audit_count, one, quick, worker},
};

/// A refusal's status and message (the JSON-encoded `AppError`'s text).
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

pub async fn state(browser: &Browser, id: i64) -> SignoffState {
    let response = browser
        .post("/api/campaign_signoff", &[("id", &id.to_string())])
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub async fn sign_off(browser: &Browser, id: i64, statement: &str) -> reqwest::Response {
    browser
        .post(
            "/api/campaign_sign_off",
            &[("id", &id.to_string()), ("statement", statement)],
        )
        .await
}

async fn acknowledge(who: &Browser, id: i64, reason: &str) -> (u16, String) {
    answer(
        who.post(
            "/api/revocation_acknowledge",
            &[("id", &id.to_string()), ("reason", reason)],
        )
        .await,
    )
    .await
}

async fn post(who: &Browser, path: &str, form: &[(&str, String)]) -> (u16, String) {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    answer(who.post(path, &form).await).await
}

fn texts(state: &SignoffState) -> Vec<String> {
    state.blockers.iter().map(|b| b.text.clone()).collect()
}

async fn signoffs(app: &TestApp) -> i64 {
    crate::campaigns::count(app, "SELECT COUNT(*) FROM campaign_signoffs").await
}

/// Three servers revoked: 1 and 3 quarantined, 2 refused for good by Postmark (422).
pub async fn carried_out() -> (TestApp, Browser, i64) {
    let (app, id) = applied_servers(0).await;
    app.simulator.fault_on(
        "PUT /servers/2",
        Fault::Unprocessable {
            code: 701,
            message: "This server cannot be changed".into(),
        },
        None,
    );
    let report = worker(&app, quick()).run_once().await.unwrap();
    assert_eq!((report.done, report.failed), (2, 1), "{report:?}");
    let ada = signed_in(&app, ADA).await;
    (app, ada, id)
}

/// [`carried_out`], the failure acknowledged and the campaign signed off by Ada.
pub async fn signed_off() -> (TestApp, Browser, i64) {
    let (app, ada, id) = carried_out().await;
    let failed = one(&app, ItemKind::Server, Some(2)).await;
    let response = ada
        .post(
            "/api/revocation_acknowledge",
            &[
                ("id", &failed.id.to_string()),
                ("reason", "Server 2 is retired on Friday; IT-1234"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let response = sign_off(
        &ada,
        id,
        "Carried out as recorded.\nSigned for the Q4 audit.",
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    (app, ada, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_is_signed_off_once_its_revocations_are_finished() {
    let (app, id) = applied_servers(0).await;
    let ada = signed_in(&app, ADA).await;
    // Applied but not run yet.
    let before = state(&ada, id).await;
    assert!(before.signed.is_none());
    assert_eq!(
        texts(&before),
        vec!["3 revocations are still being carried out.".to_string()]
    );
    assert_eq!(
        before.blockers[0].action,
        Some((
            "Follow them".to_string(),
            format!("/revocations?campaign={id}&status=pending")
        ))
    );
    let (status, message) = answer(sign_off(&ada, id, "Done.").await).await;
    assert_eq!(status, 409);
    assert!(
        message.starts_with("Not ready to sign off: 3 revocations are still being carried out."),
        "{message}"
    );

    app.simulator.fault_on(
        "PUT /servers/2",
        Fault::Unprocessable {
            code: 701,
            message: "This server cannot be changed".into(),
        },
        None,
    );
    worker(&app, quick()).run_once().await.unwrap();
    assert_eq!(
        texts(&state(&ada, id).await),
        vec![
            "1 failed revocation needs a retry, a cancellation with a reason, or to be accepted \
             as it is."
                .to_string()
        ]
    );
    let failed = one(&app, ItemKind::Server, Some(2)).await;
    assert_eq!(failed.status, Status::Failed);

    // Acknowledging needs a reason, an admin, and a failed job.
    assert_eq!(
        acknowledge(&ada, failed.id, "  ").await,
        (
            422,
            "Say why the failed revocation is accepted as it is.".to_string()
        )
    );
    let aubrey = signed_in(&app, AUBREY).await;
    assert_eq!(acknowledge(&aubrey, failed.id, "ok").await.0, 403);
    let done = one(&app, ItemKind::Server, Some(1)).await;
    assert_eq!(
        acknowledge(&ada, done.id, "ok").await,
        (
            409,
            "Only a failed revocation can be acknowledged; this one is done.".to_string()
        )
    );
    assert_eq!(audit_count(&app, "revocation.acknowledged").await, 0);
    assert_eq!(
        acknowledge(&ada, failed.id, "Server 2 is retired on Friday")
            .await
            .0,
        200
    );
    assert_eq!(audit_count(&app, "revocation.acknowledged").await, 1);
    let ready = state(&ada, id).await;
    assert!(ready.blockers.is_empty(), "{:?}", ready.blockers);

    // Only an admin signs off, and only with a statement; a refusal changes nothing.
    let rita = signed_in(&app, RITA).await;
    assert_eq!(sign_off(&rita, id, "Done.").await.status(), 403);
    assert_eq!(sign_off(&aubrey, id, "Done.").await.status(), 403);
    assert_eq!(
        answer(sign_off(&ada, id, " \n ").await).await,
        (
            422,
            "Write the sign-off statement: what you confirm about this campaign.".to_string()
        )
    );
    let long = "x".repeat(2001);
    assert_eq!(answer(sign_off(&ada, id, &long).await).await.0, 422);
    assert_eq!(signoffs(&app).await, 0);
    assert_eq!(audit_count(&app, "campaign.signed_off").await, 0);

    let response = sign_off(&ada, id, "Carried out as recorded.").await;
    assert_eq!(response.status(), 200);
    let view: SignoffView = response.json().await.unwrap();
    assert_eq!(view.signed_by, "ada.admin@example.com");
    assert_eq!(view.statement, "Carried out as recorded.");
    assert_eq!(view.check, SignatureCheck::Verified);
    assert_eq!(signoffs(&app).await, 1);
    assert_eq!(audit_count(&app, "campaign.signed_off").await, 1);
    // The sign-off's checkpoint covers its own audit event.
    let (reason, count): (String, i64) =
        sqlx::query_as("SELECT reason, event_count FROM audit_checkpoints WHERE id = $1")
            .bind(view.checkpoint_id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let events = crate::campaigns::count(&app, "SELECT COUNT(*) FROM audit_events").await;
    assert_eq!(reason, "sign_off");
    assert_eq!(count, events - 1, "all but the checkpoint's own event");

    // Auditors see it verified; a second sign-off is refused.
    let seen = state(&aubrey, id).await;
    assert_eq!(seen.signed.map(|s| s.check), Some(SignatureCheck::Verified));
    assert_eq!(
        answer(sign_off(&ada, id, "Again.").await).await,
        (409, FROZEN.to_string())
    );
    assert_eq!(signoffs(&app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_campaign_or_an_unsettled_one_cannot_be_signed_off() {
    let (app, id) = crate::revocations::closed_campaign().await;
    let ada = signed_in(&app, ADA).await;
    let blockers = texts(&state(&ada, id).await);
    // Every item revoked by default at close; nothing applied yet.
    assert_eq!(
        blockers,
        vec!["12 revocations have not been applied yet.".to_string()]
    );
    assert_eq!(answer(sign_off(&ada, id, "Done.").await).await.0, 409);
    let missing = ada.post("/api/campaign_signoff", &[("id", "99999")]).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(sign_off(&ada, 99999, "Done.").await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_off_campaign_refuses_every_write() {
    let (app, ada, _) = signed_off().await;
    let failed = one(&app, ItemKind::Server, Some(2)).await;
    let quarantined = one(&app, ItemKind::Server, Some(1)).await;
    let frozen = (409, FROZEN.to_string());
    assert_eq!(
        post(
            &ada,
            "/api/revocation_retry",
            &[("id", failed.id.to_string())]
        )
        .await,
        frozen
    );
    assert_eq!(
        post(
            &ada,
            "/api/revocation_cancel",
            &[("id", failed.id.to_string()), ("reason", "no".into())]
        )
        .await,
        frozen
    );
    assert_eq!(
        post(
            &ada,
            "/api/revocation_delete_server",
            &[
                ("id", quarantined.id.to_string()),
                ("confirm_name", "server-1".into())
            ]
        )
        .await,
        frozen
    );
    let mut statuses: Vec<(Option<i64>, Status)> = all(&app, None)
        .await
        .iter()
        .map(|r| (r.server_id, r.status))
        .collect();
    statuses.sort_by_key(|(server, _)| *server);
    assert_eq!(
        statuses,
        vec![
            (Some(1), Status::Done),
            (Some(2), Status::Failed),
            (Some(3), Status::Done)
        ]
    );

    // Past the application: the database refuses too.
    refused(&app, "UPDATE review_items SET decision = 'approve'").await;
    refused(&app, "DELETE FROM review_items").await;
    refused(&app, "UPDATE campaigns SET name = 'renamed'").await;
    refused(&app, "UPDATE revocations SET status = 'pending'").await;
    refused(&app, "UPDATE campaign_signoffs SET statement = 'changed'").await;
    refused(&app, "DELETE FROM campaign_signoffs").await;
    // What a later sync learns still lands.
    app.db
        .pool()
        .execute("UPDATE revocations SET verification = 'effective'")
        .await
        .unwrap();
    if app.db.backend() == Backend::Postgres {
        refused(&app, "TRUNCATE campaign_signoffs").await;
    }
}

async fn refused(app: &TestApp, sql: &str) {
    let error = app.db.pool().execute(sql).await.expect_err(sql);
    assert!(
        error.to_string().contains("campaign signed off"),
        "{sql}: {error}"
    );
}

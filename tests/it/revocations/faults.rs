//! The worker against the simulator's faults: throttling with `Retry-After`, server errors,
//! timeouts, refusals (422) and refused credentials (401, the queue pauses); retry and cancel;
//! two workers on one queue; a lease left by a crashed worker.

use std::{collections::HashMap, time::Duration};

use postmark_access_review::{
    error::AppError,
    postmark::simulator::Fault,
    review_items::ItemKind,
    revocations::{
        db as revocations,
        queue::{self, Outcome},
        Status,
    },
};

use super::{ada, all, applied_servers, audit_count, one, quick, worker};
use crate::helpers::{backend_under_test, TestApp};

async fn server_job(app: &TestApp, id: i64) -> postmark_access_review::revocations::RevocationView {
    one(app, ItemKind::Server, Some(id)).await
}

fn advance(app: &TestApp, by: Duration) {
    app.clock
        .advance(time::Duration::try_from(by).expect("a short duration"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_is_waited_out_as_retry_after_says() {
    let (app, _) = applied_servers(0).await;
    app.simulator.fault_on(
        "PUT /servers/1",
        Fault::TooManyRequests {
            retry_after_secs: 120,
        },
        Some(2),
    );
    let settings = quick();
    let worker = worker(
        &app,
        postmark_access_review::revocations::worker::Settings {
            max_attempts: 4,
            ..settings
        },
    );
    for round in 0..2 {
        let report = worker.run_once().await.unwrap();
        assert_eq!(report.retried, 1, "round {round}: {report:?}");
        let job = server_job(&app, 1).await;
        assert_eq!(job.status, Status::Pending);
        // Not before Retry-After has passed.
        advance(&app, Duration::from_secs(100));
        assert_eq!(worker.run_once().await.unwrap().retried, 0);
        advance(&app, Duration::from_secs(21));
    }
    let report = worker.run_once().await.unwrap();
    assert_eq!(report.done, 1, "{report:?}");
    let job = server_job(&app, 1).await;
    assert_eq!((job.status, job.attempts), (Status::Done, 3));
    let attempts = revocations::attempts(&app.db, job.id).await.unwrap();
    let outcomes: Vec<(&str, Option<i64>)> = attempts
        .iter()
        .map(|a| (a.outcome.as_str(), a.http_status))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("retry", Some(429)),
            ("retry", Some(429)),
            ("done", Some(200))
        ]
    );
    assert!(app
        .simulator
        .server(1)
        .unwrap()
        .name
        .starts_with("[revoked "));
}

/// Runs passes, moving the clock past any backoff, until nothing is due.
async fn drain(app: &TestApp, worker: &postmark_access_review::revocations::worker::Worker) {
    for _ in 0..20 {
        let report = worker.run_once().await.unwrap();
        if report.retried == 0 && report.done == 0 && report.failed == 0 {
            return;
        }
        advance(app, Duration::from_secs(120));
    }
    panic!("the queue did not drain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_until_the_last_attempt_fail_visibly_then_retry_and_cancel() {
    let (app, _) = applied_servers(0).await;
    app.simulator
        .fault_on("PUT /servers/1", Fault::ServerError, None);
    let worker = worker(&app, quick());
    drain(&app, &worker).await;
    let failed = all(&app, Some(Status::Failed)).await;
    assert_eq!(failed.len(), 1);
    let job = &failed[0];
    assert_eq!((job.server_id, job.attempts), (Some(1), 3));
    let error = job.last_error.as_deref().unwrap();
    assert!(
        error.contains("500") && error.contains("gave up after 3 attempts"),
        "{error}"
    );
    assert_eq!(audit_count(&app, "revocation.failed").await, 1);
    assert_eq!(all(&app, Some(Status::Done)).await.len(), 2);

    // Retry: only failed or manual jobs, then a fresh round that succeeds.
    let done = server_job(&app, 2).await;
    assert!(matches!(
        revocations::retry(&app.db, &app.clock, &ada(), done.id).await,
        Err(AppError::Conflict(_))
    ));
    app.simulator.clear_route_faults();
    revocations::retry(&app.db, &app.clock, &ada(), job.id)
        .await
        .unwrap();
    assert_eq!(server_job(&app, 1).await.status, Status::Pending);
    assert_eq!(worker.run_once().await.unwrap().done, 1);
    let job = server_job(&app, 1).await;
    assert_eq!((job.status, job.attempts), (Status::Done, 4));
    assert_eq!(audit_count(&app, "revocation.retried").await, 1);

    // Cancel: a reason is required, and only jobs not running or finished.
    assert!(matches!(
        revocations::cancel(&app.db, &app.clock, &ada(), job.id, "no longer needed").await,
        Err(AppError::Conflict(_))
    ));
    let mut tx = app.db.begin().await.unwrap();
    sqlx::query("UPDATE revocations SET status = 'failed' WHERE id = $1")
        .bind(job.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(matches!(
        revocations::cancel(&app.db, &app.clock, &ada(), job.id, " ").await,
        Err(AppError::Validation(_))
    ));
    revocations::cancel(&app.db, &app.clock, &ada(), job.id, "Restored by hand")
        .await
        .unwrap();
    let job = server_job(&app, 1).await;
    assert_eq!(job.status, Status::Cancelled);
    assert_eq!(job.excluded_reason.as_deref(), Some("Restored by hand"));
    assert_eq!(audit_count(&app, "revocation.cancelled").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_retried_and_the_change_is_made_once() {
    let (app, _) = applied_servers(0).await;
    app.simulator.fault_on(
        "PUT /servers/1",
        Fault::Slow(Duration::from_millis(1500)),
        Some(1),
    );
    let worker = worker(&app, quick());
    let report = worker.run_once().await.unwrap();
    assert_eq!((report.retried, report.done), (1, 2), "{report:?}");
    let attempts = revocations::attempts(&app.db, server_job(&app, 1).await.id)
        .await
        .unwrap();
    assert_eq!(attempts[0].outcome, "retry");
    assert_eq!(attempts[0].http_status, None);
    assert!(attempts[0].message.as_deref().unwrap().contains("timeout"));
    // The slow answer may still have been applied; either way the next attempt ends it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    advance(&app, Duration::from_secs(60));
    assert_eq!(worker.run_once().await.unwrap().done, 1);
    let server = app.simulator.server(1).unwrap();
    assert_eq!(
        server.name, "[revoked 2026-11-28] server-1",
        "prefixed once"
    );
    let (previous,): (String,) =
        sqlx::query_as("SELECT previous FROM revocations WHERE kind = 'server' AND server_id = 1")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(previous.contains("\"Name\":\"server-1\""), "{previous}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_422_fails_at_once_with_postmarks_message() {
    let (app, _) = applied_servers(0).await;
    app.simulator.fault_on(
        "PUT /servers/1",
        Fault::Unprocessable {
            code: 701,
            message: "This server cannot be edited right now.".into(),
        },
        Some(1),
    );
    let report = worker(&app, quick()).run_once().await.unwrap();
    assert_eq!((report.failed, report.done), (1, 2), "{report:?}");
    let job = server_job(&app, 1).await;
    assert_eq!((job.status, job.attempts), (Status::Failed, 1));
    assert!(job
        .last_error
        .as_deref()
        .unwrap()
        .contains("This server cannot be edited right now."));
    let attempt = &revocations::attempts(&app.db, job.id).await.unwrap()[0];
    assert_eq!(
        (attempt.http_status, attempt.error_code),
        (Some(422), Some(701))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_pause_the_queue_until_a_probe_is_accepted() {
    let (app, _) = applied_servers(0).await;
    app.simulator.refuse_credentials(true);
    let worker = worker(&app, quick());
    let report = worker.run_once().await.unwrap();
    assert!(report.paused && report.done == 0, "{report:?}");
    let (_, reason) = revocations::paused(&app.db).await.unwrap().unwrap();
    assert_eq!(reason, "Postmark rejected the account token");
    assert_eq!(audit_count(&app, "revocations.paused").await, 1);
    for job in all(&app, None).await {
        assert_eq!((job.status, job.attempts), (Status::Pending, 0), "{job:?}");
    }
    // One refused call in all; no job runs while paused, and no probe before its time.
    let calls = app.simulator.request_log().len();
    assert!(worker.run_once().await.unwrap().paused);
    assert_eq!(app.simulator.request_log().len(), calls);
    advance(&app, Duration::from_secs(31));
    assert!(worker.run_once().await.unwrap().paused);
    assert_eq!(app.simulator.request_log().len(), calls + 1, "one probe");

    app.simulator.refuse_credentials(false);
    advance(&app, Duration::from_secs(31));
    let report = worker.run_once().await.unwrap();
    assert!(report.resumed && !report.paused, "{report:?}");
    assert_eq!(report.done, 3);
    assert_eq!(revocations::paused(&app.db).await.unwrap(), None);
    assert_eq!(audit_count(&app, "revocations.resumed").await, 1);
    // The job that met the refusal kept its attempt: one counted, one paused on record.
    let (paused_job,): (i64,) =
        sqlx::query_as("SELECT revocation_id FROM revocation_attempts WHERE outcome = 'paused'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let job = revocations::get(&app.db, paused_job)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((job.status, job.attempts), (Status::Done, 1));
    let outcomes: Vec<String> = revocations::attempts(&app.db, job.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.outcome)
        .collect();
    assert_eq!(outcomes, ["paused", "done"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_left_by_a_crashed_worker_is_taken_again_when_it_runs_out() {
    let (app, _) = applied_servers(0).await;
    use postmark_access_review::clock::Clock as _;
    let lease = postmark_access_review::clock::format_timestamp(
        app.clock.now() + time::Duration::minutes(5),
    );
    // A worker claims a job and dies.
    let crashed = queue::claim(&app.db, &app.clock, &lease)
        .await
        .unwrap()
        .unwrap();
    let worker = worker(&app, quick());
    assert_eq!(worker.run_once().await.unwrap().done, 2);
    let held = revocations::get(&app.db, crashed.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.status, Status::Running);
    advance(&app, Duration::from_secs(301));
    assert_eq!(worker.run_once().await.unwrap().done, 1);
    assert_eq!(
        revocations::get(&app.db, crashed.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        Status::Done
    );
    // The dead worker's late outcome is not recorded.
    let late = queue::finish(&app.db, &app.clock, &crashed, None, &Outcome::Done)
        .await
        .unwrap();
    assert!(!late);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_run_one_job_twice() {
    let (app, _) = applied_servers(27).await;
    let (a, b) = (worker(&app, quick()), worker(&app, quick()));
    let (ra, rb) = tokio::join!(
        async {
            let mut done = 0;
            for _ in 0..10 {
                done += a.run_once().await.unwrap().done;
            }
            done
        },
        async {
            let mut done = 0;
            for _ in 0..10 {
                done += b.run_once().await.unwrap().done;
            }
            done
        },
    );
    assert_eq!(ra + rb, 30, "{ra} + {rb}");
    if backend_under_test() == postmark_access_review::db::Backend::Postgres {
        assert!(ra > 0 && rb > 0, "both workers took jobs: {ra} + {rb}");
    }
    let mut per_request: HashMap<String, usize> = HashMap::new();
    for line in app.simulator.request_log() {
        if line.starts_with("PUT /servers/") || line.starts_with("GET /servers/") {
            *per_request.entry(line).or_default() += 1;
        }
    }
    assert_eq!(per_request.len(), 60, "{per_request:#?}");
    assert!(per_request.values().all(|n| *n == 1), "{per_request:#?}");
    assert_eq!(all(&app, Some(Status::Done)).await.len(), 30);
}

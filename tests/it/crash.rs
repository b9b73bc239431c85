//! Revocations across hard stops, with the real binary: a few hundred pending jobs (server
//! quarantines and permission removals) against a simulator that lives in the test, `serve`
//! killed with SIGKILL again and again, then one run that finishes. The simulator's own state
//! must show every job's effect exactly once, and the database every job done.
//!
//! Half the kills come at random moments; the other half are aimed at the worst one: just
//! after the simulator changed a server, while its answer is still on the way (the simulator's
//! latency), so the app dies having changed Postmark without recording it. That job runs again
//! after its lease and must find the server quarantined and leave it as it is.

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use postmark_access_review::{
    bench::jobs::{seed_account, seed_jobs, Plan},
    clock::SystemClock,
    db::Db,
    postmark::simulator::Simulator,
    revocations::execute::QUARANTINE_PREFIX,
};
use rand::Rng as _;

use crate::helpers::{count, serve_command, TestDb, GATEWAY_TOKEN, SIMULATOR_TOKEN};

const PLAN: Plan = Plan {
    servers: 200,
    quarantines: 120,
    users: 150,
};

/// SIGKILLs per run (the issue asks for at least 10).
const KILLS: usize = 12;

/// The lease of `serve` here (`PAR_REVOCATION_LEASE`): a killed job runs again this soon.
const LEASE: &str = "2s";

/// How long each answer of the simulator takes after the change: the aimed kills' window.
const LATENCY: Duration = Duration::from_millis(15);

/// `serve` against `db_url` and `postmark` with the short lease, quiet.
fn serve(db_url: &str, postmark: &url::Url) -> Child {
    let (mut command, _) = serve_command(db_url, postmark);
    command
        .env("PAR_LOG_LEVEL", "warn")
        .env("PAR_REVOCATION_LEASE", LEASE)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Status of the quarantine job of `server_id`.
async fn job_status(db: &Db, server_id: i64) -> String {
    let (status,): (String,) =
        sqlx::query_as("SELECT status FROM revocations WHERE kind = 'server' AND server_id = $1")
            .bind(server_id)
            .fetch_one(db.pool())
            .await
            .unwrap();
    status
}

/// Waits until the simulator has handled one more server edit than `before` (then kills at
/// once, inside the answer's latency), or gives up after a while: the id of the edited server.
async fn next_edit(simulator: &Simulator, before: usize) -> Option<i64> {
    let deadline = Instant::now() + Duration::from_secs(8);
    while Instant::now() < deadline {
        let edits = simulator.server_edits();
        if edits.len() > before {
            return edits.last().map(|(id, _)| *id);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_survive_sigkill_at_random_moments() {
    let started = Instant::now();
    let test_db = TestDb::fresh().await;
    let db = test_db.connect_migrated().await;
    let campaign = seed_jobs(&db, &SystemClock, &PLAN).await.unwrap();
    let jobs = PLAN.jobs() as i64;

    let simulator = Simulator::new(SIMULATOR_TOKEN);
    simulator.enable_gateway(GATEWAY_TOKEN);
    seed_account(&simulator, &PLAN);
    simulator.set_latency(LATENCY);
    let postmark = simulator.spawn(0).await.unwrap();

    let mut rng = rand::thread_rng();
    // Aimed kills that landed: the server was changed and its job not recorded.
    let mut caught = Vec::new();
    let mut done_at_kill = Vec::new();
    for kill in 0..KILLS {
        let mut app = serve(&test_db.url(), &postmark);
        if kill % 2 == 1 {
            let before = simulator.server_edits().len();
            let edited = next_edit(&simulator, before).await;
            app.kill().unwrap();
            app.wait().unwrap();
            if let Some(server) = edited {
                if job_status(&db, server).await == "running" {
                    caught.push(server);
                }
            }
        } else {
            let pause = rng.gen_range(100..=800);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            app.kill().unwrap();
            app.wait().unwrap();
        }
        let running_without_lease = count(
            &db,
            "SELECT COUNT(*) FROM revocations WHERE status = 'running' AND lease_until IS NULL",
        )
        .await;
        assert_eq!(running_without_lease, 0, "after kill {kill}");
        done_at_kill.push(
            count(
                &db,
                "SELECT COUNT(*) FROM revocations WHERE status = 'done'",
            )
            .await,
        );
    }

    // One run that finishes: the jobs the kills left running come back when their leases end.
    let mut app = serve(&test_db.url(), &postmark);
    let deadline = Instant::now() + Duration::from_secs(45);
    while count(
        &db,
        "SELECT COUNT(*) FROM revocations WHERE status = 'done'",
    )
    .await
        < jobs
    {
        assert!(
            Instant::now() < deadline,
            "jobs left: {:?}",
            sqlx::query_as::<_, (String, i64)>(
                "SELECT status, COUNT(*) FROM revocations GROUP BY status"
            )
            .fetch_all(db.pool())
            .await
            .unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &app.id().to_string()])
        .status();
    assert!(app.wait().unwrap().success(), "the last run stops cleanly");

    // The database: every job done once, by a recorded attempt, nothing held.
    let campaign_jobs = count(
        &db,
        &format!("SELECT COUNT(*) FROM revocations WHERE campaign_id = {campaign}"),
    )
    .await;
    assert_eq!(campaign_jobs, jobs);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM revocations WHERE status <> 'done' OR lease_until IS NOT NULL"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT revocation_id) FROM revocation_attempts WHERE outcome = 'done'"
        )
        .await,
        jobs
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM revocation_attempts WHERE outcome = 'done'"
        )
        .await,
        jobs,
        "one recorded success per job: a killed attempt records nothing"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'revocation.done'"
        )
        .await,
        jobs
    );
    let chain = postmark_access_review::audit::verify(&db).await.unwrap();
    assert!(
        chain.is_ok(),
        "the audit chain survives the kills: {chain:?}"
    );

    // The simulator: every effect exactly once, nothing else touched.
    let log = simulator.request_log();
    let requests = |line: String| log.iter().filter(|l| **l == line).count();
    for index in 0..PLAN.servers {
        let id = PLAN.server_id(index);
        let server = simulator.server(id).unwrap();
        let name = Plan::server_name(index);
        if index < PLAN.quarantines {
            assert!(!server.smtp_api_activated, "{id}");
            for hook in [
                &server.inbound_hook_url,
                &server.bounce_hook_url,
                &server.open_hook_url,
                &server.delivery_hook_url,
                &server.click_hook_url,
            ] {
                assert!(hook.as_deref().is_none_or(str::is_empty), "{id}: {hook:?}");
            }
            assert!(
                server.name.starts_with(QUARANTINE_PREFIX),
                "{}",
                server.name
            );
            assert!(
                server.name.ends_with(&format!("] {name}")),
                "{}",
                server.name
            );
            assert_eq!(
                server.name.matches(QUARANTINE_PREFIX).count(),
                1,
                "{}",
                server.name
            );
        } else {
            assert!(server.smtp_api_activated, "{id} was not to be quarantined");
            assert_eq!(server.name, name);
            assert!(server.bounce_hook_url.is_some());
            assert_eq!(requests(format!("PUT /servers/{id}")), 0);
        }
    }
    let users: HashMap<String, Vec<i64>> = simulator
        .users()
        .into_iter()
        .map(|u| (u.email, u.servers.iter().map(|p| p.server_id).collect()))
        .collect();
    for index in 0..PLAN.users {
        let (revoked, kept) = PLAN.user_servers(index);
        let servers = &users[&Plan::user_email(index)];
        assert!(
            !servers.contains(&revoked),
            "user {index} still on {revoked}"
        );
        assert!(servers.contains(&kept), "user {index} lost {kept} too");
    }
    // The aimed kills: the job ran again (a second read) and changed nothing (one edit).
    for id in &caught {
        assert!(
            requests(format!("GET /servers/{id}")) >= 2,
            "{id} was not run again"
        );
        assert_eq!(
            requests(format!("PUT /servers/{id}")),
            1,
            "{id} edited twice"
        );
    }
    let repeated = (0..PLAN.quarantines)
        .filter(|i| requests(format!("GET /servers/{}", PLAN.server_id(*i))) > 1)
        .count();
    eprintln!(
        "crash test: {KILLS} kills, done after each {done_at_kill:?} of {jobs}; \
         {} aimed kills caught a change in flight; {repeated} quarantines ran more than once; \
         {:.1} s",
        caught.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        done_at_kill[0] < jobs && done_at_kill[KILLS - 1] < jobs,
        "the kills came while work was left: {done_at_kill:?}"
    );
    assert!(
        !caught.is_empty(),
        "no aimed kill landed between a change and its record"
    );
}

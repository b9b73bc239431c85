//! Two `serve` processes of the real binary on one job table, against one simulator: every job
//! runs exactly once, and both processes run some of them, at the same time.
//!
//! Runs on both engines. PostgreSQL is the case that matters (several instances behind a load
//! balancer): each claim locks its row with `FOR UPDATE SKIP LOCKED`. On SQLite the claim's
//! `BEGIN IMMEDIATE` takes the file's one write lock, which two processes share as much as two
//! tasks do, so the same must hold there; checking it costs a few seconds.
//!
//! No process dies here and the lease is the default five minutes, so a lease never runs out:
//! a job run twice would be a claiming bug, not the at-least-once repeat after a crash that
//! `crash.rs` allows. The simulator counts the requests per job (a quarantine's read and its
//! `PUT /servers/{id}`, a permission removal's `PUT /gateway/users/{email}/servers/{id}`);
//! each process's JSON log names the jobs it finished (the `revocation.id` of the span around
//! "revocation done").

use std::{
    collections::{BTreeSet, HashMap},
    fs::File,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use postmark_access_review::{
    bench::jobs::{seed_account, seed_jobs, Plan},
    clock::SystemClock,
    postmark::simulator::Simulator,
};

use crate::helpers::{count, serve_command, TestDb, GATEWAY_TOKEN, SIMULATOR_TOKEN};

/// 300 jobs, quarantines and permission removals interleaved in id order.
const PLAN: Plan = Plan {
    servers: 200,
    quarantines: 150,
    users: 150,
};

/// How long each answer of the simulator takes: a job's calls take long enough that the
/// other process claims while this one waits, so their work overlaps.
const LATENCY: Duration = Duration::from_millis(10);

/// `serve` logging JSON lines to `log`, at info for the revocation worker only.
fn serve(db_url: &str, postmark: &url::Url, log: &Path) -> (Child, u16) {
    let (mut command, port) = serve_command(db_url, postmark);
    let child = command
        .env("PAR_LOG_FORMAT", "json")
        .env(
            "PAR_LOG_LEVEL",
            "warn,postmark_access_review::revocations::worker=info",
        )
        .stdout(Stdio::null())
        // A file, not a pipe: nobody reads until the end, and a full pipe would stall the worker.
        .stderr(File::create(log).unwrap())
        .spawn()
        .unwrap();
    (child, port)
}

/// Waits until the process on `port` answers `/readyz` (its worker is running by then).
async fn ready(port: u16) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await;
        if answer.is_ok_and(|a| a.status().is_success()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "serve on {port} never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Stops a process the way an orchestrator does (SIGTERM) and checks it stopped cleanly.
fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success(), "serve stops cleanly");
}

/// The jobs a process's log says it finished as done.
fn done_in(log: &Path) -> Vec<i64> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["message"] == "revocation done")
        .map(|event| {
            event["span"]["revocation.id"]
                .as_i64()
                .unwrap_or_else(|| panic!("no revocation.id in {event}"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_on_one_queue_run_every_job_once() {
    let started = Instant::now();
    let test_db = TestDb::fresh().await;
    let db = test_db.connect_migrated().await;
    let simulator = Simulator::new(SIMULATOR_TOKEN);
    simulator.enable_gateway(GATEWAY_TOKEN);
    seed_account(&simulator, &PLAN);
    simulator.set_latency(LATENCY);
    let postmark = simulator.spawn(0).await.unwrap();

    // Both processes are up before the jobs exist (they appear in one transaction), so neither
    // drains the queue while the other is still starting.
    let logs = tempfile::tempdir().unwrap();
    let log_paths = [logs.path().join("a.log"), logs.path().join("b.log")];
    let (a, port_a) = serve(&test_db.url(), &postmark, &log_paths[0]);
    let (b, port_b) = serve(&test_db.url(), &postmark, &log_paths[1]);
    ready(port_a).await;
    ready(port_b).await;
    seed_jobs(&db, &SystemClock, &PLAN).await.unwrap();
    let jobs = PLAN.jobs() as i64;

    let deadline = Instant::now() + Duration::from_secs(30);
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
    stop(a);
    stop(b);

    // The database: every job done by exactly one attempt, nothing held or running.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM revocations \
             WHERE status <> 'done' OR lease_until IS NOT NULL OR attempts <> 1"
        )
        .await,
        0
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM revocation_attempts").await,
        jobs,
        "one recorded attempt per job"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT revocation_id) FROM revocation_attempts \
             WHERE outcome = 'done'"
        )
        .await,
        jobs
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
    assert!(chain.is_ok(), "two writers keep one audit chain: {chain:?}");

    // The simulator: each job's read and write exactly once, no write that was not a job's.
    let mut per_request: HashMap<String, usize> = HashMap::new();
    for line in simulator.request_log() {
        *per_request.entry(line).or_default() += 1;
    }
    let mut expected = Vec::new();
    for index in 0..PLAN.quarantines {
        let id = PLAN.server_id(index);
        expected.push(format!("GET /servers/{id}"));
        expected.push(format!("PUT /servers/{id}"));
    }
    for index in 0..PLAN.users {
        let (revoked, _) = PLAN.user_servers(index);
        let email = Plan::user_email(index);
        expected.push(format!("PUT /gateway/users/{email}/servers/{revoked}"));
    }
    let not_once: Vec<(&String, usize)> = expected
        .iter()
        .map(|request| (request, per_request.get(request).copied().unwrap_or(0)))
        .filter(|(_, sent)| *sent != 1)
        .collect();
    assert!(not_once.is_empty(), "sent other than once: {not_once:?}");
    let writes = per_request
        .iter()
        .filter(|(line, _)| !line.starts_with("GET "))
        .map(|(_, n)| n)
        .sum::<usize>();
    assert_eq!(writes, PLAN.jobs(), "one write per job, none other");

    // The processes: each finished a share, no job twice, and their shares interleave in the
    // queue's order (jobs are claimed by id here), so they worked at the same time rather than
    // one after the other.
    let (done_a, done_b) = (done_in(&log_paths[0]), done_in(&log_paths[1]));
    let (set_a, set_b): (BTreeSet<i64>, BTreeSet<i64>) = (
        done_a.iter().copied().collect(),
        done_b.iter().copied().collect(),
    );
    assert_eq!(
        set_a.len(),
        done_a.len(),
        "a job finished twice by one process"
    );
    assert_eq!(
        set_b.len(),
        done_b.len(),
        "a job finished twice by one process"
    );
    assert!(
        set_a.is_disjoint(&set_b),
        "a job finished by both processes"
    );
    assert_eq!(
        (set_a.len() + set_b.len()) as i64,
        count(&db, "SELECT COUNT(*) FROM revocations").await,
        "every job in a log"
    );
    let (Some(first_a), Some(last_a), Some(first_b), Some(last_b)) =
        (set_a.first(), set_a.last(), set_b.first(), set_b.last())
    else {
        panic!(
            "both processes worked: {} and {} jobs",
            set_a.len(),
            set_b.len()
        );
    };
    assert!(
        first_a < last_b && first_b < last_a,
        "the processes worked side by side: {first_a}..={last_a} and {first_b}..={last_b}"
    );
    eprintln!(
        "two workers: {jobs} jobs, {} by one process and {} by the other, each sent once; \
         {:.1} s",
        set_a.len(),
        set_b.len(),
        started.elapsed().as_secs_f64()
    );
}

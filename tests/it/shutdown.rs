//! `serve` stops the way an orchestrator expects: on SIGTERM `/readyz` turns 503 while it
//! drains, a request in flight finishes, new connections are refused once the drain is over,
//! a revocation job that cannot finish in time is handed back, and the exit code is 0.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use postmark_access_review::{
    audit::Actor,
    bench::jobs::{seed_account, seed_jobs, Plan},
    clock::SystemClock,
    postmark::simulator::Simulator,
    scim::tokens as scim_tokens,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::{count, serve_command, TestDb, GATEWAY_TOKEN, SIMULATOR_TOKEN};

fn spawn(command: &mut Command) -> Child {
    command
        .env("PAR_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !matches!(readyz(port).await, Some(200)) {
        assert!(
            Instant::now() < deadline,
            "serve on {port} never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `/readyz` on a new connection: its status, or `None` when nobody accepts.
async fn readyz(port: u16) -> Option<u16> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the process to exit (at most `limit`) and returns whether it exited 0.
async fn exited_cleanly(mut child: Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not exit within {limit:?} of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_lets_a_slow_request_finish_and_exits_0() {
    let test_db = TestDb::fresh().await;
    let db = test_db.connect_migrated().await;
    let (_, token) = scim_tokens::create(
        &db,
        &SystemClock,
        &Actor::system("test"),
        "ada.admin@example.com",
        "Okta",
    )
    .await
    .unwrap();
    let simulator = Simulator::new(SIMULATOR_TOKEN);
    let postmark = simulator.spawn(0).await.unwrap();
    let (mut command, port) = serve_command(&test_db.url(), &postmark);
    command
        .env("PAR_SHUTDOWN_DRAIN", "2s")
        .env("PAR_SHUTDOWN_TIMEOUT", "20s");
    let child = spawn(&mut command);
    ready(port).await;

    // A client that sends its body slowly: the request is in flight when SIGTERM arrives.
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "slow.client@example.com",
        "active": true,
        "emails": [{ "value": "slow.client@example.com", "primary": true }],
    })
    .to_string();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let head = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/scim+json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(first.as_bytes()).await.unwrap();
    let signalled = Instant::now();
    terminate(&child);

    // Draining: still answering, but not ready.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(readyz(port).await, Some(503), "/readyz while draining");

    // The slow request completes after the signal.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stream.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the in-flight request finished: {answer}"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM scim_users WHERE user_name = 'slow.client@example.com'"
        )
        .await,
        1
    );

    // After the drain nobody accepts, and the process exits 0.
    assert!(exited_cleanly(child, Duration::from_secs(20)).await);
    assert!(
        signalled.elapsed() >= Duration::from_secs(2),
        "drained first"
    );
    assert_eq!(readyz(port).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_cannot_finish_in_time_is_handed_back() {
    const PLAN: Plan = Plan {
        servers: 1,
        quarantines: 1,
        users: 0,
    };
    let test_db = TestDb::fresh().await;
    let db = test_db.connect_migrated().await;
    let simulator = Simulator::new(SIMULATOR_TOKEN);
    simulator.enable_gateway(GATEWAY_TOKEN);
    seed_account(&simulator, &PLAN);
    // Every answer takes longer than the process may wait.
    simulator.set_latency(Duration::from_secs(8));
    let postmark = simulator.spawn(0).await.unwrap();
    let (mut command, port) = serve_command(&test_db.url(), &postmark);
    command.env("PAR_SHUTDOWN_TIMEOUT", "1s");
    let child = spawn(&mut command);
    ready(port).await;
    seed_jobs(&db, &SystemClock, &PLAN).await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(20);
    while count(
        &db,
        "SELECT COUNT(*) FROM revocations WHERE status = 'running' AND lease_until IS NOT NULL",
    )
    .await
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the worker never claimed the job"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let signalled = Instant::now();
    terminate(&child);
    assert!(exited_cleanly(child, Duration::from_secs(6)).await);
    assert!(
        signalled.elapsed() < Duration::from_secs(6),
        "it did not wait for the slow call"
    );
    // Handed back: still to do, and free for the next claim at once.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM revocations WHERE status = 'running' AND lease_until IS NULL"
        )
        .await,
        1
    );
}

//! Slow clients and slow handlers: a stalled request line or body loses its connection, a
//! slow handler gets 408 (its sync goes on), and downloads are never cut once they started.

use std::time::{Duration, Instant};

use postmark_access_review::{
    audit::{self, Actor, Event},
    config::Timeouts,
};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use crate::{
    auth::{signed_in, ADA},
    helpers::{count, TestApp},
};

fn short(request: Duration, header_read: Duration) -> Timeouts {
    Timeouts {
        request,
        header_read,
        ..Timeouts::default()
    }
}

/// Sends `bytes` on a fresh connection, then reads until the server closes it; what it
/// answered and when, or `None` when it was still open after `patience`.
async fn send_and_wait_for_close(
    app: &TestApp,
    bytes: &[u8],
    patience: Duration,
) -> Option<(String, Duration)> {
    let address = app.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(patience, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| {
        (
            String::from_utf8_lossy(&answer).into_owned(),
            started.elapsed(),
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stalls_in_its_headers_is_disconnected() {
    let app = TestApp::builder()
        .timeouts(short(Duration::from_secs(30), Duration::from_secs(1)))
        .spawn()
        .await;
    // Half a request line, then nothing.
    let (_, after) = send_and_wait_for_close(&app, b"GET /heal", Duration::from_secs(10))
        .await
        .expect("the server closes a connection stalled in its request line");
    assert!(after < Duration::from_secs(5), "closed after {after:?}");
    // A whole request line and part of the headers.
    let (answer, after) = send_and_wait_for_close(
        &app,
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow",
        Duration::from_secs(10),
    )
    .await
    .expect("the server closes a connection stalled in its headers");
    assert!(after < Duration::from_secs(5), "closed after {after:?}");
    assert!(!answer.contains("200 OK"), "{answer}");
    // Other clients were served all along.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_gets_408_and_a_declared_oversized_one_413_before_it_is_read() {
    let app = TestApp::builder()
        .timeouts(short(Duration::from_secs(1), Duration::from_secs(30)))
        .max_body_bytes(4096)
        .spawn()
        .await;
    let head = |length: usize| {
        format!(
            "POST /api/people HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {length}\r\nConnection: close\r\n\r\n"
        )
    };
    // Ten bytes announced, three sent.
    let stalled = format!("{}x=1", head(10));
    let (answer, after) =
        send_and_wait_for_close(&app, stalled.as_bytes(), Duration::from_secs(10))
            .await
            .expect("a stalled body is answered and the connection closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(after < Duration::from_secs(5), "answered after {after:?}");
    // A gigabyte announced and nothing sent: refused from the header, no byte read or kept.
    let (answer, after) =
        send_and_wait_for_close(&app, head(1 << 30).as_bytes(), Duration::from_secs(10))
            .await
            .expect("an oversized body is refused at once");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        after < Duration::from_millis(900),
        "answered after {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_handler_gets_408_and_the_sync_it_started_still_finishes() {
    let app = TestApp::builder()
        .timeouts(short(Duration::from_secs(1), Duration::from_secs(30)))
        .spawn()
        .await;
    let ada = signed_in(&app, ADA).await;
    // Postmark answers slower than the request may take.
    app.simulator.set_latency(Duration::from_millis(1500));
    let started = Instant::now();
    let response = ada.post("/api/inventory_sync_now", &[]).await;
    assert_eq!(response.status(), 408);
    assert!(started.elapsed() < Duration::from_millis(1400));
    // The sync was not cancelled with the request: it ends, recorded as any other.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let done = count(
            &app.db,
            "SELECT COUNT(*) FROM syncs WHERE status = 'succeeded'",
        )
        .await;
        if done == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the sync never finished");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM syncs WHERE status = 'running'"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_read_slowly_is_not_cut_by_the_request_timeout() {
    let app = TestApp::builder()
        .timeouts(short(Duration::from_secs(1), Duration::from_secs(30)))
        .spawn()
        .await;
    let events = 3000;
    let mut tx = app.db.begin().await.unwrap();
    for i in 0..events {
        audit::record(
            &mut tx,
            &app.clock,
            &Actor::system("test"),
            &Event::new("test.filler", format!("thing:{i}"))
                .details(serde_json::json!({ "padding": "x".repeat(200) })),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let ada = signed_in(&app, ADA).await;
    let mut response = ada.get("/exports/audit.csv").await;
    assert_eq!(response.status(), 200);
    let mut body = Vec::new();
    let first = response.chunk().await.unwrap().expect("a first chunk");
    body.extend_from_slice(&first);
    // Longer than the request timeout before reading on.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    while let Some(chunk) = response.chunk().await.expect("the download goes on") {
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.matches("test.filler").count() == events,
        "{} filler rows",
        text.matches("test.filler").count()
    );
}

use postmark_access_review::config::MetricsConfig;
use secrecy::SecretString;

use crate::helpers::{backend_under_test, TestApp};

const SCRAPE_TOKEN: &str = "scrape-token-0123456789abcdef";

/// An app whose `/metrics` wants [`SCRAPE_TOKEN`].
async fn with_scrape_token() -> TestApp {
    TestApp::builder()
        .metrics(MetricsConfig {
            token: Some(SecretString::from(SCRAPE_TOKEN.to_string())),
            addr: None,
        })
        .spawn()
        .await
}

/// `/metrics` as Prometheus reads it, with the token.
async fn scrape(app: &TestApp) -> reqwest::Response {
    app.client
        .get(app.at("/metrics"))
        .bearer_auth(SCRAPE_TOKEN)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_runs_on_the_requested_database() {
    // Guards against a misconfigured run silently testing SQLite twice.
    let app = TestApp::spawn().await;
    assert_eq!(app.db.backend(), backend_under_test());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_readyz_answer_when_the_database_is_up() {
    let app = TestApp::spawn().await;
    let live = app.get("/healthz").await;
    assert_eq!(live.status(), 200);
    assert_eq!(live.text().await.unwrap(), "ok\n");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_when_the_database_is_unreachable() {
    let app = TestApp::spawn().await;
    app.db.close().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.text().await.unwrap(), "database unreachable\n");
    // The process itself is still up.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_status() {
    let app = with_scrape_token().await;
    for _ in 0..3 {
        app.get("/healthz").await;
    }
    app.get("/definitely/missing").await;
    let response = scrape(&app).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"par_http_requests_total{method="GET",route="/healthz",status="200"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"par_http_requests_total{method="GET",route="unmatched",status="404"} 1"#),
        "{text}"
    );
    assert!(text
        .contains(r#"par_http_request_duration_seconds_count{method="GET",route="/healthz"} 3"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "uuid: {id}");
    // A caller's id is kept, so logs can be joined with a proxy's.
    let response = app
        .client
        .get(app.at("/healthz"))
        .header("x-request-id", "from-the-proxy")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "from-the-proxy");
    // Anything that could forge a log line is replaced.
    let response = app
        .client
        .get(app.at("/healthz"))
        .header("x-request-id", "a b\" status=200")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"].len(), 36);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusual_methods_share_one_metrics_label() {
    let app = with_scrape_token().await;
    for method in ["FOO1", "FOO2", "FOO3"] {
        app.client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                app.at("/healthz"),
            )
            .send()
            .await
            .unwrap();
    }
    let text = scrape(&app).await.text().await.unwrap();
    assert!(!text.contains("FOO"), "{text}");
    assert!(
        text.contains(r#"method="OTHER",route="/healthz""#),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_unless_configured_and_want_the_token() {
    // Nothing configured: the request counts stay private, the probes stay open.
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/metrics").await.status(), 404);
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);

    let app = with_scrape_token().await;
    let anonymous = app.get("/metrics").await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"metrics\""
    );
    let text = anonymous.text().await.unwrap();
    assert!(!text.contains("par_http_requests_total"), "{text}");
    for wrong in [
        format!("{SCRAPE_TOKEN}x"),
        SCRAPE_TOKEN[..SCRAPE_TOKEN.len() - 1].to_string(),
        String::new(),
    ] {
        let response = app
            .client
            .get(app.at("/metrics"))
            .bearer_auth(&wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{wrong:?}");
    }
    let response = scrape(&app).await;
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("par_http_requests_total"));
    // The probes never ask for it.
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_their_own_address_need_no_token_and_leave_the_main_one() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let app = TestApp::builder()
        .metrics(MetricsConfig {
            token: None,
            addr: Some(addr),
        })
        .spawn()
        .await;
    app.get("/healthz").await;
    assert_eq!(app.get("/metrics").await.status(), 404);
    // The listener opens as the app starts serving, a moment after spawn returns.
    let mut attempts = 0;
    let response = loop {
        match app
            .client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
        {
            Ok(response) => break response,
            Err(error) if attempts < 50 => {
                attempts += 1;
                let _ = error;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(error) => panic!("no /metrics listener at {addr}: {error}"),
        }
    };
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"par_http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{text}"
    );
    // Only /metrics lives there.
    let other = app
        .client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

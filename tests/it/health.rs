use crate::helpers::{backend_under_test, TestApp};

#[tokio::test]
async fn suite_runs_on_the_requested_database() {
    // Guards against a misconfigured run silently testing SQLite twice.
    let app = TestApp::spawn().await;
    assert_eq!(app.db.backend(), backend_under_test());
}

#[tokio::test]
async fn healthz_and_readyz_answer_when_the_database_is_up() {
    let app = TestApp::spawn().await;
    let live = app.get("/healthz").await;
    assert_eq!(live.status(), 200);
    assert_eq!(live.text().await.unwrap(), "ok\n");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn readyz_fails_when_the_database_is_unreachable() {
    let app = TestApp::spawn().await;
    app.db.close().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.text().await.unwrap(), "database unreachable\n");
    // The process itself is still up.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.get("/healthz").await;
    }
    app.get("/definitely/missing").await;
    let response = app.get("/metrics").await;
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

#[tokio::test]
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

#[tokio::test]
async fn unusual_methods_share_one_metrics_label() {
    let app = TestApp::spawn().await;
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
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(!text.contains("FOO"), "{text}");
    assert!(
        text.contains(r#"method="OTHER",route="/healthz""#),
        "{text}"
    );
}

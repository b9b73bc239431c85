use crate::helpers::TestApp;

fn assert_security_headers(response: &reqwest::Response) {
    let h = response.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-content-type-options"], "nosniff");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_on_pages_probes_and_errors() {
    let app = TestApp::spawn().await;
    for path in ["/", "/inventory", "/healthz", "/metrics", "/no-such-page"] {
        let response = app.get(path).await;
        assert_security_headers(&response);
        assert!(
            response
                .headers()
                .get("strict-transport-security")
                .is_none(),
            "no HSTS over plain http ({path})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_scripts_carry_the_nonce_of_the_policy() {
    let app = TestApp::spawn().await;
    let response = app.get("/").await;
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("policy has a nonce")
        .to_string();
    let html = response.text().await.unwrap();
    let scripts = html.matches("<script").count();
    assert!(scripts >= 2, "{html}");
    assert_eq!(
        html.matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
            .count()
            + html.matches(&format!("<script nonce=\"{nonce}\"")).count(),
        scripts,
        "every script tag carries this response's nonce"
    );
    // A fresh nonce per response.
    let again = app.get("/").await;
    assert!(!again.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains(&nonce));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_when_the_public_url_is_https() {
    let app = TestApp::builder()
        .public_url("https://access.example.com")
        .spawn()
        .await;
    let response = app.get("/").await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_is_refused_with_413() {
    let app = TestApp::builder().max_body_bytes(4096).spawn().await;
    let small = app
        .client
        .post(app.at("/healthz"))
        .body(vec![b'a'; 100])
        .send()
        .await
        .unwrap();
    // The route takes no POST: 405 shows the small body passed the limit.
    assert_eq!(small.status(), 405);
    let large = app
        .client
        .post(app.at("/healthz"))
        .body(vec![b'a'; 4097])
        .send()
        .await
        .unwrap();
    assert_eq!(large.status(), 413);
    assert_security_headers(&large);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_chunked_body_is_refused_with_413() {
    let app = TestApp::builder().max_body_bytes(4096).spawn().await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..10).map(|_| Ok(vec![b'a'; 1000])).collect();
    let response = app
        .client
        .post(app.at("/api/people"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    // A small chunked body still reaches the function (which then wants a signed-in admin).
    // On a new connection: the server closes the one it refused a body on, and a pooled
    // client could write into it before noticing.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let small: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(b"x=1".to_vec())];
    let response = fresh
        .post(app.at("/api/people"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(small)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_state_changes_are_refused() {
    let app = TestApp::spawn().await;
    let foreign = app
        .client
        .post(app.at("/healthz"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let cross_site = app
        .client
        .post(app.at("/healthz"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let own = app
        .client
        .post(app.at("/healthz"))
        .header("origin", app.url.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 405, "same origin passes the check");
    // Reads are never blocked by the check.
    let read = app
        .client
        .get(app.at("/healthz"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_server_function_arguments_are_the_callers_error() {
    let app = TestApp::spawn().await;
    let rita = crate::auth::signed_in(&app, crate::auth::RITA).await;
    // An unknown decision: refused before the function runs, named in a 400.
    let response = rita
        .post(
            "/api/reviews_decide",
            &[
                ("item_id", "1"),
                ("decision", "maybe"),
                ("justification", ""),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    assert!(body.contains("maybe"), "{body}");
    // A missing argument (what a browser sent before the queue's filter went as JSON).
    let response = rita.post("/api/reviews_queue", &[]).await;
    assert_eq!(response.status(), 400);
    // "flag" is a word the server reads, but not a decision a reviewer makes.
    let response = rita
        .post(
            "/api/reviews_decide",
            &[
                ("item_id", "1"),
                ("decision", "flag"),
                ("justification", ""),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
}

/// Leptos shows `?__path=<server fn>&__err=<error>` as that action's error (its no-JavaScript
/// fallback): a link carrying them must not put a message of the sender's choosing on a page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_in_the_url_is_never_shown_as_a_notice() {
    let app = TestApp::spawn().await;
    let ada = crate::auth::signed_in(&app, crate::auth::ADA).await;
    let spoof = r#"{"Validation":"Your session expired: sign in again at evil.example"}"#;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("status", "failed")
        .append_pair("__path", "/api/revocation_retry")
        .append_pair("__err", spoof)
        .finish();
    let response = ada.get(&format!("/revocations?{query}")).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/revocations?status=failed");
    let page = ada
        .get("/revocations?status=failed")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("evil.example"));
    // Server functions keep their own query strings (none use these names).
    let response = ada.get("/revocations?__err=x").await;
    assert_eq!(response.headers()["location"], "/revocations");
}

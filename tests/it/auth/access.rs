//! Who may reach what: anonymous visitors sent to sign in, the rate limit on the sign-in routes,
//! and the role check of server functions.

use reqwest::StatusCode;

use super::{signed_in, urlencode, Browser, ADA, AUBREY, RITA};
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_visitors_of_protected_pages_are_sent_to_sign_in() {
    let app = TestApp::spawn().await;
    for path in [
        "/inventory",
        "/campaigns",
        "/reviews",
        "/audit",
        "/settings",
    ] {
        let response = app.get(&format!("{path}?x=1")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            response.headers()["location"],
            format!("/auth/login?next={}", urlencode(&format!("{path}?x=1")))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_routes_are_rate_limited_per_address() {
    let app = TestApp::builder()
        .auth(|config| config.rate_limit_per_minute = 5)
        .spawn()
        .await;
    let browser = Browser::new(&app);
    for _ in 0..5 {
        assert_eq!(
            browser.get("/auth/login").await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let limited = browser.get("/auth/login").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(
        browser.get("/healthz").await.status(),
        200,
        "other routes unaffected"
    );
    // Review links share the budget: guessing tokens is as slow as guessing sign-ins.
    assert_eq!(
        browser
            .get("/r/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_check_the_caller() {
    let app = TestApp::spawn().await;
    let anonymous = Browser::new(&app);
    let rita = signed_in(&app, RITA).await;
    let aubrey = signed_in(&app, AUBREY).await;
    let ada = signed_in(&app, ADA).await;
    // (function, anonymous, reviewer, auditor, admin)
    let matrix = [
        ("/api/people", 401, 403, 403, 200),
        ("/api/audit_events", 401, 403, 200, 200),
        ("/api/audit_verify", 401, 403, 200, 200),
    ];
    for (path, expect_anon, expect_reviewer, expect_auditor, expect_admin) in matrix {
        for (who, browser, expected) in [
            ("anonymous", &anonymous, expect_anon),
            ("reviewer", &rita, expect_reviewer),
            ("auditor", &aubrey, expect_auditor),
            ("admin", &ada, expect_admin),
        ] {
            // The audit search takes its filter as JSON (an empty filter is `{}`).
            let response = if path == "/api/audit_events" {
                browser
                    .post_json(path, &serde_json::json!({ "query": {} }))
                    .await
            } else {
                browser.post(path, &[]).await
            };
            assert_eq!(response.status().as_u16(), expected, "{who} → {path}");
        }
    }
    let body: serde_json::Value = ada
        .post_json("/api/audit_events", &serde_json::json!({ "query": {} }))
        .await
        .json()
        .await
        .unwrap();
    assert!(body["total"].as_i64().unwrap() >= 3, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_is_never_rate_limited() {
    let app = TestApp::builder()
        .auth(|config| config.rate_limit_per_minute = 4)
        .spawn()
        .await;
    // Signing in takes two of the four (login and callback).
    let ada = signed_in(&app, ADA).await;
    while ada.get("/auth/login").await.status() != StatusCode::TOO_MANY_REQUESTS {}
    let response = ada.post("/auth/logout", &[]).await;
    assert_ne!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the provider's sign-out page"
    );
    assert_eq!(
        ada.post("/api/people", &[]).await.status(),
        StatusCode::UNAUTHORIZED,
        "signed out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_trusted_proxies_each_client_has_its_own_budget() {
    let app = TestApp::builder()
        .auth(|config| {
            config.rate_limit_per_minute = 2;
            config.trusted_proxy_hops = 1;
        })
        .spawn()
        .await;
    let browser = Browser::new(&app);
    let login = |client: &'static str| {
        browser
            .client
            .get(format!("{}/auth/login", app.url))
            // The leftmost entry is the client's own claim; the proxy appended the last.
            .header("x-forwarded-for", format!("6.6.6.6, {client}"))
            .send()
    };
    for _ in 0..2 {
        assert_eq!(
            login("198.51.100.7").await.unwrap().status(),
            StatusCode::SEE_OTHER
        );
    }
    assert_eq!(
        login("198.51.100.7").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy, with the same spoofed first entry, is unaffected.
    assert_eq!(
        login("198.51.100.8").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
}

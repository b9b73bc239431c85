//! Sessions after sign-in: sign-out ending them on the server, the absolute lifetime, the idle
//! timeout and its extension by activity.

use reqwest::StatusCode;
use url::Url;

use super::{location, signed_in, Browser, ADA, RITA};
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_ends_the_session_on_the_server() {
    let app = TestApp::spawn().await;
    let browser = signed_in(&app, ADA).await;
    let cookie = browser.session_cookie().unwrap();
    let response = browser.post("/auth/logout", &[]).await;
    // A page that continues to the provider's end-session endpoint (not a redirect, which
    // the form-action policy would block for another origin).
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let start = html.find("url=").unwrap() + 4;
    let end = start + html[start..].find('"').unwrap();
    let target: Url = html[start..end].replace("&amp;", "&").parse().unwrap();
    assert_eq!(
        target.path(),
        "/dev-idp/logout",
        "provider's end-session endpoint"
    );
    let params: std::collections::HashMap<_, _> = target.query_pairs().into_owned().collect();
    assert_eq!(params["client_id"], "postmark-access-review-demo");
    assert_eq!(params["post_logout_redirect_uri"], format!("{}/", app.url));
    assert_eq!(
        params["id_token_hint"].split('.').count(),
        3,
        "the ID token as hint"
    );
    let back = browser.get(target.as_str()).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&back).as_str(), format!("{}/", app.url));

    let replay = Browser::new(&app);
    replay
        .jar
        .add_cookie_str(&format!("par_session={cookie}"), &replay.base);
    let response = replay.get("/audit").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).path().starts_with("/auth/login"));
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.signed_out'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_from_another_site_is_refused() {
    let app = TestApp::spawn().await;
    let browser = signed_in(&app, ADA).await;
    let response = browser
        .client
        .post(format!("{}/auth/logout", app.url))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/audit").await.status(), 200, "still signed in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_after_their_absolute_lifetime() {
    let app = TestApp::spawn().await;
    let browser = signed_in(&app, RITA).await;
    assert_eq!(browser.get("/reviews").await.status(), 200);
    app.clock.advance(time::Duration::hours(23));
    assert_eq!(browser.get("/reviews").await.status(), 200);
    app.clock.advance(time::Duration::hours(2));
    let response = browser.get("/reviews").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response).path(), "/auth/login");
}

async fn stored_sessions(app: &TestApp) -> i64 {
    let table = match app.db.backend() {
        postmark_access_review::db::Backend::Sqlite => "tower_sessions",
        postmark_access_review::db::Backend::Postgres => "tower_sessions.session",
    };
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_expire_and_are_removed() {
    // The idle timeout runs on the session store's wall clock, so this test waits for real.
    let app = TestApp::builder()
        .auth(|config| config.session_idle = std::time::Duration::from_secs(1))
        .spawn()
        .await;
    let browser = signed_in(&app, RITA).await;
    assert_eq!(browser.get("/reviews").await.status(), 200);
    assert_eq!(stored_sessions(&app).await, 1);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let response = browser.get("/reviews").await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "idle session ended"
    );
    app.sessions.delete_expired().await.unwrap();
    assert_eq!(
        stored_sessions(&app).await,
        0,
        "expired sessions are deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_extends_the_idle_timeout() {
    let app = TestApp::builder()
        .auth(|config| config.session_idle = std::time::Duration::from_secs(3))
        .spawn()
        .await;
    let browser = signed_in(&app, RITA).await;
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        app.clock.advance(time::Duration::milliseconds(1200));
        assert_eq!(
            browser.get("/reviews").await.status(),
            200,
            "active: still signed in"
        );
    }
}

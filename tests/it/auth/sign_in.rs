//! The sign-in flow that succeeds: landing on the requested page with a new session, email
//! from userinfo, `next` kept on this site, and `client_secret_post` client authentication.

use postmark_access_review::auth::dev_idp::TokenFault;
use reqwest::StatusCode;

use super::{location, Browser, ADA, AUBREY, RITA};
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_lands_on_the_requested_page_with_a_new_session_id() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let authorize = browser.start_login("/audit?page=2").await;
    assert_eq!(authorize.path(), "/dev-idp/authorize");
    let params: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(params["code_challenge_method"], "S256");
    assert!(params["state"].len() >= 22 && params["nonce"].len() >= 22);
    assert!(params["scope"].split(' ').any(|s| s == "openid"));
    let before = browser.session_cookie().expect("pre-sign-in session");

    let callback = browser.authorize(&authorize, ADA).await;
    assert_eq!(callback.path(), "/auth/callback");
    let response = browser.get(callback.as_str()).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response).as_str(),
        format!("{}/audit?page=2", app.url)
    );
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");

    let after = browser.session_cookie().expect("signed-in session");
    assert_ne!(before, after, "the session id changes at sign-in");

    let page = browser.get("/audit").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Ada Admin") && html.contains(">Admin<"),
        "{html}"
    );

    let (email, first, last): (String, String, String) = sqlx::query_as(
        "SELECT email, first_sign_in_at, last_sign_in_at FROM people WHERE subject = 'demo-ada'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(email, "ada.admin@example.com");
    assert_eq!(first, last);
    let (action, actor): (String, String) =
        sqlx::query_as("SELECT action, actor_email FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        (action.as_str(), actor.as_str()),
        ("auth.signed_in", "ada.admin@example.com")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_session_cookie_is_not_the_one_after_sign_in() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let authorize = browser.start_login("/").await;
    let planted = browser.session_cookie().unwrap();
    // An attacker who made the victim use `planted` learns nothing from it after sign-in.
    let callback = browser.authorize(&authorize, RITA).await;
    browser.get(callback.as_str()).await;
    assert_ne!(browser.session_cookie().unwrap(), planted);
    let attacker = Browser::new(&app);
    attacker
        .jar
        .add_cookie_str(&format!("par_session={planted}"), &attacker.base);
    let response = attacker.get("/audit").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).path().starts_with("/auth/login"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_comes_from_userinfo_when_the_id_token_has_none() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let authorize = browser.start_login("/").await;
    let callback = browser.authorize(&authorize, AUBREY).await;
    app.idp.inject_fault(TokenFault::OmitEmail);
    assert_eq!(
        browser.get(callback.as_str()).await.status(),
        StatusCode::SEE_OTHER
    );
    let html = browser.get("/").await.text().await.unwrap();
    assert!(
        html.contains("aubrey.auditor@example.com") && html.contains(">Auditor<"),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_must_stay_on_this_site() {
    let app = TestApp::spawn().await;
    for next in ["https://evil.example", "//evil.example", "/\\evil.example"] {
        let response = Browser::new(&app).sign_in(next, RITA).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&response).as_str(),
            format!("{}/", app.url),
            "{next}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_post_authentication_works() {
    let app = TestApp::builder()
        .auth(|config| {
            config.client_auth = postmark_access_review::config::ClientAuth::Post;
        })
        .spawn()
        .await;
    let response = Browser::new(&app).sign_in("/", ADA).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

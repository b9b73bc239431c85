//! Sign-in over OpenID Connect against the development provider, driven over HTTP the way a
//! browser would, and every refusal the relying party must make.

use std::sync::Arc;

use postmark_access_review::auth::dev_idp::TokenFault;
use reqwest::{cookie::CookieStore as _, cookie::Jar, StatusCode};
use url::Url;

use crate::helpers::TestApp;

/// Indexes into the development provider's people.
pub const ADA: usize = 0;
pub const AUBREY: usize = 1;
pub const RITA: usize = 2;
pub const UMA: usize = 4;

/// A cookie-keeping client that does not follow redirects, so each hop can be checked.
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    pub base: Url,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            client,
            jar,
            base: app.url.parse().unwrap(),
        }
    }

    pub async fn get(&self, path_or_url: &str) -> reqwest::Response {
        let url = self.base.join(path_or_url).unwrap();
        self.client.get(url).send().await.unwrap()
    }

    /// A POST as a same-origin page would send it.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.base.join(path).unwrap())
            .header("origin", self.base.origin().ascii_serialization())
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A JSON POST as the app's own pages send it.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.base.join(path).unwrap())
            .header("origin", self.base.origin().ascii_serialization())
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub fn session_cookie(&self) -> Option<String> {
        let header = self.jar.cookies(&self.base)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|c| c.strip_prefix("par_session=").map(str::to_string))
    }

    /// `/auth/login?next=…` → the provider's authorize URL.
    pub async fn start_login(&self, next: &str) -> Url {
        let response = self
            .get(&format!("/auth/login?next={}", urlencode(next)))
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        location(&response)
    }

    /// Picks a person on the provider's page → the callback URL it redirects to.
    pub async fn authorize(&self, authorize_url: &Url, person: usize) -> Url {
        let chooser = self.get(authorize_url.as_str()).await;
        assert_eq!(chooser.status(), 200, "{}", chooser.text().await.unwrap());
        let mut form: Vec<(String, String)> = authorize_url.query_pairs().into_owned().collect();
        form.push(("person".into(), person.to_string()));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let response = self.post("/dev-idp/authorize", &form).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        location(&response)
    }

    /// The whole flow; returns the callback's response.
    pub async fn sign_in(&self, next: &str, person: usize) -> reqwest::Response {
        let authorize = self.start_login(next).await;
        let callback = self.authorize(&authorize, person).await;
        self.get(callback.as_str()).await
    }
}

pub fn location(response: &reqwest::Response) -> Url {
    let base: Url = response.url().clone();
    base.join(response.headers()["location"].to_str().unwrap())
        .unwrap()
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A browser signed in as `person`.
pub async fn signed_in(app: &TestApp, person: usize) -> Browser {
    let browser = Browser::new(app);
    let response = browser.sign_in("/", person).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in failed");
    browser
}

/// Latest refusal reason in the audit log.
async fn last_refusal(app: &TestApp) -> Option<String> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT details FROM audit_events WHERE action = 'auth.sign_in_refused' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_optional(app.db.pool())
    .await
    .unwrap();
    row.map(|(details,)| {
        let value: serde_json::Value = serde_json::from_str(&details).unwrap();
        value["reason"].as_str().unwrap().to_string()
    })
}

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
async fn wrong_or_missing_state_is_refused() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let authorize = browser.start_login("/").await;
    let mut callback = browser.authorize(&authorize, ADA).await;
    let code: String = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();

    callback.set_query(Some(&format!("code={code}&state=forged")));
    let response = browser.get(callback.as_str()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("did not match this browser"));
    // Requests that no sign-in of this browser started write nothing (no audit flooding).
    assert_eq!(last_refusal(&app).await, None);

    callback.set_query(Some(&format!("code={code}")));
    let response = browser.get(callback.as_str()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Another browser cannot finish this browser's sign-in either.
    let stranger = Browser::new(&app);
    let response = stranger.get(callback.as_str()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_replayed_authorization_code_is_refused() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let authorize = browser.start_login("/").await;
    let callback = browser.authorize(&authorize, ADA).await;
    assert_eq!(
        browser.get(callback.as_str()).await.status(),
        StatusCode::SEE_OTHER
    );

    // The same callback again: its state was used up.
    let again = browser.get(callback.as_str()).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("did not match this browser"));

    // The used code with a fresh, valid state: the provider refuses the code.
    let fresh = browser.start_login("/").await;
    let state = fresh
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let iss = callback
        .query_pairs()
        .find(|(k, _)| k == "iss")
        .unwrap()
        .1
        .into_owned();
    let mut replay = callback.clone();
    replay
        .query_pairs_mut()
        .clear()
        .append_pair("code", &code)
        .append_pair("state", &state)
        .append_pair("iss", &iss);
    let response = browser.get(replay.as_str()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(last_refusal(&app).await.as_deref(), Some("code_rejected"));
}

#[tokio::test]
async fn defective_id_tokens_are_refused() {
    let app = TestApp::spawn().await;
    for (fault, reason) in [
        (TokenFault::WrongNonce, "id_token_wrong_nonce"),
        (TokenFault::WrongIssuer, "id_token_wrong_issuer"),
        (TokenFault::WrongAudience, "id_token_wrong_audience"),
        (TokenFault::Expired, "id_token_expired"),
        (TokenFault::BadSignature, "id_token_bad_signature"),
    ] {
        let browser = Browser::new(&app);
        let authorize = browser.start_login("/audit").await;
        let callback = browser.authorize(&authorize, ADA).await;
        app.idp.inject_fault(fault);
        let response = browser.get(callback.as_str()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{fault:?}");
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("failed verification"));
        assert_eq!(
            last_refusal(&app).await.as_deref(),
            Some(reason),
            "{fault:?}"
        );
        assert!(
            browser.get("/audit").await.status() == StatusCode::SEE_OTHER,
            "not signed in"
        );
    }
}

#[tokio::test]
async fn unverified_email_is_refused() {
    let app = TestApp::spawn().await;
    let response = Browser::new(&app).sign_in("/", UMA).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("not verified"));
    assert_eq!(
        last_refusal(&app).await.as_deref(),
        Some("email_unverified")
    );
    let (people,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM people")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(people, 0, "a refused sign-in records no person");
}

#[tokio::test]
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

#[tokio::test]
async fn the_iss_response_parameter_is_checked() {
    let app = TestApp::spawn().await;
    for iss in [Some("https://impostor.example"), None] {
        let browser = Browser::new(&app);
        let authorize = browser.start_login("/").await;
        let callback = browser.authorize(&authorize, ADA).await;
        let mut tampered = callback.clone();
        let kept: Vec<(String, String)> = callback
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| k != "iss")
            .collect();
        {
            let mut query = tampered.query_pairs_mut();
            query.clear();
            for (k, v) in &kept {
                query.append_pair(k, v);
            }
            if let Some(iss) = iss {
                query.append_pair("iss", iss);
            }
        }
        let response = browser.get(tampered.as_str()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{iss:?}");
        assert_eq!(
            last_refusal(&app).await.as_deref(),
            Some("iss_parameter_mismatch")
        );
    }
}

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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
}

#[tokio::test]
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
            let response = browser.post(path, &[]).await;
            assert_eq!(response.status().as_u16(), expected, "{who} → {path}");
        }
    }
    let body: serde_json::Value = ada
        .post("/api/audit_events", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(body["total"].as_i64().unwrap() >= 3, "{body}");
}

// Multi-threaded: the blocking child process talks to this test's server.
#[tokio::test(flavor = "multi_thread")]
async fn serve_refuses_the_development_provider() {
    let app = TestApp::spawn().await;
    let out = crate::cli::run_binary(
        &["serve"],
        &[
            ("PAR_PUBLIC_URL", "http://127.0.0.1:9"),
            ("PAR_OIDC_ISSUER", &format!("{}/dev-idp", app.url)),
            ("PAR_OIDC_CLIENT_ID", "postmark-access-review-demo"),
            ("PAR_OIDC_CLIENT_SECRET", "whatever"),
            ("PAR_DATABASE_URL", "sqlite::memory:"),
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("PAR_OIDC_ISSUER"), "{out:?}");
    assert!(
        out.stderr.contains("development identity provider"),
        "{out:?}"
    );
}

//! Every refusal the relying party must make: forged or missing state, replayed codes,
//! defective ID tokens, unverified email, a wrong `iss` parameter, and the development
//! provider outside development.

use postmark_access_review::auth::dev_idp::TokenFault;
use reqwest::StatusCode;

use super::{last_refusal, Browser, ADA, UMA};
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

//! Who may call: bearer tokens only (no session, no CSRF check), one provider's resources
//! hidden from another, the per-provider rate limit and the body limit.

use serde_json::json;

use super::{answer, user, Scim};
use crate::{
    auth::{signed_in, ADA},
    helpers::{count, TestApp},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_bad_and_revoked_tokens_are_401() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Okta").await;
    assert_eq!(scim.get("/Users").await.status, 200);

    for token in [
        None,
        Some("nonsense"),
        Some("par_scim_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        let refused = Scim::with_token(&app, token).get("/Users").await;
        refused.assert_error(401, None);
        assert!(
            refused
                .header("www-authenticate")
                .unwrap()
                .starts_with("Bearer"),
            "{:?}",
            refused.headers
        );
    }
    let basic = app
        .client
        .get(scim.url("/Users"))
        .basic_auth("okta", Some(scim.token.as_deref().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);

    let (id,): (i64,) = sqlx::query_as("SELECT id FROM scim_tokens")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    postmark_access_review::scim::tokens::revoke(
        &app.db,
        &app.clock,
        &postmark_access_review::audit::Actor::system("test"),
        "ada.admin@example.com",
        id,
    )
    .await
    .unwrap();
    scim.get("/Users").await.assert_error(401, None);
    scim.post("/Users", &user("x@example.com"))
        .await
        .assert_error(401, None);
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM scim_users").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_cookie_opens_nothing_and_origin_checks_do_not_apply() {
    let app = TestApp::spawn().await;
    let ada = signed_in(&app, ADA).await;
    // Ada's browser, signed in as an admin, with her cookie: still no SCIM access.
    let with_cookie = ada.get("/scim/v2/Users").await;
    assert_eq!(with_cookie.status(), 401);
    let posted = ada
        .post_json("/scim/v2/Users", &user("cookie@example.com"))
        .await;
    assert_eq!(posted.status(), 401);

    // A provider's call with a foreign Origin is not a CSRF attempt: it carries a token.
    let scim = Scim::new(&app, "Okta").await;
    let response = app
        .client
        .post(scim.url("/Users"))
        .bearer_auth(scim.token.as_deref().unwrap())
        .header("origin", "https://provisioning.okta.example")
        .header("content-type", "application/scim+json")
        .body(user("okta@example.com").to_string())
        .send()
        .await
        .unwrap();
    let created = answer(response).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    // And no session cookie is handed out.
    assert!(created.header("set-cookie").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_sees_only_its_own_resources() {
    let app = TestApp::spawn().await;
    let entra = Scim::new(&app, "Entra ID").await;
    let okta = Scim::new(&app, "Okta").await;
    let id = entra.create_user(&user("ada@example.com")).await;
    let group = entra
        .post(
            "/Groups",
            &json!({"schemas": [super::GROUP], "displayName": "ops", "members": [{"value": id}]}),
        )
        .await;
    let group = group.body["id"].as_str().unwrap().to_string();

    okta.get(&format!("/Users/{id}"))
        .await
        .assert_error(404, None);
    okta.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await
    .assert_error(404, None);
    okta.put(&format!("/Users/{id}"), &user("ada@example.com"))
        .await
        .assert_error(404, None);
    okta.delete(&format!("/Users/{id}"))
        .await
        .assert_error(404, None);
    okta.get(&format!("/Groups/{group}"))
        .await
        .assert_error(404, None);
    okta.delete(&format!("/Groups/{group}"))
        .await
        .assert_error(404, None);
    assert_eq!(okta.get("/Users").await.body["totalResults"], 0);
    assert_eq!(okta.get("/Groups").await.body["totalResults"], 0);
    let filtered = okta
        .list("Users", &[("filter", r#"userName eq "ada@example.com""#)])
        .await;
    assert_eq!(filtered.body["totalResults"], 0);
    // Its own namespace: the same userName is free there.
    okta.create_user(&user("ada@example.com")).await;

    let ours = entra.get(&format!("/Users/{id}")).await;
    assert_eq!(ours.body["active"], true);
    assert_eq!(entra.get(&format!("/Groups/{group}")).await.status, 200);
}

fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_413_before_anything_is_read() {
    // The application-wide limit is larger, so SCIM's own 256 KiB applies.
    let app = TestApp::builder().max_body_bytes(1024 * 1024).spawn().await;
    let scim = Scim::new(&app, "Okta").await;
    let mut big = user("big@example.com");
    big["title"] = json!("x".repeat(300 * 1024));
    scim.post("/Users", &big).await.assert_error(413, None);

    // Chunked, without a length: cut off while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..300).map(|_| Ok(vec![b' '; 1024])).collect();
    // Each request after a refused body goes on a new connection: the server closes the
    // one it refused, and a pooled client could write into it before noticing.
    let response = fresh_client()
        .post(scim.url("/Users"))
        .bearer_auth(scim.token.as_deref().unwrap())
        .header("content-type", "application/scim+json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    answer(response).await.assert_error(413, None);

    // Under the limit, the body is read (and this one refused for what it says).
    let mut fits = user("fits@example.com");
    fits["title"] = json!("x".repeat(200 * 1024));
    let response = fresh_client()
        .post(scim.url("/Users"))
        .bearer_auth(scim.token.as_deref().unwrap())
        .header("content-type", "application/scim+json")
        .body(fits.to_string())
        .send()
        .await
        .unwrap();
    answer(response)
        .await
        .assert_error(400, Some("invalidValue"));
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM scim_users").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_provider_has_a_request_budget() {
    let app = TestApp::spawn().await;
    let entra = Scim::new(&app, "Entra ID").await;
    let okta = Scim::new(&app, "Okta").await;
    // The test clock stands still, so nothing refills: 100 requests pass, the next waits.
    for i in 0..100 {
        let answer = entra.get("/ServiceProviderConfig").await;
        assert_eq!(answer.status, 200, "request {i}");
    }
    let limited = entra.get("/Users").await;
    limited.assert_error(429, None);
    assert_eq!(limited.header("retry-after"), Some("1"));
    assert_eq!(
        okta.get("/Users").await.status,
        200,
        "other providers go on"
    );

    app.clock.advance(time::Duration::seconds(1));
    assert_eq!(
        entra.get("/Users").await.status,
        200,
        "refilled after a second"
    );
}

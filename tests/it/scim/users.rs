//! Users: create, read, replace, delete, uniqueness, tombstones and deactivation times.

use serde_json::json;

use super::{scim_events, user, Scim, USER};
use crate::helpers::{count, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_created_read_replaced_and_deleted() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Okta").await;

    let created = scim.post("/Users", &user("ada@example.com")).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(
        created.header("content-type"),
        Some("application/scim+json")
    );
    let id = created.body["id"].as_str().unwrap().to_string();
    let location = format!("{}/scim/v2/Users/{id}", app.url);
    assert_eq!(created.header("location"), Some(location.as_str()));
    let meta = &created.body["meta"];
    assert_eq!(meta["resourceType"], "User");
    assert_eq!(meta["location"], json!(location));
    assert_eq!(meta["created"], "2026-11-28T09:00:00.000000Z");
    assert_eq!(meta["lastModified"], meta["created"]);
    assert_eq!(created.body["userName"], "ada@example.com");
    assert_eq!(created.body["active"], true);
    assert_eq!(created.body["schemas"], json!([USER]));
    assert!(created.body.get("password").is_none());

    let got = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, created.body);

    // userName is unique per provider, whatever the case.
    scim.post("/Users", &user("ADA@example.com"))
        .await
        .assert_error(409, Some("uniqueness"));

    // PUT replaces: what is not sent is gone, read-only values are ignored.
    app.clock.advance(time::Duration::minutes(5));
    let replaced = scim
        .put(
            &format!("/Users/{id}"),
            &json!({
                "schemas": [USER],
                "id": "ignored",
                "userName": "ada@example.com",
                "displayName": "Ada Lovelace",
                "title": "Engineer",
                "active": true,
                "password": "never stored",
            }),
        )
        .await;
    assert_eq!(replaced.status, 200, "{:#}", replaced.body);
    assert_eq!(replaced.body["id"], json!(id));
    assert_eq!(replaced.body["displayName"], "Ada Lovelace");
    assert_eq!(replaced.body["title"], "Engineer");
    assert!(replaced.body.get("emails").is_none());
    assert!(replaced.body.get("name").is_none());
    assert_eq!(
        replaced.body["meta"]["lastModified"],
        "2026-11-28T09:05:00.000000Z"
    );
    assert_eq!(replaced.body["meta"]["version"], "W/\"2\"");
    let stored: (String,) = sqlx::query_as("SELECT attributes FROM scim_users WHERE id = $1")
        .bind(&id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(!stored.0.contains("never stored"), "{}", stored.0);

    let deleted = scim.delete(&format!("/Users/{id}")).await;
    assert_eq!(deleted.status, 204);
    scim.get(&format!("/Users/{id}"))
        .await
        .assert_error(404, None);
    // Deleting again: 404, as RFC 7644 §3.6 says; providers take it as done.
    scim.delete(&format!("/Users/{id}"))
        .await
        .assert_error(404, None);
    scim.put(&format!("/Users/{id}"), &user("ada@example.com"))
        .await
        .assert_error(404, None);

    // The row stays as a tombstone, and the userName is free again.
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM scim_users WHERE deleted_at IS NOT NULL"
        )
        .await,
        1
    );
    let again = scim.post("/Users", &user("ada@example.com")).await;
    assert_eq!(again.status, 201);
    assert_ne!(again.body["id"], json!(id));

    let actions: Vec<String> = scim_events(&app).await.into_iter().map(|e| e.0).collect();
    assert_eq!(
        actions,
        [
            "scim.token_created",
            "scim.user_created",
            "scim.user_updated",
            "scim.user_deleted",
            "scim.user_created"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_and_deletion_record_when_the_person_left() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Entra ID").await;
    let id = scim.create_user(&user("ben@example.com")).await;
    let deactivated_at = || async {
        let (at,): (Option<String>,) =
            sqlx::query_as("SELECT deactivated_at FROM scim_users WHERE id = $1")
                .bind(&id)
                .fetch_one(app.db.pool())
                .await
                .unwrap();
        at
    };
    assert_eq!(deactivated_at().await, None);

    app.clock.advance(time::Duration::hours(1));
    let off = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(off.status, 200);
    assert_eq!(
        deactivated_at().await.as_deref(),
        Some("2026-11-28T10:00:00.000000Z")
    );

    // Deactivated again later: the first time stands.
    app.clock.advance(time::Duration::hours(1));
    scim.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;
    assert_eq!(
        deactivated_at().await.as_deref(),
        Some("2026-11-28T10:00:00.000000Z")
    );

    // Back again: no longer counted as gone.
    let on = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "active", "value": true}]),
        )
        .await;
    assert_eq!(on.body["active"], true);
    assert_eq!(deactivated_at().await, None);

    app.clock.advance(time::Duration::hours(1));
    assert_eq!(scim.delete(&format!("/Users/{id}")).await.status, 204);
    assert_eq!(
        deactivated_at().await.as_deref(),
        Some("2026-11-28T12:00:00.000000Z")
    );
    let (deleted_at, active): (Option<String>, i64) = sqlx::query_as(
        "SELECT deleted_at, CAST(CASE WHEN active THEN 1 ELSE 0 END AS BIGINT) \
         FROM scim_users WHERE id = $1",
    )
    .bind(&id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(deleted_at.as_deref(), Some("2026-11-28T12:00:00.000000Z"));
    assert_eq!(active, 0);

    // A user created inactive has been gone since it was created.
    let inactive = scim
        .post(
            "/Users",
            &json!({"schemas": [USER], "userName": "cy@example.com", "active": false}),
        )
        .await;
    assert_eq!(inactive.status, 201);
    let (at,): (Option<String>,) =
        sqlx::query_as("SELECT deactivated_at FROM scim_users WHERE user_name = 'cy@example.com'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(at.as_deref(), Some("2026-11-28T12:00:00.000000Z"));

    let actions: Vec<String> = scim_events(&app).await.into_iter().map(|e| e.0).collect();
    assert_eq!(
        actions,
        [
            "scim.token_created",
            "scim.user_created",
            "scim.user_deactivated",
            "scim.user_reactivated",
            "scim.user_deleted",
            "scim.user_created"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Okta").await;

    let malformed = scim.send(reqwest::Method::POST, "/Users", None).await;
    malformed.assert_error(400, Some("invalidSyntax"));
    let request = app
        .client
        .post(scim.url("/Users"))
        .bearer_auth(scim.token.as_deref().unwrap())
        .header("content-type", "application/scim+json")
        .body(r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "#)
        .send()
        .await
        .unwrap();
    super::answer(request)
        .await
        .assert_error(400, Some("invalidSyntax"));

    let mut unknown = user("ada@example.com");
    unknown["shoeSize"] = json!(42);
    scim.post("/Users", &unknown)
        .await
        .assert_error(400, Some("invalidValue"));
    let mut bad_schema = user("ada@example.com");
    bad_schema["schemas"] = json!(["urn:example:Nope"]);
    scim.post("/Users", &bad_schema)
        .await
        .assert_error(400, Some("invalidValue"));
    scim.post(
        "/Users",
        &json!({"schemas": [USER], "displayName": "No userName"}),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    scim.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "a", "active": "perhaps"}),
    )
    .await
    .assert_error(400, Some("invalidValue"));

    let form = app
        .client
        .post(scim.url("/Users"))
        .bearer_auth(scim.token.as_deref().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("userName=a")
        .send()
        .await
        .unwrap();
    super::answer(form).await.assert_error(415, None);

    // application/json is accepted as well.
    let plain = app
        .client
        .post(scim.url("/Users"))
        .bearer_auth(scim.token.as_deref().unwrap())
        .json(&user("ok@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 201);
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM scim_users").await, 1);
}

//! The admin's token page: create (shown once), list, revoke, with audit events.

use serde_json::{json, Value};

use super::{scim_events, Scim};
use crate::{
    auth::{signed_in, ADA, RITA},
    helpers::{count, TestApp},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_create_list_and_revoke_tokens() {
    let app = TestApp::spawn().await;
    let ada = signed_in(&app, ADA).await;

    let empty = ada
        .post("/api/scim_create_token", &[("provider", "  ")])
        .await;
    assert_eq!(empty.status(), 422);

    let created = ada
        .post("/api/scim_create_token", &[("provider", "Entra ID")])
        .await;
    assert_eq!(created.status(), 200);
    assert_eq!(
        created.headers()["cache-control"].to_str().unwrap(),
        "no-store",
        "the token must not be cached"
    );
    let created: Value = created.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    assert!(
        token.starts_with("par_scim_") && token.len() == 52,
        "{token}"
    );
    assert_eq!(created["base_url"], json!(format!("{}/scim/v2", app.url)));
    assert_eq!(created["provider"], "Entra ID");
    let prefix = created["prefix"].as_str().unwrap();
    assert!(token.starts_with(prefix) && prefix.len() < 20);

    // The token works, and is stored only as a hash.
    let scim = Scim::with_token(&app, Some(&token));
    assert_eq!(scim.get("/Users").await.status, 200);
    let (hash,): (String,) = sqlx::query_as("SELECT token_hash FROM scim_tokens")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_ne!(hash, token);
    assert_eq!(hash.len(), 64);

    // A second token for the same provider (any case) rotates: same provider, both work.
    let second: Value = ada
        .post("/api/scim_create_token", &[("provider", "entra id")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["provider"], "Entra ID");
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM scim_providers").await,
        1
    );

    let listed: Value = ada
        .post("/api/scim_tokens", &[])
        .await
        .json()
        .await
        .unwrap();
    let tokens = listed["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(
        !listed.to_string().contains(&token),
        "the list never shows a token"
    );
    let first = tokens.iter().find(|t| t["id"] == created["id"]).unwrap();
    assert_eq!(first["prefix"], json!(prefix));
    assert_eq!(first["created_by"], "ada.admin@example.com");
    assert_eq!(first["last_used_at"], "2026-11-28T09:00:00.000000Z");
    assert_eq!(first["revoked_at"], Value::Null);

    let id = created["id"].as_i64().unwrap().to_string();
    let revoked = ada
        .post("/api/scim_revoke_token", &[("id", id.as_str())])
        .await;
    assert_eq!(revoked.status(), 200);
    let revoked: Value = revoked.json().await.unwrap();
    assert_eq!(revoked["revoked_by"], "ada.admin@example.com");
    scim.get("/Users").await.assert_error(401, None);
    let again = ada
        .post("/api/scim_revoke_token", &[("id", id.as_str())])
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(
        ada.post("/api/scim_revoke_token", &[("id", "999")])
            .await
            .status(),
        404
    );
    // The other token of the provider still works.
    let other = Scim::with_token(&app, second["token"].as_str());
    assert_eq!(other.get("/Users").await.status, 200);

    // Only admins.
    let rita = signed_in(&app, RITA).await;
    assert_eq!(
        rita.post("/api/scim_create_token", &[("provider", "Okta")])
            .await
            .status(),
        403
    );
    assert_eq!(rita.post("/api/scim_tokens", &[]).await.status(), 403);
    assert_eq!(
        rita.post("/api/scim_revoke_token", &[("id", "2")])
            .await
            .status(),
        403
    );

    let events = scim_events(&app).await;
    let actions: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "scim.token_created",
            "scim.token_created",
            "scim.token_revoked"
        ]
    );
    assert_eq!(events[0].2["provider"], "Entra ID");
    assert_eq!(events[0].2["new_provider"], true);
    assert_eq!(events[1].2["new_provider"], false);
    let all: Vec<(String,)> = sqlx::query_as("SELECT CAST(details AS TEXT) FROM audit_events")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert!(
        all.iter().all(|(d,)| !d.contains(&token[9..])),
        "no token in the audit log"
    );
}

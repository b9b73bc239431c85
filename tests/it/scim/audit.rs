//! The trail SCIM changes leave in the audit log: who (the provider), what, before and after.

use serde_json::json;

use super::{scim_events, user, Scim};
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scim_change_is_audited_with_its_provider() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Entra ID").await;
    let id = scim.create_user(&user("ada@example.com")).await;
    scim.patch(
        &format!("/Users/{id}"),
        json!([{"op": "Replace", "path": "displayName", "value": "Ada L."}]),
    )
    .await;
    scim.patch(
        &format!("/Users/{id}"),
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .await;
    scim.delete(&format!("/Users/{id}")).await;

    let events = scim_events(&app).await;
    let actions: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "scim.token_created",
            "scim.user_created",
            "scim.user_updated",
            "scim.user_deactivated",
            "scim.user_deleted"
        ]
    );
    for (action, actor, details) in &events[1..] {
        assert_eq!(actor, "scim:Entra ID", "{action}");
        assert_eq!(details["provider"], "Entra ID", "{action}");
        assert_eq!(details["userName"], "ada@example.com", "{action}");
    }
    assert_eq!(
        events[1].2["attributes"]["emails"][0]["value"],
        "ada@example.com"
    );
    assert_eq!(
        events[2].2["changes"],
        json!({"displayName": {"before": "ada Example", "after": "Ada L."}})
    );
    assert_eq!(
        events[3].2["changes"],
        json!({"active": {"before": true, "after": false}})
    );
    assert_eq!(events[4].2["was_active"], false);
    let (subject,): (String,) =
        sqlx::query_as("SELECT subject FROM audit_events WHERE action = 'scim.user_deleted'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(subject, format!("scim_user:{id}"));
    let token = scim.token.as_deref().unwrap();
    let all: Vec<(String,)> = sqlx::query_as("SELECT CAST(details AS TEXT) FROM audit_events")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert!(all.iter().all(|(d,)| !d.contains(&token[9..])));
    assert!(postmark_access_review::audit::verify(&app.db)
        .await
        .unwrap()
        .is_ok());
}

//! PATCH as Entra ID and Okta send it, re-deliveries, and refused operations.

use serde_json::json;

use super::{scim_events, user, Scim};
use crate::helpers::{count, TestApp};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_id_patches_apply() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Entra ID").await;
    let id = scim
        .create_user(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "externalId": "0a1b",
            "userName": "dana@example.com",
            "active": true,
            "displayName": "Dana",
            "emails": [{"primary": true, "type": "work", "value": "dana@example.com"}],
            "name": {"formatted": "Dana Example", "familyName": "Example", "givenName": "Dana"},
            ENTERPRISE: {"department": "Finance"},
        }))
        .await;
    let path = format!("/Users/{id}");

    // Entra's attribute updates: capitalised ops, filtered paths, extension attributes.
    let updated = scim
        .patch(
            &path,
            json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "dana.x@example.com"},
                {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"},
                {"op": "Replace", "path": "name.givenName", "value": "Danielle"},
                {"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": "mgr-7"},
                {"op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "Treasury"},
                {"op": "Replace", "path": "displayName", "value": "Danielle Example"},
            ]),
        )
        .await;
    assert_eq!(updated.status, 200, "{:#}", updated.body);
    let u = &updated.body;
    assert_eq!(
        u["emails"],
        json!([{"primary": true, "type": "work", "value": "dana.x@example.com"}])
    );
    assert_eq!(
        u["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555 0100"}])
    );
    assert_eq!(u["name"]["givenName"], "Danielle");
    assert_eq!(u["name"]["familyName"], "Example");
    assert_eq!(
        u[ENTERPRISE],
        json!({"department": "Treasury", "manager": {"value": "mgr-7"}})
    );
    assert_eq!(u["schemas"][1], ENTERPRISE);
    let filtered = scim
        .list("Users", &[("filter", r#"emails eq "dana.x@example.com""#)])
        .await;
    assert_eq!(filtered.body["totalResults"], 1, "the email index follows");

    // Entra's deactivation: a string boolean.
    let off = scim
        .patch(
            &path,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
    assert_eq!(off.status, 200);
    assert_eq!(off.body["active"], false);

    // Removing a value that is not there is no error.
    let removed = scim
        .patch(
            &path,
            json!([
                {"op": "Remove", "path": "phoneNumbers[type eq \"fax\"]"},
                {"op": "Remove", "path": format!("{ENTERPRISE}:manager")},
            ]),
        )
        .await;
    assert_eq!(removed.status, 200);
    assert_eq!(removed.body[ENTERPRISE], json!({"department": "Treasury"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_deactivates_with_and_without_a_path() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Okta").await;
    let a = scim.create_user(&user("erin@example.com")).await;
    let b = scim.create_user(&user("finn@example.com")).await;

    let no_path = scim
        .patch(
            &format!("/Users/{a}"),
            json!([{"op": "replace", "value": {"active": false}}]),
        )
        .await;
    assert_eq!(no_path.status, 200, "{:#}", no_path.body);
    assert_eq!(no_path.body["active"], false);

    let with_path = scim
        .patch(
            &format!("/Users/{b}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(with_path.body["active"], false);

    // Okta's profile push: several attributes at once, no path.
    let profile = scim
        .patch(
            &format!("/Users/{b}"),
            json!([{"op": "replace", "value": {
                "id": b, "name": {"familyName": "Newname"}, "title": "Lead", "active": true
            }}]),
        )
        .await;
    assert_eq!(profile.status, 200, "{:#}", profile.body);
    assert_eq!(
        profile.body["name"],
        json!({"givenName": "finn", "familyName": "Newname"})
    );
    assert_eq!(profile.body["title"], "Lead");
    assert_eq!(profile.body["active"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_patch_changes_nothing_the_second_time() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Entra ID").await;
    let id = scim.create_user(&user("gus@example.com")).await;
    let path = format!("/Users/{id}");
    let ops = json!([
        {"op": "replace", "path": "active", "value": "False"},
        {"op": "add", "path": "emails", "value": [{"value": "gus.alt@example.com", "type": "other"}]},
    ]);
    let first = scim.patch(&path, ops.clone()).await;
    assert_eq!(first.status, 200);
    let events = count(&app.db, "SELECT COUNT(*) FROM audit_events").await;
    app.clock.advance(time::Duration::minutes(1));
    let second = scim.patch(&path, ops).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body, first.body, "same state, same version and time");
    assert_eq!(second.body["emails"].as_array().unwrap().len(), 2);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM audit_events").await,
        events,
        "nothing changed, nothing recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_patches_change_nothing() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Okta").await;
    let id = scim.create_user(&user("hal@example.com")).await;
    let path = format!("/Users/{id}");
    let before = scim.get(&path).await.body;

    let cases = [
        (
            json!([{"op": "replace", "path": "shoeSize", "value": 4}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "name.nickname", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq ]", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "id", "value": "x"}]),
            "mutability",
        ),
        (json!([{"op": "remove"}]), "noTarget"),
        (
            json!([{"op": "replace", "path": "emails[value co \"nobody\"].type", "value": "home"}]),
            "noTarget",
        ),
        (
            json!([{"op": "replace", "path": "active", "value": "perhaps"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "remove", "path": "userName"}]),
            "invalidValue",
        ),
        // The first operation is fine, the second is not: neither is applied.
        (
            json!([
                {"op": "replace", "path": "title", "value": "Boss"},
                {"op": "replace", "path": "colour", "value": "red"},
            ]),
            "invalidPath",
        ),
    ];
    for (operations, scim_type) in cases {
        scim.patch(&path, operations)
            .await
            .assert_error(400, Some(scim_type));
    }
    let not_patch_op = scim
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(&json!({"Operations": [{"op": "replace", "path": "title", "value": "x"}]})),
        )
        .await;
    not_patch_op.assert_error(400, Some("invalidValue"));
    scim.patch(
        "/Users/00000000-0000-0000-0000-000000000000",
        json!([{"op": "replace", "path": "title", "value": "x"}]),
    )
    .await
    .assert_error(404, None);
    assert_eq!(scim.get(&path).await.body, before);
    let updates = scim_events(&app)
        .await
        .into_iter()
        .filter(|e| e.0 != "scim.token_created" && e.0 != "scim.user_created")
        .count();
    assert_eq!(updates, 0);
}

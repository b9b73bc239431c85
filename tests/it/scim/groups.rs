//! Groups: create, list and filter, members added and removed in every form, replace, delete.

use serde_json::json;

use super::{scim_events, user, Scim, GROUP};
use crate::helpers::{count, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_and_their_members() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Entra ID").await;
    let ada = scim.create_user(&user("ada@example.com")).await;
    let ben = scim.create_user(&user("ben@example.com")).await;
    let cy = scim.create_user(&user("cy@example.com")).await;

    let created = scim
        .post(
            "/Groups",
            &json!({
                "schemas": [GROUP],
                "displayName": "postmark-payments-admins",
                "externalId": "grp-1",
                "members": [{"value": ada}],
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let path = format!("/Groups/{id}");
    assert_eq!(
        created.header("location"),
        Some(format!("{}/scim/v2{path}", app.url).as_str())
    );
    assert_eq!(created.body["members"][0]["value"], json!(ada));
    assert_eq!(created.body["members"][0]["display"], "ada Example");
    assert_eq!(created.body["meta"]["resourceType"], "Group");
    scim.post(
        "/Groups",
        &json!({"schemas": [GROUP], "displayName": "other"}),
    )
    .await;

    // Filters Entra and Okta use.
    for filter in [
        r#"displayName eq "POSTMARK-payments-admins""#,
        r#"externalId eq "grp-1""#,
        &format!(r#"id eq "{id}" and members[value eq "{ada}"]"#),
        &format!(r#"members.value eq "{ada}""#),
    ] {
        let list = scim.list("Groups", &[("filter", filter)]).await;
        assert_eq!(list.status, 200, "{:#}", list.body);
        assert_eq!(list.body["totalResults"], 1, "{filter}");
        assert_eq!(list.body["Resources"][0]["id"], json!(id));
    }
    let all = scim
        .list("Groups", &[("excludedAttributes", "members")])
        .await;
    assert_eq!(all.body["totalResults"], 2);
    assert!(all.body["Resources"][0].get("members").is_none());
    scim.list("Groups", &[("filter", r#"members.display eq "x""#)])
        .await
        .assert_error(400, Some("invalidFilter"));

    // Add twice (a re-delivery): one membership each.
    let add = json!([{"op": "Add", "path": "members", "value": [{"value": ben}, {"value": cy}]}]);
    let added = scim.patch(&path, add.clone()).await;
    assert_eq!(added.status, 200, "{:#}", added.body);
    assert_eq!(added.body["members"].as_array().unwrap().len(), 3);
    assert_eq!(
        scim.patch(&path, add).await.body["members"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Remove by filter, and by value list.
    let by_filter = scim
        .patch(
            &path,
            json!([{"op": "Remove", "path": format!("members[value eq \"{ada}\"]")}]),
        )
        .await;
    assert_eq!(by_filter.status, 200);
    let by_value = scim
        .patch(
            &path,
            json!([{"op": "remove", "path": "members", "value": [{"value": ben}]}]),
        )
        .await;
    let members: Vec<&str> = by_value.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, [cy.as_str()]);
    // Removing someone who is not a member again succeeds.
    assert_eq!(
        scim.patch(
            &path,
            json!([{"op": "remove", "path": "members", "value": [{"value": ben}]}])
        )
        .await
        .status,
        200
    );

    let renamed = scim
        .patch(
            &path,
            json!([{"op": "replace", "value": {"id": id, "displayName": "payments-admins"}}]),
        )
        .await;
    assert_eq!(renamed.body["displayName"], "payments-admins");
    assert_eq!(
        renamed.body["members"].as_array().unwrap().len(),
        1,
        "members stay"
    );

    // Members must be users of this provider.
    scim.patch(
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": "nobody"}]}]),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    let okta = Scim::new(&app, "Okta").await;
    let theirs = okta.create_user(&user("dee@example.com")).await;
    scim.patch(
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": theirs}]}]),
    )
    .await
    .assert_error(400, Some("invalidValue"));

    // PUT replaces name and members.
    let put = scim
        .put(
            &path,
            &json!({"schemas": [GROUP], "displayName": "payments", "members": [{"value": ada}, {"value": ben}]}),
        )
        .await;
    assert_eq!(put.status, 200);
    assert!(put.body.get("externalId").is_none());
    assert_eq!(put.body["members"].as_array().unwrap().len(), 2);

    // A deleted user leaves every group.
    scim.delete(&format!("/Users/{ben}")).await;
    assert_eq!(
        scim.get(&path).await.body["members"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    assert_eq!(scim.delete(&path).await.status, 204);
    scim.get(&path).await.assert_error(404, None);
    scim.delete(&path).await.assert_error(404, None);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM scim_group_members").await,
        0
    );

    let events = scim_events(&app).await;
    let actions: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "scim.group_members_changed")
            .count(),
        4,
        "{actions:?}"
    );
    let change = events
        .iter()
        .find(|e| e.0 == "scim.group_members_changed")
        .unwrap();
    assert_eq!(change.1, "scim:Entra ID");
    assert_eq!(change.2["provider"], "Entra ID");
    assert_eq!(change.2["displayName"], "postmark-payments-admins");
    assert_eq!(change.2["added"][0]["userName"], "ben@example.com");
    assert_eq!(change.2["removed"], json!([]));
    let renamed = events.iter().find(|e| e.0 == "scim.group_updated").unwrap();
    assert_eq!(
        renamed.2["changes"]["displayName"],
        json!({"before": "postmark-payments-admins", "after": "payments-admins"})
    );
    assert!(actions.contains(&"scim.group_created"));
    assert!(actions.contains(&"scim.group_deleted"));
    let left = events.iter().find(|e| e.0 == "scim.user_deleted").unwrap();
    assert_eq!(left.2["left_groups"][0]["displayName"], "payments");
}

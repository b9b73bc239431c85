//! `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`, and endpoints that do not exist.

use reqwest::Method;
use serde_json::json;

use super::{Scim, GROUP, USER};
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_describes_what_is_supported() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Entra ID").await;

    let config = scim.get("/ServiceProviderConfig").await;
    assert_eq!(config.status, 200);
    assert_eq!(config.header("content-type"), Some("application/scim+json"));
    let c = &config.body;
    assert_eq!(
        c["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    assert_eq!(c["patch"]["supported"], true);
    assert_eq!(c["filter"], json!({"supported": true, "maxResults": 200}));
    assert_eq!(c["bulk"]["supported"], false);
    assert_eq!(c["sort"]["supported"], false);
    assert_eq!(c["etag"]["supported"], false);
    assert_eq!(c["changePassword"]["supported"], false);
    assert_eq!(c["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert_eq!(
        c["meta"]["location"],
        json!(format!("{}/scim/v2/ServiceProviderConfig", app.url))
    );

    let types = scim.get("/ResourceTypes").await;
    assert_eq!(types.status, 200);
    assert_eq!(types.body["totalResults"], 2);
    let user = &types.body["Resources"][0];
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["schema"], USER);
    assert_eq!(
        user["schemaExtensions"],
        json!([{"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": false}])
    );
    assert_eq!(types.body["Resources"][1]["endpoint"], "/Groups");
    assert_eq!(scim.get("/ResourceTypes/Group").await.body["schema"], GROUP);
    assert_eq!(scim.get("/ResourceTypes/Nope").await.status, 404);

    let schemas = scim.get("/Schemas").await;
    assert_eq!(schemas.body["totalResults"], 3);
    let one = scim.get(&format!("/Schemas/{USER}")).await;
    assert_eq!(one.status, 200);
    let user_name = one.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "userName")
        .unwrap();
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["required"], true);
    assert_eq!(user_name["caseExact"], false);
    let emails = one.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "emails")
        .unwrap();
    assert_eq!(emails["multiValued"], true);
    assert!(emails["subAttributes"].as_array().unwrap().len() >= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_endpoints_and_methods_answer_in_scim() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Okta").await;
    scim.post("/Bulk", &json!({})).await.assert_error(501, None);
    scim.get("/Nothing/here").await.assert_error(404, None);
    scim.get("").await.assert_error(404, None);
    scim.send(Method::POST, "/ServiceProviderConfig", Some(&json!({})))
        .await
        .assert_error(405, None);
    scim.send(Method::DELETE, "/Users", None)
        .await
        .assert_error(405, None);
}

//! `GET /Users` and `/Groups` with filters and paging.

use std::collections::BTreeSet;

use serde_json::json;

use super::{ids, user, Scim, USER};
use crate::helpers::TestApp;

async fn names(scim: &Scim<'_>, filter: &str) -> Vec<String> {
    let list = scim.list("Users", &[("filter", filter)]).await;
    assert_eq!(list.status, 200, "{filter}: {:#}", list.body);
    assert_eq!(
        list.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    let mut names: Vec<String> = list.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(list.body["totalResults"], json!(names.len()), "{filter}");
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_on_user_name_emails_and_external_id() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Entra ID").await;
    let mut ada = user("ada@example.com");
    ada["externalId"] = json!("ObjA-1");
    scim.create_user(&ada).await;
    let mut alice = user("alice@example.com");
    alice["emails"] = json!([
        {"value": "alice@example.com", "type": "work", "primary": true},
        {"value": "Alice.Home@Example.ORG", "type": "home"}
    ]);
    scim.create_user(&alice).await;
    scim.create_user(&user("bob@example.org")).await;
    let mut gone = user("carl@example.com");
    gone["active"] = json!(false);
    let carl = scim.create_user(&gone).await;

    assert_eq!(
        names(&scim, r#"userName eq "ADA@example.com""#).await,
        ["ada@example.com"]
    );
    assert_eq!(
        names(&scim, r#"userName sw "a""#).await,
        ["ada@example.com", "alice@example.com"]
    );
    assert_eq!(
        names(&scim, r#"emails co "example.org""#).await,
        ["alice@example.com", "bob@example.org"]
    );
    assert_eq!(
        names(&scim, r#"emails.value eq "alice.home@example.org""#).await,
        ["alice@example.com"]
    );
    assert_eq!(
        names(&scim, r#"emails[type eq "work" and value ew ".org"]"#).await,
        ["bob@example.org"]
    );
    assert_eq!(
        names(&scim, r#"externalId eq "ObjA-1""#).await,
        ["ada@example.com"]
    );
    // externalId is case-exact.
    assert!(names(&scim, r#"externalId eq "obja-1""#).await.is_empty());
    assert!(names(&scim, r#"externalId co "bja""#).await.is_empty());
    assert_eq!(
        names(&scim, r#"externalId co "bjA""#).await,
        ["ada@example.com"]
    );
    assert_eq!(
        names(&scim, r#"userName sw "a" and not (emails co "alice")"#).await,
        ["ada@example.com"]
    );
    assert_eq!(
        names(&scim, r#"userName eq "bob@example.org" or externalId pr"#).await,
        ["ada@example.com", "bob@example.org"]
    );
    assert_eq!(names(&scim, "active eq false").await, ["carl@example.com"]);
    // Entra's "test connection" asks for a user that does not exist.
    assert!(names(&scim, r#"userName eq "3b9f-not-there""#)
        .await
        .is_empty());
    // Deleted users are not found.
    scim.delete(&format!("/Users/{carl}")).await;
    assert!(names(&scim, r#"userName eq "carl@example.com""#)
        .await
        .is_empty());

    for bad in [
        r#"title eq "x""#,
        r#"userName gt "a""#,
        r#"userName eq"#,
        r#"userName eq "a" and"#,
        r#"emails[type eq "work""#,
        "active eq \"yes\"",
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x""#,
    ] {
        scim.list("Users", &[("filter", bad)])
            .await
            .assert_error(400, Some("invalidFilter"));
    }
    scim.list("Users", &[("sortBy", "userName")])
        .await
        .assert_error(400, Some("invalidValue"));
    scim.list("Users", &[("count", "many")])
        .await
        .assert_error(400, Some("invalidValue"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_cover_every_user_once() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app, "Okta").await;
    let mut created = BTreeSet::new();
    for i in 0..25 {
        // Same creation time for several users: the order must still be stable.
        if i % 3 == 0 {
            app.clock.advance(time::Duration::seconds(1));
        }
        created.insert(
            scim.create_user(&user(&format!("user{i:02}@example.com")))
                .await,
        );
    }

    let mut seen = Vec::new();
    for (start, expected) in [("1", 10), ("11", 10), ("21", 5)] {
        let page = scim
            .list("Users", &[("startIndex", start), ("count", "10")])
            .await;
        assert_eq!(page.status, 200);
        assert_eq!(page.body["totalResults"], 25);
        assert_eq!(page.body["itemsPerPage"], expected);
        assert_eq!(
            page.body["startIndex"],
            json!(start.parse::<i64>().unwrap())
        );
        seen.extend(ids(&page.body));
    }
    assert_eq!(seen.len(), 25, "no duplicates across pages");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), created);

    let past = scim
        .list("Users", &[("startIndex", "26"), ("count", "10")])
        .await;
    assert_eq!(past.body["totalResults"], 25);
    assert_eq!(past.body["itemsPerPage"], 0);
    assert_eq!(past.body["Resources"], json!([]));

    let only_total = scim.list("Users", &[("count", "0")]).await;
    assert_eq!(only_total.body["totalResults"], 25);
    assert_eq!(only_total.body["itemsPerPage"], 0);

    let from_zero = scim
        .list("Users", &[("startIndex", "0"), ("count", "2")])
        .await;
    assert_eq!(from_zero.body["startIndex"], 1);
    assert_eq!(ids(&from_zero.body), seen[..2]);

    // Filter and paging together.
    let page = scim
        .list(
            "Users",
            &[
                ("filter", r#"userName sw "user1""#),
                ("startIndex", "6"),
                ("count", "4"),
            ],
        )
        .await;
    assert_eq!(page.body["totalResults"], 10);
    assert_eq!(page.body["itemsPerPage"], 4);

    // attributes / excludedAttributes narrow what comes back.
    let narrow = scim
        .list("Users", &[("count", "1"), ("attributes", "userName")])
        .await;
    let first = &narrow.body["Resources"][0];
    let mut keys: Vec<String> = first.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["id", "schemas", "userName"]);
    let got = scim
        .get(&format!(
            "/Users/{}?excludedAttributes=emails,name",
            seen[0]
        ))
        .await;
    assert!(got.body.get("emails").is_none() && got.body.get("name").is_none());
    assert_eq!(got.body["schemas"], json!([USER]));
}

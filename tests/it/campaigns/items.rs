//! The dashboard's item list over HTTP: paged and filtered on the server (reviewer, kind,
//! decision, flag), with the list's inputs capped as every list's are.

use serde_json::{json, Value};

use super::{call, count, create, form, launch, send, setup, MANNY_EMAIL, RITA_EMAIL};
use crate::auth::{signed_in, Browser, AUBREY, RITA};

/// The [`super::USERS`] people and sixty more, each a Server Viewer on server 3: enough items
/// for three pages.
fn many_users() -> String {
    let mut csv = super::USERS.to_string();
    for n in 0..60 {
        csv.push_str(&format!(
            "user{n:02}@example.com,User {n:02},Server Access,active,,3,Server Viewer\n"
        ));
    }
    csv
}

/// A launched campaign over the bigger inventory; answers its id and how many items it has.
async fn launched_big(ada: &Browser, app: &crate::helpers::TestApp) -> (i64, i64) {
    let imported = call(
        ada,
        "/api/inventory_import_users",
        &json!({ "file_name": "users.csv", "csv": many_users() }),
    )
    .await;
    assert!(imported.get("Imported").is_some(), "{imported}");
    let id = create(ada, &form("Big review", &[])).await;
    assert_eq!(launch(ada, id).await.status(), 200);
    let total = count(
        app,
        &format!("SELECT COUNT(*) FROM review_items WHERE campaign_id = {id}"),
    )
    .await;
    (id, total)
}

async fn list(browser: &Browser, query: Value) -> Value {
    call(browser, "/api/campaign_items", &json!({ "query": query })).await
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_item_list_is_paged_in_item_order() {
    let (app, ada) = setup().await;
    let (id, total) = launched_big(&ada, &app).await;
    assert!(total > 100, "{total} items");
    let first = list(&ada, json!({ "campaign": id })).await;
    assert_eq!(first["matching"], total);
    assert_eq!(first["page"], 1);
    assert_eq!(first["pages"], (total + 49) / 50);
    assert_eq!(ids(&first).len(), 50);
    let second = list(&ada, json!({ "campaign": id, "page": 2 })).await;
    assert_eq!(second["page"], 2);
    let (a, b) = (ids(&first), ids(&second));
    assert_eq!(b.len(), 50);
    assert!(a.windows(2).all(|w| w[0] < w[1]) && a.last() < b.first());
    // Past the end: the last page.
    let last = list(&ada, json!({ "campaign": id, "page": 99 })).await;
    assert_eq!(last["page"], first["pages"]);
    assert_eq!(ids(&last).len() as i64, total - 50 * (total / 50));
    // Auditors read it; reviewers do not; an unknown campaign is not found.
    let aubrey = signed_in(&app, AUBREY).await;
    assert_eq!(
        list(&aubrey, json!({ "campaign": id }))
            .await
            .get("matching"),
        Some(&json!(total))
    );
    let rita = signed_in(&app, RITA).await;
    let refused = send(
        &rita,
        "/api/campaign_items",
        &json!({ "query": { "campaign": id } }),
    )
    .await;
    assert_eq!(refused.status(), 403);
    let missing = send(
        &ada,
        "/api/campaign_items",
        &json!({ "query": { "campaign": id + 100 } }),
    )
    .await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_filter_narrows_the_list_in_sql() {
    let (app, ada) = setup().await;
    let (id, total) = launched_big(&ada, &app).await;
    let where_ = |condition: &str| {
        format!("SELECT COUNT(*) FROM review_items WHERE campaign_id = {id} AND {condition}")
    };

    // Reviewer, any case.
    let rita_items = count(&app, &where_(&format!("reviewer_email = '{RITA_EMAIL}'"))).await;
    assert!(rita_items > 0);
    let page = list(
        &ada,
        json!({ "campaign": id, "reviewer": "Rita.Reviewer@example.com" }),
    )
    .await;
    assert_eq!(page["matching"], rita_items);
    assert!(page["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["reviewer"] == RITA_EMAIL));

    // Kind.
    let page = list(&ada, json!({ "campaign": id, "kind": "server" })).await;
    assert_eq!(page["matching"], 3);

    // Decision: Rita approves one item and revokes another.
    let rita = signed_in(&app, RITA).await;
    let mine: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, version FROM review_items WHERE campaign_id = $1 AND reviewer_email = $2 \
         ORDER BY id",
    )
    .bind(id)
    .bind(RITA_EMAIL)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    for ((item, version), decision) in mine.iter().zip(["approve", "revoke"]) {
        let response = send(
            &rita,
            "/api/reviews_decide",
            &json!({ "item_id": item, "decision": decision, "justification": "checked", "version": version }),
        )
        .await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }
    for (decision, expected) in [("undecided", total - 2), ("approve", 1), ("revoke", 1)] {
        let page = list(&ada, json!({ "campaign": id, "decision": decision })).await;
        assert_eq!(page["matching"], expected, "{decision}");
    }
    let page = list(&ada, json!({ "campaign": id, "decision": "revoke" })).await;
    assert_eq!(page["items"][0]["id"], mine[1].0);

    // Flag: any, and one flag by its slug (flags are stored as a JSON array of slugs).
    let flagged = count(&app, &where_("flags <> '[]'")).await;
    let page = list(&ada, json!({ "campaign": id, "flag": "any" })).await;
    assert_eq!(page["matching"], flagged);
    let (flags,): (String,) = sqlx::query_as(
        "SELECT flags FROM review_items WHERE campaign_id = $1 AND flags <> '[]' ORDER BY id",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let slug = serde_json::from_str::<Vec<String>>(&flags).unwrap()[0].clone();
    let with_slug = count(&app, &where_(&format!("flags LIKE '%\"{slug}\"%'"))).await;
    let page = list(&ada, json!({ "campaign": id, "flag": slug })).await;
    assert_eq!(page["matching"], with_slug);
    assert!(with_slug >= 1);

    // Filters combine.
    let page = list(
        &ada,
        json!({ "campaign": id, "reviewer": MANNY_EMAIL, "kind": "server", "decision": "undecided" }),
    )
    .await;
    let expected = count(
        &app,
        &where_(&format!(
            "reviewer_email = '{MANNY_EMAIL}' AND kind = 'server' AND decision IS NULL"
        )),
    )
    .await;
    assert_eq!(page["matching"], expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_too_long_filter_is_refused_by_name() {
    let (_app, ada) = setup().await;
    let id = create(&ada, &form("Q4", &[])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    for (field, label) in [
        ("reviewer", "Reviewer"),
        ("flag", "Flag"),
        ("decision", "Decision"),
    ] {
        let response = send(
            &ada,
            "/api/campaign_items",
            &json!({ "query": { "campaign": id, field: "x".repeat(201) } }),
        )
        .await;
        assert_eq!(response.status(), 422);
        let text = response.text().await.unwrap();
        assert!(
            text.contains(&format!("{label} is too long: at most 200 characters")),
            "{text}"
        );
    }
    let ok = list(&ada, json!({ "campaign": id, "reviewer": "x".repeat(200) })).await;
    assert_eq!(ok["matching"], 0);
}

//! The review queue filters, sorts and pages in the database: every filter gives exactly the
//! items the unfiltered queue holds that match it, in the same order, pages never overlap or
//! skip, and `%` or `_` in a search mean themselves.

use postmark_access_review::{db::Backend, postmark::ServerInfo};
use serde_json::{json, Value};

use crate::{
    auth::{signed_in, Browser, ADA, RITA},
    campaigns::{call, create, form, launch, RITA_EMAIL},
    helpers::{backend_under_test, TestApp},
};

/// Users managed by Rita: each brings three items (role, two permissions), over 100 in all.
const USERS: usize = 45;

fn users_csv() -> String {
    let mut csv = String::from("email,name,role,status,invited_at,server_id,permission\n");
    for n in 0..USERS {
        // Mixed case, so sorting and search must ignore it.
        let name = if n % 2 == 0 { "Zed" } else { "adam" };
        let status = if n % 5 == 0 {
            "pending,2026-01-02"
        } else {
            "active,"
        };
        for (server, permission) in [(1, "Server Viewer"), (2 + n % 2, "Server Admin")] {
            csv.push_str(&format!(
                "user{n:02}@example.com,{name} {n:02},Server Access,{status},{server},{permission}\n"
            ));
        }
    }
    csv
}

fn managers_csv() -> String {
    let mut csv = String::from("user_email,manager_email\n");
    for n in 0..USERS {
        csv.push_str(&format!("user{n:02}@example.com,{RITA_EMAIL}\n"));
    }
    csv
}

async fn setup() -> (TestApp, Browser) {
    let app = TestApp::spawn().await;
    // `pay_ments` and `paysments`: a search for `pay_m` must find only the first.
    for (id, name) in [(1, "Alpha"), (2, "pay_ments"), (3, "paysments")] {
        app.simulator
            .add_server(ServerInfo::sample(id, name, &[&format!("tok-{id}")]));
    }
    let ada = signed_in(&app, ADA).await;
    assert_eq!(ada.post("/api/inventory_sync_now", &[]).await.status(), 200);
    let imported = call(
        &ada,
        "/api/inventory_import_users",
        &json!({ "file_name": "users.csv", "csv": users_csv() }),
    )
    .await;
    assert!(imported.get("Imported").is_some(), "{imported}");
    let mapping = call(
        &ada,
        "/api/managers_import",
        &json!({ "file_name": "managers.csv", "csv": managers_csv() }),
    )
    .await;
    assert!(mapping.get("Imported").is_some(), "{mapping}");
    let id = create(&ada, &form("Filters", &[])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    (app, ada)
}

/// Every item of the queue for `query`, page by page, with its group heading.
async fn all_pages(rita: &Browser, query: Value) -> Vec<(String, Value)> {
    let mut items = Vec::new();
    let mut page = 1;
    loop {
        let mut query = query.clone();
        query["page"] = json!(page);
        let queue = call(rita, "/api/reviews_queue", &json!({ "query": query })).await;
        for group in queue["groups"].as_array().unwrap() {
            for item in group[1].as_array().unwrap() {
                items.push((group[0].as_str().unwrap().to_string(), item.clone()));
            }
        }
        let pages = queue["pages"].as_u64().unwrap();
        assert_eq!(queue["page"], page, "{query}");
        if page >= pages {
            assert_eq!(queue["matching"].as_u64().unwrap() as usize, items.len());
            return items;
        }
        page += 1;
    }
}

fn kind_rank(item: &Value) -> usize {
    ["AccountRole", "ServerPermission", "Server"]
        .iter()
        .position(|k| item["kind"] == *k)
        .unwrap()
}

fn ids(items: &[(String, Value)]) -> Vec<i64> {
    items
        .iter()
        .map(|(_, i)| i["id"].as_i64().unwrap())
        .collect()
}

fn text(item: &Value, field: &str) -> String {
    item[field].as_str().unwrap_or_default().to_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_sorting_and_paging_agree_with_the_whole_queue() {
    let (app, _ada) = setup().await;
    if backend_under_test() == Backend::Postgres {
        // The launch refreshed the planner statistics of what a queue reads (reviewers open
        // their queues before autovacuum would).
        let (analyzed,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL \
             AND relname IN ('campaigns', 'review_items', 'postmark_users', \
             'user_permissions', 'servers', 'server_owners')",
        )
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        assert_eq!(analyzed, 6, "tables analyzed after the launch");
    }
    let rita = signed_in(&app, RITA).await;
    let everything = all_pages(&rita, json!({})).await;
    let (in_db,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM review_items WHERE reviewer_email = 'rita.reviewer@example.com'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(everything.len() > 100, "only {} items", everything.len());
    assert_eq!(everything.len() as i64, in_db);
    let mut seen = ids(&everything);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), everything.len(), "an item on two pages");

    // Sorted by person (any case), then kind, server and id.
    let key = |(heading, item): &(String, Value)| {
        (
            heading.to_lowercase(),
            kind_rank(item),
            item["server_id"].as_i64().unwrap_or(-1),
            item["id"].as_i64().unwrap(),
        )
    };
    let mut sorted = everything.clone();
    sorted.sort_by_key(key);
    assert_eq!(ids(&sorted), ids(&everything));
    assert!(everything[0].0.starts_with("adam"), "{}", everything[0].0);

    // Each filter: exactly the matching items of the whole queue, in the same order.
    let matches = |query: &Value, item: &Value| -> bool {
        let needle = query["search"].as_str().map(str::to_lowercase);
        (query["kind"].is_null()
            || (query["kind"] == "server_permission" && item["kind"] == "ServerPermission"))
            && (query["flag"].is_null() || !item["flags"].as_array().unwrap().is_empty())
            && needle.is_none_or(|n| {
                ["user_email", "user_name", "server_name", "access"]
                    .iter()
                    .any(|f| text(item, f).contains(&n))
                    || item["server_id"].as_i64().map(|id| id.to_string()) == Some(n)
            })
    };
    for query in [
        json!({ "kind": "server_permission" }),
        json!({ "flag": "any" }),
        json!({ "search": "ADAM 1" }),
        json!({ "search": "3" }),
        json!({ "search": "pay_m" }),
        json!({ "search": "user0%" }),
        json!({ "kind": "server_permission", "search": "user0" }),
    ] {
        let expected: Vec<i64> = ids(&everything
            .iter()
            .filter(|(_, item)| matches(&query, item))
            .cloned()
            .collect::<Vec<_>>());
        let got = ids(&all_pages(&rita, query.clone()).await);
        assert_eq!(got, expected, "{query}");
    }
    let literal = all_pages(&rita, json!({ "search": "pay_m" })).await;
    assert!(!literal.is_empty());
    assert!(literal.iter().all(|(_, i)| i["server_name"] == "pay_ments"));

    // Decided and undecided split the queue.
    let first = &everything[0].1;
    let decided = rita
        .post(
            "/api/reviews_decide",
            &[
                ("item_id", first["id"].to_string().as_str()),
                ("decision", "approve"),
                ("justification", ""),
                ("version", first["version"].to_string().as_str()),
            ],
        )
        .await;
    assert_eq!(decided.status(), 200);
    let done = all_pages(&rita, json!({ "status": "decided" })).await;
    assert_eq!(ids(&done), vec![first["id"].as_i64().unwrap()]);
    let open = all_pages(&rita, json!({ "status": "undecided" })).await;
    assert_eq!(open.len(), everything.len() - 1);

    // Grouped by server: headings in order, the account-wide items under their own.
    let by_server = all_pages(&rita, json!({ "group": "server" })).await;
    assert_eq!(by_server.len(), everything.len());
    let headings: Vec<String> = by_server.iter().map(|(h, _)| h.to_lowercase()).collect();
    let mut in_order = headings.clone();
    in_order.sort();
    assert_eq!(headings, in_order);
    assert!(headings.contains(&"account-wide".to_string()));
    assert!(headings.contains(&"pay_ments (2)".to_string()));
}

/// A page of the queue is read in order from the reviewer's index and stops after its rows:
/// the engine never sorts all of a reviewer's items (8 ms of PostgreSQL's time for a queue of
/// 5,000). If the `ORDER BY` and the index's expressions drift apart, the plan sorts again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_page_is_read_in_order_from_the_reviewers_index() {
    use postmark_access_review::reviews::{
        db::{open_campaigns_select, page_select},
        QueueQuery,
    };
    let app = TestApp::spawn().await;
    for (group, index) in [
        (None, "review_items_queue_by_person"),
        (Some("server"), "review_items_queue_by_server"),
    ] {
        for query in [
            QueueQuery::default(),
            QueueQuery {
                status: Some("undecided".into()),
                search: Some("pay_m".into()),
                ..Default::default()
            },
        ] {
            let query = QueueQuery {
                group: group.map(str::to_string),
                ..query
            };
            // The first page reads forward, the last backward.
            for page in [1, 50] {
                let plan = page_select(&app.db, RITA_EMAIL, &query, page, 5_000)
                    .plan(&app.db)
                    .await
                    .unwrap();
                assert!(plan.contains(index), "{query:?} page {page}:\n{plan}");
                assert!(
                    !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
                    "{query:?} page {page} sorts:\n{plan}"
                );
            }
        }
    }

    // The counts per campaign read the index alone on SQLite. (PostgreSQL reads the table
    // too until a vacuum marks its pages all-visible.)
    let plan = open_campaigns_select(&app.db, RITA_EMAIL)
        .plan(&app.db)
        .await
        .unwrap();
    assert!(plan.contains("review_items_reviewer"), "{plan}");
    if backend_under_test() == Backend::Sqlite {
        assert!(
            plan.contains("COVERING INDEX review_items_reviewer"),
            "{plan}"
        );
    }
}

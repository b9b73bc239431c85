//! The Servers and Users lists filter, sort and page in the database: for every filter and
//! sort, the pages together are exactly the matching rows of the whole list in that order,
//! and `_` or `%` in a search mean themselves.

use postmark_access_review::postmark::ServerInfo;
use serde_json::{json, Value};

use crate::{
    auth::{signed_in, Browser, ADA},
    helpers::TestApp,
};

const SERVERS: i64 = 120;

/// Every row of the list for `query`, page by page.
async fn all_pages(browser: &Browser, endpoint: &str, rows: &str, query: Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let mut query = query.clone();
        query["page"] = json!(page);
        let response = if endpoint == "/api/inventory_servers" {
            browser
                .post_json(endpoint, &json!({ "query": query }))
                .await
        } else {
            // The users list takes a form of flat fields, as its page sends it.
            let fields: Vec<(String, String)> = query
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), String::from),
                    )
                })
                .collect();
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            browser.post(endpoint, &fields).await
        };
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        out.extend(body[rows].as_array().unwrap().iter().cloned());
        if page >= body["pages"].as_u64().unwrap() {
            assert_eq!(
                body["matching"].as_u64().unwrap() as usize,
                out.len(),
                "{query}"
            );
            return out;
        }
        page += 1;
    }
}

fn has_flag(row: &Value, flag: &str) -> bool {
    row["flags"].as_array().unwrap().iter().any(|f| f == flag)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_filters_and_sorts_agree_with_the_whole_list() {
    let app = TestApp::spawn().await;
    for id in 1..=SERVERS {
        let name = if id % 2 == 0 {
            format!("Beta_{id:03}")
        } else {
            format!("alpha-{id:03}")
        };
        let mut server = ServerInfo::sample(id, &name, &[&format!("tok-{id}")]);
        if id % 3 == 0 {
            // Not on the test app's allowlist (hooks.example.com).
            server.bounce_hook_url = Some("https://elsewhere.example.net/b".into());
        } else if id % 3 == 1 {
            server.bounce_hook_url = Some("https://hooks.example.com/b".into());
        }
        app.simulator.add_server(server);
        app.simulator
            .set_sent(id, if id % 4 == 0 { 0 } else { id * 7 % 50 });
    }
    let ada = signed_in(&app, ADA).await;
    assert_eq!(ada.post("/api/inventory_sync_now", &[]).await.status(), 200);
    let all = |query: Value| {
        let ada = &ada;
        async move { all_pages(ada, "/api/inventory_servers", "servers", query).await }
    };
    let everything = all(json!({ "sort": "id" })).await;
    assert_eq!(everything.len() as i64, SERVERS);
    let id = |row: &Value| row["postmark_id"].as_i64().unwrap();

    for sort in ["name", "id", "sent", "tokens"] {
        for (flag, label) in [
            (None, None),
            (Some("webhook-host"), Some("UnexpectedWebhookHost")),
            (Some("no-sends"), Some("NoRecentSends")),
        ] {
            for search in [None, Some("A_0"), Some("1")] {
                let mut expected: Vec<&Value> = everything
                    .iter()
                    .filter(|row| label.is_none_or(|l| has_flag(row, l)))
                    .filter(|row| {
                        search.is_none_or(|s| {
                            row["name"]
                                .as_str()
                                .unwrap()
                                .to_lowercase()
                                .contains(&s.to_lowercase())
                                || id(row).to_string().contains(s)
                        })
                    })
                    .collect();
                match sort {
                    "id" => expected.sort_by_key(|r| id(r)),
                    "sent" => {
                        expected.sort_by_key(|r| (r["sent_30d"].as_i64().unwrap_or(-1), id(r)))
                    }
                    "tokens" => {
                        expected.sort_by_key(|r| (-r["token_count"].as_i64().unwrap(), id(r)))
                    }
                    _ => expected
                        .sort_by_key(|r| (r["name"].as_str().unwrap().to_lowercase(), id(r))),
                }
                let mut query = json!({ "sort": sort });
                if let Some(flag) = flag {
                    query["flag"] = json!(flag);
                }
                if let Some(search) = search {
                    query["search"] = json!(search);
                }
                let got: Vec<i64> = all(query.clone()).await.iter().map(id).collect();
                let expected: Vec<i64> = expected.into_iter().map(id).collect();
                assert_eq!(got, expected, "{query}");
            }
        }
    }
    // `_` is a literal: only Beta_002 to Beta_098, never alpha-0….
    let literal = all(json!({ "search": "a_0" })).await;
    assert_eq!(literal.len(), 49);
    assert!(literal
        .iter()
        .all(|r| r["name"].as_str().unwrap().starts_with("Beta_")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_filters_and_sorts_agree_with_the_whole_list() {
    let app = TestApp::spawn().await;
    for id in 1..=12 {
        app.simulator.add_server(ServerInfo::sample(
            id,
            &format!("s{id}"),
            &[&format!("t{id}")],
        ));
    }
    let ada = signed_in(&app, ADA).await;
    assert_eq!(ada.post("/api/inventory_sync_now", &[]).await.status(), 200);
    let mut csv = String::from("email,name,role,status,invited_at,server_id,permission\n");
    for n in 0..110 {
        let email = if n % 2 == 0 {
            format!("first_{n:03}@example.com")
        } else {
            format!("firsts{n:03}@example.com")
        };
        let name = if n % 3 == 0 { "Zoë" } else { "adam" };
        let role = if n % 10 == 0 {
            "Account Admin"
        } else {
            "Server Access"
        };
        let status = match n % 4 {
            0 => "pending,2020-01-01",
            1 => "pending,",
            _ => "active,",
        };
        // Between one and twelve servers each: some have many.
        for server in 1..=(n % 12 + 1) {
            csv.push_str(&format!(
                "{email},{name} {n:03},{role},{status},{server},Server Viewer\n"
            ));
        }
    }
    let imported = ada
        .post_json(
            "/api/inventory_import_users",
            &json!({ "file_name": "users.csv", "csv": csv }),
        )
        .await;
    assert_eq!(imported.status(), 200, "{}", imported.text().await.unwrap());
    let all = |query: Value| {
        let ada = &ada;
        async move { all_pages(ada, "/api/inventory_users", "users", query).await }
    };
    let everything = all(json!({})).await;
    assert_eq!(everything.len(), 110);
    let email = |row: &Value| row["email"].as_str().unwrap().to_string();
    let servers = |row: &Value| row["permissions"].as_array().unwrap().len() as i64;

    for sort in ["email", "name", "servers"] {
        for (flag, label) in [
            (None, None),
            (Some("account-admin"), Some("AccountAdmin")),
            (Some("stale-invitation"), Some("StalePendingInvitation")),
            (Some("many-servers"), Some("ManyServers")),
        ] {
            for (status, search) in [(None, None), (Some("pending"), None), (None, Some("ST_0"))] {
                let mut expected: Vec<&Value> = everything
                    .iter()
                    .filter(|row| label.is_none_or(|l| has_flag(row, l)))
                    .filter(|row| status.is_none_or(|s| row["status"] == s))
                    .filter(|row| {
                        search.is_none_or(|s| {
                            let s = s.to_lowercase();
                            email(row).contains(&s)
                                || row["name"].as_str().unwrap().to_lowercase().contains(&s)
                        })
                    })
                    .collect();
                match sort {
                    "name" => expected
                        .sort_by_key(|r| (r["name"].as_str().unwrap().to_lowercase(), email(r))),
                    "servers" => expected.sort_by_key(|r| (-servers(r), email(r))),
                    _ => expected.sort_by_key(|r| email(r)),
                }
                let mut query = json!({ "sort": sort });
                for (key, value) in [("flag", flag), ("status", status), ("search", search)] {
                    if let Some(value) = value {
                        query[key] = json!(value);
                    }
                }
                let got: Vec<String> = all(query.clone()).await.iter().map(email).collect();
                let expected: Vec<String> = expected.into_iter().map(email).collect();
                assert_eq!(got, expected, "{query}");
            }
        }
    }
    let literal = all(json!({ "search": "t_0" })).await;
    assert_eq!(literal.len(), 50, "first_000 to first_098");
}

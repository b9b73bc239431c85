//! The review queue over HTTP: who may read and decide what, conflicts, bulk decisions, undo,
//! handing items on, and decisions after close.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    auth::{signed_in, Browser, AUBREY, RITA},
    campaigns::{call, count, launched, send, MANNY_EMAIL, RITA_EMAIL},
};

const MANNY: usize = 3;

/// Every item in a reviewer's queue: `(id, version, subject, what)`. The query is empty, as
/// the browser sends it when no filter is set.
async fn queue_items(browser: &Browser) -> Vec<Value> {
    let queue = call(browser, "/api/reviews_queue", &json!({ "query": {} })).await;
    queue["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g[1].as_array().unwrap().clone())
        .collect()
}

fn id(item: &Value) -> i64 {
    item["id"].as_i64().unwrap()
}

async fn decide(browser: &Browser, item: &Value, decision: &str, why: &str) -> reqwest::Response {
    send(
        browser,
        "/api/reviews_decide",
        &json!({
            "item_id": id(item),
            "decision": decision,
            "justification": why,
            "version": item["version"],
        }),
    )
    .await
}

async fn bulk(browser: &Browser, ids: Vec<i64>, decision: &str, why: &str) -> reqwest::Response {
    browser
        .post_json(
            "/api/reviews_decide_many",
            &json!({ "item_ids": ids, "decision": decision, "justification": why }),
        )
        .await
}

async fn reassign(browser: &Browser, item: &Value, to: &str) -> StatusCode {
    browser
        .post(
            "/api/reviews_reassign",
            &[
                ("item_id", id(item).to_string().as_str()),
                ("to", to),
                ("reason", "on leave"),
            ],
        )
        .await
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewers_see_only_their_own_items() {
    let (app, _ada, _) = launched().await;
    let rita = signed_in(&app, RITA).await;
    let items = queue_items(&rita).await;
    assert_eq!(items.len(), 6);
    assert!(items.iter().all(|i| i["reviewer"] == RITA_EMAIL));
    let subjects: Vec<&str> = items
        .iter()
        .map(|i| i["user_email"].as_str().unwrap_or(""))
        .collect();
    assert!(
        !subjects.contains(&RITA_EMAIL),
        "Rita reviews her own access: {subjects:?}"
    );
    let manny = signed_in(&app, MANNY).await;
    let items = queue_items(&manny).await;
    assert_eq!(items.len(), 6);
    // Rita's permission on the server she owns went to the fallback reviewer.
    let rerouted: Vec<&Value> = items
        .iter()
        .filter(|i| i["user_email"] == RITA_EMAIL && i["kind"] == "ServerPermission")
        .collect();
    assert_eq!(rerouted.len(), 1);
    assert_eq!(rerouted[0]["assigned_via"], "self_review");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    let (app, ada, campaign) = launched().await;
    let rita = signed_in(&app, RITA).await;
    let manny = signed_in(&app, MANNY).await;
    let aubrey = signed_in(&app, AUBREY).await;
    let anonymous = Browser::new(&app);
    let ritas = queue_items(&rita).await;
    let own = ritas[0].clone();
    let second = ritas[1].clone();

    // Reads for admins and auditors only.
    let reads: [(&str, Value); 5] = [
        ("/api/campaigns_list", json!({})),
        ("/api/campaign_get", json!({ "id": campaign })),
        ("/api/campaign_preview", json!({ "id": campaign })),
        ("/api/campaign_dashboard", json!({ "id": campaign })),
        ("/api/managers_list", json!({})),
    ];
    for (path, body) in &reads {
        for (who, browser, expected) in [
            ("anonymous", &anonymous, 401),
            ("reviewer", &rita, 403),
            ("other reviewer", &manny, 403),
            ("auditor", &aubrey, 200),
            ("admin", &ada, 200),
        ] {
            let status = send(browser, path, body).await.status();
            assert_eq!(status, expected, "{who} → {path}");
        }
    }
    // Campaign writes: admins only (each refused call must change nothing, so the same body
    // serves everyone; the admin's is tried last).
    let form: Vec<(String, String)> = crate::campaigns::form("Matrix", &[]);
    for (who, browser, expected) in [
        ("anonymous", &anonymous, 401),
        ("reviewer", &rita, 403),
        ("other reviewer", &manny, 403),
        ("auditor", &aubrey, 403),
    ] {
        let status = crate::campaigns::post_form(browser, "/api/campaign_create", &[], &form)
            .await
            .status();
        assert_eq!(status, expected, "{who} → create");
        let status = crate::campaigns::post_form(
            browser,
            "/api/campaign_update",
            &[("id", &campaign.to_string())],
            &form,
        )
        .await
        .status();
        assert_eq!(status, expected, "{who} → update");
        for path in ["/api/campaign_launch", "/api/campaign_close"] {
            let status = browser
                .post(path, &[("id", &campaign.to_string())])
                .await
                .status();
            assert_eq!(status, expected, "{who} → {path}");
        }
        let status = browser
            .post_json(
                "/api/managers_import",
                &json!({ "file_name": "m.csv", "csv": "user_email,manager_email\na@x.io,b@x.io\n" }),
            )
            .await
            .status();
        assert_eq!(status, expected, "{who} → managers_import");
        let status = browser.post("/api/campaign_defaults", &[]).await.status();
        assert_eq!(status, expected, "{who} → campaign_defaults");
        let status = browser
            .post(
                "/api/campaign_resolve_flag",
                &[
                    ("item_id", id(&own).to_string().as_str()),
                    ("decision", "revoke"),
                    ("justification", "x"),
                ],
            )
            .await
            .status();
        assert_eq!(status, expected, "{who} → campaign_resolve_flag");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM campaigns").await, 1);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM manager_mappings").await,
        3
    );
    assert_eq!(ada.post("/api/campaign_defaults", &[]).await.status(), 200);

    // The queue: everyone signed in reads their own.
    assert_eq!(
        send(
            &anonymous,
            "/api/reviews_queue",
            &json!({ "query": { "page": 1 } })
        )
        .await
        .status(),
        401
    );
    assert!(queue_items(&aubrey).await.is_empty());
    assert!(queue_items(&ada).await.is_empty());

    // Decisions on Rita's item: only Rita.
    for (who, browser, expected) in [
        ("anonymous", &anonymous, 401),
        ("other reviewer", &manny, 403),
        ("auditor", &aubrey, 403),
        ("admin", &ada, 403),
    ] {
        assert_eq!(
            decide(browser, &own, "approve", "ok").await.status(),
            expected,
            "{who} → decide"
        );
        let status = browser
            .post_json(
                "/api/reviews_decide_many",
                &json!({ "item_ids": [id(&own)], "decision": "approve", "justification": "ok" }),
            )
            .await
            .status();
        assert_eq!(status, expected, "{who} → decide_many");
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM review_items WHERE decision IS NOT NULL"
        )
        .await,
        0
    );
    assert_eq!(decide(&rita, &own, "approve", "").await.status(), 200);
    let own = queue_items(&rita)
        .await
        .into_iter()
        .find(|i| id(i) == id(&own))
        .unwrap();
    for (who, browser, expected) in [
        ("anonymous", &anonymous, 401),
        ("other reviewer", &manny, 403),
        ("auditor", &aubrey, 403),
        ("admin", &ada, 403),
    ] {
        let status = browser
            .post(
                "/api/reviews_undo",
                &[
                    ("item_id", &id(&own).to_string()),
                    ("version", &own["version"].to_string()),
                ],
            )
            .await
            .status();
        assert_eq!(status, expected, "{who} → undo");
    }
    let status = rita
        .post(
            "/api/reviews_undo",
            &[
                ("item_id", &id(&own).to_string()),
                ("version", &own["version"].to_string()),
            ],
        )
        .await
        .status();
    assert_eq!(status, 200);

    // Handing on: the item's reviewer or an admin.
    for (who, browser, expected) in [
        ("anonymous", &anonymous, 401),
        ("other reviewer", &manny, 403),
        ("auditor", &aubrey, 403),
    ] {
        assert_eq!(
            reassign(browser, &second, MANNY_EMAIL).await,
            expected,
            "{who} → reassign"
        );
    }
    assert_eq!(reassign(&rita, &second, MANNY_EMAIL).await, 200);
    // Now Manny's: the admin moves it back.
    assert_eq!(reassign(&ada, &second, RITA_EMAIL).await, 200);
    for (who, browser, expected) in [
        ("anonymous", &anonymous, 401),
        ("other reviewer", &manny, 403),
        ("auditor", &aubrey, 403),
    ] {
        let status = browser
            .post(
                "/api/reviews_delegate",
                &[
                    ("campaign_id", campaign.to_string().as_str()),
                    ("from", RITA_EMAIL),
                    ("to", "dan@example.com"),
                    ("reason", "holiday"),
                ],
            )
            .await
            .status();
        assert_eq!(status, expected, "{who} → delegate");
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM review_items WHERE reviewer_email = 'rita.reviewer@example.com'"
        )
        .await,
        6
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_decisions_record_one_and_explain_the_conflict() {
    let (app, _ada, _) = launched().await;
    let first = signed_in(&app, RITA).await;
    let second = signed_in(&app, RITA).await;
    let item = queue_items(&first).await[0].clone();
    let (a, b) = tokio::join!(
        decide(&first, &item, "approve", "still needed"),
        decide(&second, &item, "revoke", "left the team"),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let winner = if a.status() == StatusCode::OK {
        "approve"
    } else {
        "revoke"
    };
    let loser = if a.status() == StatusCode::CONFLICT {
        a
    } else {
        b
    };
    let message = loser.text().await.unwrap();
    assert!(
        message.contains("changed while you were looking at it")
            && message.contains("not recorded"),
        "{message}"
    );
    let decided = count(
        &app,
        &format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'review.decided' AND subject = 'item:{}'",
            id(&item)
        ),
    )
    .await;
    assert_eq!(decided, 1);
    let (stored,): (String,) = sqlx::query_as("SELECT decision FROM review_items WHERE id = $1")
        .bind(id(&item))
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, winner);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_needs_a_justification_and_bulk_is_all_or_nothing() {
    let (app, _ada, _) = launched().await;
    let rita = signed_in(&app, RITA).await;
    let items = queue_items(&rita).await;
    let response = decide(&rita, &items[0], "revoke", "  ").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("justification"));

    assert_eq!(decide(&rita, &items[0], "approve", "").await.status(), 200);
    // One of the selection is already decided: nothing is recorded.
    let ids: Vec<i64> = items.iter().map(id).collect();
    let response = bulk(&rita, ids.clone(), "revoke", "team left").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM review_items WHERE decision = 'revoke'"
        )
        .await,
        0
    );
    let response = bulk(&rita, ids[1..].to_vec(), "revoke", "").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = bulk(&rita, ids[1..].to_vec(), "revoke", "team left").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "5");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM review_items WHERE decision = 'revoke' AND decided_by = 'rita.reviewer@example.com'").await,
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_reassign_and_delegate_while_open() {
    let (app, ada, campaign) = launched().await;
    let rita = signed_in(&app, RITA).await;
    let items = queue_items(&rita).await;
    assert_eq!(decide(&rita, &items[0], "approve", "").await.status(), 200);
    // Undo with a stale version is a conflict; with the current one it works.
    let stale = rita
        .post(
            "/api/reviews_undo",
            &[("item_id", &id(&items[0]).to_string()), ("version", "0")],
        )
        .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let current = queue_items(&rita)
        .await
        .into_iter()
        .find(|i| id(i) == id(&items[0]))
        .unwrap();
    assert_eq!(current["decision"], "Approve");
    let undone = rita
        .post(
            "/api/reviews_undo",
            &[
                ("item_id", &id(&current).to_string()),
                ("version", &current["version"].to_string()),
            ],
        )
        .await;
    assert_eq!(undone.status(), 200);
    let undone: Value = undone.json().await.unwrap();
    assert_eq!(undone["decision"], Value::Null);

    // Nobody reviews their own access, and a reason is required.
    let chloes = items
        .iter()
        .find(|i| i["user_email"] == "chloe@example.com")
        .unwrap();
    let refused = rita
        .post(
            "/api/reviews_reassign",
            &[
                ("item_id", &id(chloes).to_string()),
                ("to", "chloe@example.com"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("own access"));
    let refused = rita
        .post(
            "/api/reviews_reassign",
            &[
                ("item_id", &id(chloes).to_string()),
                ("to", MANNY_EMAIL),
                ("reason", " "),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Rita hands her whole queue to Dan.
    let response = rita
        .post(
            "/api/reviews_delegate",
            &[
                ("campaign_id", campaign.to_string().as_str()),
                ("to", "dan@example.com"),
                ("reason", "holiday"),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    assert!(queue_items(&rita).await.is_empty());
    let (details,): (String,) =
        sqlx::query_as("SELECT details FROM audit_events WHERE action = 'review.delegated'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["before"]["reviewer"], RITA_EMAIL);
    assert_eq!(details["after"]["reviewer"], "dan@example.com");
    assert_eq!(details["reason"], "holiday");
    assert_eq!(details["items"].as_array().unwrap().len(), 6);

    // Delegating Manny's queue to Dan is refused whole: Dan's own account role is in it.
    let response = ada
        .post(
            "/api/reviews_delegate",
            &[
                ("campaign_id", campaign.to_string().as_str()),
                ("from", MANNY_EMAIL),
                ("to", "dan@example.com"),
                ("reason", "r"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM review_items WHERE reviewer_email = 'manny.manager@example.com'"
        )
        .await,
        6
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_after_close_are_refused() {
    let (app, ada, campaign) = launched().await;
    let rita = signed_in(&app, RITA).await;
    let items = queue_items(&rita).await;
    assert_eq!(
        decide(&rita, &items[0], "revoke", "not needed")
            .await
            .status(),
        200
    );
    let response = ada
        .post("/api/campaign_close", &[("id", &campaign.to_string())])
        .await;
    assert_eq!(response.status(), 200);
    let (decision, version): (Option<String>, i64) =
        sqlx::query_as("SELECT decision, version FROM review_items WHERE id = $1")
            .bind(id(&items[1]))
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(decision.as_deref(), Some("revoke"));
    let item = json!({ "id": id(&items[1]), "version": version });
    let response = decide(&rita, &item, "approve", "").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().await.unwrap().contains("closed"));
    // Nor can she take back her earlier revoke.
    let (version,): (i64,) = sqlx::query_as("SELECT version FROM review_items WHERE id = $1")
        .bind(id(&items[0]))
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let response = rita
        .post(
            "/api/reviews_undo",
            &[
                ("item_id", id(&items[0]).to_string().as_str()),
                ("version", version.to_string().as_str()),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    // Her earlier revoke stands and is queued once.
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM revocations WHERE item_id = {}",
                id(&items[0])
            )
        )
        .await,
        1
    );
    // Closed campaigns leave the queue.
    assert!(queue_items(&rita).await.is_empty());
}

//! What a reviewer gets beside each item before deciding: the person's role and other access,
//! the server's activity and owner, the last closed campaign's decision on the same access, a
//! recommendation with its reason (accepted for the selected items in one step), and a
//! read-only view of the person and the server limited to the reviewer's own queue.

use serde_json::{json, Value};

use crate::{
    auth::{signed_in, Browser, AUBREY, RITA},
    campaigns::{call, count, create, form, launch, seeded, send, RITA_EMAIL},
    helpers::TestApp,
};

/// Manny Manager in the development provider.
const MANNY: usize = 3;

/// Server 1 sends mail, servers 2 and 3 sent nothing in 30 days; Erin's invitation (sent
/// 2026-09-01) is stale on the test clock (2026-11-28).
async fn launched() -> (TestApp, Browser, Browser, i64) {
    let app = TestApp::spawn().await;
    app.simulator.set_sent(1, 500);
    let (app, ada) = seeded(app).await;
    let id = create(&ada, &form("Q4 access review", &[])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    let rita = signed_in(&app, RITA).await;
    (app, ada, rita, id)
}

async fn queue(rita: &Browser, campaign: i64) -> Value {
    call(
        rita,
        "/api/reviews_queue",
        &json!({ "query": { "campaign": campaign } }),
    )
    .await
}

/// `(id, what)` of every item in the queue, `what` as `kind:email:server`.
fn items(queue: &Value) -> Vec<(i64, String)> {
    queue["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g[1].as_array().unwrap().iter())
        .map(|i| {
            let what = format!(
                "{}:{}:{}",
                i["kind"].as_str().unwrap(),
                i["user_email"].as_str().unwrap_or("-"),
                i["server_id"]
                    .as_i64()
                    .map_or("-".into(), |s| s.to_string()),
            );
            (i["id"].as_i64().unwrap(), what)
        })
        .collect()
}

fn id_of(queue: &Value, what: &str) -> i64 {
    items(queue)
        .into_iter()
        .find(|(_, w)| w == what)
        .unwrap_or_else(|| panic!("no {what} in {:?}", items(queue)))
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_item_comes_with_the_person_the_server_and_a_recommendation() {
    let (_app, _ada, rita, id) = launched().await;
    let queue = queue(&rita, id).await;
    let context = &queue["context"];
    let chloe = context["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "chloe@example.com")
        .expect("Chloe's context");
    assert_eq!(chloe["role"], "Server Access");
    assert_eq!(
        chloe["permissions"],
        json!([
            [1, "server-1", "Server Admin"],
            [2, "server-2", "Server Viewer"]
        ])
    );
    let server = |n: i64| {
        context["servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == n)
            .unwrap_or_else(|| panic!("server {n} in {context}"))
            .clone()
    };
    assert_eq!(server(1)["sent_30d"], 500);
    assert_eq!(server(1)["owner"], RITA_EMAIL);
    assert_eq!(server(2)["sent_30d"], 0);

    let page = rita
        .get(&format!("/reviews?campaign={id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Server Access · Server Admin on 1 server, Server Viewer on 1 server"),
        "{page}"
    );
    assert!(page.contains("server-1: 500 sent in 30 days · owner rita.reviewer@example.com"));
    // Erin's role and permission: the stale invitation. Chloe's permission on the silent
    // server 2, not the one on server 1.
    let stale = "Recommended: revoke — the invitation has been pending for more than 30 days";
    assert_eq!(page.matches(stale).count(), 2, "{page}");
    let silent = "Recommended: revoke — no sends from this server in 30 days";
    assert_eq!(page.matches(silent).count(), 1, "{page}");
    // The campaign's rules are said before the click.
    assert!(page.contains("Revoke needs a justification."), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_recommendations_decides_exactly_the_recommended_items() {
    let (app, _ada, rita, id) = launched().await;
    let queue = queue(&rita, id).await;
    let erin_role = id_of(&queue, "AccountRole:erin@example.com:-");
    let chloe_silent = id_of(&queue, "ServerPermission:chloe@example.com:2");
    let chloe_busy = id_of(&queue, "ServerPermission:chloe@example.com:1");

    // An item without a recommendation refuses the lot, naming it.
    let refused = send(
        &rita,
        "/api/reviews_accept_recommended",
        &json!({ "item_ids": [erin_role, chloe_silent, chloe_busy] }),
    )
    .await;
    assert_eq!(refused.status(), 422);
    let message = refused.text().await.unwrap();
    assert!(
        message.contains("Server Admin on server-1 (1)"),
        "{message}"
    );
    assert!(message.contains("has no recommendation"), "{message}");
    let decided = "SELECT COUNT(*) FROM review_items WHERE decision IS NOT NULL";
    assert_eq!(count(&app, decided).await, 0);

    let accepted = call(
        &rita,
        "/api/reviews_accept_recommended",
        &json!({ "item_ids": [erin_role, chloe_silent] }),
    )
    .await;
    assert_eq!(accepted, json!(2));
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT id, decision, justification, decided_by FROM review_items \
         WHERE decision IS NOT NULL ORDER BY id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    for (item, decision, justification, by) in &rows {
        assert!([erin_role, chloe_silent].contains(item));
        assert_eq!(decision, "revoke");
        assert!(
            justification.starts_with("Accepted the recommendation. Recommended: revoke — "),
            "{justification}"
        );
        assert_eq!(by, RITA_EMAIL);
    }
    let (details,): (String,) = sqlx::query_as(
        "SELECT details FROM audit_events WHERE action = 'review.decided' AND subject = $1",
    )
    .bind(format!("item:{chloe_silent}"))
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(
        details.contains("\"recommendation\":\"Recommended: revoke — no sends from this server"),
        "{details}"
    );
    // Someone else's items are not Rita's to accept.
    let aubrey = signed_in(&app, AUBREY).await;
    let theirs = send(
        &aubrey,
        "/api/reviews_accept_recommended",
        &json!({ "item_ids": [chloe_busy] }),
    )
    .await;
    assert_eq!(theirs.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_closed_campaigns_decision_is_shown_for_the_same_access() {
    let (_app, ada, rita, id) = launched().await;
    let first = queue(&rita, id).await;
    let silent = id_of(&first, "ServerPermission:chloe@example.com:2");
    let version = first["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g[1].as_array().unwrap().iter())
        .find(|i| i["id"] == silent)
        .map(|i| i["version"].clone())
        .unwrap();
    let decided = send(
        &rita,
        "/api/reviews_decide",
        &json!({ "item_id": silent, "decision": "Revoke", "justification": "left the team",
                 "version": version }),
    )
    .await;
    assert_eq!(decided.status(), 200, "{}", decided.text().await.unwrap());
    let closed = ada
        .post("/api/campaign_close", &[("id", &id.to_string())])
        .await;
    assert_eq!(closed.status(), 200);

    let next = create(&ada, &form("Q1 access review", &[])).await;
    assert_eq!(launch(&ada, next).await.status(), 200);
    let second = queue(&rita, next).await;
    let again = id_of(&second, "ServerPermission:chloe@example.com:2");
    // Every item was decided at close: Rita's by her, the rest by the default outcome.
    let previous = second["context"]["previous"].as_array().unwrap();
    assert_eq!(previous.len(), items(&second).len(), "{previous:?}");
    let by = |item: i64| {
        previous
            .iter()
            .find(|p| p[0] == item)
            .map(|p| p[1].clone())
            .unwrap()
    };
    assert_eq!(by(again)["campaign"], "Q4 access review");
    assert_eq!(by(again)["decision"], "Revoke");
    assert_eq!(by(again)["decided_by"], RITA_EMAIL);
    let other = id_of(&second, "ServerPermission:chloe@example.com:1");
    assert_eq!(by(other)["decided_by"], Value::Null);
    let page = rita
        .get(&format!("/reviews?campaign={next}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(
            "Last review (Q4 access review): To revoke by rita.reviewer@example.com on 2026-11-28"
        ),
        "{page}"
    );
    assert!(
        page.contains("Last review (Q4 access review): To revoke by the default outcome"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewers_look_up_only_people_and_servers_in_their_queue() {
    let (app, _ada, rita, _id) = launched().await;
    let chloe = call(
        &rita,
        "/api/reviews_person",
        &json!({ "email": "Chloe@example.com" }),
    )
    .await;
    assert_eq!(chloe["person"]["name"], "Chloe Chen");
    assert_eq!(chloe["items"].as_array().unwrap().len(), 3);
    // Dan is Manny's to review, not Rita's: as if he did not exist.
    let dan = send(
        &rita,
        "/api/reviews_person",
        &json!({ "email": "dan@example.com" }),
    )
    .await;
    assert_eq!(dan.status(), 404);

    let server = call(&rita, "/api/reviews_server", &json!({ "id": 1 })).await;
    assert_eq!(server["server"]["sent_30d"], 500);
    // Only the people Rita reviews, though Rita herself also holds access to server 1.
    assert_eq!(
        server["people"],
        json!([["chloe@example.com", "Chloe Chen", "Server Admin"]])
    );
    // Manny reviews Rita's own access to server 1: he sees her there, not Chloe.
    let manny = signed_in(&app, MANNY).await;
    let his = call(&manny, "/api/reviews_server", &json!({ "id": 1 })).await;
    assert_eq!(
        his["people"],
        json!([[
            "rita.reviewer@example.com",
            "Rita Reviewer",
            "Server Viewer"
        ]])
    );
    assert_eq!(
        send(
            &manny,
            "/api/reviews_person",
            &json!({ "email": "chloe@example.com" })
        )
        .await
        .status(),
        404
    );
    let aubrey = signed_in(&app, AUBREY).await;
    let auditor = send(&aubrey, "/api/reviews_server", &json!({ "id": 1 })).await;
    assert_eq!(auditor.status(), 404);

    let page = rita
        .get("/reviews/person?email=chloe%40example.com")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Server Admin on server-1 (1)"), "{page}");
    assert!(page.contains("Back to My reviews"), "{page}");
}

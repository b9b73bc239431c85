//! The Audit page's search over HTTP (`/api/audit_events`): each filter, keyset paging in both
//! directions, refused input, LIKE wildcards taken literally, and who may search.

use std::collections::BTreeSet;

use postmark_access_review::audit::{self, Actor, Event};
use serde_json::{json, Value};

use crate::{
    auth::{signed_in, Browser, ADA, AUBREY, RITA},
    helpers::TestApp,
};

fn person(email: &str) -> Actor {
    Actor::Person {
        issuer: "https://idp.example".into(),
        subject: format!("sub-{email}"),
        email: email.into(),
    }
}

async fn record(app: &TestApp, actor: &Actor, action: &str, subject: &str) {
    let mut tx = app.db.begin().await.unwrap();
    audit::record(&mut tx, &app.clock, actor, &Event::new(action, subject))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// 150 bulk events an hour apart from 2026-11-28 09:00 (three people in turn), then a few
/// chosen ones: actors with `_` in them, a system actor, campaign events.
async fn seed(app: &TestApp) {
    for i in 0..150 {
        app.clock.advance(time::Duration::hours(1));
        let actor = person(&format!("user{}@example.com", i % 3));
        record(app, &actor, "test.bulk", &format!("bulk:{i}")).await;
    }
    record(app, &person("a_b@example.com"), "test.special", "special:1").await;
    record(app, &person("axb@example.com"), "test.special", "special:2").await;
    record(app, &person("a_b@example.com"), "test.special", "special:3").await;
    let scheduler = Actor::system("scheduler");
    record(app, &scheduler, "campaign.reminded", "campaign:12").await;
    record(app, &scheduler, "campaign.closed", "campaign:120").await;
    record(
        app,
        &person("user0@example.com"),
        "campaign.launched",
        "campaign:12",
    )
    .await;
}

async fn search_response(browser: &Browser, query: Value) -> (u16, String) {
    let response = browser
        .post_json("/api/audit_events", &json!({ "query": query }))
        .await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn search(browser: &Browser, query: Value) -> Value {
    let (status, body) = search_response(browser, query.clone()).await;
    assert_eq!(status, 200, "{query}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn events(page: &Value) -> &Vec<Value> {
    page["events"].as_array().unwrap()
}

fn column(page: &Value, name: &str) -> Vec<String> {
    events(page)
        .iter()
        .map(|e| e[name].as_str().unwrap().to_string())
        .collect()
}

fn seqs(page: &Value) -> Vec<i64> {
    events(page)
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_filter_narrows_the_log() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let ada = signed_in(&app, ADA).await;

    let all = search(&ada, json!({})).await;
    assert_eq!(all["matching"], Value::Null, "no filter, no count");
    assert!(all["total"].as_i64().unwrap() >= 126, "{}", all["total"]);
    assert_eq!(events(&all).len(), 50);

    // Actor: a substring of the email or system:<component>, any case.
    let user1 = search(&ada, json!({ "actor": "USER1@" })).await;
    assert_eq!(user1["matching"], json!({ "Exactly": 50 }));
    assert!(column(&user1, "actor")
        .iter()
        .all(|a| a == "user1@example.com"));
    let system = search(&ada, json!({ "actor": "system:sched" })).await;
    assert_eq!(column(&system, "actor"), ["system:scheduler"; 2]);

    // `_` and `%` are characters, not wildcards.
    let underscore = search(&ada, json!({ "actor": "a_b" })).await;
    assert_eq!(column(&underscore, "subject"), ["special:3", "special:1"]);
    let percent = search(&ada, json!({ "actor": "%" })).await;
    assert_eq!(events(&percent).len(), 0);
    assert_eq!(percent["matching"], json!({ "Exactly": 0 }));
    let text = search(&ada, json!({ "q": "a_b" })).await;
    assert_eq!(column(&text, "subject"), ["special:3", "special:1"]);

    // Action: exact, or a prefix ending in `.`.
    let bulk = search(&ada, json!({ "action": "test.bulk" })).await;
    assert_eq!(bulk["matching"], json!({ "Exactly": 150 }));
    assert_eq!(events(&bulk).len(), 50);
    assert!(bulk["older"].is_i64());
    let campaign = search(&ada, json!({ "action": "campaign." })).await;
    assert_eq!(
        column(&campaign, "action"),
        ["campaign.launched", "campaign.closed", "campaign.reminded"]
    );
    let not_a_prefix = search(&ada, json!({ "action": "campaign" })).await;
    assert_eq!(events(&not_a_prefix).len(), 0);

    // Subject: exact, or a prefix ending in `*` or `:`.
    let twelve = search(&ada, json!({ "subject": "campaign:12" })).await;
    assert_eq!(column(&twelve, "subject"), ["campaign:12", "campaign:12"]);
    let twelve_on = search(&ada, json!({ "subject": "campaign:12*" })).await;
    assert_eq!(
        column(&twelve_on, "subject"),
        ["campaign:12", "campaign:120", "campaign:12"]
    );
    let campaigns = search(&ada, json!({ "subject": "campaign:" })).await;
    assert_eq!(events(&campaigns).len(), 3);

    // Time range: whole UTC days, both inclusive.
    let day = search(&ada, json!({ "from": "2026-11-29", "to": "2026-11-29" })).await;
    let times = column(&day, "occurred_at");
    assert_eq!(times.len(), 24, "{times:?}");
    assert!(
        times.iter().all(|t| t.starts_with("2026-11-29T")),
        "{times:?}"
    );
    let (in_db,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM audit_events \
         WHERE occurred_at >= '2026-11-29T' AND occurred_at < '2026-11-30T'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(day["matching"], json!({ "Exactly": in_db }));
    let until = search(&ada, json!({ "to": "2026-11-28" })).await;
    assert!(column(&until, "occurred_at")
        .iter()
        .all(|t| t.as_str() < "2026-11-29"));

    // Free text over action, subject and actor; filters combine.
    let text = search(&ada, json!({ "q": "BULK:11" })).await;
    assert_eq!(events(&text).len(), 11);
    assert_eq!(text["matching"], json!({ "Exactly": 11 }));
    let combined = search(
        &ada,
        json!({ "actor": "user0", "action": "test.bulk", "q": "bulk:1", "from": "2026-11-28" }),
    )
    .await;
    let subjects = column(&combined, "subject");
    assert!(!subjects.is_empty());
    assert!(
        subjects.iter().all(|s| s.starts_with("bulk:1")),
        "{subjects:?}"
    );
    assert!(column(&combined, "actor")
        .iter()
        .all(|a| a == "user0@example.com"));
}

/// The pages from the newest to the oldest by the `older` links, then back up by the `newer`
/// links: returns both walks, each page's seqs in shown order.
async fn walk(browser: &Browser, filter: &Value) -> (Vec<Vec<i64>>, Vec<Vec<i64>>) {
    let with = |name: &str, seq: i64| {
        let mut query = filter.clone();
        query[name] = json!(seq);
        query
    };
    let mut down = Vec::new();
    let mut page = search(browser, filter.clone()).await;
    assert_eq!(page["newest"], json!(true));
    loop {
        down.push(seqs(&page));
        assert!(down.len() < 100, "{filter}: paging does not end");
        match page["older"].as_i64() {
            Some(before) => page = search(browser, with("before", before)).await,
            None => break,
        }
    }
    let mut up = vec![seqs(&page)];
    while let Some(after) = page["newer"].as_i64() {
        page = search(browser, with("after", after)).await;
        up.push(seqs(&page));
        assert!(up.len() < 100, "{filter}: paging does not end");
    }
    assert_eq!(page["newest"], json!(true));
    (down, up)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_visits_every_match_once_in_order() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let ada = signed_in(&app, ADA).await;
    for (filter, sql) in [
        (json!({}), "SELECT seq FROM audit_events"),
        (
            json!({ "action": "test.bulk" }),
            "SELECT seq FROM audit_events WHERE action = 'test.bulk'",
        ),
        (
            json!({ "actor": "user0@" }),
            "SELECT seq FROM audit_events WHERE actor_email = 'user0@example.com'",
        ),
        (
            json!({ "q": "bulk" }),
            "SELECT seq FROM audit_events WHERE action = 'test.bulk'",
        ),
    ] {
        let expected: Vec<(i64,)> = sqlx::query_as(&format!("{sql} ORDER BY seq DESC"))
            .fetch_all(app.db.pool())
            .await
            .unwrap();
        let expected: Vec<i64> = expected.into_iter().map(|(s,)| s).collect();
        let (down, mut up) = walk(&ada, &filter).await;
        assert!(down.iter().all(|p| p.len() <= 50), "{filter}");
        assert!(down.len() >= 2, "{filter}: {} pages", down.len());
        let seen = down.concat();
        let unique: BTreeSet<i64> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "{filter}: a duplicate");
        assert_eq!(seen, expected, "{filter}: no gap, newest first");
        // Back up by `after`: the same pages.
        up.reverse();
        assert_eq!(up, down, "{filter}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_reason_and_nothing_else() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let ada = signed_in(&app, ADA).await;
    let before = crate::helpers::count(&app.db, "SELECT COUNT(*) FROM audit_events").await;
    let long = "x".repeat(201);
    for (query, says) in [
        (
            json!({ "actor": long }),
            "Actor is too long: at most 200 characters (got 201)",
        ),
        (json!({ "q": long }), "Search is too long"),
        (json!({ "subject": long }), "Subject is too long"),
        (
            json!({ "from": "2026-02-30" }),
            "From must be a date written YYYY-MM-DD",
        ),
        (
            json!({ "to": "30/11/2026" }),
            "To must be a date written YYYY-MM-DD",
        ),
        (
            json!({ "from": "2026-12-01", "to": "2026-11-30" }),
            "From must be on or before To",
        ),
        (json!({ "before": 10, "after": 2 }), "not both"),
    ] {
        let (status, body) = search_response(&ada, query.clone()).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert!(body.contains(says), "{query}: {body}");
        assert!(
            !body.contains("\"events\""),
            "{query}: no results with an error"
        );
    }
    // 200 characters are fine, and the boundary day is inclusive.
    let ok = search(&ada, json!({ "actor": "x".repeat(200) })).await;
    assert_eq!(events(&ok).len(), 0);
    let same_day = search(&ada, json!({ "from": "2026-11-29", "to": "2026-11-29" })).await;
    assert!(!events(&same_day).is_empty());
    let after = crate::helpers::count(&app.db, "SELECT COUNT(*) FROM audit_events").await;
    assert_eq!(before, after, "searching writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditors_search_and_everyone_else_is_refused() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let aubrey = signed_in(&app, AUBREY).await;
    let page = search(&aubrey, json!({ "action": "campaign." })).await;
    assert_eq!(events(&page).len(), 3);
    let actions: Vec<String> = aubrey
        .post("/api/audit_actions", &[])
        .await
        .json()
        .await
        .unwrap();
    for action in [
        "campaign.closed",
        "test.bulk",
        "test.special",
        "auth.signed_in",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    assert!(actions.windows(2).all(|w| w[0] < w[1]), "sorted, distinct");

    let rita = signed_in(&app, RITA).await;
    // Refused before the input is looked at, so a bad filter is still 403.
    for query in [json!({}), json!({ "actor": "x".repeat(201) })] {
        let (status, body) = search_response(&rita, query).await;
        assert_eq!(status, 403, "{body}");
        assert!(!body.contains("user0@example.com"), "{body}");
    }
    assert_eq!(rita.post("/api/audit_actions", &[]).await.status(), 403);
    let (status, _) = search_response(&Browser::new(&app), json!({})).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_renders_a_filtered_view_from_its_address() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let ada = signed_in(&app, ADA).await;
    let response = ada
        .get("/audit?action=campaign.&subject=campaign%3A12")
        .await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("2 events matching, of "), "{html}");
    assert!(html.contains(">campaign.reminded<") && html.contains(">campaign.launched<"));
    assert!(!html.contains(">test.bulk<"), "only the filtered events");

    let refused = ada.get("/audit?from=2026-11-30&to=2026-11-01").await;
    let html = refused.text().await.unwrap();
    assert!(html.contains("From must be on or before To."), "{html}");
}

//! CSV evidence exports over HTTP: who may download them, bad filters, exact headers, and each
//! file read back with a strict CSV reader and compared with the database, with names in many
//! scripts and names that look like spreadsheet formulas.

use postmark_access_review::{
    audit::{self, Actor, Event},
    export::{decisions, writer::restore},
    postmark::ServerInfo,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    auth::{signed_in, Browser, AUBREY, RITA},
    campaigns::{call, create, form, launch, seeded},
    helpers::TestApp,
    revocations::close,
};

/// Users whose names a spreadsheet or a careless writer would get wrong.
const TRICKY_USERS: &str = "email,name,role,status,invited_at,server_id,permission\n\
    ada.admin@example.com,Ada Admin,Account Owner,active,,,\n\
    rita.reviewer@example.com,Rita Reviewer,Server Access,active,,1,Server Viewer\n\
    chloe@example.com,\"Chen, \"\"Chloe\"\"\",Server Access,active,,1,Server Admin\n\
    chloe@example.com,\"Chen, \"\"Chloe\"\"\",Server Access,active,,2,Server Viewer\n\
    eq@example.com,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",Server Access,active,,1,Server Viewer\n\
    plus@example.com,+1 555 0100,Server Access,active,,2,Server Viewer\n\
    minus@example.com,-Minus Person,Account Admin,active,,,\n\
    at@example.com,@handle,Server Access,active,,3,Server Admin\n\
    quote@example.com,'Quoted,Server Access,active,,3,Server Viewer\n\
    lines@example.com,\"Line one\nLine two\",Server Access,active,,3,Server Viewer\n\
    rtl@example.com,שרה כהן,Server Access,active,,1,Server Viewer\n\
    arabic@example.com,مريم العلي,Server Access,pending,2026-01-02,2,Server Viewer\n\
    cjk@example.com,山田 太郎,Server Access,active,,1,Server Viewer\n\
    emoji@example.com,Zoë 😀🎉,Server Access,active,,2,Server Admin\n";

const TRICKY_NAMES: [&str; 11] = [
    "Chen, \"Chloe\"",
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "+1 555 0100",
    "-Minus Person",
    "@handle",
    "'Quoted",
    "Line one\nLine two",
    "שרה כהן",
    "مريم العلي",
    "山田 太郎",
    "Zoë 😀🎉",
];

const PATHS: [&str; 3] = [
    "/exports/audit.csv",
    "/exports/inventory-users.csv",
    "/exports/inventory-servers.csv",
];

/// Three fixture servers plus one named like a formula, the tricky users, Ada signed in.
async fn tricky_app() -> (TestApp, Browser) {
    let app = TestApp::builder().max_body_bytes(1024 * 1024).spawn().await;
    app.simulator
        .add_server(ServerInfo::sample(4, "=cmd|' /C calc'!A0", &["tok-4"]));
    let (app, ada) = seeded(app).await;
    import(&ada, TRICKY_USERS).await;
    (app, ada)
}

async fn import(ada: &Browser, csv: &str) {
    let imported = call(
        ada,
        "/api/inventory_import_users",
        &json!({ "file_name": "users.csv", "csv": csv }),
    )
    .await;
    assert!(imported.get("Imported").is_some(), "{imported}");
}

/// A download that must succeed: the raw text and its records (header first), read strictly.
async fn download(browser: &Browser, path: &str) -> (String, Vec<Vec<String>>) {
    let response = browser.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-store");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"") && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let text = response.text().await.unwrap();
    assert_eq!(
        gzipped(browser, path).await,
        text,
        "{path}, as browsers ask for it"
    );
    assert!(!text.starts_with('\u{feff}'), "no byte order mark");
    assert!(text.ends_with("\r\n"), "records end with CRLF");
    let records: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    for record in &records {
        for field in record {
            assert!(
                !field.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{path}: {field:?} could run as a formula"
            );
        }
    }
    (text, records)
}

/// `path` asked for as browsers do (compressed), unpacked. A streamed body that ends short or
/// is cut off fails here.
async fn gzipped(browser: &Browser, path: &str) -> String {
    use std::io::Read as _;
    let response = browser
        .client
        .get(browser.base.join(path).unwrap())
        .header(reqwest::header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()["content-encoding"], "gzip", "{path}");
    let packed = response.bytes().await.expect("the whole compressed body");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_string(&mut text)
        .expect("a complete gzip stream");
    text
}

/// The stored values of records (one leading `'` removed from each field).
fn restored(records: &[Vec<String>]) -> Vec<Vec<String>> {
    records
        .iter()
        .map(|r| r.iter().map(|f| restore(f).to_string()).collect())
        .collect()
}

fn text(value: Option<String>) -> String {
    value.unwrap_or_default()
}

fn number(value: Option<i64>) -> String {
    value.map(|n| n.to_string()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_and_auditors_download() {
    let (app, _ada, id) = crate::campaigns::launched().await;
    let campaign = format!("/exports/campaigns/{id}");
    let all: Vec<String> = PATHS
        .iter()
        .map(|p| p.to_string())
        .chain([
            format!("{campaign}/population.csv"),
            format!("{campaign}/decisions.csv"),
        ])
        .collect();
    let rita = signed_in(&app, RITA).await;
    let aubrey = signed_in(&app, AUBREY).await;
    for path in &all {
        assert_eq!(
            app.get(path).await.status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        assert_eq!(
            rita.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
        download(&aubrey, path).await;
    }
    assert_eq!(
        aubrey
            .get("/exports/campaigns/999/decisions.csv")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_audit_filters_are_refused_before_anything_is_sent() {
    let app = TestApp::spawn().await;
    let aubrey = signed_in(&app, AUBREY).await;
    for (query, says) in [
        ("from=yesterday", "`from` must be a date"),
        ("to=2026-02-30", "`to` must be a date"),
        (
            "from=2026-11-30&to=2026-11-01",
            "`from` must be before `to`",
        ),
        ("action=x%27%20OR%201%3D1", "`action` must be"),
        ("acton=auth.signed_in", "unknown parameter `acton`"),
        ("from=2026-11-01&from=2026-11-02", "more than once"),
    ] {
        let response = aubrey.get(&format!("/exports/audit.csv?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(!response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let body = response.text().await.unwrap();
        assert!(body.contains(says), "{query}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_are_fixed() {
    let (app, ada, id) = crate::campaigns::launched().await;
    assert_eq!(id, 1, "the paths below name campaign 1");
    let expected = [
        (
            "/exports/audit.csv",
            "seq,occurred_at,actor_kind,actor_issuer,actor_sub,actor_email,action,subject,details,prev_hash,hash",
        ),
        (
            "/exports/inventory-users.csv",
            "email,name,role,status,invited_at,server_id,server_name,permission,flags",
        ),
        (
            "/exports/inventory-servers.csv",
            "postmark_id,name,color,smtp_api_activated,raw_email_enabled,track_opens,track_links,webhook_hosts,token_count,token_fingerprints,sent_30d,owner,flags",
        ),
        (
            "/exports/campaigns/1/population.csv",
            "item_id,kind,user_email,user_name,access,server_id,server_name,privileged,flags,reviewer,assigned_via",
        ),
        (
            "/exports/campaigns/1/decisions.csv",
            "item_id,kind,user_email,user_name,access,server_id,server_name,privileged,reviewer,decision,justification,decided_by,decided_at,decided_via,fulfilment,fulfilment_action,fulfilment_note,fulfilled_at,verification,verified_at,drift_at,acknowledged_by,acknowledged_at,acknowledged_reason",
        ),
    ];
    for (path, header) in expected {
        let (text, _) = download(&ada, path).await;
        assert_eq!(text.split("\r\n").next(), Some(header), "{path}");
    }
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_export_is_the_log_and_filters_by_time_and_action() {
    let app = TestApp::spawn().await;
    // A sign-in before the bulk events, one after (below).
    signed_in(&app, AUBREY).await;
    // More events than one page, with every awkward character in subject and details.
    let mut tx = app.db.begin().await.unwrap();
    for i in 0..1100 {
        let event = Event::new("test.bulk", format!("=item:{i}, \"x\""))
            .details(json!({ "i": i, "note": "comma, quote \" newline \n tab \t" }));
        audit::record(&mut tx, &app.clock, &Actor::system("-test"), &event)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    app.clock
        .advance(time::Duration::days(2) + time::Duration::hours(3));
    // The first session has idled out by now: sign in again.
    let aubrey = signed_in(&app, AUBREY).await;

    type Row = (
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
        String,
        String,
        String,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, occurred_at, actor_kind, actor_issuer, actor_sub, actor_email, action, \
         subject, details, prev_hash, hash FROM audit_events ORDER BY seq",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let expected: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            vec![
                r.0.to_string(),
                r.1,
                r.2,
                text(r.3),
                text(r.4),
                text(r.5),
                r.6,
                r.7,
                r.8,
                r.9,
                r.10,
            ]
        })
        .collect();
    assert_eq!(expected.len(), 1102, "two sign-ins and the bulk events");

    let (_, all) = download(&aubrey, "/exports/audit.csv").await;
    assert_eq!(restored(&all[1..]), expected);
    assert!(all[5][7].starts_with("'=item:"), "{:?}", all[5]);

    let (_, bulk) = download(&aubrey, "/exports/audit.csv?action=test.bulk").await;
    assert_eq!(bulk.len(), 1101);
    assert!(bulk[1..].iter().all(|r| r[6] == "test.bulk"));

    let later: Vec<&Vec<String>> = expected
        .iter()
        .filter(|r| r[1].as_str() >= "2026-11-29")
        .collect();
    assert!(!later.is_empty());
    let (_, from) = download(&aubrey, "/exports/audit.csv?from=2026-11-29&action=").await;
    assert_eq!(restored(&from[1..]).iter().collect::<Vec<_>>(), later);
    let (_, to) = download(&aubrey, "/exports/audit.csv?to=2026-11-28").await;
    assert_eq!(to.len() - 1, expected.len() - later.len());
    let (_, instant) = download(
        &aubrey,
        "/exports/audit.csv?from=2026-11-30T12%3A00%3A00Z&to=2026-11-30T13%3A00%3A01%2B01%3A00",
    )
    .await;
    assert_eq!(instant.len() - 1, later.len());
    let (_, before) = download(&aubrey, "/exports/audit.csv?to=2026-11-30T12%3A00%3A00Z").await;
    assert_eq!(
        before.len() - 1,
        expected.len() - later.len(),
        "`to` as a time is exclusive"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_exports_match_the_inventory() {
    let (app, ada) = tricky_app().await;
    // Enough users that the pages split inside one user's permissions.
    let mut csv = TRICKY_USERS.to_string();
    for i in 0..700 {
        for server in [1, 3] {
            csv.push_str(&format!(
                "bulk{i:04}@example.com,Bulk {i},Server Access,active,,{server},Server Viewer\n"
            ));
        }
    }
    import(&ada, &csv).await;

    type UserRow = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<UserRow> = sqlx::query_as(
        "SELECT u.email, u.name, u.role, u.status, u.invited_at, p.postmark_server_id, s.name, \
         p.permission FROM postmark_users u LEFT JOIN user_permissions p ON p.email = u.email \
         LEFT JOIN servers s ON s.postmark_id = p.postmark_server_id \
         ORDER BY u.email, COALESCE(p.postmark_server_id, -1)",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let expected: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            vec![
                r.0,
                r.1,
                r.2,
                r.3,
                text(r.4),
                number(r.5),
                text(r.6),
                text(r.7),
            ]
        })
        .collect();
    let (_, users) = download(&ada, "/exports/inventory-users.csv").await;
    assert_eq!(users.len() - 1, expected.len());
    assert!(expected.len() > 1400);
    let got: Vec<Vec<String>> = restored(&users[1..])
        .into_iter()
        .map(|mut r| {
            r.truncate(8);
            r
        })
        .collect();
    assert_eq!(got, expected);
    for name in TRICKY_NAMES {
        assert!(got.iter().any(|r| r[1] == name), "{name:?} missing");
    }
    let raw = |email: &str| users.iter().find(|r| r[0] == email).unwrap().clone();
    assert_eq!(
        raw("eq@example.com")[1],
        "'=HYPERLINK(\"http://evil.example\",\"click\")"
    );
    assert_eq!(raw("quote@example.com")[1], "''Quoted");
    assert_eq!(
        raw("minus@example.com")[5],
        "",
        "a user without permissions has one record"
    );
    assert_eq!(raw("minus@example.com")[8], "account-admin");
    assert_eq!(raw("arabic@example.com")[8], "stale-invitation");

    let (_, servers) = download(&ada, "/exports/inventory-servers.csv").await;
    let ids: Vec<(i64, String)> =
        sqlx::query_as("SELECT postmark_id, name FROM servers ORDER BY postmark_id")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let got: Vec<(i64, String)> = restored(&servers[1..])
        .into_iter()
        .map(|r| (r[0].parse().unwrap(), r[1].clone()))
        .collect();
    assert_eq!(got, ids);
    let calc = &servers[4];
    assert_eq!(calc[1], "'=cmd|' /C calc'!A0");
    assert_eq!(calc[3], "true", "SMTP on");
    assert_eq!(calc[8], "1", "one token");
    assert_eq!(
        calc[9].len(),
        12,
        "a fingerprint, never the token: {calc:?}"
    );
    assert!(!calc.iter().any(|f| f.contains("tok-4")));
    assert_eq!(servers[1][11], "rita.reviewer@example.com", "owner");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_population_and_decisions_match_the_items() {
    let (app, ada) = tricky_app().await;
    let id = create(&ada, &form("Q4 access review", &[])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);

    // Rita revokes one item with a justification a spreadsheet would run.
    let rita = signed_in(&app, RITA).await;
    let queue = call(&rita, "/api/reviews_queue", &json!({ "query": {} })).await;
    let item = queue["groups"][0][1][0].clone();
    let why = "=SUM(A1) — left in May,\nsee \"HR-12\"";
    let decided = crate::campaigns::send(
        &rita,
        "/api/reviews_decide",
        &json!({
            "item_id": item["id"],
            "decision": "revoke",
            "justification": why,
            "version": item["version"],
        }),
    )
    .await;
    assert_eq!(decided.status(), 200);

    let path = format!("/exports/campaigns/{id}/decisions.csv");
    let (_, open) = download(&ada, &path).await;
    let item_id = item["id"].as_i64().unwrap().to_string();
    let row = open.iter().find(|r| r[0] == item_id).unwrap();
    assert_eq!(row[9], "revoke");
    assert_eq!(row[10], format!("'{why}"));
    assert_eq!(row[14], decisions::NOT_CARRIED_OUT);

    close(&ada, id).await;

    type ItemRow = (
        i64,
        String,
        Option<String>,
        Option<String>,
        String,
        Option<i64>,
        Option<String>,
        i64,
        String,
        String,
        String,
    );
    let items: Vec<ItemRow> = sqlx::query_as(
        "SELECT id, kind, user_email, user_name, access, server_id, server_name, privileged, \
         flags, reviewer_email, assigned_via FROM review_items WHERE campaign_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let expected: Vec<Vec<String>> = items
        .into_iter()
        .map(|r| {
            let flags: Vec<String> = serde_json::from_str(&r.8).unwrap();
            vec![
                r.0.to_string(),
                r.1,
                text(r.2),
                text(r.3),
                r.4,
                number(r.5),
                text(r.6),
                (r.7 != 0).to_string(),
                flags.join(";"),
                r.9,
                r.10,
            ]
        })
        .collect();
    let (_, population) = download(&ada, &format!("/exports/campaigns/{id}/population.csv")).await;
    assert_eq!(restored(&population[1..]), expected);
    for name in [
        "=HYPERLINK(\"http://evil.example\",\"click\")",
        "山田 太郎",
        "Zoë 😀🎉",
    ] {
        assert!(
            expected.iter().any(|r| r[3] == name),
            "{name:?} not reviewed"
        );
    }

    // The download is the pure report over the same rows, byte for byte.
    let response = ada.get(&path).await;
    let bytes = response.bytes().await.unwrap();
    let mut conn = app.db.pool().acquire().await.unwrap();
    let rows = decisions::page(&mut conn, id, 0, i64::MAX).await.unwrap();
    let mut report = Vec::new();
    decisions::write_report(&mut report, &rows);
    assert_eq!(bytes.as_ref(), report.as_slice());

    let (_, closed) = download(&ada, &path).await;
    assert_eq!(closed.len() - 1, expected.len());
    let states: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT i.id, i.decision, r.status FROM review_items i \
         LEFT JOIN revocations r ON r.item_id = i.id WHERE i.campaign_id = $1 ORDER BY i.id",
    )
    .bind(id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    for (record, (item, decision, status)) in closed[1..].iter().zip(states) {
        assert_eq!(record[0], item.to_string());
        assert_eq!(record[9], text(decision));
        assert_eq!(record[14], text(status));
    }
    assert!(closed[1..]
        .iter()
        .any(|r| r[14] == "to_revoke" && r[13] == "default"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_has_no_items_to_export() {
    let (app, ada) = crate::campaigns::setup().await;
    let id = create(&ada, &form("Draft", &[])).await;
    let response = ada
        .get(&format!("/exports/campaigns/{id}/population.csv"))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("has not been launched"));
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_link_to_the_exports_for_admins_and_auditors_only() {
    let (app, _ada, id) = crate::campaigns::launched().await;
    let aubrey = signed_in(&app, AUBREY).await;
    let rita = signed_in(&app, RITA).await;
    let campaign = format!("/campaigns/{id}");
    for (page, link) in [
        ("/inventory", "href=\"/exports/inventory-users.csv\""),
        (
            "/inventory/users",
            "href=\"/exports/inventory-servers.csv\"",
        ),
        ("/audit", "action=\"/exports/audit.csv\""),
        (
            campaign.as_str(),
            &format!("href=\"/exports/campaigns/{id}/decisions.csv\"") as &str,
        ),
    ] {
        let html = aubrey.get(page).await.text().await.unwrap();
        assert!(html.contains(link), "{page} lacks {link}");
        let html = rita.get(page).await.text().await.unwrap();
        assert!(
            !html.contains("/exports/"),
            "{page} shows exports to a reviewer"
        );
    }
}

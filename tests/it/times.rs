//! How pages show stored times and audit details: `<time>` to the second in UTC (the browser
//! turns the text into local time, see end2end/tests/audit.test.mjs), never a raw stored
//! timestamp with microseconds, and an event's details as `key: value` lines.

use postmark_access_review::{
    audit::{self, Actor, Event},
    postmark::ServerInfo,
};
use serde_json::json;

use crate::{
    auth::{signed_in, ADA},
    helpers::TestApp,
};

/// The page without its `<script>` elements (the hydration data carries the stored values)
/// and without hydration markers (`<!>`).
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("</script>")
            .map_or("", |end| &rest[start + end + "</script>".len()..]);
    }
    out.push_str(rest);
    out.replace("<!>", "")
}

/// Stored timestamps as the database holds them (`…T09:00:33.306414Z`): never shown raw.
fn raw_timestamps(html: &str) -> Vec<String> {
    let bytes = html.as_bytes();
    (0..bytes.len().saturating_sub(27))
        .filter_map(|i| html.get(i..i + 27))
        .filter(|s| {
            s.bytes().enumerate().all(|(j, b)| match j {
                4 | 7 => b == b'-',
                10 => b == b'T',
                13 | 16 => b == b':',
                19 => b == b'.',
                26 => b == b'Z',
                _ => b.is_ascii_digit(),
            })
        })
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_page_shows_times_to_the_second_and_details_as_lines() {
    let app = TestApp::spawn().await;
    app.clock
        .advance(time::Duration::seconds(33) + time::Duration::microseconds(306_414));
    let mut tx = app.db.begin().await.unwrap();
    let details = json!({
        "before": {"decision": "approve"},
        "after": {"decision": "revoke", "justification": "left the team"},
        "fields": [{"field": "role", "before": "Viewer", "after": "Admin"}],
    });
    audit::record(
        &mut tx,
        &app.clock,
        &Actor::system("test"),
        &Event::new("test.details", "thing:1").details(details),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let ada = signed_in(&app, ADA).await;
    let response = ada.get("/audit?action=test.details").await;
    assert_eq!(response.status(), 200);
    let html = visible(&response.text().await.unwrap());
    assert!(
        html.contains(
            r#"<time datetime="2026-11-28T09:00:33Z" title="2026-11-28 09:00:33 UTC">2026-11-28 09:00:33 UTC</time>"#
        ),
        "{html}"
    );
    for (key, value) in [
        ("after.decision", "revoke"),
        ("after.justification", "left the team"),
        ("before.decision", "approve"),
        ("fields[1].field", "role"),
        ("fields[1].after", "Admin"),
    ] {
        assert!(
            html.contains(&format!("<dt>{key}</dt><dd>{value}</dd>")),
            "{key}: {value} in {html}"
        );
    }
    assert!(!html.contains(r#"{"after""#), "no raw JSON: {html}");
    assert_eq!(raw_timestamps(&html), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inventory_shows_the_last_sync_time_to_the_second() {
    let app = TestApp::spawn().await;
    app.simulator
        .add_server(ServerInfo::sample(1, "server-01", &["secret-token-1"]));
    app.clock
        .advance(time::Duration::seconds(7) + time::Duration::microseconds(125_000));
    let ada = signed_in(&app, ADA).await;
    let sync = ada.post("/api/inventory_sync_now", &[]).await;
    assert_eq!(sync.status(), 200);

    for path in ["/inventory", "/inventory/syncs"] {
        let html = visible(&ada.get(path).await.text().await.unwrap());
        assert!(
            html.contains(
                r#"<time datetime="2026-11-28T09:00:07Z" title="2026-11-28 09:00:07 UTC">"#
            ),
            "{path}: {html}"
        );
        assert_eq!(raw_timestamps(&html), Vec::<String>::new(), "{path}");
    }
    let html = visible(&ada.get("/inventory").await.text().await.unwrap());
    assert!(html.contains("Last sync #1 at <time"), "{html}");
}

//! The Settings page shows what it promises: the Postmark connection and its last syncs, the
//! users gateway, server owners and the review defaults (admins only).

use reqwest::StatusCode;

use crate::{
    auth::{signed_in, AUBREY, RITA},
    campaigns::{setup, MANNY_EMAIL, RITA_EMAIL},
    helpers::TestApp,
};

/// The page's text with tags and hydration markers taken out, spaces collapsed.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_show_the_connection_gateway_owners_and_defaults() {
    let (app, ada) = setup().await;
    let html = ada.get("/settings").await.text().await.unwrap();
    let page = text(&html);
    let host = app.simulator_url.host_str().unwrap().to_string();
    for expected in [
        format!("Connected to {host} with an account token"),
        "Last sync #1 at ".to_string(),
        ", 3 servers".to_string(),
        "Not configured: users come from CSV imports".to_string(),
        "Last users sync #2 from users.csv at ".to_string(),
        ", 5 users".to_string(),
        "2 of 3 servers have an owner".to_string(),
        format!("{MANNY_EMAIL}: 1 server"),
        format!("{RITA_EMAIL}: 1 server"),
        "Undecided at close: Flag for an admin.".to_string(),
        "Reminders: 7 and 1 days before the due date.".to_string(),
        "proved gone within 1 day".to_string(),
        "warns when the last sync is 7 days old".to_string(),
        "closes by itself 3 days after its due date".to_string(),
        "Webhook host allowlist".to_string(),
    ] {
        assert!(page.contains(&expected), "missing {expected:?} in {page}");
    }

    // A failed sync after the last good one is named with its reason.
    app.simulator.refuse_credentials(true);
    assert_eq!(ada.post("/api/inventory_sync_now", &[]).await.status(), 200);
    let page = text(&ada.get("/settings").await.text().await.unwrap());
    assert!(page.contains("Last attempt failed (#3 at "), "{page}");
    assert!(page.contains("Last sync #1 at "), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_any_sync_the_page_says_so_and_reviewers_do_not_read_it() {
    let app = TestApp::builder().users_gateway().spawn().await;
    let ada = signed_in(&app, crate::auth::ADA).await;
    let page = text(&ada.get("/settings").await.text().await.unwrap());
    let host = app.simulator_url.host_str().unwrap().to_string();
    assert!(page.contains("No successful sync yet"), "{page}");
    assert!(page.contains(&format!("Configured: {host}")), "{page}");
    assert!(page.contains("No users imported yet"), "{page}");

    // Auditors read the facts (the review defaults are evidence); reviewers do not.
    let aubrey = signed_in(&app, AUBREY).await;
    let response = aubrey.post("/api/settings_overview", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = text(&aubrey.get("/settings").await.text().await.unwrap());
    assert!(page.contains("Settings are managed by admins."), "{page}");
    assert!(
        page.contains("Undecided at close: Flag for an admin."),
        "{page}"
    );
    assert!(
        !page.contains("Save allowlist"),
        "nothing to change: {page}"
    );
    let rita = signed_in(&app, RITA).await;
    let response = rita.post("/api/settings_overview", &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let page = rita.get("/settings").await.text().await.unwrap();
    assert!(!page.contains("postmark-status"), "{page}");
}

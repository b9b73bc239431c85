//! An admin's home page lists what needs an admin: a campaign past its due date with undecided
//! items, and a closed campaign not yet signed off with what stands in the way, as its sign-off
//! panel says it. Nobody else gets the list.

use serde_json::Value;

use crate::{
    auth::{signed_in, ADA, AUBREY, RITA},
    campaigns::{call, create, form, launch, setup},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_home_lists_overdue_and_closed_campaigns_with_what_to_do() {
    let (app, ada) = setup().await;
    let empty = call(&ada, "/api/home_attention", &Value::Null).await;
    assert_eq!(empty, serde_json::json!([]));
    let home = ada.get("/").await.text().await.unwrap();
    assert!(home.contains("Needs an admin"), "{home}");
    assert!(home.contains("Nothing waits for an admin"), "{home}");

    let id = create(
        &ada,
        &form("Q4 access review", &[("default_outcome", "flag")]),
    )
    .await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    // Due 2026-12-12; the test clock says 2026-11-28: not overdue yet.
    assert_eq!(
        call(&ada, "/api/home_attention", &Value::Null).await,
        serde_json::json!([])
    );
    app.clock.advance(time::Duration::days(15));
    // Two weeks on, the session has expired: Ada signs in again.
    let ada = signed_in(&app, ADA).await;
    let overdue = call(&ada, "/api/home_attention", &Value::Null).await;
    assert_eq!(overdue[0]["campaign_id"], id);
    let line = overdue[0]["lines"][0][0].as_str().unwrap();
    assert!(
        line.starts_with("Past its due date (2026-12-12) with "),
        "{line}"
    );
    assert_eq!(overdue[0]["lines"][0][1], format!("/campaigns/{id}"));

    // Closed with every item flagged: settle them first, on the campaign page.
    let closed = ada
        .post("/api/campaign_close", &[("id", &id.to_string())])
        .await;
    assert_eq!(closed.status(), 200);
    let waiting = call(&ada, "/api/home_attention", &Value::Null).await;
    let lines = waiting[0]["lines"].as_array().unwrap();
    let (text, href) = (lines[0][0].as_str().unwrap(), lines[0][1].as_str().unwrap());
    assert!(
        text.ends_with("flagged items wait for an admin to keep or revoke them."),
        "{text}"
    );
    assert_eq!(href, format!("/campaigns/{id}#undecided-heading"));
    let home = ada.get("/").await.text().await.unwrap();
    assert!(home.contains("flagged items wait for an admin"), "{home}");

    for person in [RITA, AUBREY] {
        let other = signed_in(&app, person).await;
        let refused = other.post("/api/home_attention", &[]).await;
        assert_eq!(refused.status(), 403);
        let page = other.get("/").await.text().await.unwrap();
        assert!(!page.contains("Needs an admin"), "{page}");
    }
}

//! What the review queue tells a reviewer about each item before they decide: what Revoke
//! will do and when (matching the revocation worker's action for that kind of access), and
//! server items set apart from people's access.

use crate::{
    auth::{signed_in, RITA},
    campaigns::{create, form, launch, setup},
};

/// Rita's queue page (she manages Chloe and Erin and owns server 1).
async fn rita_queue(mode: &str) -> String {
    let (app, ada) = setup().await;
    let id = create(
        &ada,
        &form("Q4 access review", &[("revocation_mode", mode)]),
    )
    .await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    let rita = signed_in(&app, RITA).await;
    let page = rita.get(&format!("/reviews?campaign={id}")).await;
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_item_says_what_revoke_does_and_when() {
    let page = rita_queue("apply").await;
    for line in [
        "Revoke removes this server permission once an admin applies the campaign&#x27;s \
         revocations after it closes",
        "Revoke quarantines this server once an admin applies",
        "Revoke removes this person from the Postmark account once an admin applies",
    ] {
        let line = line.replace("&#x27;", "'");
        let page = page.replace("&#x27;", "'").replace("&#39;", "'");
        assert!(page.contains(&line), "{line}\n{page}");
    }
    // Server items stand apart: their own class and badge.
    assert!(page.contains("queue-item queue-item-server"), "{page}");
    assert!(page.contains("badge badge-server"), "{page}");

    let page = rita_queue("at_close").await;
    assert!(
        page.contains("Revoke quarantines this server when the campaign closes"),
        "{page}"
    );
    assert!(!page.contains("once an admin applies"), "{page}");
}

/// The webhook host allowlist set in the application, which the server query reads along with
/// each server, decides the flag a reviewer sees about a server they review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_flag_follows_the_allowlist_set_in_the_application() {
    let (app, ada) = setup().await;
    app.simulator.update_server(1, |server| {
        server.bounce_hook_url = Some("https://hooks.example.com/bounce".into());
    });
    assert_eq!(ada.post("/api/inventory_sync_now", &[]).await.status(), 200);
    let id = create(
        &ada,
        &form("Q4 access review", &[("revocation_mode", "apply")]),
    )
    .await;
    assert_eq!(launch(&ada, id).await.status(), 200);
    let rita = signed_in(&app, RITA).await;
    let flag = "Webhook host not on allowlist";

    let page = rita.get("/reviews/server?id=1").await.text().await.unwrap();
    assert!(page.contains("Risk flags"), "{page}");
    assert!(!page.contains(flag), "{page}");

    let saved = ada
        .post(
            "/api/inventory_set_allowlist",
            &[("hosts", "elsewhere.example.net")],
        )
        .await;
    assert_eq!(saved.status(), 200);
    let page = rita.get("/reviews/server?id=1").await.text().await.unwrap();
    assert!(page.contains(flag), "{page}");
}

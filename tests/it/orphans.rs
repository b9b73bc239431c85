//! Orphaned accounts in a campaign: a login nobody at the connected identity provider claims
//! is flagged on its review items, and the reviewer's queue recommends revoking it, with why.

use postmark_access_review::review_items::ORPHAN_RECOMMENDATION;

use crate::{
    auth::{signed_in, RITA},
    campaigns::{create, form, launch, setup},
    offboarding::person,
    scim::Scim,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphaned_accounts_items_are_flagged_and_revoke_is_recommended() {
    let (app, ada) = setup().await;
    let scim = Scim::new(&app, "Okta").await;
    // Everyone but Chloe is known at the provider.
    for email in [
        "ada.admin@example.com",
        "dan@example.com",
        "rita.reviewer@example.com",
        "erin@example.com",
    ] {
        scim.create_user(&person(email)).await;
    }
    let id = create(&ada, &form("Q4 access review", &[])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);

    // Rita reviews Chloe and Erin (the manager mapping): only Chloe's three items carry it.
    let rita = signed_in(&app, RITA).await;
    let page = rita
        .get(&format!("/reviews?campaign={id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("erin@example.com"), "{page}");
    let recommended = page.matches(ORPHAN_RECOMMENDATION).count();
    assert_eq!(recommended, 3, "{page}");
    let (flagged,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM review_items WHERE campaign_id = $1 AND flags LIKE '%orphaned%'",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(flagged, 3);
}

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

/// Names come from Postmark and from imported files: on the queue page they are text, never
/// markup, in the rows and group lines the page writes as one string as much as in the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_from_the_inventory_are_text_on_the_queue_page() {
    use postmark_access_review::postmark::ServerInfo;
    use serde_json::json;

    use crate::{campaigns::call, helpers::TestApp};

    let app = TestApp::spawn().await;
    app.simulator
        .add_server(ServerInfo::sample(1, "<b>Pay & \"ments\"</b>", &["tok-1"]));
    let ada = signed_in(&app, crate::auth::ADA).await;
    assert_eq!(ada.post("/api/inventory_sync_now", &[]).await.status(), 200);
    let users = "email,name,role,status,invited_at,server_id,permission\n\
        eve@example.com,<i>Eve</i> <img src=x onerror=alert(1)>,Server Access,active,,1,Server Admin\n";
    let imported = call(
        &ada,
        "/api/inventory_import_users",
        &json!({ "file_name": "users.csv", "csv": users }),
    )
    .await;
    assert!(imported.get("Imported").is_some(), "{imported}");
    let managers = format!(
        "user_email,manager_email\neve@example.com,{}\n",
        crate::campaigns::RITA_EMAIL
    );
    let mapping = call(
        &ada,
        "/api/managers_import",
        &json!({ "file_name": "managers.csv", "csv": managers }),
    )
    .await;
    assert!(mapping.get("Imported").is_some(), "{mapping}");
    let id = create(&ada, &form("Names", &[])).await;
    assert_eq!(launch(&ada, id).await.status(), 200);

    let rita = signed_in(&app, RITA).await;
    for (grouping, line) in [
        // By person, the row says which server; by server, whose access it is.
        ("person", "server-context"),
        ("server", "person-context"),
    ] {
        let page = rita.get(&format!("/reviews?group={grouping}")).await;
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        // The page as a browser parses it, less the hydration data (JSON with `<` escaped).
        let markup: String = page
            .split("<script")
            .map(|part| {
                part.split_once("</script>")
                    .map_or(part, |(_, after)| after)
            })
            .collect();
        for raw in ["<b>", "<i>", "<img"] {
            assert!(!markup.contains(raw), "{grouping}: {raw} as markup\n{page}");
        }
        assert!(
            markup.contains(&format!("class=\"item-context {line}\"")),
            "{grouping}: {line}\n{page}"
        );
        assert!(
            markup.contains("&lt;i&gt;Eve&lt;/i&gt; &lt;img src=x onerror=alert(1)&gt;"),
            "{grouping}\n{page}"
        );
        assert!(markup.contains("&lt;b&gt;Pay &amp; "), "{grouping}\n{page}");
    }
}

/// Each item of a page looks up the last decision about its access on its own (the page's
/// lookups, on the same-access index), never by reading every decided item: right after a
/// launch PostgreSQL's statistics say nothing is decided, and a queue page read each decision
/// made since. Until a campaign has closed the query stops before any lookup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previous_decisions_are_looked_up_per_item() {
    use postmark_access_review::{db::Backend, reviews::context::previous_select};

    use crate::helpers::backend_under_test;

    let (app, _ada, _id) = crate::campaigns::launched().await;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM review_items")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert!(ids.len() >= 3, "{ids:?}");
    let plan = previous_select(&app.db, &ids).plan(&app.db).await.unwrap();
    // A lookup per item: a correlated subquery on the same-access index.
    let per_item = match backend_under_test() {
        Backend::Sqlite => "CORRELATED SCALAR SUBQUERY",
        Backend::Postgres => "SubPlan",
    };
    assert!(plan.contains(per_item), "{plan}");
    assert!(plan.contains("review_items_same_access"), "{plan}");
    assert!(!plan.contains("review_items_reviewer"), "{plan}");
}

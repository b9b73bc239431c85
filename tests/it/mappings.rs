//! Group mappings over HTTP: an admin previews who gains and loses, saves, and the jobs run
//! through the simulator's users gateway (joiners invited, movers granted, leavers of a group
//! stripped of what it gave), proved by the sync the worker runs; SCIM group changes start
//! the same jobs in their own transaction; bad input changes nothing.

use serde_json::{json, Value};

use crate::{
    auth::{signed_in, Browser, AUBREY, RITA},
    helpers::{count, TestApp},
    offboarding::{person, run_worker, synced},
    scim::{Scim, GROUP},
};

const GROUP_NAME: &str = "postmark-payments-admins";

/// `(action, server, access, status, verification)` of `email`'s mapping jobs.
async fn jobs(app: &TestApp, email: &str) -> Vec<(String, Option<i64>, String, String, String)> {
    sqlx::query_as(
        "SELECT action, server_id, access, status, verification FROM revocations \
         WHERE origin = 'mapping' AND user_email = $1 ORDER BY id",
    )
    .bind(email)
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

async fn call(browser: &Browser, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = browser.post(&format!("/api/{endpoint}"), form).await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn mapping<'a>(permission: &'a str, servers: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("group", "Postmark-Payments-Admins"),
        ("role", ""),
        ("permission", permission),
        ("servers", servers),
    ]
}

fn lines(effect: &Value, side: &str) -> Vec<String> {
    effect[side]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{}: {}",
                l["email"].as_str().unwrap(),
                l["what"].as_str().unwrap()
            )
        })
        .collect()
}

async fn members(scim: &Scim<'_>, group: &str, op: &str, user: &str) {
    let answer = scim
        .patch(
            &format!("/Groups/{group}"),
            json!([{ "op": op, "path": "members", "value": [{ "value": user }] }]),
        )
        .await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
}

fn permissions(app: &TestApp, email: &str) -> Vec<(i64, String)> {
    app.simulator
        .user(email)
        .map(|u| {
            u.servers
                .into_iter()
                .map(|p| (p.server_id, p.permission))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joiners_and_movers_get_what_their_group_maps_to_after_a_preview() {
    let (app, ada) = synced().await;
    let scim = Scim::new(&app, "Okta").await;
    let bea = scim.create_user(&person("bea@example.com")).await;
    let dana = scim.create_user(&person("dana@example.com")).await;
    let group = scim
        .post(
            "/Groups",
            &json!({"schemas": [GROUP], "displayName": GROUP_NAME, "members": [{"value": dana}]}),
        )
        .await;
    assert_eq!(group.status, 201, "{:#}", group.body);
    let group = group.body["id"].as_str().unwrap().to_string();

    // The preview names the joiner's invitation and grants, and saves nothing.
    let (status, effect) = call(&ada, "mapping_preview", &mapping("Server Admin", "2,1")).await;
    assert_eq!(status, 200, "{effect:#}");
    assert_eq!(
        lines(&effect, "gains"),
        [
            "dana@example.com: Invite to the account as Server Access",
            "dana@example.com: Server Admin on server-1 (1)",
            "dana@example.com: Server Admin on server-2 (2)",
        ]
    );
    assert!(lines(&effect, "losses").is_empty());
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM group_mappings").await,
        0
    );
    assert!(jobs(&app, "dana@example.com").await.is_empty());

    let (status, saved) = call(&ada, "mapping_save", &mapping("Server Admin", "1,2")).await;
    assert_eq!(status, 200, "{saved:#}");
    assert_eq!(saved, effect);
    assert_eq!(jobs(&app, "dana@example.com").await.len(), 3);

    // The worker invites Dana, then grants; the sync it runs proves each job.
    let report = run_worker(&app).await;
    assert_eq!(report.done, 3, "{report:?}");
    assert!(report.proved, "{report:?}");
    assert_eq!(
        permissions(&app, "dana@example.com"),
        [
            (1, "Server Admin".to_string()),
            (2, "Server Admin".to_string())
        ]
    );
    let done = jobs(&app, "dana@example.com").await;
    assert!(
        done.iter()
            .all(|j| (j.3.as_str(), j.4.as_str()) == ("done", "effective")),
        "{done:?}"
    );

    // A mover: Bea joins (she lacks Server Admin on server 2 only), Dana leaves the group.
    members(&scim, &group, "add", &bea).await;
    members(&scim, &group, "remove", &dana).await;
    let bea_jobs = jobs(&app, "bea@example.com").await;
    assert_eq!(bea_jobs.len(), 1, "{bea_jobs:?}");
    assert_eq!((bea_jobs[0].0.as_str(), bea_jobs[0].1), ("grant", Some(2)));
    let dana_jobs = jobs(&app, "dana@example.com").await;
    let removals: Vec<_> = dana_jobs[3..].iter().map(|j| (j.0.as_str(), j.1)).collect();
    assert_eq!(
        removals,
        [
            ("remove_permission", Some(1)),
            ("remove_permission", Some(2))
        ]
    );
    // A re-delivery of the same change starts nothing new.
    members(&scim, &group, "remove", &dana).await;
    assert_eq!(jobs(&app, "dana@example.com").await.len(), 5);

    let report = run_worker(&app).await;
    assert_eq!(report.done, 3, "{report:?}");
    assert_eq!(
        permissions(&app, "bea@example.com"),
        [
            (1, "Server Admin".to_string()),
            (2, "Server Admin".to_string())
        ]
    );
    assert!(permissions(&app, "dana@example.com").is_empty());
    assert!(
        app.simulator.user("dana@example.com").is_some(),
        "only what the group gave goes"
    );
    for email in ["bea@example.com", "dana@example.com"] {
        let all = jobs(&app, email).await;
        assert!(all.iter().all(|j| j.4 == "effective"), "{email}: {all:?}");
    }

    // The trail: the save, each job, the membership change.
    let (events,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_events WHERE action = 'mapping.job_started'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(events, 6);
    let (saved,): (String,) =
        sqlx::query_as("SELECT details FROM audit_events WHERE action = 'mapping.saved'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let saved: Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(saved["group"], "Postmark-Payments-Admins");
    assert_eq!(saved["servers"], json!([1, 2]));

    // Deleting the mapping shows Bea's losses first, then starts them.
    let (_, overview) = call(&ada, "mappings_overview", &[]).await;
    let id = overview["mappings"][0]["id"].as_i64().unwrap().to_string();
    assert_eq!(overview["mappings"][0]["members"], 1);
    let (status, effect) = call(&ada, "mapping_delete_preview", &[("id", &id)]).await;
    assert_eq!(status, 200, "{effect:#}");
    assert_eq!(
        lines(&effect, "losses"),
        [
            "bea@example.com: Server Admin on server-1 (1)",
            "bea@example.com: Server Admin on server-2 (2)",
        ]
    );
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM group_mappings").await,
        1
    );
    let (status, _) = call(&ada, "mapping_delete", &[("id", &id)]).await;
    assert_eq!(status, 200);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM group_mappings").await,
        0
    );
    assert_eq!(jobs(&app, "bea@example.com").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_mappings_are_refused_and_only_admins_change_them() {
    let (app, ada) = synced().await;
    for (form, message) in [
        (mapping("Server Owner", "1"), "is not a server permission"),
        (
            mapping("Server Admin", "99"),
            "Server 99 is not in the inventory",
        ),
        (mapping("Server Admin", ""), "Choose the servers"),
        (mapping("", "1"), "Choose a permission"),
        (mapping("Server Admin", "1,x"), "is not a server id"),
        (
            mapping("", ""),
            "grants an account role, a server permission, or both",
        ),
    ] {
        for endpoint in ["mapping_preview", "mapping_save"] {
            let (status, body) = call(&ada, endpoint, &form).await;
            assert_eq!(status, 422, "{endpoint} {form:?}: {body}");
            assert!(body.to_string().contains(message), "{message}: {body}");
        }
    }
    let (status, body) = call(
        &ada,
        "mapping_save",
        &[
            ("group", " "),
            ("role", "Account Admin"),
            ("permission", ""),
            ("servers", ""),
        ],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = call(
        &ada,
        "mapping_save",
        &[
            ("group", "x"),
            ("role", "Account Owner"),
            ("permission", ""),
            ("servers", ""),
        ],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM group_mappings").await,
        0
    );

    // A second mapping for the same group (any case) is refused.
    let (status, _) = call(&ada, "mapping_save", &mapping("Server Viewer", "1")).await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &ada,
        "mapping_save",
        &[
            ("group", GROUP_NAME),
            ("role", "Billing"),
            ("permission", ""),
            ("servers", ""),
        ],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("already has a mapping"), "{body}");

    let rita = signed_in(&app, RITA).await;
    let aubrey = signed_in(&app, AUBREY).await;
    for browser in [&rita, &aubrey] {
        let (status, _) = call(browser, "mapping_save", &mapping("Server Admin", "1")).await;
        assert_eq!(status, 403);
        let (status, _) = call(browser, "mapping_delete", &[("id", "1")]).await;
        assert_eq!(status, 403);
    }
    let (status, _) = call(&rita, "mappings_overview", &[]).await;
    assert_eq!(status, 403);
    let (status, overview) = call(&aubrey, "mappings_overview", &[]).await;
    assert_eq!(status, 200, "{overview}");
    assert_eq!(overview["mappings"][0]["permission"], "Server Viewer");
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM group_mappings").await,
        1
    );
}

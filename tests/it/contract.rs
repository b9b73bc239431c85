//! The simulator's answers conform to Postmark's published API descriptions (copies in
//! `tests/postmark-api/`, see SOURCES.md there): every field it sends is described, with that
//! type.

use postmark_access_review::postmark::{simulator::Simulator, ServerInfo};
use serde_json::Value;
use serde_yaml::Value as Yaml;

pub fn spec(file: &str) -> Yaml {
    let path = format!("{}/tests/postmark-api/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str(&text).unwrap()
}

pub fn schema<'a>(spec: &'a Yaml, name: &str) -> &'a Yaml {
    &spec["components"]["schemas"][name]
}

/// Checks `value` against an OpenAPI schema (type, properties, items, $ref); returns problems.
pub fn check(spec: &Yaml, schema: &Yaml, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return check(
            spec,
            &spec["components"]["schemas"][name],
            value,
            at,
            problems,
        );
    }
    let ok = match (schema["type"].as_str(), value) {
        (Some("object"), Value::Object(map)) => {
            for (key, field) in map {
                let property = &schema["properties"][key.as_str()];
                if property.is_null() {
                    problems.push(format!("{at}.{key} is not in the description"));
                } else {
                    check(spec, property, field, &format!("{at}.{key}"), problems);
                }
            }
            true
        }
        (Some("array"), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check(
                    spec,
                    &schema["items"],
                    item,
                    &format!("{at}[{i}]"),
                    problems,
                );
            }
            true
        }
        (Some("integer"), Value::Number(n)) => n.is_i64() || n.is_u64(),
        (Some("number"), Value::Number(_)) => true,
        (Some("string"), Value::String(s)) => schema["enum"]
            .as_sequence()
            .is_none_or(|allowed| allowed.iter().any(|a| a.as_str() == Some(s))),
        (Some("boolean"), Value::Bool(_)) => true,
        (None, _) => true,
        _ => false,
    };
    if !ok {
        problems.push(format!(
            "{at} = {value} does not match {:?}",
            schema["type"]
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_answers_match_the_published_descriptions() {
    let account = spec("account-api.yaml");
    let server_api = spec("server-api.yaml");
    let sim = Simulator::new("token");
    sim.seed_demo_account();
    let mut odd = ServerInfo::sample(1, "odd", &["t-odd"]);
    odd.delivery_hook_url = None;
    odd.inbound_spam_threshold = None;
    sim.add_server(odd);
    let url = sim.spawn(0).await.unwrap();
    let client = reqwest::Client::new();

    let servers: Value = client
        .get(url.join("servers?count=500&offset=0").unwrap())
        .header("X-Postmark-Account-Token", "token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut problems = Vec::new();
    check(
        &account,
        schema(&account, "ServerListingResponse"),
        &servers,
        "servers",
        &mut problems,
    );
    assert_eq!(servers["Servers"].as_array().unwrap().len(), 16);

    let stats: Value = client
        .get(
            url.join("stats/outbound?fromdate=2026-10-29&todate=2026-11-28")
                .unwrap(),
        )
        .header("X-Postmark-Server-Token", "t-odd")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    check(
        &server_api,
        schema(&server_api, "OutboundOverviewStatsResponse"),
        &stats,
        "stats",
        &mut problems,
    );

    let error: Value = client
        .get(url.join("servers?count=500&offset=0").unwrap())
        .header("X-Postmark-Account-Token", "wrong")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    check(
        &account,
        schema(&account, "StandardPostmarkResponse"),
        &error,
        "error",
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_checker_notices_what_does_not_conform() {
    let account = spec("account-api.yaml");
    let mut problems = Vec::new();
    let wrong = serde_json::json!({ "TotalCount": "3", "Servers": [{ "ID": 1, "Nickname": "x", "TrackLinks": "Sometimes" }] });
    check(
        &account,
        schema(&account, "ServerListingResponse"),
        &wrong,
        "servers",
        &mut problems,
    );
    assert_eq!(problems.len(), 3, "{problems:#?}");
}

/// Fields Postmark documents for `POST /email` (developer docs, Email API) that the copy of
/// the description in `tests/postmark-api/` predates; checked here by hand instead.
const SEND_EMAIL_GAPS: [&str; 2] = ["Metadata", "MessageStream"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emails_the_app_sends_match_the_published_description() {
    use postmark_access_review::{
        email::Email,
        notifications::{
            db::{enqueue, NewNotification},
            Kind,
        },
    };

    let server_api = spec("server-api.yaml");
    let app = crate::helpers::TestApp::builder().mail().spawn().await;
    let (campaign_id,): (i64,) = sqlx::query_as(
        "INSERT INTO campaigns (name, description, status, kinds, starts_on, due_on, \
         default_outcome, revoke_needs_justification, privileged_needs_justification, \
         use_manager_mapping, use_server_owners, fallback_reviewer, created_by, created_at, \
         updated_at) VALUES ('Q4', '', 'active', '[]', '2026-11-28', '2026-12-15', 'keep', 0, \
         0, 0, 0, 'ada@example.com', 'ada@example.com', 'x', 'x') RETURNING id",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let data = serde_json::json!({
        "campaign_name": "Q4", "items": 2, "due_on": "2026-12-15", "contact": "ada@example.com",
        "from": "manny@example.com", "what": "Server Admin on Billing",
        "overdue": ["rita@example.com"],
        "task_id": 1, "lines": ["Remove rita@example.com's \"Server Admin\" permission."],
    });
    let recipient = Email::parse("rita@example.com").unwrap();
    let mut tx = app.db.begin().await.unwrap();
    for kind in Kind::ALL {
        let new = NewNotification {
            kind,
            recipient: &recipient,
            campaign_id: Some(campaign_id),
            data: data.clone(),
        };
        enqueue(&mut tx, &app.clock, &new).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(app.worker.run_once().await.unwrap().sent, Kind::ALL.len());

    let mut problems = Vec::new();
    let sent = app.simulator.sent_emails();
    assert_eq!(sent.len(), Kind::ALL.len());
    for (i, (_, body)) in sent.iter().enumerate() {
        let mut described = body.clone();
        let map = described.as_object_mut().unwrap();
        for gap in SEND_EMAIL_GAPS {
            map.remove(gap);
        }
        check(
            &server_api,
            schema(&server_api, "SendEmailRequest"),
            &described,
            &format!("email[{i}]"),
            &mut problems,
        );
        assert!(body["MessageStream"].is_string(), "{body}");
        assert!(
            body["Metadata"]
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string)),
            "Metadata values are strings: {body}"
        );
        for required in ["From", "To", "Subject", "TextBody", "HtmlBody", "Tag"] {
            assert!(body[required].is_string(), "{required} missing: {body}");
        }
    }

    // The simulator's answers to `POST /email`, accepted and refused.
    let client = reqwest::Client::new();
    let post = |body: Value| {
        client
            .post(app.simulator_url.join("email").unwrap())
            .header("X-Postmark-Server-Token", crate::helpers::MAIL_TOKEN)
            .json(&body)
            .send()
    };
    let accepted = post(sent[0].1.clone()).await.unwrap();
    assert_eq!(accepted.status(), 200);
    let accepted: Value = accepted.json().await.unwrap();
    check(
        &server_api,
        schema(&server_api, "SendEmailResponse"),
        &accepted,
        "accepted",
        &mut problems,
    );
    app.simulator.deactivate_recipient("rita@example.com");
    let refused = post(sent[0].1.clone()).await.unwrap();
    assert_eq!(refused.status(), 422);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["ErrorCode"], 406);
    check(
        &server_api,
        schema(&server_api, "StandardPostmarkResponse"),
        &refused,
        "refused",
        &mut problems,
    );
    let unknown = post(
        serde_json::json!({"From": "a@b.io", "To": "c@d.io", "TextBody": "x", "Colour": "red"}),
    )
    .await
    .unwrap();
    assert_eq!(
        unknown.status(),
        422,
        "fields outside the description are refused"
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

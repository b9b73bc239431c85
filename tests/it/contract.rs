//! The simulator's answers conform to Postmark's published API descriptions (copies in
//! `tests/postmark-api/`, see SOURCES.md there): every field it sends is described, with that
//! type.

use postmark_access_review::postmark::{simulator::Simulator, ServerInfo};
use serde_json::Value;
use serde_yaml::Value as Yaml;

fn spec(file: &str) -> Yaml {
    let path = format!("{}/tests/postmark-api/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str(&text).unwrap()
}

fn schema<'a>(spec: &'a Yaml, name: &str) -> &'a Yaml {
    &spec["components"]["schemas"][name]
}

/// Checks `value` against an OpenAPI schema (type, properties, items, $ref); returns problems.
fn check(spec: &Yaml, schema: &Yaml, value: &Value, at: &str, problems: &mut Vec<String>) {
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

#[tokio::test]
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

//! An audit event's details (a JSON object) as `key: value` lines for the Audit page: nested
//! objects by dotted keys (`after.decision: revoke`), arrays of plain values on one line,
//! arrays of objects numbered from 1 (`fields[1].field: role`).

use leptos::prelude::*;
use serde_json::Value;

/// The lines of a details object, in its key order; text that is not JSON is one `details`
/// line, an empty object none.
pub fn detail_lines(details: &str) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    match serde_json::from_str::<Value>(details) {
        Ok(value) => flatten("", &value, &mut lines),
        Err(_) => lines.push(("details".to_string(), details.to_string())),
    }
    lines
}

fn flatten(key: &str, value: &Value, lines: &mut Vec<(String, String)>) {
    let child = |name: &str| {
        if key.is_empty() {
            name.to_string()
        } else {
            format!("{key}.{name}")
        }
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (name, inner) in map {
                flatten(&child(name), inner, lines);
            }
        }
        Value::Object(_) if key.is_empty() => {}
        Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
            for (n, item) in items.iter().enumerate() {
                flatten(&format!("{key}[{}]", n + 1), item, lines);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let joined = items.iter().map(plain).collect::<Vec<_>>().join(", ");
            lines.push((key.to_string(), joined));
        }
        other => lines.push((
            if key.is_empty() { "value" } else { key }.to_string(),
            plain(other),
        )),
    }
}

/// A value without JSON quoting: strings as they are, null and empty containers as "none".
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "none".to_string(),
        Value::Array(items) if items.is_empty() => "none".to_string(),
        Value::Object(map) if map.is_empty() => "none".to_string(),
        other => other.to_string(),
    }
}

/// The lines as a description list (one term and its value a line); nothing for no details.
#[component]
pub fn EventDetails(details: String) -> impl IntoView {
    let lines = detail_lines(&details);
    (!lines.is_empty()).then(|| {
        view! {
            <dl class="event-details">
                {lines
                    .into_iter()
                    .map(|(key, value)| view! { <div><dt>{key}</dt><dd>{value}</dd></div> })
                    .collect_view()}
            </dl>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::detail_lines;

    fn lines(details: &str) -> Vec<String> {
        detail_lines(details)
            .into_iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect()
    }

    #[test]
    fn nested_objects_read_as_dotted_keys() {
        assert_eq!(
            lines(r#"{"before":{"decision":"approve"},"after":{"decision":"revoke","by":null}}"#),
            [
                "after.by: none",
                "after.decision: revoke",
                "before.decision: approve"
            ]
        );
    }

    #[test]
    fn arrays_are_listed_or_numbered() {
        assert_eq!(
            lines(
                r#"{"emails":["a@x.com","b@x.com"],"fields":[{"field":"role","before":"Viewer","after":"Admin"}],"none":[]}"#
            ),
            [
                "emails: a@x.com, b@x.com",
                "fields[1].after: Admin",
                "fields[1].before: Viewer",
                "fields[1].field: role",
                "none: none",
            ]
        );
    }

    #[test]
    fn plain_values_and_odd_text() {
        assert_eq!(lines("{}"), Vec::<String>::new());
        assert_eq!(
            lines(r#"{"count":2,"ok":true,"empty":{}}"#),
            ["count: 2", "empty: none", "ok: true"]
        );
        assert_eq!(lines("not json"), ["details: not json"]);
    }
}

//! Canonical encoding and hash of an audit event.
//!
//! The hash input is a JSON object with keys sorted by byte order at every level, no
//! whitespace, strings escaped as JSON requires, and these members:
//!
//! ```text
//! {"action":…,"actor":{"email":…,"issuer":…,"kind":…,"sub":…},"details":{…},
//!  "occurred_at":"2026-11-28T17:09:33.123456Z","prev_hash":"<64 hex>","seq":N,"subject":…,"v":1}
//! ```
//!
//! Missing actor fields are `null`. `hash` is the lowercase hex SHA-256 of that UTF-8 text.
//! The sorting is done here rather than relying on `serde_json`'s map type, whose order changes
//! with a cargo feature some other crate could switch on.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The fields covered by the hash, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedFields<'a> {
    pub seq: i64,
    pub occurred_at: &'a str,
    pub actor_kind: &'a str,
    pub actor_issuer: Option<&'a str>,
    pub actor_sub: Option<&'a str>,
    pub actor_email: Option<&'a str>,
    pub action: &'a str,
    pub subject: &'a str,
    pub details: &'a Value,
    pub prev_hash: &'a str,
}

/// Version of the encoding, part of the hash input so a future change cannot collide.
pub const ENCODING_VERSION: u32 = 1;

/// The canonical text that is hashed.
pub fn canonical_input(fields: &HashedFields<'_>) -> String {
    let envelope = json!({
        "v": ENCODING_VERSION,
        "seq": fields.seq,
        "occurred_at": fields.occurred_at,
        "actor": {
            "kind": fields.actor_kind,
            "issuer": fields.actor_issuer,
            "sub": fields.actor_sub,
            "email": fields.actor_email,
        },
        "action": fields.action,
        "subject": fields.subject,
        "details": fields.details,
        "prev_hash": fields.prev_hash,
    });
    canonical_json(&envelope)
}

/// SHA-256 of the canonical input, lowercase hex.
pub fn event_hash(fields: &HashedFields<'_>) -> String {
    hex::encode(Sha256::digest(canonical_input(fields).as_bytes()))
}

/// Serializes a JSON value with object keys sorted at every level and no whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::String(s) => write_string(s, out),
        // null, booleans and numbers have one textual form in serde_json.
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push_str(&Value::String(s.to_string()).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(details: &Value) -> HashedFields<'_> {
        HashedFields {
            seq: 1,
            occurred_at: "2026-11-28T17:09:33.000000Z",
            actor_kind: "system",
            actor_issuer: None,
            actor_sub: Some("cli"),
            actor_email: None,
            action: "test.event",
            subject: "thing:1",
            details,
            prev_hash: super::super::GENESIS_HASH,
        }
    }

    #[test]
    fn keys_are_sorted_at_every_level() {
        let value = json!({"b": 1, "a": {"z": [3, {"y": true, "x": null}], "c": "é\"\n"}});
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":"é\"\n","z":[3,{"x":null,"y":true}]},"b":1}"#
        );
    }

    #[test]
    fn known_answer() {
        let details = json!({"count": 2});
        let input = canonical_input(&sample(&details));
        assert_eq!(
            input,
            "{\"action\":\"test.event\",\"actor\":{\"email\":null,\"issuer\":null,\"kind\":\"system\",\"sub\":\"cli\"},\
             \"details\":{\"count\":2},\"occurred_at\":\"2026-11-28T17:09:33.000000Z\",\
             \"prev_hash\":\"0000000000000000000000000000000000000000000000000000000000000000\",\
             \"seq\":1,\"subject\":\"thing:1\",\"v\":1}"
        );
        assert_eq!(
            event_hash(&sample(&details)),
            hex::encode(Sha256::digest(input.as_bytes()))
        );
    }

    #[test]
    fn every_field_changes_the_hash() {
        let details = json!({"count": 2});
        let base = sample(&details);
        let other_details = json!({"count": 3});
        let variants = [
            HashedFields {
                seq: 2,
                ..base.clone()
            },
            HashedFields {
                occurred_at: "2026-11-28T17:09:33.000001Z",
                ..base.clone()
            },
            HashedFields {
                actor_sub: Some("worker"),
                ..base.clone()
            },
            HashedFields {
                action: "test.other",
                ..base.clone()
            },
            HashedFields {
                subject: "thing:2",
                ..base.clone()
            },
            HashedFields {
                details: &other_details,
                ..base.clone()
            },
            HashedFields {
                prev_hash: "1",
                ..base.clone()
            },
        ];
        let original = event_hash(&base);
        for variant in variants {
            assert_ne!(event_hash(&variant), original, "{variant:?}");
        }
    }
}

//! `signoff.json`: what a sign-off states besides the item records, in a fixed field order
//! (serde writes struct fields in declaration order), pretty-printed with a final newline.
//! The signature covers these exact bytes; the format name changes if the layout ever does.

use serde::Serialize;
use serde_json::Value;

/// The first field of every manifest.
pub const FORMAT: &str = "par-campaign-signoff v1";

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    pub campaign: CampaignFacts,
    /// The inventory the campaign was launched from.
    pub snapshot: Snapshot,
    pub report: FileDigest,
    pub population: FileDigest,
    pub outcomes: Outcomes,
    /// The audit log's head just before the sign-off was recorded.
    pub audit_head: AuditHead,
    pub signed_off: Signed,
    /// Fingerprint (SHA-256 of the raw 32-byte public key, hex) of the signing key.
    pub key: String,
}

/// The campaign's settings as launched; list fields are `null` for "all".
#[derive(Debug, Clone, Serialize)]
pub struct CampaignFacts {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub kinds: Value,
    pub server_ids: Value,
    pub roles: Value,
    pub starts_on: String,
    pub due_on: String,
    pub default_outcome: String,
    pub revoke_needs_justification: bool,
    pub privileged_needs_justification: bool,
    pub use_manager_mapping: bool,
    pub use_server_owners: bool,
    pub fixed_reviewer: Option<String>,
    pub fallback_reviewer: String,
    pub revocation_mode: String,
    pub created_by: String,
    pub launched_at: Option<String>,
    pub launched_by: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub servers_sync_id: Option<i64>,
    pub servers_synced_at: Option<String>,
    pub users_sync_id: Option<i64>,
    pub users_synced_at: Option<String>,
}

/// A file of the bundle: its name, SHA-256 (hex) and number of records after the header.
#[derive(Debug, Clone, Serialize)]
pub struct FileDigest {
    pub file: &'static str,
    pub sha256: String,
    pub records: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcomes {
    pub items: i64,
    pub approved: i64,
    pub revoked: i64,
    pub revocations_done: i64,
    pub revocations_excluded: i64,
    pub revocations_cancelled: i64,
    pub revocations_failed_acknowledged: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditHead {
    pub count: i64,
    pub seq: i64,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Signed {
    pub by: String,
    pub at: String,
    pub statement: String,
}

impl Manifest {
    /// The signed bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// The `sha256` and `records` of one file named in a stored manifest (to check the stored
/// report against what was signed).
pub fn digest_of(manifest: &str, file: &str) -> Option<(String, i64)> {
    let value: Value = serde_json::from_str(manifest).ok()?;
    let entry = ["report", "population"]
        .iter()
        .filter_map(|k| value.get(*k))
        .find(|e| e.get("file").and_then(Value::as_str) == Some(file))?;
    Some((
        entry.get("sha256")?.as_str()?.to_string(),
        entry.get("records")?.as_i64()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT,
            campaign: CampaignFacts {
                id: 3,
                name: "Q3 review".into(),
                description: "All access".into(),
                kinds: serde_json::json!(["server_permission"]),
                server_ids: Value::Null,
                roles: Value::Null,
                starts_on: "2026-07-01".into(),
                due_on: "2026-07-15".into(),
                default_outcome: "flag".into(),
                revoke_needs_justification: true,
                privileged_needs_justification: true,
                use_manager_mapping: true,
                use_server_owners: false,
                fixed_reviewer: None,
                fallback_reviewer: "ada@example.com".into(),
                revocation_mode: "at_close".into(),
                created_by: "ada@example.com".into(),
                launched_at: None,
                launched_by: None,
                closed_at: None,
                closed_by: None,
            },
            snapshot: Snapshot {
                servers_sync_id: Some(1),
                servers_synced_at: None,
                users_sync_id: None,
                users_synced_at: None,
            },
            report: FileDigest {
                file: "report.csv",
                sha256: "ab".repeat(32),
                records: 12,
            },
            population: FileDigest {
                file: "population.csv",
                sha256: "cd".repeat(32),
                records: 12,
            },
            outcomes: Outcomes::default(),
            audit_head: AuditHead {
                count: 10,
                seq: 10,
                hash: "ef".repeat(32),
            },
            signed_off: Signed {
                by: "ada@example.com".into(),
                at: "2026-07-20T10:00:00.000000Z".into(),
                statement: "Carried out as recorded.".into(),
            },
            key: "01".repeat(32),
        }
    }

    #[test]
    fn the_bytes_start_with_the_format_and_end_with_a_newline() {
        let bytes = manifest().to_bytes().unwrap_or_default();
        let text = String::from_utf8(bytes).unwrap_or_default();
        assert!(
            text.starts_with(
                "{\n  \"format\": \"par-campaign-signoff v1\",\n  \"campaign\": {\n    \"id\": 3,"
            ),
            "{text}"
        );
        assert!(text.ends_with("}\n"));
        assert_eq!(digest_of(&text, "report.csv"), Some(("ab".repeat(32), 12)));
        assert_eq!(
            digest_of(&text, "population.csv"),
            Some(("cd".repeat(32), 12))
        );
        assert_eq!(digest_of(&text, "other.csv"), None);
    }
}

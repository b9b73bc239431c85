//! The users CSV: strict parsing that reports every bad row and column at once.
//!
//! Columns (header row required, any order, case-insensitive):
//! `email`, `name`, `role`, `status` (required) and `invited_at`, `server_id`, `permission`
//! (optional). One row per user, or one row per user and server permission; user fields
//! must agree across a user's rows. UTF-8, with or without BOM; RFC 4180 quoting.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::{
    csv_file::{decode, Errors, Rejected, MAX_ROWS},
    email::Email,
};

const REQUIRED: [&str; 4] = ["email", "name", "role", "status"];
const OPTIONAL: [&str; 3] = ["invited_at", "server_id", "permission"];

/// A user as imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserRecord {
    pub email: Email,
    pub name: String,
    pub role: String,
    pub status: String,
    pub invited_at: Option<String>,
    /// Postmark server id → permission name.
    pub permissions: BTreeMap<i64, String>,
}

fn valid_date(text: &str) -> bool {
    time::Date::parse(
        text,
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .is_ok()
}

/// Parses and checks a whole file. `known_servers` are the servers of the current inventory:
/// a permission on any other server is an error (sync servers first).
pub fn parse(bytes: &[u8], known_servers: &HashSet<i64>) -> Result<Vec<UserRecord>, Rejected> {
    let mut errors = Errors::default();
    let text = decode(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());

    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.to_ascii_lowercase()).collect(),
        Err(e) => {
            errors.push(1, None, format!("the header row could not be read: {e}"));
            return Err(errors.into_rejected());
        }
    };
    let mut column: HashMap<&str, usize> = HashMap::new();
    for (i, name) in headers.iter().enumerate() {
        match REQUIRED.iter().chain(OPTIONAL.iter()).find(|c| **c == name.as_str()) {
            Some(known) if column.contains_key(known) => {
                errors.push(1, Some(known), "this column appears twice")
            }
            Some(known) => {
                column.insert(known, i);
            }
            None => errors.push(
                1,
                Some(name),
                "unknown column (expected email, name, role, status, invited_at, server_id, permission)",
            ),
        }
    }
    for required in REQUIRED {
        if !column.contains_key(required) {
            errors.push(1, Some(required), "required column is missing");
        }
    }
    if !errors.list.is_empty() {
        return Err(errors.into_rejected());
    }

    let mut raw_rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                errors.push(line, None, format!("this row could not be read: {e}"));
                continue;
            }
        };
        if raw_rows.len() >= MAX_ROWS {
            errors.push(0, None, format!("more than {MAX_ROWS} rows"));
            break;
        }
        let line = record
            .position()
            .map_or(raw_rows.len() + 2, |p| p.line() as usize);
        let field = |name: &str| {
            column
                .get(name)
                .and_then(|i| record.get(*i))
                .unwrap_or("")
                .to_string()
        };
        raw_rows.push(RawRow {
            line,
            email: field("email"),
            name: field("name"),
            role: field("role"),
            status: field("status"),
            invited_at: field("invited_at"),
            server_id: field("server_id"),
            permission: field("permission"),
        });
    }
    validate(raw_rows, known_servers, errors)
}

/// One row of user data before checking, from a file or the users gateway.
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    /// Where the row came from, for error messages (a file line, a gateway list position).
    pub line: usize,
    pub email: String,
    pub name: String,
    pub role: String,
    pub status: String,
    pub invited_at: String,
    pub server_id: String,
    pub permission: String,
}

/// Checks users from the users gateway with the same rules as a file; `line` in errors is the
/// position in the gateway's list (1-based).
pub fn from_gateway(
    users: &[crate::postmark::gateway::GatewayUser],
    known_servers: &HashSet<i64>,
) -> Result<Vec<UserRecord>, Rejected> {
    let mut rows = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let base = RawRow {
            line: i + 1,
            email: user.email.trim().to_string(),
            name: user.name.trim().to_string(),
            role: user.role.trim().to_string(),
            status: user.status.trim().to_string(),
            invited_at: user.invited_at.clone().unwrap_or_default(),
            ..RawRow::default()
        };
        for permission in &user.servers {
            rows.push(RawRow {
                server_id: permission.server_id.to_string(),
                permission: permission.permission.trim().to_string(),
                ..base.clone()
            });
        }
        if user.servers.is_empty() {
            rows.push(base);
        }
    }
    validate(rows, known_servers, Errors::default())
}

fn validate(
    rows: Vec<RawRow>,
    known_servers: &HashSet<i64>,
    mut errors: Errors,
) -> Result<Vec<UserRecord>, Rejected> {
    let mut users: BTreeMap<Email, (usize, UserRecord)> = BTreeMap::new();
    let mut owners = Vec::new();
    let row_count = rows.len();
    for row in rows {
        let line = row.line;
        let email = Email::parse(&row.email);
        let (name, role, status) = (row.name, row.role, row.status.to_lowercase());
        let invited_at = Some(row.invited_at).filter(|v| !v.is_empty());
        let (server_id, permission) = (row.server_id, row.permission);
        let before = errors.list.len() + errors.more;
        if let Err(bad) = &email {
            errors.push(
                line,
                Some("email"),
                format!("`{}` is not an email address", bad.0.trim().to_lowercase()),
            );
        }
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(line, Some("name"), "must be 1 to 200 characters");
        }
        if role.is_empty() || role.chars().count() > 100 {
            errors.push(
                line,
                Some("role"),
                "must be 1 to 100 characters (e.g. Account Admin)",
            );
        }
        if !matches!(status.as_str(), "active" | "pending") {
            errors.push(
                line,
                Some("status"),
                format!("`{status}` is not active or pending"),
            );
        }
        if let Some(date) = &invited_at {
            if !valid_date(date) {
                errors.push(
                    line,
                    Some("invited_at"),
                    format!("`{date}` is not a date (YYYY-MM-DD)"),
                );
            }
        }
        let server = match (server_id.is_empty(), permission.is_empty()) {
            (true, true) => None,
            (false, true) => {
                errors.push(
                    line,
                    Some("permission"),
                    "a server_id needs a permission (e.g. Server Admin)",
                );
                None
            }
            (true, false) => {
                errors.push(line, Some("server_id"), "a permission needs a server_id");
                None
            }
            (false, false) => match server_id.parse::<i64>() {
                Ok(id) if known_servers.contains(&id) => {
                    if permission.chars().count() > 100 {
                        errors.push(line, Some("permission"), "must be at most 100 characters");
                    }
                    Some((id, permission))
                }
                Ok(id) => {
                    errors.push(
                        line,
                        Some("server_id"),
                        format!("server {id} is not in the inventory (sync servers first)"),
                    );
                    None
                }
                Err(_) => {
                    errors.push(
                        line,
                        Some("server_id"),
                        format!("`{server_id}` is not a server id"),
                    );
                    None
                }
            },
        };
        let Ok(email) = email else { continue };
        if errors.list.len() + errors.more > before {
            continue;
        }

        match users.get_mut(&email) {
            Some((first_line, existing)) => {
                let same = existing.name == name
                    && existing.role == role
                    && existing.status == status
                    && existing.invited_at == invited_at;
                if !same {
                    errors.push(line, None, format!("{email} has different name, role, status or invited_at than on line {first_line}"));
                } else if let Some((id, permission)) = server {
                    if existing.permissions.insert(id, permission).is_some() {
                        errors.push(
                            line,
                            Some("server_id"),
                            format!("{email} is given server {id} twice"),
                        );
                    }
                }
            }
            None => {
                if role.eq_ignore_ascii_case("Account Owner") {
                    owners.push(line);
                }
                let mut permissions = BTreeMap::new();
                if let Some((id, permission)) = server {
                    permissions.insert(id, permission);
                }
                users.insert(
                    email.clone(),
                    (
                        line,
                        UserRecord {
                            email,
                            name,
                            role,
                            status,
                            invited_at,
                            permissions,
                        },
                    ),
                );
            }
        }
    }
    if owners.len() > 1 {
        errors.push(
            owners[1],
            Some("role"),
            "a Postmark account has one Account Owner; another is on line ".to_string()
                + &owners[0].to_string(),
        );
    }
    if row_count == 0 {
        errors.push(2, None, "there are no users");
    }
    if errors.list.is_empty() {
        Ok(users.into_values().map(|(_, u)| u).collect())
    } else {
        Err(errors.into_rejected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers() -> HashSet<i64> {
        [1, 2, 3].into_iter().collect()
    }

    #[test]
    fn reads_quoted_fields_bom_and_permission_rows() {
        let file = "\u{feff}Email,Name,Role,Status,invited_at,server_id,permission\n\
                    ada@example.com,\"Lovelace, Ada\",Account Admin,active,,,\n\
                    Rita@Example.com,Rita,Member,active,,1,Server Admin\n\
                    rita@example.com,Rita,Member,active,,2,\"Server Viewer\"\n\
                    pat@example.com,Pat,Member,pending,2026-09-01,,\n";
        let users = parse(file.as_bytes(), &servers()).unwrap();
        assert_eq!(users.len(), 3);
        assert_eq!(users[0].name, "Lovelace, Ada");
        let rita = users
            .iter()
            .find(|u| u.email == "rita@example.com")
            .unwrap();
        assert_eq!(rita.permissions.len(), 2);
        assert_eq!(rita.permissions[&2], "Server Viewer");
    }

    #[test]
    fn reports_every_bad_row_and_column() {
        let file = "email,name,role,status,server_id,permission\n\
                    not-an-email,A,Member,active,,\n\
                    b@example.com,,Member,sleeping,,\n\
                    c@example.com,C,Member,active,99,Server Admin\n\
                    d@example.com,D,Member,active,1,\n";
        let rejected = parse(file.as_bytes(), &servers()).unwrap_err();
        let found: Vec<(usize, Option<&str>)> = rejected
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                (2, Some("email")),
                (3, Some("name")),
                (3, Some("status")),
                (4, Some("server_id")),
                (5, Some("permission"))
            ]
        );
    }

    #[test]
    fn header_problems_and_empty_files() {
        let rejected = parse(b"email,name,colour\n", &servers()).unwrap_err();
        let messages: Vec<_> = rejected
            .errors
            .iter()
            .map(|e| e.column.clone().unwrap_or_default())
            .collect();
        assert_eq!(messages, ["colour", "role", "status"]);
        let rejected = parse(b"email,name,role,status\n", &servers()).unwrap_err();
        assert_eq!(rejected.errors[0].message, "there are no users");
        assert!(parse(&[0xff, 0xfe, 0x00], &servers()).is_err());
    }

    #[test]
    fn conflicting_rows_duplicates_and_two_owners() {
        let file = "email,name,role,status,server_id,permission\n\
                    a@example.com,A,Account Owner,active,1,Server Admin\n\
                    a@example.com,A,Account Owner,active,1,Server Viewer\n\
                    a@example.com,A2,Account Owner,active,,\n\
                    b@example.com,B,account owner,active,,\n";
        let rejected = parse(file.as_bytes(), &servers()).unwrap_err();
        let lines: Vec<usize> = rejected.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5]);
    }
}

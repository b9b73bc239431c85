//! The manager mapping: a CSV of `user_email,manager_email` that sends items about a user to
//! their manager. Checked like the users import: every bad row and column is reported at once
//! and a file with any problem changes nothing. An import replaces the whole mapping.

use std::collections::{BTreeMap, HashSet};

use serde_json::json;

use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    csv_file::{decode, Errors, Rejected, MAX_ROWS},
    db::Db,
    email::Email,
    error::AppError,
};

/// Parses a mapping file into `user → manager`.
pub fn parse(bytes: &[u8]) -> Result<BTreeMap<Email, Email>, Rejected> {
    let text = decode(bytes)?;
    let mut errors = Errors::default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_ascii_lowercase).collect(),
        Err(e) => {
            errors.push(1, None, format!("the header row could not be read: {e}"));
            return Err(errors.into_rejected());
        }
    };
    let user_col = headers.iter().position(|h| h == "user_email");
    let manager_col = headers.iter().position(|h| h == "manager_email");
    for (name, found) in [("user_email", user_col), ("manager_email", manager_col)] {
        if found.is_none() {
            errors.push(1, Some(name), "required column is missing");
        }
    }
    for header in headers
        .iter()
        .filter(|h| *h != "user_email" && *h != "manager_email")
    {
        errors.push(
            1,
            Some(header),
            "unknown column (expected user_email, manager_email)",
        );
    }
    let (Some(user_col), Some(manager_col), true) = (user_col, manager_col, errors.list.is_empty())
    else {
        return Err(errors.into_rejected());
    };
    let mut mapping = BTreeMap::new();
    let mut first_line: BTreeMap<Email, usize> = BTreeMap::new();
    for (index, record) in reader.records().enumerate() {
        if index >= MAX_ROWS {
            errors.push(0, None, format!("more than {MAX_ROWS} rows"));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                errors.push(line, None, format!("this row could not be read: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(index + 2, |p| p.line() as usize);
        let mut column = |column: &str, index: usize| {
            let value = record.get(index).unwrap_or("");
            if value.is_empty() {
                errors.push(line, Some(column), "is empty");
                return None;
            }
            Email::parse(value)
                .map_err(|_| {
                    let shown = value.to_lowercase();
                    errors.push(
                        line,
                        Some(column),
                        format!("`{shown}` is not an email address"),
                    );
                })
                .ok()
        };
        let (Some(user), Some(manager)) = (
            column("user_email", user_col),
            column("manager_email", manager_col),
        ) else {
            continue;
        };
        let mut ok = true;
        if user == manager {
            errors.push(
                line,
                Some("manager_email"),
                "a person cannot be their own manager",
            );
            ok = false;
        }
        if let Some(first) = first_line.get(&user) {
            errors.push(
                line,
                Some("user_email"),
                format!("{user} already has a manager on line {first}"),
            );
            ok = false;
        }
        if ok {
            first_line.insert(user.clone(), line);
            mapping.insert(user, manager);
        }
    }
    if errors.list.is_empty() && mapping.is_empty() {
        errors.push(0, None, "the file has no rows");
    }
    if errors.list.is_empty() && errors.more == 0 {
        Ok(mapping)
    } else {
        Err(errors.into_rejected())
    }
}

/// What an import changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub rows: usize,
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub not_in_inventory: usize,
}

/// The mapping in force, `user → manager`.
pub async fn current(db: &Db) -> Result<BTreeMap<String, String>, sqlx::Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT user_email, manager_email FROM manager_mappings")
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().collect())
}

/// Replaces the mapping, with an audit event listing what changed.
pub async fn import(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    source: &str,
    mapping: BTreeMap<Email, Email>,
) -> Result<Imported, AppError> {
    let mapping: BTreeMap<String, String> = mapping
        .into_iter()
        .map(|(user, manager)| (user.into_string(), manager.into_string()))
        .collect();
    let mut tx = db.begin().await?;
    let before: Vec<(String, String)> =
        sqlx::query_as("SELECT user_email, manager_email FROM manager_mappings")
            .fetch_all(&mut *tx)
            .await?;
    let before: BTreeMap<String, String> = before.into_iter().collect();
    let users: Vec<(String,)> = sqlx::query_as("SELECT email FROM postmark_users")
        .fetch_all(&mut *tx)
        .await?;
    let users: HashSet<String> = users.into_iter().map(|(e,)| e).collect();
    sqlx::query("DELETE FROM manager_mappings")
        .execute(&mut *tx)
        .await?;
    let now = format_timestamp(clock.now());
    for (user, manager) in &mapping {
        sqlx::query(
            "INSERT INTO manager_mappings (user_email, manager_email, imported_at) \
             VALUES ($1, $2, $3)",
        )
        .bind(user)
        .bind(manager)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    let mut changes = BTreeMap::new();
    for user in before.keys().chain(mapping.keys()) {
        let (was, is) = (before.get(user), mapping.get(user));
        if was != is {
            changes.insert(user.clone(), json!({ "before": was, "after": is }));
        }
    }
    let outcome = Imported {
        rows: mapping.len(),
        added: mapping.keys().filter(|u| !before.contains_key(*u)).count(),
        removed: before.keys().filter(|u| !mapping.contains_key(*u)).count(),
        changed: mapping
            .iter()
            .filter(|(u, m)| before.get(*u).is_some_and(|b| b != *m))
            .count(),
        not_in_inventory: mapping.keys().filter(|u| !users.contains(*u)).count(),
    };
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("managers.imported", "setting:manager_mapping").details(json!({
            "source": source,
            "rows": outcome.rows,
            "added": outcome.added,
            "removed": outcome.removed,
            "changed": outcome.changed,
            "changes": changes,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_mapping_with_bom_and_mixed_case() {
        let mapping = parse(
            b"\xEF\xBB\xBFUser_Email,manager_email\nChloe.Chen@example.com,Rita@Example.com\n",
        )
        .unwrap();
        assert_eq!(
            mapping.get("chloe.chen@example.com").map(Email::as_str),
            Some("rita@example.com")
        );
    }

    #[test]
    fn reports_every_problem() {
        let rejected = parse(
            b"user_email,manager_email\n\
              a@x.io,not-mail\n\
              b@x.io,b@x.io\n\
              c@x.io,m@x.io\n\
              c@x.io,n@x.io\n",
        )
        .unwrap_err();
        let lines: Vec<(usize, Option<&str>)> = rejected
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_deref()))
            .collect();
        assert_eq!(
            lines,
            [
                (2, Some("manager_email")),
                (3, Some("manager_email")),
                (5, Some("user_email")),
            ]
        );
        let header = parse(b"user_email,team\n").unwrap_err();
        assert_eq!(header.errors.len(), 2, "{:?}", header.errors);
        assert!(parse(b"user_email,manager_email\n").is_err());
    }
}

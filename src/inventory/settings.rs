//! Inventory settings admins change in the application: the webhook host allowlist and
//! server owners. Each change is written with its audit event (before and after).

use serde_json::json;

use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::Db,
    email::Email,
    error::AppError,
};

const ALLOWLIST_KEY: &str = "webhook_host_allowlist";

/// The allowlist set in the application, as a scalar subquery: a query that reads servers can
/// bring it along instead of making another round trip (see [`allowlist_from`]).
pub(crate) const ALLOWLIST_SQL: &str =
    "(SELECT value FROM inventory_settings WHERE key = 'webhook_host_allowlist')";

/// The allowlist in force: the one set in the application, else the configured one.
pub async fn allowlist(db: &Db, configured: &[String]) -> Result<Vec<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT value FROM inventory_settings WHERE key = $1")
            .bind(ALLOWLIST_KEY)
            .fetch_optional(db.pool())
            .await?;
    Ok(allowlist_from(row.map(|(value,)| value), configured))
}

/// The allowlist in force, from the stored value (if any) and the configured one.
pub(crate) fn allowlist_from(stored: Option<String>, configured: &[String]) -> Vec<String> {
    stored
        .and_then(|value| serde_json::from_str(&value).ok())
        .unwrap_or_else(|| configured.to_vec())
}

fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Parses a comma- or newline-separated host list; every bad entry is named.
pub fn parse_hosts(text: &str) -> Result<Vec<String>, AppError> {
    let mut hosts: Vec<String> = Vec::new();
    let mut bad = Vec::new();
    for host in text
        .split([',', '\n', '\r', ' '])
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        let host = host.to_lowercase();
        if valid_host(&host) {
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        } else {
            bad.push(host);
        }
    }
    if bad.is_empty() {
        hosts.sort();
        Ok(hosts)
    } else {
        Err(AppError::Validation(format!(
            "not host names: {} (write hosts such as hooks.example.com, without https:// or paths)",
            bad.join(", ")
        )))
    }
}

/// Replaces the allowlist.
pub async fn set_allowlist(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    configured: &[String],
    hosts: Vec<String>,
) -> Result<(), AppError> {
    let before = allowlist(db, configured).await?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO inventory_settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(ALLOWLIST_KEY)
    .bind(serde_json::to_string(&hosts).unwrap_or_default())
    .bind(format_timestamp(clock.now()))
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new(
            "inventory.allowlist_changed",
            "setting:webhook_host_allowlist",
        )
        .details(json!({ "before": before, "after": hosts })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The owner of a server, if one is set.
pub async fn owner(db: &Db, postmark_id: i64) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT owner_email FROM server_owners WHERE postmark_id = $1")
            .bind(postmark_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|(email,)| email))
}

/// The owner change's audit details; an unknown address someone confirmed says so.
fn owner_details(before: Option<&str>, after: &str, unknown: bool) -> serde_json::Value {
    let mut details = json!({ "before": before, "after": (!after.is_empty()).then_some(after) });
    if unknown {
        details["unknown_address_confirmed"] = json!(true);
    }
    details
}

/// Sets (or, with an empty email, clears) a server's owner: someone who can review it (never
/// an auditor; an address nobody here knows only when `confirmed`).
pub async fn set_owner(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    auth: &crate::config::AuthConfig,
    postmark_id: i64,
    email: &str,
    confirmed: bool,
) -> Result<(), AppError> {
    // Empty clears the owner.
    let email = match email.trim() {
        "" => String::new(),
        text => Email::parse(text).map(Email::into_string).map_err(|_| {
            AppError::Validation(format!("`{}` is not an email address", text.to_lowercase()))
        })?,
    };
    let exists: Option<(i64,)> =
        sqlx::query_as("SELECT postmark_id FROM servers WHERE postmark_id = $1")
            .bind(postmark_id)
            .fetch_optional(db.pool())
            .await?;
    if exists.is_none() {
        return Err(AppError::NotFound);
    }
    let before = owner(db, postmark_id).await?;
    let mut tx = db.begin().await?;
    let mut unknown = false;
    if !email.is_empty() && before.as_deref() != Some(email.as_str()) {
        let known = crate::reviewer_suggestions::check_recipient(
            &mut tx,
            auth,
            &email,
            crate::reviewer_suggestions::Role::Owner,
            confirmed,
        )
        .await?;
        unknown = !known;
    }
    if email.is_empty() {
        sqlx::query("DELETE FROM server_owners WHERE postmark_id = $1")
            .bind(postmark_id)
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO server_owners (postmark_id, owner_email, set_at) VALUES ($1, $2, $3) \
             ON CONFLICT (postmark_id) DO UPDATE SET owner_email = excluded.owner_email, \
             set_at = excluded.set_at",
        )
        .bind(postmark_id)
        .bind(&email)
        .bind(format_timestamp(clock.now()))
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new(
            "inventory.server_owner_changed",
            format!("server:{postmark_id}"),
        )
        .details(owner_details(before.as_deref(), &email, unknown)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowlist_subquery_reads_the_allowlist_key() {
        assert!(ALLOWLIST_SQL.contains(&format!("'{ALLOWLIST_KEY}'")));
    }

    #[test]
    fn hosts_are_checked_and_normalised() {
        assert_eq!(
            parse_hosts("Hooks.Example.com, billing.example.com\nhooks.example.com").unwrap(),
            ["billing.example.com", "hooks.example.com"]
        );
        let err = parse_hosts("https://x.example.com, ok.example.com, bad_host").unwrap_err();
        assert!(
            err.to_string().contains("https://x.example.com, bad_host"),
            "{err}"
        );
    }
}

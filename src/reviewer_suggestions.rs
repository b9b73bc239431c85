//! People worth suggesting wherever an admin names a reviewer: everyone who signed in as an
//! admin or a reviewer (their last sign-in decides), the managers of the manager mapping and
//! the servers' owners. Auditors only read, so they are never suggested: neither people whose
//! last sign-in made them auditors (and not admins) nor the auditor email list's.
//!
//! Pages show the list with [`crate::components::suggestions::EmailSuggestions`].
//!
//! The same rules decide who may be handed review items or own a server ([`check_recipient`]):
//! auditors never; an address nobody here knows only when the person confirms it.

use std::collections::{BTreeSet, HashSet};

use sqlx::AnyConnection;

use crate::{config::AuthConfig, db::Db, error::AppError};

/// Most suggestions a page gets (a `<datalist>` longer than this helps nobody).
pub const MAX_SUGGESTIONS: usize = 500;

/// Known reviewers, lower-cased and sorted, at most [`MAX_SUGGESTIONS`].
pub async fn known_reviewers(db: &Db, auth: &AuthConfig) -> Result<Vec<String>, sqlx::Error> {
    // The latest sign-in of each person, with the roles it gave them.
    let signed_in: Vec<(Option<String>, String)> = sqlx::query_as(
        "SELECT e.actor_email, e.details FROM audit_events e \
         WHERE e.action = 'auth.signed_in' AND e.seq IN \
           (SELECT MAX(l.seq) FROM audit_events l WHERE l.action = 'auth.signed_in' \
            GROUP BY l.subject)",
    )
    .fetch_all(db.pool())
    .await?;
    let managers: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT manager_email FROM manager_mappings")
            .fetch_all(db.pool())
            .await?;
    let owners: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT owner_email FROM server_owners")
        .fetch_all(db.pool())
        .await?;

    let listed = |list: &[crate::email::Email], email: &str| list.iter().any(|e| e.is(email));
    let mut auditors: HashSet<String> = HashSet::new();
    let mut people: BTreeSet<String> = BTreeSet::new();
    for (email, details) in signed_in {
        let Some(email) = email.map(|e| e.trim().to_lowercase()) else {
            continue;
        };
        let roles = signed_in_roles(&details);
        let admin = roles.iter().any(|r| r == crate::auth::Role::Admin.label());
        if !admin
            && roles
                .iter()
                .any(|r| r == crate::auth::Role::Auditor.label())
        {
            auditors.insert(email);
        } else {
            people.insert(email);
        }
    }
    people.extend(
        managers
            .into_iter()
            .chain(owners)
            .map(|(email,)| email.trim().to_lowercase()),
    );
    Ok(people
        .into_iter()
        .filter(|email| !email.is_empty() && !auditors.contains(email))
        .filter(|email| !listed(&auth.auditor_emails, email) || listed(&auth.admin_emails, email))
        .take(MAX_SUGGESTIONS)
        .collect())
}

/// Whether `email` is an auditor (and not an admin): on the auditor email list, or made one by
/// their last sign-in, as [`known_reviewers`] decides.
pub async fn is_auditor(
    conn: &mut AnyConnection,
    auth: &AuthConfig,
    email: &str,
) -> Result<bool, sqlx::Error> {
    let listed = |list: &[crate::email::Email]| list.iter().any(|e| e.is(email));
    if listed(&auth.admin_emails) {
        return Ok(false);
    }
    if listed(&auth.auditor_emails) {
        return Ok(true);
    }
    let last: Option<(String,)> = sqlx::query_as(
        "SELECT details FROM audit_events WHERE action = 'auth.signed_in' \
         AND LOWER(actor_email) = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(email.trim().to_lowercase())
    .fetch_optional(&mut *conn)
    .await?;
    let roles = last.map(|(d,)| signed_in_roles(&d)).unwrap_or_default();
    let has = |role: crate::auth::Role| roles.iter().any(|r| r == role.label());
    Ok(has(crate::auth::Role::Auditor) && !has(crate::auth::Role::Admin))
}

/// Whether anybody here knows `email`: a person who signed in, a Postmark user, a manager or
/// user in the mapping, a server owner or a current reviewer.
async fn is_known(conn: &mut AnyConnection, email: &str) -> Result<bool, sqlx::Error> {
    let known: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM people WHERE email = $1 \
         UNION SELECT 1 FROM postmark_users WHERE email = $1 \
         UNION SELECT 1 FROM manager_mappings WHERE manager_email = $1 OR user_email = $1 \
         UNION SELECT 1 FROM server_owners WHERE owner_email = $1 \
         UNION SELECT 1 FROM review_items WHERE reviewer_email = $1",
    )
    .bind(email)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(known.is_some())
}

/// What a person is being made: a reviewer of items, or a server's owner (who reviews it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Reviewer,
    Owner,
}

/// Checks who review items (or a server) go to, inside the caller's transaction: auditors are
/// refused; an address nobody here knows needs `confirmed`. Answers whether it was known, for
/// the audit event. `email` is parsed (lower-cased) already.
pub async fn check_recipient(
    conn: &mut AnyConnection,
    auth: &AuthConfig,
    email: &str,
    role: Role,
    confirmed: bool,
) -> Result<bool, AppError> {
    if is_auditor(conn, auth, email).await? {
        return Err(AppError::Validation(match role {
            Role::Reviewer => format!(
                "{email} is an auditor: auditors only read, so they cannot review items. \
                 Choose someone else."
            ),
            Role::Owner => format!(
                "{email} is an auditor: auditors only read, so they cannot own a server \
                 (its owner reviews it). Choose someone else."
            ),
        }));
    }
    let known = is_known(conn, email).await?;
    if !known && !confirmed {
        return Err(AppError::NeedsConfirmation(match role {
            Role::Reviewer => {
                format!("{email} has never signed in and is not in any mapping: hand on anyway?")
            }
            Role::Owner => format!(
                "{email} has never signed in and is not in any mapping: make them the owner \
                 anyway?"
            ),
        }));
    }
    Ok(known)
}

/// The role labels an `auth.signed_in` event's details name (none when unreadable).
fn signed_in_roles(details: &str) -> Vec<String> {
    serde_json::from_str::<serde_json::Value>(details)
        .ok()
        .and_then(|d| {
            d.get("roles").and_then(|r| r.as_array()).map(|roles| {
                roles
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_the_sign_in_details() {
        assert_eq!(
            signed_in_roles(r#"{"name":"Ada","roles":["Admin","Auditor"]}"#),
            ["Admin", "Auditor"]
        );
        assert!(signed_in_roles(r#"{"name":"Rita","roles":[]}"#).is_empty());
        assert!(signed_in_roles("not json").is_empty());
    }
}

//! People worth suggesting wherever an admin names a reviewer: everyone who signed in as an
//! admin or a reviewer (their last sign-in decides), the managers of the manager mapping and
//! the servers' owners. Auditors only read, so they are never suggested: neither people whose
//! last sign-in made them auditors (and not admins) nor the auditor email list's.
//!
//! Pages show the list with [`crate::components::suggestions::EmailSuggestions`].

use std::collections::{BTreeSet, HashSet};

use crate::{config::AuthConfig, db::Db};

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

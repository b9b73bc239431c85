//! The people table: everyone who has signed in.

use super::{api::PersonSummary, oidc::Identity, Role};
use crate::{config::AuthConfig, db::Tx};

/// Records a sign-in: creates the person on first sight, refreshes email and name after.
/// Returns the person's id.
pub async fn record_sign_in(
    tx: &mut Tx,
    identity: &Identity,
    at: &str,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO people (issuer, subject, email, name, first_sign_in_at, last_sign_in_at) \
         VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (issuer, subject) DO UPDATE SET \
           email = excluded.email, name = excluded.name, last_sign_in_at = excluded.last_sign_in_at \
         RETURNING id",
    )
    .bind(&identity.issuer)
    .bind(&identity.subject)
    .bind(&identity.email)
    .bind(&identity.name)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// Roles from the configured email lists and, when configured, group membership.
pub fn roles_for(config: &AuthConfig, email: &str, groups: &[String]) -> Vec<Role> {
    let email = email.to_lowercase();
    let in_group = |group: &Option<String>| {
        group
            .as_ref()
            .is_some_and(|g| groups.iter().any(|member_of| member_of == g))
    };
    let mut roles = Vec::new();
    if config.admin_emails.contains(&email) || in_group(&config.admin_group) {
        roles.push(Role::Admin);
    }
    if config.auditor_emails.contains(&email) || in_group(&config.auditor_group) {
        roles.push(Role::Auditor);
    }
    roles
}

/// Everyone who has signed in, most recent first.
pub async fn list(db: &crate::db::Db) -> Result<Vec<PersonSummary>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
        "SELECT id, name, email, first_sign_in_at, last_sign_in_at FROM people \
         ORDER BY last_sign_in_at DESC, id LIMIT 1000",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, email, first, last)| PersonSummary {
            id,
            name,
            email,
            first_sign_in_at: first,
            last_sign_in_at: last,
        })
        .collect())
}

//! The people table: everyone who has signed in.

use super::{oidc::Identity, PersonSummary, Role};
use crate::{config::AuthConfig, db::Tx, email::Email};

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
///
/// The email lists count only for an email the provider asserts as verified (or when the
/// deployment says to trust the provider's email claim): otherwise anyone able to put an
/// admin's address on their account at the provider would become admin.
pub fn roles_for(
    config: &AuthConfig,
    email: &str,
    email_verified: Option<bool>,
    groups: &[String],
) -> Vec<Role> {
    let email_counts = email_verified == Some(true) || config.trust_unverified_email;
    let listed = |list: &[Email]| email_counts && list.iter().any(|e| e.is(email));
    let in_group = |group: &Option<String>| {
        group
            .as_ref()
            .is_some_and(|g| groups.iter().any(|member_of| member_of == g))
    };
    let mut roles = Vec::new();
    if listed(&config.admin_emails) || in_group(&config.admin_group) {
        roles.push(Role::Admin);
    }
    if listed(&config.auditor_emails) || in_group(&config.auditor_group) {
        roles.push(Role::Auditor);
    }
    if listed(&config.fulfilment_emails) {
        roles.push(Role::Fulfilment);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AuthConfig {
        AuthConfig {
            issuer: "https://idp.example".into(),
            client_id: "par".into(),
            client_secret: secrecy::SecretString::from("s".to_string()),
            client_auth: crate::config::ClientAuth::Basic,
            scopes: vec![],
            groups_claim: Some("groups".into()),
            admin_group: Some("Admins".into()),
            auditor_group: None,
            admin_emails: vec![Email::parse("ada@example.com").unwrap()],
            auditor_emails: vec![Email::parse("aubrey@example.com").unwrap()],
            fulfilment_emails: vec![Email::parse("ops@example.com").unwrap()],
            session_idle: std::time::Duration::from_secs(60),
            session_max: std::time::Duration::from_secs(600),
            rate_limit_per_minute: 10,
            trusted_proxy_hops: 0,
            trust_unverified_email: false,
        }
    }

    #[test]
    fn email_lists_need_a_verified_email() {
        let c = config();
        assert_eq!(
            roles_for(&c, "Ada@Example.com", Some(true), &[]),
            [Role::Admin]
        );
        assert!(roles_for(&c, "ada@example.com", None, &[]).is_empty());
        assert!(roles_for(&c, "ada@example.com", Some(false), &[]).is_empty());
        let trusting = AuthConfig {
            trust_unverified_email: true,
            ..config()
        };
        assert_eq!(
            roles_for(&trusting, "ada@example.com", None, &[]),
            [Role::Admin]
        );
    }

    #[test]
    fn the_fulfilment_list_grants_its_role_to_a_verified_email() {
        let c = config();
        assert_eq!(
            roles_for(&c, "OPS@example.com", Some(true), &[]),
            [Role::Fulfilment]
        );
        assert!(roles_for(&c, "ops@example.com", Some(false), &[]).is_empty());
    }

    #[test]
    fn groups_match_exactly() {
        let c = config();
        assert_eq!(
            roles_for(&c, "x@example.com", None, &["Admins".into()]),
            [Role::Admin]
        );
        assert!(roles_for(&c, "x@example.com", None, &["admins".into()]).is_empty());
    }
}

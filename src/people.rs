//! Who is the same person. Emails are compared lower-cased everywhere; beyond that, the
//! identity providers say which emails belong to one person: every email a SCIM user has (and
//! their `userName`) is theirs, so `ada@corp.example` signing in and the Postmark login
//! `ada.admin@example.com` are one person when the provider lists both for her. The rule that
//! nobody decides about their own access uses this on every path: assignment at launch,
//! decisions one by one and in bulk, handing items on, and settling flagged items.
//! `PAR_EMAIL_ALIASES` adds groups of emails the configuration says are one person; they are
//! kept in `email_aliases`, rewritten from the configuration at every start.

use std::collections::{HashMap, HashSet};

use sqlx::AnyConnection;

/// Emails that belong to the same people, read at one moment.
#[derive(Debug, Clone, Default)]
pub struct People {
    /// Lower-cased email → the SCIM users (ids) who list it.
    claims: HashMap<String, HashSet<String>>,
}

impl People {
    /// Every email of every person the identity providers pushed (deleted people too: their
    /// emails still name them).
    pub async fn load(conn: &mut AnyConnection) -> Result<Self, sqlx::Error> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT user_id, value_key FROM scim_user_emails \
             UNION SELECT id, user_name_key FROM scim_users \
             UNION SELECT person, email FROM email_aliases",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut claims: HashMap<String, HashSet<String>> = HashMap::new();
        for (person, email) in rows {
            claims.entry(email).or_default().insert(person);
        }
        Ok(Self { claims })
    }

    /// Only what decides about `emails`: the emails of every person who lists one of them.
    /// A decision asks about two emails, so it need not read every person's.
    pub async fn load_for(conn: &mut AnyConnection, emails: &[&str]) -> Result<Self, sqlx::Error> {
        let mut keys: Vec<String> = emails.iter().map(|e| e.trim().to_lowercase()).collect();
        keys.sort();
        keys.dedup();
        if keys.is_empty() {
            return Ok(Self::default());
        }
        let list = (1..=keys.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "WITH claims (person, email) AS (SELECT user_id, value_key FROM scim_user_emails \
             UNION SELECT id, user_name_key FROM scim_users \
             UNION SELECT person, email FROM email_aliases) \
             SELECT person, email FROM claims WHERE email IN ({list})"
        );
        let mut query = sqlx::query_as::<_, (String, String)>(&sql);
        for key in &keys {
            query = query.bind(key);
        }
        let rows = query.fetch_all(&mut *conn).await?;
        let mut claims: HashMap<String, HashSet<String>> = HashMap::new();
        for (person, email) in rows {
            claims.entry(email).or_default().insert(person);
        }
        Ok(Self { claims })
    }

    /// Whether `a` and `b` are one person: the same email (any case), or two emails one person
    /// at a provider has.
    pub fn same(&self, a: &str, b: &str) -> bool {
        let (a, b) = (a.trim().to_lowercase(), b.trim().to_lowercase());
        if a == b {
            return true;
        }
        match (self.claims.get(&a), self.claims.get(&b)) {
            (Some(x), Some(y)) => !x.is_disjoint(y),
            _ => false,
        }
    }

    /// Whether the access of `user` (an item's user, if any) is `reviewer`'s own.
    pub fn owns(&self, user: Option<&str>, reviewer: &str) -> bool {
        user.is_some_and(|user| self.same(user, reviewer))
    }
}

/// Makes `email_aliases` what the configuration says (one transaction: a second instance
/// starting at the same time writes the same rows).
pub async fn store_aliases(db: &crate::db::Db, groups: &[Vec<String>]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM email_aliases")
        .execute(&mut *tx)
        .await?;
    for group in groups {
        let Some(first) = group.first() else {
            continue;
        };
        let person = format!("config:{first}");
        for email in group {
            sqlx::query(
                "INSERT INTO email_aliases (person, email) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(&person)
            .bind(email.trim().to_lowercase())
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    if !groups.is_empty() {
        tracing::info!(
            groups = groups.len(),
            "email aliases from the configuration"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_of_one_person_at_a_provider_are_the_same_person() {
        let mut people = People::default();
        for (person, email) in [
            ("p1", "ada@corp.example"),
            ("p1", "ada.admin@example.com"),
            ("p2", "ben@example.com"),
        ] {
            people
                .claims
                .entry(email.to_string())
                .or_default()
                .insert(person.to_string());
        }
        assert!(people.same("Ada@Corp.example", "ada.admin@example.com"));
        assert!(people.same("x@example.com", "X@example.com"));
        assert!(!people.same("ada@corp.example", "ben@example.com"));
        assert!(!people.same("ada@corp.example", "nobody@example.com"));
        assert!(people.owns(Some("ada.admin@example.com"), "ada@corp.example"));
        assert!(!people.owns(None, "ada@corp.example"));
    }
}

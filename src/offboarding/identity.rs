//! Where each Postmark login stands with the identity providers: the people SCIM pushed are
//! matched to logins by email (every email of the person and their `userName`, lower-cased,
//! as `scim_user_emails` and `user_name_key` keep them; Postmark logins are stored
//! lower-cased too). A login some active person claims is theirs; one whose every claimant
//! left is a leaver's; one nobody claims is unknown. Deleted people stay as tombstones, so a
//! login of someone deleted is still recognised as a leaver's.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::Standing;

/// A person who claims a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub person_id: String,
    pub provider: String,
    pub person: String,
    pub active: bool,
    /// When they were deactivated (or deleted); `None` while active.
    pub since: Option<String>,
    pub deleted: bool,
}

/// Every login's claims, read at one moment.
#[derive(Debug, Default)]
pub struct Standings {
    has_provider: bool,
    claims: HashMap<String, Vec<Claim>>,
}

type ClaimRow = (String, String, String, String, i64, Option<String>, i64);

impl Standings {
    /// Reads the claims on every login in the inventory.
    pub async fn load(conn: &mut AnyConnection) -> Result<Self, sqlx::Error> {
        let (people,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM scim_users")
            .fetch_one(&mut *conn)
            .await?;
        if people == 0 {
            return Ok(Self::default());
        }
        let rows: Vec<ClaimRow> = sqlx::query_as(
            "SELECT c.email, p.id, pr.name, \
             COALESCE(p.display_name, p.formatted_name, p.user_name), \
             CAST(CASE WHEN p.active = TRUE AND p.deleted_at IS NULL THEN 1 ELSE 0 END AS BIGINT), \
             COALESCE(p.deactivated_at, p.deleted_at, p.updated_at), \
             CAST(CASE WHEN p.deleted_at IS NULL THEN 0 ELSE 1 END AS BIGINT) \
             FROM (SELECT user_id, value_key AS email FROM scim_user_emails \
                   UNION SELECT id, user_name_key FROM scim_users) c \
             JOIN scim_users p ON p.id = c.user_id \
             JOIN scim_providers pr ON pr.id = p.provider_id \
             WHERE c.email IN (SELECT email FROM postmark_users) \
             ORDER BY c.email, p.id",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut claims: HashMap<String, Vec<Claim>> = HashMap::new();
        for (email, person_id, provider, person, active, since, deleted) in rows {
            let active = active == 1;
            claims.entry(email).or_default().push(Claim {
                person_id,
                provider,
                person,
                active,
                since: (!active).then_some(since).flatten(),
                deleted: deleted == 1,
            });
        }
        Ok(Self {
            has_provider: true,
            claims,
        })
    }

    /// Whether any provider has pushed anyone.
    pub fn has_provider(&self) -> bool {
        self.has_provider
    }

    /// The claim that decides `email`'s standing: an active person's if there is one,
    /// otherwise the leaver who left last; `None` when nobody claims it.
    pub fn decisive(&self, email: &str) -> Option<&Claim> {
        let claims = self.claims.get(email)?;
        claims.iter().find(|c| c.active).or_else(|| {
            claims
                .iter()
                .max_by(|a, b| a.since.cmp(&b.since).then(a.person_id.cmp(&b.person_id)))
        })
    }

    pub fn of(&self, email: &str) -> Standing {
        if !self.has_provider {
            return Standing::NoProvider;
        }
        match self.decisive(email) {
            None => Standing::Unknown,
            Some(claim) if claim.active => Standing::Active {
                provider: claim.provider.clone(),
                person: claim.person.clone(),
            },
            Some(claim) => Standing::Left {
                provider: claim.provider.clone(),
                person: claim.person.clone(),
                since: claim.since.clone().unwrap_or_default(),
                deleted: claim.deleted,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(id: &str, active: bool, since: Option<&str>) -> Claim {
        Claim {
            person_id: id.into(),
            provider: "Okta".into(),
            person: format!("Person {id}"),
            active,
            since: since.map(Into::into),
            deleted: false,
        }
    }

    #[test]
    fn an_active_claim_wins_and_otherwise_the_last_to_leave_decides() {
        let mut standings = Standings {
            has_provider: true,
            claims: HashMap::new(),
        };
        standings.claims.insert(
            "a@example.com".into(),
            vec![
                claim("1", false, Some("2026-01-01")),
                claim("2", true, None),
            ],
        );
        standings.claims.insert(
            "b@example.com".into(),
            vec![
                claim("3", false, Some("2026-03-01")),
                claim("4", false, Some("2026-02-01")),
            ],
        );
        assert!(matches!(
            standings.of("a@example.com"),
            Standing::Active { .. }
        ));
        match standings.of("b@example.com") {
            Standing::Left { since, .. } => assert_eq!(since, "2026-03-01"),
            other => panic!("expected Left, got {other:?}"),
        }
        assert_eq!(standings.of("c@example.com"), Standing::Unknown);
        assert_eq!(
            Standings::default().of("c@example.com"),
            Standing::NoProvider
        );
    }
}

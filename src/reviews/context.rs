//! What a reviewer sees beside each item before deciding, as access reviews in Entra ID and
//! Okta show it: the person's account role and other Postmark access, the server's activity
//! and owner, and what the last campaign decided about the same access. Read for the items of
//! one queue page only, from the current inventory.

use serde::{Deserialize, Serialize};

use crate::review_items::Decision;

/// A person as the inventory knows them now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonContext {
    pub email: String,
    pub name: String,
    pub role: String,
    /// `active` or `pending`.
    pub status: String,
    /// `(server id, server name, permission)`, by server name.
    pub permissions: Vec<(i64, String, String)>,
}

impl PersonContext {
    /// One line: "Account Admin · Server Admin on 2 servers, Server Viewer on 1".
    pub fn summary(&self) -> String {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for (_, _, permission) in &self.permissions {
            match counts.iter_mut().find(|(p, _)| *p == permission.as_str()) {
                Some((_, n)) => *n += 1,
                None => counts.push((permission, 1)),
            }
        }
        let access = if counts.is_empty() {
            "no server permissions".to_string()
        } else {
            counts
                .iter()
                .map(|(p, n)| format!("{p} on {n} server{}", if *n == 1 { "" } else { "s" }))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let pending = if self.status == "pending" {
            " (invitation pending)"
        } else {
            ""
        };
        format!("{}{pending} · {access}", self.role)
    }
}

/// A server as the inventory knows it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerContext {
    pub id: i64,
    pub name: String,
    /// Emails sent in the last 30 days, when the last sync could read it.
    pub sent_30d: Option<i64>,
    /// Risk flags, as labels.
    pub flags: Vec<String>,
    pub owner: Option<String>,
    /// How many people hold a permission on it.
    pub people: usize,
}

impl ServerContext {
    pub fn activity(&self) -> String {
        match self.sent_30d {
            Some(n) => format!("{} sent in 30 days", thousands(n)),
            None => "activity unknown".to_string(),
        }
    }
}

/// `120450` as `120,450`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// The last decision a closed campaign made about the same access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousDecision {
    pub campaign: String,
    pub decision: Decision,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

impl PreviousDecision {
    pub fn summary(&self) -> String {
        let by = self
            .decided_by
            .as_deref()
            .map(|b| format!(" by {b}"))
            .unwrap_or_else(|| " by the default outcome".to_string());
        let on = self
            .decided_at
            .as_deref()
            .and_then(|at| at.get(..10))
            .map(|day| format!(" on {day}"))
            .unwrap_or_default();
        format!(
            "Last review ({}): {}{by}{on}",
            self.campaign,
            self.decision.label()
        )
    }
}

/// The context of one queue page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueContext {
    pub people: Vec<PersonContext>,
    pub servers: Vec<ServerContext>,
    /// `(item id, decision)` for items a closed campaign decided before.
    pub previous: Vec<(i64, PreviousDecision)>,
}

#[cfg(feature = "ssr")]
pub use load::{load, previous_select};

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_separated() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (120450, "120,450"),
            (-1234567, "-1,234,567"),
        ] {
            assert_eq!(super::thousands(n), text);
        }
    }
}

#[cfg(feature = "ssr")]
mod load {
    use std::collections::BTreeSet;

    use super::{PersonContext, PreviousDecision, QueueContext, ServerContext};
    use sqlx::{any::AnyRow, Row as _};

    use crate::{
        db::Db,
        inventory::{
            db::ServerRow,
            settings::{allowlist_from, ALLOWLIST_SQL},
        },
        review_items::ItemView,
        sql::Sql,
    };

    /// `sql` gets `(…, …)` holding every value of `values`.
    fn list<T>(sql: &mut Sql, values: &[T], bind: impl Fn(&mut Sql, &T)) {
        sql.push("(");
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            bind(sql, value);
        }
        sql.push(")");
    }

    /// The context of `items` (one page: three queries, whatever the page holds).
    /// `configured_allowlist` is the webhook host allowlist of the configuration, in force
    /// unless one is set in the application.
    pub async fn load(
        db: &Db,
        items: &[&ItemView],
        configured_allowlist: &[String],
    ) -> Result<QueueContext, sqlx::Error> {
        let emails: Vec<String> = items
            .iter()
            .filter_map(|i| i.user_email.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let server_ids: Vec<i64> = items
            .iter()
            .filter_map(|i| i.server_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        Ok(QueueContext {
            people: people(db, &emails).await?,
            servers: servers(db, &server_ids, configured_allowlist).await?,
            previous: previous(db, &ids).await?,
        })
    }

    /// `(email, name, role, status, server id, server name, permission)`: one row per
    /// permission, or one with no permission for a person who holds none.
    type PersonRow = (
        String,
        String,
        String,
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
    );

    async fn people(db: &Db, emails: &[String]) -> Result<Vec<PersonContext>, sqlx::Error> {
        if emails.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(db);
        sql.push(
            "SELECT u.email, u.name, u.role, u.status, p.postmark_server_id, \
             COALESCE(s.name, ''), p.permission \
             FROM postmark_users u \
             LEFT JOIN user_permissions p ON p.email = u.email \
             LEFT JOIN servers s ON s.postmark_id = p.postmark_server_id \
             WHERE u.email IN ",
        );
        list(&mut sql, emails, |sql, e| {
            sql.text(e);
        });
        sql.push(" ORDER BY u.email, 6, p.postmark_server_id");
        let rows: Vec<PersonRow> = sql.fetch(db).await?;
        let mut people: Vec<PersonContext> = Vec::new();
        for (email, name, role, status, server_id, server, permission) in rows {
            if people.last().is_none_or(|p| p.email != email) {
                people.push(PersonContext {
                    email,
                    name,
                    role,
                    status,
                    permissions: Vec::new(),
                });
            }
            if let (Some(person), Some(id), Some(permission)) =
                (people.last_mut(), server_id, permission)
            {
                person
                    .permissions
                    .push((id, server.unwrap_or_default(), permission));
            }
        }
        Ok(people)
    }

    /// A server's row, its owner, how many people hold a permission on it, and the allowlist
    /// set in the application (the same on every row).
    struct ServerWithExtra(ServerRow, Option<String>, i64, Option<String>);

    impl<'r> sqlx::FromRow<'r, AnyRow> for ServerWithExtra {
        fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
            Ok(Self(
                ServerRow::from_row(row)?,
                row.try_get(11)?,
                row.try_get(12)?,
                row.try_get(13)?,
            ))
        }
    }

    async fn servers(
        db: &Db,
        ids: &[i64],
        configured_allowlist: &[String],
    ) -> Result<Vec<ServerContext>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The owner, how many people hold a permission and the allowlist ride along (one
        // round trip); the count reads the index on `user_permissions (postmark_server_id)`
        // (migration 0022).
        let mut sql = Sql::new(db);
        sql.push("SELECT ")
            .push(crate::inventory::db::SERVER_COLUMNS)
            .push(
                ", (SELECT o.owner_email FROM server_owners o \
                 WHERE o.postmark_id = servers.postmark_id), \
                 (SELECT COUNT(*) FROM user_permissions p \
                 WHERE p.postmark_server_id = servers.postmark_id), ",
            )
            .push(ALLOWLIST_SQL)
            .push(" FROM servers WHERE postmark_id IN ");
        list(&mut sql, ids, |sql, id| {
            sql.int(*id);
        });
        let rows: Vec<ServerWithExtra> = sql.fetch(db).await?;
        let stored = rows.first().and_then(|r| r.3.clone());
        let allowlist = allowlist_from(stored, configured_allowlist);
        Ok(rows
            .into_iter()
            .map(|ServerWithExtra(row, owner, people, _)| {
                let view = crate::inventory::db::to_view(row, &allowlist);
                let people = usize::try_from(people).unwrap_or(0);
                ServerContext {
                    id: view.postmark_id,
                    name: view.name,
                    sent_30d: view.sent_30d,
                    flags: view.flags.iter().map(|f| f.label().to_string()).collect(),
                    owner,
                    people,
                }
            })
            .collect())
    }

    /// `(item id, campaign name, decision, decided by, decided at)`.
    type PreviousRow = (i64, String, String, Option<String>, Option<String>);

    /// The query of [`previous`] for the items `ids` (public for a test of its plan).
    pub fn previous_select(db: &Db, ids: &[i64]) -> Sql {
        let mut sql = Sql::new(db);
        sql.push(
            "SELECT cur.id, c.name, p.decision, p.decided_by, p.decided_at \
             FROM review_items cur \
             JOIN review_items p ON p.id = ( \
               SELECT latest.id FROM review_items latest \
               JOIN campaigns closed ON closed.id = latest.campaign_id \
               WHERE COALESCE(latest.user_email, '') = COALESCE(cur.user_email, '') \
                 AND COALESCE(latest.server_id, -1) = COALESCE(cur.server_id, -1) \
                 AND latest.kind = cur.kind AND latest.access = cur.access \
                 AND latest.campaign_id <> cur.campaign_id \
                 AND closed.status = 'closed' AND latest.decision IS NOT NULL \
               ORDER BY closed.closed_at DESC, latest.id DESC LIMIT 1) \
             JOIN campaigns c ON c.id = p.campaign_id \
             WHERE EXISTS (SELECT 1 FROM campaigns WHERE status = 'closed') AND cur.id IN ",
        );
        list(&mut sql, ids, |sql, id| {
            sql.int(*id);
        });
        sql.push(" ORDER BY cur.id");
        sql
    }

    /// For each item, the latest decision about the same access (kind, person, server, access)
    /// in a campaign that has closed.
    ///
    /// Each item looks up its own latest one (a subquery per item, on the same-access index),
    /// so the work is the page's hundred lookups whatever the planner believes about the
    /// table. Joined the other way, from every decided item, a page read all of them: right
    /// after a launch PostgreSQL's statistics say nothing is decided yet, and while the first
    /// campaign ran each queue page read every decision made so far. Until a campaign has
    /// closed there is nothing to find, and the guard ends the query before any lookup.
    async fn previous(db: &Db, ids: &[i64]) -> Result<Vec<(i64, PreviousDecision)>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = previous_select(db, ids);
        let rows: Vec<PreviousRow> = sql.fetch(db).await?;
        let mut out: Vec<(i64, PreviousDecision)> = Vec::new();
        for (id, campaign, decision, decided_by, decided_at) in rows {
            let Some(decision) = crate::review_items::Decision::from_slug(&decision) else {
                continue;
            };
            out.push((
                id,
                PreviousDecision {
                    campaign,
                    decision,
                    decided_by,
                    decided_at,
                },
            ));
        }
        Ok(out)
    }
}

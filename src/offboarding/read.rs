//! What the Offboarding page and a user's page read: removals outside campaigns with their
//! progress and deadline, and orphaned accounts.

use std::time::Duration;

use super::{db::LISTED, identity::Standings, Case, Origin, Orphan, Overview, Progress};
use crate::{
    clock::{parse_timestamp, Clock},
    db::Db,
    revocations::{Status, Verification},
};

type CaseRow = (
    i64,
    String,
    Option<String>,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
);

/// Removals outside campaigns, newest first (at most [`LISTED`]); of one login when `email`
/// is given.
pub async fn cases(
    db: &Db,
    clock: &dyn Clock,
    deadline: Duration,
    email: Option<&str>,
) -> Result<Vec<Case>, sqlx::Error> {
    let now = clock.now();
    let rows: Vec<CaseRow> = sqlx::query_as(
        "SELECT r.id, r.user_email, \
         COALESCE(u.name, p.display_name, p.formatted_name), \
         CAST(CASE WHEN u.email IS NULL THEN 0 ELSE 1 END AS BIGINT), r.origin, r.applied_by, \
         r.reason, COALESCE(p.deactivated_at, r.created_at), r.status, r.verification, \
         r.verified_at, r.last_error, \
         (SELECT MAX(l.task_id) FROM fulfilment_lines l WHERE l.revocation_id = r.id) \
         FROM revocations r LEFT JOIN postmark_users u ON u.email = r.user_email \
         LEFT JOIN scim_users p ON p.id = r.person_id \
         WHERE r.origin IN ('offboarding', 'emergency') AND ($1 IS NULL OR r.user_email = $1) \
         ORDER BY r.id DESC LIMIT $2",
    )
    .bind(email)
    .bind(LISTED)
    .fetch_all(db.pool())
    .await?;
    let unreadable = |id: i64, column: &str, value: &str| {
        sqlx::Error::Decode(format!("revocation {id}: unknown {column} {value:?}").into())
    };
    let seconds = |from: &str, to: time::OffsetDateTime| {
        parse_timestamp(from).map_or(0, |from| (to - from).whole_seconds())
    };
    let deadline_seconds = i64::try_from(deadline.as_secs()).unwrap_or(i64::MAX);
    let mut cases = Vec::with_capacity(rows.len());
    for (
        id,
        email,
        name,
        in_inventory,
        origin,
        started_by,
        reason,
        since,
        status,
        verification,
        verified_at,
        last_error,
        task_id,
    ) in rows
    {
        let origin = Origin::from_slug(&origin).ok_or_else(|| unreadable(id, "origin", &origin))?;
        let status = Status::from_slug(&status).ok_or_else(|| unreadable(id, "status", &status))?;
        let verification = Verification::from_slug(&verification)
            .ok_or_else(|| unreadable(id, "verification", &verification))?;
        let progress = Progress::of(status, verification);
        let until = verified_at
            .as_deref()
            .and_then(|at| parse_timestamp(at).ok())
            .filter(|_| progress == Progress::Verified)
            .unwrap_or(now);
        let taken = seconds(&since, until);
        cases.push(Case {
            id,
            email,
            name,
            in_inventory: in_inventory == 1,
            origin,
            started_by: started_by.unwrap_or_default(),
            reason: reason.unwrap_or_default(),
            since,
            minutes: taken / 60,
            progress,
            status,
            last_error,
            task_id,
            overdue: !progress.is_settled() && taken > deadline_seconds,
        });
    }
    Ok(cases)
}

/// The Offboarding page: removals outside campaigns, newest first, and orphaned accounts.
pub async fn overview(
    db: &Db,
    clock: &dyn Clock,
    deadline: Duration,
) -> Result<Overview, sqlx::Error> {
    let cases = cases(db, clock, deadline, None).await?;
    let mut conn = db.pool().acquire().await?;
    let standings = Standings::load(&mut conn).await?;
    let mut orphans = Vec::new();
    if standings.has_provider() {
        let users: Vec<(String, String, String)> =
            sqlx::query_as("SELECT email, name, role FROM postmark_users ORDER BY email")
                .fetch_all(&mut *conn)
                .await?;
        for (email, name, role) in users {
            let standing = standings.of(&email);
            if standing.is_orphaned() {
                orphans.push(Orphan {
                    email,
                    name,
                    role,
                    standing,
                });
            }
        }
    }
    Ok(Overview {
        deadline: super::deadline_label(deadline.as_secs()),
        cases,
        orphans,
        has_provider: standings.has_provider(),
    })
}

/// The groups of the people who claim `email` (by any email or `userName`, deleted people
/// aside) and when a provider last changed them.
pub async fn groups_of(db: &Db, email: &str) -> Result<(Vec<String>, Option<String>), sqlx::Error> {
    const CLAIMANTS: &str = "SELECT u.id FROM scim_users u WHERE u.deleted_at IS NULL \
         AND (u.user_name_key = $1 OR u.id IN \
         (SELECT user_id FROM scim_user_emails WHERE value_key = $1))";
    let groups: Vec<(String,)> = sqlx::query_as(&format!(
        "SELECT DISTINCT g.display_name FROM scim_group_members m \
         JOIN scim_groups g ON g.id = m.group_id WHERE m.user_id IN ({CLAIMANTS}) \
         ORDER BY g.display_name"
    ))
    .bind(email)
    .fetch_all(db.pool())
    .await?;
    let (last,): (Option<String>,) = sqlx::query_as(&format!(
        "SELECT MAX(updated_at) FROM scim_users WHERE id IN ({CLAIMANTS})"
    ))
    .bind(email)
    .fetch_one(db.pool())
    .await?;
    Ok((groups.into_iter().map(|(g,)| g).collect(), last))
}

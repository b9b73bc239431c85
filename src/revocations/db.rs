//! The `revocations` table as admins use it: applying a closed campaign's revocations (turning
//! them into jobs), reading jobs and their attempts, retrying and cancelling. The worker's own
//! steps (claim, record, pause) are in `queue`.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::json;

use super::{Action, AttemptView, Counts, RevocationView, Status, Verification};
use crate::{
    audit::{self, Actor, Event},
    campaigns,
    clock::{format_timestamp, Clock},
    db::{Db, Tx},
    error::AppError,
    review_items::{db::lock_campaign, ItemKind},
};

/// Name of the revocation worker in `worker_pauses`.
pub const WORKER: &str = "revocations";

/// An item an admin leaves out when applying, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exclusion<'a> {
    /// The revocation's id.
    pub id: i64,
    pub reason: &'a str,
}

/// A stored value this version cannot read: an error naming the row, never a guess.
pub(crate) fn unreadable(id: i64, column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("revocation {id}: unknown {column} {value:?}").into())
}

/// How an actor is named in `applied_by`.
fn actor_name(actor: &Actor) -> String {
    match actor {
        Actor::Person { email, .. } => email.clone(),
        Actor::System { component } => format!("system:{component}"),
    }
}

/// Turns a closed campaign's `to_revoke` rows into jobs (`pending`, due now) with the action
/// [`Action::for_item`] picks (delete for the servers listed in `delete`), except the excluded
/// ones (`excluded`, with their reason). One `revocations.applied` audit event in `tx` records
/// the counts and the exclusions. Returns how many became jobs; a campaign with nothing left
/// to apply returns 0 and records nothing.
///
/// Errors: unknown campaign → NotFound; campaign not closed → Conflict; an exclusion without
/// a reason, or an id (excluded or to delete) that is not one of this campaign's `to_revoke`
/// rows, or a delete of something that is not a server → Validation.
#[tracing::instrument(skip_all, fields(campaign.id = campaign_id))]
pub async fn apply(
    tx: &mut Tx,
    clock: &dyn Clock,
    actor: &Actor,
    campaign_id: i64,
    exclude: &[Exclusion<'_>],
    delete: &[i64],
) -> Result<usize, AppError> {
    // The exclusive lock keeps a concurrent apply (two admins, or the close of an `at_close`
    // campaign racing an admin) from turning the same rows into jobs twice.
    match lock_campaign(tx, campaign_id, true).await? {
        None => return Err(AppError::NotFound),
        Some(campaigns::Status::Closed) => {}
        Some(status) => {
            return Err(AppError::Conflict(format!(
                "Revocations run only after the campaign closes; this one is {}.",
                status.label().to_lowercase()
            )))
        }
    }
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT id, kind, access FROM revocations \
         WHERE campaign_id = $1 AND status = 'to_revoke' ORDER BY id",
    )
    .bind(campaign_id)
    .fetch_all(&mut **tx)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(id, kind, access)| {
            let kind = ItemKind::from_slug(&kind).ok_or_else(|| unreadable(id, "kind", &kind))?;
            Ok((id, kind, access))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let kinds: HashMap<i64, ItemKind> = rows.iter().map(|(id, kind, _)| (*id, *kind)).collect();
    let mut excluded: HashMap<i64, String> = HashMap::new();
    for exclusion in exclude {
        let reason = exclusion.reason.trim();
        if reason.is_empty() {
            return Err(AppError::Validation(format!(
                "Say why revocation {} is excluded.",
                exclusion.id
            )));
        }
        if !kinds.contains_key(&exclusion.id) {
            return Err(AppError::Validation(format!(
                "Revocation {} is not waiting to be applied in this campaign.",
                exclusion.id
            )));
        }
        excluded.insert(exclusion.id, reason.to_string());
    }
    let mut deleted = HashSet::new();
    for id in delete {
        match kinds.get(id) {
            Some(ItemKind::Server) if excluded.contains_key(id) => {
                return Err(AppError::Validation(format!(
                    "Revocation {id} cannot be both excluded and deleted."
                )))
            }
            Some(ItemKind::Server) => {
                deleted.insert(*id);
            }
            Some(_) => {
                return Err(AppError::Validation(format!(
                    "Revocation {id} is not a server; only servers can be deleted."
                )))
            }
            None => {
                return Err(AppError::Validation(format!(
                    "Revocation {id} is not waiting to be applied in this campaign."
                )))
            }
        }
    }
    if rows.is_empty() {
        return Ok(0);
    }

    let now = format_timestamp(clock.now());
    let by = actor_name(actor);
    let mut jobs: BTreeMap<&'static str, i64> = BTreeMap::new();
    for (id, kind, access) in &rows {
        if let Some(reason) = excluded.get(id) {
            sqlx::query(
                "UPDATE revocations SET status = 'excluded', excluded_reason = $1, \
                 applied_at = $2, applied_by = $3 WHERE id = $4 AND status = 'to_revoke'",
            )
            .bind(reason)
            .bind(&now)
            .bind(&by)
            .bind(id)
            .execute(&mut **tx)
            .await?;
            continue;
        }
        let action = Action::for_item(*kind, access, deleted.contains(id));
        sqlx::query(
            "UPDATE revocations SET status = 'pending', action = $1, next_attempt_at = $2, \
             applied_at = $2, applied_by = $3, lease_until = NULL \
             WHERE id = $4 AND status = 'to_revoke'",
        )
        .bind(action.slug())
        .bind(&now)
        .bind(&by)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        *jobs.entry(action.slug()).or_default() += 1;
    }
    let applied = rows.len() - excluded.len();
    let mut exclusions: Vec<(&i64, &String)> = excluded.iter().collect();
    exclusions.sort();
    let exclusions: Vec<_> = exclusions
        .into_iter()
        .map(|(id, reason)| json!({ "revocation": id, "reason": reason }))
        .collect();
    let mut deleted: Vec<i64> = deleted.into_iter().collect();
    deleted.sort_unstable();
    audit::record(
        tx,
        clock,
        actor,
        &Event::new("revocations.applied", format!("campaign:{campaign_id}")).details(json!({
            "jobs": applied,
            "by_action": jobs,
            "excluded": exclusions,
            "delete": deleted,
        })),
    )
    .await?;
    Ok(applied)
}

/// A row of [`VIEW`]; the stored enums are parsed by [`to_view`].
#[derive(sqlx::FromRow)]
pub(super) struct ViewRow {
    id: i64,
    campaign_id: i64,
    campaign_name: String,
    item_id: i64,
    kind: String,
    user_email: Option<String>,
    server_id: Option<i64>,
    server_name: Option<String>,
    access: String,
    status: String,
    action: Option<String>,
    attempts: i64,
    last_error: Option<String>,
    next_attempt_at: Option<String>,
    applied_at: Option<String>,
    finished_at: Option<String>,
    excluded_reason: Option<String>,
    acknowledged_reason: Option<String>,
    signed_off: i64,
    verification: String,
    verified_sync_id: Option<i64>,
    drift_at: Option<String>,
    drift_sync_id: Option<i64>,
    task_id: Option<i64>,
}

/// Revocations with their campaign's name; callers add `WHERE …`.
pub(super) const VIEW: &str =
    "SELECT r.id, r.campaign_id, c.name AS campaign_name, r.item_id, r.kind, \
     r.user_email, r.server_id, i.server_name, r.access, r.status, r.action, r.attempts, \
     r.last_error, \
     r.next_attempt_at, r.applied_at, r.finished_at, r.excluded_reason, r.acknowledged_reason, r.verification, \
     (SELECT COUNT(*) FROM campaign_signoffs s WHERE s.campaign_id = r.campaign_id) AS signed_off, \
     r.verified_sync_id, r.drift_at, r.drift_sync_id, \
     (SELECT MAX(l.task_id) FROM fulfilment_lines l WHERE l.revocation_id = r.id) AS task_id \
     FROM revocations r JOIN campaigns c ON c.id = r.campaign_id \
     JOIN review_items i ON i.id = r.item_id";

pub(super) fn to_view(row: ViewRow) -> Result<RevocationView, sqlx::Error> {
    let id = row.id;
    let kind = ItemKind::from_slug(&row.kind).ok_or_else(|| unreadable(id, "kind", &row.kind))?;
    let status =
        Status::from_slug(&row.status).ok_or_else(|| unreadable(id, "status", &row.status))?;
    let action = row
        .action
        .as_deref()
        .map(|a| Action::from_slug(a).ok_or_else(|| unreadable(id, "action", a)))
        .transpose()?;
    let verification = Verification::from_slug(&row.verification)
        .ok_or_else(|| unreadable(id, "verification", &row.verification))?;
    Ok(RevocationView {
        id,
        campaign_id: row.campaign_id,
        campaign_name: row.campaign_name,
        item_id: row.item_id,
        kind,
        user_email: row.user_email,
        server_id: row.server_id,
        server_name: row.server_name,
        access: row.access,
        status,
        action,
        attempts: row.attempts,
        last_error: row.last_error,
        next_attempt_at: row.next_attempt_at,
        applied_at: row.applied_at,
        finished_at: row.finished_at,
        excluded_reason: row.excluded_reason,
        acknowledged_reason: row.acknowledged_reason,
        campaign_signed_off: row.signed_off > 0,
        verification,
        verified_sync_id: row.verified_sync_id,
        drift_at: row.drift_at,
        drift_sync_id: row.drift_sync_id,
        task_id: row.task_id,
    })
}

/// Revocations in the order they were written (item order within a campaign), optionally of
/// one campaign, status and kind; at most `limit`.
pub async fn list(
    db: &Db,
    campaign_id: Option<i64>,
    status: Option<Status>,
    kind: Option<ItemKind>,
    limit: i64,
) -> Result<Vec<RevocationView>, sqlx::Error> {
    list_verified(db, campaign_id, status, kind, None, limit).await
}

/// [`list`], also optionally of one verification outcome (the dashboard's "not effective").
pub async fn list_verified(
    db: &Db,
    campaign_id: Option<i64>,
    status: Option<Status>,
    kind: Option<ItemKind>,
    verification: Option<Verification>,
    limit: i64,
) -> Result<Vec<RevocationView>, sqlx::Error> {
    let rows: Vec<ViewRow> = sqlx::query_as(&format!(
        "{VIEW} WHERE ($1 IS NULL OR r.campaign_id = $1) AND ($2 IS NULL OR r.status = $2) \
         AND ($3 IS NULL OR r.kind = $3) AND ($4 IS NULL OR r.verification = $4) \
         ORDER BY r.id LIMIT $5"
    ))
    .bind(campaign_id)
    .bind(status.map(Status::slug))
    .bind(kind.map(ItemKind::slug))
    .bind(verification.map(Verification::slug))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.into_iter().map(to_view).collect()
}

/// One revocation.
pub async fn get(db: &Db, id: i64) -> Result<Option<RevocationView>, sqlx::Error> {
    let row: Option<ViewRow> = sqlx::query_as(&format!("{VIEW} WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.map(to_view).transpose()
}

/// Every attempt of a job, oldest first.
pub async fn attempts(db: &Db, id: i64) -> Result<Vec<AttemptView>, sqlx::Error> {
    type Row = (
        String,
        String,
        Option<i64>,
        Option<i64>,
        Option<String>,
        String,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT at, operation, http_status, error_code, message, outcome \
         FROM revocation_attempts WHERE revocation_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(at, operation, http_status, error_code, message, outcome)| AttemptView {
                at,
                operation,
                http_status,
                error_code,
                message,
                outcome,
            },
        )
        .collect())
}

/// How many of a campaign's revocations are in each status and each verification outcome.
pub async fn counts(db: &Db, campaign_id: i64) -> Result<Counts, sqlx::Error> {
    // COUNT(drift_at) counts the rows with a drift, per group.
    let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT status, verification, COUNT(*), COUNT(drift_at), COUNT(acknowledged_at) \
         FROM revocations WHERE campaign_id = $1 GROUP BY status, verification",
    )
    .bind(campaign_id)
    .fetch_all(db.pool())
    .await?;
    let mut counts = Counts::default();
    let unknown = |column: &str, value: &str| {
        sqlx::Error::Decode(
            format!("campaign {campaign_id}: a revocation has unknown {column} {value:?}").into(),
        )
    };
    for (status, verification, n, drift, acknowledged) in rows {
        counts.acknowledged += acknowledged;
        let parsed = Status::from_slug(&status).ok_or_else(|| unknown("status", &status))?;
        counts.add(parsed, n);
        match Verification::from_slug(&verification)
            .ok_or_else(|| unknown("verification", &verification))?
        {
            Verification::Unverified => {}
            Verification::Effective => counts.effective += n,
            Verification::NotEffective => counts.not_effective += n,
        }
        counts.drift += drift;
    }
    Ok(counts)
}

/// Reads a job's status inside `tx` (NotFound when there is none).
pub(super) async fn status_in(tx: &mut Tx, id: i64) -> Result<(Status, Option<i64>), AppError> {
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT status, campaign_id FROM revocations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    let (status, campaign_id) = row.ok_or(AppError::NotFound)?;
    let status = Status::from_slug(&status).ok_or_else(|| unreadable(id, "status", &status))?;
    Ok((status, campaign_id))
}

/// A failed or manual job, or a done one that a sync found not effective → pending now,
/// attempts kept (the worker gives it a fresh round of retries), audited
/// `revocation.retried`. A not effective job is verified afresh by the sync after it runs
/// again. An open fulfilment line of the job is withdrawn: if it needs a person again, it goes
/// out in a new task (and a new email), and the old task keeps its history.
pub async fn retry(db: &Db, clock: &dyn Clock, actor: &Actor, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let (before, campaign_id) = status_in(&mut tx, id).await?;
    let (verification,): (String,) =
        sqlx::query_as("SELECT verification FROM revocations WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    let not_effective = verification == Verification::NotEffective.slug();
    if !(matches!(before, Status::Failed | Status::Manual)
        || (before == Status::Done && not_effective))
    {
        return Err(AppError::Conflict(format!(
            "Only a failed, manual or not effective revocation can be retried; this one is {}.",
            before.label().to_lowercase()
        )));
    }
    let now = format_timestamp(clock.now());
    let changed = sqlx::query(
        "UPDATE revocations SET status = 'pending', next_attempt_at = $1, lease_until = NULL, \
         finished_at = NULL, last_error = NULL, verification = 'unverified', \
         acknowledged_at = NULL, acknowledged_by = NULL, acknowledged_reason = NULL, \
         verified_at = NULL, verified_sync_id = NULL WHERE id = $2 AND status = $3",
    )
    .bind(&now)
    .bind(id)
    .bind(before.slug())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed != 1 {
        return Err(AppError::Conflict(
            "The revocation changed meanwhile; reload and try again.".into(),
        ));
    }
    crate::fulfilment::db::withdraw(
        &mut tx,
        clock,
        id,
        &actor_name(actor),
        "Retried by an admin",
    )
    .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("revocation.retried", format!("revocation:{id}")).details(json!({
            "campaign": campaign_id,
            "before": { "status": before.slug(), "verification": verification },
            "after": { "status": Status::Pending.slug() },
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A pending, failed or manual job → cancelled; the reason (required) is kept in
/// `excluded_reason` and the audit event `revocation.cancelled`. A running job cannot be
/// cancelled: its call may be in flight.
pub async fn cancel(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<(), AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::Validation(
            "Say why the revocation is cancelled.".into(),
        ));
    }
    let mut tx = db.begin().await?;
    let (before, campaign_id) = status_in(&mut tx, id).await?;
    if !matches!(before, Status::Pending | Status::Failed | Status::Manual) {
        return Err(AppError::Conflict(format!(
            "Only a pending, failed or manual revocation can be cancelled; this one is {}.",
            before.label().to_lowercase()
        )));
    }
    let now = format_timestamp(clock.now());
    // The status in the WHERE clause loses the race against a worker claiming the job now.
    let changed = sqlx::query(
        "UPDATE revocations SET status = 'cancelled', excluded_reason = $1, finished_at = $2, \
         lease_until = NULL WHERE id = $3 AND status = $4",
    )
    .bind(reason)
    .bind(&now)
    .bind(id)
    .bind(before.slug())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed != 1 {
        return Err(AppError::Conflict(
            "The revocation changed meanwhile; reload and try again.".into(),
        ));
    }
    crate::fulfilment::db::withdraw(
        &mut tx,
        clock,
        id,
        &actor_name(actor),
        &format!("Cancelled by an admin: {reason}"),
    )
    .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("revocation.cancelled", format!("revocation:{id}")).details(json!({
            "campaign": campaign_id,
            "reason": reason,
            "before": { "status": before.slug() },
            "after": { "status": Status::Cancelled.slug() },
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `Some((paused_at, reason))` while Postmark or the users gateway refuses the credentials
/// (401/403) and the worker waits for them to be accepted again.
pub async fn paused(db: &Db) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT paused_at, reason FROM worker_pauses WHERE worker = $1")
        .bind(WORKER)
        .fetch_optional(db.pool())
        .await
}

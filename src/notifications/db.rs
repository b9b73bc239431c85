//! The outbox table: queueing (in the caller's transaction), the admin's list, and the steps
//! the worker takes on a row: claim it under a lease, then record the outcome.
//!
//! Claiming is where two workers could race. PostgreSQL locks the due rows with
//! `FOR UPDATE SKIP LOCKED`, so a second instance takes other rows instead of waiting; SQLite
//! needs nothing more than its write transaction ([`Db::begin`] takes the one write lock up
//! front). Either way the claim commits a lease, and only the holder of that lease may record
//! the outcome.

use serde_json::{json, Value};

use super::{Kind, NotificationView, Status};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::{Backend, Db, Tx},
    email::Email,
};

/// A notification to queue.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub kind: Kind,
    pub recipient: &'a Email,
    pub campaign_id: Option<i64>,
    /// Template data (see `render`); never a token.
    pub data: Value,
}

/// Queues one email in the caller's transaction (next to the audit event that causes it).
pub async fn enqueue(
    tx: &mut Tx,
    clock: &dyn Clock,
    new: &NewNotification<'_>,
) -> Result<i64, sqlx::Error> {
    let now = format_timestamp(clock.now());
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO notifications \
         (kind, recipient, campaign_id, data, status, attempts, next_attempt_at, permanent, \
          created_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, 0, $6) RETURNING id",
    )
    .bind(new.kind.slug())
    .bind(new.recipient.as_str())
    .bind(new.campaign_id)
    .bind(new.data.to_string())
    .bind(Status::Queued.slug())
    .bind(&now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

type ViewRow = (
    i64,
    String,
    String,
    Option<i64>,
    Option<String>,
    String,
    i64,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);

fn unreadable(id: i64, column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("notification {id}: unknown {column} {value:?}").into())
}

/// Newest first, optionally of one campaign and one status.
pub async fn list(
    db: &Db,
    campaign_id: Option<i64>,
    status: Option<Status>,
    limit: i64,
) -> Result<Vec<NotificationView>, sqlx::Error> {
    let rows: Vec<ViewRow> = sqlx::query_as(&format!(
        "{VIEW} WHERE ($1 IS NULL OR n.campaign_id = $1) AND ($2 IS NULL OR n.status = $2) \
         ORDER BY n.id DESC LIMIT $3"
    ))
    .bind(campaign_id)
    .bind(status.map(Status::slug))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.into_iter().map(to_view).collect()
}

/// One email of the outbox.
pub async fn get(db: &Db, id: i64) -> Result<Option<NotificationView>, sqlx::Error> {
    let row: Option<ViewRow> = sqlx::query_as(&format!("{VIEW} WHERE n.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.map(to_view).transpose()
}

/// Emails with their campaign's name, as the pages show them; callers add `WHERE …`.
const VIEW: &str = "SELECT n.id, n.kind, n.recipient, n.campaign_id, c.name, n.status, \
     n.attempts, n.last_error, n.permanent, n.message_id, n.preview, n.created_at, n.sent_at \
     FROM notifications n LEFT JOIN campaigns c ON c.id = n.campaign_id";

fn to_view(row: ViewRow) -> Result<NotificationView, sqlx::Error> {
    let (id, kind, recipient, campaign_id, campaign_name, status, attempts) =
        (row.0, row.1, row.2, row.3, row.4, row.5, row.6);
    Ok(NotificationView {
        id,
        kind: Kind::from_slug(&kind).ok_or_else(|| unreadable(id, "kind", &kind))?,
        recipient,
        campaign_id,
        campaign_name,
        status: Status::from_slug(&status).ok_or_else(|| unreadable(id, "status", &status))?,
        attempts,
        last_error: row.7,
        permanent: row.8 != 0,
        message_id: row.9,
        preview: row.10,
        created_at: row.11,
        sent_at: row.12,
    })
}

/// Reviewers of a campaign whose last email failed permanently. "Last" is the newest email to
/// that person that is finished (sent or failed): a later successful send clears the mark, a
/// resend still waiting in the queue does not.
pub async fn unreachable(db: &Db, campaign_id: i64) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT n.recipient FROM notifications n \
         WHERE n.campaign_id = $1 AND n.permanent = 1 AND n.id = ( \
             SELECT MAX(m.id) FROM notifications m \
             WHERE m.campaign_id = n.campaign_id AND m.recipient = n.recipient \
               AND m.status IN ('sent', 'failed')) \
         ORDER BY n.recipient",
    )
    .bind(campaign_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|(r,)| r).collect())
}

/// A row the worker is about to claim.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub kind: Kind,
    pub recipient: String,
    pub campaign_id: Option<i64>,
    pub data: Value,
    /// Attempts before this one.
    pub attempts: i64,
}

type DueRow = (i64, String, String, Option<i64>, String, i64);

/// Locks up to `limit` rows that are due at `now` and held by no live lease: queued rows whose
/// wait is over, and `sending` rows whose worker stopped before its lease ran out.
pub async fn due(tx: &mut Tx, now: &str, limit: i64) -> Result<Vec<Due>, sqlx::Error> {
    let lock = match tx.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "SELECT id, kind, recipient, campaign_id, data, attempts FROM notifications \
         WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1 \
           AND (lease_until IS NULL OR lease_until <= $1) \
         ORDER BY next_attempt_at, id LIMIT $2{lock}"
    );
    let rows: Vec<DueRow> = sqlx::query_as(&sql)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut **tx)
        .await?;
    rows.into_iter()
        .map(|(id, kind, recipient, campaign_id, data, attempts)| {
            Ok(Due {
                id,
                kind: Kind::from_slug(&kind).ok_or_else(|| unreadable(id, "kind", &kind))?,
                recipient,
                campaign_id,
                data: serde_json::from_str(&data).map_err(|e| {
                    sqlx::Error::Decode(format!("notification {id}: unreadable data: {e}").into())
                })?,
                attempts,
            })
        })
        .collect()
}

/// The due date (`YYYY-MM-DD`) of a campaign, for a link's expiry.
/// A campaign's due date and status (`active`, `closed`, …), for the link an email carries.
pub async fn campaign_due_on(
    tx: &mut Tx,
    campaign_id: i64,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT due_on, status FROM campaigns WHERE id = $1")
        .bind(campaign_id)
        .fetch_optional(&mut **tx)
        .await
}

/// Takes the row under a lease until `lease_until` and counts the attempt; `preview` is the
/// rendered text with the link's token already replaced.
pub async fn record_attempt(
    tx: &mut Tx,
    id: i64,
    lease_until: &str,
    preview: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notifications SET status = $1, attempts = attempts + 1, lease_until = $2, \
         preview = $3 WHERE id = $4",
    )
    .bind(Status::Sending.slug())
    .bind(lease_until)
    .bind(preview)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The end of an attempt, as the worker records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        message_id: String,
    },
    /// Try again at `at` (a clock timestamp).
    Retry {
        at: String,
        error: String,
    },
    Failed {
        error: String,
        permanent: bool,
    },
}

/// Records the outcome of the attempt made under `lease_until`, with its audit event, if the
/// lease is still ours. Returns `false` when it is not (the lease ran out and another worker
/// took the row): the other worker's outcome stands.
pub async fn finish(
    db: &Db,
    clock: &dyn Clock,
    id: i64,
    lease_until: &str,
    outcome: &Outcome,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let now = format_timestamp(clock.now());
    let row: Option<(String, String, Option<i64>, i64)> = sqlx::query_as(
        "SELECT kind, recipient, campaign_id, attempts FROM notifications \
         WHERE id = $1 AND status = $2 AND lease_until = $3",
    )
    .bind(id)
    .bind(Status::Sending.slug())
    .bind(lease_until)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((kind, recipient, campaign_id, attempts)) = row else {
        tx.rollback().await?;
        return Ok(false);
    };
    let details = |extra: Value| {
        let mut details = json!({
            "kind": kind, "recipient": recipient, "campaign_id": campaign_id,
            "attempts": attempts,
        });
        if let (Some(map), Value::Object(extra)) = (details.as_object_mut(), extra) {
            map.extend(extra);
        }
        details
    };
    let subject = format!("notification:{id}");
    let actor = Actor::system("notifications");
    match outcome {
        Outcome::Sent { message_id } => {
            sqlx::query(
                "UPDATE notifications SET status = $1, message_id = $2, sent_at = $3, \
                 lease_until = NULL, last_error = NULL WHERE id = $4",
            )
            .bind(Status::Sent.slug())
            .bind(message_id)
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let event = Event::new("notification.sent", subject)
                .details(details(json!({ "message_id": message_id })));
            audit::record(&mut tx, clock, &actor, &event).await?;
        }
        Outcome::Retry { at, error } => {
            sqlx::query(
                "UPDATE notifications SET status = $1, next_attempt_at = $2, last_error = $3, \
                 lease_until = NULL WHERE id = $4",
            )
            .bind(Status::Queued.slug())
            .bind(at)
            .bind(error)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        Outcome::Failed { error, permanent } => {
            fail(&mut tx, clock, id, error, *permanent).await?;
            let event = Event::new("notification.failed", subject)
                .details(details(json!({ "error": error, "permanent": permanent })));
            audit::record(&mut tx, clock, &actor, &event).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// Marks a row failed inside `tx` (the caller writes the audit event).
pub async fn fail(
    tx: &mut Tx,
    clock: &dyn Clock,
    id: i64,
    error: &str,
    permanent: bool,
) -> Result<(), sqlx::Error> {
    end(tx, clock, id, Status::Failed, error, permanent).await
}

/// Leaves a row unsent on purpose (its campaign closed first), saying why.
pub async fn skip(tx: &mut Tx, clock: &dyn Clock, id: i64, why: &str) -> Result<(), sqlx::Error> {
    end(tx, clock, id, Status::Skipped, why, false).await
}

async fn end(
    tx: &mut Tx,
    clock: &dyn Clock,
    id: i64,
    status: Status,
    error: &str,
    permanent: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notifications SET status = $1, last_error = $2, permanent = $3, \
         lease_until = NULL, next_attempt_at = $4 WHERE id = $5",
    )
    .bind(status.slug())
    .bind(error)
    .bind(i64::from(permanent))
    .bind(format_timestamp(clock.now()))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

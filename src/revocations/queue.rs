//! The worker's steps on the `revocations` table: claim a due job under a lease, keep a
//! server's values before quarantine, record each attempt's outcome with its audit events,
//! and pause or resume the whole queue.
//!
//! Claiming is where two workers could race. PostgreSQL locks the due row with
//! `FOR UPDATE SKIP LOCKED`, so a second instance takes another row instead of waiting; SQLite
//! needs nothing more than its write transaction ([`Db::begin`] takes the one write lock up
//! front). Either way the claim commits a lease, and only the holder of that lease may record
//! the outcome: a worker that stalls past its lease finds the job taken and records nothing.

use serde_json::{json, Value};

use super::{db::unreadable, db::WORKER, Action, Status};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::{Backend, Db, Tx},
    review_items::ItemKind,
};

/// A job a worker holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    /// `None` for offboarding and emergency removals, which no campaign decided.
    pub campaign_id: Option<i64>,
    pub kind: ItemKind,
    pub action: Action,
    pub user_email: Option<String>,
    pub server_id: Option<i64>,
    pub access: String,
    /// Attempts recorded before this one.
    pub attempts: i64,
    /// Retryable failures since the job last ended (done or failed): the current round of
    /// retries, which an admin's retry starts afresh.
    pub round: i64,
    /// JSON of the server's values before quarantine, once stored.
    pub previous: Option<String>,
    /// The lease this worker holds; its proof of ownership when recording.
    pub lease_until: String,
}

type DueRow = (
    i64,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    String,
    i64,
    Option<String>,
);

/// Claims the job due first at `now` that no live lease holds (a pending job whose wait is
/// over, or a running one whose worker stopped before its lease ran out) until
/// `lease_until`. A job whose stored kind or action this version cannot read fails here, with
/// its audit event, instead of blocking the queue.
pub async fn claim(
    db: &Db,
    clock: &dyn Clock,
    lease_until: &str,
) -> Result<Option<Job>, sqlx::Error> {
    let now = format_timestamp(clock.now());
    let mut tx = db.begin().await?;
    let lock = match tx.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    loop {
        let row: Option<DueRow> = sqlx::query_as(&format!(
            "SELECT id, campaign_id, kind, action, user_email, server_id, access, attempts, \
             previous FROM revocations \
             WHERE status IN ('pending', 'running') AND next_attempt_at <= $1 \
               AND (lease_until IS NULL OR lease_until <= $1) \
             ORDER BY next_attempt_at, id LIMIT 1{lock}"
        ))
        .bind(&now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((
            id,
            campaign_id,
            kind,
            action,
            user_email,
            server_id,
            access,
            attempts,
            previous,
        )) = row
        else {
            tx.commit().await?;
            return Ok(None);
        };
        let Some(kind) = ItemKind::from_slug(&kind) else {
            let problem = unreadable(id, "kind", &kind).to_string();
            fail_unreadable(&mut tx, clock, id, campaign_id, &problem).await?;
            continue;
        };
        // A job written without an action (by an older version) gets the one its item implies.
        let action = match action.as_deref() {
            None => Action::for_item(kind, &access, false),
            Some(slug) => match Action::from_slug(slug) {
                Some(action) => action,
                None => {
                    let problem = unreadable(id, "action", slug).to_string();
                    fail_unreadable(&mut tx, clock, id, campaign_id, &problem).await?;
                    continue;
                }
            },
        };
        let (round,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM revocation_attempts WHERE revocation_id = $1 \
             AND outcome = 'retry' AND id > COALESCE((SELECT MAX(id) FROM revocation_attempts \
             WHERE revocation_id = $1 AND outcome IN ('done', 'failed')), 0)",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE revocations SET status = 'running', lease_until = $1, action = $2 \
             WHERE id = $3",
        )
        .bind(lease_until)
        .bind(action.slug())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(Some(Job {
            id,
            campaign_id,
            kind,
            action,
            user_email,
            server_id,
            access,
            attempts,
            round,
            previous,
            lease_until: lease_until.to_string(),
        }));
    }
}

async fn fail_unreadable(
    tx: &mut Tx,
    clock: &dyn Clock,
    id: i64,
    campaign_id: Option<i64>,
    problem: &str,
) -> Result<(), sqlx::Error> {
    tracing::warn!(
        revocation.id = id,
        problem,
        "revocation cannot be carried out"
    );
    let now = format_timestamp(clock.now());
    sqlx::query(
        "UPDATE revocations SET status = 'failed', last_error = $1, finished_at = $2, \
         lease_until = NULL WHERE id = $3",
    )
    .bind(problem)
    .bind(&now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let event = Event::new("revocation.failed", format!("revocation:{id}"))
        .details(json!({ "campaign": campaign_id, "error": problem }));
    audit::record(tx, clock, &Actor::system(WORKER), &event).await?;
    Ok(())
}

/// Keeps `previous` (the server's values before quarantine) unless the job has them already:
/// the first read is the one that shows the server as its owners set it up, a retry after a
/// half-applied change would not. Returns `false` when the lease is no longer ours.
pub async fn keep_previous(db: &Db, job: &Job, previous: &Value) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE revocations SET previous = COALESCE(previous, $1) \
         WHERE id = $2 AND status = 'running' AND lease_until = $3",
    )
    .bind(previous.to_string())
    .bind(job.id)
    .bind(&job.lease_until)
    .execute(db.pool())
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// Releases the lease of a job this process claimed and cannot finish (it is stopping): the
/// next claim by any instance takes it at once. `false` when the lease was no longer ours.
/// The job may have made its call already: a repeat is safe (see the worker's notes).
pub async fn hand_back(db: &Db, id: i64, lease_until: &str) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE revocations SET lease_until = NULL \
         WHERE id = $1 AND status = 'running' AND lease_until = $2",
    )
    .bind(id)
    .bind(lease_until)
    .execute(db.pool())
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// The call that decided an attempt, as `revocation_attempts` keeps it. Never a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// e.g. `PUT /servers/10001`, `DELETE gateway users/ben@example.com`.
    pub operation: String,
    pub http_status: Option<i64>,
    pub error_code: Option<i64>,
    pub message: Option<String>,
}

/// How an attempt ended, as the worker records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Try again at `at` (a clock timestamp).
    Retry {
        at: String,
        error: String,
    },
    Failed {
        error: String,
    },
    /// The credentials were refused: the whole queue pauses with `reason` and the job waits
    /// as it was, its attempts unchanged.
    Paused {
        reason: String,
    },
    /// No API can do it; a person must.
    Manual {
        reason: String,
    },
}

impl Outcome {
    fn slug(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Retry { .. } => "retry",
            Outcome::Failed { .. } => "failed",
            Outcome::Paused { .. } => "paused",
            Outcome::Manual { .. } => "manual",
        }
    }
}

/// Records the attempt made under the job's lease and its outcome, with the audit events,
/// if the lease is still ours; `false` when it is not (another worker took the job after the
/// lease ran out: its outcome stands). `attempt` is `None` when no call was made (manual).
pub async fn finish(
    db: &Db,
    clock: &dyn Clock,
    job: &Job,
    attempt: Option<&Attempt>,
    outcome: &Outcome,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let ours: Option<(i64,)> = sqlx::query_as(
        "SELECT attempts FROM revocations WHERE id = $1 AND status = 'running' \
         AND lease_until = $2",
    )
    .bind(job.id)
    .bind(&job.lease_until)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((attempts,)) = ours else {
        tx.rollback().await?;
        return Ok(false);
    };
    let now = format_timestamp(clock.now());
    let actor = Actor::system(WORKER);
    let subject = format!("revocation:{}", job.id);
    let base = json!({
        "campaign": job.campaign_id, "kind": job.kind.slug(), "action": job.action.slug(),
        "user": job.user_email, "server": job.server_id, "access": job.access,
    });
    let with = |extra: Value| {
        let mut details = base.clone();
        if let (Some(map), Value::Object(extra)) = (details.as_object_mut(), extra) {
            map.extend(extra);
        }
        details
    };
    // A refused credential is not the job's fault: it does not use up an attempt.
    let counted = matches!(
        outcome,
        Outcome::Done | Outcome::Retry { .. } | Outcome::Failed { .. }
    );
    let attempts = attempts + i64::from(counted && attempt.is_some());
    if let Some(attempt) = attempt {
        sqlx::query(
            "INSERT INTO revocation_attempts \
             (revocation_id, at, operation, http_status, error_code, message, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(job.id)
        .bind(&now)
        .bind(&attempt.operation)
        .bind(attempt.http_status)
        .bind(attempt.error_code)
        .bind(&attempt.message)
        .bind(outcome.slug())
        .execute(&mut *tx)
        .await?;
        let event = Event::new("revocation.attempted", subject.clone()).details(with(json!({
            "attempt": attempts, "operation": attempt.operation,
            "http_status": attempt.http_status, "error_code": attempt.error_code,
            "message": attempt.message, "outcome": outcome.slug(),
        })));
        audit::record(&mut tx, clock, &actor, &event).await?;
    }
    let (status, next_at, error, finished): (Status, Option<&str>, Option<&str>, bool) =
        match outcome {
            Outcome::Done => (Status::Done, None, None, true),
            Outcome::Retry { at, error } => (Status::Pending, Some(at), Some(error), false),
            Outcome::Failed { error } => (Status::Failed, None, Some(error), true),
            // Due again as soon as the queue resumes.
            Outcome::Paused { reason } => (Status::Pending, Some(&now), Some(reason), false),
            Outcome::Manual { reason } => (Status::Manual, None, Some(reason), true),
        };
    sqlx::query(
        "UPDATE revocations SET status = $1, attempts = $2, \
         next_attempt_at = COALESCE($3, next_attempt_at), last_error = $4, lease_until = NULL, \
         finished_at = $5 WHERE id = $6",
    )
    .bind(status.slug())
    .bind(attempts)
    .bind(next_at)
    .bind(error)
    .bind(finished.then_some(now.as_str()))
    .bind(job.id)
    .execute(&mut *tx)
    .await?;
    match outcome {
        Outcome::Done => {
            let event = Event::new("revocation.done", subject).details(with(json!({
                "attempts": attempts,
            })));
            audit::record(&mut tx, clock, &actor, &event).await?;
        }
        Outcome::Failed { error } => {
            let event = Event::new("revocation.failed", subject).details(with(json!({
                "attempts": attempts, "error": error,
            })));
            audit::record(&mut tx, clock, &actor, &event).await?;
        }
        Outcome::Manual { reason } => {
            let event =
                Event::new("revocation.manual", subject).details(with(json!({ "reason": reason })));
            audit::record(&mut tx, clock, &actor, &event).await?;
        }
        Outcome::Paused { reason } => pause(&mut tx, clock, &now, reason, job.id).await?,
        Outcome::Retry { .. } => {}
    }
    tx.commit().await?;
    Ok(true)
}

/// Pauses the queue (once: several workers may hit the refusal together).
async fn pause(
    tx: &mut Tx,
    clock: &dyn Clock,
    now: &str,
    reason: &str,
    job: i64,
) -> Result<(), sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO worker_pauses (worker, paused_at, reason) VALUES ($1, $2, $3) \
         ON CONFLICT (worker) DO NOTHING",
    )
    .bind(WORKER)
    .bind(now)
    .bind(reason)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        let event = Event::new("revocations.paused", format!("worker:{WORKER}"))
            .details(json!({ "reason": reason, "revocation": job }));
        audit::record(tx, clock, &Actor::system(WORKER), &event).await?;
    }
    Ok(())
}

/// Ends the pause after a call was accepted again; `false` when there was none (another
/// worker resumed first).
pub async fn resume(db: &Db, clock: &dyn Clock) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT paused_at, reason FROM worker_pauses WHERE worker = $1")
            .bind(WORKER)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((paused_at, reason)) = row else {
        tx.rollback().await?;
        return Ok(false);
    };
    sqlx::query("DELETE FROM worker_pauses WHERE worker = $1")
        .bind(WORKER)
        .execute(&mut *tx)
        .await?;
    let event = Event::new("revocations.resumed", format!("worker:{WORKER}"))
        .details(json!({ "paused_at": paused_at, "reason": reason }));
    audit::record(&mut tx, clock, &Actor::system(WORKER), &event).await?;
    tx.commit().await?;
    Ok(true)
}

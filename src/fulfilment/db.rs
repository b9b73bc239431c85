//! Fulfilment tasks in the database: gathering manual revocations into tasks (with their emails
//! and audit event, in one transaction), reading them, and a person marking a line.

use serde_json::json;

use super::{instruction, LineOutcome, TaskLine, TaskSummary, TaskView, NOTE_MAX};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::{lock_xact, Db, LockKey, Tx},
    email::Email,
    error::AppError,
    notifications::{
        db::{enqueue, NewNotification},
        Kind,
    },
    review_items::ItemKind,
    revocations::{Action, Status, Verification},
};

/// A line as stored; `line` reads it into a [`TaskLine`].
#[derive(Debug, sqlx::FromRow)]
struct LineRow {
    id: i64,
    kind: String,
    user_email: Option<String>,
    server_id: Option<i64>,
    server_name: Option<String>,
    access: String,
    action: Option<String>,
    last_error: Option<String>,
    status: String,
    task_outcome: Option<String>,
    task_note: Option<String>,
    task_by: Option<String>,
    task_at: Option<String>,
    verification: String,
    /// `campaign`, or `offboarding` / `emergency`: the whole login goes.
    origin: String,
}

/// The lines of tasks; callers add `WHERE …`.
const LINE: &str = "SELECT r.id, r.kind, r.user_email, r.server_id, i.server_name, r.access, \
     r.action, r.last_error, r.status, l.outcome AS task_outcome, l.note AS task_note, \
     l.marked_by AS task_by, l.marked_at AS task_at, r.verification, r.origin \
     FROM fulfilment_lines l JOIN revocations r ON r.id = l.revocation_id \
     LEFT JOIN review_items i ON i.id = r.item_id";

/// Manual revocations without an open line: they need (a line in) a new task.
const UNGATHERED: &str = "r.status = 'manual' AND NOT EXISTS (SELECT 1 FROM fulfilment_lines l \
     WHERE l.revocation_id = r.id AND l.outcome IS NULL)";

fn unreadable(id: i64, column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("revocation {id}: unknown {column} {value:?}").into())
}

fn line(row: LineRow) -> Result<TaskLine, sqlx::Error> {
    let id = row.id;
    let kind = ItemKind::from_slug(&row.kind).ok_or_else(|| unreadable(id, "kind", &row.kind))?;
    let action = row
        .action
        .map(|a| Action::from_slug(&a).ok_or_else(|| unreadable(id, "action", &a)))
        .transpose()?;
    let status =
        Status::from_slug(&row.status).ok_or_else(|| unreadable(id, "status", &row.status))?;
    let outcome = row
        .task_outcome
        .map(|o| LineOutcome::from_slug(&o).ok_or_else(|| unreadable(id, "task_outcome", &o)))
        .transpose()?;
    let verification = Verification::from_slug(&row.verification)
        .ok_or_else(|| unreadable(id, "verification", &row.verification))?;
    Ok(TaskLine {
        revocation_id: id,
        instruction: instruction(
            kind,
            action,
            row.user_email.as_deref(),
            row.server_id.map(|s| (s, row.server_name.as_deref())),
            &row.access,
            matches!(row.origin.as_str(), "offboarding" | "emergency"),
        ),
        kind,
        user_email: row.user_email,
        server_id: row.server_id,
        server_name: row.server_name,
        access: row.access,
        action,
        reason: row.last_error,
        status,
        outcome,
        note: row.task_note,
        by: row.task_by,
        at: row.task_at,
        verification,
    })
}

/// What a task of offboarding's manual jobs (no campaign) is called where a campaign's name
/// would be.
pub const OFFBOARDING_TASK: &str = "Offboarding";

fn task_name(campaign_name: Option<String>) -> String {
    campaign_name.unwrap_or_else(|| OFFBOARDING_TASK.to_string())
}

/// Gathers the manual revocations no task holds yet into one task per campaign, once none of
/// that campaign's jobs still waits for its first attempt (so the jobs of one apply that end
/// manual share one task). Each task is emailed once to each of `recipients` through the
/// outbox and audited `fulfilment.task_created`, in the transaction that creates it. Returns
/// the new tasks' ids.
pub async fn collect(
    db: &Db,
    clock: &dyn Clock,
    recipients: &[Email],
) -> Result<Vec<i64>, sqlx::Error> {
    // Most passes have nothing to gather: a read first spares them a write transaction.
    let waiting: Option<(i64,)> = sqlx::query_as(&format!(
        "SELECT r.id FROM revocations r WHERE {UNGATHERED} LIMIT 1"
    ))
    .fetch_optional(db.pool())
    .await?;
    if waiting.is_none() {
        return Ok(Vec::new());
    }
    let mut tx = db.begin().await?;
    lock_xact(&mut tx, LockKey::Fulfilment).await?;
    let mut groups: Vec<(Option<i64>, String)> = sqlx::query_as(&format!(
        "SELECT c.id, c.name FROM campaigns c WHERE EXISTS (SELECT 1 FROM revocations r \
         WHERE r.campaign_id = c.id AND {UNGATHERED}) \
         AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.campaign_id = c.id \
         AND (r.status = 'running' OR (r.status = 'pending' AND r.attempts = 0))) ORDER BY c.id"
    ))
    .fetch_all(&mut *tx)
    .await?;
    // Offboarding's manual jobs (no campaign) share one task the same way.
    let offboarding: Option<(i64,)> = sqlx::query_as(&format!(
        "SELECT r.id FROM revocations r WHERE r.campaign_id IS NULL AND {UNGATHERED} \
         AND NOT EXISTS (SELECT 1 FROM revocations o WHERE o.campaign_id IS NULL \
         AND (o.status = 'running' OR (o.status = 'pending' AND o.attempts = 0))) LIMIT 1"
    ))
    .fetch_optional(&mut *tx)
    .await?;
    if offboarding.is_some() {
        groups.push((None, OFFBOARDING_TASK.to_string()));
    }
    let mut created = Vec::with_capacity(groups.len());
    for (campaign_id, name) in groups {
        created.push(create(&mut tx, clock, recipients, campaign_id, &name).await?);
    }
    tx.commit().await?;
    Ok(created)
}

async fn create(
    tx: &mut Tx,
    clock: &dyn Clock,
    recipients: &[Email],
    campaign_id: Option<i64>,
    campaign_name: &str,
) -> Result<i64, sqlx::Error> {
    // The same columns as a line, before it exists.
    let rows: Vec<LineRow> = sqlx::query_as(&format!(
        "SELECT r.id, r.kind, r.user_email, r.server_id, i.server_name, r.access, r.action, \
         r.last_error, r.status, CAST(NULL AS TEXT) AS task_outcome, \
         CAST(NULL AS TEXT) AS task_note, CAST(NULL AS TEXT) AS task_by, \
         CAST(NULL AS TEXT) AS task_at, r.verification, r.origin \
         FROM revocations r LEFT JOIN review_items i ON i.id = r.item_id \
         WHERE (r.campaign_id = $1 OR ($1 IS NULL AND r.campaign_id IS NULL)) \
         AND {UNGATHERED} ORDER BY r.id"
    ))
    .bind(campaign_id)
    .fetch_all(&mut **tx)
    .await?;
    let lines = rows.into_iter().map(line).collect::<Result<Vec<_>, _>>()?;
    let now = format_timestamp(clock.now());
    let to: Vec<&str> = recipients.iter().map(Email::as_str).collect();
    let (task_id,): (i64,) = sqlx::query_as(
        "INSERT INTO fulfilment_tasks (campaign_id, created_at, recipients) \
         VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(campaign_id)
    .bind(&now)
    .bind(json!(to).to_string())
    .fetch_one(&mut **tx)
    .await?;
    for l in &lines {
        sqlx::query("INSERT INTO fulfilment_lines (task_id, revocation_id) VALUES ($1, $2)")
            .bind(task_id)
            .bind(l.revocation_id)
            .execute(&mut **tx)
            .await?;
    }
    let data = json!({
        "campaign_name": campaign_name,
        "offboarding": campaign_id.is_none(),
        "task_id": task_id,
        "lines": lines.iter().map(|l| l.instruction.as_str()).collect::<Vec<_>>(),
    });
    for recipient in recipients {
        enqueue(
            tx,
            clock,
            &NewNotification {
                kind: Kind::FulfilmentTask,
                recipient,
                campaign_id,
                data: data.clone(),
            },
        )
        .await?;
    }
    let event = Event::new(
        "fulfilment.task_created",
        format!("fulfilment_task:{task_id}"),
    )
    .details(json!({
        "campaign": campaign_id,
        "revocations": lines.iter().map(|l| l.revocation_id).collect::<Vec<_>>(),
        "emailed": to,
    }));
    audit::record(tx, clock, &Actor::system("revocations"), &event).await?;
    if recipients.is_empty() {
        tracing::warn!(
            task.id = task_id,
            "a fulfilment task was created but PAR_FULFILMENT_EMAILS is empty: nobody was emailed"
        );
    }
    Ok(task_id)
}

/// Tasks, newest first (at most `limit`).
pub async fn list(db: &Db, limit: i64) -> Result<Vec<TaskSummary>, sqlx::Error> {
    // (id, campaign, its name, created, lines, open, not effective)
    type Row = (i64, Option<i64>, Option<String>, String, i64, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT t.id, t.campaign_id, c.name, t.created_at, \
         (SELECT COUNT(*) FROM fulfilment_lines l WHERE l.task_id = t.id), \
         (SELECT COUNT(*) FROM fulfilment_lines l WHERE l.task_id = t.id \
          AND l.outcome IS NULL), \
         (SELECT COUNT(*) FROM fulfilment_lines l JOIN revocations r ON r.id = l.revocation_id \
          WHERE l.task_id = t.id AND l.outcome = 'done' AND r.verification = 'not_effective') \
         FROM fulfilment_tasks t LEFT JOIN campaigns c ON c.id = t.campaign_id \
         ORDER BY t.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, campaign_id, campaign_name, created_at, lines, open, not_effective)| {
                TaskSummary {
                    id,
                    campaign_id,
                    campaign_name: task_name(campaign_name),
                    created_at,
                    lines,
                    open,
                    not_effective,
                }
            },
        )
        .collect())
}

/// One task with its lines.
pub async fn get(db: &Db, id: i64) -> Result<Option<TaskView>, sqlx::Error> {
    let task: Option<(Option<i64>, Option<String>, String, String)> = sqlx::query_as(
        "SELECT t.campaign_id, c.name, t.created_at, t.recipients FROM fulfilment_tasks t \
         LEFT JOIN campaigns c ON c.id = t.campaign_id WHERE t.id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let Some((campaign_id, campaign_name, created_at, recipients)) = task else {
        return Ok(None);
    };
    let recipients: Vec<String> = serde_json::from_str(&recipients).map_err(|e| {
        sqlx::Error::Decode(format!("fulfilment task {id}: unreadable recipients: {e}").into())
    })?;
    let rows: Vec<LineRow> = sqlx::query_as(&format!("{LINE} WHERE l.task_id = $1 ORDER BY r.id"))
        .bind(id)
        .fetch_all(db.pool())
        .await?;
    Ok(Some(TaskView {
        id,
        campaign_id,
        campaign_name: task_name(campaign_name),
        created_at,
        recipients,
        lines: rows.into_iter().map(line).collect::<Result<_, _>>()?,
    }))
}

/// Who marks a line: the audit actor and the email kept on the line.
#[derive(Debug, Clone, Copy)]
pub struct Marker<'a> {
    pub actor: &'a Actor,
    pub email: &'a str,
}

/// A person marks an open line of task `task_id`: done (the revocation is done, and the next
/// sync proves it) or not done (failed, with the note as its error; an admin retries or
/// cancels it). Audited `revocation.task_done` or `revocation.task_not_done`.
///
/// Errors: a note longer than [`NOTE_MAX`], "not done" without a note, or a line that takes
/// away the marker's own access (nobody confirms their own revocation, as nobody reviews their
/// own access) → Validation; no such line in that task → NotFound; a line already marked or
/// withdrawn → Conflict.
pub async fn mark(
    db: &Db,
    clock: &dyn Clock,
    by: Marker<'_>,
    task_id: i64,
    revocation_id: i64,
    outcome: LineOutcome,
    note: &str,
) -> Result<(), AppError> {
    let note = note.trim();
    if note.chars().count() > NOTE_MAX {
        return Err(AppError::Validation(format!(
            "Keep the note under {NOTE_MAX} characters; nothing was saved."
        )));
    }
    if outcome == LineOutcome::NotDone && note.is_empty() {
        return Err(AppError::Validation(
            "Say why it could not be done, so an admin knows what to do next; nothing was saved."
                .into(),
        ));
    }
    if outcome == LineOutcome::Withdrawn {
        return Err(AppError::Validation(
            "A line is withdrawn by retrying or cancelling its revocation.".into(),
        ));
    }
    let note = (!note.is_empty()).then_some(note);
    let mut tx = db.begin().await?;
    // (campaign, the user whose access it is, the line's outcome, who closed it)
    type Current = (Option<i64>, Option<String>, Option<String>, Option<String>);
    let current: Option<Current> = sqlx::query_as(
        "SELECT r.campaign_id, r.user_email, l.outcome, l.marked_by FROM fulfilment_lines l \
         JOIN revocations r ON r.id = l.revocation_id \
         WHERE l.task_id = $1 AND l.revocation_id = $2",
    )
    .bind(task_id)
    .bind(revocation_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((campaign_id, user, marked, marked_by)) = current else {
        return Err(AppError::NotFound);
    };
    if let Some(marked) = marked {
        let label = LineOutcome::from_slug(&marked).map_or("closed", LineOutcome::label);
        return Err(AppError::Conflict(format!(
            "This line was already marked \"{label}\" by {}.",
            marked_by.unwrap_or_else(|| "someone".into())
        )));
    }
    if user.is_some_and(|user| Email::parse(&user).is_ok_and(|u| u.is(by.email))) {
        return Err(AppError::Validation(
            "This line takes away your own access: someone else on the fulfilment list, or an \
             admin, must confirm it."
                .into(),
        ));
    }
    let now = format_timestamp(clock.now());
    let (status, error) = match outcome {
        LineOutcome::Done => (Status::Done, None),
        _ => (
            Status::Failed,
            Some(format!(
                "Could not be done by hand ({}): {}",
                by.email,
                note.unwrap_or_default()
            )),
        ),
    };
    // The outcome and status in the WHERE clauses lose a race with a second person, or an
    // admin's retry, cleanly: both rows change or neither does.
    let line = sqlx::query(
        "UPDATE fulfilment_lines SET outcome = $1, note = $2, marked_by = $3, marked_at = $4 \
         WHERE task_id = $5 AND revocation_id = $6 AND outcome IS NULL",
    )
    .bind(outcome.slug())
    .bind(note)
    .bind(by.email)
    .bind(&now)
    .bind(task_id)
    .bind(revocation_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // A done line drops the job's "why manual" message: it no longer says what happened.
    let job = sqlx::query(
        "UPDATE revocations SET status = $1, last_error = $2, finished_at = $3 \
         WHERE id = $4 AND status = 'manual'",
    )
    .bind(status.slug())
    .bind(&error)
    .bind(&now)
    .bind(revocation_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if line != 1 || job != 1 {
        return Err(AppError::Conflict(
            "The line changed meanwhile; reload and try again.".into(),
        ));
    }
    let action = match outcome {
        LineOutcome::Done => "revocation.task_done",
        _ => "revocation.task_not_done",
    };
    let event = Event::new(action, format!("revocation:{revocation_id}")).details(json!({
        "campaign": campaign_id,
        "task": task_id,
        "note": note,
        "before": { "status": Status::Manual.slug() },
        "after": { "status": status.slug() },
    }));
    audit::record(&mut tx, clock, by.actor, &event).await?;
    tx.commit().await?;
    Ok(())
}

/// Closes the open line of revocation `id`, if it has one, as withdrawn: an admin retried or
/// cancelled the revocation (`why`), so the person should no longer act on that line. Runs
/// in the admin's transaction.
pub async fn withdraw(
    tx: &mut Tx,
    clock: &dyn Clock,
    id: i64,
    by: &str,
    why: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE fulfilment_lines SET outcome = 'withdrawn', note = $1, marked_by = $2, \
         marked_at = $3 WHERE revocation_id = $4 AND outcome IS NULL",
    )
    .bind(why)
    .bind(by)
    .bind(format_timestamp(clock.now()))
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

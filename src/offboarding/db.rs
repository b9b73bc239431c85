//! Offboarding's writes (jobs for leavers, emergency removals) and the Offboarding page's
//! read. The jobs are rows of `revocations` with no campaign, so the revocation worker,
//! fulfilment tasks and sync verification treat them like any other.

use serde_json::json;

use sqlx::AnyConnection;

use super::{identity::Standings, Origin, RemovalPlan};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::{Db, Tx},
    error::AppError,
    revocations::{is_account_owner, Action},
};

/// Who offboarding's own writes are recorded as.
const OFFBOARDING: &str = "offboarding";

/// The longest reason accepted for an emergency removal, in characters.
const REASON_MAX: usize = 500;

/// Most removals the page lists.
pub(super) const LISTED: i64 = 500;

/// What one pass of [`reconcile`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Leavers' logins that got a removal job.
    pub started: usize,
    /// Pending or failed removals cancelled because their person is active again.
    pub cancelled: usize,
}

/// A login's account role and server permissions (`Server name (id): permission`).
async fn access_of(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<(String, String, Vec<String>)>, sqlx::Error> {
    let user: Option<(String, String)> =
        sqlx::query_as("SELECT name, role FROM postmark_users WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((name, role)) = user else {
        return Ok(None);
    };
    let permissions: Vec<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT p.postmark_server_id, p.permission, s.name FROM user_permissions p \
         LEFT JOIN servers s ON s.postmark_id = p.postmark_server_id \
         WHERE p.email = $1 ORDER BY p.postmark_server_id",
    )
    .bind(email)
    .fetch_all(&mut *conn)
    .await?;
    let permissions = permissions
        .into_iter()
        .map(|(id, permission, server)| {
            format!(
                "{} ({id}): {permission}",
                server.unwrap_or_else(|| "unknown server".into())
            )
        })
        .collect();
    Ok(Some((name, role, permissions)))
}

/// The action that takes a whole login away: removal through the users gateway, except the
/// Account Owner, whom no API may remove.
fn removal(role: &str) -> Action {
    if is_account_owner(role) {
        Action::Manual
    } else {
        Action::RemoveUser
    }
}

/// A new removal job, due now; `None` when an open removal of the login exists already
/// (the unique index `revocations_open_removal`: another writer got there first).
struct NewRemoval<'a> {
    email: &'a str,
    role: &'a str,
    origin: Origin,
    person_id: Option<&'a str>,
    reason: &'a str,
    started_by: &'a str,
}

async fn insert(tx: &mut Tx, now: &str, new: &NewRemoval<'_>) -> Result<Option<i64>, sqlx::Error> {
    let decided_via = match new.origin {
        Origin::Emergency => "admin",
        _ => "provider",
    };
    let id: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO revocations (item_id, campaign_id, kind, user_email, server_id, access, \
         decided_via, status, created_at, attempts, next_attempt_at, action, applied_at, \
         applied_by, origin, person_id, reason) \
         VALUES (NULL, NULL, 'account_role', $1, NULL, $2, $3, 'pending', $4, 0, $4, $5, $4, \
         $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(new.email)
    .bind(new.role)
    .bind(decided_via)
    .bind(now)
    .bind(removal(new.role).slug())
    .bind(new.started_by)
    .bind(new.origin.slug())
    .bind(new.person_id)
    .bind(new.reason)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(id.map(|(id,)| id))
}

/// Starts the removal of every leaver's login that has none since the person left, and
/// cancels the pending removals of people who are active again, with their audit events, in
/// `tx` (the SCIM change's or the users sync's transaction, so a leaver is never recorded
/// without their job). Cheap when nobody left: one count.
pub async fn reconcile(tx: &mut Tx, clock: &dyn Clock) -> Result<Reconciled, sqlx::Error> {
    let standings = Standings::load(&mut *tx).await?;
    let mut done = Reconciled::default();
    if !standings.has_provider() {
        return Ok(done);
    }
    let now = format_timestamp(clock.now());
    let actor = Actor::system(OFFBOARDING);
    let logins: Vec<(String,)> = sqlx::query_as("SELECT email FROM postmark_users ORDER BY email")
        .fetch_all(&mut **tx)
        .await?;
    for (email,) in logins {
        let Some(claim) = standings.decisive(&email) else {
            continue;
        };
        let Some(since) = claim.since.as_deref().filter(|_| !claim.active) else {
            continue;
        };
        let (started,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM revocations WHERE user_email = $1 \
             AND origin IN ('offboarding', 'emergency') AND created_at >= $2",
        )
        .bind(&email)
        .bind(since)
        .fetch_one(&mut **tx)
        .await?;
        if started > 0 {
            continue;
        }
        let Some((_, role, permissions)) = access_of(tx, &email).await? else {
            continue;
        };
        let reason = format!(
            "{} {} at {}",
            claim.person,
            if claim.deleted {
                "deleted"
            } else {
                "deactivated"
            },
            claim.provider
        );
        let new = NewRemoval {
            email: &email,
            role: &role,
            origin: Origin::Offboarding,
            person_id: Some(&claim.person_id),
            reason: &reason,
            started_by: &claim.provider,
        };
        let Some(id) = insert(tx, &now, &new).await? else {
            continue;
        };
        let event = Event::new("offboarding.started", format!("revocation:{id}")).details(json!({
            "user": email, "role": role, "permissions": permissions,
            "action": removal(&role).slug(), "person": claim.person_id,
            "provider": claim.provider, "left_at": since, "deleted": claim.deleted,
        }));
        audit::record(tx, clock, &actor, &event).await?;
        tracing::info!(
            revocation.id = id,
            "offboarding started for a leaver's Postmark login"
        );
        done.started += 1;
    }

    // A person back before their removal ran (or while it stood failed) keeps their access.
    let pending: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, user_email FROM revocations WHERE origin = 'offboarding' \
         AND ((status = 'pending' AND attempts = 0) OR status = 'failed') ORDER BY id",
    )
    .fetch_all(&mut **tx)
    .await?;
    for (id, email) in pending {
        let Some(claim) = standings.decisive(&email).filter(|c| c.active) else {
            continue;
        };
        let reason = format!("{} is active again at {}", claim.person, claim.provider);
        let changed = sqlx::query(
            "UPDATE revocations SET status = 'cancelled', excluded_reason = $1, finished_at = $2 \
             WHERE id = $3 AND status IN ('pending', 'failed')",
        )
        .bind(&reason)
        .bind(&now)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if changed == 1 {
            let event = Event::new("revocation.cancelled", format!("revocation:{id}"))
                .details(json!({ "user": email, "reason": reason, "origin": "offboarding" }));
            audit::record(tx, clock, &actor, &event).await?;
            done.cancelled += 1;
        }
    }
    Ok(done)
}

/// [`reconcile`] in a transaction of its own (after a users sync, and at start-up).
pub async fn reconcile_now(db: &Db, clock: &dyn Clock) -> Result<Reconciled, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = reconcile(&mut tx, clock).await?;
    tx.commit().await?;
    Ok(done)
}

fn valid_login(email: &str) -> Result<String, AppError> {
    crate::email::Email::parse(email)
        .map(crate::email::Email::into_string)
        .map_err(|_| AppError::Validation(format!("{email:?} is not an email address.")))
}

async fn open_case(conn: &mut AnyConnection, email: &str) -> Result<Option<i64>, sqlx::Error> {
    let open: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM revocations WHERE user_email = $1 \
         AND origin IN ('offboarding', 'emergency') AND status IN ('pending', 'running') ORDER BY id DESC LIMIT 1",
    )
    .bind(email)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(open.map(|(id,)| id))
}

/// What an emergency removal of `email` would do, with or without a users gateway.
pub async fn plan(db: &Db, email: &str, has_gateway: bool) -> Result<RemovalPlan, AppError> {
    let email = valid_login(email)?;
    let mut conn = db.pool().acquire().await?;
    let (name, role, permissions) = access_of(&mut conn, &email)
        .await?
        .ok_or(AppError::NotFound)?;
    let open_case = open_case(&mut conn, &email).await?;
    let mut steps = Vec::new();
    if removal(&role) == Action::Manual {
        steps.push(format!(
            "{name} is the Account Owner, whom no API may remove: a fulfilment task asks a \
             Postmark admin to transfer ownership and remove them by hand."
        ));
    } else if has_gateway {
        steps.push(format!(
            "The users gateway removes {email} from the Postmark account now, which takes \
             their role ({role}) and every server permission with it."
        ));
    } else {
        steps.push(format!(
            "No users gateway is configured: a fulfilment task asks a Postmark admin to \
             remove {email} from the account by hand (their role, {role}, and every server \
             permission go with it)."
        ));
    }
    steps.push(
        "The next users sync proves it: the removal shows as verified once the login is gone."
            .to_string(),
    );
    Ok(RemovalPlan {
        email,
        name,
        role,
        permissions,
        steps,
        open_case,
    })
}

/// Starts the emergency removal of `email` by `admin` (audited `offboarding.emergency`);
/// returns the job's id.
///
/// Errors: no reason, or too long → Validation; not in the inventory → NotFound; an open
/// removal exists already → Conflict.
pub async fn remove_now(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    admin: &str,
    email: &str,
    reason: &str,
) -> Result<i64, AppError> {
    let email = valid_login(email)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::Validation(
            "Say why all of this person's access is removed now; nothing was changed.".into(),
        ));
    }
    if reason.chars().count() > REASON_MAX {
        return Err(AppError::Validation(format!(
            "The reason is too long: at most {REASON_MAX} characters."
        )));
    }
    let mut tx = db.begin().await?;
    let (_, role, permissions) = access_of(&mut tx, &email).await?.ok_or_else(|| {
        AppError::Validation(format!(
            "{email} is not in the inventory (any more): there is no access left to remove. \
             Reload the page."
        ))
    })?;
    let conflict = |id: i64| {
        AppError::Conflict(format!(
            "A removal of {email} is already under way (revocation {id})."
        ))
    };
    if let Some(id) = open_case(&mut tx, &email).await? {
        return Err(conflict(id));
    }
    let now = format_timestamp(clock.now());
    let new = NewRemoval {
        email: &email,
        role: &role,
        origin: Origin::Emergency,
        person_id: None,
        reason,
        started_by: admin,
    };
    let Some(id) = insert(&mut tx, &now, &new).await? else {
        let id = open_case(&mut tx, &email).await?.unwrap_or_default();
        return Err(conflict(id));
    };
    let event = Event::new("offboarding.emergency", format!("revocation:{id}")).details(json!({
        "user": email, "role": role, "permissions": permissions,
        "action": removal(&role).slug(), "reason": reason,
    }));
    audit::record(&mut tx, clock, actor, &event).await?;
    tx.commit().await?;
    Ok(id)
}

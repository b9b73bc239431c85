//! A campaign's life: preview, launch (the inventory copied into review items in one
//! transaction), close (default outcome applied, revoke decisions queued for the worker).

use serde_json::json;
use sqlx::AnyConnection;

use super::{
    assign::{self, Assignment, Candidate, Via},
    db::get_in,
    CampaignView, ItemKind, Preview, Status,
};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, parse_timestamp, Clock},
    db::{Backend, Db, Tx},
    error::AppError,
    inventory::changes::lock_inventory,
};

/// Rows per INSERT statement at launch. Small on purpose: binding many parameters to one SQLite
/// statement through sqlx grows worse than linearly (1,000-row statements took 4.7 s for
/// 20,000 items, 50-row ones 0.43 s; see `bench campaign`).
const BATCH: usize = 50;

/// The inventory's age, as a warning when it is older than `stale_days` (or missing).
pub async fn stale_warning(
    conn: &mut AnyConnection,
    clock: &dyn Clock,
    stale_days: u32,
) -> Result<Option<String>, sqlx::Error> {
    let mut warnings = Vec::new();
    for (scope, what) in [("servers", "servers"), ("users", "users and permissions")] {
        let last: Option<(String,)> = sqlx::query_as(
            "SELECT finished_at FROM syncs WHERE status = 'succeeded' AND scope = $1 \
             AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1",
        )
        .bind(scope)
        .fetch_optional(&mut *conn)
        .await?;
        match last.and_then(|(at,)| parse_timestamp(&at).ok()) {
            None => warnings.push(format!("the {what} have never been synced or imported")),
            Some(at) if (clock.now() - at).whole_days() >= i64::from(stale_days) => {
                warnings.push(format!(
                    "the {what} were last synced {} days ago ({})",
                    (clock.now() - at).whole_days(),
                    at.date()
                ))
            }
            Some(_) => {}
        }
    }
    Ok((!warnings.is_empty()).then(|| {
        format!(
            "The inventory may be out of date: {}. Sync before launching so reviewers see \
             today's access.",
            warnings.join("; ")
        )
    }))
}

async fn plan(
    conn: &mut AnyConnection,
    campaign: &CampaignView,
    allowlist: &[String],
    today: time::Date,
) -> Result<Assignment, sqlx::Error> {
    let rules = assign::rules(conn, campaign).await?;
    let candidates = assign::candidates(conn, campaign, allowlist, today).await?;
    Ok(Assignment::new(candidates, &rules))
}

fn by_kind(assignment: &Assignment) -> Vec<(ItemKind, i64)> {
    ItemKind::ALL
        .into_iter()
        .map(|kind| {
            let n = assignment
                .items
                .iter()
                .filter(|(c, _, _)| c.kind == kind)
                .count();
            (kind, n as i64)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// What launching a draft would create, without writing anything.
pub async fn preview(
    db: &Db,
    clock: &dyn Clock,
    id: i64,
    allowlist: &[String],
    stale_days: u32,
) -> Result<Preview, AppError> {
    let campaign = super::db::get(db, id).await?.ok_or(AppError::NotFound)?;
    let mut conn = db.pool().acquire().await?;
    let assignment = plan(&mut conn, &campaign, allowlist, clock.now().date()).await?;
    let stale_warning = stale_warning(&mut conn, clock, stale_days).await?;
    Ok(Preview {
        items: assignment.items.len() as i64,
        reviewers: assignment.loads(),
        by_kind: by_kind(&assignment),
        self_review_rerouted: assignment
            .items
            .iter()
            .filter(|(_, _, via)| *via == Via::SelfReview)
            .count() as i64,
        unassigned: assignment.unassigned,
        stale_warning,
        auditor_reviewers: Vec::new(),
        campaign,
    })
}

/// Locks a campaign row against concurrent changes of its status and returns the status.
/// Decisions take a shared lock, close an exclusive one (PostgreSQL); on SQLite the write
/// transaction already serialises them.
pub async fn lock_campaign(
    tx: &mut Tx,
    id: i64,
    exclusive: bool,
) -> Result<Option<Status>, sqlx::Error> {
    let sql = match (tx.backend(), exclusive) {
        (Backend::Sqlite, _) => "SELECT status FROM campaigns WHERE id = $1",
        (Backend::Postgres, true) => "SELECT status FROM campaigns WHERE id = $1 FOR UPDATE",
        (Backend::Postgres, false) => "SELECT status FROM campaigns WHERE id = $1 FOR SHARE",
    };
    let row: Option<(String,)> = sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.and_then(|(s,)| Status::from_slug(&s)))
}

/// Inserts review items in batches (also the baseline of the launch benchmark).
pub async fn insert_items(
    tx: &mut Tx,
    campaign_id: i64,
    items: &[(Candidate, String, Via)],
) -> Result<(), sqlx::Error> {
    const COLUMNS: usize = 11;
    for chunk in items.chunks(BATCH) {
        let mut sql = String::from(
            "INSERT INTO review_items (campaign_id, kind, user_email, user_name, server_id, \
             server_name, access, privileged, flags, reviewer_email, assigned_via) VALUES ",
        );
        for row in 0..chunk.len() {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..COLUMNS {
                if column > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", row * COLUMNS + column + 1));
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for (candidate, reviewer, via) in chunk {
            query = query
                .bind(campaign_id)
                .bind(candidate.kind.slug())
                .bind(candidate.user_email.as_deref())
                .bind(candidate.user_name.as_deref())
                .bind(candidate.server_id)
                .bind(candidate.server_name.as_deref())
                .bind(candidate.access.as_str())
                .bind(i64::from(candidate.privileged))
                .bind(serde_json::to_string(&candidate.flags).unwrap_or_default())
                .bind(reviewer.as_str())
                .bind(via.slug());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// What a launch created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launched {
    pub items: usize,
    pub reviewers: usize,
}

/// Launches a draft: reads the inventory, assigns reviewers and writes every item, the status
/// change and the audit event in one transaction, so a failure leaves the draft untouched.
#[tracing::instrument(skip_all, fields(campaign.id = id))]
pub async fn launch(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    launched_by: &str,
    id: i64,
    allowlist: &[String],
) -> Result<Launched, AppError> {
    let mut tx = db.begin().await?;
    // No sync may change the inventory while it is being copied.
    lock_inventory(&mut tx).await?;
    lock_campaign(&mut tx, id, true).await?;
    let campaign = get_in(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if campaign.status != Status::Draft {
        return Err(AppError::Conflict(format!(
            "Only a draft can be launched; this campaign is {}.",
            campaign.status.label().to_lowercase()
        )));
    }
    let assignment = plan(&mut tx, &campaign, allowlist, clock.now().date()).await?;
    if !assignment.unassigned.is_empty() {
        let first: Vec<String> = assignment
            .unassigned
            .iter()
            .take(3)
            .map(|u| u.subject.clone())
            .collect();
        return Err(AppError::Validation(format!(
            "{} items have no reviewer ({}{}). Change the reviewer rules and preview again.",
            assignment.unassigned.len(),
            first.join("; "),
            if assignment.unassigned.len() > 3 {
                "; …"
            } else {
                ""
            }
        )));
    }
    if assignment.items.is_empty() {
        return Err(AppError::Validation(
            "Nothing in the inventory matches this campaign's scope; there is nothing to review."
                .into(),
        ));
    }
    insert_items(&mut tx, id, &assignment.items).await?;
    let sync_of = |scope: &'static str| {
        sqlx::query_as::<_, (i64,)>(
            "SELECT id FROM syncs WHERE status = 'succeeded' AND scope = $1 \
             AND finished_at IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1",
        )
        .bind(scope)
    };
    let servers_sync = sync_of("servers").fetch_optional(&mut *tx).await?;
    let users_sync = sync_of("users").fetch_optional(&mut *tx).await?;
    let now = format_timestamp(clock.now());
    sqlx::query(
        "UPDATE campaigns SET status = 'active', launched_at = $1, launched_by = $2, \
         servers_sync_id = $3, users_sync_id = $4, updated_at = $1 WHERE id = $5",
    )
    .bind(&now)
    .bind(launched_by)
    .bind(servers_sync.map(|(s,)| s))
    .bind(users_sync.map(|(s,)| s))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let loads = assignment.loads();
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("campaign.launched", format!("campaign:{id}")).details(json!({
            "before": { "status": "draft" },
            "after": {
                "status": "active",
                "items": assignment.items.len(),
                "by_kind": by_kind(&assignment)
                    .into_iter()
                    .map(|(k, n)| (k.slug().to_string(), n))
                    .collect::<std::collections::BTreeMap<_, _>>(),
                "reviewers": loads
                    .iter()
                    .map(|l| (l.reviewer.clone(), l.items))
                    .collect::<std::collections::BTreeMap<_, _>>(),
                "servers_sync_id": servers_sync.map(|(s,)| s),
                "users_sync_id": users_sync.map(|(s,)| s),
            },
        })),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(items = assignment.items.len(), "campaign launched");
    Ok(Launched {
        items: assignment.items.len(),
        reviewers: loads.len(),
    })
}

/// What a close did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// Undecided items that got the default outcome.
    pub defaulted: i64,
    /// Revoke decisions queued for the worker.
    pub to_revoke: i64,
}

/// Closes an open campaign: undecided items get the default outcome, decisions freeze, and
/// every revoke decision becomes a durable `to_revoke` row. `automatic` marks a close by the
/// scheduler at due date plus grace.
#[tracing::instrument(skip_all, fields(campaign.id = id, automatic))]
pub async fn close(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    closed_by: &str,
    id: i64,
    automatic: bool,
) -> Result<Closed, AppError> {
    let mut tx = db.begin().await?;
    match lock_campaign(&mut tx, id, true).await? {
        None => return Err(AppError::NotFound),
        Some(Status::Active) => {}
        Some(status) => {
            return Err(AppError::Conflict(format!(
                "Only an open campaign can be closed; this one is {}.",
                status.label().to_lowercase()
            )))
        }
    }
    let campaign = get_in(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let now = format_timestamp(clock.now());
    let undecided: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM review_items WHERE campaign_id = $1 AND decision IS NULL ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let defaulted = sqlx::query(
        "UPDATE review_items SET decision = $1, decided_via = 'default', decided_at = $2, \
         decided_by = NULL, version = version + 1 WHERE campaign_id = $3 AND decision IS NULL",
    )
    .bind(campaign.default_outcome.decision().slug())
    .bind(&now)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected() as i64;
    let to_revoke = sqlx::query(
        "INSERT INTO revocations (item_id, campaign_id, kind, user_email, server_id, access, \
         decided_via, status, created_at) SELECT id, campaign_id, kind, user_email, server_id, \
         access, decided_via, 'to_revoke', $1 FROM review_items \
         WHERE campaign_id = $2 AND decision = 'revoke'",
    )
    .bind(&now)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected() as i64;
    sqlx::query(
        "UPDATE campaigns SET status = 'closed', closed_at = $1, closed_by = $2, \
         updated_at = $1 WHERE id = $3",
    )
    .bind(&now)
    .bind(closed_by)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT decision, COUNT(*) FROM review_items WHERE campaign_id = $1 GROUP BY decision",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("campaign.closed", format!("campaign:{id}")).details(json!({
            "before": { "status": "active" },
            "after": {
                "status": "closed",
                "default_outcome": campaign.default_outcome.slug(),
                "defaulted": defaulted,
                "defaulted_items": undecided.iter().map(|(i,)| *i).collect::<Vec<_>>(),
                "to_revoke": to_revoke,
                "decisions": counts.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
            },
            "automatic": automatic,
        })),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(defaulted, to_revoke, "campaign closed");
    Ok(Closed {
        defaulted,
        to_revoke,
    })
}

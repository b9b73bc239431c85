//! A campaign's life: preview, launch (the inventory copied into review items in one
//! transaction), close (default outcome applied, revoke decisions queued for the worker).

use serde_json::json;
use sqlx::AnyConnection;

use super::{
    assign::{self, Assignment},
    db::get_in,
    CampaignView, Preview, Status,
};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, parse_timestamp, Clock},
    db::Db,
    error::AppError,
    inventory::changes::lock_inventory,
    review_items::{self, db::lock_campaign, ItemKind, Via},
};

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
    review_items::db::insert(&mut tx, id, &assignment.items).await?;
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
    super::notify::review_requests(&mut tx, clock, actor, &campaign, &loads).await?;
    tx.commit().await?;
    tracing::info!(items = assignment.items.len(), "campaign launched");
    db.refresh_queue_statistics().await;
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
    let undecided = review_items::db::undecided_ids(&mut tx, id).await?;
    let default = campaign.default_outcome.decision();
    let defaulted = review_items::db::apply_default(&mut tx, id, default, &now).await? as i64;
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
    // Every item is decided now; the map has no undecided entry.
    let counts: std::collections::BTreeMap<String, i64> =
        review_items::db::count_by_decision(&mut tx, id)
            .await?
            .into_iter()
            .filter_map(|(decision, n)| decision.map(|d| (d, n)))
            .collect();
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
                "defaulted_items": undecided,
                "to_revoke": to_revoke,
                "decisions": counts,
            },
            "automatic": automatic,
        })),
    )
    .await?;
    // "Automatically at close": the revoke decisions become jobs in the same transaction.
    if campaign.revocation_mode == crate::revocations::Mode::AtClose {
        crate::revocations::db::apply(&mut tx, clock, actor, id, &[], &[]).await?;
    }
    tx.commit().await?;
    tracing::info!(defaulted, to_revoke, "campaign closed");
    Ok(Closed {
        defaulted,
        to_revoke,
    })
}

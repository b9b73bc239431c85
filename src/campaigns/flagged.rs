//! Items the default outcome "flag for an admin" left open at close: an admin keeps or revokes
//! them, one by one or many at once, with a justification; a revoke joins the campaign's
//! durable "to revoke" rows. Many at once is all or nothing: one item that cannot be settled
//! refuses the whole request, naming that item.

use serde_json::json;

use super::Status;
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::{Db, Tx},
    error::AppError,
    review_items::{
        db::{item_in, lock_campaign, set_decision, Decided, Expect},
        DecidedVia, Decision, ItemView,
    },
    reviews::{db::text, MAX_BULK},
};

/// Settles one flagged item of a closed campaign.
pub async fn resolve(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    admin: &str,
    item_id: i64,
    decision: Decision,
    justification: &str,
) -> Result<ItemView, AppError> {
    let justification = justification_of(justification)?;
    let mut tx = db.begin().await?;
    let item = item_in(&mut tx, item_id).await?.ok_or(AppError::NotFound)?;
    let settled = settle(
        &mut tx,
        clock,
        actor,
        admin,
        item.campaign_id,
        &[item_id],
        decision,
        &justification,
    )
    .await?;
    tx.commit().await?;
    settled.into_iter().next().ok_or(AppError::NotFound)
}

/// Settles many flagged items of one closed campaign with one decision and one justification:
/// all of them, or none. Answers how many.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site, each value named there"
)]
pub async fn resolve_many(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    admin: &str,
    campaign_id: i64,
    item_ids: &[i64],
    decision: Decision,
    justification: &str,
) -> Result<usize, AppError> {
    let justification = justification_of(justification)?;
    let mut ids = item_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(AppError::Validation(
            "Select at least one flagged item.".into(),
        ));
    }
    if ids.len() > MAX_BULK {
        return Err(AppError::Validation(format!(
            "Select at most {MAX_BULK} items at a time."
        )));
    }
    let mut tx = db.begin().await?;
    let settled = settle(
        &mut tx,
        clock,
        actor,
        admin,
        campaign_id,
        &ids,
        decision,
        &justification,
    )
    .await?;
    tx.commit().await?;
    Ok(settled.len())
}

fn justification_of(value: &str) -> Result<String, AppError> {
    text(value, "justification")?.ok_or_else(|| {
        AppError::Validation(
            "Say why: a flagged item is settled by an admin with a justification.".into(),
        )
    })
}

/// "Server Admin on server-1 (1) (Chloe <chloe@example.com>)": which item a refusal is about.
fn named(item: &ItemView) -> String {
    format!("{} ({})", item.what(), item.subject())
}

/// The one path both settle through: checks every item first (closed and not signed-off
/// campaign, still flagged, not the admin's own access), then writes each decision, its
/// revocation row and its audit event. An error leaves the caller's transaction to roll back.
#[expect(
    clippy::too_many_arguments,
    reason = "two call sites, each value named there"
)]
async fn settle(
    tx: &mut Tx,
    clock: &dyn Clock,
    actor: &Actor,
    admin: &str,
    campaign_id: i64,
    ids: &[i64],
    decision: Decision,
    justification: &str,
) -> Result<Vec<ItemView>, AppError> {
    match lock_campaign(tx, campaign_id, true).await? {
        None => return Err(AppError::NotFound),
        Some(Status::Closed) => {}
        Some(_) => {
            return Err(AppError::Conflict(
                "Flagged items are settled once their campaign is closed.".into(),
            ))
        }
    }
    let campaign = super::db::get_in(tx, campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // The triggers would refuse the writes too; this says so before any is tried.
    if campaign.signed_off_at.is_some() {
        return Err(AppError::Conflict(crate::signoff::FROZEN.to_string()));
    }
    // Read again under the campaign's exclusive lock: what is checked is what is written.
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        match item_in(tx, *id).await? {
            Some(item) if item.campaign_id == campaign_id => items.push(item),
            _ => {
                return Err(AppError::Validation(format!(
                    "Item {id} is not an item of this campaign; nothing was settled."
                )))
            }
        }
    }
    // The rule every other path keeps: nobody decides about their own access.
    let mut asked = vec![admin];
    asked.extend(items.iter().filter_map(|i| i.user_email.as_deref()));
    let people = crate::people::People::load_for(tx, &asked).await?;
    let nothing = if items.len() > 1 {
        " Nothing was settled."
    } else {
        ""
    };
    for item in &items {
        if item.decision != Some(Decision::Flag) {
            return Err(AppError::Conflict(format!(
                "{} is not waiting for an admin (it was decided or settled already).{nothing}",
                named(item)
            )));
        }
        if people.owns(item.user_email.as_deref(), admin) {
            return Err(AppError::Validation(format!(
                "{} is your own access: another admin settles it.{nothing}",
                named(item)
            )));
        }
    }
    let now = format_timestamp(clock.now());
    let decided = Decided {
        decision,
        justification: Some(justification),
        by: Some(admin),
        via: DecidedVia::Admin,
        at: &now,
    };
    for item in &items {
        if set_decision(tx, item.id, Expect::Flagged, &decided).await? == 0 {
            // Another admin settled it between our read and this write (PostgreSQL re-checks).
            return Err(AppError::Conflict(format!(
                "Another admin settled {} a moment ago.{nothing}",
                named(item)
            )));
        }
        if decision == Decision::Revoke {
            sqlx::query(
                "INSERT INTO revocations (item_id, campaign_id, kind, user_email, server_id, \
                 access, decided_via, status, created_at) SELECT id, campaign_id, kind, \
                 user_email, server_id, access, 'admin', 'to_revoke', $1 FROM review_items \
                 WHERE id = $2",
            )
            .bind(&now)
            .bind(item.id)
            .execute(&mut **tx)
            .await?;
        }
        let mut details = json!({
            "campaign": campaign_id,
            "before": { "decision": "flag" },
            "after": { "decision": decision.slug(), "justification": justification },
        });
        if items.len() > 1 {
            details["bulk"] = json!(items.len());
        }
        audit::record(
            tx,
            clock,
            actor,
            &Event::new("review.flag_resolved", format!("item:{}", item.id)).details(details),
        )
        .await?;
    }
    if decision == Decision::Revoke && campaign.revocation_mode == crate::revocations::Mode::AtClose
    {
        crate::revocations::db::apply(tx, clock, actor, campaign_id, &[], &[]).await?;
    }
    let mut after = Vec::with_capacity(items.len());
    for item in &items {
        after.push(item_in(tx, item.id).await?.ok_or(AppError::NotFound)?);
    }
    Ok(after)
}

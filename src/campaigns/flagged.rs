//! Items the default outcome "flag for an admin" left open at close: an admin keeps or revokes
//! each, with a justification; a revoke joins the campaign's durable "to revoke" rows.

use serde_json::json;

use super::Status;
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::Db,
    error::AppError,
    review_items::{
        db::{item_in, lock_campaign, set_decision, Decided, Expect},
        DecidedVia, Decision, ItemView,
    },
    reviews::db::text,
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
    let justification = text(justification, "justification")?.ok_or_else(|| {
        AppError::Validation(
            "Say why: a flagged item is settled by an admin with a justification.".into(),
        )
    })?;
    let mut tx = db.begin().await?;
    let item = item_in(&mut tx, item_id).await?.ok_or(AppError::NotFound)?;
    match lock_campaign(&mut tx, item.campaign_id, true).await? {
        Some(Status::Closed) => {}
        _ => {
            return Err(AppError::Conflict(
                "Flagged items are settled once their campaign is closed.".into(),
            ))
        }
    }
    if item.decision != Some(Decision::Flag) {
        return Err(AppError::Conflict(
            "This item is not waiting for an admin (it was decided or settled already).".into(),
        ));
    }
    // The rule every other path keeps: nobody decides about their own access.
    let mut asked = vec![admin];
    asked.extend(item.user_email.as_deref());
    let people = crate::people::People::load_for(&mut tx, &asked).await?;
    if people.owns(item.user_email.as_deref(), admin) {
        return Err(AppError::Validation(
            "This is your own access: another admin settles it.".into(),
        ));
    }
    let now = format_timestamp(clock.now());
    let decided = Decided {
        decision,
        justification: Some(&justification),
        by: Some(admin),
        via: DecidedVia::Admin,
        at: &now,
    };
    if set_decision(&mut tx, item_id, Expect::Flagged, &decided).await? == 0 {
        // Another admin settled it between our read and this write (PostgreSQL re-checks).
        return Err(AppError::Conflict(
            "Another admin settled this item a moment ago.".into(),
        ));
    }
    if decision == Decision::Revoke {
        sqlx::query(
            "INSERT INTO revocations (item_id, campaign_id, kind, user_email, server_id, \
             access, decided_via, status, created_at) SELECT id, campaign_id, kind, user_email, \
             server_id, access, 'admin', 'to_revoke', $1 FROM review_items WHERE id = $2",
        )
        .bind(&now)
        .bind(item_id)
        .execute(&mut *tx)
        .await?;
        let campaign = super::db::get_in(&mut tx, item.campaign_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if campaign.revocation_mode == crate::revocations::Mode::AtClose {
            crate::revocations::db::apply(&mut tx, clock, actor, item.campaign_id, &[], &[])
                .await?;
        }
    }
    let after = item_in(&mut tx, item_id).await?.ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("review.flag_resolved", format!("item:{item_id}")).details(json!({
            "campaign": item.campaign_id,
            "before": { "decision": "flag" },
            "after": { "decision": decision.slug(), "justification": justification },
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

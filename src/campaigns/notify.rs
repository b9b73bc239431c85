//! The emails a campaign causes, queued in the transaction of the change that causes them:
//! one review request per reviewer at launch (never one per item), and one to the new
//! reviewer when items are handed on. The outbox worker sends them and mints each link.

use serde_json::json;

use super::{CampaignView, ReviewerLoad};
use crate::{
    audit::{self, Actor, Event},
    clock::Clock,
    db::{Db, Tx},
    email::Email,
    error::AppError,
    notifications::{
        db::{enqueue, NewNotification},
        Kind,
    },
    review_items,
};

/// Queues one email and its `notification.queued` event.
pub(super) async fn queue(
    tx: &mut Tx,
    clock: &dyn Clock,
    actor: &Actor,
    kind: Kind,
    recipient: &str,
    campaign_id: i64,
    data: serde_json::Value,
) -> Result<(), AppError> {
    let recipient = Email::parse(recipient).map_err(AppError::internal)?;
    let id = enqueue(
        tx,
        clock,
        &NewNotification {
            kind,
            recipient: &recipient,
            campaign_id: Some(campaign_id),
            data,
        },
    )
    .await?;
    audit::record(
        tx,
        clock,
        actor,
        &Event::new("notification.queued", format!("notification:{id}")).details(json!({
            "kind": kind.slug(),
            "recipient": recipient.as_str(),
            "campaign": campaign_id,
        })),
    )
    .await?;
    Ok(())
}

/// At launch: one email per reviewer with how many items wait for them.
pub async fn review_requests(
    tx: &mut Tx,
    clock: &dyn Clock,
    actor: &Actor,
    campaign: &CampaignView,
    loads: &[ReviewerLoad],
) -> Result<(), AppError> {
    for load in loads {
        let data = json!({
            "campaign_name": campaign.name,
            "items": load.items,
            "due_on": campaign.due_on,
            "contact": campaign.fallback_reviewer,
        });
        let kind = Kind::ReviewRequest;
        queue(tx, clock, actor, kind, &load.reviewer, campaign.id, data).await?;
    }
    Ok(())
}

/// Items handed to `to`: one email naming who handed them on and what.
#[expect(
    clippy::too_many_arguments,
    reason = "two call sites, each value named there"
)]
pub async fn handover(
    tx: &mut Tx,
    clock: &dyn Clock,
    actor: &Actor,
    campaign: &CampaignView,
    to: &str,
    from: &str,
    items: usize,
    what: &str,
) -> Result<(), AppError> {
    let data = json!({
        "campaign_name": campaign.name,
        "items": items,
        "due_on": campaign.due_on,
        "contact": campaign.fallback_reviewer,
        "from": from,
        "what": what,
    });
    queue(tx, clock, actor, Kind::Handover, to, campaign.id, data).await
}

/// "Resend": a fresh review request to the reviewer of notification `id`, with the count of
/// items still undecided. Sending it rotates their link, so a leaked older email stops
/// working.
pub async fn resend(db: &Db, clock: &dyn Clock, actor: &Actor, id: i64) -> Result<(), AppError> {
    let sent = crate::notifications::db::get(db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(campaign_id) = sent.campaign_id.filter(|_| sent.kind.has_link()) else {
        return Err(AppError::Validation(
            "Only emails to reviewers carry a link to resend.".into(),
        ));
    };
    let mut tx = db.begin().await?;
    let campaign = super::db::get_in(&mut tx, campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if campaign.status != super::Status::Active {
        return Err(AppError::Conflict(
            "The campaign is not open any more: there is nothing to review.".into(),
        ));
    }
    let items = review_items::db::undecided_count(&mut tx, campaign_id, &sent.recipient).await?;
    if items == 0 {
        return Err(AppError::Validation(format!(
            "{} has nothing left to decide in this campaign: no email was sent.",
            sent.recipient
        )));
    }
    let data = json!({
        "campaign_name": campaign.name,
        "items": items,
        "due_on": campaign.due_on,
        "contact": campaign.fallback_reviewer,
        "resent": true,
    });
    let kind = Kind::ReviewRequest;
    queue(
        &mut tx,
        clock,
        actor,
        kind,
        &sent.recipient,
        campaign_id,
        data,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// "Withdraw link": the reviewer's links for the campaign of notification `id` stop working
/// (an email sent to the wrong person, a reviewer who left). Returns how many were withdrawn.
pub async fn withdraw_link(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    id: i64,
) -> Result<u64, AppError> {
    let sent = crate::notifications::db::get(db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(campaign_id) = sent.campaign_id.filter(|_| sent.kind.has_link()) else {
        return Err(AppError::Validation(
            "This email carries no review link.".into(),
        ));
    };
    let reviewer = Email::parse(&sent.recipient).map_err(AppError::internal)?;
    let mut tx = db.begin().await?;
    let withdrawn =
        crate::approval_links::db::revoke(&mut tx, clock, &reviewer, campaign_id).await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("approval_link.revoked", format!("campaign:{campaign_id}")).details(json!({
            "reviewer": reviewer.as_str(),
            "links": withdrawn,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(withdrawn)
}

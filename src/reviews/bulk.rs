//! Deciding many items at once: one decision for every selected item, or each selected item's
//! recommendation. All of them or, if any is not the caller's, not open, already decided or
//! (when accepting) without a recommendation, none.

use serde_json::json;

use super::{
    db::{check_justification, needs_justification, own_access, require_open, snapshot, text},
    MAX_BULK,
};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::Db,
    error::AppError,
    review_items::{
        db::{item_in, set_decision, Decided, Expect},
        DecidedVia, Decision, ItemView,
    },
};

/// What each selected item gets: its decision, its justification, and the recommendation it
/// follows (for the audit event), or why it cannot be decided this way.
type Choose<'a> = dyn Fn(&ItemView) -> Result<(Decision, Option<String>, Option<&'static str>), AppError>
    + Sync
    + 'a;

/// Decides many undecided items with one decision and one justification.
pub async fn decide_many(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    reviewer: &str,
    item_ids: &[i64],
    decision: Decision,
    justification: &str,
) -> Result<usize, AppError> {
    let justification = text(justification, "justification")?;
    decide_each(db, clock, actor, reviewer, item_ids, &|_| {
        Ok((decision, justification.clone(), None))
    })
    .await
}

/// Decides each selected item as the inventory's signals recommend, the recommendation's
/// reason recorded as the justification.
pub async fn accept_recommended(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    reviewer: &str,
    item_ids: &[i64],
) -> Result<usize, AppError> {
    decide_each(
        db,
        clock,
        actor,
        reviewer,
        item_ids,
        &|item| match item.recommendation() {
            Some(r) => Ok((r.decision, Some(r.justification()), Some(r.text))),
            None => Err(AppError::Validation(format!(
                "{} ({}) has no recommendation: decide it yourself. Nothing was recorded.",
                item.what(),
                item.subject()
            ))),
        },
    )
    .await
}

async fn decide_each(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    reviewer: &str,
    item_ids: &[i64],
    choose: &Choose<'_>,
) -> Result<usize, AppError> {
    let mut ids = item_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(AppError::Validation("Select at least one item.".into()));
    }
    if ids.len() > MAX_BULK {
        return Err(AppError::Validation(format!(
            "Select at most {MAX_BULK} items at a time."
        )));
    }
    let mut tx = db.begin().await?;
    let now = format_timestamp(clock.now());
    let mut checked_campaigns = std::collections::HashMap::new();
    let mut items = Vec::with_capacity(ids.len());
    for id in &ids {
        items.push(item_in(&mut tx, *id).await?.ok_or(AppError::NotFound)?);
    }
    // Who is who, for the selected items' users only.
    let mut asked: Vec<&str> = items
        .iter()
        .filter_map(|i| i.user_email.as_deref())
        .collect();
    asked.push(reviewer);
    let people = crate::people::People::load_for(&mut tx, &asked).await?;
    let mut chosen = Vec::with_capacity(items.len());
    for item in &items {
        if item.reviewer != reviewer {
            return Err(AppError::Forbidden);
        }
        if people.owns(item.user_email.as_deref(), reviewer) {
            return Err(own_access(item));
        }
        if let std::collections::hash_map::Entry::Vacant(slot) =
            checked_campaigns.entry(item.campaign_id)
        {
            require_open(&mut tx, item.campaign_id).await?;
            slot.insert(needs_justification(&mut tx, item.campaign_id).await?);
        }
        if item.decision.is_some() {
            return Err(AppError::Conflict(format!(
                "{} of the selected items is already decided ({}); nothing was recorded. \
                 Reload and select again.",
                item.what(),
                item.subject()
            )));
        }
        let (decision, justification, recommendation) = choose(item)?;
        let rules = checked_campaigns
            .get(&item.campaign_id)
            .copied()
            .unwrap_or((true, true));
        check_justification(item, decision, justification.as_deref(), rules)?;
        chosen.push((decision, justification, recommendation));
    }
    for (item, (decision, justification, recommendation)) in items.iter().zip(&chosen) {
        let decided = Decided {
            decision: *decision,
            justification: justification.as_deref(),
            by: Some(reviewer),
            via: DecidedVia::Reviewer,
            at: &now,
        };
        let expect = Expect::UndecidedVersion(item.version);
        let updated = set_decision(&mut tx, item.id, expect, &decided).await?;
        if updated == 0 {
            return Err(AppError::Conflict(format!(
                "{} changed while you were deciding; nothing was recorded. Reload and select \
                 again.",
                item.what()
            )));
        }
        let mut details = json!({
            "campaign": item.campaign_id,
            "bulk": ids.len(),
            "before": snapshot(item),
            "after": {
                "decision": decision.slug(),
                "justification": justification,
                "reviewer": item.reviewer,
            },
        });
        if let Some(text) = recommendation {
            details["recommendation"] = json!(text);
        }
        audit::record(
            &mut tx,
            clock,
            actor,
            &Event::new("review.decided", format!("item:{}", item.id)).details(details),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(items.len())
}

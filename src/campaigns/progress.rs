//! The admin dashboard of a launched campaign: progress by reviewer and by kind, overdue
//! reviewers and who decided; the items themselves are paged in [`super::items`].

use std::collections::BTreeMap;

use super::{
    db::{get, parse_date},
    Dashboard, ReviewerLoad, Status,
};
use crate::{
    db::Db,
    error::AppError,
    review_items::{Decision, ItemKind},
};

pub async fn dashboard(db: &Db, id: i64, today: time::Date) -> Result<Dashboard, AppError> {
    let campaign = get(db, id).await?.ok_or(AppError::NotFound)?;
    let counts: Vec<(String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT reviewer_email, kind, decision, COUNT(*) FROM review_items \
         WHERE campaign_id = $1 GROUP BY reviewer_email, kind, decision",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    let mut per_reviewer: BTreeMap<String, BTreeMap<ItemKind, (i64, i64)>> = BTreeMap::new();
    let mut per_kind: BTreeMap<ItemKind, (i64, i64)> = BTreeMap::new();
    let (mut approved, mut revoked, mut flagged, mut undecided) = (0, 0, 0, 0);
    for (reviewer, kind, decision, n) in counts {
        let Some(kind) = ItemKind::from_slug(&kind) else {
            continue;
        };
        let decided = if decision.is_some() { n } else { 0 };
        match decision.as_deref().and_then(Decision::from_slug) {
            Some(Decision::Approve) => approved += n,
            Some(Decision::Revoke) => revoked += n,
            Some(Decision::Flag) => flagged += n,
            None => undecided += n,
        }
        let slot = per_reviewer
            .entry(reviewer)
            .or_default()
            .entry(kind)
            .or_default();
        slot.0 += n;
        slot.1 += decided;
        let slot = per_kind.entry(kind).or_default();
        slot.0 += n;
        slot.1 += decided;
    }
    let reviewers: Vec<ReviewerLoad> = per_reviewer
        .into_iter()
        .map(|(reviewer, kinds)| ReviewerLoad {
            reviewer,
            items: kinds.values().map(|(n, _)| n).sum(),
            decided: kinds.values().map(|(_, d)| d).sum(),
            kinds: kinds.into_iter().map(|(k, (n, d))| (k, n, d)).collect(),
        })
        .collect();
    let past_due = parse_date(&campaign.due_on).is_some_and(|due| today > due);
    let overdue = if campaign.status == Status::Active && past_due {
        reviewers
            .iter()
            .filter(|r| r.decided < r.items)
            .map(|r| r.reviewer.clone())
            .collect()
    } else {
        Vec::new()
    };
    let (to_revoke,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM revocations WHERE campaign_id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await?;
    let unreachable = crate::notifications::db::unreachable(db, id).await?;
    let revocations = crate::revocations::db::counts(db, id).await?;
    let to_apply = if campaign.status == Status::Closed && revocations.to_revoke > 0 {
        let waiting = Some(crate::revocations::Status::ToRevoke);
        crate::revocations::db::list(db, Some(id), waiting, None, i64::MAX).await?
    } else {
        Vec::new()
    };
    let via: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT decided_via, COUNT(*) FROM review_items \
         WHERE campaign_id = $1 AND decision IS NOT NULL GROUP BY decided_via",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    let (mut by_reviewers, mut by_admins, mut by_default) = (0, 0, 0);
    for (via, n) in via {
        match via.as_deref() {
            Some("default") => by_default += n,
            Some("admin") => by_admins += n,
            _ => by_reviewers += n,
        }
    }
    Ok(Dashboard {
        campaign,
        by_reviewers,
        by_admins,
        by_default,
        reviewers,
        unreachable,
        revocations,
        to_apply,
        by_kind: per_kind.into_iter().map(|(k, (n, d))| (k, n, d)).collect(),
        overdue,
        approved,
        revoked,
        flagged,
        undecided,
        to_revoke,
    })
}

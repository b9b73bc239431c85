//! Handing review items on: one item, or a reviewer's whole queue in a campaign, to another
//! reviewer, with a reason. Reviewers hand on their own items; admins anyone's.

use serde_json::json;

use super::db::{closed_message, item_in, require_open, text};
use crate::{
    audit::{self, Actor, Event},
    campaigns::{lifecycle::lock_campaign, ItemView, Status},
    clock::Clock,
    db::Db,
    error::AppError,
    inventory::users_csv::valid_email,
};

fn new_reviewer(to: &str) -> Result<String, AppError> {
    let to = to.trim().to_lowercase();
    if valid_email(&to) {
        Ok(to)
    } else {
        Err(AppError::Validation(format!(
            "`{to}` is not an email address: name the new reviewer by email."
        )))
    }
}

fn reason(text_value: &str) -> Result<String, AppError> {
    text(text_value, "reason")?.ok_or_else(|| {
        AppError::Validation("Give a reason: the audit log keeps it with the change.".into())
    })
}

/// Hands one undecided item to another reviewer. `caller` may move it if it is theirs;
/// `admin` may move any.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site, each value named there"
)]
pub async fn reassign(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    caller: &str,
    admin: bool,
    item_id: i64,
    to: &str,
    reason_text: &str,
) -> Result<ItemView, AppError> {
    let to = new_reviewer(to)?;
    let why = reason(reason_text)?;
    let mut tx = db.begin().await?;
    let item = item_in(&mut tx, item_id).await?.ok_or(AppError::NotFound)?;
    if item.reviewer != caller && !admin {
        return Err(AppError::Forbidden);
    }
    require_open(&mut tx, item.campaign_id).await?;
    if item.decision.is_some() {
        return Err(AppError::Conflict(
            "This item is already decided; undo the decision before handing it on.".into(),
        ));
    }
    if item.reviewer == to {
        return Err(AppError::Validation(format!(
            "{to} already reviews this item."
        )));
    }
    if item.user_email.as_deref() == Some(to.as_str()) {
        return Err(AppError::Validation(format!(
            "{to} cannot review their own access."
        )));
    }
    let moved = sqlx::query(
        "UPDATE review_items SET reviewer_email = $1, assigned_via = 'reassigned', \
         version = version + 1 WHERE id = $2 AND version = $3 AND decision IS NULL",
    )
    .bind(&to)
    .bind(item_id)
    .bind(item.version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        // Decided or moved by someone else since it was read (PostgreSQL re-checks the row).
        return Err(AppError::Conflict(
            "This item changed while you were handing it on; nothing was moved. Reload to see \
             the current state."
                .into(),
        ));
    }
    let after = item_in(&mut tx, item_id).await?.ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("review.reassigned", format!("item:{item_id}")).details(json!({
            "campaign": item.campaign_id,
            "before": { "reviewer": item.reviewer },
            "after": { "reviewer": to },
            "reason": why,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Hands every undecided item of `from` in a campaign to `to`: all of them, or none when one
/// is `to`'s own access.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site, each value named there"
)]
pub async fn delegate(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    caller: &str,
    admin: bool,
    campaign_id: i64,
    from: &str,
    to: &str,
    reason_text: &str,
) -> Result<usize, AppError> {
    let from = from.trim().to_lowercase();
    if from != caller && !admin {
        return Err(AppError::Forbidden);
    }
    let to = new_reviewer(to)?;
    let why = reason(reason_text)?;
    if from == to {
        return Err(AppError::Validation(format!(
            "{to} already reviews these items."
        )));
    }
    let mut tx = db.begin().await?;
    match lock_campaign(&mut tx, campaign_id, false).await? {
        None => return Err(AppError::NotFound),
        Some(Status::Active) => {}
        Some(_) => return Err(AppError::Conflict(closed_message().into())),
    }
    // The rows checked are the rows moved: PostgreSQL locks them until commit.
    let lock = match tx.backend() {
        crate::db::Backend::Postgres => " FOR UPDATE",
        crate::db::Backend::Sqlite => "",
    };
    let rows: Vec<(i64, Option<String>)> = sqlx::query_as(&format!(
        "SELECT id, user_email FROM review_items WHERE campaign_id = $1 AND reviewer_email = $2 \
         AND decision IS NULL ORDER BY id{lock}"
    ))
    .bind(campaign_id)
    .bind(&from)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Err(AppError::Validation(format!(
            "{from} has no undecided items in this campaign."
        )));
    }
    let own = rows
        .iter()
        .filter(|(_, user)| user.as_deref() == Some(to.as_str()))
        .count();
    if own > 0 {
        return Err(AppError::Validation(format!(
            "{own} of these items are {to}'s own access, which nobody reviews themselves. \
             Nothing was moved: hand those items to someone else first, one by one."
        )));
    }
    let ids: Vec<String> = rows.iter().map(|(id, _)| id.to_string()).collect();
    let moved = sqlx::query(&format!(
        "UPDATE review_items SET reviewer_email = $1, assigned_via = 'reassigned', \
         version = version + 1 WHERE campaign_id = $2 AND reviewer_email = $3 \
         AND decision IS NULL AND id IN ({})",
        ids.join(", ")
    ))
    .bind(&to)
    .bind(campaign_id)
    .bind(&from)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved != rows.len() as u64 {
        return Err(AppError::Conflict(
            "Some of these items changed meanwhile; nothing was moved. Reload and try again."
                .into(),
        ));
    }
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("review.delegated", format!("campaign:{campaign_id}")).details(json!({
            "before": { "reviewer": from },
            "after": { "reviewer": to },
            "items": rows.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            "reason": why,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(rows.len())
}

//! Handing review items on: one item, or a reviewer's whole queue in a campaign, to another
//! reviewer, with a reason. Reviewers hand on their own items; admins anyone's.

use serde_json::json;

use super::db::{closed_message, require_open, text};
use crate::{
    audit::{self, Actor, Event},
    campaigns::{db::get_in, notify, Status},
    clock::Clock,
    db::{Db, Tx},
    email::Email,
    error::AppError,
    review_items::{
        db::{item_in, lock_campaign, reassign_all, undecided_of},
        ItemView,
    },
};

fn new_reviewer(to: &str) -> Result<String, AppError> {
    Email::parse(to).map(Email::into_string).map_err(|_| {
        AppError::Validation(format!(
            "`{}` is not an email address: name the new reviewer by email.",
            to.trim().to_lowercase()
        ))
    })
}

/// Items (and the email about them, with a review link) go only to someone this instance
/// knows: a person who signed in, a Postmark user, a manager or user in the mapping, a server
/// owner or a current reviewer. Anyone else could be a typo or an outside address.
async fn require_known(tx: &mut Tx, to: &str) -> Result<(), AppError> {
    let known: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM people WHERE email = $1 \
         UNION SELECT 1 FROM postmark_users WHERE email = $1 \
         UNION SELECT 1 FROM manager_mappings WHERE manager_email = $1 OR user_email = $1 \
         UNION SELECT 1 FROM server_owners WHERE owner_email = $1 \
         UNION SELECT 1 FROM review_items WHERE reviewer_email = $1",
    )
    .bind(to)
    .fetch_optional(&mut **tx)
    .await?;
    if known.is_some() {
        Ok(())
    } else {
        Err(AppError::Validation(format!(
            "{to} is not known here: items go to people who have signed in, Postmark users, \
             managers in the mapping, server owners or current reviewers."
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
    require_known(&mut tx, &to).await?;
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
    let mut asked = vec![to.as_str()];
    asked.extend(item.user_email.as_deref());
    let people = crate::people::People::load_for(&mut tx, &asked).await?;
    if people.owns(item.user_email.as_deref(), &to) {
        return Err(AppError::Validation(format!(
            "{to} cannot review their own access."
        )));
    }
    let moved = crate::review_items::db::reassign(&mut tx, item_id, item.version, &to).await?;
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
    let campaign = get_in(&mut tx, item.campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let what = format!("{}: {}", after.subject(), after.what());
    notify::handover(
        &mut tx,
        clock,
        actor,
        &campaign,
        &to,
        &item.reviewer,
        1,
        &what,
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
    let from = match Email::parse(from) {
        Ok(from) if from.as_str() == caller || admin => from.into_string(),
        Err(_) if admin => {
            return Err(AppError::Validation(format!(
                "`{}` is not an email address.",
                from.trim()
            )))
        }
        _ => return Err(AppError::Forbidden),
    };
    let to = new_reviewer(to)?;
    let why = reason(reason_text)?;
    if from == to {
        return Err(AppError::Validation(format!(
            "{to} already reviews these items."
        )));
    }
    let mut tx = db.begin().await?;
    require_known(&mut tx, &to).await?;
    match lock_campaign(&mut tx, campaign_id, false).await? {
        None => return Err(AppError::NotFound),
        Some(Status::Active) => {}
        Some(_) => return Err(AppError::Conflict(closed_message().into())),
    }
    // The rows checked are the rows moved: PostgreSQL locks them until commit.
    let rows = undecided_of(&mut tx, campaign_id, &from).await?;
    if rows.is_empty() {
        return Err(AppError::Validation(format!(
            "{from} has no undecided items in this campaign."
        )));
    }
    let people = crate::people::People::load(&mut tx).await?;
    let own = rows
        .iter()
        .filter(|(_, user)| people.owns(user.as_deref(), &to))
        .count();
    if own > 0 {
        return Err(AppError::Validation(format!(
            "{own} of these items are {to}'s own access, which nobody reviews themselves. \
             Nothing was moved: hand those items to someone else first, one by one."
        )));
    }
    let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
    let moved = reassign_all(&mut tx, campaign_id, &from, &to, &ids).await?;
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
    let campaign = get_in(&mut tx, campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let what = format!("every undecided item of {from}");
    notify::handover(
        &mut tx,
        clock,
        actor,
        &campaign,
        &to,
        &from,
        rows.len(),
        &what,
    )
    .await?;
    tx.commit().await?;
    Ok(rows.len())
}

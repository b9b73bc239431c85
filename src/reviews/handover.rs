//! Handing review items on: one item, or a reviewer's whole queue in a campaign, to another
//! reviewer, with a reason. Reviewers hand on their own items; admins anyone's. Items go to
//! people who can review ([`crate::reviewer_suggestions::check_recipient`]: never an auditor,
//! an unknown address only once confirmed). A reviewer who handed an item on themselves may
//! take it back while it is undecided and the campaign open.

use serde_json::json;

use super::db::{closed_message, require_open, text};
use crate::{
    audit::{self, Actor, Event},
    campaigns::{db::get_in, notify, Status},
    clock::Clock,
    config::AuthConfig,
    db::{Db, Tx},
    email::Email,
    error::AppError,
    review_items::{
        db::{item_in, items_where, lock_campaign, reassign_all, undecided_of},
        ItemView,
    },
    reviewer_suggestions::{check_recipient, Role},
};

/// Most items "Handed on by you" lists.
const HANDED_ON_LISTED: usize = 200;

/// Where items go and why, as the form sent it.
pub struct HandOn<'a> {
    pub to: &'a str,
    pub reason: &'a str,
    /// The person confirmed an address nobody here knows.
    pub confirmed: bool,
}

/// Checks the new reviewer inside the transaction; answers whether the address was unknown
/// (and so confirmed).
async fn recipient(
    tx: &mut Tx,
    auth: &AuthConfig,
    to: &str,
    confirmed: bool,
) -> Result<bool, AppError> {
    Ok(!check_recipient(tx, auth, to, Role::Reviewer, confirmed).await?)
}

/// Audit details, with a note when the address was unknown and confirmed.
fn noting(mut details: serde_json::Value, unknown: bool) -> serde_json::Value {
    if unknown {
        details["unknown_address_confirmed"] = json!(true);
    }
    details
}

fn new_reviewer(to: &str) -> Result<String, AppError> {
    Email::parse(to).map(Email::into_string).map_err(|_| {
        AppError::Validation(format!(
            "`{}` is not an email address: name the new reviewer by email.",
            to.trim().to_lowercase()
        ))
    })
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
    auth: &AuthConfig,
    caller: &str,
    admin: bool,
    item_id: i64,
    hand: HandOn<'_>,
) -> Result<ItemView, AppError> {
    let to = new_reviewer(hand.to)?;
    let why = reason(hand.reason)?;
    let mut tx = db.begin().await?;
    let unknown = recipient(&mut tx, auth, &to, hand.confirmed).await?;
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
    // Only a reviewer handing on their own item may take it back; an admin's move stands.
    let by_self = (item.reviewer == caller).then_some(caller);
    let moved =
        crate::review_items::db::reassign(&mut tx, item_id, item.version, &to, by_self).await?;
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
        &Event::new("review.reassigned", format!("item:{item_id}")).details(noting(
            json!({
                "campaign": item.campaign_id,
                "before": { "reviewer": item.reviewer },
                "after": { "reviewer": to },
                "reason": why,
            }),
            unknown,
        )),
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
    auth: &AuthConfig,
    caller: &str,
    admin: bool,
    campaign_id: i64,
    from: &str,
    hand: HandOn<'_>,
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
    let to = new_reviewer(hand.to)?;
    let why = reason(hand.reason)?;
    if from == to {
        return Err(AppError::Validation(format!(
            "{to} already reviews these items."
        )));
    }
    let mut tx = db.begin().await?;
    let unknown = recipient(&mut tx, auth, &to, hand.confirmed).await?;
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
    let moved = reassign_all(&mut tx, campaign_id, &from, &to, &ids, from == caller).await?;
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
        &Event::new("review.delegated", format!("campaign:{campaign_id}")).details(noting(
            json!({
                "before": { "reviewer": from },
                "after": { "reviewer": to },
                "items": rows.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
                "reason": why,
            }),
            unknown,
        )),
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

/// Gives an item the caller handed on back to them, while it is undecided and its campaign
/// open; `version` is the item's version the caller saw.
pub async fn take_back(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    caller: &str,
    item_id: i64,
    version: i64,
) -> Result<ItemView, AppError> {
    let mut tx = db.begin().await?;
    let item = item_in(&mut tx, item_id).await?.ok_or(AppError::NotFound)?;
    let by = crate::review_items::db::handed_on_by(&mut tx, item_id).await?;
    if by.as_deref() != Some(caller) {
        return Err(AppError::Forbidden);
    }
    require_open(&mut tx, item.campaign_id).await?;
    if item.decision.is_some() {
        return Err(AppError::Conflict(format!(
            "{} decided this item already; it can no longer be taken back.",
            item.decided_by.as_deref().unwrap_or(&item.reviewer)
        )));
    }
    if item.version != version {
        return Err(AppError::Conflict(
            "This item changed while you were looking at it; nothing was taken back. Reload to \
             see the current state."
                .into(),
        ));
    }
    // The rule every path keeps, in case a provider has since said two emails are one person.
    let mut asked = vec![caller];
    asked.extend(item.user_email.as_deref());
    let people = crate::people::People::load_for(&mut tx, &asked).await?;
    if people.owns(item.user_email.as_deref(), caller) {
        return Err(AppError::Validation(
            "This is your own access: nobody reviews their own access.".into(),
        ));
    }
    if crate::review_items::db::take_back(&mut tx, item_id, version, caller).await? == 0 {
        return Err(AppError::Conflict(
            "This item changed while you were taking it back; nothing was taken back. Reload \
             to see the current state."
                .into(),
        ));
    }
    let after = item_in(&mut tx, item_id).await?.ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("review.taken_back", format!("item:{item_id}")).details(json!({
            "campaign": item.campaign_id,
            "before": { "reviewer": item.reviewer },
            "after": { "reviewer": caller },
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Undecided items of open campaigns the caller handed on and may take back.
pub async fn handed_on(db: &Db, caller: &str) -> Result<Vec<ItemView>, sqlx::Error> {
    items_where(
        db,
        "i.handed_on_by = $1 AND i.decision IS NULL AND c.status = 'active'",
        caller.to_string(),
        Some(HANDED_ON_LISTED),
    )
    .await
}

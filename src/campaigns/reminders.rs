//! Reminders before a campaign's due date, the escalation after it, and "remind now".
//!
//! Each pass of the campaign schedule looks at every open campaign. A reminder occasion
//! (`reminder:7` for "7 days before") is due once the date is reached; reviewers with
//! undecided items get one email for it. `campaign_reminders` holds a row per campaign,
//! occasion and recipient, inserted in the transaction that queues the email, so a restart or
//! a second instance never sends one twice, and a pass that was missed (the process was down
//! that day) is made up by the next one. When several occasions came due at once, the person
//! gets one email and every occasion is recorded. After the due date the fallback reviewer and
//! the configured admins get one escalation listing the overdue reviewers.

use std::collections::BTreeMap;

use serde_json::json;
use time::Date;

use super::{db::parse_date, notify, CampaignView, Status};
use crate::{
    audit::Actor,
    clock::{format_timestamp, Clock},
    db::{Db, Tx},
    email::Email,
    error::AppError,
    notifications::Kind,
};

/// Reviewers with undecided items in a campaign, and how many each has.
async fn undecided_by_reviewer(
    tx: &mut Tx,
    campaign_id: i64,
) -> Result<BTreeMap<String, i64>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT reviewer_email, COUNT(*) FROM review_items \
         WHERE campaign_id = $1 AND decision IS NULL GROUP BY reviewer_email",
    )
    .bind(campaign_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Records that `recipient` was told on `occasion`; false when that was done already.
async fn first_time(
    tx: &mut Tx,
    clock: &dyn Clock,
    campaign_id: i64,
    occasion: &str,
    recipient: &str,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO campaign_reminders (campaign_id, occasion, recipient, queued_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(campaign_id)
    .bind(occasion)
    .bind(recipient)
    .bind(format_timestamp(clock.now()))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The reminder occasions due on `today` for a campaign due on `due`.
fn due_occasions(days: &[i64], due: Date, today: Date) -> Vec<String> {
    days.iter()
        .filter(|d| today <= due && today >= due - time::Duration::days(**d))
        .map(|d| format!("reminder:{d}"))
        .collect()
}

/// What one pass queued.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sent {
    pub reminders: usize,
    pub escalations: usize,
}

/// Queues the reminders and escalations due today for every open campaign.
pub async fn run(db: &Db, clock: &dyn Clock, admins: &[Email]) -> Result<Sent, AppError> {
    let today = clock.now().date();
    let open: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM campaigns WHERE status = 'active' ORDER BY id")
            .fetch_all(db.pool())
            .await?;
    let mut sent = Sent::default();
    for (id,) in open {
        match campaign(db, clock, admins, id, today).await {
            Ok(done) => {
                sent.reminders += done.reminders;
                sent.escalations += done.escalations;
            }
            // One campaign that fails must not hold up the others.
            Err(error) => tracing::warn!(campaign = id, %error, "could not queue reminders"),
        }
    }
    Ok(sent)
}

async fn campaign(
    db: &Db,
    clock: &dyn Clock,
    admins: &[Email],
    id: i64,
    today: Date,
) -> Result<Sent, AppError> {
    let actor = Actor::system("scheduler");
    let mut tx = db.begin().await?;
    // Shared with decisions, exclusive against close: no reminder for a campaign closing now.
    match crate::review_items::db::lock_campaign(&mut tx, id, false).await? {
        Some(Status::Active) => {}
        _ => return Ok(Sent::default()),
    }
    let campaign = super::db::get_in(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let due = parse_date(&campaign.due_on)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("campaign {id}: unreadable due date")))?;
    let waiting = undecided_by_reviewer(&mut tx, id).await?;
    let mut done = Sent::default();
    let occasions = due_occasions(&campaign.reminder_days, due, today);
    for (reviewer, items) in &waiting {
        let mut fresh = false;
        for occasion in &occasions {
            fresh |= first_time(&mut tx, clock, id, occasion, reviewer).await?;
        }
        if fresh {
            let kind = Kind::Reminder;
            let data = reminder_data(&campaign, *items);
            notify::queue(&mut tx, clock, &actor, kind, reviewer, id, data).await?;
            done.reminders += 1;
        }
    }
    if today > due && !waiting.is_empty() {
        let overdue: Vec<&String> = waiting.keys().collect();
        let mut to: Vec<String> = admins.iter().map(|a| a.to_string()).collect();
        to.push(campaign.fallback_reviewer.clone());
        to.sort();
        to.dedup();
        for recipient in to {
            if first_time(&mut tx, clock, id, "escalation", &recipient).await? {
                let data = json!({
                    "campaign_name": campaign.name,
                    "due_on": campaign.due_on,
                    "overdue": overdue,
                });
                let kind = Kind::Escalation;
                notify::queue(&mut tx, clock, &actor, kind, &recipient, id, data).await?;
                done.escalations += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(done)
}

fn reminder_data(campaign: &CampaignView, items: i64) -> serde_json::Value {
    json!({
        "campaign_name": campaign.name,
        "items": items,
        "due_on": campaign.due_on,
        "contact": campaign.fallback_reviewer,
    })
}

/// "Remind now": a reminder to one reviewer, or to every reviewer with undecided items past
/// the due date (`None`). Returns how many were queued.
pub async fn remind_now(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    id: i64,
    reviewer: Option<&str>,
) -> Result<usize, AppError> {
    let mut tx = db.begin().await?;
    match crate::review_items::db::lock_campaign(&mut tx, id, false).await? {
        None => return Err(AppError::NotFound),
        Some(Status::Active) => {}
        Some(_) => {
            return Err(AppError::Conflict(
                "Only an open campaign's reviewers are reminded.".into(),
            ))
        }
    }
    let campaign = super::db::get_in(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let waiting = undecided_by_reviewer(&mut tx, id).await?;
    let chosen: Vec<(&String, &i64)> = match reviewer {
        Some(one) => {
            let one = Email::parse(one).map_err(|_| {
                AppError::Validation(format!("`{}` is not an email address.", one.trim()))
            })?;
            let found: Vec<_> = waiting.iter().filter(|(r, _)| one.is(r)).collect();
            if found.is_empty() {
                return Err(AppError::Validation(format!(
                    "{one} has no undecided items in this campaign."
                )));
            }
            found
        }
        None => {
            let past_due = parse_date(&campaign.due_on).is_some_and(|due| clock.now().date() > due);
            if !past_due {
                return Err(AppError::Validation(
                    "Nobody is overdue before the due date; remind reviewers one by one.".into(),
                ));
            }
            waiting.iter().collect()
        }
    };
    // A reviewer reminded within the hour is not reminded again: a double click, or two
    // admins at once, must not fill anyone's inbox.
    let since = format_timestamp(clock.now() - time::Duration::hours(1));
    let mut queued = 0;
    for (reviewer, items) in &chosen {
        let (recent,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM notifications WHERE campaign_id = $1 AND recipient = $2 \
             AND kind = 'reminder' AND created_at >= $3",
        )
        .bind(id)
        .bind(reviewer.as_str())
        .bind(&since)
        .fetch_one(&mut *tx)
        .await?;
        if recent > 0 {
            continue;
        }
        let data = reminder_data(&campaign, **items);
        notify::queue(&mut tx, clock, actor, Kind::Reminder, reviewer, id, data).await?;
        queued += 1;
    }
    if queued == 0 {
        return Err(AppError::Conflict(
            "Already reminded within the last hour; nothing was sent.".into(),
        ));
    }
    tx.commit().await?;
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn occasions_come_due_and_stay_due_until_the_due_date() {
        let due = date!(2026 - 12 - 12);
        let days = [7, 1];
        assert!(due_occasions(&days, due, date!(2026 - 12 - 04)).is_empty());
        assert_eq!(
            due_occasions(&days, due, date!(2026 - 12 - 05)),
            ["reminder:7"]
        );
        assert_eq!(
            due_occasions(&days, due, date!(2026 - 12 - 11)),
            ["reminder:7", "reminder:1"]
        );
        assert!(due_occasions(&days, due, date!(2026 - 12 - 13)).is_empty());
    }
}

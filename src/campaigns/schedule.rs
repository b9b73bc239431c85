//! The campaign clock: closes open campaigns once the due date and the grace period have
//! passed, and turns recurring templates into the next quarter's draft.

use std::{sync::Arc, time::Duration};

use serde_json::json;
use time::Date;

use super::{
    db::{format_date, get_in, insert, parse_date, Settings},
    lifecycle::close,
    Status,
};
use crate::{
    audit::{self, Actor, Event},
    clock::Clock,
    db::Db,
    email::Email,
    error::AppError,
};

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tick {
    pub closed: Vec<i64>,
    pub drafts: Vec<i64>,
    pub reminders: usize,
    pub escalations: usize,
}

/// The same day `months` later, clamped to the month's last day.
pub fn add_months(date: Date, months: u32) -> Date {
    let total = date.year() * 12 + i32::from(u8::from(date.month())) - 1 + months as i32;
    let (year, month) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u8);
    let month = time::Month::try_from(month).unwrap_or(time::Month::January);
    let last = month.length(year);
    Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(date)
}

/// `2027 Q1` for a date in January–March 2027.
fn quarter(date: Date) -> String {
    format!("{} Q{}", date.year(), (u8::from(date.month()) - 1) / 3 + 1)
}

/// Runs one pass at the clock's current date: reminders and escalations first (a campaign
/// that closes in this pass still had its escalation), then closes, then recurring drafts.
/// `admins` are told about overdue reviewers.
pub async fn tick(
    db: &Db,
    clock: &dyn Clock,
    grace_days: u32,
    admins: &[Email],
) -> Result<Tick, AppError> {
    let today = clock.now().date();
    let actor = Actor::system("scheduler");
    let mut done = Tick::default();
    let sent = super::reminders::run(db, clock, admins).await?;
    done.reminders = sent.reminders;
    done.escalations = sent.escalations;
    let open: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, due_on FROM campaigns WHERE status = 'active' ORDER BY id")
            .fetch_all(db.pool())
            .await?;
    for (id, due_on) in open {
        let Some(due) = parse_date(&due_on) else {
            continue;
        };
        let closes_after = due.checked_add(time::Duration::days(i64::from(grace_days)));
        if closes_after.is_some_and(|last| today > last) {
            match close(db, clock, &actor, "scheduler", id, true).await {
                Ok(_) => done.closed.push(id),
                // Closed by an admin in the meantime.
                Err(AppError::Conflict(_)) => {}
                // One campaign that cannot close must not hold up the others.
                Err(error) => {
                    tracing::warn!(campaign = id, %error, "could not close a due campaign")
                }
            }
        }
    }
    let templates: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM campaigns WHERE status = 'template' AND next_run_on <= $1 ORDER BY id",
    )
    .bind(format_date(today))
    .fetch_all(db.pool())
    .await?;
    for (id,) in templates {
        match draft_from_template(db, clock, &actor, id, today).await {
            Ok(Some(draft)) => done.drafts.push(draft),
            Ok(None) => {}
            Err(error) => tracing::warn!(template = id, %error, "could not create a draft"),
        }
    }
    Ok(done)
}

/// Creates the draft a template is due to create, and moves the template to the next quarter.
async fn draft_from_template(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    id: i64,
    today: Date,
) -> Result<Option<i64>, AppError> {
    let mut tx = db.begin().await?;
    // Several instances may run the schedule: the template row is theirs one at a time.
    crate::review_items::db::lock_campaign(&mut tx, id, true).await?;
    let Some(template) = get_in(&mut tx, id).await? else {
        return Ok(None);
    };
    let (Status::Template, Some(next)) = (
        template.status,
        template.next_run_on.as_deref().and_then(parse_date),
    ) else {
        return Ok(None);
    };
    if next > today {
        return Ok(None);
    }
    // A template whose quarters went by unscheduled (the server was down, or its start was in
    // the past) catches up with one draft, for the latest quarter that has started; the missed
    // ones are named in the audit event instead of each becoming a draft.
    let mut skipped = 0u32;
    while add_months(next, 3 * (skipped + 1)) <= today {
        skipped += 1;
    }
    // Counted from the template's date each time, so a 31st does not drift to the 28th.
    let (first, next) = (next, add_months(next, 3 * skipped));
    let (Some(starts), Some(due)) = (
        parse_date(&template.starts_on),
        parse_date(&template.due_on),
    ) else {
        return Ok(None);
    };
    let settings = Settings {
        name: format!("{} — {}", template.name, quarter(next)),
        description: template.description.clone(),
        kinds: template.kinds.clone(),
        server_ids: template.server_ids.clone(),
        roles: template.roles.clone(),
        starts_on: format_date(next),
        due_on: format_date(next.checked_add(due - starts).unwrap_or(next)),
        default_outcome: template.default_outcome,
        revoke_needs_justification: template.revoke_needs_justification,
        privileged_needs_justification: template.privileged_needs_justification,
        use_manager_mapping: template.use_manager_mapping,
        use_server_owners: template.use_server_owners,
        fixed_reviewer: template.fixed_reviewer.clone(),
        fallback_reviewer: template.fallback_reviewer.clone(),
        recurring: false,
        reminder_days: template.reminder_days.clone(),
        revocation_mode: template.revocation_mode,
    };
    let draft = insert(&mut tx, clock, "scheduler", &settings, Some(id)).await?;
    let following = add_months(first, 3 * (skipped + 1));
    sqlx::query("UPDATE campaigns SET next_run_on = $1 WHERE id = $2")
        .bind(format_date(following))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("campaign.created", format!("campaign:{draft}")).details(json!({
            "template": id,
            "after": settings,
            "template_next_run_on": { "before": template.next_run_on, "after": format_date(following) },
            "skipped_quarters": skipped,
        })),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        template = id,
        draft,
        "draft created from a recurring template"
    );
    Ok(Some(draft))
}

/// Runs [`tick`] every `every` in the background.
pub fn spawn(
    db: Db,
    clock: Arc<dyn Clock>,
    grace_days: u32,
    every: Duration,
    admins: Vec<Email>,
    leadership: crate::leader::Leadership,
) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            leadership.until_leader().await;
            match tick(&db, clock.as_ref(), grace_days, &admins).await {
                Ok(done) if done != Tick::default() => tracing::info!(
                    closed = ?done.closed,
                    drafts = ?done.drafts,
                    reminders = done.reminders,
                    escalations = done.escalations,
                    "campaign schedule ran"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "campaign schedule failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_are_added_and_clamped() {
        assert_eq!(add_months(date!(2026 - 11 - 30), 3), date!(2027 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 01 - 15), 3), date!(2026 - 04 - 15));
        assert_eq!(quarter(date!(2027 - 02 - 01)), "2027 Q1");
        assert_eq!(quarter(date!(2026 - 12 - 31)), "2026 Q4");
    }
}

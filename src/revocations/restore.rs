//! After a quarantine: an admin restores the server (puts back the values the quarantine kept
//! in `previous`, through `PUT /servers/{id}`) or has it deleted (the revocation becomes a
//! delete job for the worker). Both start from the server's inventory page. Also the reads that
//! page, the user's page, the campaign dashboard and "My reviews" use to show what became of a
//! revocation.
//!
//! Restore calls Postmark first and writes nothing when Postmark refuses: the database only
//! says "restored" once Postmark has the values back. A second restore of the same values is
//! harmless, so a crash between the call and the commit is repaired by restoring again.

use std::collections::HashMap;

use serde_json::json;

use super::{
    db::{to_view, unreadable, ViewRow, VIEW},
    views::{Fulfilment, QuarantineView, Restored, SettingChange},
    Action, Status,
};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::Db,
    error::AppError,
    postmark::{
        servers::{CallFailure, ServerEdit, HOOKS_WITH_CREDENTIALS},
        PostmarkClient,
    },
};

/// The quarantine columns one page needs beside [`RevocationView`](super::RevocationView).
#[derive(sqlx::FromRow)]
struct QuarantineRow {
    id: i64,
    campaign_id: i64,
    server_id: Option<i64>,
    status: String,
    action: Option<String>,
    previous: Option<String>,
    restored_at: Option<String>,
    restored_by: Option<String>,
}

const QUARANTINE: &str = "SELECT id, campaign_id, server_id, status, action, previous, \
     restored_at, restored_by FROM revocations";

impl QuarantineRow {
    fn status(&self) -> Result<Status, sqlx::Error> {
        Status::from_slug(&self.status).ok_or_else(|| unreadable(self.id, "status", &self.status))
    }

    fn action(&self) -> Result<Option<Action>, sqlx::Error> {
        self.action
            .as_deref()
            .map(|a| Action::from_slug(a).ok_or_else(|| unreadable(self.id, "action", a)))
            .transpose()
    }

    /// The edit that undoes the quarantine, when one was kept.
    fn previous(&self) -> Result<Option<ServerEdit>, sqlx::Error> {
        self.previous
            .as_deref()
            .map(|p| serde_json::from_str(p).map_err(|_| unreadable(self.id, "previous", p)))
            .transpose()
    }

    /// The webhooks whose credentials the quarantine cut out before keeping their URLs
    /// (`BounceHookUrl`, …): a restore puts the URL back without them.
    fn hooks_with_credentials(&self) -> Vec<String> {
        self.previous
            .as_deref()
            .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
            .and_then(|p| serde_json::from_value(p[HOOKS_WITH_CREDENTIALS].clone()).ok())
            .unwrap_or_default()
    }

    fn restored(&self) -> Option<Restored> {
        Some(Restored {
            at: self.restored_at.clone()?,
            by: self.restored_by.clone().unwrap_or_default(),
        })
    }

    /// Quarantined and still so as far as this app knows: done, not restored, values kept.
    fn restorable(&self) -> Result<bool, sqlx::Error> {
        Ok(self.status()? == Status::Done
            && self.action()? == Some(Action::Quarantine)
            && self.restored_at.is_none()
            && self.previous.is_some())
    }
}

/// Every revocation of access to `server_id` (the server itself and permissions on it), with
/// the quarantine that can be restored or turned into a deletion, if there is one.
pub async fn of_server(
    db: &Db,
    server_id: i64,
) -> Result<(Vec<Fulfilment>, Option<QuarantineView>), sqlx::Error> {
    let rows = fulfilment(db, "r.server_id = $1", "ORDER BY r.id", Key::Id(server_id)).await?;
    let quarantines: Vec<QuarantineRow> = sqlx::query_as(&format!(
        "{QUARANTINE} WHERE server_id = $1 AND kind = 'server' ORDER BY id DESC"
    ))
    .bind(server_id)
    .fetch_all(db.pool())
    .await?;
    let mut open = None;
    for row in quarantines {
        if row.restorable()? {
            open = Some(row);
            break;
        }
    }
    let Some(row) = open else {
        return Ok((rows, None));
    };
    let previous = row.previous()?.unwrap_or_default();
    let view = rows.iter().find(|f| f.revocation.id == row.id);
    let quarantine = QuarantineView {
        revocation_id: row.id,
        campaign_id: row.campaign_id,
        campaign_name: view
            .map(|f| f.revocation.campaign_name.clone())
            .unwrap_or_default(),
        quarantined_at: view.and_then(|f| f.revocation.finished_at.clone()),
        name: previous.name.clone().unwrap_or_default(),
        changes: changes(&previous, &row.hooks_with_credentials()),
        campaign_signed_off: view.is_some_and(|f| f.revocation.campaign_signed_off),
    };
    Ok((rows, Some(quarantine)))
}

/// Every revocation of `email`'s access (their account role and server permissions).
pub async fn of_user(db: &Db, email: &str) -> Result<Vec<Fulfilment>, sqlx::Error> {
    fulfilment(db, "r.user_email = $1", "ORDER BY r.id", Key::Email(email)).await
}

/// The revocations of items `reviewer` reviewed, newest campaign first, at most `limit`.
pub async fn of_reviewer(
    db: &Db,
    reviewer: &str,
    limit: i64,
) -> Result<Vec<Fulfilment>, sqlx::Error> {
    fulfilment(
        db,
        "r.item_id IN (SELECT id FROM review_items WHERE reviewer_email = $1)",
        &format!("ORDER BY r.campaign_id DESC, r.id LIMIT {limit}"),
        Key::Email(reviewer),
    )
    .await
}

/// Every revocation of one campaign, in item order.
pub async fn of_campaign(db: &Db, campaign_id: i64) -> Result<Vec<Fulfilment>, sqlx::Error> {
    fulfilment(
        db,
        "r.campaign_id = $1",
        "ORDER BY r.id",
        Key::Id(campaign_id),
    )
    .await
}

#[derive(Clone, Copy)]
enum Key<'a> {
    Id(i64),
    Email(&'a str),
}

/// Revocations matching `filter` (one `$1`, bound to `key`) in the order and limit `tail`
/// says, with when and by whom each was restored.
async fn fulfilment(
    db: &Db,
    filter: &str,
    tail: &str,
    key: Key<'_>,
) -> Result<Vec<Fulfilment>, sqlx::Error> {
    let views = format!("{VIEW} WHERE {filter} {tail}");
    let views = match key {
        Key::Id(id) => sqlx::query_as::<_, ViewRow>(&views).bind(id),
        Key::Email(email) => sqlx::query_as::<_, ViewRow>(&views).bind(email),
    }
    .fetch_all(db.pool())
    .await?;
    // Nothing revoked (a reviewer's queue while the campaign runs): nothing restored either.
    if views.is_empty() {
        return Ok(Vec::new());
    }
    let restored = format!(
        "SELECT r.id, r.restored_at, r.restored_by FROM revocations r \
         WHERE r.restored_at IS NOT NULL AND {filter}"
    );
    let restored = match key {
        Key::Id(id) => sqlx::query_as::<_, (i64, String, Option<String>)>(&restored).bind(id),
        Key::Email(email) => {
            sqlx::query_as::<_, (i64, String, Option<String>)>(&restored).bind(email)
        }
    }
    .fetch_all(db.pool())
    .await?;
    let restored: HashMap<i64, Restored> = restored
        .into_iter()
        .map(|(id, at, by)| {
            let by = by.unwrap_or_default();
            (id, Restored { at, by })
        })
        .collect();
    views
        .into_iter()
        .map(|row| {
            let revocation = to_view(row)?;
            let restored = restored.get(&revocation.id).cloned();
            Ok(Fulfilment {
                revocation,
                restored,
            })
        })
        .collect()
}

/// Every restored revocation with when and by whom: few (a restore is a person's exception),
/// so the Revocations page reads them all beside its list.
pub async fn restored(db: &Db) -> Result<Vec<(i64, Restored)>, sqlx::Error> {
    let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT id, restored_at, restored_by FROM revocations \
         WHERE restored_at IS NOT NULL ORDER BY id",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, at, by)| {
            let by = by.unwrap_or_default();
            (id, Restored { at, by })
        })
        .collect())
}

/// What the quarantine changed, in words: `(setting, before, now)`. Webhooks named in
/// `with_credentials` had basic-auth credentials, which were not kept.
fn changes(previous: &ServerEdit, with_credentials: &[String]) -> Vec<SettingChange> {
    let url = |u: &Option<String>| match u.as_deref().map(str::trim) {
        None | Some("") => "(none)".to_string(),
        Some(u) => u.to_string(),
    };
    let mut out = Vec::new();
    if let Some(name) = &previous.name {
        out.push(SettingChange {
            setting: "Name".into(),
            before: name.clone(),
            quarantined: format!("prefixed \"{}…] \"", super::execute::QUARANTINE_PREFIX),
        });
    }
    if let Some(smtp) = previous.smtp_api_activated {
        out.push(SettingChange {
            setting: "SMTP API".into(),
            before: if smtp { "on" } else { "off" }.into(),
            quarantined: "off".into(),
        });
    }
    for (setting, field, value) in [
        (
            "Inbound webhook URL",
            "InboundHookUrl",
            &previous.inbound_hook_url,
        ),
        (
            "Bounce webhook URL",
            "BounceHookUrl",
            &previous.bounce_hook_url,
        ),
        ("Open webhook URL", "OpenHookUrl", &previous.open_hook_url),
        (
            "Delivery webhook URL",
            "DeliveryHookUrl",
            &previous.delivery_hook_url,
        ),
        (
            "Click webhook URL",
            "ClickHookUrl",
            &previous.click_hook_url,
        ),
    ] {
        if value.is_some() {
            let mut before = url(value);
            if with_credentials.iter().any(|f| f == field) {
                before.push_str(
                    " (its basic-auth credentials were not kept: set them again in Postmark                      after restoring)",
                );
            }
            out.push(SettingChange {
                setting: setting.into(),
                before,
                quarantined: "(none)".into(),
            });
        }
    }
    out
}

/// The one quarantine an admin acts on, read again at the moment of acting.
async fn quarantine_for(db: &Db, revocation_id: i64) -> Result<QuarantineRow, AppError> {
    let row: Option<QuarantineRow> =
        sqlx::query_as(&format!("{QUARANTINE} WHERE id = $1 AND kind = 'server'"))
            .bind(revocation_id)
            .fetch_optional(db.pool())
            .await?;
    let row = row.ok_or(AppError::NotFound)?;
    if let Some(restored) = row.restored() {
        return Err(AppError::Conflict(format!(
            "This server was already restored on {} by {}.",
            restored.at, restored.by
        )));
    }
    let (status, action) = (row.status()?, row.action()?);
    if status != Status::Done || action != Some(Action::Quarantine) {
        return Err(AppError::Conflict(format!(
            "Only a server the worker quarantined can be restored or deleted from its page; this \
             revocation is {}.",
            status.label().to_lowercase()
        )));
    }
    Ok(row)
}

fn person_email(actor: &Actor) -> String {
    match actor {
        Actor::Person { email, .. } => email.clone(),
        Actor::System { component } => format!("system:{component}"),
    }
}

/// Postmark's refusal, said so that an admin knows what to do; nothing was changed.
fn refused(server_id: i64, failure: &CallFailure) -> AppError {
    let said = match failure.status {
        Some(401 | 403) => {
            "Postmark rejected the account token (check PAR_POSTMARK_ACCOUNT_TOKEN)".to_string()
        }
        _ if failure.is_no_such_server() => {
            format!("Server {server_id} no longer exists in Postmark")
        }
        Some(422) => format!("Postmark refused the change: {failure}"),
        Some(status) if status >= 500 => {
            format!("Postmark failed ({failure}); try again in a moment")
        }
        None if failure.timeout => {
            "Postmark did not answer in time; try again in a moment".to_string()
        }
        _ => format!("The call to Postmark failed: {failure}"),
    };
    AppError::Conflict(format!("{said}. Nothing was restored."))
}

/// Puts back the name, SMTP API setting and webhook URLs a quarantine changed, then marks the
/// server's quarantines restored with one `revocation.restored` event. Returns the server's
/// name as Postmark now has it.
#[tracing::instrument(skip_all, fields(revocation.id = revocation_id))]
pub async fn restore(
    db: &Db,
    clock: &dyn Clock,
    client: Option<&PostmarkClient>,
    actor: &Actor,
    revocation_id: i64,
) -> Result<String, AppError> {
    let row = quarantine_for(db, revocation_id).await?;
    let server_id = row
        .server_id
        .ok_or_else(|| unreadable(row.id, "server_id", "NULL"))?;
    let Some(previous) = row.previous()? else {
        return Err(AppError::Conflict(
            "No previous values were kept for this server (it was already quarantined when the \
             worker came), so there is nothing to put back."
                .into(),
        ));
    };
    let client = client.ok_or_else(|| {
        AppError::Conflict(
            "No Postmark account token is configured (PAR_POSTMARK_ACCOUNT_TOKEN): restore the \
             server by hand in Postmark."
                .into(),
        )
    })?;
    let server = client
        .edit_server(server_id, previous.clone())
        .await
        .map_err(|failure| {
            tracing::warn!(server.id = server_id, error = %failure, "restore refused by Postmark");
            refused(server_id, &failure)
        })?;

    let now = format_timestamp(clock.now());
    let by = person_email(actor);
    let mut tx = db.begin().await?;
    // Every quarantine of this server ends here: a second campaign's found it already
    // quarantined, and would otherwise call the server's return drift.
    let ids: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM revocations WHERE server_id = $1 AND kind = 'server' \
         AND action = 'quarantine' AND status = 'done' AND restored_at IS NULL ORDER BY id",
    )
    .bind(server_id)
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
    if !ids.contains(&revocation_id) {
        return Err(AppError::Conflict(
            "The revocation changed meanwhile (restored or deleted by someone else); reload."
                .into(),
        ));
    }
    for id in &ids {
        sqlx::query(
            "UPDATE revocations SET restored_at = $1, restored_by = $2 \
             WHERE id = $3 AND restored_at IS NULL",
        )
        .bind(&now)
        .bind(&by)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    let restored = serde_json::to_value(&previous).unwrap_or_default();
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("revocation.restored", format!("revocation:{revocation_id}")).details(json!({
            "campaign": row.campaign_id,
            "server": server_id,
            "restored": restored,
            "revocations": ids,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(server.name)
}

/// Turns a done quarantine into a delete job for the worker, once `confirm_name` is the
/// server's name exactly. The quarantine's outcome stays in the audit trail and the attempts;
/// the row starts over as a deletion, unverified until a sync shows the server gone.
#[tracing::instrument(skip_all, fields(revocation.id = revocation_id))]
pub async fn request_delete(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    revocation_id: i64,
    confirm_name: &str,
) -> Result<(), AppError> {
    let row = quarantine_for(db, revocation_id).await?;
    let server_id = row
        .server_id
        .ok_or_else(|| unreadable(row.id, "server_id", "NULL"))?;
    let name = row.previous()?.and_then(|p| p.name).unwrap_or_default();
    if name.is_empty() || confirm_name.trim() != name {
        return Err(AppError::Validation(format!(
            "To delete server {server_id}, type its name exactly (\"{name}\"); nothing was \
             changed."
        )));
    }
    let now = format_timestamp(clock.now());
    let mut tx = db.begin().await?;
    let before: Option<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT verification, verified_sync_id, drift_sync_id FROM revocations WHERE id = $1",
    )
    .bind(revocation_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (verification, verified_sync, drift_sync) = before.ok_or(AppError::NotFound)?;
    let changed = sqlx::query(
        "UPDATE revocations SET action = 'delete', status = 'pending', next_attempt_at = $1, \
         lease_until = NULL, finished_at = NULL, last_error = NULL, \
         verification = 'unverified', verified_at = NULL, verified_sync_id = NULL, \
         drift_at = NULL, drift_sync_id = NULL \
         WHERE id = $2 AND status = 'done' AND action = 'quarantine' AND restored_at IS NULL",
    )
    .bind(&now)
    .bind(revocation_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed != 1 {
        return Err(AppError::Conflict(
            "The revocation changed meanwhile; reload and try again.".into(),
        ));
    }
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new(
            "revocation.delete_requested",
            format!("revocation:{revocation_id}"),
        )
        .details(json!({
            "campaign": row.campaign_id,
            "server": server_id,
            "name": name,
            "before": {
                "status": Status::Done.slug(), "action": Action::Quarantine.slug(),
                "verification": verification, "verified_sync": verified_sync,
                "drift_sync": drift_sync,
            },
            "after": { "status": Status::Pending.slug(), "action": Action::Delete.slug() },
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_say_what_quarantine_turned_off() {
        let previous = ServerEdit {
            name: Some("Payments".into()),
            smtp_api_activated: Some(true),
            bounce_hook_url: Some("https://hooks.example.com/b".into()),
            click_hook_url: Some(String::new()),
            ..ServerEdit::default()
        };
        let changes = changes(&previous, &["BounceHookUrl".to_string()]);
        let settings: Vec<&str> = changes.iter().map(|c| c.setting.as_str()).collect();
        assert_eq!(
            settings,
            [
                "Name",
                "SMTP API",
                "Bounce webhook URL",
                "Click webhook URL"
            ]
        );
        assert_eq!(changes[1].before, "on");
        assert!(changes[2]
            .before
            .starts_with("https://hooks.example.com/b (its basic-auth credentials were not kept"));
        assert_eq!(changes[3].before, "(none)");
    }
}

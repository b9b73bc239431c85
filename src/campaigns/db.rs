//! Campaign settings: saving drafts and templates (checked by [`super::validate`]), reading
//! campaigns back.

use serde::Serialize;
use serde_json::json;

use super::{CampaignView, DefaultOutcome, Status};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::{Db, Tx},
    error::AppError,
    review_items::ItemKind,
    revocations::Mode,
};

/// Settings that passed every check ([`super::validate::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub name: String,
    pub description: String,
    pub kinds: Vec<ItemKind>,
    pub server_ids: Vec<i64>,
    pub roles: Vec<String>,
    pub starts_on: String,
    pub due_on: String,
    pub default_outcome: DefaultOutcome,
    pub revoke_needs_justification: bool,
    pub privileged_needs_justification: bool,
    pub use_manager_mapping: bool,
    pub use_server_owners: bool,
    pub fixed_reviewer: Option<String>,
    pub fallback_reviewer: String,
    pub recurring: bool,
    /// Largest first, no repeats.
    pub reminder_days: Vec<i64>,
    pub revocation_mode: Mode,
}

const DATE: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

pub fn parse_date(text: &str) -> Option<time::Date> {
    time::Date::parse(text.trim(), DATE).ok()
}

pub fn format_date(date: time::Date) -> String {
    date.format(DATE).unwrap_or_default()
}

fn json_or_null<T: Serialize>(values: &[T]) -> Option<String> {
    (!values.is_empty()).then(|| serde_json::to_string(values).unwrap_or_default())
}

fn kinds_json(kinds: &[ItemKind]) -> String {
    serde_json::to_string(&kinds.iter().map(|k| k.slug()).collect::<Vec<_>>()).unwrap_or_default()
}

/// The columns a campaign's [`Settings`] fill, bound as `$1`… by [`bind_settings`].
const SETTINGS_COLUMNS: [&str; 16] = [
    "name",
    "description",
    "kinds",
    "server_ids",
    "roles",
    "starts_on",
    "due_on",
    "default_outcome",
    "revoke_needs_justification",
    "privileged_needs_justification",
    "use_manager_mapping",
    "use_server_owners",
    "fixed_reviewer",
    "fallback_reviewer",
    "reminder_days",
    "revocation_mode",
];

/// Binds `settings` in the order of [`SETTINGS_COLUMNS`].
fn bind_settings<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    settings: &'q Settings,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    query
        .bind(&settings.name)
        .bind(&settings.description)
        .bind(kinds_json(&settings.kinds))
        .bind(json_or_null(&settings.server_ids))
        .bind(json_or_null(&settings.roles))
        .bind(&settings.starts_on)
        .bind(&settings.due_on)
        .bind(settings.default_outcome.slug())
        .bind(i64::from(settings.revoke_needs_justification))
        .bind(i64::from(settings.privileged_needs_justification))
        .bind(i64::from(settings.use_manager_mapping))
        .bind(i64::from(settings.use_server_owners))
        .bind(settings.fixed_reviewer.as_deref())
        .bind(&settings.fallback_reviewer)
        .bind(serde_json::to_string(&settings.reminder_days).unwrap_or_else(|_| "[]".into()))
        .bind(settings.revocation_mode.slug())
}

/// Saves a new draft (or template) and its audit event.
pub async fn create(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    created_by: &str,
    settings: &Settings,
) -> Result<i64, AppError> {
    let mut tx = db.begin().await?;
    let id = insert(&mut tx, clock, created_by, settings, None).await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("campaign.created", format!("campaign:{id}"))
            .details(json!({ "after": settings })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Inserts a campaign row in an open transaction.
pub async fn insert(
    tx: &mut Tx,
    clock: &dyn Clock,
    created_by: &str,
    settings: &Settings,
    template_id: Option<i64>,
) -> Result<i64, sqlx::Error> {
    let now = format_timestamp(clock.now());
    let (status, next_run_on) = if settings.recurring {
        (Status::Template, Some(settings.starts_on.clone()))
    } else {
        (Status::Draft, None)
    };
    // The settings are $1…$n; the columns after them follow on.
    let n = SETTINGS_COLUMNS.len();
    let sql = format!(
        "INSERT INTO campaigns ({}, status, next_run_on, template_id, created_by, \
         created_at, updated_at) VALUES ({}, ${}, ${}, ${}, ${}, ${}, ${}) RETURNING id",
        SETTINGS_COLUMNS.join(", "),
        (1..=n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", "),
        n + 1,
        n + 2,
        n + 3,
        n + 4,
        n + 5,
        n + 5,
    );
    let query = sqlx::query_as(&sql);
    let (id,): (i64,) = bind_settings(query, settings)
        .bind(status.slug())
        .bind(next_run_on)
        .bind(template_id)
        .bind(created_by)
        .bind(&now)
        .fetch_one(&mut **tx)
        .await?;
    Ok(id)
}

/// Changes a draft or a template; launched campaigns keep the settings they ran with.
pub async fn update(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    id: i64,
    settings: &Settings,
) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    // A launch in progress must not see its settings change underneath it.
    crate::review_items::db::lock_campaign(&mut tx, id, true).await?;
    let before = get_in(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let recurring = before.status == Status::Template;
    if !matches!(before.status, Status::Draft | Status::Template) {
        return Err(AppError::Conflict(format!(
            "This campaign is {}: only drafts and templates can be changed.",
            before.status.label().to_lowercase()
        )));
    }
    if settings.recurring != recurring {
        return Err(AppError::Validation(
            "A draft cannot become a template or the other way round; create a new one.".into(),
        ));
    }
    // A template's next run moves with its start date only if it has not run yet.
    let next_run_on = if recurring {
        Some(
            match (&before.next_run_on, before.starts_on == settings.starts_on) {
                (Some(next), true) => next.clone(),
                _ => settings.starts_on.clone(),
            },
        )
    } else {
        None
    };
    let assignments: Vec<String> = SETTINGS_COLUMNS
        .iter()
        .enumerate()
        .map(|(n, column)| format!("{column} = ${}", n + 1))
        .collect();
    let n = SETTINGS_COLUMNS.len();
    let sql = format!(
        "UPDATE campaigns SET {}, next_run_on = ${}, updated_at = ${} WHERE id = ${} \
         RETURNING id",
        assignments.join(", "),
        n + 1,
        n + 2,
        n + 3,
    );
    let _: (i64,) = bind_settings(sqlx::query_as(&sql), settings)
        .bind(next_run_on)
        .bind(format_timestamp(clock.now()))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("campaign.updated", format!("campaign:{id}"))
            .details(json!({ "before": before.input(), "after": settings })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: i64,
    name: String,
    description: String,
    status: String,
    kinds: String,
    server_ids: Option<String>,
    roles: Option<String>,
    starts_on: String,
    due_on: String,
    default_outcome: String,
    revoke_needs_justification: i64,
    privileged_needs_justification: i64,
    use_manager_mapping: i64,
    use_server_owners: i64,
    fixed_reviewer: Option<String>,
    fallback_reviewer: String,
    reminder_days: String,
    revocation_mode: String,
    next_run_on: Option<String>,
    template_id: Option<i64>,
    created_by: String,
    launched_at: Option<String>,
    closed_at: Option<String>,
    closed_by: Option<String>,
    signed_off_at: Option<String>,
    items: i64,
    decided: i64,
}

const SELECT: &str = "SELECT c.id, c.name, c.description, c.status, c.kinds, c.server_ids, \
     c.roles, c.starts_on, c.due_on, c.default_outcome, c.revoke_needs_justification, \
     c.privileged_needs_justification, c.use_manager_mapping, c.use_server_owners, \
     c.fixed_reviewer, c.fallback_reviewer, c.reminder_days, c.revocation_mode, c.next_run_on, c.template_id, c.created_by, \
     c.launched_at, c.closed_at, c.closed_by, \
     (SELECT s.signed_at FROM campaign_signoffs s WHERE s.campaign_id = c.id) AS signed_off_at, \
     (SELECT COUNT(*) FROM review_items i WHERE i.campaign_id = c.id) AS items, \
     (SELECT COUNT(*) FROM review_items i WHERE i.campaign_id = c.id \
      AND i.decision IS NOT NULL) AS decided FROM campaigns c";

/// A stored value this version cannot read: an error naming the campaign, never a default
/// (an unreadable server list must not widen a campaign to every server).
fn unreadable(id: i64, column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("campaign {id}: unreadable {column} {value:?}").into())
}

/// A JSON list column; `NULL` is "no restriction".
fn json_list<T: serde::de::DeserializeOwned>(
    id: i64,
    column: &str,
    value: Option<String>,
) -> Result<Vec<T>, sqlx::Error> {
    value.map_or(Ok(Vec::new()), |text| {
        serde_json::from_str(&text).map_err(|_| unreadable(id, column, &text))
    })
}

fn to_view(row: CampaignRow) -> Result<CampaignView, sqlx::Error> {
    let id = row.id;
    let kinds: Vec<String> = json_list(id, "kinds", Some(row.kinds))?;
    Ok(CampaignView {
        id,
        name: row.name,
        description: row.description,
        status: Status::from_slug(&row.status)
            .ok_or_else(|| unreadable(id, "status", &row.status))?,
        kinds: kinds
            .iter()
            .map(|k| ItemKind::from_slug(k).ok_or_else(|| unreadable(id, "kind", k)))
            .collect::<Result<_, _>>()?,
        server_ids: json_list(id, "server_ids", row.server_ids)?,
        roles: json_list(id, "roles", row.roles)?,
        starts_on: row.starts_on,
        due_on: row.due_on,
        default_outcome: DefaultOutcome::from_slug(&row.default_outcome)
            .ok_or_else(|| unreadable(id, "default_outcome", &row.default_outcome))?,
        revoke_needs_justification: row.revoke_needs_justification != 0,
        privileged_needs_justification: row.privileged_needs_justification != 0,
        use_manager_mapping: row.use_manager_mapping != 0,
        use_server_owners: row.use_server_owners != 0,
        fixed_reviewer: row.fixed_reviewer,
        fallback_reviewer: row.fallback_reviewer,
        reminder_days: json_list(id, "reminder_days", Some(row.reminder_days))?,
        revocation_mode: Mode::from_slug(&row.revocation_mode)
            .ok_or_else(|| unreadable(id, "revocation_mode", &row.revocation_mode))?,
        next_run_on: row.next_run_on,
        template_id: row.template_id,
        created_by: row.created_by,
        launched_at: row.launched_at,
        closed_at: row.closed_at,
        closed_by: row.closed_by,
        signed_off_at: row.signed_off_at,
        items: row.items,
        decided: row.decided,
    })
}

/// One campaign.
pub async fn get(db: &Db, id: i64) -> Result<Option<CampaignView>, sqlx::Error> {
    let row: Option<CampaignRow> = sqlx::query_as(&format!("{SELECT} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.map(to_view).transpose()
}

/// One campaign, read inside a write transaction.
pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Option<CampaignView>, sqlx::Error> {
    let row: Option<CampaignRow> = sqlx::query_as(&format!("{SELECT} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(to_view).transpose()
}

/// Every campaign, newest first.
pub async fn list(db: &Db) -> Result<Vec<CampaignView>, sqlx::Error> {
    let rows: Vec<CampaignRow> = sqlx::query_as(&format!("{SELECT} ORDER BY c.id DESC"))
        .fetch_all(db.pool())
        .await?;
    rows.into_iter().map(to_view).collect()
}

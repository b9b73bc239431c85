//! Server functions of the campaign pages. Admins write; admins and auditors read.

use leptos::prelude::*;

use super::{
    CampaignInput, CampaignView, Dashboard, FormOptions, ItemsPage, ItemsQuery, MappingResult,
    Preview,
};
use crate::{
    error::AppError,
    review_items::{Decision, ItemView},
};

/// A campaign form checked against the servers and account roles of the current inventory.
#[cfg(feature = "ssr")]
async fn checked(
    state: &crate::state::AppState,
    input: &CampaignInput,
) -> Result<super::db::Settings, AppError> {
    let known = super::validate::Known::load(&state.db).await?;
    super::validate::validate(input, &known)
}

/// The webhook host allowlist in force, for the risk flags items carry.
#[cfg(feature = "ssr")]
async fn allowlist(state: &crate::state::AppState) -> Result<Vec<String>, AppError> {
    Ok(crate::inventory::settings::allowlist(
        &state.db,
        &state.inventory.config.webhook_host_allowlist,
    )
    .await?)
}

/// Every campaign, newest first.
#[server(prefix = "/api", endpoint = "campaigns_list", output = crate::codec::TextJson)]
pub async fn campaigns_list() -> Result<Vec<CampaignView>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(super::db::list(&state.db).await.map_err(AppError::from))
}

/// One campaign's settings.
#[server(prefix = "/api", endpoint = "campaign_get", output = crate::codec::TextJson)]
pub async fn campaign_get(id: i64) -> Result<CampaignView, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    let found = super::db::get(&state.db, id).await.map_err(AppError::from);
    respond(found.and_then(|c| c.ok_or(AppError::NotFound)))
}

/// Saves a new draft, or a recurring template; answers its id.
#[server(prefix = "/api", endpoint = "campaign_create", output = crate::codec::TextJson)]
pub async fn campaign_create(input: CampaignInput) -> Result<i64, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let settings = respond(checked(&state, &input).await)?;
    let id = respond(
        super::db::create(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            respond(user.person_email())?.as_str(),
            &settings,
        )
        .await,
    )?;
    leptos_axum::redirect(&format!("/campaigns/{id}"));
    Ok(id)
}

/// Changes a draft or a template.
#[server(prefix = "/api", endpoint = "campaign_update", output = crate::codec::TextJson)]
pub async fn campaign_update(id: i64, input: CampaignInput) -> Result<(), AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let settings = respond(checked(&state, &input).await)?;
    respond(
        super::db::update(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            id,
            &settings,
        )
        .await,
    )
}

/// Who would review what if the draft were launched now.
#[server(prefix = "/api", endpoint = "campaign_preview", output = crate::codec::TextJson)]
pub async fn campaign_preview(id: i64) -> Result<Preview, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    let allowlist = respond(allowlist(&state).await)?;
    let mut preview = respond(
        super::lifecycle::preview(
            &state.db,
            state.clock.as_ref(),
            id,
            &allowlist,
            state.campaigns.stale_sync_days,
        )
        .await,
    )?;
    // Auditors only read; the email lists are what this server knows of them (group
    // membership shows only when the person signs in).
    let auth = state.auth.config();
    preview.auditor_reviewers = preview
        .reviewers
        .iter()
        .map(|r| r.reviewer.clone())
        .filter(|r| {
            let listed = |list: &[crate::email::Email]| list.iter().any(|e| e.is(r));
            listed(&auth.auditor_emails) && !listed(&auth.admin_emails)
        })
        .collect();
    Ok(preview)
}

/// Launches a draft; answers how many items it created.
#[server(prefix = "/api", endpoint = "campaign_launch", output = crate::codec::TextJson)]
pub async fn campaign_launch(id: i64) -> Result<usize, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let allowlist = respond(allowlist(&state).await)?;
    let launched = respond(
        super::lifecycle::launch(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            respond(user.person_email())?.as_str(),
            id,
            &allowlist,
        )
        .await,
    )?;
    Ok(launched.items)
}

/// Closes an open campaign; answers how many undecided items got the default outcome.
#[server(prefix = "/api", endpoint = "campaign_close", output = crate::codec::TextJson)]
pub async fn campaign_close(id: i64) -> Result<i64, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let closed = respond(
        super::lifecycle::close(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            respond(user.person_email())?.as_str(),
            id,
            false,
        )
        .await,
    )?;
    Ok(closed.defaulted)
}

/// Keeps (`approve`) or revokes an item a closed campaign flagged for an admin.
#[server(prefix = "/api", endpoint = "campaign_resolve_flag", output = crate::codec::TextJson)]
pub async fn campaign_resolve_flag(
    item_id: i64,
    decision: Decision,
    justification: String,
) -> Result<ItemView, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    if decision == Decision::Flag {
        return respond(Err(AppError::Validation(
            "A flagged item is kept (approve) or revoked.".into(),
        )));
    }
    respond(
        super::flagged::resolve(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            respond(user.person_email())?.as_str(),
            item_id,
            decision,
            &justification,
        )
        .await,
    )
}

/// Keeps (`approve`) or revokes many items a closed campaign flagged for an admin, with one
/// justification: all of them or, if any cannot be settled, none. Answers how many.
#[server(prefix = "/api", endpoint = "campaign_resolve_flags", input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn campaign_resolve_flags(
    campaign_id: i64,
    item_ids: Vec<i64>,
    decision: Decision,
    justification: String,
) -> Result<usize, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    if decision == Decision::Flag {
        return respond(Err(AppError::Validation(
            "A flagged item is kept (approve) or revoked.".into(),
        )));
    }
    respond(
        super::flagged::resolve_many(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            respond(user.person_email())?.as_str(),
            campaign_id,
            &item_ids,
            decision,
            &justification,
        )
        .await,
    )
}

/// One page of a launched campaign's items, filtered.
#[server(prefix = "/api", endpoint = "campaign_items", input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn campaign_items(query: ItemsQuery) -> Result<ItemsPage, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    respond(crate::search::check(&[
        ("Reviewer", query.reviewer.as_deref()),
        ("Kind", query.kind.as_deref()),
        ("Decision", query.decision.as_deref()),
        ("Flag", query.flag.as_deref()),
    ]))?;
    let state = crate::state::app_state()?;
    let found = super::db::get(&state.db, query.campaign)
        .await
        .map_err(AppError::from);
    respond(found.and_then(|c| c.ok_or(AppError::NotFound)))?;
    respond(
        super::items::page(&state.db, &query)
            .await
            .map_err(AppError::from),
    )
}

/// Progress of a launched campaign.
#[server(prefix = "/api", endpoint = "campaign_dashboard", output = crate::codec::TextJson)]
pub async fn campaign_dashboard(id: i64) -> Result<Dashboard, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(super::progress::dashboard(&state.db, id, state.clock.now().date()).await)
}

/// The manager mapping in force, `(user, manager)` pairs.
#[server(prefix = "/api", endpoint = "managers_list", output = crate::codec::TextJson)]
pub async fn managers_list() -> Result<Vec<(String, String)>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    let mapping = super::managers::current(&state.db)
        .await
        .map_err(AppError::from);
    respond(mapping.map(|m| m.into_iter().collect()))
}

/// Replaces the manager mapping with a CSV file (admins). A file with any problem changes
/// nothing and comes back with every problem listed.
#[server(prefix = "/api", endpoint = "managers_import", input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn managers_import(file_name: String, csv: String) -> Result<MappingResult, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let mapping = match super::managers::parse(csv.as_bytes()) {
        Ok(mapping) => mapping,
        Err(rejected) => {
            return Ok(MappingResult::Rejected {
                errors: rejected.errors,
                more: rejected.more,
            })
        }
    };
    let source: String = file_name
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let imported = respond(
        super::managers::import(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            &source,
            mapping,
        )
        .await,
    )?;
    Ok(MappingResult::Imported {
        rows: imported.rows,
        added: imported.added,
        removed: imported.removed,
        changed: imported.changed,
        not_in_inventory: imported.not_in_inventory,
    })
}

/// The settings a new campaign starts from: today, due in two weeks, the caller as fallback.
#[server(prefix = "/api", endpoint = "campaign_defaults", output = crate::codec::TextJson)]
pub async fn campaign_defaults() -> Result<CampaignInput, AppError> {
    use super::db::format_date;
    use crate::auth::guard::{require, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let today = state.clock.now().date();
    // The caller as fallback reviewer, when their address is one.
    let me = user
        .person_email()
        .map(|e| e.into_string())
        .unwrap_or_default();
    Ok(CampaignInput::for_new(
        &format_date(today),
        &format_date(today + time::Duration::days(14)),
        &me,
    ))
}

/// What the campaign form offers: the inventory's servers, the account roles Postmark or the
/// inventory knows, and known reviewers to suggest (admins).
#[server(prefix = "/api", endpoint = "campaign_form_options")]
pub async fn campaign_form_options() -> Result<FormOptions, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let servers = respond(
        crate::inventory::db::server_names(&state.db)
            .await
            .map_err(AppError::from),
    )?;
    let known = respond(
        super::validate::Known::load(&state.db)
            .await
            .map_err(AppError::from),
    )?;
    let reviewers = respond(
        crate::reviewer_suggestions::known_reviewers(&state.db, state.auth.config())
            .await
            .map_err(AppError::from),
    )?;
    Ok(FormOptions {
        servers,
        roles: known.roles,
        reviewers,
    })
}

/// Queues a reminder now to one reviewer of an open campaign, or to every reviewer with
/// undecided items once the due date has passed (`reviewer` empty). Returns how many.
#[server(prefix = "/api", endpoint = "campaign_remind", output = crate::codec::TextJson)]
pub async fn campaign_remind(id: i64, reviewer: Option<String>) -> Result<usize, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let reviewer = reviewer.filter(|r| !r.trim().is_empty());
    respond(
        super::reminders::remind_now(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            id,
            reviewer.as_deref(),
        )
        .await,
    )
}

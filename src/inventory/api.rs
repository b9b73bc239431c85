//! Server functions of the inventory pages.

use leptos::prelude::*;

use super::{
    ChangeView, ImportResult, ServerDetail, ServerList, ServerQuery, SyncView, UserDetail, UserList,
};
use crate::error::AppError;

/// The servers list (admins and auditors).
#[server(prefix = "/api", endpoint = "inventory_servers", input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn inventory_servers(query: ServerQuery) -> Result<ServerList, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    respond(crate::search::check(&[
        ("Search", query.search.as_deref()),
        ("Flag", query.flag.as_deref()),
        ("Sort", query.sort.as_deref()),
    ]))?;
    let state = crate::state::app_state()?;
    let inventory = &state.inventory;
    let allowlist = respond(
        super::settings::allowlist(&state.db, &inventory.config.webhook_host_allowlist)
            .await
            .map_err(AppError::from),
    )?;
    respond(
        super::lists::servers(&state.db, &query, &allowlist, inventory.connected())
            .await
            .map_err(AppError::from),
    )
}

/// The latest 50 syncs (admins and auditors).
#[server(prefix = "/api", endpoint = "inventory_syncs", output = crate::codec::TextJson)]
pub async fn inventory_syncs() -> Result<Vec<SyncView>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(
        super::db::syncs(&state.db, 50)
            .await
            .map_err(AppError::from),
    )
}

/// What a sync changed (admins and auditors).
#[server(prefix = "/api", endpoint = "inventory_sync_changes", output = crate::codec::TextJson)]
pub async fn inventory_sync_changes(sync_id: i64) -> Result<Vec<ChangeView>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(
        super::db::changes(&state.db, sync_id)
            .await
            .map_err(AppError::from),
    )
}

/// Runs a sync now (admins). Answers when it is done; a sync that outlasts the request
/// timeout goes on and shows in the list when it ends.
#[server(prefix = "/api", endpoint = "inventory_sync_now", output = crate::codec::TextJson)]
pub async fn sync_now() -> Result<SyncView, AppError> {
    use crate::auth::guard::{require, respond, Need};
    use crate::inventory::{service::StartError, sync::SyncError, Trigger};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    // A task of its own: a request cut by the timeout (or a closed tab) drops this function,
    // which must not stop a sync half-way through its calls.
    let task = {
        let (state, actor) = (state.clone(), user.actor());
        tokio::spawn(async move {
            let clock = state.clock.clone();
            state
                .inventory
                .sync(&state.db, clock.as_ref(), Trigger::Manual, &actor, &|_| {})
                .await
        })
    };
    let result = respond(task.await.map_err(AppError::internal))?;
    let sync_id = match result {
        Ok(outcome) => outcome.sync_id,
        Err(StartError::Sync(SyncError::Failed { sync_id, .. })) => sync_id,
        Err(StartError::Sync(SyncError::Database(error))) => {
            return respond(Err(AppError::internal(error)))
        }
        Err(error @ (StartError::Busy | StartError::NotConfigured)) => {
            return respond(Err(AppError::Conflict(error.to_string())))
        }
    };
    let syncs = respond(
        super::db::syncs(&state.db, 50)
            .await
            .map_err(AppError::from),
    )?;
    respond(
        syncs
            .into_iter()
            .find(|s| s.id == sync_id)
            .ok_or(AppError::NotFound),
    )
}

/// The users list (admins and auditors).
#[server(prefix = "/api", endpoint = "inventory_users", output = crate::codec::TextJson)]
pub async fn inventory_users(
    search: Option<String>,
    flag: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    page: Option<usize>,
) -> Result<UserList, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    respond(crate::search::check(&[
        ("Search", search.as_deref()),
        ("Flag", flag.as_deref()),
        ("Status", status.as_deref()),
        ("Sort", sort.as_deref()),
    ]))?;
    let state = crate::state::app_state()?;
    let today = state.clock.now().date();
    let query = super::UserQuery {
        search,
        flag,
        status,
        sort,
        page,
    };
    respond(
        super::lists::users(&state.db, &query, today)
            .await
            .map_err(AppError::from),
    )
}

/// Replaces the users inventory with a CSV file (admins). A file with any problem changes
/// nothing and comes back with every problem listed.
#[server(prefix = "/api", endpoint = "inventory_import_users", input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn import_users(file_name: String, csv: String) -> Result<ImportResult, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let known = respond(
        super::db::server_ids(&state.db)
            .await
            .map_err(AppError::from),
    )?;
    let records = match super::users_csv::parse(csv.as_bytes(), &known) {
        Ok(records) => records,
        Err(rejected) => {
            return Ok(ImportResult::Rejected {
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
    let outcome = respond(
        super::users::import(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            super::Trigger::Import,
            &source,
            records,
        )
        .await
        .map_err(AppError::from),
    )?;
    state
        .inventory
        .prune_snapshots(&state.db, state.clock.as_ref())
        .await;
    Ok(ImportResult::Imported {
        sync_id: outcome.sync_id,
        users: outcome.users,
        added: outcome.added,
        removed: outcome.removed,
        changed: outcome.changed,
    })
}

/// One server with its settings and users (admins and auditors).
#[server(prefix = "/api", endpoint = "inventory_server", output = crate::codec::TextJson)]
pub async fn inventory_server(postmark_id: i64) -> Result<ServerDetail, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    let allowlist = respond(
        super::settings::allowlist(&state.db, &state.inventory.config.webhook_host_allowlist)
            .await
            .map_err(AppError::from),
    )?;
    // The revocations concerning the server are read by the page itself (they build on the
    // inventory, not the other way round).
    let detail = super::db::server_detail(&state.db, postmark_id, &allowlist)
        .await
        .map_err(AppError::from)
        .and_then(|detail| detail.ok_or(AppError::NotFound));
    respond(detail)
}

/// One user with their change history (admins and auditors).
#[server(prefix = "/api", endpoint = "inventory_user", output = crate::codec::TextJson)]
pub async fn inventory_user(email: String) -> Result<UserDetail, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    let today = state.clock.now().date();
    let detail = super::lists::user_detail(&state.db, &email, today)
        .await
        .map_err(AppError::from)
        .and_then(|detail| detail.ok_or(AppError::NotFound));
    respond(detail)
}

/// The webhook host allowlist in force (admins and auditors).
#[server(prefix = "/api", endpoint = "inventory_allowlist", output = crate::codec::TextJson)]
pub async fn webhook_allowlist() -> Result<Vec<String>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(
        super::settings::allowlist(&state.db, &state.inventory.config.webhook_host_allowlist)
            .await
            .map_err(AppError::from),
    )
}

/// Replaces the webhook host allowlist (admins); comma- or line-separated host names.
#[server(prefix = "/api", endpoint = "inventory_set_allowlist", output = crate::codec::TextJson)]
pub async fn set_webhook_allowlist(hosts: String) -> Result<Vec<String>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let hosts = respond(super::settings::parse_hosts(&hosts))?;
    respond(
        super::settings::set_allowlist(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            &state.inventory.config.webhook_host_allowlist,
            hosts.clone(),
        )
        .await,
    )?;
    Ok(hosts)
}

/// Sets a server's owner (admins); an empty email clears it. The owner reviews the server, so
/// an auditor is refused and an address nobody here knows needs `confirm`.
#[server(prefix = "/api", endpoint = "inventory_set_owner", output = crate::codec::TextJson)]
pub async fn set_server_owner(
    postmark_id: i64,
    email: String,
    #[server(default)] confirm: bool,
) -> Result<(), AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(
        super::settings::set_owner(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            state.auth.config(),
            postmark_id,
            &email,
            confirm,
        )
        .await,
    )
}

//! What the Settings page promises to show: the Postmark connection and its last syncs, the
//! users gateway, server owners and the review defaults. Read-only: these come from the
//! deployment's configuration (PAR_* variables) and the inventory; the README says how to
//! change each.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    components::{notice::ErrorNotice, time::Timestamp},
    error::AppError,
};

/// One sync as the overview names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncLine {
    pub id: i64,
    pub finished_at: String,
    /// Servers or users the sync saw.
    pub count: Option<i64>,
    pub source: Option<String>,
    pub error: Option<String>,
}

/// The Settings page's read-only facts (admins and auditors: the review defaults are evidence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// Host of the Postmark API URL.
    pub api_host: String,
    pub connected: bool,
    /// e.g. "every 6 h"; `None`: no scheduled syncs.
    pub schedule: Option<String>,
    pub last_servers_sync: Option<SyncLine>,
    /// The last failed servers sync, when it came after the last good one.
    pub servers_failure: Option<SyncLine>,
    /// Host of the users gateway, when one is configured.
    pub gateway_host: Option<String>,
    pub last_users_sync: Option<SyncLine>,
    pub users_failure: Option<SyncLine>,
    pub servers: i64,
    pub servers_with_owner: i64,
    /// Owners and how many servers each owns, most first (at most 10).
    pub owners: Vec<(String, i64)>,
    /// What a new campaign starts with (from the campaign form's defaults).
    pub new_campaign: String,
    pub stale_sync_days: u32,
    pub grace_days: u32,
    pub snapshot_retention_days: u32,
    /// e.g. "24 hours", "30 minutes".
    pub offboarding_deadline: String,
}

#[server(prefix = "/api", endpoint = "settings_overview", output = crate::codec::TextJson)]
pub async fn settings_overview() -> Result<Overview, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(db::overview(&state).await.map_err(AppError::from))
}

#[cfg(feature = "ssr")]
mod db {
    use super::{Overview, SyncLine};
    use crate::{db::Db, state::AppState};

    type LineRow = (
        i64,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );

    /// The last sync of a scope with `status`, after sync `after` when given.
    async fn last(
        db: &Db,
        scope: &str,
        status: &str,
        after: Option<i64>,
    ) -> Result<Option<SyncLine>, sqlx::Error> {
        let row: Option<LineRow> = sqlx::query_as(
            "SELECT id, finished_at, servers, source, error FROM syncs \
             WHERE scope = $1 AND status = $2 AND id > $3 ORDER BY id DESC LIMIT 1",
        )
        .bind(scope)
        .bind(status)
        .bind(after.unwrap_or(0))
        .fetch_optional(db.pool())
        .await?;
        Ok(row.map(|(id, finished_at, count, source, error)| SyncLine {
            id,
            finished_at: finished_at.unwrap_or_default(),
            count,
            source,
            error,
        }))
    }

    /// A duration in the largest whole unit: "2 days", "24 hours", "30 minutes".
    fn span(duration: std::time::Duration) -> String {
        let secs = duration.as_secs();
        let (n, unit) = match secs {
            s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
            s if s >= 3_600 && s % 3_600 == 0 => (s / 3_600, "hour"),
            s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
            s => (s, "second"),
        };
        format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
    }

    fn every(interval: std::time::Duration) -> String {
        let secs = interval.as_secs();
        match secs {
            s if s % 86_400 == 0 => format!("every {} d", s / 86_400),
            s if s % 3_600 == 0 => format!("every {} h", s / 3_600),
            s if s % 60 == 0 => format!("every {} min", s / 60),
            s => format!("every {s} s"),
        }
    }

    /// The campaign form's defaults in words.
    fn new_campaign() -> String {
        use crate::campaigns::{CampaignInput, DefaultOutcome};
        let input = CampaignInput::for_new("", "", "");
        let outcome =
            DefaultOutcome::from_slug(&input.default_outcome).map_or("—", DefaultOutcome::label);
        let yes = |on: &Option<String>| if on.is_some() { "yes" } else { "no" };
        // "7, 1" → "7 and 1".
        let days: Vec<&str> = input
            .reminder_days
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .collect();
        let reminders = match days.split_last() {
            None => "none".to_string(),
            Some((last, [])) => format!("{last} days before the due date"),
            Some((last, rest)) => {
                format!("{} and {last} days before the due date", rest.join(", "))
            }
        };
        format!(
            "Undecided at close: {outcome}. A revoke needs a justification: {}. Keeping \
             admin or owner access needs one: {}. Reminders: {reminders}. \
             Each campaign can change these.",
            yes(&input.revoke_needs_justification),
            yes(&input.privileged_needs_justification),
        )
    }

    pub async fn overview(state: &AppState) -> Result<Overview, sqlx::Error> {
        let db = &state.db;
        let config = &state.inventory.config;
        let last_servers_sync = last(db, "servers", "succeeded", None).await?;
        let servers_failure = last(
            db,
            "servers",
            "failed",
            last_servers_sync.as_ref().map(|s| s.id),
        )
        .await?;
        let mut last_users_sync = last(db, "users", "succeeded", None).await?;
        // A users sync counts users; `servers` is NULL there: count what it left.
        if let Some(line) = last_users_sync.as_mut() {
            let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM postmark_users")
                .fetch_one(db.pool())
                .await?;
            line.count = Some(users);
        }
        let users_failure = last(
            db,
            "users",
            "failed",
            last_users_sync.as_ref().map(|s| s.id),
        )
        .await?;
        let (servers,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM servers")
            .fetch_one(db.pool())
            .await?;
        let (servers_with_owner,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM servers s JOIN server_owners o ON o.postmark_id = s.postmark_id",
        )
        .fetch_one(db.pool())
        .await?;
        let owners: Vec<(String, i64)> = sqlx::query_as(
            "SELECT o.owner_email, COUNT(*) AS n FROM server_owners o \
             JOIN servers s ON s.postmark_id = o.postmark_id \
             GROUP BY o.owner_email ORDER BY n DESC, o.owner_email LIMIT 10",
        )
        .fetch_all(db.pool())
        .await?;
        Ok(Overview {
            api_host: config.api_url.host_str().unwrap_or_default().to_string(),
            connected: state.inventory.connected(),
            schedule: config
                .sync_interval
                .filter(|_| state.inventory.connected())
                .map(every),
            last_servers_sync,
            servers_failure,
            gateway_host: config
                .users_gateway
                .as_ref()
                .map(|(url, _)| url.host_str().unwrap_or_default().to_string()),
            last_users_sync,
            users_failure,
            servers,
            servers_with_owner,
            owners,
            new_campaign: new_campaign(),
            stale_sync_days: state.campaigns.stale_sync_days,
            grace_days: state.campaigns.grace_days,
            snapshot_retention_days: config.snapshot_retention_days,
            offboarding_deadline: span(state.campaigns.offboarding_deadline),
        })
    }
}

/// "#12 from users.csv at <time>, 40 users".
fn sync_view(line: SyncLine, noun: &'static str) -> impl IntoView {
    let count = line
        .count
        .map(|n| format!(", {n} {noun}"))
        .unwrap_or_default();
    let source = line
        .source
        .map(|s| format!(" from {s}"))
        .unwrap_or_default();
    view! { {format!("#{}{source} at ", line.id)}<Timestamp at=line.finished_at />{count} }
}

fn failure_view(failure: Option<SyncLine>) -> impl IntoView {
    failure.map(|f| {
        let error = f.error.unwrap_or_default();
        view! {
            <p class="status-error">
                {format!("Last attempt failed (#{} at ", f.id)}<Timestamp at=f.finished_at />
                {format!("): {error}")}
            </p>
        }
    })
}

fn overview_view(o: Overview) -> impl IntoView {
    let postmark_status = if o.connected {
        format!("Connected to {} with an account token", o.api_host)
    } else {
        "Not connected: no account token is configured (PAR_POSTMARK_ACCOUNT_TOKEN)".to_string()
    };
    let last_servers = match o.last_servers_sync.clone() {
        Some(line) => view! { "Last sync " {sync_view(line, "servers")} }.into_any(),
        None => "No successful sync yet".into_any(),
    };
    let gateway = match &o.gateway_host {
        Some(host) => format!("Configured: {host}; every sync also replaces the users"),
        None => "Not configured: users come from CSV imports on the Users page".to_string(),
    };
    let last_users = match o.last_users_sync.clone() {
        Some(line) => view! { "Last users sync " {sync_view(line, "users")} }.into_any(),
        None => "No users imported yet".into_any(),
    };
    let owners_line = format!(
        "{} of {} servers have an owner, who reviews their permissions when a campaign uses server owners.",
        o.servers_with_owner, o.servers
    );
    let owners = o.owners.clone();
    view! {
        <section aria-labelledby="postmark-heading">
            <h2 id="postmark-heading">"Postmark connection"</h2>
            <dl class="facts">
                <dt>"Account API"</dt>
                <dd data-testid="postmark-status">{postmark_status}</dd>
                <dt>"Schedule"</dt>
                <dd>{o.schedule.clone().map_or_else(|| "No scheduled syncs".to_string(), |s| format!("Syncs {s}"))}</dd>
                <dt>"Servers"</dt>
                <dd data-testid="last-servers-sync">{last_servers}</dd>
            </dl>
            {failure_view(o.servers_failure.clone())}
        </section>
        <section aria-labelledby="gateway-heading">
            <h2 id="gateway-heading">"Users gateway"</h2>
            <dl class="facts">
                <dt>"Gateway"</dt>
                <dd data-testid="gateway-status">{gateway}</dd>
                <dt>"Users"</dt>
                <dd data-testid="last-users-sync">{last_users}</dd>
            </dl>
            {failure_view(o.users_failure.clone())}
        </section>
        <section aria-labelledby="owners-heading">
            <h2 id="owners-heading">"Server owners"</h2>
            <p data-testid="owners-summary">{owners_line}</p>
            {(!owners.is_empty()).then(|| view! {
                <ul class="plain-list">
                    {owners.into_iter().map(|(email, n)| view! {
                        <li>{format!("{email}: {n} {}", if n == 1 { "server" } else { "servers" })}</li>
                    }).collect_view()}
                </ul>
            })}
            <p class="muted">"Set an owner on a server's page in the Inventory."</p>
        </section>
        <section aria-labelledby="defaults-heading">
            <h2 id="defaults-heading">"Review defaults"</h2>
            <dl class="facts" data-testid="review-defaults">
                <dt>"New campaigns"</dt>
                <dd>{o.new_campaign.clone()}</dd>
                <dt>"Stale inventory warning"</dt>
                <dd>{format!("A launch preview warns when the last sync is {} days old or more", o.stale_sync_days)}</dd>
                <dt>"Closing"</dt>
                <dd>{format!("An open campaign closes by itself {} days after its due date", o.grace_days)}</dd>
                <dt>"Offboarding deadline"</dt>
                <dd>{format!("A leaver's access must be proved gone within {}", o.offboarding_deadline)}</dd>
                <dt>"Snapshot retention"</dt>
                <dd>{format!("{} days after a version stopped being current; what a campaign was launched from stays", o.snapshot_retention_days)}</dd>
            </dl>
            <p class="muted">"These come from the deployment's PAR_* settings (see the README)."</p>
        </section>
    }
}

/// The read-only sections of the Settings page (admins and auditors).
#[component]
pub fn OverviewSections() -> impl IntoView {
    let overview = Resource::new(|| (), |_| settings_overview());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => overview_view(o).into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

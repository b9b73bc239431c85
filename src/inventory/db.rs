//! Reading the inventory for the pages.

use super::{
    ChangeView, Flag, ServerView, SyncScope, SyncStatus, SyncView, Trigger, UserFlag, MANY_SERVERS,
};
use crate::db::Db;

pub(crate) type ServerRow = (
    i64,
    String,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
);

/// The host a webhook posts to; an unreadable URL shows as such (and is flagged).
fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_lowercase))
        .unwrap_or_else(|| "(unreadable URL)".to_string())
}

pub(crate) fn to_view(row: ServerRow, allowlist: &[String]) -> ServerView {
    let (id, name, color, smtp, delivery, inbound, bounce, open, click, tokens, sent) = row;
    let mut hosts: Vec<String> = [delivery, inbound, bounce, open, click]
        .into_iter()
        .flatten()
        .filter(|u| !u.trim().is_empty())
        .map(|u| host_of(&u))
        .collect();
    hosts.sort();
    hosts.dedup();
    let mut flags = Vec::new();
    match sent {
        Some(0) => flags.push(Flag::NoRecentSends),
        None => flags.push(Flag::ActivityUnknown),
        Some(_) => {}
    }
    if !allowlist.is_empty() && hosts.iter().any(|h| !allowlist.contains(h)) {
        flags.push(Flag::UnexpectedWebhookHost);
    }
    ServerView {
        postmark_id: id,
        name,
        color,
        smtp_api_activated: smtp != 0,
        webhook_hosts: hosts,
        token_count: tokens,
        sent_30d: sent,
        flags,
    }
}

/// The columns of a [`ServerRow`], from `servers`. Booleans travel as integers: SQLite stores
/// them as such and the Any driver decodes by the stored value's type.
macro_rules! server_columns {
    () => {
        "postmark_id, name, color, \
         CAST(CASE WHEN smtp_api_activated THEN 1 ELSE 0 END AS BIGINT), \
         delivery_hook_url, inbound_hook_url, \
         bounce_hook_url, open_hook_url, click_hook_url, token_count, sent_30d"
    };
}

/// See [`server_columns`]: for a query that selects more beside them.
pub(crate) const SERVER_COLUMNS: &str = server_columns!();

/// Every server as a [`ServerRow`].
pub(crate) const SERVER_ROWS: &str = concat!("SELECT ", server_columns!(), " FROM servers");

type SyncRow = (
    i64,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// The latest syncs, newest first.
pub async fn syncs(db: &Db, limit: i64) -> Result<Vec<SyncView>, sqlx::Error> {
    let rows: Vec<SyncRow> = sqlx::query_as(
        "SELECT id, scope, source, trigger_kind, started_at, finished_at, status, error, servers, \
         added, removed, changed FROM syncs ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.into_iter()
        .map(
            |(
                id,
                scope,
                source,
                trigger,
                started_at,
                finished_at,
                status,
                error,
                servers,
                added,
                removed,
                changed,
            )| {
                // A value this version cannot read is an error naming the sync, not a guess.
                let unreadable = |column: &str, value: &str| {
                    sqlx::Error::Decode(format!("sync {id}: unknown {column} {value:?}").into())
                };
                Ok(SyncView {
                    id,
                    scope: SyncScope::from_slug(&scope)
                        .ok_or_else(|| unreadable("scope", &scope))?,
                    source,
                    trigger: Trigger::from_slug(&trigger)
                        .ok_or_else(|| unreadable("trigger_kind", &trigger))?,
                    started_at,
                    finished_at,
                    status: SyncStatus::from_slug(&status)
                        .ok_or_else(|| unreadable("status", &status))?,
                    error,
                    servers,
                    added,
                    removed,
                    changed,
                })
            },
        )
        .collect()
}

fn show(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => "(none)".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// What one sync changed.
pub async fn changes(db: &Db, sync_id: i64) -> Result<Vec<ChangeView>, sqlx::Error> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT kind, item_key, change, detail FROM sync_changes WHERE sync_id = $1 \
         ORDER BY change, kind, item_key",
    )
    .bind(sync_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, key, change, detail)| change_view(kind, key, change, &detail))
        .collect())
}

fn change_view(kind: String, key: String, change: String, detail: &str) -> ChangeView {
    let detail: serde_json::Value = serde_json::from_str(detail).unwrap_or_default();
    let fields = detail["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{}: {} → {}",
                show(f.get("field")),
                show(f.get("before")),
                show(f.get("after"))
            )
        })
        .collect();
    ChangeView {
        kind,
        key,
        change,
        name: show(detail.get("name")),
        fields,
    }
}

/// Account Owner or Account Admin: everything in the account.
pub(crate) fn is_account_admin_role(role: &str) -> bool {
    role.eq_ignore_ascii_case("account owner") || role.eq_ignore_ascii_case("account admin")
}

/// A user's risk flags.
pub(crate) fn user_flags(
    role: &str,
    status: &str,
    invited_at: Option<&str>,
    servers: i64,
    today: time::Date,
) -> Vec<UserFlag> {
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    let mut flags = Vec::new();
    let stale = status == "pending"
        && invited_at
            .and_then(|d| time::Date::parse(d, &date_format).ok())
            .is_some_and(|d| (today - d).whole_days() > 30);
    if stale {
        flags.push(UserFlag::StalePendingInvitation);
    }
    if is_account_admin_role(role) {
        flags.push(UserFlag::AccountAdmin);
    }
    if servers >= MANY_SERVERS as i64 {
        flags.push(UserFlag::ManyServers);
    }
    flags
}

/// Ids of the servers in the current inventory.
pub async fn server_ids(db: &Db) -> Result<std::collections::HashSet<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT postmark_id FROM servers")
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Every account role a user of the inventory holds, as the inventory spells it.
pub async fn account_roles(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT role FROM postmark_users ORDER BY role")
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(|(role,)| role).collect())
}

/// `(Postmark id, name)` of every server in the inventory, by name.
pub async fn server_names(db: &Db) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT postmark_id, name FROM servers ORDER BY name, postmark_id")
        .fetch_all(db.pool())
        .await
}

/// One server with its settings and the users who can reach it.
pub async fn server_detail(
    db: &Db,
    postmark_id: i64,
    allowlist: &[String],
) -> Result<Option<super::ServerDetail>, sqlx::Error> {
    let row: Option<ServerRow> = sqlx::query_as(
        "SELECT postmark_id, name, color, \
         CAST(CASE WHEN smtp_api_activated THEN 1 ELSE 0 END AS BIGINT), \
         delivery_hook_url, inbound_hook_url, bounce_hook_url, open_hook_url, click_hook_url, \
         token_count, sent_30d FROM servers WHERE postmark_id = $1",
    )
    .bind(postmark_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    type Extra = (
        Option<String>,
        i64,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
        String,
        Option<String>,
    );
    let (
        server_link,
        raw_email,
        track_opens,
        track_links,
        delivery,
        inbound,
        bounce,
        open,
        click,
        inbound_address,
        inbound_domain,
        fingerprints,
        first_seen,
        last_seen,
        hook_credentials,
    ): Extra = sqlx::query_as(
        "SELECT s.server_link, CAST(CASE WHEN s.raw_email_enabled THEN 1 ELSE 0 END AS BIGINT), \
         CAST(CASE WHEN s.track_opens THEN 1 ELSE 0 END AS BIGINT), s.track_links, \
         s.delivery_hook_url, s.inbound_hook_url, s.bounce_hook_url, s.open_hook_url, \
         s.click_hook_url, s.inbound_address, s.inbound_domain, s.token_fingerprints, \
         f.started_at, l.started_at, s.hook_credentials FROM servers s \
         JOIN syncs f ON f.id = s.first_seen_sync \
         JOIN syncs l ON l.id = s.last_seen_sync WHERE s.postmark_id = $1",
    )
    .bind(postmark_id)
    .fetch_one(db.pool())
    .await?;
    let server = to_view(row, allowlist);
    let yes_no = |v: i64| if v != 0 { "yes" } else { "no" }.to_string();
    let text = |v: Option<String>| v.unwrap_or_else(|| "(none)".to_string());
    // Credentials a webhook URL carried are not stored: say they were there, and which.
    let credentials: std::collections::BTreeMap<String, String> = hook_credentials
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    let hook = |field: &str, url: Option<String>| match (url, credentials.get(field)) {
        (Some(url), Some(fingerprint)) => {
            format!("{url} (with basic-auth credentials, fingerprint {fingerprint})")
        }
        (url, _) => text(url),
    };
    let settings = vec![
        (
            "SmtpApiActivated".to_string(),
            yes_no(i64::from(server.smtp_api_activated)),
        ),
        ("RawEmailEnabled".to_string(), yes_no(raw_email)),
        ("TrackOpens".to_string(), yes_no(track_opens)),
        ("TrackLinks".to_string(), text(track_links)),
        (
            "DeliveryHookUrl".to_string(),
            hook("delivery_hook_url", delivery),
        ),
        (
            "InboundHookUrl".to_string(),
            hook("inbound_hook_url", inbound),
        ),
        ("BounceHookUrl".to_string(), hook("bounce_hook_url", bounce)),
        ("OpenHookUrl".to_string(), hook("open_hook_url", open)),
        ("ClickHookUrl".to_string(), hook("click_hook_url", click)),
        ("InboundAddress".to_string(), text(inbound_address)),
        ("InboundDomain".to_string(), text(inbound_domain)),
    ];
    let users: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT u.email, u.name, p.permission FROM user_permissions p \
         JOIN postmark_users u ON u.email = p.email WHERE p.postmark_server_id = $1 ORDER BY u.email",
    )
    .bind(postmark_id)
    .fetch_all(db.pool())
    .await?;
    Ok(Some(super::ServerDetail {
        server,
        owner: super::settings::owner(db, postmark_id).await?,
        server_link,
        settings,
        token_fingerprints: serde_json::from_str(&fingerprints).unwrap_or_default(),
        first_seen,
        last_seen,
        users,
    }))
}

/// Every recorded change to the user `email` (as stored) or their permissions, newest first.
pub async fn user_history(
    db: &Db,
    email: &str,
) -> Result<Vec<(i64, String, ChangeView)>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, String, String)> = sqlx::query_as(&format!(
        "SELECT c.sync_id, s.started_at, c.kind, c.item_key, c.change, c.detail \
         FROM sync_changes c JOIN syncs s ON s.id = c.sync_id \
         WHERE (c.kind = 'user' AND c.item_key = $1) \
         OR (c.kind = 'permission' AND c.item_key LIKE $2 {}) \
         ORDER BY c.sync_id DESC, c.kind DESC, c.item_key",
        crate::db::LIKE_ESCAPE
    ))
    .bind(email)
    .bind(format!("{}@%", crate::db::escape_like(email)))
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        // The LIKE above is only a pre-filter: keep exact `email@server` keys.
        .filter(|(_, _, kind, key, _, _)| {
            kind == "user" || key.rsplit_once('@').is_some_and(|(e, _)| e == email)
        })
        .map(|(sync_id, at, kind, key, change, detail)| {
            let view = change_view(kind, key, change, &detail);
            (sync_id, at, view)
        })
        .collect())
}

//! Reading the inventory for the pages.

use super::{
    ChangeView, Flag, ServerList, ServerQuery, ServerView, SyncView, UserFlag, UserList, UserView,
    MANY_SERVERS, PAGE_SIZE,
};
use crate::db::Db;

type ServerRow = (
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

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_lowercase))
}

fn to_view(row: ServerRow, allowlist: &[String]) -> ServerView {
    let (id, name, color, smtp, delivery, inbound, bounce, open, click, tokens, sent) = row;
    let mut hosts: Vec<String> = [delivery, inbound, bounce, open, click]
        .into_iter()
        .flatten()
        .filter_map(|u| host_of(&u))
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

/// Servers matching the query, one page of them.
pub async fn servers(
    db: &Db,
    query: &ServerQuery,
    allowlist: &[String],
    connected: bool,
) -> Result<ServerList, sqlx::Error> {
    let search = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", s.to_lowercase().replace(['%', '_'], "")));
    let rows: Vec<ServerRow> = sqlx::query_as(
        // Booleans travel as integers: SQLite stores them as such and the Any driver decodes
        // by the stored value's type.
        "SELECT postmark_id, name, color, \
         CAST(CASE WHEN smtp_api_activated THEN 1 ELSE 0 END AS BIGINT), \
         delivery_hook_url, inbound_hook_url, \
         bounce_hook_url, open_hook_url, click_hook_url, token_count, sent_30d FROM servers \
         WHERE $1 IS NULL OR LOWER(name) LIKE $1 OR CAST(postmark_id AS TEXT) = $2",
    )
    .bind(search.clone())
    .bind(query.search.as_deref().map(str::trim).unwrap_or_default())
    .fetch_all(db.pool())
    .await?;
    let flag = query.flag.as_deref().and_then(Flag::from_slug);
    let mut views: Vec<ServerView> = rows
        .into_iter()
        .map(|row| to_view(row, allowlist))
        .filter(|v| flag.is_none_or(|f| v.flags.contains(&f)))
        .collect();
    match query.sort.as_deref() {
        Some("id") => views.sort_by_key(|v| v.postmark_id),
        Some("sent") => views.sort_by_key(|v| (v.sent_30d.unwrap_or(-1), v.postmark_id)),
        Some("tokens") => views.sort_by_key(|v| (std::cmp::Reverse(v.token_count), v.postmark_id)),
        _ => views.sort_by_cached_key(|v| (v.name.to_lowercase(), v.postmark_id)),
    }
    let matching = views.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let servers = views
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    Ok(ServerList {
        servers,
        matching,
        page,
        pages,
        last_sync: syncs(db, 50)
            .await?
            .into_iter()
            .find(|s| s.scope == "servers"),
        connected,
    })
}

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
    Ok(rows
        .into_iter()
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
                SyncView {
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
                }
            },
        )
        .collect())
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
        .map(|(kind, key, change, detail)| {
            let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
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
        })
        .collect())
}

/// Users matching `search` (email or name), one page, with permissions and flags.
pub async fn users(
    db: &Db,
    search: Option<&str>,
    page: Option<usize>,
    today: time::Date,
) -> Result<UserList, sqlx::Error> {
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        String,
    );
    let pattern = search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", s.to_lowercase().replace(['%', '_'], "")));
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT u.email, u.name, u.role, u.status, u.invited_at, f.started_at, l.started_at \
         FROM postmark_users u JOIN syncs f ON f.id = u.first_seen_sync \
         JOIN syncs l ON l.id = u.last_seen_sync \
         WHERE $1 IS NULL OR u.email LIKE $1 OR LOWER(u.name) LIKE $1 ORDER BY u.email",
    )
    .bind(pattern)
    .fetch_all(db.pool())
    .await?;
    let matching = rows.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = page.unwrap_or(1).clamp(1, pages);
    let rows: Vec<Row> = rows
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();

    let mut users = Vec::with_capacity(rows.len());
    for (email, name, role, status, invited_at, first_seen, last_seen) in rows {
        let permissions: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT p.postmark_server_id, p.permission, s.name FROM user_permissions p \
             LEFT JOIN servers s ON s.postmark_id = p.postmark_server_id \
             WHERE p.email = $1 ORDER BY p.postmark_server_id",
        )
        .bind(&email)
        .fetch_all(db.pool())
        .await?;
        let mut flags = Vec::new();
        let stale = status == "pending"
            && invited_at
                .as_deref()
                .and_then(|d| {
                    time::Date::parse(
                        d,
                        &time::macros::format_description!("[year]-[month]-[day]"),
                    )
                    .ok()
                })
                .is_some_and(|d| (today - d).whole_days() > 30);
        if stale {
            flags.push(UserFlag::StalePendingInvitation);
        }
        if role.eq_ignore_ascii_case("account owner") || role.eq_ignore_ascii_case("account admin")
        {
            flags.push(UserFlag::AccountAdmin);
        }
        if permissions.len() >= MANY_SERVERS {
            flags.push(UserFlag::ManyServers);
        }
        users.push(UserView {
            email,
            name,
            role,
            status,
            invited_at,
            permissions: permissions
                .into_iter()
                .map(|(id, permission, server)| {
                    format!(
                        "{} ({id}): {permission}",
                        server.unwrap_or_else(|| "unknown server".into())
                    )
                })
                .collect(),
            first_seen,
            last_seen,
            flags,
        });
    }
    Ok(UserList {
        users,
        matching,
        page,
        pages,
    })
}

/// Ids of the servers in the current inventory.
pub async fn server_ids(db: &Db) -> Result<std::collections::HashSet<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT postmark_id FROM servers")
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

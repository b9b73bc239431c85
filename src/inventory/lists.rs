//! The Servers and Users lists: search, filters, sort and paging in SQL, so a page reads one
//! page of rows. Two flags depend on what SQL cannot see — a webhook host against the
//! configured allowlist, and an orphaned login against the identity providers' records — so
//! those two filters narrow in SQL first (servers with a webhook; every user) and finish here.

use std::collections::{HashMap, HashSet};

use super::{
    db::{syncs, to_view, user_flags, ServerRow, SERVER_ROWS},
    Flag, ServerList, ServerQuery, SyncScope, UserFlag, UserList, UserQuery, UserView,
    MANY_SERVERS, PAGE_SIZE,
};
use crate::{db::Db, sql::Sql};

/// The webhook URL columns; a server whose columns are all empty has no webhook host.
const HOOK_COLUMNS: [&str; 5] = [
    "delivery_hook_url",
    "inbound_hook_url",
    "bounce_hook_url",
    "open_hook_url",
    "click_hook_url",
];

/// `(page, pages)` for `matching` rows and the requested page (clamped).
fn page_of(matching: usize, requested: Option<usize>) -> (usize, usize) {
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    (requested.unwrap_or(1).clamp(1, pages), pages)
}

/// One page of rows a filter finished in memory: `(page's rows, matching, page, pages)`.
fn page_in_memory<T>(rows: Vec<T>, requested: Option<usize>) -> (Vec<T>, usize, usize, usize) {
    let matching = rows.len();
    let (page, pages) = page_of(matching, requested);
    let rows = rows
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    (rows, matching, page, pages)
}

fn push_page(sql: &mut Sql, page: usize) {
    sql.push(" LIMIT ")
        .int(PAGE_SIZE as i64)
        .push(" OFFSET ")
        .int(((page - 1) * PAGE_SIZE) as i64);
}

fn push_server_filters(
    sql: &mut Sql,
    query: &ServerQuery,
    flag: Option<Flag>,
    allowlist: &[String],
) {
    sql.push(" WHERE 1 = 1");
    if let Some(needle) = crate::search::term(query.search.as_deref()) {
        sql.push(" AND ")
            .contains(&["name", "CAST(postmark_id AS TEXT)"], &needle);
    }
    match flag {
        None => {}
        Some(Flag::NoRecentSends) => {
            sql.push(" AND sent_30d = 0");
        }
        Some(Flag::ActivityUnknown) => {
            sql.push(" AND sent_30d IS NULL");
        }
        // Without an allowlist no host is unexpected.
        Some(Flag::UnexpectedWebhookHost) if allowlist.is_empty() => {
            sql.push(" AND 1 = 0");
        }
        Some(Flag::UnexpectedWebhookHost) => {
            let any_hook = HOOK_COLUMNS
                .map(|c| format!("TRIM(COALESCE({c}, '')) <> ''"))
                .join(" OR ");
            sql.push(&format!(" AND ({any_hook})"));
        }
    }
}

/// Servers matching the query, one page of them.
pub async fn servers(
    db: &Db,
    query: &ServerQuery,
    allowlist: &[String],
    connected: bool,
) -> Result<ServerList, sqlx::Error> {
    let flag = query.flag.as_deref().and_then(Flag::from_slug);
    let mut select = Sql::new(db);
    let order = match query.sort.as_deref() {
        Some("id") => " ORDER BY postmark_id".to_string(),
        Some("sent") => " ORDER BY COALESCE(sent_30d, -1), postmark_id".to_string(),
        Some("tokens") => " ORDER BY token_count DESC, postmark_id".to_string(),
        _ => format!(" ORDER BY {}, postmark_id", select.lower_sort_key("name")),
    };
    select.push(SERVER_ROWS);
    push_server_filters(&mut select, query, flag, allowlist);
    select.push(&order);
    let (servers, matching, page, pages) =
        if flag == Some(Flag::UnexpectedWebhookHost) && !allowlist.is_empty() {
            // The host check runs here, over the servers that have a webhook at all.
            let rows: Vec<ServerRow> = select.fetch(db).await?;
            let views: Vec<_> = rows
                .into_iter()
                .map(|row| to_view(row, allowlist))
                .filter(|v| v.flags.contains(&Flag::UnexpectedWebhookHost))
                .collect();
            page_in_memory(views, query.page)
        } else {
            let mut count = Sql::new(db);
            count.push("SELECT COUNT(*) FROM servers");
            push_server_filters(&mut count, query, flag, allowlist);
            let matching = usize::try_from(count.count(db).await?).unwrap_or(0);
            let (page, pages) = page_of(matching, query.page);
            push_page(&mut select, page);
            let rows: Vec<ServerRow> = select.fetch(db).await?;
            let views = rows
                .into_iter()
                .map(|row| to_view(row, allowlist))
                .collect();
            (views, matching, page, pages)
        };
    Ok(ServerList {
        servers,
        matching,
        page,
        pages,
        last_sync: syncs(db, 50)
            .await?
            .into_iter()
            .find(|s| s.scope == SyncScope::Servers),
        connected,
    })
}

/// `(email, name, role, status, invited_at, first seen, last seen, servers)`.
type UserRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
);

const USER_ROWS: &str = "SELECT u.email, u.name, u.role, u.status, u.invited_at, \
     f.started_at, l.started_at, COALESCE(pc.n, 0) FROM postmark_users u \
     JOIN syncs f ON f.id = u.first_seen_sync JOIN syncs l ON l.id = u.last_seen_sync \
     LEFT JOIN (SELECT email, COUNT(*) AS n FROM user_permissions GROUP BY email) pc \
     ON pc.email = u.email";

fn push_user_filters(sql: &mut Sql, query: &UserQuery, flag: Option<UserFlag>, today: time::Date) {
    sql.push(" WHERE 1 = 1");
    if let Some(needle) = crate::search::term(query.search.as_deref()) {
        sql.push(" AND ").contains(&["u.email", "u.name"], &needle);
    }
    if let Some(status) = query.status.as_deref().filter(|s| !s.is_empty()) {
        sql.push(" AND u.status = ").text(status);
    }
    match flag {
        // Orphaned is decided per row in `users`.
        None | Some(UserFlag::Orphaned) => {}
        Some(UserFlag::StalePendingInvitation) => {
            // `invited_at` is a `YYYY-MM-DD` date: text order is date order.
            let cutoff = today - time::Duration::days(30);
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let cutoff = cutoff.format(&format).unwrap_or_default();
            sql.push(" AND u.status = 'pending' AND u.invited_at < ")
                .text(&cutoff);
        }
        Some(UserFlag::AccountAdmin) => {
            sql.push(" AND LOWER(u.role) IN ('account owner', 'account admin')");
        }
        Some(UserFlag::ManyServers) => {
            sql.push(" AND COALESCE(pc.n, 0) >= ")
                .int(MANY_SERVERS as i64);
        }
    }
}

/// Users matching the query (email or name, status, flag), one page, with permissions and
/// flags.
pub async fn users(db: &Db, query: &UserQuery, today: time::Date) -> Result<UserList, sqlx::Error> {
    let standings = {
        let mut conn = db.pool().acquire().await?;
        crate::offboarding::identity::Standings::load(&mut conn).await?
    };
    let flags_of = |row: &UserRow| row_flags(row, &standings, today);
    let flag = query.flag.as_deref().and_then(UserFlag::from_slug);
    let mut select = Sql::new(db);
    let email = select.byte_order("u.email");
    let order = match query.sort.as_deref() {
        Some("name") => format!(" ORDER BY {}, {email}", select.lower_sort_key("u.name")),
        Some("servers") => format!(" ORDER BY COALESCE(pc.n, 0) DESC, {email}"),
        _ => format!(" ORDER BY {email}"),
    };
    select.push(USER_ROWS);
    push_user_filters(&mut select, query, flag, today);
    select.push(&order);
    let (rows, matching, page, pages) = if flag == Some(UserFlag::Orphaned) {
        let rows: Vec<UserRow> = select.fetch(db).await?;
        let rows: Vec<UserRow> = rows
            .into_iter()
            .filter(|row| standings.of(&row.0).is_orphaned())
            .collect();
        page_in_memory(rows, query.page)
    } else {
        let mut count = Sql::new(db);
        count.push(
            "SELECT COUNT(*) FROM postmark_users u LEFT JOIN (SELECT email, COUNT(*) AS n \
             FROM user_permissions GROUP BY email) pc ON pc.email = u.email",
        );
        push_user_filters(&mut count, query, flag, today);
        let matching = usize::try_from(count.count(db).await?).unwrap_or(0);
        let (page, pages) = page_of(matching, query.page);
        push_page(&mut select, page);
        let rows: Vec<UserRow> = select.fetch(db).await?;
        (rows, matching, page, pages)
    };

    let users = views(db, rows, flags_of).await?;
    Ok(UserList {
        users,
        matching,
        page,
        pages,
    })
}

/// One user, with every recorded change to them or their permissions.
pub async fn user_detail(
    db: &Db,
    email: &str,
    today: time::Date,
) -> Result<Option<super::UserDetail>, sqlx::Error> {
    let Ok(email) = crate::email::Email::parse(email).map(crate::email::Email::into_string) else {
        return Ok(None);
    };
    let Some(user) = user(db, &email, today).await? else {
        return Ok(None);
    };
    let history = super::db::user_history(db, &email).await?;
    Ok(Some(super::UserDetail { user, history }))
}

/// One user by exact email (as stored: lower case), with permissions and flags.
pub async fn user(
    db: &Db,
    email: &str,
    today: time::Date,
) -> Result<Option<UserView>, sqlx::Error> {
    let standings = {
        let mut conn = db.pool().acquire().await?;
        crate::offboarding::identity::Standings::load(&mut conn).await?
    };
    let mut select = Sql::new(db);
    select.push(USER_ROWS).push(" WHERE u.email = ").text(email);
    let rows: Vec<UserRow> = select.fetch(db).await?;
    let flags_of = |row: &UserRow| row_flags(row, &standings, today);
    Ok(views(db, rows, flags_of).await?.pop())
}

fn row_flags(
    row: &UserRow,
    standings: &crate::offboarding::identity::Standings,
    today: time::Date,
) -> Vec<UserFlag> {
    let (email, _, role, status, invited_at, _, _, servers) = row;
    let mut flags = user_flags(role, status, invited_at.as_deref(), *servers, today);
    if standings.of(email).is_orphaned() {
        flags.push(UserFlag::Orphaned);
    }
    flags
}

/// Rows as the list shows them: with their permissions and flags.
async fn views(
    db: &Db,
    rows: Vec<UserRow>,
    flags_of: impl Fn(&UserRow) -> Vec<UserFlag>,
) -> Result<Vec<UserView>, sqlx::Error> {
    let mut permissions = permissions_of(db, rows.iter().map(|r| r.0.as_str()).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let flags = flags_of(&row);
            let (email, name, role, status, invited_at, first_seen, last_seen, _) = row;
            UserView {
                permissions: permissions.remove(&email).unwrap_or_default(),
                email,
                name,
                role,
                status,
                invited_at,
                first_seen,
                last_seen,
                flags,
            }
        })
        .collect())
}

/// The permissions of `emails` (one page of users) in one query, as the list shows them.
async fn permissions_of(
    db: &Db,
    emails: HashSet<&str>,
) -> Result<HashMap<String, Vec<String>>, sqlx::Error> {
    if emails.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new(db);
    sql.push(
        "SELECT p.email, p.postmark_server_id, p.permission, s.name FROM user_permissions p \
         LEFT JOIN servers s ON s.postmark_id = p.postmark_server_id WHERE p.email IN (",
    );
    for (i, email) in emails.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.text(email);
    }
    sql.push(") ORDER BY p.email, p.postmark_server_id");
    let rows: Vec<(String, i64, String, Option<String>)> = sql.fetch(db).await?;
    let mut permissions: HashMap<String, Vec<String>> = HashMap::new();
    for (email, id, permission, server) in rows {
        permissions.entry(email).or_default().push(format!(
            "{} ({id}): {permission}",
            server.unwrap_or_else(|| "unknown server".into())
        ));
    }
    Ok(permissions)
}

//! `inventory-users.csv` and `inventory-servers.csv`: the current inventory, as the pages
//! show it (same risk flags, same webhook hosts).
//!
//! Users: one record per user and server permission, ordered by email then server id; a user
//! without server permissions has one record with the server columns empty, so every user
//! appears. Servers: one record per server, ordered by Postmark id. Webhook URLs are reduced
//! to their hosts, as on the pages: a URL can carry credentials, and a file travels further
//! than a page.

use super::{
    sqlite::Reader,
    writer::{write_record, Cell},
    ExportError, Source, PAGE_ROWS,
};
use crate::{
    db::Db,
    inventory::db::{to_view, user_flags},
};

pub const USERS_HEADER: &[&str] = &[
    "email",
    "name",
    "role",
    "status",
    "invited_at",
    "server_id",
    "server_name",
    "permission",
    "flags",
];

pub const SERVERS_HEADER: &[&str] = &[
    "postmark_id",
    "name",
    "color",
    "smtp_api_activated",
    "raw_email_enabled",
    "track_opens",
    "track_links",
    "webhook_hosts",
    "token_count",
    "token_fingerprints",
    "sent_30d",
    "owner",
    "flags",
];

/// Separator of several values in one field (flags, hosts, fingerprints).
const LIST: &str = ";";

#[derive(sqlx::FromRow)]
struct UserRow {
    email: String,
    name: String,
    role: String,
    status: String,
    invited_at: Option<String>,
    server_id: Option<i64>,
    server_name: Option<String>,
    permission: Option<String>,
    servers: i64,
}

impl UserRow {
    /// The same row from the SQLite reader.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            email: row.get("email")?,
            name: row.get("name")?,
            role: row.get("role")?,
            status: row.get("status")?,
            invited_at: row.get("invited_at")?,
            server_id: row.get("server_id")?,
            server_name: row.get("server_name")?,
            permission: row.get("permission")?,
            servers: row.get("servers")?,
        })
    }
}

/// One page of users: `$1` is 0 on the first page, `$2` and `$3` the last (email, server id
/// or -1) written, `$4` the page size. COALESCE: the record of a user without permissions
/// sorts first on both databases (they disagree on where NULL sorts). Server ids are positive.
const USERS_SQL: &str = "SELECT u.email, u.name, u.role, u.status, u.invited_at, \
     p.postmark_server_id AS server_id, s.name AS server_name, p.permission, \
     (SELECT COUNT(*) FROM user_permissions c WHERE c.email = u.email) AS servers \
     FROM postmark_users u \
     LEFT JOIN user_permissions p ON p.email = u.email \
     LEFT JOIN servers s ON s.postmark_id = p.postmark_server_id \
     WHERE $1 = 0 OR u.email > $2 \
        OR (u.email = $2 AND COALESCE(p.postmark_server_id, -1) > $3) \
     ORDER BY u.email, COALESCE(p.postmark_server_id, -1) LIMIT $4";

/// Users with their permissions, in (email, server id) order.
pub struct UsersSource {
    db: Db,
    today: time::Date,
    /// The last (email, server id or -1) written.
    after: Option<(String, i64)>,
    /// `Some` on a SQLite file: pages are read there rather than through the pool.
    reader: Option<Reader>,
}

impl UsersSource {
    /// `today` decides the stale-invitation flag, as on the users page.
    pub fn new(db: Db, today: time::Date) -> Self {
        let reader = db.sqlite_file().map(Reader::new);
        Self {
            db,
            today,
            after: None,
            reader,
        }
    }
}

impl Source for UsersSource {
    fn header(&self) -> &'static [&'static str] {
        USERS_HEADER
    }

    async fn next_page(&mut self, out: &mut Vec<u8>) -> Result<bool, ExportError> {
        let (email, server) = self.after.clone().unwrap_or_default();
        let first = i64::from(self.after.is_some());
        let rows: Vec<UserRow> = match &mut self.reader {
            Some(reader) => {
                let params = vec![
                    ("$1", first.into()),
                    ("$2", email.into()),
                    ("$3", server.into()),
                    ("$4", PAGE_ROWS.into()),
                ];
                reader.rows(USERS_SQL, params, UserRow::from_sqlite).await?
            }
            None => {
                sqlx::query_as(USERS_SQL)
                    .bind(first)
                    .bind(&email)
                    .bind(server)
                    .bind(PAGE_ROWS)
                    .fetch_all(self.db.pool())
                    .await?
            }
        };
        let full = rows.len() as i64 == PAGE_ROWS;
        for row in &rows {
            let flags = user_flags(
                &row.role,
                &row.status,
                row.invited_at.as_deref(),
                row.servers,
                self.today,
            )
            .iter()
            .map(|f| f.slug())
            .collect::<Vec<_>>()
            .join(LIST);
            write_record(
                out,
                [
                    (&row.email).into(),
                    (&row.name).into(),
                    (&row.role).into(),
                    (&row.status).into(),
                    (&row.invited_at).into(),
                    row.server_id.into(),
                    (&row.server_name).into(),
                    (&row.permission).into(),
                    Cell::Text(&flags),
                ],
            );
        }
        if let Some(row) = rows.last() {
            self.after = Some((row.email.clone(), row.server_id.unwrap_or(-1)));
        }
        Ok(full)
    }
}

#[derive(sqlx::FromRow)]
struct ServerRow {
    postmark_id: i64,
    name: String,
    color: Option<String>,
    smtp: i64,
    delivery: Option<String>,
    inbound: Option<String>,
    bounce: Option<String>,
    open: Option<String>,
    click: Option<String>,
    token_count: i64,
    sent_30d: Option<i64>,
    raw_email: i64,
    track_opens: i64,
    track_links: Option<String>,
    fingerprints: String,
    owner: Option<String>,
}

impl ServerRow {
    /// The same row from the SQLite reader.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            postmark_id: row.get("postmark_id")?,
            name: row.get("name")?,
            color: row.get("color")?,
            smtp: row.get("smtp")?,
            delivery: row.get("delivery")?,
            inbound: row.get("inbound")?,
            bounce: row.get("bounce")?,
            open: row.get("open")?,
            click: row.get("click")?,
            token_count: row.get("token_count")?,
            sent_30d: row.get("sent_30d")?,
            raw_email: row.get("raw_email")?,
            track_opens: row.get("track_opens")?,
            track_links: row.get("track_links")?,
            fingerprints: row.get("fingerprints")?,
            owner: row.get("owner")?,
        })
    }
}

/// One page of servers: `$1` the last Postmark id written, `$2` the page size. Booleans
/// travel as integers: SQLite stores them so and the Any driver decodes by the stored type.
const SERVERS_SQL: &str = "SELECT s.postmark_id, s.name, s.color, \
     CAST(CASE WHEN s.smtp_api_activated THEN 1 ELSE 0 END AS BIGINT) AS smtp, \
     s.delivery_hook_url AS delivery, s.inbound_hook_url AS inbound, \
     s.bounce_hook_url AS bounce, s.open_hook_url AS open, s.click_hook_url AS click, \
     s.token_count, s.sent_30d, \
     CAST(CASE WHEN s.raw_email_enabled THEN 1 ELSE 0 END AS BIGINT) AS raw_email, \
     CAST(CASE WHEN s.track_opens THEN 1 ELSE 0 END AS BIGINT) AS track_opens, \
     s.track_links, s.token_fingerprints AS fingerprints, o.owner_email AS owner \
     FROM servers s LEFT JOIN server_owners o ON o.postmark_id = s.postmark_id \
     WHERE s.postmark_id > $1 ORDER BY s.postmark_id LIMIT $2";

/// Servers with their settings and flags, in Postmark id order.
pub struct ServersSource {
    db: Db,
    allowlist: Vec<String>,
    after: i64,
    /// `Some` on a SQLite file: pages are read there rather than through the pool.
    reader: Option<Reader>,
}

impl ServersSource {
    /// `allowlist`: the webhook hosts in force, which decide the webhook-host flag.
    pub fn new(db: Db, allowlist: Vec<String>) -> Self {
        let reader = db.sqlite_file().map(Reader::new);
        Self {
            db,
            allowlist,
            after: i64::MIN,
            reader,
        }
    }
}

impl Source for ServersSource {
    fn header(&self) -> &'static [&'static str] {
        SERVERS_HEADER
    }

    async fn next_page(&mut self, out: &mut Vec<u8>) -> Result<bool, ExportError> {
        let rows: Vec<ServerRow> = match &mut self.reader {
            Some(reader) => {
                let params = vec![("$1", self.after.into()), ("$2", PAGE_ROWS.into())];
                reader
                    .rows(SERVERS_SQL, params, ServerRow::from_sqlite)
                    .await?
            }
            None => {
                sqlx::query_as(SERVERS_SQL)
                    .bind(self.after)
                    .bind(PAGE_ROWS)
                    .fetch_all(self.db.pool())
                    .await?
            }
        };
        let full = rows.len() as i64 == PAGE_ROWS;
        for row in rows {
            self.after = row.postmark_id;
            let fingerprints: Vec<String> =
                serde_json::from_str(&row.fingerprints).map_err(|_| {
                    sqlx::Error::Decode(
                        format!(
                            "server {}: unreadable token_fingerprints {:?}",
                            row.postmark_id, row.fingerprints
                        )
                        .into(),
                    )
                })?;
            let view = to_view(
                (
                    row.postmark_id,
                    row.name,
                    row.color,
                    row.smtp,
                    row.delivery,
                    row.inbound,
                    row.bounce,
                    row.open,
                    row.click,
                    row.token_count,
                    row.sent_30d,
                ),
                &self.allowlist,
            );
            let flags = view
                .flags
                .iter()
                .map(|f| f.slug())
                .collect::<Vec<_>>()
                .join(LIST);
            let hosts = view.webhook_hosts.join(LIST);
            let fingerprints = fingerprints.join(LIST);
            write_record(
                out,
                [
                    view.postmark_id.into(),
                    (&view.name).into(),
                    (&view.color).into(),
                    view.smtp_api_activated.into(),
                    (row.raw_email != 0).into(),
                    (row.track_opens != 0).into(),
                    (&row.track_links).into(),
                    Cell::Text(&hosts),
                    view.token_count.into(),
                    Cell::Text(&fingerprints),
                    view.sent_30d.into(),
                    (&row.owner).into(),
                    Cell::Text(&flags),
                ],
            );
        }
        Ok(full)
    }
}

//! `campaigns/{id}/population.csv`: the review items a campaign was launched with, one record
//! per item in item order. Launch copies each access from the inventory into an item (user,
//! name, server, access, privileged, flags), and later syncs never change those columns, so
//! this is the population the campaign reviewed: an auditor tests completeness against it.
//! The reviewer is the current one; a reassignment shows as `assigned_via = reassigned` and
//! the audit log (`review.reassigned`, `review.delegated`) holds the earlier reviewer.

use sqlx::AnyConnection;

use super::{
    sqlite::Reader,
    writer::{write_record, Cell},
    ExportError, Source, PAGE_ROWS,
};

use crate::db::Db;

pub const HEADER: &[&str] = &[
    "item_id",
    "kind",
    "user_email",
    "user_name",
    "access",
    "server_id",
    "server_name",
    "privileged",
    "flags",
    "reviewer",
    "assigned_via",
];

/// One page of items: `$1` the campaign, `$2` the last id written, `$3` the page size.
const PAGE_SQL: &str = "SELECT id, kind, user_email, user_name, access, server_id, \
     server_name, privileged, flags, reviewer_email, assigned_via FROM review_items \
     WHERE campaign_id = $1 AND id > $2 ORDER BY id LIMIT $3";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    kind: String,
    user_email: Option<String>,
    user_name: Option<String>,
    access: String,
    server_id: Option<i64>,
    server_name: Option<String>,
    privileged: i64,
    flags: String,
    reviewer_email: String,
    assigned_via: String,
}

impl Row {
    /// The same row from the SQLite reader.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            kind: row.get("kind")?,
            user_email: row.get("user_email")?,
            user_name: row.get("user_name")?,
            access: row.get("access")?,
            server_id: row.get("server_id")?,
            server_name: row.get("server_name")?,
            privileged: row.get("privileged")?,
            flags: row.get("flags")?,
            reviewer_email: row.get("reviewer_email")?,
            assigned_via: row.get("assigned_via")?,
        })
    }
}

/// The items of one campaign.
pub struct PopulationSource {
    db: Db,
    campaign_id: i64,
    after: i64,
    /// `Some` on a SQLite file: downloads read there rather than through the pool.
    reader: Option<Reader>,
}

impl PopulationSource {
    pub fn new(db: Db, campaign_id: i64) -> Self {
        let reader = db.sqlite_file().map(Reader::new);
        Self {
            db,
            campaign_id,
            after: 0,
            reader,
        }
    }

    /// Appends the next page to `out` (on a connection, so the sign-off can hash the
    /// population inside its transaction); answers whether more may follow.
    pub async fn page(
        &mut self,
        conn: &mut AnyConnection,
        out: &mut Vec<u8>,
    ) -> Result<bool, sqlx::Error> {
        let rows: Vec<Row> = sqlx::query_as(PAGE_SQL)
            .bind(self.campaign_id)
            .bind(self.after)
            .bind(PAGE_ROWS)
            .fetch_all(conn)
            .await?;
        self.write(&rows, out)
    }

    /// Appends `rows` to `out`; answers whether more may follow.
    fn write(&mut self, rows: &[Row], out: &mut Vec<u8>) -> Result<bool, sqlx::Error> {
        let full = rows.len() as i64 == PAGE_ROWS;
        for row in rows {
            let flags: Vec<String> = serde_json::from_str(&row.flags).map_err(|_| {
                sqlx::Error::Decode(
                    format!("review item {}: unreadable flags {:?}", row.id, row.flags).into(),
                )
            })?;
            let flags = flags.join(";");
            write_record(
                out,
                [
                    row.id.into(),
                    (&row.kind).into(),
                    (&row.user_email).into(),
                    (&row.user_name).into(),
                    (&row.access).into(),
                    row.server_id.into(),
                    (&row.server_name).into(),
                    (row.privileged != 0).into(),
                    Cell::Text(&flags),
                    (&row.reviewer_email).into(),
                    (&row.assigned_via).into(),
                ],
            );
        }
        if let Some(row) = rows.last() {
            self.after = row.id;
        }
        Ok(full)
    }
}

impl Source for PopulationSource {
    fn header(&self) -> &'static [&'static str] {
        HEADER
    }

    async fn next_page(&mut self, out: &mut Vec<u8>) -> Result<bool, ExportError> {
        match &mut self.reader {
            Some(reader) => {
                let params = vec![
                    ("$1", self.campaign_id.into()),
                    ("$2", self.after.into()),
                    ("$3", PAGE_ROWS.into()),
                ];
                let rows = reader.rows(PAGE_SQL, params, Row::from_sqlite).await?;
                Ok(self.write(&rows, out)?)
            }
            None => {
                let mut conn = self.db.pool().acquire().await?;
                Ok(self.page(&mut conn, out).await?)
            }
        }
    }
}

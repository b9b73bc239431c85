//! `campaigns/{id}/population.csv`: the review items a campaign was launched with, one record
//! per item in item order. Launch copies each access from the inventory into an item (user,
//! name, server, access, privileged, flags), and later syncs never change those columns, so
//! this is the population the campaign reviewed: an auditor tests completeness against it.
//! The reviewer is the current one; a reassignment shows as `assigned_via = reassigned` and
//! the audit log (`review.reassigned`, `review.delegated`) holds the earlier reviewer.

use super::{
    writer::{write_record, Cell},
    ExportError, Source, PAGE_ROWS,
};
use sqlx::AnyConnection;

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

/// The items of one campaign.
pub struct PopulationSource {
    db: Db,
    campaign_id: i64,
    after: i64,
}

impl PopulationSource {
    pub fn new(db: Db, campaign_id: i64) -> Self {
        Self {
            db,
            campaign_id,
            after: 0,
        }
    }

    /// Appends the next page to `out` (on a connection, so the sign-off can hash the
    /// population inside its transaction); answers whether more may follow.
    pub async fn page(
        &mut self,
        conn: &mut AnyConnection,
        out: &mut Vec<u8>,
    ) -> Result<bool, sqlx::Error> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, kind, user_email, user_name, access, server_id, server_name, \
             privileged, flags, reviewer_email, assigned_via FROM review_items \
             WHERE campaign_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(self.campaign_id)
        .bind(self.after)
        .bind(PAGE_ROWS)
        .fetch_all(conn)
        .await?;
        let full = rows.len() as i64 == PAGE_ROWS;
        for row in &rows {
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
        let mut conn = self.db.pool().acquire().await?;
        Ok(self.page(&mut conn, out).await?)
    }
}

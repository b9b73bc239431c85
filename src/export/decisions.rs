//! `campaigns/{id}/decisions.csv`: every item of a campaign with its decision and what became
//! of it, one record per item in item order. The campaign sign-off signs exactly these bytes,
//! so the record format lives in pure functions ([`write_report`], [`write_row`]) that the
//! streamed download and the signer share; [`page`] reads the rows.
//!
//! `fulfilment` is the revocation's status (`to_revoke`, `excluded`, `pending`, `running`,
//! `done`, `failed`, `manual`, `cancelled`); for a revoke decision with no revocation yet (the
//! campaign is still open) it is `not_carried_out`; for other decisions it is empty.

use sqlx::AnyConnection;

use super::{
    sqlite::Reader,
    writer::{write_header, write_record, Cell},
    ExportError, Source, PAGE_ROWS,
};

use crate::{
    db::Db,
    review_items::{DecidedVia, Decision, ItemKind},
    revocations::{Action, Status, Verification},
};

pub const HEADER: &[&str] = &[
    "item_id",
    "kind",
    "user_email",
    "user_name",
    "access",
    "server_id",
    "server_name",
    "privileged",
    "reviewer",
    "decision",
    "justification",
    "decided_by",
    "decided_at",
    "decided_via",
    "fulfilment",
    "fulfilment_action",
    "fulfilment_note",
    "fulfilled_at",
    "verification",
    "verified_at",
    "drift_at",
    "acknowledged_by",
    "acknowledged_at",
    "acknowledged_reason",
];

/// Written in `fulfilment` for a revoke decision that has no revocation yet.
pub const NOT_CARRIED_OUT: &str = "not_carried_out";

/// One item with its decision and revocation, parsed from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRow {
    pub item_id: i64,
    pub kind: ItemKind,
    pub user_email: Option<String>,
    pub user_name: Option<String>,
    pub access: String,
    pub server_id: Option<i64>,
    pub server_name: Option<String>,
    pub privileged: bool,
    pub reviewer: String,
    pub decision: Option<Decision>,
    pub justification: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decided_via: Option<DecidedVia>,
    pub revocation: Option<Fulfilment>,
}

/// What became of a revoke decision (`revocations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfilment {
    pub status: Status,
    pub action: Option<Action>,
    /// Why it was excluded or cancelled, or the last error of a failed job.
    pub note: Option<String>,
    pub finished_at: Option<String>,
    pub verification: Verification,
    pub verified_at: Option<String>,
    pub drift_at: Option<String>,
    /// A failed revocation an admin accepted as it is.
    pub acknowledged: Option<Acknowledged>,
}

/// Who accepted a failed revocation, when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledged {
    pub by: String,
    pub at: String,
    pub reason: String,
}

/// The whole report: the header, then `rows` in the order given (item order, for the
/// signed report).
pub fn write_report<'a>(out: &mut Vec<u8>, rows: impl IntoIterator<Item = &'a DecisionRow>) {
    write_header(out, HEADER);
    for row in rows {
        write_row(out, row);
    }
}

/// One record.
pub fn write_row(out: &mut Vec<u8>, row: &DecisionRow) {
    let revocation = row.revocation.as_ref();
    let acknowledged = revocation.and_then(|r| r.acknowledged.as_ref());
    let fulfilment = match (revocation, row.decision) {
        (Some(r), _) => r.status.slug(),
        (None, Some(Decision::Revoke)) => NOT_CARRIED_OUT,
        (None, _) => "",
    };
    write_record(
        out,
        [
            row.item_id.into(),
            row.kind.slug().into(),
            (&row.user_email).into(),
            (&row.user_name).into(),
            (&row.access).into(),
            row.server_id.into(),
            (&row.server_name).into(),
            row.privileged.into(),
            (&row.reviewer).into(),
            row.decision.map(Decision::slug).into(),
            (&row.justification).into(),
            (&row.decided_by).into(),
            (&row.decided_at).into(),
            row.decided_via.map(DecidedVia::slug).into(),
            Cell::Text(fulfilment),
            revocation.and_then(|r| r.action).map(Action::slug).into(),
            revocation.and_then(|r| r.note.as_deref()).into(),
            revocation.and_then(|r| r.finished_at.as_deref()).into(),
            revocation.map(|r| r.verification.slug()).into(),
            revocation.and_then(|r| r.verified_at.as_deref()).into(),
            revocation.and_then(|r| r.drift_at.as_deref()).into(),
            acknowledged.map(|a| a.by.as_str()).into(),
            acknowledged.map(|a| a.at.as_str()).into(),
            acknowledged.map(|a| a.reason.as_str()).into(),
        ],
    );
}

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
    reviewer_email: String,
    decision: Option<String>,
    justification: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<String>,
    decided_via: Option<String>,
    r_status: Option<String>,
    r_action: Option<String>,
    r_excluded_reason: Option<String>,
    r_last_error: Option<String>,
    r_finished_at: Option<String>,
    r_verification: Option<String>,
    r_verified_at: Option<String>,
    r_drift_at: Option<String>,
    r_acknowledged_by: Option<String>,
    r_acknowledged_at: Option<String>,
    r_acknowledged_reason: Option<String>,
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
            reviewer_email: row.get("reviewer_email")?,
            decision: row.get("decision")?,
            justification: row.get("justification")?,
            decided_by: row.get("decided_by")?,
            decided_at: row.get("decided_at")?,
            decided_via: row.get("decided_via")?,
            r_status: row.get("r_status")?,
            r_action: row.get("r_action")?,
            r_excluded_reason: row.get("r_excluded_reason")?,
            r_last_error: row.get("r_last_error")?,
            r_finished_at: row.get("r_finished_at")?,
            r_verification: row.get("r_verification")?,
            r_verified_at: row.get("r_verified_at")?,
            r_drift_at: row.get("r_drift_at")?,
            r_acknowledged_by: row.get("r_acknowledged_by")?,
            r_acknowledged_at: row.get("r_acknowledged_at")?,
            r_acknowledged_reason: row.get("r_acknowledged_reason")?,
        })
    }
}

/// A stored value this version cannot read: an error naming the row, never a guess.
fn unreadable(id: i64, column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("review item {id}: unknown {column} {value:?}").into())
}

fn parse<T>(
    id: i64,
    column: &str,
    value: Option<&str>,
    from_slug: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, sqlx::Error> {
    value
        .map(|v| from_slug(v).ok_or_else(|| unreadable(id, column, v)))
        .transpose()
}

impl TryFrom<Row> for DecisionRow {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Self, sqlx::Error> {
        let id = row.id;
        let kind =
            ItemKind::from_slug(&row.kind).ok_or_else(|| unreadable(id, "kind", &row.kind))?;
        let revocation = match parse(
            id,
            "revocation status",
            row.r_status.as_deref(),
            Status::from_slug,
        )? {
            None => None,
            Some(status) => Some(Fulfilment {
                status,
                action: parse(
                    id,
                    "revocation action",
                    row.r_action.as_deref(),
                    Action::from_slug,
                )?,
                note: match status {
                    Status::Failed => row.r_last_error,
                    _ => row.r_excluded_reason,
                },
                finished_at: row.r_finished_at,
                verification: parse(
                    id,
                    "verification",
                    row.r_verification.as_deref(),
                    Verification::from_slug,
                )?
                .unwrap_or_default(),
                verified_at: row.r_verified_at,
                drift_at: row.r_drift_at,
                acknowledged: match (
                    row.r_acknowledged_by,
                    row.r_acknowledged_at,
                    row.r_acknowledged_reason,
                ) {
                    (Some(by), Some(at), Some(reason)) => Some(Acknowledged { by, at, reason }),
                    _ => None,
                },
            }),
        };
        Ok(DecisionRow {
            item_id: id,
            kind,
            user_email: row.user_email,
            user_name: row.user_name,
            access: row.access,
            server_id: row.server_id,
            server_name: row.server_name,
            privileged: row.privileged != 0,
            reviewer: row.reviewer_email,
            decision: parse(id, "decision", row.decision.as_deref(), Decision::from_slug)?,
            justification: row.justification,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            decided_via: parse(
                id,
                "decided_via",
                row.decided_via.as_deref(),
                DecidedVia::from_slug,
            )?,
            revocation,
        })
    }
}

/// One page of items with their revocations: `$1` the campaign, `$2` the last id written,
/// `$3` the page size.
const PAGE_SQL: &str = "SELECT i.id, i.kind, i.user_email, i.user_name, i.access, \
     i.server_id, i.server_name, i.privileged, i.reviewer_email, i.decision, \
     i.justification, i.decided_by, i.decided_at, i.decided_via, r.status AS r_status, r.action AS r_action, \
     r.excluded_reason AS r_excluded_reason, r.last_error AS r_last_error, \
     r.finished_at AS r_finished_at, r.verification AS r_verification, \
     r.verified_at AS r_verified_at, r.drift_at AS r_drift_at, \
     r.acknowledged_by AS r_acknowledged_by, r.acknowledged_at AS r_acknowledged_at, \
     r.acknowledged_reason AS r_acknowledged_reason \
     FROM review_items i LEFT JOIN revocations r ON r.item_id = i.id \
     WHERE i.campaign_id = $1 AND i.id > $2 ORDER BY i.id LIMIT $3";

/// Up to `limit` items of `campaign_id` with ids above `after`, in id order (on a connection,
/// so the sign-off reads them inside its transaction).
pub async fn page(
    conn: &mut AnyConnection,
    campaign_id: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<DecisionRow>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(PAGE_SQL)
        .bind(campaign_id)
        .bind(after)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(DecisionRow::try_from).collect()
}

/// The items of one campaign, page by page.
pub struct DecisionsSource {
    db: Db,
    campaign_id: i64,
    after: i64,
    /// `Some` on a SQLite file: pages are read there rather than through the pool.
    reader: Option<Reader>,
}

impl DecisionsSource {
    pub fn new(db: Db, campaign_id: i64) -> Self {
        let reader = db.sqlite_file().map(Reader::new);
        Self {
            db,
            campaign_id,
            after: 0,
            reader,
        }
    }
}

impl Source for DecisionsSource {
    fn header(&self) -> &'static [&'static str] {
        HEADER
    }

    async fn next_page(&mut self, out: &mut Vec<u8>) -> Result<bool, ExportError> {
        let rows = match &mut self.reader {
            Some(reader) => {
                let params = vec![
                    ("$1", self.campaign_id.into()),
                    ("$2", self.after.into()),
                    ("$3", PAGE_ROWS.into()),
                ];
                let rows = reader.rows(PAGE_SQL, params, Row::from_sqlite).await?;
                rows.into_iter()
                    .map(DecisionRow::try_from)
                    .collect::<Result<Vec<_>, _>>()?
            }
            None => {
                let mut conn = self.db.pool().acquire().await?;
                page(&mut conn, self.campaign_id, self.after, PAGE_ROWS).await?
            }
        };
        for row in &rows {
            write_row(out, row);
        }
        if let Some(row) = rows.last() {
            self.after = row.item_id;
        }
        Ok(rows.len() as i64 == PAGE_ROWS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(decision: Option<Decision>, revocation: Option<Fulfilment>) -> DecisionRow {
        DecisionRow {
            item_id: 7,
            kind: ItemKind::ServerPermission,
            user_email: Some("chloe@example.com".into()),
            user_name: Some("Chen, \"Chloe\"".into()),
            access: "Server Admin".into(),
            server_id: Some(1),
            server_name: Some("=server".into()),
            privileged: true,
            reviewer: "rita@example.com".into(),
            decision,
            justification: decision.map(|_| "left the team\nin May".into()),
            decided_by: decision.map(|_| "rita@example.com".into()),
            decided_at: decision.map(|_| "2026-11-28T09:00:00.000000Z".into()),
            decided_via: decision.map(|_| DecidedVia::Reviewer),
            revocation,
        }
    }

    fn text(rows: &[DecisionRow]) -> String {
        let mut out = Vec::new();
        write_report(&mut out, rows);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn the_report_is_the_header_and_one_record_per_item() {
        let done = Fulfilment {
            status: Status::Done,
            action: Some(Action::RemovePermission),
            note: None,
            finished_at: Some("2026-11-29T10:00:00.000000Z".into()),
            verification: Verification::Effective,
            verified_at: Some("2026-11-30T10:00:00.000000Z".into()),
            drift_at: None,
            acknowledged: None,
        };
        let report = text(&[
            row(None, None),
            row(Some(Decision::Revoke), None),
            row(Some(Decision::Revoke), Some(done)),
            row(Some(Decision::Approve), None),
        ]);
        let lines: Vec<&str> = report.split("\r\n").collect();
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(
            lines[1],
            "7,server_permission,chloe@example.com,\"Chen, \"\"Chloe\"\"\",Server Admin,1,'=server,true,rita@example.com,,,,,,,,,,,,,,,"
        );
        assert!(report.contains(",revoke,\"left the team\nin May\",rita@example.com,2026-11-28T09:00:00.000000Z,reviewer,not_carried_out,,,,,,,,,\r\n"), "{report}");
        assert!(report.contains(",reviewer,done,remove_permission,,2026-11-29T10:00:00.000000Z,effective,2026-11-30T10:00:00.000000Z,,,,\r\n"), "{report}");
        assert!(report.ends_with(",approve,\"left the team\nin May\",rita@example.com,2026-11-28T09:00:00.000000Z,reviewer,,,,,,,,,,\r\n"), "{report}");
    }
}

//! The `review_items` table: the one reader, the campaign lock every change takes first, and
//! every writer. Callers run these inside their own transaction, next to their audit event;
//! the writers check the version (or state) the caller read and report how many rows changed,
//! so a lost race is a conflict, never a silent overwrite.

use super::{Candidate, DecidedVia, Decision, ItemKind, ItemView, Via};
use crate::{
    campaigns::Status,
    db::{Backend, Db, Tx},
};

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: i64,
    campaign_id: i64,
    campaign_name: String,
    kind: String,
    user_email: Option<String>,
    user_name: Option<String>,
    server_id: Option<i64>,
    server_name: Option<String>,
    access: String,
    privileged: i64,
    flags: String,
    reviewer_email: String,
    assigned_via: String,
    decision: Option<String>,
    justification: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<String>,
    decided_via: Option<String>,
    version: i64,
}

/// Items with their campaign's name; callers add `WHERE …`.
pub(crate) const ITEMS: &str = "SELECT i.id, i.campaign_id, c.name AS campaign_name, i.kind, \
     i.user_email, i.user_name, i.server_id, i.server_name, i.access, i.privileged, i.flags, \
     i.reviewer_email, i.assigned_via, i.decision, i.justification, i.decided_by, i.decided_at, \
     i.decided_via, i.version FROM review_items i JOIN campaigns c ON c.id = i.campaign_id";

/// A stored value this version cannot read: an error naming the row, never a guess.
fn unreadable(id: i64, column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("review item {id}: unknown {column} {value:?}").into())
}

fn to_view(row: ItemRow) -> Result<ItemView, sqlx::Error> {
    let id = row.id;
    let flags: Vec<String> =
        serde_json::from_str(&row.flags).map_err(|_| unreadable(id, "flags", &row.flags))?;
    let kind = ItemKind::from_slug(&row.kind).ok_or_else(|| unreadable(id, "kind", &row.kind))?;
    let assigned_via = Via::from_slug(&row.assigned_via)
        .ok_or_else(|| unreadable(id, "assigned_via", &row.assigned_via))?;
    let decision = row
        .decision
        .as_deref()
        .map(|d| Decision::from_slug(d).ok_or_else(|| unreadable(id, "decision", d)))
        .transpose()?;
    let decided_via = row
        .decided_via
        .as_deref()
        .map(|d| DecidedVia::from_slug(d).ok_or_else(|| unreadable(id, "decided_via", d)))
        .transpose()?;
    Ok(ItemView {
        id,
        campaign_id: row.campaign_id,
        campaign_name: row.campaign_name,
        kind,
        user_email: row.user_email,
        user_name: row.user_name,
        server_id: row.server_id,
        server_name: row.server_name,
        access: row.access,
        privileged: row.privileged != 0,
        flags,
        reviewer: row.reviewer_email,
        assigned_via,
        decision,
        justification: row.justification,
        decided_by: row.decided_by,
        decided_at: row.decided_at,
        decided_via,
        version: row.version,
    })
}

/// Items matching `filter` (a `WHERE` clause over `i` and `c`) with one bound value, at most
/// `limit` of them.
pub async fn items_where<T>(
    db: &Db,
    filter: &str,
    value: T,
    limit: Option<usize>,
) -> Result<Vec<ItemView>, sqlx::Error>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send,
{
    let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    let rows: Vec<ItemRow> =
        sqlx::query_as(&format!("{ITEMS} WHERE {filter} ORDER BY i.id{limit}"))
            .bind(value)
            .fetch_all(db.pool())
            .await?;
    rows.into_iter().map(to_view).collect()
}

/// `AND …` narrowing items (`i`) to those carrying the flag `slug`, or any flag for `any`.
pub fn push_flag_filter(sql: &mut crate::sql::Sql, flag: Option<&str>) {
    match flag.filter(|f| !f.is_empty()) {
        None => {}
        Some("any") => {
            sql.push(" AND i.flags <> '[]'");
        }
        // Flags are a JSON array of slugs: the slug in quotes is one whole element.
        Some(slug) => {
            sql.push(" AND ")
                .contains(&["i.flags"], &format!("\"{slug}\""));
        }
    }
}

/// Items selected by `sql`, which starts with [`ITEMS`] (and adds its filters, order and page).
pub async fn items_by(db: &Db, sql: crate::sql::Sql) -> Result<Vec<ItemView>, sqlx::Error> {
    let rows: Vec<ItemRow> = sql.fetch(db).await?;
    rows.into_iter().map(to_view).collect()
}

/// One item, read inside the caller's transaction.
pub async fn item_in(tx: &mut Tx, id: i64) -> Result<Option<ItemView>, sqlx::Error> {
    let row: Option<ItemRow> = sqlx::query_as(&format!("{ITEMS} WHERE i.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(to_view).transpose()
}

/// Locks a campaign row against concurrent changes of its status and returns the status.
/// Decisions take a shared lock, close an exclusive one (PostgreSQL); on SQLite the write
/// transaction already serialises them.
pub async fn lock_campaign(
    tx: &mut Tx,
    id: i64,
    exclusive: bool,
) -> Result<Option<Status>, sqlx::Error> {
    let sql = match (tx.backend(), exclusive) {
        (Backend::Sqlite, _) => "SELECT status FROM campaigns WHERE id = $1",
        (Backend::Postgres, true) => "SELECT status FROM campaigns WHERE id = $1 FOR UPDATE",
        (Backend::Postgres, false) => "SELECT status FROM campaigns WHERE id = $1 FOR SHARE",
    };
    let row: Option<(String,)> = sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|(s,)| {
        Status::from_slug(&s).ok_or_else(|| {
            sqlx::Error::Decode(format!("campaign {id}: unknown status {s:?}").into())
        })
    })
    .transpose()
}

/// Rows per INSERT statement at launch. Small on purpose: binding many parameters to one SQLite
/// statement through sqlx grows worse than linearly (1,000-row statements took 4.7 s for
/// 20,000 items, 50-row ones 0.43 s; see `bench campaign`).
const BATCH: usize = 50;

/// Inserts review items in batches (also the baseline of the launch benchmark).
pub async fn insert(
    tx: &mut Tx,
    campaign_id: i64,
    items: &[(Candidate, String, Via)],
) -> Result<(), sqlx::Error> {
    const COLUMNS: usize = 11;
    for chunk in items.chunks(BATCH) {
        let mut sql = String::from(
            "INSERT INTO review_items (campaign_id, kind, user_email, user_name, server_id, \
             server_name, access, privileged, flags, reviewer_email, assigned_via) VALUES ",
        );
        for row in 0..chunk.len() {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..COLUMNS {
                if column > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", row * COLUMNS + column + 1));
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for (candidate, reviewer, via) in chunk {
            query = query
                .bind(campaign_id)
                .bind(candidate.kind.slug())
                .bind(candidate.user_email.as_deref())
                .bind(candidate.user_name.as_deref())
                .bind(candidate.server_id)
                .bind(candidate.server_name.as_deref())
                .bind(candidate.access.as_str())
                .bind(i64::from(candidate.privileged))
                .bind(serde_json::to_string(&candidate.flags).unwrap_or_default())
                .bind(reviewer.as_str())
                .bind(via.slug());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// A decision about to be written.
pub struct Decided<'a> {
    pub decision: Decision,
    pub justification: Option<&'a str>,
    /// Who decided; `None` for the default outcome.
    pub by: Option<&'a str>,
    pub via: DecidedVia,
    pub at: &'a str,
}

/// The state the caller read, which the write requires still to hold.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// This version, still assigned to the decider.
    VersionOfDecider(i64),
    /// This version, still undecided.
    UndecidedVersion(i64),
    /// Flagged for an admin at close.
    Flagged,
}

/// Records a decision on one item; returns the rows changed (0: the item moved on meanwhile).
pub async fn set_decision(
    tx: &mut Tx,
    id: i64,
    expect: Expect,
    decided: &Decided<'_>,
) -> Result<u64, sqlx::Error> {
    let (condition, version) = match expect {
        Expect::VersionOfDecider(v) => ("version = $7 AND reviewer_email = $3", Some(v)),
        Expect::UndecidedVersion(v) => ("version = $7 AND decision IS NULL", Some(v)),
        Expect::Flagged => ("decision = 'flag'", None),
    };
    let sql = format!(
        "UPDATE review_items SET decision = $1, justification = $2, decided_by = $3, \
         decided_at = $4, decided_via = $6, version = version + 1 WHERE id = $5 AND {condition}"
    );
    let query = sqlx::query(&sql)
        .bind(decided.decision.slug())
        .bind(decided.justification)
        .bind(decided.by)
        .bind(decided.at)
        .bind(id)
        .bind(decided.via.slug());
    let query = match version {
        Some(version) => query.bind(version),
        None => query,
    };
    Ok(query.execute(&mut **tx).await?.rows_affected())
}

/// Takes back a decision; returns the rows changed (0: the item changed meanwhile).
pub async fn clear_decision(tx: &mut Tx, id: i64, version: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE review_items SET decision = NULL, justification = NULL, decided_by = NULL, \
         decided_at = NULL, decided_via = NULL, version = version + 1 \
         WHERE id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Ids of a campaign's undecided items.
pub async fn undecided_ids(tx: &mut Tx, campaign_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM review_items WHERE campaign_id = $1 AND decision IS NULL ORDER BY id",
    )
    .bind(campaign_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// How many undecided items a reviewer has in a campaign.
pub async fn undecided_count(
    tx: &mut Tx,
    campaign_id: i64,
    reviewer: &str,
) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM review_items WHERE campaign_id = $1 AND reviewer_email = $2 \
         AND decision IS NULL",
    )
    .bind(campaign_id)
    .bind(reviewer)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n)
}

/// Gives every undecided item of a campaign the default outcome; returns how many.
pub async fn apply_default(
    tx: &mut Tx,
    campaign_id: i64,
    decision: Decision,
    at: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE review_items SET decision = $1, decided_via = $4, decided_at = $2, \
         decided_by = NULL, version = version + 1 WHERE campaign_id = $3 AND decision IS NULL",
    )
    .bind(decision.slug())
    .bind(at)
    .bind(campaign_id)
    .bind(DecidedVia::Default.slug())
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Items per decision in a campaign (`None`: undecided).
pub async fn count_by_decision(
    tx: &mut Tx,
    campaign_id: i64,
) -> Result<Vec<(Option<String>, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT decision, COUNT(*) FROM review_items WHERE campaign_id = $1 GROUP BY decision",
    )
    .bind(campaign_id)
    .fetch_all(&mut **tx)
    .await
}

/// Hands one undecided item to `to`; returns the rows changed (0: decided or moved meanwhile).
/// `handed_on_by`: the reviewer handing on their own item, who may take it back.
pub async fn reassign(
    tx: &mut Tx,
    id: i64,
    version: i64,
    to: &str,
    handed_on_by: Option<&str>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE review_items SET reviewer_email = $1, assigned_via = $4, handed_on_by = $5, \
         version = version + 1 WHERE id = $2 AND version = $3 AND decision IS NULL",
    )
    .bind(to)
    .bind(id)
    .bind(version)
    .bind(Via::Reassigned.slug())
    .bind(handed_on_by)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Gives an undecided item back to `to`, who handed it on; returns the rows changed (0: it
/// was decided, moved or taken back meanwhile).
pub async fn take_back(tx: &mut Tx, id: i64, version: i64, to: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE review_items SET reviewer_email = $1, handed_on_by = NULL, \
         version = version + 1 WHERE id = $2 AND version = $3 AND decision IS NULL \
         AND handed_on_by = $1",
    )
    .bind(to)
    .bind(id)
    .bind(version)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Who handed an item on themselves (see [`reassign`]), inside the caller's transaction.
pub async fn handed_on_by(tx: &mut Tx, id: i64) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT handed_on_by FROM review_items WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.and_then(|(by,)| by))
}

/// A reviewer's undecided items in a campaign, `(id, user_email)`, locked for a hand-over on
/// PostgreSQL.
pub async fn undecided_of(
    tx: &mut Tx,
    campaign_id: i64,
    reviewer: &str,
) -> Result<Vec<(i64, Option<String>)>, sqlx::Error> {
    let lock = match tx.backend() {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    sqlx::query_as(&format!(
        "SELECT id, user_email FROM review_items WHERE campaign_id = $1 AND reviewer_email = $2 \
         AND decision IS NULL ORDER BY id{lock}"
    ))
    .bind(campaign_id)
    .bind(reviewer)
    .fetch_all(&mut **tx)
    .await
}

/// Hands the listed undecided items of `from` to `to`; returns the rows changed. `by_self`:
/// `from` hands on their own queue, and may take each item back.
pub async fn reassign_all(
    tx: &mut Tx,
    campaign_id: i64,
    from: &str,
    to: &str,
    ids: &[i64],
    by_self: bool,
) -> Result<u64, sqlx::Error> {
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    Ok(sqlx::query(&format!(
        "UPDATE review_items SET reviewer_email = $1, assigned_via = $4, handed_on_by = $5, \
         version = version + 1 WHERE campaign_id = $2 AND reviewer_email = $3 \
         AND decision IS NULL AND id IN ({})",
        ids.join(", ")
    ))
    .bind(to)
    .bind(campaign_id)
    .bind(from)
    .bind(Via::Reassigned.slug())
    .bind(by_self.then_some(from))
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

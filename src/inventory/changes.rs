//! The diff rows every sync and import writes (`sync_changes`).

use serde_json::Value;

use crate::{
    audit::chain::canonical_json,
    db::{lock_xact, LockKey, Tx},
};

/// One change against the previous successful sync of the same scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// `server`, `user` or `permission`.
    pub kind: &'static str,
    pub key: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// `{"name": …, "fields": [{"field", "before", "after"}…]}`.
    pub detail: Value,
}

/// Added, removed and changed counts.
pub fn counts(changes: &[Change]) -> (usize, usize, usize) {
    let count = |kind: &str| changes.iter().filter(|c| c.change == kind).count();
    (count("added"), count("removed"), count("changed"))
}

/// Writes the changes of one sync.
pub async fn save(tx: &mut Tx, sync_id: i64, changes: &[Change]) -> Result<(), sqlx::Error> {
    for change in changes {
        sqlx::query(
            "INSERT INTO sync_changes (sync_id, kind, item_key, change, detail) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sync_id)
        .bind(change.kind)
        .bind(&change.key)
        .bind(change.change)
        .bind(canonical_json(&change.detail))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Serialises inventory writers across processes until `tx` ends (see [`lock_xact`]).
pub async fn lock_inventory(tx: &mut Tx) -> Result<(), sqlx::Error> {
    lock_xact(tx, LockKey::Inventory).await
}

/// The last successful sync of a scope, in the order syncs were saved.
const PREVIOUS_SYNC: &str = "SELECT id FROM syncs WHERE status = 'succeeded' AND scope = $1 \
     AND id <> $2 ORDER BY finished_at DESC, id DESC LIMIT 1";

/// The snapshot of the last successful sync of `scope` (other than `sync_id`), read with
/// `select`, a query of `(key, data)` rows for `sync_id = $1`. Rows that no longer parse are
/// skipped, so they show as added.
pub async fn previous_snapshot<K, R>(
    tx: &mut Tx,
    scope: &str,
    sync_id: i64,
    select: &'static str,
) -> Result<std::collections::BTreeMap<K, R>, sqlx::Error>
where
    K: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + Ord + Send + Unpin,
    R: serde::de::DeserializeOwned,
{
    let previous: Option<(i64,)> = sqlx::query_as(PREVIOUS_SYNC)
        .bind(scope)
        .bind(sync_id)
        .fetch_optional(&mut **tx)
        .await?;
    let rows: Vec<(K, String)> = sqlx::query_as(select)
        .bind(previous.map_or(-1, |(id,)| id))
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(key, data)| serde_json::from_str(&data).ok().map(|r| (key, r)))
        .collect())
}

//! Snapshots that store what changed (`snapshot_versions`, migration 0021). A version is one
//! item of a scope (a server by its Postmark id, a user by email) as consecutive successful
//! syncs saw it, from the first sync that saw it to the first that did not. A sync writes a
//! version only for what it added or changed and closes the versions of what changed or went,
//! so an unchanged resync writes nothing here; the inventory as of any sync is the set of
//! versions alive at it, in the order syncs were saved.
//!
//! Retention: versions that ended more than the configured number of days ago are deleted,
//! except those alive at a sync a campaign was launched from, which stay with its evidence.

use std::{collections::BTreeMap, fmt::Display, str::FromStr};

use serde::{de::DeserializeOwned, Serialize};
use sqlx::AnyConnection;
use time::Duration;

use crate::{
    audit::chain::canonical_json,
    clock::{format_timestamp, Clock},
    db::{Db, Tx},
};

/// Whose snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Servers,
    Users,
}

impl Scope {
    /// The `scope` column value (also the `syncs.scope` of the syncs that write it).
    pub fn slug(self) -> &'static str {
        match self {
            Self::Servers => "servers",
            Self::Users => "users",
        }
    }
}

/// The current snapshot of a scope: what the last successful sync of it saw, by item key.
/// Rows that no longer parse (a record type that changed shape, a key of another type) are
/// left out, so the next diff shows them as added.
pub async fn current<K, R>(tx: &mut Tx, scope: Scope) -> Result<BTreeMap<K, R>, sqlx::Error>
where
    K: FromStr + Ord,
    R: DeserializeOwned,
{
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT item_key, data FROM snapshot_versions WHERE scope = $1 AND to_sync IS NULL",
    )
    .bind(scope.slug())
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(key, data)| Some((key.parse().ok()?, serde_json::from_str(&data).ok()?)))
        .collect())
}

/// Records sync `sync_id`'s view `now` against `previous` (what [`current`] returned in the
/// same transaction): closes the versions of items that went or changed, and opens one for
/// each item that is new or changed. Returns how many versions it wrote.
pub async fn record<K, R>(
    tx: &mut Tx,
    scope: Scope,
    sync_id: i64,
    previous: &BTreeMap<K, R>,
    now: &BTreeMap<K, R>,
) -> Result<usize, sqlx::Error>
where
    K: Display + Ord,
    R: Serialize + PartialEq,
{
    for key in previous.keys().filter(|key| !now.contains_key(*key)) {
        close(tx, scope, sync_id, &key.to_string()).await?;
    }
    // A changed item's version ends here; so does one that no longer parsed (and so is
    // absent from `previous`).
    let mut written = 0;
    for (key, record) in now.iter().filter(|(k, r)| previous.get(*k) != Some(r)) {
        let key = key.to_string();
        close(tx, scope, sync_id, &key).await?;
        let data = canonical_json(&serde_json::to_value(record).unwrap_or_default());
        sqlx::query(
            "INSERT INTO snapshot_versions (scope, item_key, from_sync, to_sync, data) \
             VALUES ($1, $2, $3, NULL, $4)",
        )
        .bind(scope.slug())
        .bind(key)
        .bind(sync_id)
        .bind(data)
        .execute(&mut **tx)
        .await?;
        written += 1;
    }
    Ok(written)
}

/// Ends an item's current version (if any) at `sync_id`.
async fn close(tx: &mut Tx, scope: Scope, sync_id: i64, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE snapshot_versions SET to_sync = $1 \
         WHERE scope = $2 AND item_key = $3 AND to_sync IS NULL",
    )
    .bind(sync_id)
    .bind(scope.slug())
    .bind(key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Version `v` (its first sync `f`, the sync that ended it `t`) was alive at sync `s`: `s` was
/// saved at or after `f` and before `t`, in the order syncs were saved (as diffs compare them).
const ALIVE_AT: &str = "(f.finished_at < s.finished_at \
     OR (f.finished_at = s.finished_at AND f.id <= s.id)) \
     AND (v.to_sync IS NULL OR t.finished_at > s.finished_at \
     OR (t.finished_at = s.finished_at AND t.id > s.id))";

/// The snapshot of a scope as of a successful sync of it (`None`: no such sync), by item key,
/// as canonical JSON.
pub async fn at(
    conn: &mut AnyConnection,
    scope: Scope,
    sync_id: i64,
) -> Result<Option<BTreeMap<String, String>>, sqlx::Error> {
    let sync: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM syncs WHERE id = $1 AND scope = $2 AND status = 'succeeded'",
    )
    .bind(sync_id)
    .bind(scope.slug())
    .fetch_optional(&mut *conn)
    .await?;
    if sync.is_none() {
        return Ok(None);
    }
    let rows: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT v.item_key, v.data FROM snapshot_versions v \
         JOIN syncs s ON s.id = $1 \
         JOIN syncs f ON f.id = v.from_sync \
         LEFT JOIN syncs t ON t.id = v.to_sync \
         WHERE v.scope = $2 AND {ALIVE_AT}"
    ))
    .bind(sync_id)
    .bind(scope.slug())
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(rows.into_iter().collect()))
}

/// Deletes the versions that ended before `now - retention_days`, except those alive at a
/// sync a campaign was launched from. Returns how many went.
pub async fn prune(db: &Db, clock: &dyn Clock, retention_days: u32) -> Result<u64, sqlx::Error> {
    let cutoff = format_timestamp(clock.now() - Duration::days(i64::from(retention_days)));
    let mut tx = db.begin().await?;
    // Inventory writers close versions; this must not race one.
    super::changes::lock_inventory(&mut tx).await?;
    let deleted = sqlx::query(&format!(
        "DELETE FROM snapshot_versions AS v WHERE v.to_sync IN \
         (SELECT id FROM syncs WHERE finished_at < $1) \
         AND NOT EXISTS (SELECT 1 FROM campaigns c \
           JOIN syncs s ON s.id = CASE WHEN v.scope = 'servers' THEN c.servers_sync_id \
                                       ELSE c.users_sync_id END \
           JOIN syncs f ON f.id = v.from_sync \
           JOIN syncs t ON t.id = v.to_sync \
           WHERE {ALIVE_AT})"
    ))
    .bind(cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    if deleted > 0 {
        tracing::info!(
            versions = deleted,
            retention_days,
            "old inventory snapshots pruned"
        );
    }
    Ok(deleted)
}

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

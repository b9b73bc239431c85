//! The `signing_keys` table: every public key the app has signed with, the current one with
//! `retired_at` NULL.

use anyhow::bail;
use serde_json::json;

use super::Signer;
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::{lock_xact, Db, LockKey, Tx},
};

/// What the database already holds that a key signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub keys: i64,
    pub checkpoints: i64,
}

/// A registered public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub id: i64,
    pub public_key_pem: String,
    pub fingerprint: String,
    pub created_at: String,
    pub retired_at: Option<String>,
}

pub async fn known(db: &Db) -> Result<Known, sqlx::Error> {
    let (keys,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM signing_keys")
        .fetch_one(db.pool())
        .await?;
    let (checkpoints,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_checkpoints")
        .fetch_one(db.pool())
        .await?;
    Ok(Known { keys, checkpoints })
}

type KeyRow = (i64, String, String, String, Option<String>);

fn from_row((id, public_key_pem, fingerprint, created_at, retired_at): KeyRow) -> PublicKey {
    PublicKey {
        id,
        public_key_pem,
        fingerprint,
        created_at,
        retired_at,
    }
}

/// Every key, newest first.
pub async fn all(db: &Db) -> Result<Vec<PublicKey>, sqlx::Error> {
    let rows: Vec<KeyRow> = sqlx::query_as(
        "SELECT id, public_key_pem, fingerprint, created_at, retired_at FROM signing_keys \
         ORDER BY id DESC",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// The key with this fingerprint, current or retired.
pub async fn by_fingerprint(db: &Db, fingerprint: &str) -> Result<Option<PublicKey>, sqlx::Error> {
    let row: Option<KeyRow> = sqlx::query_as(
        "SELECT id, public_key_pem, fingerprint, created_at, retired_at FROM signing_keys \
         WHERE fingerprint = $1",
    )
    .bind(fingerprint)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(from_row))
}

/// Id of `signer`'s key if it is the current one, inside `tx`.
pub async fn current_id(tx: &mut Tx, signer: &Signer) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM signing_keys WHERE fingerprint = $1 AND retired_at IS NULL")
            .bind(signer.fingerprint())
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|(id,)| id))
}

/// Makes `signer`'s key the current one: a key the table does not know yet is added (retiring
/// the one before, audited as `signing.key_registered`); a key that was retired is refused,
/// since it was replaced on purpose.
pub async fn register(db: &Db, clock: &dyn Clock, signer: &Signer) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    // Two processes starting with the same new key must not both insert it.
    lock_xact(&mut tx, LockKey::Audit).await?;
    let row: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, retired_at FROM signing_keys WHERE fingerprint = $1")
            .bind(signer.fingerprint())
            .fetch_optional(&mut *tx)
            .await?;
    match row {
        Some((_, None)) => return Ok(tx.rollback().await?),
        Some((_, Some(retired_at))) => bail!(
            "the configured signing key (fingerprint {}) was retired at {retired_at}; \
             configure the current key instead",
            signer.fingerprint()
        ),
        None => {}
    }
    let retired = insert_current(&mut tx, clock, signer).await?;
    // The first key of a new database is a fact of installation (its row has created_at);
    // a key that replaces another one (a new PAR_SIGNING_KEY) is a change worth an event.
    if !retired.is_empty() {
        audit::record(
            &mut tx,
            clock,
            &Actor::system("signing"),
            &Event::new(
                "signing.key_registered",
                format!("signing_key:{}", signer.fingerprint()),
            )
            .details(json!({ "fingerprint": signer.fingerprint(), "retired": retired })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Retires the current key(s) and inserts `signer`'s as the current one; returns the
/// fingerprints retired.
pub(super) async fn insert_current(
    tx: &mut Tx,
    clock: &dyn Clock,
    signer: &Signer,
) -> Result<Vec<String>, sqlx::Error> {
    let now = format_timestamp(clock.now());
    let retired: Vec<(String,)> =
        sqlx::query_as("SELECT fingerprint FROM signing_keys WHERE retired_at IS NULL")
            .fetch_all(&mut **tx)
            .await?;
    sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
        .bind(&now)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO signing_keys (public_key_pem, fingerprint, created_at) VALUES ($1, $2, $3)",
    )
    .bind(signer.public_key_pem())
    .bind(signer.fingerprint())
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    Ok(retired.into_iter().map(|(f,)| f).collect())
}

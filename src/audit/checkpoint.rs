//! Signed checkpoints of the audit head.
//!
//! A checkpoint is one line of ASCII, fields in this order, separated by single spaces:
//!
//! ```text
//! par-audit-checkpoint v1 count=<events> seq=<last seq> hash=<last hash, 64 hex> at=<UTC time> key=<key fingerprint, 64 hex>
//! ```
//!
//! An empty log has `count=0 seq=0` and the genesis hash. The signed bytes are that line and
//! one LF (the exact contents of `checkpoint.txt`); the signature is pure Ed25519 (64 bytes,
//! no pre-hash). The printed and downloaded form adds a second line `signature=<base64>`.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use serde_json::json;

use super::{record, Actor, Event, GENESIS_HASH};
use crate::{
    clock::{format_timestamp, Clock},
    db::{lock_xact, Db, LockKey, Tx},
    signing::{store, Signer},
};

/// The first words of every checkpoint line; the version changes if the format ever does.
pub const PREFIX: &str = "par-audit-checkpoint v1";

/// The signed facts about the audit head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointBody {
    pub count: i64,
    pub seq: i64,
    pub hash: String,
    pub at: String,
    /// Fingerprint of the signing key.
    pub key: String,
}

impl CheckpointBody {
    /// The canonical line, without a newline.
    pub fn line(&self) -> String {
        format!(
            "{PREFIX} count={} seq={} hash={} at={} key={}",
            self.count, self.seq, self.hash, self.at, self.key
        )
    }

    /// The bytes the signature covers: the line and one LF.
    pub fn signed_bytes(&self) -> Vec<u8> {
        format!("{}\n", self.line()).into_bytes()
    }

    /// Reads a line strictly: only the canonical form of some body is accepted.
    pub fn parse(line: &str) -> Result<Self, String> {
        let rest = line
            .strip_prefix(PREFIX)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or_else(|| format!("does not start with `{PREFIX} `"))?;
        let mut fields = rest.split(' ');
        let mut next = |name: &str| {
            fields
                .next()
                .and_then(|f| f.strip_prefix(name))
                .and_then(|f| f.strip_prefix('='))
                .map(str::to_string)
                .ok_or_else(|| format!("field `{name}=` missing or out of order"))
        };
        let number = |name: &str, v: String| {
            v.parse::<i64>()
                .map_err(|_| format!("`{name}` is not a number"))
        };
        let count = number("count", next("count")?)?;
        let seq = number("seq", next("seq")?)?;
        let body = Self {
            count,
            seq,
            hash: next("hash")?,
            at: next("at")?,
            key: next("key")?,
        };
        if body.line() != line {
            return Err("is not in canonical form".to_string());
        }
        Ok(body)
    }
}

/// A stored checkpoint, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub id: i64,
    pub reason: String,
    pub created_at: String,
    /// The signed line, as stored.
    pub line: String,
    /// Base64 of the signature, as stored.
    pub signature: String,
}

impl Checkpoint {
    /// The form printed by `audit checkpoint` and downloaded from the Audit page, which
    /// `audit verify --checkpoint` reads back.
    pub fn text(&self) -> String {
        format!("{}\nsignature={}\n", self.line, self.signature)
    }
}

/// A checkpoint read from its text form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptCheckpoint {
    pub body: CheckpointBody,
    pub signature: Vec<u8>,
}

impl KeptCheckpoint {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let line = lines.next().ok_or("the file is empty")?;
        let body = CheckpointBody::parse(line.trim_end()).map_err(|e| format!("first line {e}"))?;
        let signature = lines
            .next()
            .and_then(|l| l.trim().strip_prefix("signature="))
            .ok_or("the second line must be `signature=<base64>`")?;
        let signature = decode_signature(signature)?;
        Ok(Self { body, signature })
    }
}

/// Base64 of 64 bytes.
pub fn decode_signature(text: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text.trim())
        .ok()
        .filter(|bytes| bytes.len() == 64)
        .ok_or_else(|| "the signature is not base64 of 64 bytes".to_string())
}

/// Why a checkpoint was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The button on the Audit page.
    Manual,
    /// The daily (`PAR_CHECKPOINT_INTERVAL`) schedule.
    Schedule,
    /// `audit checkpoint`.
    Cli,
    /// The demo's start.
    Demo,
    /// A campaign's sign-off.
    SignOff,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Manual => "manual",
            Reason::Schedule => "schedule",
            Reason::Cli => "cli",
            Reason::Demo => "demo",
            Reason::SignOff => "sign_off",
        }
    }
}

/// Why no checkpoint was recorded.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error(
        "the signing key this process holds was retired (rotated) since it started; restart it \
         to sign with the current key"
    )]
    KeyRetired,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Signs the current audit head and stores the checkpoint; then records `audit.checkpoint`.
///
/// Both happen in one transaction under the audit lock, so the head cannot move in between:
/// the checkpoint covers every event before its own `audit.checkpoint` event, which is the
/// first event after it (and is covered by the next checkpoint).
#[tracing::instrument(skip_all, fields(reason = reason.as_str()))]
pub async fn record_checkpoint(
    db: &Db,
    clock: &dyn Clock,
    signer: &Signer,
    actor: &Actor,
    reason: Reason,
) -> Result<Checkpoint, CheckpointError> {
    let mut tx = db.begin().await?;
    let checkpoint = record_checkpoint_in(&mut tx, clock, signer, actor, reason).await?;
    tx.commit().await?;
    Ok(checkpoint)
}

/// [`record_checkpoint`] inside the caller's transaction (a sign-off signs the head it leaves).
pub async fn record_checkpoint_in(
    tx: &mut Tx,
    clock: &dyn Clock,
    signer: &Signer,
    actor: &Actor,
    reason: Reason,
) -> Result<Checkpoint, CheckpointError> {
    lock_xact(tx, LockKey::Audit).await?;
    let key_id = store::current_id(tx, signer)
        .await?
        .ok_or(CheckpointError::KeyRetired)?;
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_events")
        .fetch_one(&mut **tx)
        .await?;
    let (seq, hash) = head.unwrap_or((0, GENESIS_HASH.to_string()));
    let created_at = format_timestamp(clock.now());
    let body = CheckpointBody {
        count,
        seq,
        hash,
        at: created_at.clone(),
        key: signer.fingerprint().to_string(),
    };
    let signature = STANDARD.encode(signer.sign(&body.signed_bytes()));
    let line = body.line();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO audit_checkpoints \
         (key_id, event_count, last_seq, last_hash, created_at, reason, body, signature) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(key_id)
    .bind(body.count)
    .bind(body.seq)
    .bind(&body.hash)
    .bind(&created_at)
    .bind(reason.as_str())
    .bind(&line)
    .bind(&signature)
    .fetch_one(&mut **tx)
    .await?;
    record(
        tx,
        clock,
        actor,
        &Event::new("audit.checkpoint", format!("audit_checkpoint:{id}")).details(json!({
            "count": body.count,
            "seq": body.seq,
            "hash": body.hash,
            "key": body.key,
            "reason": reason.as_str(),
        })),
    )
    .await?;
    Ok(Checkpoint {
        id,
        reason: reason.as_str().to_string(),
        created_at,
        line,
        signature,
    })
}

type Row = (i64, String, String, String, String);

fn from_row((id, reason, created_at, line, signature): Row) -> Checkpoint {
    Checkpoint {
        id,
        reason,
        created_at,
        line,
        signature,
    }
}

const COLUMNS: &str = "id, CAST(reason AS TEXT), CAST(created_at AS TEXT), CAST(body AS TEXT), \
                       CAST(signature AS TEXT)";

/// Every stored checkpoint, oldest first.
pub async fn all(db: &Db) -> Result<Vec<Checkpoint>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_checkpoints ORDER BY id"
    ))
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// The newest `limit` checkpoints, newest first.
pub async fn latest(db: &Db, limit: i64) -> Result<Vec<Checkpoint>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_checkpoints ORDER BY id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<Checkpoint>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_checkpoints WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(from_row))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> CheckpointBody {
        CheckpointBody {
            count: 3,
            seq: 3,
            hash: "ab".repeat(32),
            at: "2026-11-28T09:00:00.000000Z".to_string(),
            key: "cd".repeat(32),
        }
    }

    #[test]
    fn the_line_is_documented_and_reads_back() {
        let line = body().line();
        assert_eq!(
            line,
            format!(
                "par-audit-checkpoint v1 count=3 seq=3 hash={} at=2026-11-28T09:00:00.000000Z key={}",
                "ab".repeat(32),
                "cd".repeat(32)
            )
        );
        assert_eq!(CheckpointBody::parse(&line).unwrap(), body());
        assert_eq!(body().signed_bytes(), format!("{line}\n").into_bytes());
    }

    #[test]
    fn only_the_canonical_form_is_read() {
        let line = body().line();
        for bad in [
            line.replace("count=3 seq=3", "seq=3 count=3"),
            line.replace("count=3", "count=03"),
            format!("{line} extra=1"),
            line.replace(" v1 ", " v2 "),
            line.replace("  ", " ").replace(" seq", "  seq"),
        ] {
            assert!(CheckpointBody::parse(&bad).is_err(), "{bad}");
        }
    }
}

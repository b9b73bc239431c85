//! Walking the chain from the first event to the head.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

use futures::TryStreamExt as _;
use serde_json::Value;

use super::{
    chain::{event_hash, HashedFields},
    GENESIS_HASH,
};
use crate::db::Db;

/// An intact chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub events: u64,
    /// Hash of the last event, `None` for an empty log.
    pub head: Option<String>,
}

/// The first place where the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// `expected` is missing: the next stored event is `found` (a deleted or renumbered row).
    Missing { expected: i64, found: i64 },
    /// The event's `prev_hash` is not the hash of the event before it.
    Unlinked { seq: i64, action: String },
    /// The event's content no longer matches its hash (edited or moved).
    Altered { seq: i64, action: String },
    /// The stored details are not valid JSON.
    Unreadable { seq: i64, reason: String },
}

impl ChainBreak {
    /// Sequence number of the event the problem was found at.
    pub fn seq(&self) -> i64 {
        match self {
            ChainBreak::Missing { found, .. } => *found,
            ChainBreak::Unlinked { seq, .. }
            | ChainBreak::Altered { seq, .. }
            | ChainBreak::Unreadable { seq, .. } => *seq,
        }
    }
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainBreak::Missing { expected, found } => write!(
                f,
                "event #{expected} is missing: the next stored event is #{found} (deleted or renumbered)"
            ),
            ChainBreak::Unlinked { seq, action } => write!(
                f,
                "event #{seq} ({action}) does not link to the event before it (prev_hash differs)"
            ),
            ChainBreak::Altered { seq, action } => write!(
                f,
                "event #{seq} ({action}) does not match its hash (edited or moved)"
            ),
            ChainBreak::Unreadable { seq, reason } => {
                write!(f, "event #{seq} has unreadable details: {reason}")
            }
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    occurred_at: String,
    actor_kind: String,
    actor_issuer: Option<String>,
    actor_sub: Option<String>,
    actor_email: Option<String>,
    action: String,
    subject: String,
    details: String,
    prev_hash: String,
    hash: String,
}

/// Recomputes every hash in sequence order with constant memory.
///
/// The outer error is a database failure; the inner one a broken chain.
pub async fn verify(db: &Db) -> Result<Result<ChainReport, ChainBreak>, sqlx::Error> {
    Ok(walk(db, &BTreeSet::new()).await?.map(|(report, _)| report))
}

/// [`verify`], also returning the hashes of the events at `seqs` that exist (the positions
/// checkpoints signed).
pub async fn walk(
    db: &Db,
    seqs: &BTreeSet<i64>,
) -> Result<Result<(ChainReport, BTreeMap<i64, String>), ChainBreak>, sqlx::Error> {
    // Casts keep a row whose value was swapped for another type (a BLOB in SQLite) readable,
    // so it is reported by number instead of failing the whole read.
    let mut rows = sqlx::query_as::<_, Row>(
        "SELECT CAST(seq AS BIGINT) AS seq, CAST(occurred_at AS TEXT) AS occurred_at, \
         CAST(actor_kind AS TEXT) AS actor_kind, CAST(actor_issuer AS TEXT) AS actor_issuer, \
         CAST(actor_sub AS TEXT) AS actor_sub, CAST(actor_email AS TEXT) AS actor_email, \
         CAST(action AS TEXT) AS action, CAST(subject AS TEXT) AS subject, \
         CAST(details AS TEXT) AS details, CAST(prev_hash AS TEXT) AS prev_hash, \
         CAST(hash AS TEXT) AS hash FROM audit_events ORDER BY seq",
    )
    .fetch(db.pool());

    let mut expected_seq = 1;
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut events = 0;
    let mut hashes = BTreeMap::new();
    while let Some(row) = rows.try_next().await? {
        if let Err(problem) = check(&row, expected_seq, &prev_hash) {
            return Ok(Err(problem));
        }
        expected_seq = row.seq + 1;
        if seqs.contains(&row.seq) {
            hashes.insert(row.seq, row.hash.clone());
        }
        prev_hash = row.hash;
        events += 1;
    }
    Ok(Ok((
        ChainReport {
            events,
            head: (events > 0).then_some(prev_hash),
        },
        hashes,
    )))
}

fn check(row: &Row, expected_seq: i64, prev_hash: &str) -> Result<(), ChainBreak> {
    if row.seq != expected_seq {
        return Err(ChainBreak::Missing {
            expected: expected_seq,
            found: row.seq,
        });
    }
    let details: Value =
        serde_json::from_str(&row.details).map_err(|e| ChainBreak::Unreadable {
            seq: row.seq,
            reason: e.to_string(),
        })?;
    let fields = HashedFields {
        seq: row.seq,
        occurred_at: &row.occurred_at,
        actor_kind: &row.actor_kind,
        actor_issuer: row.actor_issuer.as_deref(),
        actor_sub: row.actor_sub.as_deref(),
        actor_email: row.actor_email.as_deref(),
        action: &row.action,
        subject: &row.subject,
        details: &details,
        prev_hash: &row.prev_hash,
    };
    if event_hash(&fields) != row.hash {
        return Err(ChainBreak::Altered {
            seq: row.seq,
            action: row.action.clone(),
        });
    }
    if row.prev_hash != prev_hash {
        return Err(ChainBreak::Unlinked {
            seq: row.seq,
            action: row.action.clone(),
        });
    }
    Ok(())
}

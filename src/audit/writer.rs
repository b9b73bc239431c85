//! Appending events to the chain.

use serde_json::Value;

use super::{
    chain::{canonical_json, event_hash, HashedFields},
    Actor, Event, GENESIS_HASH,
};
use crate::{
    clock::{format_timestamp, Clock},
    db::{lock_xact, LockKey, Tx},
};

/// Position of a newly written event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub seq: i64,
    pub hash: String,
}

/// Appends `event` to the audit chain inside `tx`.
///
/// The chain stays linear under concurrency: writers queue on [`LockKey::Audit`] (see
/// [`lock_xact`]). The unique primary key on `seq` is the last line of defence.
pub async fn record(
    tx: &mut Tx,
    clock: &dyn Clock,
    actor: &Actor,
    event: &Event,
) -> Result<Recorded, sqlx::Error> {
    lock_xact(tx, LockKey::Audit).await?;

    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let (seq, prev_hash) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS_HASH.to_string()),
    };

    // Read the clock after taking the lock so times never go backwards along the chain.
    let occurred_at = format_timestamp(clock.now());
    let (issuer, sub, email) = match actor {
        Actor::Person {
            issuer,
            subject,
            email,
        } => (
            Some(issuer.as_str()),
            Some(subject.as_str()),
            Some(email.as_str()),
        ),
        Actor::System { component } => (None, Some(component.as_str()), None),
    };
    let details: &Value = &event.details;
    let fields = HashedFields {
        seq,
        occurred_at: &occurred_at,
        actor_kind: actor.kind(),
        actor_issuer: issuer,
        actor_sub: sub,
        actor_email: email,
        action: &event.action,
        subject: &event.subject,
        details,
        prev_hash: &prev_hash,
    };
    let hash = event_hash(&fields);

    sqlx::query(
        "INSERT INTO audit_events \
         (seq, occurred_at, actor_kind, actor_issuer, actor_sub, actor_email, action, subject, \
          details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(seq)
    .bind(&occurred_at)
    .bind(actor.kind())
    .bind(issuer)
    .bind(sub)
    .bind(email)
    .bind(&event.action)
    .bind(&event.subject)
    .bind(canonical_json(details))
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;

    Ok(Recorded { seq, hash })
}

//! Server functions for reading and checking the audit log (admins and auditors).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Events per page of the audit log.
pub const PAGE_SIZE: i64 = 50;

/// One event as the audit page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventView {
    pub seq: i64,
    pub occurred_at: String,
    /// The person's email, or `system:<component>`.
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// Canonical JSON.
    pub details: String,
    pub hash: String,
}

/// A page of events, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogPage {
    pub events: Vec<AuditEventView>,
    /// Pass as `before` to get the next (older) page.
    pub older: Option<i64>,
    pub total: i64,
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStatus {
    pub intact: bool,
    pub events: u64,
    pub head: Option<String>,
    pub problem: Option<String>,
}

/// Events with `seq < before` (all when `None`), newest first.
#[server(prefix = "/api", endpoint = "audit_events")]
pub async fn audit_events(before: Option<i64>) -> Result<AuditLogPage, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(load_page(&state.db, before).await.map_err(AppError::from))
}

#[cfg(feature = "ssr")]
async fn load_page(db: &crate::db::Db, before: Option<i64>) -> Result<AuditLogPage, sqlx::Error> {
    type Row = (
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        String,
        String,
        String,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, occurred_at, actor_kind, actor_sub, actor_email, action, subject, \
         CAST(details AS TEXT), hash FROM audit_events WHERE seq < $1 ORDER BY seq DESC LIMIT $2",
    )
    .bind(before.unwrap_or(i64::MAX))
    .bind(PAGE_SIZE)
    .fetch_all(db.pool())
    .await?;
    let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_events")
        .fetch_one(db.pool())
        .await?;
    let events: Vec<AuditEventView> = rows
        .into_iter()
        .map(
            |(seq, occurred_at, kind, sub, email, action, subject, details, hash)| AuditEventView {
                seq,
                occurred_at,
                actor: match (kind.as_str(), email) {
                    ("person", Some(email)) => email,
                    _ => format!("system:{}", sub.unwrap_or_default()),
                },
                action,
                subject,
                details,
                hash,
            },
        )
        .collect();
    let older = events
        .last()
        .filter(|e| e.seq > 1 && events.len() as i64 == PAGE_SIZE)
        .map(|e| e.seq);
    Ok(AuditLogPage {
        events,
        older,
        total,
    })
}

/// Walks the whole chain, as `postmark-access-review audit verify` does.
#[server(prefix = "/api", endpoint = "audit_verify")]
pub async fn verify_chain() -> Result<ChainStatus, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    let outcome = respond(super::verify(&state.db).await.map_err(AppError::from))?;
    Ok(match outcome {
        Ok(report) => ChainStatus {
            intact: true,
            events: report.events,
            head: report.head,
            problem: None,
        },
        Err(problem) => ChainStatus {
            intact: false,
            events: 0,
            head: None,
            problem: Some(problem.to_string()),
        },
    })
}

//! Server functions for reading and checking the audit log (admins and auditors).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::search::{AuditLogPage, AuditQuery};
use crate::error::AppError;

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStatus {
    pub intact: bool,
    pub events: u64,
    pub head: Option<String>,
    /// Signed checkpoints the chain was checked against.
    pub checkpoints: u64,
    pub problem: Option<String>,
}

/// One page of the events matching `query`, newest first (admins and auditors).
///
/// The filter travels as JSON: an all-empty filter would otherwise be an empty form body,
/// which the server cannot read as the `query` argument (seen after client-side navigation).
#[server(prefix = "/api", endpoint = "audit_events", input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn audit_events(query: AuditQuery) -> Result<AuditLogPage, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let search = respond(super::search::Search::parse(&query).map_err(AppError::Validation))?;
    let state = crate::state::app_state()?;
    respond(
        super::search_db::page(&state.db, &search)
            .await
            .map_err(AppError::from),
    )
}

/// The distinct actions in the log, for the action filter's suggestions.
#[server(prefix = "/api", endpoint = "audit_actions", output = crate::codec::TextJson)]
pub async fn audit_actions() -> Result<Vec<String>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(
        super::search_db::actions(&state.db)
            .await
            .map_err(AppError::from),
    )
}

/// Walks the whole chain and checks it against every stored checkpoint, as
/// `postmark-access-review audit verify` does.
#[server(prefix = "/api", endpoint = "audit_verify", output = crate::codec::TextJson)]
pub async fn verify_chain() -> Result<ChainStatus, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    let outcome = respond(
        super::verify_all(&state.db, None)
            .await
            .map_err(AppError::from),
    )?;
    Ok(match outcome {
        Ok(report) => ChainStatus {
            intact: true,
            events: report.chain.events,
            head: report.chain.head,
            checkpoints: u64::try_from(report.checkpoints).unwrap_or(u64::MAX),
            problem: None,
        },
        Err(problem) => ChainStatus {
            intact: false,
            events: 0,
            head: None,
            checkpoints: 0,
            problem: Some(problem.to_string()),
        },
    })
}

/// A signed checkpoint as the audit page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointView {
    pub id: i64,
    pub created_at: String,
    /// manual, schedule, cli, demo or sign_off.
    pub reason: String,
    /// The signed line (see the README for its format).
    pub line: String,
    /// Base64 of the Ed25519 signature.
    pub signature: String,
}

/// The current public key and the latest checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningView {
    pub fingerprint: String,
    pub public_key_pem: String,
    /// Newest first.
    pub checkpoints: Vec<CheckpointView>,
}

/// How many checkpoints the audit page lists.
pub const CHECKPOINTS_SHOWN: i64 = 10;

#[cfg(feature = "ssr")]
fn checkpoint_view(c: super::Checkpoint) -> CheckpointView {
    CheckpointView {
        id: c.id,
        created_at: c.created_at,
        reason: c.reason,
        line: c.line,
        signature: c.signature,
    }
}

/// The signing key's public half and the latest checkpoints (admins and auditors).
#[server(prefix = "/api", endpoint = "audit_signing", output = crate::codec::TextJson)]
pub async fn audit_signing() -> Result<SigningView, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    let latest = respond(
        super::checkpoint::latest(&state.db, CHECKPOINTS_SHOWN)
            .await
            .map_err(AppError::from),
    )?;
    Ok(SigningView {
        fingerprint: state.signer.fingerprint().to_string(),
        public_key_pem: state.signer.public_key_pem().to_string(),
        checkpoints: latest.into_iter().map(checkpoint_view).collect(),
    })
}

/// Signs a checkpoint of the audit head now (admins).
#[server(prefix = "/api", endpoint = "audit_record_checkpoint", output = crate::codec::TextJson)]
pub async fn record_checkpoint_now() -> Result<CheckpointView, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let recorded = super::record_checkpoint(
        &state.db,
        state.clock.as_ref(),
        &state.signer,
        &user.actor(),
        super::Reason::Manual,
    )
    .await
    .map_err(|error| match error {
        super::checkpoint::CheckpointError::KeyRetired => AppError::Conflict(error.to_string()),
        super::checkpoint::CheckpointError::Database(e) => AppError::from(e),
    });
    respond(recorded).map(checkpoint_view)
}

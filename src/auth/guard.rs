//! The one authorization check every server function and protected handler calls first, and
//! the note a refusal leaves for the log and the audit trail (see `server::refusals`).

use std::sync::{Arc, OnceLock};

use leptos::prelude::*;

use super::{session::SessionUser, Role};
use crate::error::AppError;

/// What a caller must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone signed in.
    SignedIn,
    /// An admin.
    Admin,
    /// An admin or an auditor (read-only access to evidence).
    AdminOrAuditor,
    /// Someone who carries out manual revocations: an admin or a person listed in
    /// `PAR_FULFILMENT_EMAILS`.
    Fulfiller,
    /// Someone who may read fulfilment tasks: a [`Need::Fulfiller`] or an auditor.
    FulfilmentReader,
}

impl Need {
    /// What the caller lacked, for the log line and the audit event of a refusal.
    pub fn missing(self) -> &'static str {
        match self {
            Need::SignedIn => "not signed in",
            Need::Admin => "needs the admin role",
            Need::AdminOrAuditor => "needs the admin or auditor role",
            Need::Fulfiller => "needs the admin role or a place on the fulfilment list",
            Need::FulfilmentReader => {
                "needs the admin or auditor role or a place on the fulfilment list"
            }
        }
    }
}

/// Why a request was refused, noted by whoever refused it (this guard, the Origin check, a
/// review link) for the middleware that logs and audits every 401 and 403. The first note
/// counts.
#[derive(Debug, Clone, Default)]
pub struct Refusal(Arc<OnceLock<String>>);

impl Refusal {
    pub fn note(&self, why: impl Into<String>) {
        let _ = self.0.set(why.into());
    }

    pub fn reason(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

/// In a refusal's response: the refusing code wrote its own audit event (this is the reason),
/// so the refusal is logged but not audited twice.
#[derive(Debug, Clone)]
pub struct AlreadyAudited(pub String);

/// Notes why the current request is refused, from a server function or a page (the request
/// is in the Leptos context).
pub fn note_refusal(why: impl Into<String>) {
    if let Some(refusal) = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Refusal>().cloned())
    {
        refusal.note(why);
    }
}

/// Decides for a (possibly anonymous) caller: 401 without a session, 403 without the role.
pub fn check(user: Option<&SessionUser>, need: Need) -> Result<SessionUser, AppError> {
    let user = user.ok_or(AppError::Unauthorized)?;
    let allowed = match need {
        Need::SignedIn => true,
        Need::Admin => user.roles.contains(&Role::Admin),
        Need::AdminOrAuditor => {
            user.roles.contains(&Role::Admin) || user.roles.contains(&Role::Auditor)
        }
        Need::Fulfiller => {
            user.roles.contains(&Role::Admin) || user.roles.contains(&Role::Fulfilment)
        }
        Need::FulfilmentReader => [Role::Admin, Role::Auditor, Role::Fulfilment]
            .iter()
            .any(|role| user.roles.contains(role)),
    };
    if allowed {
        Ok(user.clone())
    } else {
        Err(AppError::Forbidden)
    }
}

/// For server functions: checks the caller of the current request and, on refusal, sets the
/// HTTP status (401 or 403) of the response.
pub fn require(need: Need) -> Result<SessionUser, AppError> {
    let user = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SessionUser>().cloned());
    check(user.as_ref(), need).inspect_err(|error| {
        note_refusal(match error {
            AppError::Unauthorized => Need::SignedIn.missing(),
            _ => need.missing(),
        });
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(error.status());
        }
    })
}

/// Runs a server function body and maps its error status onto the response.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    result.inspect_err(|error| {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(error.status());
        }
    })
}

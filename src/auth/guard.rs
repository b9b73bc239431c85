//! The one authorization check every server function and protected handler calls first.

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

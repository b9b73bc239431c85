//! One error type for server functions and handlers.
//!
//! What reaches a client is only the variant and a message meant for users: internal failures
//! are logged once, with their cause chain, and cross the wire as a generic message.

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("please sign in")]
    Unauthorized,
    #[error("you do not have access to this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Conflict(String),
    /// Refused until the person confirms: the message asks the question (handing items to an
    /// address nobody here knows, say); the form asks it and sends the request again, confirmed.
    #[error("{0}")]
    NeedsConfirmation(String),
    #[error("something went wrong on our side; the error has been logged")]
    Internal,
    /// The request never reached the function, or its answer could not be read.
    #[error("the server could not be reached: {0}")]
    Transport(String),
}

impl AppError {
    /// Logs an internal failure with its causes and returns the generic variant.
    #[cfg(feature = "ssr")]
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        tracing::error!(error = format!("{error:#}"), "internal error");
        AppError::Internal
    }

    /// HTTP status for this error.
    #[cfg(feature = "ssr")]
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::NeedsConfirmation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Transport(_) => StatusCode::BAD_REQUEST,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        // A write the sign-off triggers refused: a conflict the person can understand, on
        // whichever path it came (the paths that check first say the same).
        let frozen = error
            .as_database_error()
            .is_some_and(|e| e.message().contains(crate::signoff::TRIGGER_MARKER));
        if frozen {
            return AppError::Conflict(crate::signoff::FROZEN.to_string());
        }
        AppError::internal(error)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Server-side failures inside the framework: keep details out of the response.
            ServerFnErrorErr::ServerError(_) | ServerFnErrorErr::MiddlewareError(_) => {
                AppError::Internal
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        (self.status(), self.to_string()).into_response()
    }
}

//! Liveness and readiness probes.

use std::time::Duration;

use axum::{extract::State, http::StatusCode, response::IntoResponse};

use crate::state::AppState;

/// `GET /healthz`: the process is up and answering.
pub async fn live() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

/// `GET /readyz`: the database answers and the process is not stopping; a load balancer
/// should not route here otherwise.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    if state.draining.is_draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, "draining\n");
    }
    match state.db.ping(Duration::from_secs(2)).await {
        Ok(()) => (StatusCode::OK, "ready\n"),
        Err(error) => {
            tracing::warn!(error = format!("{error:#}"), "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n")
        }
    }
}

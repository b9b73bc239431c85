//! Liveness and readiness probes.

use std::time::Duration;

use axum::{extract::State, http::StatusCode, response::IntoResponse};

use crate::db::Db;

/// `GET /healthz`: the process is up and answering.
pub async fn live() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

/// `GET /readyz`: the database answers; a load balancer should not route here otherwise.
pub async fn ready(State(db): State<Db>) -> impl IntoResponse {
    match db.ping(Duration::from_secs(2)).await {
        Ok(()) => (StatusCode::OK, "ready\n"),
        Err(error) => {
            tracing::warn!(error = format!("{error:#}"), "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n")
        }
    }
}

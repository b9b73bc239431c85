//! Status codes for server-function requests the framework itself refused. Leptos answers a
//! request whose arguments cannot be read (a missing field, an unknown value) with 500, as if
//! the server had failed; it is the caller's mistake, so it becomes 400 with the same message.

use axum::{
    body::{to_bytes, Body},
    extract::Request,
    http::StatusCode,
    middleware::Next,
    response::Response,
};

use crate::error::AppError;

/// Largest error body read back; server-function errors are short JSON.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn client_errors_are_4xx(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_api || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(AppError::Transport(_)) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}

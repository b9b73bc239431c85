//! What SCIM handlers receive: the shared state and the JSON request body.

use std::sync::Arc;

use axum::{
    extract::{FromRequest, Request},
    http::{header, StatusCode},
};
use serde_json::Value;

use super::{error::ScimError, limits::ProviderLimiter};
use crate::{auth::rate_limit::RateLimiter, clock::Clock, db::Db};

/// What SCIM handlers need.
#[derive(Clone)]
pub struct ScimState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    /// `PAR_PUBLIC_URL` + `/scim/v2`, for `meta.location`.
    pub base: Arc<str>,
    pub(super) limiter: Arc<ProviderLimiter>,
    /// Failed authentications per client address.
    pub(super) failures: Arc<RateLimiter>,
    pub(super) trusted_proxy_hops: u8,
    pub(super) body_limit: usize,
}

/// A JSON request body: `application/scim+json` or `application/json`, at most the body
/// limit (refused from `Content-Length` before reading, and while reading otherwise).
pub struct ScimJson(pub Value);

impl FromRequest<ScimState> for ScimJson {
    type Rejection = ScimError;

    async fn from_request(req: Request, state: &ScimState) -> Result<Self, ScimError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            });
        if let Some(content_type) = content_type {
            if content_type != "application/scim+json" && content_type != "application/json" {
                return Err(ScimError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    None,
                    "send application/scim+json (or application/json)",
                ));
            }
        }
        let too_large = || {
            ScimError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                format!("the body is larger than {} bytes", state.body_limit),
            )
        };
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > state.body_limit) {
            return Err(too_large());
        }
        let bytes = axum::body::to_bytes(req.into_body(), state.body_limit)
            .await
            .map_err(|_| too_large())?;
        serde_json::from_slice(&bytes)
            .map(ScimJson)
            .map_err(|e| ScimError::syntax(format!("the body is not valid JSON: {e}")))
    }
}

//! The `/scim/v2` endpoint: routes, bearer authentication, the per-provider rate limit and
//! the request body limit.
//!
//! The server merges this router outside the session, Origin-check and body-limit layers:
//! providers call with a bearer token and no cookies, so a session cookie sent along is never
//! read (it authenticates nothing here), and no browser can reach these routes with ambient
//! credentials that would call for a CSRF check.

use std::{net::IpAddr, sync::Arc, time::Instant};

use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{any, get, MethodRouter},
    Router,
};

use super::{
    error::ScimError, extract::ScimState, handlers, limits::ProviderLimiter, tokens, BASE_PATH,
};
use crate::{
    auth::rate_limit::{client_addr, RateLimiter},
    state::AppState,
};

/// Largest SCIM request body; `PAR_MAX_BODY_BYTES` applies when it is smaller. Generous for
/// a user, and for a group PATCH adding a few thousand members.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn router(state: &AppState) -> Router<AppState> {
    let auth = state.auth.config();
    let scim = ScimState {
        db: state.db.clone(),
        clock: state.clock.clone(),
        base: format!("{}{BASE_PATH}", state.config.origin()).into(),
        limiter: Arc::new(ProviderLimiter::new(state.clock.clone())),
        failures: Arc::new(RateLimiter::new(auth.rate_limit_per_minute)),
        trusted_proxy_hops: auth.trusted_proxy_hops,
        body_limit: MAX_BODY_BYTES.min(state.config.max_body_bytes),
    };
    let path = |p: &str| format!("{BASE_PATH}{p}");
    Router::new()
        .route(
            &path("/ServiceProviderConfig"),
            only(get(handlers::service_provider_config)),
        )
        .route(&path("/ResourceTypes"), only(get(handlers::resource_types)))
        .route(
            &path("/ResourceTypes/{name}"),
            only(get(handlers::resource_type)),
        )
        .route(&path("/Schemas"), only(get(handlers::schemas)))
        .route(&path("/Schemas/{id}"), only(get(handlers::schema)))
        .route(
            &path("/Users"),
            only(get(handlers::list_users).post(handlers::create_user)),
        )
        .route(
            &path("/Users/{id}"),
            only(
                get(handlers::get_user)
                    .put(handlers::replace_user)
                    .patch(handlers::patch_user)
                    .delete(handlers::delete_user),
            ),
        )
        .route(
            &path("/Groups"),
            only(get(handlers::list_groups).post(handlers::create_group)),
        )
        .route(
            &path("/Groups/{id}"),
            only(
                get(handlers::get_group)
                    .put(handlers::replace_group)
                    .patch(handlers::patch_group)
                    .delete(handlers::delete_group),
            ),
        )
        .route(&path("/Bulk"), any(not_implemented))
        .route(&path("/Me"), any(not_implemented))
        .route(BASE_PATH, any(not_found))
        .route(&path("/"), any(not_found))
        .route(&path("/{*rest}"), any(not_found))
        .layer(middleware::from_fn_with_state(scim.clone(), authenticate))
        .with_state(scim)
}

/// Other methods on a known endpoint get a SCIM 405.
fn only(methods: MethodRouter<ScimState>) -> MethodRouter<ScimState> {
    methods.fallback(|| async {
        ScimError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            "this endpoint does not support that method",
        )
    })
}

async fn not_implemented() -> ScimError {
    ScimError::new(
        StatusCode::NOT_IMPLEMENTED,
        None,
        "not supported by this service provider (see /ServiceProviderConfig)",
    )
}

async fn not_found() -> ScimError {
    ScimError::new(
        StatusCode::NOT_FOUND,
        None,
        "no such SCIM endpoint: use /Users, /Groups, /ServiceProviderConfig, /ResourceTypes or /Schemas",
    )
}

/// `Authorization: Bearer <token>`, scheme in any case.
fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Finds the provider of the request's token (401 without one), takes a request from its
/// budget (429 beyond it) and hands the provider to the handler.
async fn authenticate(State(state): State<ScimState>, mut req: Request, next: Next) -> Response {
    let token = bearer(&req);
    let provider = match &token {
        Some(token) => match tokens::authenticate(&state.db, state.clock.as_ref(), token).await {
            Ok(provider) => provider,
            Err(error) => return ScimError::internal(error).into_response(),
        },
        None => None,
    };
    let Some(provider) = provider else {
        let client: Option<IpAddr> = client_addr(&req, state.trusted_proxy_hops);
        // Failures are limited per address, so a scanner cannot fill the log or the database's
        // time; a valid token is never held back by this.
        if let Some(addr) = client {
            if let Err(wait) = state.failures.take(addr, Instant::now()) {
                tracing::debug!(client = %addr, "SCIM authentication failures rate limited");
                return ScimError::too_many(wait).into_response();
            }
        }
        let reason = if token.is_some() {
            "unknown or revoked token"
        } else {
            "no bearer token"
        };
        tracing::warn!(
            client = ?client,
            reason,
            path = %req.uri().path(),
            "SCIM authentication failed"
        );
        return ScimError::unauthorized(
            "a valid bearer token is required (Authorization: Bearer <token>)",
        )
        .into_response();
    };
    if let Err(wait) = state.limiter.take(provider.id) {
        tracing::warn!(provider = %provider.name, "SCIM rate limit reached");
        return ScimError::too_many(wait).into_response();
    }
    req.extensions_mut().insert(provider);
    next.run(req).await
}

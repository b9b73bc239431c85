//! The HTTP server: routes, middleware and the serve loop.

mod api_errors;
pub mod assets;
pub mod health;
mod listen;
pub mod metrics;
pub mod refusals;
pub mod security;
pub mod shutdown;

use std::{any::Any, time::Duration};

use axum::{
    body::Body,
    extract::DefaultBodyLimit,
    http::{header, HeaderValue, Request, Response, StatusCode},
    middleware,
    routing::get,
    Router,
};
use leptos::{config::LeptosOptions, nonce::Nonce, prelude::*};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::{
        predicate::{NotForContentType, Predicate as _},
        CompressionLayer, DefaultPredicate,
    },
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use tracing::Span;

use crate::{
    app::{shell, App},
    approval_links,
    auth::{self, Viewer},
    components::viewer::ShellInfo,
    export,
    state::{AppState, RunMode},
};

pub use listen::{bind, serve};

/// Builds the complete application router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = request_context(&state);
    let options = state.leptos_options.clone();
    let render_shell = move |options: LeptosOptions| shell(options);

    let sessions = state
        .sessions
        .layer(state.config.is_https(), state.auth.config().session_idle);

    let router = Router::<AppState>::new()
        .merge(auth::routes::router(&state))
        .merge(approval_links::routes::router(&state))
        .merge(crate::audit::routes::router())
        .merge(export::routes::router())
        .merge(crate::signoff::routes::router())
        .merge(auth::dev_idp::routes::router(state.auth.dev_idp()))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .merge(assets::router(&state.config.site_root))
        .merge(metrics::main_routes(
            state.metrics.clone(),
            &state.config.metrics,
        ))
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, render_shell))
        // Layers run outside-in from the last one added.
        .layer(middleware::from_fn(api_errors::client_errors_are_4xx))
        .layer(middleware::from_fn(security::strip_url_errors))
        // After the Origin check, so a cross-origin body is never buffered.
        .layer(middleware::from_fn_with_state(
            state.config.max_body_bytes,
            security::limit_chunked_body,
        ))
        .layer(middleware::from_fn_with_state(
            state.config.clone(),
            security::check_origin,
        ))
        // Inside the session (it names the person), outside every check that refuses.
        .layer(middleware::from_fn_with_state(
            refusals::RefusalState {
                db: state.db.clone(),
                clock: state.clock.clone(),
                trusted_proxy_hops: state.auth.config().trusted_proxy_hops,
                budget: Default::default(),
            },
            refusals::record,
        ))
        .layer(middleware::from_fn_with_state(
            auth::session::LoadUserState {
                auth: state.auth.clone(),
                clock: state.clock.clone(),
            },
            auth::session::load_user,
        ))
        .layer(sessions)
        .layer(DefaultBodyLimit::disable())
        // Outermost of the body checks: a declared length over the limit is refused before a
        // byte of the body is read.
        .layer(RequestBodyLimitLayer::new(state.config.max_body_bytes))
        // Bearer-token API, merged after the session, Origin and body-limit layers so none of
        // them wraps it; it brings its own authentication and limits (see scim::routes).
        .merge(crate::scim::routes::router(&state))
        .layer(CatchPanicLayer::custom(panic_response))
        // Pages and server-function answers, br or gzip as the browser accepts; files that
        // arrive compressed (the release bundle's .br/.gz) pass through untouched.
        .layer(CompressionLayer::new().compress_when(
            DefaultPredicate::new().and(NotForContentType::const_new("application/zip")),
        ))
        // Until the response starts (a slow body upload included), not while a download
        // streams: exports and evidence bundles of any size finish once they have begun.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.config.timeouts.request,
        ))
        .layer(middleware::from_fn_with_state(
            state.config.clone(),
            security::headers,
        ))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(
                    |response: &Response<Body>, latency: Duration, _span: &Span| {
                        tracing::info!(
                            status = response.status().as_u16(),
                            latency_ms = latency.as_secs_f64() * 1000.0,
                            "request finished"
                        );
                    },
                ),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::from_fn(security::sanitize_request_id));
    let router = if state.mode == RunMode::Demo {
        router.layer(middleware::from_fn_with_state(
            state.config.clone(),
            security::canonical_host,
        ))
    } else {
        router
    };
    router.with_state(state)
}

/// Context every render and server function gets: the CSP nonce chosen by
/// [`security::headers`] and the shell facts.
fn request_context(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let demo = state.mode == RunMode::Demo;
    move || {
        let parts = use_context::<http::request::Parts>();
        if let Some(nonce) = parts
            .as_ref()
            .and_then(|parts| parts.extensions.get::<Nonce>().cloned())
        {
            provide_context(nonce);
        }
        provide_context(ShellInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            demo,
            viewer: parts.and_then(|parts| parts.extensions.get::<Viewer>().cloned()),
        });
    }
}

/// Span per request. Only the path is recorded: query strings can carry secrets (an OIDC
/// `code`, a review link token).
fn request_span(request: &Request<Body>) -> Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %approval_links::routes::redacted_path(request.uri().path()),
        request_id = %request_id,
    )
}

/// A panic becomes a plain 500 page; the panic message goes to the log only.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(non-string panic payload)");
    tracing::error!(panic = message, "request handler panicked");
    let mut response = Response::new(Body::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Something went wrong</title></head>\
         <body><h1>Something went wrong</h1><p>The problem has been logged. Please try again.</p></body></html>",
    ));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

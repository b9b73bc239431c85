//! HTTP endpoints of the development provider, mounted under [`PREFIX`](super::PREFIX).

use std::sync::Arc;

use axum::{
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
    Form, Json, Router,
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use serde::Deserialize;
use serde_json::json;

use super::{page, pkce_s256, AuthorizeParams, DevIdp, Grant, PEOPLE};

/// The provider's routes; empty when the application runs without it. They carry their own
/// state, so they merge into a router of any state.
pub fn router<S: Clone + Send + Sync + 'static>(idp: Option<Arc<DevIdp>>) -> Router<S> {
    let Some(idp) = idp else {
        return Router::new();
    };
    let provider = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/authorize", get(authorize_page).post(authorize))
        .route("/token", axum::routing::post(token))
        .route("/jwks", get(jwks))
        .route("/userinfo", get(userinfo))
        .route("/logout", get(logout))
        .with_state(idp);
    Router::new().nest(super::PREFIX, provider)
}

async fn discovery(State(idp): State<Arc<DevIdp>>) -> Json<serde_json::Value> {
    Json(idp.discovery())
}

async fn jwks(State(idp): State<Arc<DevIdp>>) -> Json<serde_json::Value> {
    Json(json!({ "keys": [idp.public_jwk] }))
}

/// Checks the request against the registered client. Errors are shown, never redirected:
/// an unchecked `redirect_uri` must not receive anything.
fn validate(idp: &DevIdp, p: &AuthorizeParams) -> Result<(), &'static str> {
    if p.client_id.as_deref() != Some(idp.client_id.as_str()) {
        return Err("unknown client_id");
    }
    if p.redirect_uri.as_deref() != Some(idp.redirect_uri.as_str()) {
        return Err("redirect_uri is not registered for this client");
    }
    if p.response_type.as_deref() != Some("code") {
        return Err("only response_type=code is supported");
    }
    if !p
        .scope
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .any(|s| s == "openid")
    {
        return Err("the openid scope is required");
    }
    if p.code_challenge_method.as_deref() != Some("S256") || p.code_challenge.is_none() {
        return Err("PKCE with S256 is required");
    }
    Ok(())
}

async fn authorize_page(
    State(idp): State<Arc<DevIdp>>,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    match validate(&idp, &params) {
        Ok(()) => Html(page::chooser(&params)).into_response(),
        Err(reason) => (StatusCode::BAD_REQUEST, Html(page::error(reason))).into_response(),
    }
}

async fn authorize(
    State(idp): State<Arc<DevIdp>>,
    Form(params): Form<AuthorizeParams>,
) -> Response {
    if let Err(reason) = validate(&idp, &params) {
        return (StatusCode::BAD_REQUEST, Html(page::error(reason))).into_response();
    }
    let Some(person) = params.person.filter(|i| *i < PEOPLE.len()) else {
        return (
            StatusCode::BAD_REQUEST,
            Html(page::error("choose a person")),
        )
            .into_response();
    };
    let (Some(redirect_uri), Some(code_challenge)) = (params.redirect_uri, params.code_challenge)
    else {
        return (
            StatusCode::BAD_REQUEST,
            Html(page::error("incomplete request")),
        )
            .into_response();
    };
    let code = idp.issue_code(Grant {
        person,
        nonce: params.nonce,
        code_challenge,
        redirect_uri: redirect_uri.clone(),
        expires_at: idp.now() + 60,
    });
    let Ok(mut target) = url::Url::parse(&redirect_uri) else {
        return (
            StatusCode::BAD_REQUEST,
            Html(page::error("bad redirect_uri")),
        )
            .into_response();
    };
    {
        let mut query = target.query_pairs_mut();
        query.append_pair("code", &code);
        if let Some(state) = &params.state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", idp.issuer());
    }
    Redirect::to(target.as_str()).into_response()
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// Client credentials from `client_secret_basic` (preferred) or `client_secret_post`.
fn client_credentials(headers: &HeaderMap, form: &TokenForm) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = String::from_utf8(STANDARD.decode(basic.trim()).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        return Some((decode(id)?, decode(secret)?));
    }
    Some((form.client_id.clone()?, form.client_secret.clone()?))
}

async fn token(
    State(idp): State<Arc<DevIdp>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let Some((id, secret)) = client_credentials(&headers, &form) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication required",
        );
    };
    if !idp.client_secret_matches(&id, &secret) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    if form.grant_type.as_deref() != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        );
    }
    let Some(grant) = form.code.as_deref().and_then(|c| idp.redeem_code(c)) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown, expired or used code",
        );
    };
    if form.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri differs",
        );
    }
    let verified = form
        .code_verifier
        .as_deref()
        .is_some_and(|v| pkce_s256(v) == grant.code_challenge);
    if !verified {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "PKCE verification failed",
        );
    }
    let person = &PEOPLE[grant.person];
    let access_token = super::random_token(32);
    {
        let now = idp.now();
        let mut tokens = idp.access_tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.retain(|_, (_, expires_at)| *expires_at > now);
        tokens.insert(access_token.clone(), (grant.person, now + 300));
    }
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": idp.id_token(person, grant.nonce.as_deref()),
        })),
    )
        .into_response()
}

async fn userinfo(State(idp): State<Arc<DevIdp>>, headers: HeaderMap) -> Response {
    let person = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|token| {
            let now = idp.now();
            idp.access_tokens
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(token)
                .filter(|(_, expires_at)| *expires_at > now)
                .map(|(person, _)| *person)
        });
    match person {
        Some(i) => Json(idp.userinfo(&PEOPLE[i])).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
        )
            .into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct LogoutParams {
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
}

async fn logout(State(idp): State<Arc<DevIdp>>, Query(p): Query<LogoutParams>) -> Response {
    let registered = p.client_id.as_deref() == Some(idp.client_id.as_str())
        && p.post_logout_redirect_uri.as_deref() == Some(idp.post_logout_redirect_uri.as_str());
    if registered {
        Redirect::to(&idp.post_logout_redirect_uri).into_response()
    } else {
        Html(page::error("signed out of the development provider")).into_response()
    }
}

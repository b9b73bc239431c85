//! `/auth/login`, `/auth/callback` and `/auth/logout`.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    middleware,
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::{
    oidc::{PendingLogin, Refusal},
    people, rate_limit, safe_next,
    session::{SessionUser, PENDING_KEY, USER_KEY},
};
use crate::{
    audit::{self, Actor, Event},
    clock::format_timestamp,
    components::markup::escape,
    error::AppError,
    state::AppState,
};

/// How long a started sign-in may take before its state is forgotten.
const PENDING_TTL_SECS: i64 = 600;
/// Sign-ins in progress kept per browser (several tabs).
const PENDING_MAX: usize = 5;

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route_layer(middleware::from_fn_with_state(
            state.auth.rate_limit(),
            rate_limit::limit,
        ))
        // Added after the limit, so it never applies: signing out must always work.
        .route("/auth/logout", post(logout))
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<LoginQuery>,
) -> Response {
    // Anything but a same-origin path falls back to the start page.
    let next = query.next.as_deref().and_then(safe_next).unwrap_or("/");
    let now = state.clock.now().unix_timestamp();
    let (url, pending) = match state.auth.oidc().begin(next, now).await {
        Ok(started) => started,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot start sign-in");
            return refusal_page(StatusCode::SERVICE_UNAVAILABLE, &Refusal::Unavailable);
        }
    };
    let mut pendings: Vec<PendingLogin> = session
        .get(PENDING_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    pendings.retain(|p| now - p.started_at < PENDING_TTL_SECS);
    pendings.push(pending);
    let keep_from = pendings.len().saturating_sub(PENDING_MAX);
    pendings.drain(..keep_from);
    if let Err(error) = session.insert(PENDING_KEY, pendings).await {
        tracing::error!(%error, "cannot store the sign-in state");
        return refusal_page(StatusCode::SERVICE_UNAVAILABLE, &Refusal::Unavailable);
    }
    Redirect::to(url.as_str()).into_response()
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let now = state.clock.now().unix_timestamp();
    let mut pendings: Vec<PendingLogin> = session
        .get(PENDING_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    // A state is usable once: take it out whatever happens next.
    let pending = query.state.as_deref().and_then(|st| {
        let i = pendings.iter().position(|p| p.state == st)?;
        Some(pendings.remove(i))
    });
    let Some(pending) = pending.filter(|p| now - p.started_at < PENDING_TTL_SECS) else {
        // Not a sign-in this browser started: answer without writing anything, so anonymous
        // requests cannot fill the audit log or the session table.
        tracing::warn!("sign-in callback with an unknown or expired state");
        return refusal_page(StatusCode::BAD_REQUEST, &Refusal::State);
    };
    if let Err(error) = session.insert(PENDING_KEY, &pendings).await {
        tracing::warn!(%error, "cannot update the sign-in state");
    }

    let outcome = async {
        if let Some(error) = &query.error {
            // Only an OAuth error code is repeated to the person, never free text.
            let code = Some(error.as_str())
                .filter(|e| e.len() <= 40 && e.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
                .unwrap_or("unknown_error");
            return Err(Refusal::ProviderError(code.to_string()));
        }
        let code = query
            .code
            .as_deref()
            .ok_or_else(|| Refusal::ProviderError("no authorization code".to_string()))?;
        state
            .auth
            .oidc()
            .finish(&pending, code, query.iss.as_deref())
            .await
    }
    .await;

    match outcome {
        Ok(identity) => match complete_sign_in(&state, &session, &identity).await {
            Ok(()) => Redirect::to(&pending.next).into_response(),
            Err(error) => error.into_response(),
        },
        Err(refusal) => {
            if let Err(error) = record_refusal(&state, &refusal).await {
                return error.into_response();
            }
            let status = match refusal {
                Refusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                Refusal::EmailUnverified => StatusCode::FORBIDDEN,
                _ => StatusCode::BAD_REQUEST,
            };
            refusal_page(status, &refusal)
        }
    }
}

/// Records the person and the sign-in, then starts a fresh session for them.
async fn complete_sign_in(
    state: &AppState,
    session: &Session,
    identity: &super::oidc::Identity,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let roles = people::roles_for(
        state.auth.config(),
        &identity.email,
        identity.email_verified,
        &identity.groups,
    );
    // A new session id at sign-in: an id planted before sign-in (fixation) is worth nothing.
    // Session store writes happen outside the database transaction: on SQLite both share one
    // write lock, and the store would wait for the transaction that waits for it.
    session.cycle_id().await.map_err(AppError::internal)?;
    session
        .remove_value(PENDING_KEY)
        .await
        .map_err(AppError::internal)?;

    let mut tx = state.db.begin().await?;
    let person_id = people::record_sign_in(&mut tx, identity, &format_timestamp(now)).await?;
    let user = SessionUser {
        person_id,
        issuer: identity.issuer.clone(),
        subject: identity.subject.clone(),
        email: identity.email.clone(),
        name: identity.name.clone(),
        roles: roles.clone(),
        email_verified: identity.email_verified,
        groups: identity.groups.clone(),
        signed_in_at: now.unix_timestamp(),
        id_token: identity.id_token.clone(),
    };
    audit::record(
        &mut tx,
        state.clock.as_ref(),
        &user.actor(),
        &Event::new("auth.signed_in", format!("person:{person_id}")).details(json!({
            "roles": roles.iter().map(|r| r.label()).collect::<Vec<_>>(),
            "name": identity.name,
        })),
    )
    .await?;
    tx.commit().await?;
    session
        .insert(USER_KEY, &user)
        .await
        .map_err(AppError::internal)?;
    Ok(())
}

async fn record_refusal(state: &AppState, refusal: &Refusal) -> Result<(), AppError> {
    tracing::warn!(reason = refusal.code(), "sign-in refused");
    let mut tx = state.db.begin().await?;
    audit::record(
        &mut tx,
        state.clock.as_ref(),
        &Actor::system("auth"),
        &Event::new(
            "auth.sign_in_refused",
            format!("issuer:{}", state.auth.oidc().issuer()),
        )
        .details(json!({ "reason": refusal.code() })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn logout(State(state): State<AppState>, session: Session) -> Result<Response, AppError> {
    let user = session.get::<SessionUser>(USER_KEY).await.ok().flatten();
    // End the session first: a failure afterwards must not leave the person signed in.
    session.flush().await.map_err(AppError::internal)?;
    if let Some(user) = &user {
        let mut tx = state.db.begin().await?;
        audit::record(
            &mut tx,
            state.clock.as_ref(),
            &user.actor(),
            &Event::new("auth.signed_out", format!("person:{}", user.person_id)),
        )
        .await?;
        tx.commit().await?;
    }
    let home = state.auth.public_url().clone();
    let end_session = state
        .auth
        .oidc()
        .end_session_url(&home, user.as_ref().map(|u| u.id_token.as_str()))
        .await;
    Ok(match end_session {
        // A page, not a redirect: browsers apply the form-action policy to redirects after a
        // form post, which would block the provider's (other-origin) sign-out endpoint.
        Some(url) => signed_out_page(&url),
        None => Redirect::to("/").into_response(),
    })
}

/// Continues to the provider's sign-out endpoint.
fn signed_out_page(end_session: &url::Url) -> Response {
    let target = escape(end_session.as_str());
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"0; url={target}\">\
         <title>Signed out · Postmark Access Review</title>\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/pkg/{css}.css\"></head><body><main class=\"content status-page\">\
         <h1>You are signed out</h1>\
         <p>Signing you out at your identity provider too… \
         <a href=\"{target}\">Continue</a></p></main></body></html>",
        css = crate::OUTPUT_NAME,
    );
    Html(body).into_response()
}

/// A plain page explaining the refusal; no internals, a way to try again.
fn refusal_page(status: StatusCode, refusal: &Refusal) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign-in refused · Postmark Access Review</title>\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/pkg/{css}.css\"></head><body><main class=\"content status-page\">\
         <p class=\"status-code\">Sign-in refused</p><h1>We could not sign you in</h1>\
         <p class=\"refusal-reason\">{message}.</p>\
         <p><a href=\"/auth/login\">Try again</a> · <a href=\"/\">Start page</a></p>\
         </main></body></html>",
        css = crate::OUTPUT_NAME,
        message = escape(&refusal.to_string()),
    );
    (status, Html(body)).into_response()
}

//! `/r/{token}`: the link in a reviewer's email. Signed out, it sends the person to sign in
//! and brings them back; signed in as the addressed reviewer, it opens their queue for the
//! campaign; signed in as anyone else, it refuses (and the audit log says who tried). Expired,
//! replaced, revoked and unknown links each get a page saying what to do.
//!
//! The raw token never leaves this request: the session keeps only the link's id while the
//! person signs in, request logs show `/r/[token]`, and `Referrer-Policy: no-referrer` (set on
//! every response) keeps it out of other sites' logs.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    middleware,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
    Extension, Router,
};
use serde_json::json;
use tower_sessions::Session;

use super::db::{self, Lookup};
use crate::{
    audit::{self, Event},
    auth::{guard::AlreadyAudited, rate_limit, session::SessionUser},
    components::markup::escape,
    error::AppError,
    state::AppState,
};

/// Session key holding the id of the link a signed-out person opened, until they are back.
const LINK_KEY: &str = "approval_link";

/// Where a signed-out person returns after signing in.
const CONTINUE: &str = "/r/continue";

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        // Static segments win over `{token}` in axum's router; a token is never "continue".
        .route(CONTINUE, get(continue_after_sign_in))
        .route("/r/{token}", get(open))
        .route_layer(middleware::from_fn_with_state(
            state.auth.rate_limit(),
            rate_limit::limit,
        ))
}

/// The path as request logs show it: a link's token replaced.
pub fn redacted_path(path: &str) -> &str {
    match path.strip_prefix("/r/") {
        Some(rest) if !rest.is_empty() && path != CONTINUE => "/r/[token]",
        _ => path,
    }
}

async fn open(
    State(state): State<AppState>,
    session: Session,
    user: Option<Extension<SessionUser>>,
    Path(token): Path<String>,
) -> Response {
    let found = match db::lookup(&state.db, state.clock.as_ref(), &token).await {
        Ok(found) => found,
        Err(error) => return AppError::internal(error).into_response(),
    };
    match found {
        Lookup::Valid {
            link_id,
            reviewer,
            campaign_id,
        } => match user {
            Some(Extension(user)) => arrive(&state, &user, link_id, &reviewer, campaign_id).await,
            None => {
                if let Err(error) = session.insert(LINK_KEY, link_id).await {
                    return AppError::internal(error).into_response();
                }
                Redirect::to("/auth/login?next=%2Fr%2Fcontinue").into_response()
            }
        },
        other => dead_link(&other),
    }
}

/// Back from signing in: the link the person opened before, checked again.
async fn continue_after_sign_in(
    State(state): State<AppState>,
    session: Session,
    user: Option<Extension<SessionUser>>,
) -> Response {
    let Some(Extension(user)) = user else {
        return Redirect::to("/auth/login?next=%2Fr%2Fcontinue").into_response();
    };
    let link_id = match session.remove::<i64>(LINK_KEY).await {
        Ok(Some(id)) => id,
        Ok(None) => return Redirect::to("/reviews").into_response(),
        Err(error) => return AppError::internal(error).into_response(),
    };
    match db::lookup_id(&state.db, state.clock.as_ref(), link_id).await {
        Ok(Lookup::Valid {
            link_id,
            reviewer,
            campaign_id,
        }) => arrive(&state, &user, link_id, &reviewer, campaign_id).await,
        Ok(other) => dead_link(&other),
        Err(error) => AppError::internal(error).into_response(),
    }
}

/// A signed-in person at a valid link: the addressed reviewer goes to their queue, anyone
/// else is refused. Both are audit events.
async fn arrive(
    state: &AppState,
    user: &SessionUser,
    link_id: i64,
    reviewer: &str,
    campaign_id: i64,
) -> Response {
    let verified = user.email_verified == Some(true) || state.auth.config().trust_unverified_email;
    let addressed = verified
        && user
            .person_email()
            .is_ok_and(|email| email.as_str() == reviewer);
    let action = if addressed {
        "approval_link.used"
    } else {
        "approval_link.refused"
    };
    let recorded = async {
        let mut tx = state.db.begin().await?;
        audit::record(
            &mut tx,
            state.clock.as_ref(),
            &user.actor(),
            &Event::new(action, format!("campaign:{campaign_id}"))
                .details(json!({ "link": link_id, "addressed_to": reviewer })),
        )
        .await?;
        tx.commit().await?;
        if addressed {
            db::mark_used(&state.db, state.clock.as_ref(), link_id).await?;
        }
        Ok::<_, AppError>(())
    };
    if let Err(error) = recorded.await {
        return error.into_response();
    }
    let open = crate::campaigns::db::get(&state.db, campaign_id)
        .await
        .map(|c| c.is_some_and(|c| c.status == crate::campaigns::Status::Active));
    match open {
        Ok(true) => {}
        Ok(false) if addressed => {
            return page(
                StatusCode::GONE,
                "This review has closed",
                "The campaign this link belongs to is closed, so there is nothing left to \
                 decide. Open items of other campaigns are under My reviews.",
                true,
            )
        }
        Ok(false) => {}
        Err(error) => return AppError::from(error).into_response(),
    }
    if addressed {
        Redirect::to(&format!("/reviews?campaign={campaign_id}")).into_response()
    } else {
        // Logged by `server::refusals`; audited above as `approval_link.refused`.
        let mut response = page(
            StatusCode::FORBIDDEN,
            "This link is for someone else",
            &format!(
                "It was sent to {reviewer}, and you are signed in as {}. Review links open \
                 only for the person they were sent to: ask them to open it, or ask an admin \
                 to hand the items to you.",
                user.email
            ),
            true,
        );
        response.extensions_mut().insert(AlreadyAudited(format!(
            "review link {link_id} was sent to someone else"
        )));
        response
    }
}

fn dead_link(found: &Lookup) -> Response {
    match found {
        Lookup::Expired { .. } => page(
            StatusCode::GONE,
            "This link has expired",
            "Review links stop working when the campaign's review period is over. If the \
             campaign is still open, your items are under My reviews.",
            false,
        ),
        Lookup::Rotated => page(
            StatusCode::GONE,
            "A newer email replaced this link",
            "Every newer email for this review (a reminder, a hand-over or a resent email) \
             comes with a new link, and the older ones stop working. Use the link in the \
             latest email, or open My reviews.",
            false,
        ),
        Lookup::Revoked => page(
            StatusCode::GONE,
            "This link was withdrawn",
            "An admin withdrew it. Your items, if you still have any, are under My reviews.",
            false,
        ),
        Lookup::Unknown | Lookup::Valid { .. } => page(
            StatusCode::NOT_FOUND,
            "This link is not valid",
            "Check that the whole address from the email was copied. Your items are under \
             My reviews.",
            false,
        ),
    }
}

/// A plain page in the application's style, with a way on.
fn page(status: StatusCode, title: &str, message: &str, signed_in: bool) -> Response {
    let sign_out = if signed_in {
        " · <form method=\"post\" action=\"/auth/logout\" class=\"inline-form\">\
         <button type=\"submit\" class=\"button-link\">Sign out</button></form>"
    } else {
        ""
    };
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Postmark Access Review</title>\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/pkg/{css}.css\"></head><body>\
         <main class=\"content status-page link-page\">\
         <p class=\"status-code\">Review link</p><h1>{title}</h1>\
         <p class=\"link-reason\">{message}</p>\
         <p><a href=\"/reviews\">My reviews</a> · <a href=\"/\">Start page</a>{sign_out}</p>\
         </main></body></html>",
        css = crate::OUTPUT_NAME,
        title = escape(title),
        message = escape(message),
    );
    (status, Html(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_reach_the_request_log() {
        assert_eq!(redacted_path("/r/AbCdEf0123456789_-xyzw"), "/r/[token]");
        assert_eq!(redacted_path("/r/continue"), "/r/continue");
        assert_eq!(redacted_path("/reviews"), "/reviews");
        assert_eq!(redacted_path("/r/"), "/r/");
    }
}

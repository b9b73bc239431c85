//! Refused access, as ASVS 7.2 asks: every 401 and 403 the application answers is logged at
//! warn level with who (the person, or the client address), what (method and path; a server
//! function's path names it) and why (the note the refusing code left, see
//! [`Refusal`]); a signed-in person's refusal is also an `access.refused` audit event.
//!
//! The audit log keeps everything for ever, so one person's refusals reach it at most
//! [`AUDITED_PER_MINUTE`] times a minute; beyond that they are only logged, and the next event
//! that is recorded counts the ones that were not.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::Response,
};
use serde_json::json;

use crate::{
    approval_links::routes::redacted_path,
    audit::{self, Event},
    auth::{
        guard::{AlreadyAudited, Refusal},
        rate_limit::client_addr,
        session::SessionUser,
    },
    clock::Clock,
    db::Db,
};

/// The audit action of a refusal.
pub const ACTION: &str = "access.refused";

/// Refusals of one person recorded in the audit log per minute at most.
pub const AUDITED_PER_MINUTE: u32 = 10;

const WINDOW: Duration = Duration::from_secs(60);

/// People tracked before windows that have ended are dropped, bounding memory.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug)]
struct Window {
    started: Instant,
    audited: u32,
    /// Refusals in this or earlier windows that were logged but not audited.
    unaudited: u32,
}

/// How many refusals each person may still add to the audit log this minute.
#[derive(Debug, Default)]
pub struct Budget {
    windows: Mutex<HashMap<i64, Window>>,
}

impl Budget {
    /// `Some(n)`: audit this refusal, and say that `n` before it were not; `None`: log only.
    pub fn take(&self, person_id: i64, now: Instant) -> Option<u32> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= MAX_TRACKED && !windows.contains_key(&person_id) {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW || w.unaudited > 0);
        }
        let window = windows.entry(person_id).or_insert(Window {
            started: now,
            audited: 0,
            unaudited: 0,
        });
        if now.duration_since(window.started) >= WINDOW {
            window.started = now;
            window.audited = 0;
        }
        if window.audited < AUDITED_PER_MINUTE {
            window.audited += 1;
            Some(std::mem::take(&mut window.unaudited))
        } else {
            window.unaudited = window.unaudited.saturating_add(1);
            None
        }
    }
}

/// What [`record`] needs.
#[derive(Clone)]
pub struct RefusalState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub trusted_proxy_hops: u8,
    pub budget: Arc<Budget>,
}

/// Middleware inside the session layers (it reads the signed-in person) and outside every
/// check that refuses: hands each request a [`Refusal`] to note a reason in, and logs (and for
/// signed-in people audits) every 401 and 403 that comes back.
pub async fn record(State(state): State<RefusalState>, mut req: Request, next: Next) -> Response {
    let refusal = Refusal::default();
    req.extensions_mut().insert(refusal.clone());
    let user = req.extensions().get::<SessionUser>().cloned();
    let method = req.method().to_string();
    // Never a review link's token, never the query string.
    let path = redacted_path(req.uri().path()).to_string();
    let client = client_addr(&req, state.trusted_proxy_hops);
    let response = next.run(req).await;
    let status = response.status();
    if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
        return response;
    }
    let audited = response.extensions().get::<AlreadyAudited>().cloned();
    let reason = match (&audited, refusal.reason()) {
        (Some(AlreadyAudited(why)), _) => why.clone(),
        (None, Some(why)) => why.to_string(),
        (None, None) => default_reason(status).to_string(),
    };
    let Some(user) = user else {
        tracing::warn!(
            person = "anonymous",
            client = ?client,
            %method,
            %path,
            status = status.as_u16(),
            %reason,
            "access refused"
        );
        return response;
    };
    tracing::warn!(
        person.id = user.person_id,
        person.email = %user.email,
        client = ?client,
        %method,
        %path,
        status = status.as_u16(),
        %reason,
        "access refused"
    );
    if audited.is_some() {
        return response;
    }
    match state.budget.take(user.person_id, Instant::now()) {
        Some(unaudited) => {
            if let Err(error) =
                audit_refusal(&state, &user, &method, &path, status, &reason, unaudited).await
            {
                tracing::error!(
                    error = format!("{error:#}"),
                    "could not record a refused access in the audit log"
                );
            }
        }
        None => tracing::debug!(
            person.id = user.person_id,
            "refusal logged, not audited: this person's audit budget for the minute is spent"
        ),
    }
    response
}

/// When the refusing code left no note.
fn default_reason(status: StatusCode) -> &'static str {
    if status == StatusCode::UNAUTHORIZED {
        "not signed in or no valid credentials"
    } else {
        "refused by a role, ownership or assignment check"
    }
}

async fn audit_refusal(
    state: &RefusalState,
    user: &SessionUser,
    method: &str,
    path: &str,
    status: StatusCode,
    reason: &str,
    unaudited: u32,
) -> Result<(), sqlx::Error> {
    let mut details = json!({
        "method": method,
        "path": path,
        "status": status.as_u16(),
        "reason": reason,
    });
    if unaudited > 0 {
        details["unaudited_before"] = json!(unaudited);
    }
    let mut tx = state.db.begin().await?;
    audit::record(
        &mut tx,
        state.clock.as_ref(),
        &user.actor(),
        &Event::new(ACTION, format!("request:{path}")).details(details),
    )
    .await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_refusals_a_minute_are_audited_and_the_rest_counted() {
        let budget = Budget::default();
        let start = Instant::now();
        for _ in 0..AUDITED_PER_MINUTE {
            assert_eq!(budget.take(1, start), Some(0));
        }
        for _ in 0..5 {
            assert_eq!(budget.take(1, start + Duration::from_secs(30)), None);
        }
        // Someone else has a budget of their own.
        assert_eq!(budget.take(2, start), Some(0));
        // A minute on, the next one is audited and says five were not.
        assert_eq!(budget.take(1, start + WINDOW), Some(5));
        assert_eq!(budget.take(1, start + WINDOW), Some(0));
    }
}

//! Server functions of the review queue. Reviewers read and decide only the items assigned
//! to them; admins may also hand anyone's items on; auditors only read.

use leptos::prelude::*;

use super::{Queue, QueueQuery};
use crate::{
    error::AppError,
    review_items::{Decision, ItemView},
};

/// The caller as a reviewer: their email, if the provider vouches for it. Auditors review
/// nothing (they only read), so they are refused here.
#[cfg(feature = "ssr")]
pub(super) fn reviewer(
    user: &crate::auth::session::SessionUser,
    state: &crate::state::AppState,
    writes: bool,
) -> Result<String, AppError> {
    use crate::auth::Role;
    let verified = user.email_verified == Some(true) || state.auth.config().trust_unverified_email;
    let auditor_only = user.roles.contains(&Role::Auditor) && !user.roles.contains(&Role::Admin);
    if !verified || (writes && auditor_only) {
        return Err(AppError::Forbidden);
    }
    user.person_email().map(crate::email::Email::into_string)
}

/// Reviewers approve or revoke; "flag" is only ever the default outcome at close.
#[cfg(feature = "ssr")]
fn decision(decision: Decision) -> Result<Decision, AppError> {
    match decision {
        Decision::Approve | Decision::Revoke => Ok(decision),
        Decision::Flag => Err(AppError::Validation(
            "A decision is approve or revoke.".into(),
        )),
    }
}

/// The open campaigns with items for the caller, for the home page (empty for an auditor or
/// a person whose email the provider does not vouch for: they review nothing).
#[server(prefix = "/api", endpoint = "reviews_mine", output = crate::codec::TextJson)]
pub async fn my_open_reviews() -> Result<Vec<super::QueueCampaign>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    let Ok(me) = reviewer(&user, &state, true) else {
        return Ok(Vec::new());
    };
    respond(
        super::db::open_campaigns(&state.db, &me)
            .await
            .map_err(AppError::from),
    )
}

/// One page of the caller's queue.
#[server(prefix = "/api", endpoint = "reviews_queue", input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn my_queue(query: QueueQuery) -> Result<Queue, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::SignedIn)?;
    respond(crate::search::check(&[
        ("Search", query.search.as_deref()),
        ("Show", query.status.as_deref()),
        ("Kind", query.kind.as_deref()),
        ("Flag", query.flag.as_deref()),
        ("Group", query.group.as_deref()),
    ]))?;
    let state = crate::state::app_state()?;
    let me = respond(reviewer(&user, &state, false))?;
    let configured = &state.inventory.config.webhook_host_allowlist;
    respond(
        super::db::queue_with_context(&state.db, &me, &query, configured)
            .await
            .map_err(AppError::from),
    )
}

/// Approves or revokes one item; `version` is the item's version the caller saw.
#[server(prefix = "/api", endpoint = "reviews_decide", output = crate::codec::TextJson)]
pub async fn review_decide(
    item_id: i64,
    decision: Decision,
    justification: String,
    version: i64,
) -> Result<ItemView, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    let me = respond(reviewer(&user, &state, true))?;
    let decision = respond(self::decision(decision))?;
    respond(
        super::db::decide(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            &me,
            item_id,
            decision,
            &justification,
            version,
        )
        .await,
    )
}

/// Approves or revokes many undecided items at once (all or none).
#[server(prefix = "/api", endpoint = "reviews_decide_many", input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn review_decide_many(
    item_ids: Vec<i64>,
    decision: Decision,
    justification: String,
) -> Result<usize, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    let me = respond(reviewer(&user, &state, true))?;
    let decision = respond(self::decision(decision))?;
    respond(
        super::bulk::decide_many(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            &me,
            &item_ids,
            decision,
            &justification,
        )
        .await,
    )
}

/// Decides each selected item as its recommendation says (all or none: an item without a
/// recommendation refuses the lot).
#[server(prefix = "/api", endpoint = "reviews_accept_recommended", input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn review_accept_recommended(item_ids: Vec<i64>) -> Result<usize, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    let me = respond(reviewer(&user, &state, true))?;
    respond(
        super::bulk::accept_recommended(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            &me,
            &item_ids,
        )
        .await,
    )
}

/// Takes back a decision while the campaign is open.
#[server(prefix = "/api", endpoint = "reviews_undo", output = crate::codec::TextJson)]
pub async fn review_undo(item_id: i64, version: i64) -> Result<ItemView, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    let me = respond(reviewer(&user, &state, true))?;
    respond(
        super::db::undo(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            &me,
            item_id,
            version,
        )
        .await,
    )
}

/// Hands one undecided item to another reviewer, with a reason. An address nobody here knows
/// needs `confirm`.
#[server(prefix = "/api", endpoint = "reviews_reassign", output = crate::codec::TextJson)]
pub async fn review_reassign(
    item_id: i64,
    to: String,
    reason: String,
    #[server(default)] confirm: bool,
) -> Result<ItemView, AppError> {
    use crate::auth::{
        guard::{require, respond, Need},
        Role,
    };
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    let me = respond(reviewer(&user, &state, true))?;
    respond(
        super::handover::reassign(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            state.auth.config(),
            &me,
            user.roles.contains(&Role::Admin),
            item_id,
            super::handover::HandOn {
                to: &to,
                reason: &reason,
                confirmed: confirm,
            },
        )
        .await,
    )
}

/// Hands every undecided item of a reviewer (the caller unless an admin names another) in a
/// campaign to someone else, with a reason. An address nobody here knows needs `confirm`.
#[server(prefix = "/api", endpoint = "reviews_delegate", output = crate::codec::TextJson)]
pub async fn review_delegate(
    campaign_id: i64,
    from: Option<String>,
    to: String,
    reason: String,
    #[server(default)] confirm: bool,
) -> Result<usize, AppError> {
    use crate::auth::{
        guard::{require, respond, Need},
        Role,
    };
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    let me = respond(reviewer(&user, &state, true))?;
    let from = from
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| me.clone());
    respond(
        super::handover::delegate(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            state.auth.config(),
            &me,
            user.roles.contains(&Role::Admin),
            campaign_id,
            &from,
            super::handover::HandOn {
                to: &to,
                reason: &reason,
                confirmed: confirm,
            },
        )
        .await,
    )
}

/// Takes back an item the caller handed on, while it is undecided and the campaign open;
/// `version` is the item's version the caller saw.
#[server(prefix = "/api", endpoint = "reviews_take_back", output = crate::codec::TextJson)]
pub async fn review_take_back(item_id: i64, version: i64) -> Result<ItemView, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    let me = respond(reviewer(&user, &state, true))?;
    respond(
        super::handover::take_back(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            &me,
            item_id,
            version,
        )
        .await,
    )
}

/// The undecided items the caller handed on and may take back (empty for people who review
/// nothing).
#[server(prefix = "/api", endpoint = "reviews_handed_on", output = crate::codec::TextJson)]
pub async fn my_handed_on() -> Result<Vec<ItemView>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    let Ok(me) = reviewer(&user, &state, true) else {
        return Ok(Vec::new());
    };
    respond(
        super::handover::handed_on(&state.db, &me)
            .await
            .map_err(AppError::from),
    )
}

/// Known people to suggest where items are handed on or a server gets an owner: reviewers,
/// admins, managers and owners, never auditors (see [`crate::reviewer_suggestions`]). For
/// people who review; empty for auditors.
#[server(prefix = "/api", endpoint = "handover_suggestions", output = crate::codec::TextJson)]
pub async fn handover_suggestions() -> Result<Vec<String>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    if reviewer(&user, &state, true).is_err() {
        return Ok(Vec::new());
    }
    respond(
        crate::reviewer_suggestions::known_reviewers(&state.db, state.auth.config())
            .await
            .map_err(AppError::from),
    )
}

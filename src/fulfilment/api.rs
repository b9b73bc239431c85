//! Server functions of fulfilment tasks: the list and one task (admins, auditors and the
//! people in `PAR_FULFILMENT_EMAILS`), and marking a line (admins and those people).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{TaskSummary, TaskView};
use crate::error::AppError;

/// Most tasks listed at once.
pub const LISTED: i64 = 200;

/// One task and whether the caller may mark its lines (auditors only read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskPage {
    pub task: TaskView,
    pub can_mark: bool,
}

/// Fulfilment tasks, newest first.
#[server(prefix = "/api", endpoint = "fulfilment_tasks", output = crate::codec::TextJson)]
pub async fn fulfilment_tasks() -> Result<Vec<TaskSummary>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::FulfilmentReader)?;
    let state = crate::state::app_state()?;
    respond(
        super::db::list(&state.db, LISTED)
            .await
            .map_err(AppError::from),
    )
}

/// One task with its lines.
#[server(prefix = "/api", endpoint = "fulfilment_task", output = crate::codec::TextJson)]
pub async fn fulfilment_task(id: i64) -> Result<TaskPage, AppError> {
    use crate::auth::guard::{check, require, respond, Need};
    let user = require(Need::FulfilmentReader)?;
    let state = crate::state::app_state()?;
    let loaded = async {
        let task = super::db::get(&state.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(TaskPage {
            task,
            can_mark: check(Some(&user), Need::Fulfiller).is_ok(),
        })
    };
    respond(loaded.await)
}

/// Marks one line of a task: `outcome` is `done` or `not_done` (which needs a note).
#[server(prefix = "/api", endpoint = "fulfilment_mark", output = crate::codec::TextJson)]
pub async fn fulfilment_mark(
    task_id: i64,
    revocation_id: i64,
    outcome: String,
    note: String,
) -> Result<(), AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Fulfiller)?;
    let state = crate::state::app_state()?;
    let Some(outcome) = super::LineOutcome::from_slug(outcome.trim()) else {
        return respond(Err(AppError::Validation(format!(
            "`{outcome}` is not an outcome: say done or not_done."
        ))));
    };
    let actor = user.actor();
    respond(
        super::db::mark(
            &state.db,
            state.clock.as_ref(),
            super::db::Marker {
                actor: &actor,
                email: &user.email,
            },
            task_id,
            revocation_id,
            outcome,
            &note,
        )
        .await,
    )
}

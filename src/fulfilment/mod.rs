//! Manual fulfilment tasks: the revocations no API can carry out (the Account Owner's role, a
//! user change without a users gateway, a server without an account token) go to people.
//!
//! After each worker pass, the manual jobs of a campaign without an open line are gathered
//! into one task, once none of that campaign's jobs is still waiting for its first attempt, so
//! one apply makes one task. A line is never moved or deleted, so a task keeps its history. The people in `PAR_FULFILMENT_EMAILS` (Postmark account admins)
//! get one email per task with a link to its page, where each line is marked done, or "could
//! not do" with a note. A line marked done becomes a done revocation that the next sync proves
//! effective or not, like any job; a line that could not be done becomes a failed one that an
//! admin retries (in a new task) or cancels. Retrying or cancelling a revocation withdraws its
//! open line.
//!
//! This file holds the types the pages share with the browser and the words of each line;
//! `db` is server-only.

pub mod api;
pub mod page;

#[cfg(feature = "ssr")]
pub mod db;

use serde::{Deserialize, Serialize};

use crate::{
    review_items::ItemKind,
    revocations::{Action, Status, Verification, BASIC_ROLE},
};

/// What a person said about a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LineOutcome {
    /// The change was made in Postmark.
    Done,
    /// It could not be made; the note says why.
    NotDone,
    /// An admin retried or cancelled the revocation while the line was open: nobody should
    /// act on it any more (a retry that needs a person again opens a line in a new task).
    Withdrawn,
}

impl LineOutcome {
    pub fn slug(self) -> &'static str {
        match self {
            LineOutcome::Done => "done",
            LineOutcome::NotDone => "not_done",
            LineOutcome::Withdrawn => "withdrawn",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        [
            LineOutcome::Done,
            LineOutcome::NotDone,
            LineOutcome::Withdrawn,
        ]
        .into_iter()
        .find(|o| o.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            LineOutcome::Done => "Done",
            LineOutcome::NotDone => "Could not do",
            LineOutcome::Withdrawn => "Withdrawn",
        }
    }
}

/// Longest note kept with a line.
pub const NOTE_MAX: usize = 1000;

/// One revocation of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLine {
    pub revocation_id: i64,
    pub kind: ItemKind,
    pub user_email: Option<String>,
    pub server_id: Option<i64>,
    pub server_name: Option<String>,
    pub access: String,
    pub action: Option<Action>,
    /// What to do in Postmark, in words.
    pub instruction: String,
    /// Why no API did it.
    pub reason: Option<String>,
    pub status: Status,
    pub outcome: Option<LineOutcome>,
    pub note: Option<String>,
    pub by: Option<String>,
    pub at: Option<String>,
    pub verification: Verification,
}

impl TaskLine {
    /// Still waiting for a person.
    pub fn is_open(&self) -> bool {
        self.outcome.is_none()
    }
}

/// A task with its lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: i64,
    /// `None` for a task of offboarding's manual jobs.
    pub campaign_id: Option<i64>,
    /// The campaign's name, or "Offboarding".
    pub campaign_name: String,
    pub created_at: String,
    /// Who was emailed about it; empty when `PAR_FULFILMENT_EMAILS` is not set.
    pub recipients: Vec<String>,
    pub lines: Vec<TaskLine>,
}

/// A task as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSummary {
    pub id: i64,
    /// `None` for a task of offboarding's manual jobs.
    pub campaign_id: Option<i64>,
    /// The campaign's name, or "Offboarding".
    pub campaign_name: String,
    pub created_at: String,
    pub lines: i64,
    /// Lines nobody has marked yet.
    pub open: i64,
    /// Lines marked done that a sync found still in place.
    pub not_effective: i64,
}

/// What to do in Postmark for one line, in words a Postmark admin acts on. `whole_login`:
/// an offboarding or emergency removal, where the user leaves the account whatever their role.
pub fn instruction(
    kind: ItemKind,
    action: Option<Action>,
    user: Option<&str>,
    server: Option<(i64, Option<&str>)>,
    access: &str,
    whole_login: bool,
) -> String {
    let user = user.unwrap_or("(unknown user)");
    let server = match server {
        Some((id, Some(name))) => format!("server \"{name}\" ({id})"),
        Some((id, None)) => format!("server {id}"),
        None => "(unknown server)".to_string(),
    };
    match (kind, action) {
        (_, Some(Action::Invite)) => {
            format!("Invite {user} to the Postmark account with the {access} role.")
        }
        (_, Some(Action::SetRole)) => format!("Change {user}'s account role to {access}."),
        (_, Some(Action::Grant)) => format!("Give {user} the \"{access}\" permission on {server}."),
        (ItemKind::AccountRole, _)
            if whole_login && crate::revocations::is_account_owner(access) =>
        {
            format!(
                "Remove {user} from the Postmark account: they left, and they are the Account \
                 Owner, so make someone else the Account Owner in Postmark's account settings \
                 first."
            )
        }
        (ItemKind::AccountRole, _) if whole_login => format!(
            "Remove {user} from the Postmark account (they left): their role ({access}) and \
             every server permission go with it."
        ),
        (ItemKind::Server, Some(Action::Delete)) => {
            format!("Delete {server} (Servers → the server → Settings → Delete server).")
        }
        (ItemKind::Server, _) => format!(
            "Quarantine {server}: turn off its SMTP API, clear every webhook URL, and rotate \
             or delete its API tokens."
        ),
        (ItemKind::ServerPermission, _) => {
            format!("Remove {user}'s \"{access}\" permission on {server}.")
        }
        (ItemKind::AccountRole, Some(Action::RemoveUser)) => {
            format!("Remove {user} from the Postmark account.")
        }
        (ItemKind::AccountRole, Some(Action::Demote)) => {
            format!("Change {user}'s role from {access} to {BASIC_ROLE}.")
        }
        (ItemKind::AccountRole, _) => format!(
            "Take the {access} role away from {user}: make someone else the {access} in \
             Postmark's account settings first."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_says_what_to_do() {
        assert_eq!(
            instruction(
                ItemKind::ServerPermission,
                Some(Action::RemovePermission),
                Some("jo@example.com"),
                Some((10001, Some("Billing"))),
                "Server Admin",
                false
            ),
            "Remove jo@example.com's \"Server Admin\" permission on server \"Billing\" (10001)."
        );
        assert_eq!(
            instruction(
                ItemKind::AccountRole,
                Some(Action::Demote),
                Some("jo@example.com"),
                None,
                "Account Admin",
                false
            ),
            "Change jo@example.com's role from Account Admin to Server Access."
        );
        assert!(instruction(
            ItemKind::AccountRole,
            Some(Action::Manual),
            Some("ada@example.com"),
            None,
            "Account Owner",
            false
        )
        .contains("make someone else the Account Owner"));
        assert!(instruction(
            ItemKind::AccountRole,
            Some(Action::Manual),
            Some("ada@example.com"),
            None,
            "Account Owner",
            true
        )
        .starts_with("Remove ada@example.com from the Postmark account: they left"));
        assert!(instruction(
            ItemKind::Server,
            None,
            None,
            Some((7, None)),
            "server",
            false
        )
        .starts_with("Quarantine server 7:"));
    }

    #[test]
    fn outcomes_round_trip() {
        for o in [
            LineOutcome::Done,
            LineOutcome::NotDone,
            LineOutcome::Withdrawn,
        ] {
            assert_eq!(LineOutcome::from_slug(o.slug()), Some(o));
        }
        assert_eq!(LineOutcome::from_slug("maybe"), None);
    }
}

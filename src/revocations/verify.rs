//! Proof that a revocation took effect. A worker's "done" only says the call was accepted;
//! the inventory says whether the access is gone. So each successful sync, inside its own
//! transaction (the inventory it just wrote is what it reads), decides the `done` jobs of its
//! scope that finished before it started: *effective* when the access is no longer there,
//! *not effective* when it still is. A later sync that shows an effective revocation's access
//! again marks it as *drift*, once.
//!
//! Servers syncs decide server revocations; users syncs (the users gateway or a CSV import)
//! decide account roles and server permissions.

use serde_json::json;

use super::{db::unreadable, is_basic_role, Action, Verification};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::Tx,
    inventory::SyncScope,
    review_items::ItemKind,
};

/// Who verification events are recorded as: a conclusion drawn from a sync, not anyone's act.
const VERIFIER: &str = "verification";

/// What one sync decided.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verified {
    pub effective: usize,
    pub not_effective: usize,
    pub drift: usize,
}

/// A revocation as verification needs it.
#[derive(sqlx::FromRow)]
struct Candidate {
    id: i64,
    campaign_id: Option<i64>,
    kind: String,
    user_email: Option<String>,
    server_id: Option<i64>,
    access: String,
    action: Option<String>,
    /// `campaign`, or `offboarding` / `emergency`: the whole login was to go.
    origin: String,
}

/// Which revocations a sync of `scope` can prove: what it actually read from Postmark.
fn kinds_of(scope: SyncScope) -> &'static str {
    match scope {
        SyncScope::Servers => "r.kind = 'server'",
        SyncScope::Users => "r.kind IN ('account_role', 'server_permission')",
    }
}

const CANDIDATE: &str =
    "SELECT r.id, r.campaign_id, r.kind, r.user_email, r.server_id, r.access, r.action, \
     r.origin FROM revocations r";

/// Verifies the done revocations `sync_id` can prove and looks for drift among the effective
/// ones, writing the outcomes and their audit events into `tx`, the sync's own transaction
/// (call it after the inventory is written, before the commit).
///
/// Only jobs that finished no later than the sync started are decided: a sync that read
/// Postmark before the change was made would call it not effective by mistake. Verification
/// is decided once; a not effective revocation stays so (an admin acts on it). A quarantine an
/// admin restored is left alone: the server is meant to be back, so it proves nothing and its
/// return is not drift.
#[tracing::instrument(skip_all, fields(sync.id = sync_id, sync.scope = scope.slug()))]
pub async fn after_sync(
    tx: &mut Tx,
    clock: &dyn Clock,
    scope: SyncScope,
    sync_id: i64,
) -> Result<Verified, sqlx::Error> {
    let (started_at,): (String,) = sqlx::query_as("SELECT started_at FROM syncs WHERE id = $1")
        .bind(sync_id)
        .fetch_one(&mut **tx)
        .await?;
    let now = format_timestamp(clock.now());
    let actor = Actor::system(VERIFIER);
    let mut verified = Verified::default();

    // Drift first, among revocations an earlier sync proved, so one verified by this sync is
    // not also compared with itself.
    let effective: Vec<Candidate> = sqlx::query_as(&format!(
        "{CANDIDATE} WHERE r.verification = 'effective' AND r.drift_at IS NULL \
         AND r.restored_at IS NULL AND r.verified_sync_id < $1 AND {} \
         AND (r.action IS NULL OR r.action NOT IN ('invite', 'grant', 'set_role')) ORDER BY r.id",
        kinds_of(scope)
    ))
    .bind(sync_id)
    .fetch_all(&mut **tx)
    .await?;
    for candidate in effective {
        if !shows(tx, &candidate).await? {
            continue;
        }
        let marked = sqlx::query(
            "UPDATE revocations SET drift_at = $1, drift_sync_id = $2 \
             WHERE id = $3 AND drift_at IS NULL",
        )
        .bind(&now)
        .bind(sync_id)
        .bind(candidate.id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if marked == 1 {
            let event = Event::new("revocation.drift", format!("revocation:{}", candidate.id))
                .details(details(&candidate, sync_id, None));
            audit::record(tx, clock, &actor, &event).await?;
            verified.drift += 1;
        }
    }

    let done: Vec<Candidate> = sqlx::query_as(&format!(
        "{CANDIDATE} WHERE r.status = 'done' AND r.verification = 'unverified' \
         AND r.restored_at IS NULL AND r.finished_at IS NOT NULL AND r.finished_at <= $1 \
         AND {} ORDER BY r.id",
        kinds_of(scope)
    ))
    .bind(&started_at)
    .fetch_all(&mut **tx)
    .await?;
    for candidate in done {
        // A grant (a group mapping's provisioning) is effective when the access is there.
        let outcome = if shows(tx, &candidate).await? != grants(&candidate) {
            Verification::NotEffective
        } else {
            Verification::Effective
        };
        let decided = sqlx::query(
            "UPDATE revocations SET verification = $1, verified_at = $2, verified_sync_id = $3 \
             WHERE id = $4 AND verification = 'unverified'",
        )
        .bind(outcome.slug())
        .bind(&now)
        .bind(sync_id)
        .bind(candidate.id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if decided != 1 {
            continue;
        }
        let event = Event::new(
            "revocation.verified",
            format!("revocation:{}", candidate.id),
        )
        .details(details(&candidate, sync_id, Some(outcome)));
        audit::record(tx, clock, &actor, &event).await?;
        match outcome {
            Verification::Effective => verified.effective += 1,
            Verification::NotEffective => {
                tracing::warn!(
                    revocation.id = candidate.id,
                    "revocation not effective: the sync still shows the access"
                );
                verified.not_effective += 1;
            }
            Verification::Unverified => {}
        }
    }
    Ok(verified)
}

fn details(
    candidate: &Candidate,
    sync_id: i64,
    outcome: Option<Verification>,
) -> serde_json::Value {
    let mut details = json!({
        "campaign": candidate.campaign_id,
        "sync": sync_id,
        "kind": candidate.kind,
        "user": candidate.user_email,
        "server": candidate.server_id,
        "access": candidate.access,
    });
    if let Some(outcome) = outcome {
        details["outcome"] = json!(outcome.slug());
    }
    details
}

fn grants(candidate: &Candidate) -> bool {
    candidate
        .action
        .as_deref()
        .and_then(Action::from_slug)
        .is_some_and(Action::grants)
}

/// Whether the inventory in `tx` still shows the access `candidate` took away (or, for a
/// grant, shows the access it gave).
async fn shows(tx: &mut Tx, candidate: &Candidate) -> Result<bool, sqlx::Error> {
    let id = candidate.id;
    let kind = ItemKind::from_slug(&candidate.kind)
        .ok_or_else(|| unreadable(id, "kind", &candidate.kind))?;
    let action = candidate
        .action
        .as_deref()
        .map(|a| Action::from_slug(a).ok_or_else(|| unreadable(id, "action", a)))
        .transpose()?;
    let missing = |column: &str| unreadable(id, column, "NULL");
    match kind {
        ItemKind::Server => {
            let server = candidate.server_id.ok_or_else(|| missing("server_id"))?;
            let row: Option<ServerRow> = sqlx::query_as(
                "SELECT CAST(CASE WHEN smtp_api_activated THEN 1 ELSE 0 END AS BIGINT), \
                 delivery_hook_url, inbound_hook_url, bounce_hook_url, open_hook_url, \
                 click_hook_url FROM servers WHERE postmark_id = $1",
            )
            .bind(server)
            .fetch_optional(&mut **tx)
            .await?;
            Ok(server_shows(action, row.map(|r| quarantined(&r))))
        }
        ItemKind::ServerPermission => {
            let email = candidate
                .user_email
                .as_deref()
                .ok_or_else(|| missing("user_email"))?;
            let server = candidate.server_id.ok_or_else(|| missing("server_id"))?;
            let held: Option<(String,)> = sqlx::query_as(
                "SELECT permission FROM user_permissions \
                 WHERE email = $1 AND postmark_server_id = $2",
            )
            .bind(email)
            .bind(server)
            .fetch_optional(&mut **tx)
            .await?;
            if action == Some(Action::Grant) {
                let given =
                    held.is_some_and(|(p,)| p.trim().eq_ignore_ascii_case(&candidate.access));
                return Ok(given);
            }
            Ok(held.is_some())
        }
        ItemKind::AccountRole => {
            let email = candidate
                .user_email
                .as_deref()
                .ok_or_else(|| missing("user_email"))?;
            let role: Option<(String,)> =
                sqlx::query_as("SELECT role FROM postmark_users WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&mut **tx)
                    .await?;
            if matches!(action, Some(Action::Invite | Action::SetRole)) {
                let given =
                    role.is_some_and(|(r,)| r.trim().eq_ignore_ascii_case(&candidate.access));
                return Ok(given);
            }
            // Removing the user (a leaver's offboarding, whatever their role, even the Account
            // Owner's by hand) is proved only by their absence.
            if action == Some(Action::RemoveUser)
                || matches!(candidate.origin.as_str(), "offboarding" | "emergency")
            {
                return Ok(role.is_some());
            }
            Ok(role_shows(
                &candidate.access,
                role.as_ref().map(|(r,)| r.as_str()),
            ))
        }
    }
}

/// `(smtp_api_activated, delivery, inbound, bounce, open, click hook URLs)`.
type ServerRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Quarantined as far as access goes: SMTP API off and no webhook URL left. The name prefix
/// the worker adds is a label for people, not a loss of access, so it is not required.
fn quarantined(row: &ServerRow) -> bool {
    let (smtp, delivery, inbound, bounce, open, click) = row;
    *smtp == 0
        && [delivery, inbound, bounce, open, click]
            .into_iter()
            .all(|url| url.as_deref().is_none_or(|u| u.trim().is_empty()))
}

/// A server revocation still shows when the server is there (`Some(quarantined)`) and either
/// was to be deleted or is not quarantined. A server an admin chose to delete must be gone:
/// quarantine leaves its API tokens working.
fn server_shows(action: Option<Action>, server: Option<bool>) -> bool {
    match server {
        None => false,
        Some(_) if action == Some(Action::Delete) => true,
        Some(quarantined) => !quarantined,
    }
}

/// An account role revocation still shows when the user is there and either the revoked role
/// was the basic membership (they should be gone) or they still hold more than the basic role
/// (a demotion, or the Account Owner's manual task, did not happen).
fn role_shows(revoked: &str, current: Option<&str>) -> bool {
    match current {
        None => false,
        Some(_) if is_basic_role(revoked) => true,
        Some(role) => !is_basic_role(role),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_is_revoked_when_gone_or_quarantined_unless_it_was_to_be_deleted() {
        let quarantine = Some(Action::Quarantine);
        assert!(!server_shows(quarantine, None));
        assert!(!server_shows(quarantine, Some(true)));
        assert!(server_shows(quarantine, Some(false)));
        assert!(!server_shows(Some(Action::Delete), None));
        assert!(server_shows(Some(Action::Delete), Some(true)));
    }

    #[test]
    fn quarantine_needs_smtp_off_and_every_webhook_cleared() {
        let none = || None::<String>;
        assert!(quarantined(&(
            0,
            none(),
            none(),
            Some(" ".into()),
            none(),
            none()
        )));
        assert!(!quarantined(&(1, none(), none(), none(), none(), none())));
        let hook = Some("https://hooks.example.com/click".to_string());
        assert!(!quarantined(&(0, none(), none(), none(), none(), hook)));
    }

    #[test]
    fn a_role_is_revoked_when_the_user_is_gone_or_holds_only_the_basic_role() {
        assert!(!role_shows("Server Access", None));
        assert!(role_shows("Server Access", Some("Server Access")));
        assert!(!role_shows("Account Admin", Some("Server Access")));
        assert!(!role_shows("Account Admin", Some("teammate")));
        assert!(role_shows("Account Admin", Some("Account Admin")));
        assert!(role_shows("Billing", Some("Technical")));
        assert!(role_shows("Account Owner", Some("Account Owner")));
        assert!(!role_shows("Account Owner", None));
    }
}

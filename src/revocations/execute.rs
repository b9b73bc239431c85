//! What a job does: read the current state first (access already gone counts as done, without
//! a write), then make the one change its action calls for. Every call's answer is sorted
//! into done, retry (429, 5xx, timeouts, network), failed (422 and other refusals) or paused
//! (401/403: the credentials, not the job).
//!
//! Each action is idempotent, so running a job again after a crash or a lost answer (the
//! queue is at-least-once) leaves the same final state: quarantine recognises a server it
//! already quarantined, removals treat "not found" as done.

use std::time::Duration;

use serde_json::Value;

use super::{
    queue::{self, Attempt, Job},
    Action, BASIC_ROLE, OWNER_IS_MANUAL,
};
use crate::{
    db::Db,
    postmark::{
        gateway::{GatewayError, GatewayUser, UsersGateway},
        servers::{CallFailure, ServerEdit},
        PostmarkClient, ServerInfo,
    },
};

/// The prefix a quarantined server's name carries, before the date.
pub const QUARANTINE_PREFIX: &str = "[revoked ";

/// Whose credentials were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Postmark,
    Gateway,
}

impl Refused {
    /// The pause reason stored in `worker_pauses` (and shown to admins).
    pub fn reason(self) -> &'static str {
        match self {
            Refused::Postmark => "Postmark rejected the account token",
            Refused::Gateway => "The users gateway rejected its token",
        }
    }

    /// Reads a stored pause reason back (`None`: written by something else).
    pub fn from_reason(reason: &str) -> Option<Self> {
        [Refused::Postmark, Refused::Gateway]
            .into_iter()
            .find(|r| reason.starts_with(r.reason()))
    }
}

/// How one attempt ended, before the worker applies its retry limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Done,
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    Failed(String),
    Paused(Refused),
    Manual(String),
    /// The lease ran out mid-job; another worker has it.
    LeaseLost,
}

/// The outcome of one attempt and the call that decided it (`None`: no call was made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub attempt: Option<Attempt>,
    pub ended: Ended,
}

impl Execution {
    fn manual(reason: impl Into<String>) -> Self {
        Self {
            attempt: None,
            ended: Ended::Manual(reason.into()),
        }
    }

    fn done(operation: String, message: impl Into<String>, status: Option<u16>) -> Self {
        Self {
            attempt: Some(Attempt {
                operation,
                http_status: status.map(i64::from),
                error_code: None,
                message: Some(message.into()),
            }),
            ended: Ended::Done,
        }
    }

    /// A Postmark call that did not succeed.
    fn postmark(operation: String, failure: &CallFailure) -> Self {
        let ended = match failure.status {
            Some(401 | 403) => Ended::Paused(Refused::Postmark),
            Some(422) => Ended::Failed(format!("Postmark refused the change: {}", failure.message)),
            Some(408 | 429) | None => Ended::Retry {
                error: failure.to_string(),
                retry_after: failure.retry_after,
            },
            Some(s) if s >= 500 || (200..300).contains(&s) => Ended::Retry {
                error: failure.to_string(),
                retry_after: failure.retry_after,
            },
            Some(_) => Ended::Failed(failure.to_string()),
        };
        Self {
            attempt: Some(Attempt {
                operation,
                http_status: failure.status.map(i64::from),
                error_code: failure.error_code,
                message: Some(failure.message.clone()),
            }),
            ended,
        }
    }

    /// A gateway call that did not succeed.
    fn gateway(operation: String, error: &GatewayError) -> Self {
        let (status, ended) = match error {
            GatewayError::Unauthorized => (Some(401), Ended::Paused(Refused::Gateway)),
            GatewayError::NotFound => (Some(404), Ended::Failed(error.to_string())),
            GatewayError::Throttled { retry_after } => (
                Some(429),
                Ended::Retry {
                    error: error.to_string(),
                    retry_after: *retry_after,
                },
            ),
            // A gateway that can read but not make this change (documented in the contract):
            // a person must, so the job becomes a manual task instead of failing.
            GatewayError::Status(s @ (405 | 501)) => (
                Some(*s),
                Ended::Manual(format!(
                    "The users gateway cannot make this change (it answered {s}): make it by \
                     hand in Postmark."
                )),
            ),
            GatewayError::Status(s) if *s >= 500 || *s == 408 => (
                Some(*s),
                Ended::Retry {
                    error: error.to_string(),
                    retry_after: None,
                },
            ),
            GatewayError::Status(s) => (Some(*s), Ended::Failed(error.to_string())),
            GatewayError::Timeout | GatewayError::Unreachable(_) | GatewayError::Malformed(_) => (
                None,
                Ended::Retry {
                    error: error.to_string(),
                    retry_after: None,
                },
            ),
        };
        Self {
            attempt: Some(Attempt {
                operation,
                http_status: status.map(i64::from),
                error_code: None,
                message: Some(error.to_string()),
            }),
            ended,
        }
    }
}

/// The gateway's user list, read once per pass of the worker and kept in step with the
/// changes the pass makes (a list per job would cost a full read each).
#[derive(Debug, Default)]
pub struct Users(Option<Vec<GatewayUser>>);

impl Users {
    async fn load(
        &mut self,
        gateway: &UsersGateway,
    ) -> Result<&mut Vec<GatewayUser>, GatewayError> {
        if self.0.is_none() {
            self.0 = Some(gateway.list_users().await?);
        }
        Ok(self.0.get_or_insert_with(Vec::new))
    }
}

fn is_quarantined(server: &ServerInfo) -> bool {
    let cleared = |url: &Option<String>| url.as_deref().is_none_or(str::is_empty);
    !server.smtp_api_activated
        && server.name.starts_with(QUARANTINE_PREFIX)
        && [
            &server.inbound_hook_url,
            &server.bounce_hook_url,
            &server.open_hook_url,
            &server.delivery_hook_url,
            &server.click_hook_url,
        ]
        .into_iter()
        .all(cleared)
}

/// The values quarantine changes, as they are now, in the shape of the edit that restores them
/// (webhook credentials cut out: they are never stored, see [`ServerEdit::kept`]).
fn previous_values(server: &ServerInfo) -> Value {
    let url = |u: &Option<String>| Some(u.clone().unwrap_or_default());
    ServerEdit {
        name: Some(server.name.clone()),
        smtp_api_activated: Some(server.smtp_api_activated),
        inbound_hook_url: url(&server.inbound_hook_url),
        bounce_hook_url: url(&server.bounce_hook_url),
        open_hook_url: url(&server.open_hook_url),
        delivery_hook_url: url(&server.delivery_hook_url),
        click_hook_url: url(&server.click_hook_url),
    }
    .kept()
}

/// What an attempt may use: the clients that are configured, the database (to keep a
/// server's values before quarantine) and today's date for the name prefix.
#[derive(Debug)]
pub struct Calls<'a> {
    pub postmark: Option<&'a PostmarkClient>,
    pub gateway: Option<&'a UsersGateway>,
    pub db: &'a Db,
    /// `YYYY-MM-DD`.
    pub today: String,
}

impl Calls<'_> {
    /// Carries out one attempt of `job`.
    pub async fn execute(&self, job: &Job, users: &mut Users) -> anyhow::Result<Execution> {
        match job.action {
            Action::Manual => Ok(Execution::manual(
                if job.kind == crate::review_items::ItemKind::AccountRole {
                    OWNER_IS_MANUAL.to_string()
                } else {
                    "No API can carry this out: remove the access by hand in Postmark.".to_string()
                },
            )),
            Action::Quarantine | Action::Delete => {
                let Some(client) = self.postmark else {
                    return Ok(Execution::manual(
                        "No Postmark account token is configured (PAR_POSTMARK_ACCOUNT_TOKEN): \
                         change the server by hand in Postmark.",
                    ));
                };
                let Some(server_id) = job.server_id else {
                    return Ok(failed_without("the revocation names no server"));
                };
                if job.action == Action::Delete {
                    Ok(delete(client, server_id).await)
                } else {
                    self.quarantine(client, job, server_id).await
                }
            }
            Action::RemovePermission
            | Action::RemoveUser
            | Action::Demote
            | Action::Invite
            | Action::Grant
            | Action::SetRole => {
                let Some(gateway) = self.gateway else {
                    return Ok(Execution::manual(if job.action.grants() {
                        "No users gateway is configured (PAR_POSTMARK_USERS_URL): give this \
                         access by hand in Postmark."
                    } else {
                        "No users gateway is configured (PAR_POSTMARK_USERS_URL): remove this \
                         access by hand in Postmark."
                    }));
                };
                let Some(email) = job.user_email.as_deref() else {
                    return Ok(failed_without("the revocation names no user"));
                };
                Ok(through_gateway(gateway, users, job, email).await)
            }
        }
    }

    /// SMTP off, every webhook URL cleared, the name prefixed once; the previous values are
    /// stored before the change so an admin can restore them.
    async fn quarantine(
        &self,
        client: &PostmarkClient,
        job: &Job,
        id: i64,
    ) -> anyhow::Result<Execution> {
        let read = format!("GET /servers/{id}");
        let server = match client.server(id).await {
            Ok(server) => server,
            Err(failure) if failure.is_no_such_server() => {
                return Ok(Execution::done(
                    read,
                    "the server no longer exists",
                    failure.status,
                ))
            }
            Err(failure) => return Ok(Execution::postmark(read, &failure)),
        };
        if is_quarantined(&server) {
            return Ok(Execution::done(read, "already quarantined", Some(200)));
        }
        if !queue::keep_previous(self.db, job, &previous_values(&server)).await? {
            return Ok(Execution {
                attempt: None,
                ended: Ended::LeaseLost,
            });
        }
        let name = if server.name.starts_with(QUARANTINE_PREFIX) {
            server.name.clone()
        } else {
            format!("{QUARANTINE_PREFIX}{}] {}", self.today, server.name)
        };
        let cleared = Some(String::new());
        let edit = ServerEdit {
            name: Some(name),
            smtp_api_activated: Some(false),
            inbound_hook_url: cleared.clone(),
            bounce_hook_url: cleared.clone(),
            open_hook_url: cleared.clone(),
            delivery_hook_url: cleared.clone(),
            click_hook_url: cleared,
        };
        let write = format!("PUT /servers/{id}");
        Ok(match client.edit_server(id, edit).await {
            Ok(_) => Execution::done(write, "quarantined", Some(200)),
            Err(failure) if failure.is_no_such_server() => {
                Execution::done(write, "the server no longer exists", failure.status)
            }
            Err(failure) => Execution::postmark(write, &failure),
        })
    }
}

fn failed_without(what: &str) -> Execution {
    Execution {
        attempt: None,
        ended: Ended::Failed(format!("cannot be carried out: {what}")),
    }
}

/// Deletes a server (chosen explicitly by an admin); a server already gone is done.
async fn delete(client: &PostmarkClient, id: i64) -> Execution {
    let read = format!("GET /servers/{id}");
    match client.server(id).await {
        Ok(_) => {}
        Err(failure) if failure.is_no_such_server() => {
            return Execution::done(read, "the server no longer exists", failure.status)
        }
        Err(failure) => return Execution::postmark(read, &failure),
    }
    let write = format!("DELETE /servers/{id}");
    match client.delete_server(id).await {
        Ok(()) => Execution::done(write, "deleted", Some(200)),
        Err(failure) if failure.is_no_such_server() => {
            Execution::done(write, "the server no longer exists", failure.status)
        }
        Err(failure) => Execution::postmark(write, &failure),
    }
}

/// Removes a permission, removes a user or demotes a role through the users gateway, after
/// checking the pass's user list.
async fn through_gateway(
    gateway: &UsersGateway,
    users: &mut Users,
    job: &Job,
    email: &str,
) -> Execution {
    let read = "GET gateway users".to_string();
    let list = match users.load(gateway).await {
        Ok(list) => list,
        Err(error) => return Execution::gateway(read, &error),
    };
    let index = list
        .iter()
        .position(|u| u.email.eq_ignore_ascii_case(email));
    if job.action.grants() {
        return provision(gateway, list, index, job, email).await;
    }
    let Some(index) = index else {
        return Execution::done(read, "the user is no longer in the account", Some(200));
    };
    let path = crate::urlenc::encode(email, b"@+");
    match job.action {
        Action::RemovePermission => {
            let Some(server_id) = job.server_id else {
                return failed_without("the revocation names no server");
            };
            if !list[index].servers.iter().any(|p| p.server_id == server_id) {
                return Execution::done(
                    read,
                    "the user has no permission on the server",
                    Some(200),
                );
            }
            let write = format!("PUT gateway users/{path}/servers/{server_id}");
            match gateway.set_permission(email, server_id, None).await {
                Ok(()) | Err(GatewayError::NotFound) => {
                    list[index].servers.retain(|p| p.server_id != server_id);
                    Execution::done(write, "permission removed", Some(204))
                }
                Err(error) => Execution::gateway(write, &error),
            }
        }
        Action::RemoveUser => {
            let write = format!("DELETE gateway users/{path}");
            match gateway.remove_user(email).await {
                Ok(()) | Err(GatewayError::NotFound) => {
                    list.remove(index);
                    Execution::done(write, "user removed from the account", Some(204))
                }
                Err(error) => Execution::gateway(write, &error),
            }
        }
        _ => {
            // Demote: done when the user no longer holds the revoked role.
            if !list[index]
                .role
                .trim()
                .eq_ignore_ascii_case(job.access.trim())
            {
                let now = format!("the user's role is now {:?}", list[index].role);
                return Execution::done(read, now, Some(200));
            }
            let write = format!("PUT gateway users/{path}/role");
            match gateway.set_role(email, BASIC_ROLE).await {
                Ok(()) => {
                    list[index].role = BASIC_ROLE.to_string();
                    Execution::done(write, format!("role set to {BASIC_ROLE}"), Some(204))
                }
                Err(GatewayError::NotFound) => {
                    list.remove(index);
                    Execution::done(write, "the user is no longer in the account", Some(404))
                }
                Err(error) => Execution::gateway(write, &error),
            }
        }
    }
}

/// Gives the access a group mapping grants: invites a new login, sets a server permission or
/// an account role, each done at once when the list already shows it.
async fn provision(
    gateway: &UsersGateway,
    list: &mut Vec<GatewayUser>,
    index: Option<usize>,
    job: &Job,
    email: &str,
) -> Execution {
    let read = "GET gateway users".to_string();
    let path = crate::urlenc::encode(email, b"@+");
    let access = job.access.trim();
    if job.action == Action::Invite {
        if index.is_some() {
            return Execution::done(read, "the user is already in the account", Some(200));
        }
        let name = job
            .previous
            .as_deref()
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .and_then(|p| p["name"].as_str().map(str::to_string))
            .unwrap_or_default();
        let write = "POST gateway users".to_string();
        return match gateway.invite_user(email, &name, access).await {
            Ok(()) => {
                list.push(GatewayUser {
                    email: email.to_string(),
                    name,
                    role: access.to_string(),
                    status: "pending".to_string(),
                    invited_at: None,
                    servers: Vec::new(),
                });
                Execution::done(write, format!("invited as {access}"), Some(201))
            }
            Err(GatewayError::Status(409)) => {
                Execution::done(write, "the user is already in the account", Some(409))
            }
            Err(error) => Execution::gateway(write, &error),
        };
    }
    let Some(index) = index else {
        // An invitation queued before this job may not have run yet: wait for it.
        return Execution {
            attempt: None,
            ended: Ended::Retry {
                error: "the user is not in the account yet".to_string(),
                retry_after: None,
            },
        };
    };
    if job.action == Action::Grant {
        let Some(server_id) = job.server_id else {
            return failed_without("the job names no server");
        };
        let held = list[index]
            .servers
            .iter()
            .find(|p| p.server_id == server_id);
        if held.is_some_and(|p| p.permission.trim().eq_ignore_ascii_case(access)) {
            return Execution::done(read, "the user already has the permission", Some(200));
        }
        let write = format!("PUT gateway users/{path}/servers/{server_id}");
        return match gateway.set_permission(email, server_id, Some(access)).await {
            Ok(()) => {
                let servers = &mut list[index].servers;
                servers.retain(|p| p.server_id != server_id);
                servers.push(crate::postmark::gateway::GatewayPermission {
                    server_id,
                    permission: access.to_string(),
                });
                Execution::done(write, format!("permission set to {access}"), Some(204))
            }
            Err(error) => Execution::gateway(write, &error),
        };
    }
    if list[index].role.trim().eq_ignore_ascii_case(access) {
        return Execution::done(read, "the user already has the role", Some(200));
    }
    let write = format!("PUT gateway users/{path}/role");
    match gateway.set_role(email, access).await {
        Ok(()) => {
            list[index].role = access.to_string();
            Execution::done(write, format!("role set to {access}"), Some(204))
        }
        Err(error) => Execution::gateway(write, &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_reasons_read_back() {
        for refused in [Refused::Postmark, Refused::Gateway] {
            assert_eq!(Refused::from_reason(refused.reason()), Some(refused));
        }
        assert_eq!(Refused::from_reason("something else"), None);
    }

    #[test]
    fn a_server_is_quarantined_only_with_everything_off() {
        let mut server = ServerInfo::sample(1, "[revoked 2026-11-28] one", &["t"]);
        server.smtp_api_activated = false;
        for url in [
            &mut server.inbound_hook_url,
            &mut server.bounce_hook_url,
            &mut server.open_hook_url,
            &mut server.delivery_hook_url,
            &mut server.click_hook_url,
        ] {
            *url = Some(String::new());
        }
        assert!(is_quarantined(&server));
        server.click_hook_url = Some("https://hooks.example.com/c".into());
        assert!(!is_quarantined(&server));
    }
}

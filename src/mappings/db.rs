//! Group mappings in the database: the admin's writes (validated, previewed, saved with the
//! jobs they call for in one transaction) and the hook SCIM group changes call inside their
//! own transaction.

use std::collections::BTreeMap;

use serde_json::json;

use super::{
    entitle::{self, Entitlements, Planned, Rule},
    Effect, EffectLine, MappingForm, MappingJob, MappingView, Overview, PERMISSIONS, ROLES,
};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::{Db, Tx},
    error::AppError,
    revocations::{Action, Status, Verification},
};

/// Longest group name accepted (SCIM display names are short; this bounds the input).
const GROUP_MAX: usize = 200;

/// The mappings' view of everyone before a change, taken inside the change's transaction;
/// `None` when there is no mapping (the common case costs one query).
pub async fn before_change(tx: &mut Tx) -> Result<Option<Entitlements>, sqlx::Error> {
    let rules = entitle::rules(&mut *tx).await?;
    if rules.is_empty() {
        return Ok(None);
    }
    Ok(Some(entitle::entitlements(&mut *tx, &rules).await?))
}

/// After a SCIM change in `tx`: starts the jobs that bring Postmark in line with what the
/// mappings now give (with `losses`, also takes away what they no longer give). Returns the
/// jobs' ids.
pub async fn after_change(
    tx: &mut Tx,
    clock: &dyn Clock,
    actor: &Actor,
    before: Option<Entitlements>,
    losses: bool,
) -> Result<Vec<i64>, sqlx::Error> {
    let Some(before) = before else {
        return Ok(Vec::new());
    };
    let rules = entitle::rules(&mut *tx).await?;
    let after = entitle::entitlements(&mut *tx, &rules).await?;
    let held = entitle::held(&mut *tx).await?;
    let planned = entitle::plan(&before, &after, &held, losses);
    start(tx, clock, actor, &planned, "provider").await
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::Validation(message.into())
}

/// Checks a form against the inventory and the other mappings; the rule it describes.
async fn validate(tx: &mut Tx, form: &MappingForm) -> Result<Rule, AppError> {
    let group = form.group.trim();
    if group.is_empty() {
        return Err(invalid("Name the identity provider's group."));
    }
    if group.chars().count() > GROUP_MAX {
        return Err(invalid(format!(
            "A group name is at most {GROUP_MAX} characters."
        )));
    }
    let pick = |value: &str, allowed: &[&str], what: &str| -> Result<Option<String>, AppError> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(value))
            .map(|a| Some(a.to_string()))
            .ok_or_else(|| invalid(format!("{value:?} is not {what} ({}).", allowed.join(", "))))
    };
    let role = pick(&form.role, &ROLES, "an account role a mapping can grant")?;
    let permission = pick(&form.permission, &PERMISSIONS, "a server permission")?;
    let mut servers = form.servers.clone();
    servers.sort_unstable();
    servers.dedup();
    match (&permission, servers.is_empty()) {
        (None, false) => return Err(invalid("Choose a permission for the servers.")),
        (Some(_), true) => return Err(invalid("Choose the servers the permission is on.")),
        _ => {}
    }
    if role.is_none() && permission.is_none() {
        return Err(invalid(
            "A mapping grants an account role, a server permission, or both.",
        ));
    }
    for server in &servers {
        let known: Option<(i64,)> =
            sqlx::query_as("SELECT postmark_id FROM servers WHERE postmark_id = $1")
                .bind(server)
                .fetch_optional(&mut **tx)
                .await?;
        if known.is_none() {
            return Err(invalid(format!(
                "Server {server} is not in the inventory (sync servers first)."
            )));
        }
    }
    let key = group.to_lowercase();
    let taken: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM group_mappings WHERE group_key = $1")
            .bind(&key)
            .fetch_optional(&mut **tx)
            .await?;
    if let Some((other,)) = taken {
        if form.id != Some(other) {
            return Err(invalid(format!(
                "The group {group:?} already has a mapping: change that one."
            )));
        }
    }
    if let Some(id) = form.id {
        let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM group_mappings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        exists.ok_or(AppError::NotFound)?;
    }
    Ok(Rule {
        group_key: key,
        group_name: group.to_string(),
        role,
        permission,
        servers,
    })
}

/// The rules with `rule` in place of mapping `id` (or added); `rule` `None` removes it.
async fn rules_with(
    tx: &mut Tx,
    id: Option<i64>,
    rule: Option<Rule>,
) -> Result<Vec<Rule>, sqlx::Error> {
    let replaced: Option<String> = match id {
        Some(id) => {
            sqlx::query_as::<_, (String,)>("SELECT group_key FROM group_mappings WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .map(|(k,)| k)
        }
        None => None,
    };
    let mut rules: Vec<Rule> = entitle::rules(&mut *tx)
        .await?
        .into_iter()
        .filter(|r| Some(&r.group_key) != replaced.as_ref())
        .collect();
    rules.extend(rule);
    Ok(rules)
}

/// What a change of the mappings to `rules` calls for.
async fn effect_of(tx: &mut Tx, rules: &[Rule]) -> Result<Vec<Planned>, sqlx::Error> {
    let current = entitle::rules(&mut *tx).await?;
    let before = entitle::entitlements(&mut *tx, &current).await?;
    let after = entitle::entitlements(&mut *tx, rules).await?;
    let held = entitle::held(&mut *tx).await?;
    Ok(entitle::plan(&before, &after, &held, true))
}

async fn server_names(tx: &mut Tx) -> Result<BTreeMap<i64, String>, sqlx::Error> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT postmark_id, name FROM servers")
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows.into_iter().collect())
}

/// A job in words.
fn describe(
    action: Action,
    server: Option<i64>,
    access: &str,
    names: &BTreeMap<i64, String>,
) -> String {
    let on = |server: Option<i64>| match server {
        Some(id) => match names.get(&id) {
            Some(name) => format!("{name} ({id})"),
            None => format!("server {id}"),
        },
        None => "(no server)".to_string(),
    };
    match action {
        Action::Invite => format!("Invite to the account as {access}"),
        Action::SetRole => format!("Account role {access}"),
        Action::Demote => format!("Account role {access} (back to Server Access)"),
        _ => format!("{access} on {}", on(server)),
    }
}

async fn effect(tx: &mut Tx, planned: &[Planned]) -> Result<Effect, sqlx::Error> {
    let names = server_names(tx).await?;
    let mut effect = Effect::default();
    for p in planned {
        let line = EffectLine {
            email: p.email.clone(),
            person: p.person.clone(),
            what: describe(p.action, p.server_id, &p.access, &names),
        };
        if p.gains() {
            effect.gains.push(line);
        } else {
            effect.losses.push(line);
        }
    }
    Ok(effect)
}

/// What saving `form` would do, without saving it.
pub async fn preview(db: &Db, form: &MappingForm) -> Result<Effect, AppError> {
    let mut tx = db.begin().await?;
    let rule = validate(&mut tx, form).await?;
    let rules = rules_with(&mut tx, form.id, Some(rule)).await?;
    let planned = effect_of(&mut tx, &rules).await?;
    let mut effect = effect(&mut tx, &planned).await?;
    effect.unknown_group = !group_known(&mut tx, &rule_key(form)).await?;
    tx.rollback().await?;
    Ok(effect)
}

fn rule_key(form: &MappingForm) -> String {
    form.group.trim().to_lowercase()
}

async fn group_known(tx: &mut Tx, key: &str) -> Result<bool, sqlx::Error> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM scim_groups WHERE display_name_key = $1")
            .bind(key)
            .fetch_one(&mut **tx)
            .await?;
    Ok(n > 0)
}

/// What deleting mapping `id` would do.
pub async fn preview_delete(db: &Db, id: i64) -> Result<Effect, AppError> {
    let mut tx = db.begin().await?;
    let rules = rules_with(&mut tx, Some(id), None).await?;
    let planned = effect_of(&mut tx, &rules).await?;
    let effect = effect(&mut tx, &planned).await?;
    tx.rollback().await?;
    Ok(effect)
}

/// Saves `form` and starts the jobs it calls for, with one `mapping.saved` event.
pub async fn save(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    by: &str,
    form: &MappingForm,
) -> Result<Effect, AppError> {
    let mut tx = db.begin().await?;
    let rule = validate(&mut tx, form).await?;
    let rules = rules_with(&mut tx, form.id, Some(rule.clone())).await?;
    let planned = effect_of(&mut tx, &rules).await?;
    let now = format_timestamp(clock.now());
    let id = match form.id {
        Some(id) => {
            sqlx::query(
                "UPDATE group_mappings SET group_name = $1, group_key = $2, role = $3, \
                 permission = $4, updated_at = $5, updated_by = $6 WHERE id = $7",
            )
            .bind(&rule.group_name)
            .bind(&rule.group_key)
            .bind(&rule.role)
            .bind(&rule.permission)
            .bind(&now)
            .bind(by)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM group_mapping_servers WHERE mapping_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            id
        }
        None => {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO group_mappings (group_name, group_key, role, permission, \
                 created_at, created_by, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $5, $6) RETURNING id",
            )
            .bind(&rule.group_name)
            .bind(&rule.group_key)
            .bind(&rule.role)
            .bind(&rule.permission)
            .bind(&now)
            .bind(by)
            .fetch_one(&mut *tx)
            .await?;
            id
        }
    };
    for server in &rule.servers {
        sqlx::query("INSERT INTO group_mapping_servers (mapping_id, server_id) VALUES ($1, $2)")
            .bind(id)
            .bind(server)
            .execute(&mut *tx)
            .await?;
    }
    let jobs = start(&mut tx, clock, actor, &planned, "admin").await?;
    let effect = effect(&mut tx, &planned).await?;
    let event = Event::new("mapping.saved", format!("mapping:{id}")).details(json!({
        "group": rule.group_name, "role": rule.role, "permission": rule.permission,
        "servers": rule.servers, "new": form.id.is_none(), "jobs": jobs,
    }));
    audit::record(&mut tx, clock, actor, &event).await?;
    tx.commit().await?;
    Ok(effect)
}

/// Deletes mapping `id` and starts the removals it calls for.
pub async fn delete(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    id: i64,
) -> Result<Effect, AppError> {
    let mut tx = db.begin().await?;
    let group: Option<(String,)> =
        sqlx::query_as("SELECT group_name FROM group_mappings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let (group,) = group.ok_or(AppError::NotFound)?;
    let rules = rules_with(&mut tx, Some(id), None).await?;
    let planned = effect_of(&mut tx, &rules).await?;
    sqlx::query("DELETE FROM group_mapping_servers WHERE mapping_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM group_mappings WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let jobs = start(&mut tx, clock, actor, &planned, "admin").await?;
    let effect = effect(&mut tx, &planned).await?;
    let event = Event::new("mapping.deleted", format!("mapping:{id}"))
        .details(json!({ "group": group, "jobs": jobs }));
    audit::record(&mut tx, clock, actor, &event).await?;
    tx.commit().await?;
    Ok(effect)
}

/// Writes the planned jobs (origin `mapping`), each with a `mapping.job_started` event. A job
/// already open for the same login, access and action is not started twice; an open job
/// for the same access in the other direction is cancelled (the person left the group before
/// their grant ran, or came back before their removal did).
async fn start(
    tx: &mut Tx,
    clock: &dyn Clock,
    actor: &Actor,
    planned: &[Planned],
    decided_via: &str,
) -> Result<Vec<i64>, sqlx::Error> {
    let now = format_timestamp(clock.now());
    let applied_by = match actor {
        Actor::Person { email, .. } => email.clone(),
        Actor::System { component } => format!("system:{component}"),
    };
    let mut ids = Vec::new();
    for p in planned {
        let open: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, action FROM revocations WHERE origin = 'mapping' AND user_email = $1 \
             AND kind = $2 AND COALESCE(server_id, -1) = COALESCE($3, -1) \
             AND status IN ('pending', 'failed', 'manual') ORDER BY id",
        )
        .bind(&p.email)
        .bind(p.kind.slug())
        .bind(p.server_id)
        .fetch_all(&mut **tx)
        .await?;
        if open.iter().any(|(_, a)| a == p.action.slug()) {
            continue;
        }
        for (id, _) in &open {
            let reason = "the group mappings changed again before it was carried out";
            let changed = sqlx::query(
                "UPDATE revocations SET status = 'cancelled', excluded_reason = $1, \
                 finished_at = $2 WHERE id = $3 AND status IN ('pending', 'failed', 'manual')",
            )
            .bind(reason)
            .bind(&now)
            .bind(id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if changed == 1 {
                let event = Event::new("revocation.cancelled", format!("revocation:{id}"))
                    .details(json!({ "user": p.email, "reason": reason, "origin": "mapping" }));
                audit::record(tx, clock, actor, &event).await?;
            }
        }
        let reason = if p.gains() {
            format!("member of {}", p.groups.join(", "))
        } else {
            format!("no longer given by {}", p.groups.join(", "))
        };
        let previous =
            (p.action == Action::Invite).then(|| json!({ "name": p.person }).to_string());
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO revocations (item_id, campaign_id, kind, user_email, server_id, access, \
             decided_via, status, created_at, attempts, next_attempt_at, action, applied_at, \
             applied_by, origin, person_id, reason, previous) \
             VALUES (NULL, NULL, $1, $2, $3, $4, $5, 'pending', $6, 0, $6, $7, $6, $8, \
             'mapping', $9, $10, $11) RETURNING id",
        )
        .bind(p.kind.slug())
        .bind(&p.email)
        .bind(p.server_id)
        .bind(&p.access)
        .bind(decided_via)
        .bind(&now)
        .bind(p.action.slug())
        .bind(&applied_by)
        .bind(Some(&p.person_id).filter(|id| !id.is_empty()))
        .bind(&reason)
        .bind(previous)
        .fetch_one(&mut **tx)
        .await?;
        let event = Event::new("mapping.job_started", format!("revocation:{id}")).details(json!({
            "user": p.email, "person": p.person_id, "action": p.action.slug(),
            "server": p.server_id, "access": p.access, "groups": p.groups,
        }));
        audit::record(tx, clock, actor, &event).await?;
        tracing::info!(
            revocation.id = id,
            action = p.action.slug(),
            "mapping job started"
        );
        ids.push(id);
    }
    Ok(ids)
}

/// `(id, group, role, permission, updated_at, updated_by)`.
type MappingRow = (i64, String, Option<String>, Option<String>, String, String);

type JobRow = (
    i64,
    String,
    String,
    Option<i64>,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
);

/// The mappings, the groups and servers to pick from, and the latest mapping jobs.
pub async fn overview(db: &Db, has_gateway: bool) -> Result<Overview, sqlx::Error> {
    let mut tx = db.begin().await?;
    let names = server_names(&mut tx).await?;
    let rows: Vec<MappingRow> = sqlx::query_as(
        "SELECT id, group_name, role, permission, updated_at, updated_by FROM group_mappings \
         ORDER BY group_key",
    )
    .fetch_all(&mut *tx)
    .await?;
    let rules = entitle::rules(&mut tx).await?;
    let members: Vec<(String, i64)> = sqlx::query_as(
        "SELECT g.display_name_key, COUNT(DISTINCT u.id) FROM scim_group_members m \
         JOIN scim_groups g ON g.id = m.group_id JOIN scim_users u ON u.id = m.user_id \
         WHERE u.active = TRUE AND u.deleted_at IS NULL GROUP BY g.display_name_key",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mappings = rows
        .into_iter()
        .map(|(id, group, role, permission, updated_at, updated_by)| {
            let key = group.to_lowercase();
            let servers = rules
                .iter()
                .find(|r| r.group_key == key)
                .map(|r| r.servers.clone())
                .unwrap_or_default();
            MappingView {
                id,
                members: members
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map_or(0, |(_, n)| *n),
                group,
                role,
                permission,
                servers: servers
                    .into_iter()
                    .map(|s| (s, names.get(&s).cloned().unwrap_or_default()))
                    .collect(),
                updated_at,
                updated_by,
            }
        })
        .collect();
    let groups: Vec<(String,)> = sqlx::query_as(
        "SELECT MIN(display_name) FROM scim_groups GROUP BY display_name_key \
         ORDER BY display_name_key",
    )
    .fetch_all(&mut *tx)
    .await?;
    let jobs: Vec<JobRow> = sqlx::query_as(
        "SELECT id, COALESCE(user_email, ''), COALESCE(action, ''), server_id, access, \
         reason, created_at, status, verification, last_error FROM revocations \
         WHERE origin = 'mapping' ORDER BY id DESC LIMIT 200",
    )
    .fetch_all(&mut *tx)
    .await?;
    let jobs = jobs
        .into_iter()
        .map(
            |(
                id,
                email,
                action,
                server,
                access,
                reason,
                created_at,
                status,
                verification,
                error,
            )| {
                let what = Action::from_slug(&action)
                    .map_or_else(|| access.clone(), |a| describe(a, server, &access, &names));
                MappingJob {
                    id,
                    email,
                    what,
                    reason: reason.unwrap_or_default(),
                    created_at,
                    status: Status::from_slug(&status).map_or(status, |s| s.label().to_string()),
                    verification: Verification::from_slug(&verification)
                        .map_or(verification, |v| v.label().to_string()),
                    last_error: error,
                }
            },
        )
        .collect();
    tx.rollback().await?;
    Ok(Overview {
        mappings,
        groups: groups.into_iter().map(|(g,)| g).collect(),
        servers: names.into_iter().collect(),
        jobs,
        has_gateway,
    })
}

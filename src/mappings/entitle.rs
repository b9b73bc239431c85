//! What the group mappings give each person, and the jobs that bring Postmark in line when
//! that changes. A person counts while active at their provider; their login is the Postmark
//! login one of their emails (or `userName`) already names, otherwise their primary email.
//! Several mappings add up: the higher account role and, per server, the higher permission.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::AnyConnection;

use super::{permission_rank, role_rank};
use crate::{review_items::ItemKind, revocations::Action};

/// One mapping as the rules read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub group_key: String,
    pub group_name: String,
    pub role: Option<String>,
    pub permission: Option<String>,
    pub servers: Vec<i64>,
}

/// What the mappings give one login.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entitlement {
    pub person: String,
    pub person_id: String,
    pub role: Option<String>,
    pub permissions: BTreeMap<i64, String>,
    pub groups: BTreeSet<String>,
}

/// Login (lower-cased email) → what the mappings give it.
pub type Entitlements = BTreeMap<String, Entitlement>;

/// `(id, group_key, group_name, role, permission)`.
type RuleRow = (i64, String, String, Option<String>, Option<String>);

/// Every mapping, with its servers.
pub async fn rules(conn: &mut AnyConnection) -> Result<Vec<Rule>, sqlx::Error> {
    let rows: Vec<RuleRow> = sqlx::query_as(
        "SELECT id, group_key, group_name, role, permission FROM group_mappings ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let servers: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT mapping_id, server_id FROM group_mapping_servers ORDER BY mapping_id, server_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, group_key, group_name, role, permission)| Rule {
            group_key,
            group_name,
            role,
            permission,
            servers: servers
                .iter()
                .filter(|(m, _)| *m == id)
                .map(|(_, s)| *s)
                .collect(),
        })
        .collect())
}

type MemberRow = (String, String, String, String, String);

/// What `rules` give every active person in a mapped group, by login.
pub async fn entitlements(
    conn: &mut AnyConnection,
    rules: &[Rule],
) -> Result<Entitlements, sqlx::Error> {
    let mut out = Entitlements::new();
    if rules.is_empty() {
        return Ok(out);
    }
    let members: Vec<MemberRow> = sqlx::query_as(
        "SELECT g.display_name_key, u.id, \
         COALESCE(u.display_name, u.formatted_name, u.user_name), u.user_name_key, \
         COALESCE((SELECT MIN(e.value_key) FROM scim_user_emails e \
                   WHERE e.user_id = u.id AND e.is_primary = TRUE), \
                  (SELECT MIN(e.value_key) FROM scim_user_emails e WHERE e.user_id = u.id), \
                  u.user_name_key) \
         FROM scim_group_members m JOIN scim_groups g ON g.id = m.group_id \
         JOIN scim_users u ON u.id = m.user_id \
         WHERE u.active = TRUE AND u.deleted_at IS NULL ORDER BY u.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    // A login the inventory already has wins over the primary email.
    let known: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.user_id, c.email FROM (SELECT user_id, value_key AS email FROM \
         scim_user_emails UNION SELECT id, user_name_key FROM scim_users) c \
         WHERE c.email IN (SELECT email FROM postmark_users) ORDER BY c.email",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (group_key, person_id, person, user_name, primary) in members {
        let applying: Vec<&Rule> = rules.iter().filter(|r| r.group_key == group_key).collect();
        if applying.is_empty() {
            continue;
        }
        let login = known
            .iter()
            .find(|(id, _)| *id == person_id)
            .map(|(_, email)| email.clone())
            .or_else(|| Some(primary).filter(|e| e.contains('@')))
            .or_else(|| Some(user_name).filter(|e| e.contains('@')));
        let Some(login) = login else {
            continue;
        };
        let entry = out.entry(login).or_insert_with(|| Entitlement {
            person: person.clone(),
            person_id: person_id.clone(),
            ..Entitlement::default()
        });
        for rule in applying {
            entry.groups.insert(rule.group_name.clone());
            if let Some(role) = &rule.role {
                if entry
                    .role
                    .as_deref()
                    .is_none_or(|had| role_rank(role) > role_rank(had))
                {
                    entry.role = Some(role.clone());
                }
            }
            if let Some(permission) = &rule.permission {
                for server in &rule.servers {
                    let had = entry.permissions.get(server);
                    if had.is_none_or(|had| permission_rank(permission) > permission_rank(had)) {
                        entry.permissions.insert(*server, permission.clone());
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A login as the inventory shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    pub role: String,
    pub permissions: BTreeMap<i64, String>,
}

/// Every login's role and permissions.
pub async fn held(conn: &mut AnyConnection) -> Result<BTreeMap<String, Held>, sqlx::Error> {
    let users: Vec<(String, String)> = sqlx::query_as("SELECT email, role FROM postmark_users")
        .fetch_all(&mut *conn)
        .await?;
    let permissions: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT email, postmark_server_id, permission FROM user_permissions")
            .fetch_all(&mut *conn)
            .await?;
    let mut out: BTreeMap<String, Held> = users
        .into_iter()
        .map(|(email, role)| {
            let held = Held {
                role,
                permissions: BTreeMap::new(),
            };
            (email, held)
        })
        .collect();
    for (email, server, permission) in permissions {
        if let Some(held) = out.get_mut(&email) {
            held.permissions.insert(server, permission);
        }
    }
    Ok(out)
}

/// One change a mapping calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub email: String,
    pub person: String,
    pub person_id: String,
    pub kind: ItemKind,
    pub action: Action,
    pub server_id: Option<i64>,
    /// The role or permission given (grants) or taken away (removals).
    pub access: String,
    /// The groups behind it: the ones that give it, or (a loss) the ones it came from.
    pub groups: Vec<String>,
}

impl Planned {
    pub fn gains(&self) -> bool {
        self.action.grants()
    }
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// The jobs that take Postmark from `held` to what changed between `before` and `after`:
/// what a person newly gets and does not hold yet, and (with `losses`) what they held only
/// because of a mapping they no longer have. Access nobody's mapping changed is left alone,
/// and the Account Owner is never touched.
pub fn plan(
    before: &Entitlements,
    after: &Entitlements,
    held: &BTreeMap<String, Held>,
    losses: bool,
) -> Vec<Planned> {
    let empty = Entitlement::default();
    let logins: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    for email in logins {
        let (was, now) = (
            before.get(email).unwrap_or(&empty),
            after.get(email).unwrap_or(&empty),
        );
        if was == now {
            continue;
        }
        let who = if now.person_id.is_empty() { was } else { now };
        let job = |kind, action, server_id, access: &str, groups: &BTreeSet<String>| Planned {
            email: email.clone(),
            person: who.person.clone(),
            person_id: who.person_id.clone(),
            kind,
            action,
            server_id,
            access: access.to_string(),
            groups: groups.iter().cloned().collect(),
        };
        let Some(current) = held.get(email) else {
            // Not in the account: an invitation carries the role, grants follow it.
            if now.person_id.is_empty() {
                continue;
            }
            let role = now
                .role
                .clone()
                .unwrap_or_else(|| crate::revocations::BASIC_ROLE.to_string());
            out.push(job(
                ItemKind::AccountRole,
                Action::Invite,
                None,
                &role,
                &now.groups,
            ));
            for (server, permission) in &now.permissions {
                out.push(job(
                    ItemKind::ServerPermission,
                    Action::Grant,
                    Some(*server),
                    permission,
                    &now.groups,
                ));
            }
            continue;
        };
        if crate::revocations::is_account_owner(&current.role) {
            continue;
        }
        match (&was.role, &now.role) {
            (_, Some(role))
                if was.role.as_deref() != Some(role.as_str())
                    && !same(&current.role, role)
                    && role_rank(role) > role_rank(&current.role) =>
            {
                out.push(job(
                    ItemKind::AccountRole,
                    Action::SetRole,
                    None,
                    role,
                    &now.groups,
                ));
            }
            (Some(role), None) if losses && same(&current.role, role) => {
                out.push(job(
                    ItemKind::AccountRole,
                    Action::Demote,
                    None,
                    role,
                    &was.groups,
                ));
            }
            _ => {}
        }
        for (server, permission) in &now.permissions {
            let changed = was.permissions.get(server) != Some(permission);
            let holds = current.permissions.get(server);
            if changed
                && !holds.is_some_and(|h| same(h, permission))
                && holds.is_none_or(|h| permission_rank(permission) > permission_rank(h))
            {
                out.push(job(
                    ItemKind::ServerPermission,
                    Action::Grant,
                    Some(*server),
                    permission,
                    &now.groups,
                ));
            }
        }
        if losses {
            for (server, permission) in &was.permissions {
                let holds = current.permissions.get(server);
                if !now.permissions.contains_key(server)
                    && holds.is_some_and(|h| same(h, permission))
                {
                    out.push(job(
                        ItemKind::ServerPermission,
                        Action::RemovePermission,
                        Some(*server),
                        permission,
                        &was.groups,
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ent(role: Option<&str>, permissions: &[(i64, &str)]) -> Entitlement {
        Entitlement {
            person: "Pat".into(),
            person_id: "p1".into(),
            role: role.map(Into::into),
            permissions: permissions
                .iter()
                .map(|(s, p)| (*s, p.to_string()))
                .collect(),
            groups: ["payments".to_string()].into(),
        }
    }

    fn one(email: &str, e: Entitlement) -> Entitlements {
        [(email.to_string(), e)].into()
    }

    fn actions(plan: &[Planned]) -> Vec<(Action, Option<i64>, String)> {
        plan.iter()
            .map(|p| (p.action, p.server_id, p.access.clone()))
            .collect()
    }

    #[test]
    fn a_joiner_without_a_login_is_invited_then_granted() {
        let after = one("pat@example.com", ent(None, &[(1, "Server Admin")]));
        let plan = plan(&Entitlements::new(), &after, &BTreeMap::new(), true);
        assert_eq!(
            actions(&plan),
            vec![
                (Action::Invite, None, "Server Access".to_string()),
                (Action::Grant, Some(1), "Server Admin".to_string()),
            ]
        );
    }

    #[test]
    fn a_mover_gains_what_they_lack_and_loses_only_what_the_mapping_gave() {
        let held: BTreeMap<String, Held> = [(
            "pat@example.com".to_string(),
            Held {
                role: "Server Access".into(),
                permissions: [
                    (1, "Server Admin".to_string()),
                    (3, "Server Viewer".to_string()),
                ]
                .into(),
            },
        )]
        .into();
        let before = one("pat@example.com", ent(None, &[(1, "Server Admin")]));
        let after = one(
            "pat@example.com",
            ent(Some("Account Admin"), &[(2, "Server Viewer")]),
        );
        let planned = plan(&before, &after, &held, true);
        assert_eq!(
            actions(&planned),
            vec![
                (Action::SetRole, None, "Account Admin".to_string()),
                (Action::Grant, Some(2), "Server Viewer".to_string()),
                (
                    Action::RemovePermission,
                    Some(1),
                    "Server Admin".to_string()
                ),
            ]
        );
        // Without losses (a reactivation), only the gains.
        assert_eq!(plan(&before, &after, &held, false).len(), 2);
        // Nothing changed: nothing to do, even where the inventory differs.
        assert!(plan(&after, &after, &held, true).is_empty());
    }

    #[test]
    fn the_account_owner_and_higher_access_are_left_alone() {
        let mut held: BTreeMap<String, Held> = [(
            "pat@example.com".to_string(),
            Held {
                role: "Account Admin".into(),
                permissions: [(1, "Server Admin".to_string())].into(),
            },
        )]
        .into();
        let after = one(
            "pat@example.com",
            ent(Some("Billing"), &[(1, "Server Viewer")]),
        );
        assert!(plan(&Entitlements::new(), &after, &held, true).is_empty());
        held.get_mut("pat@example.com").unwrap().role = "Account Owner".into();
        assert!(plan(&after, &Entitlements::new(), &held, true).is_empty());
    }
}

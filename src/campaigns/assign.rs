//! Which items a campaign reviews and who reviews each: the manager mapping, then server
//! owners, then the campaign's fixed reviewer, then its fallback reviewer. Nobody reviews
//! their own access; such items go to the fallback reviewer.

use std::collections::{BTreeMap, HashMap};

use sqlx::AnyConnection;

use super::{CampaignView, ReviewerLoad, Unassigned};
use crate::inventory::db::{is_account_admin_role, to_view, user_flags, ServerRow, SERVER_ROWS};
use crate::people::People;
use crate::review_items::{Candidate, ItemKind, Via};

/// The reviewer rules of one campaign, with the mappings they read.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub managers: HashMap<String, String>,
    pub owners: HashMap<i64, String>,
    pub fixed: Option<String>,
    pub fallback: String,
    /// Which emails are one person (the identity providers').
    pub people: People,
}

impl Rules {
    /// The reviewer of one item, or why there is none.
    pub fn assign(&self, item: &Candidate) -> Result<(String, Via), String> {
        let manager = item
            .user_email
            .as_ref()
            .and_then(|u| self.managers.get(u))
            .map(|m| (m.clone(), Via::Manager));
        let owner = match item.kind {
            ItemKind::AccountRole => None,
            ItemKind::ServerPermission | ItemKind::Server => item
                .server_id
                .and_then(|s| self.owners.get(&s))
                .map(|o| (o.clone(), Via::Owner)),
        };
        let (reviewer, via) = manager
            .or(owner)
            .or_else(|| self.fixed.clone().map(|f| (f, Via::Fixed)))
            .unwrap_or_else(|| (self.fallback.clone(), Via::Fallback));
        let own = |reviewer: &str| self.people.owns(item.user_email.as_deref(), reviewer);
        if !own(&reviewer) {
            Ok((reviewer, via))
        } else if !own(&self.fallback) {
            Ok((self.fallback.clone(), Via::SelfReview))
        } else {
            Err(format!(
                "{} would review their own access: choose another fallback reviewer",
                self.fallback
            ))
        }
    }
}

/// Reads the rules' mappings for a campaign.
pub async fn rules(
    conn: &mut AnyConnection,
    campaign: &CampaignView,
) -> Result<Rules, sqlx::Error> {
    let managers: Vec<(String, String)> = if campaign.use_manager_mapping {
        sqlx::query_as("SELECT user_email, manager_email FROM manager_mappings")
            .fetch_all(&mut *conn)
            .await?
    } else {
        Vec::new()
    };
    let owners: Vec<(i64, String)> = if campaign.use_server_owners {
        sqlx::query_as("SELECT postmark_id, owner_email FROM server_owners")
            .fetch_all(&mut *conn)
            .await?
    } else {
        Vec::new()
    };
    Ok(Rules {
        managers: managers.into_iter().collect(),
        owners: owners.into_iter().collect(),
        fixed: campaign.fixed_reviewer.clone(),
        fallback: campaign.fallback_reviewer.clone(),
        people: People::load(&mut *conn).await?,
    })
}

/// Every access in the campaign's scope, from the current inventory.
pub async fn candidates(
    conn: &mut AnyConnection,
    campaign: &CampaignView,
    allowlist: &[String],
    today: time::Date,
) -> Result<Vec<Candidate>, sqlx::Error> {
    let in_servers = |id: i64| campaign.server_ids.is_empty() || campaign.server_ids.contains(&id);
    let in_roles = |role: &str| {
        campaign.roles.is_empty() || campaign.roles.iter().any(|r| r.eq_ignore_ascii_case(role))
    };
    let servers: Vec<ServerRow> = sqlx::query_as(SERVER_ROWS).fetch_all(&mut *conn).await?;
    let servers: BTreeMap<i64, crate::inventory::ServerView> = servers
        .into_iter()
        .map(|row| {
            let view = to_view(row, allowlist);
            (view.postmark_id, view)
        })
        .collect();
    type UserRow = (String, String, String, String, Option<String>);
    let users: Vec<UserRow> = sqlx::query_as(
        "SELECT email, name, role, status, invited_at FROM postmark_users ORDER BY email",
    )
    .fetch_all(&mut *conn)
    .await?;
    let permissions: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT email, postmark_server_id, permission FROM user_permissions \
         ORDER BY email, postmark_server_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut per_user: HashMap<&str, Vec<(i64, &str)>> = HashMap::new();
    for (email, server, permission) in &permissions {
        per_user
            .entry(email.as_str())
            .or_default()
            .push((*server, permission.as_str()));
    }

    // A leaver's or unknown login is flagged on its items, so reviewers see it.
    let standings = crate::offboarding::identity::Standings::load(&mut *conn).await?;
    let mut items = Vec::new();
    for (email, name, role, status, invited_at) in &users {
        let held = per_user
            .get(email.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut flags = user_flags(
            role,
            status,
            invited_at.as_deref(),
            held.len() as i64,
            today,
        );
        if standings.of(email).is_orphaned() {
            flags.push(crate::inventory::UserFlag::Orphaned);
        }
        let flags: Vec<&'static str> = flags.into_iter().map(|f| f.slug()).collect();
        if campaign.kinds.contains(&ItemKind::AccountRole) && in_roles(role) {
            items.push(Candidate {
                kind: ItemKind::AccountRole,
                user_email: Some(email.clone()),
                user_name: Some(name.clone()),
                server_id: None,
                server_name: None,
                access: role.clone(),
                privileged: is_account_admin_role(role),
                flags: flags.clone(),
            });
        }
        if campaign.kinds.contains(&ItemKind::ServerPermission) {
            for (server_id, permission) in held.iter().filter(|(s, _)| in_servers(*s)) {
                let server = servers.get(server_id);
                let mut flags = flags.clone();
                flags.extend(server.iter().flat_map(|s| s.flags.iter().map(|f| f.slug())));
                items.push(Candidate {
                    kind: ItemKind::ServerPermission,
                    user_email: Some(email.clone()),
                    user_name: Some(name.clone()),
                    server_id: Some(*server_id),
                    server_name: server.map(|s| s.name.clone()),
                    access: permission.to_string(),
                    privileged: permission.eq_ignore_ascii_case("server admin"),
                    flags,
                });
            }
        }
    }
    if campaign.kinds.contains(&ItemKind::Server) {
        for server in servers.values().filter(|s| in_servers(s.postmark_id)) {
            items.push(Candidate {
                kind: ItemKind::Server,
                user_email: None,
                user_name: None,
                server_id: Some(server.postmark_id),
                server_name: Some(server.name.clone()),
                access: "server".to_string(),
                privileged: false,
                flags: server.flags.iter().map(|f| f.slug()).collect(),
            });
        }
    }
    Ok(items)
}

/// Items with their reviewers, and the ones the rules could not place.
pub struct Assignment {
    pub items: Vec<(Candidate, String, Via)>,
    pub unassigned: Vec<Unassigned>,
}

impl Assignment {
    pub fn new(candidates: Vec<Candidate>, rules: &Rules) -> Self {
        let mut items = Vec::with_capacity(candidates.len());
        let mut unassigned = Vec::new();
        for candidate in candidates {
            match rules.assign(&candidate) {
                Ok((reviewer, via)) => items.push((candidate, reviewer, via)),
                Err(reason) => unassigned.push(Unassigned {
                    kind: candidate.kind,
                    subject: describe(&candidate),
                    reason,
                }),
            }
        }
        Self { items, unassigned }
    }

    /// Items per reviewer and kind (nothing decided yet).
    pub fn loads(&self) -> Vec<ReviewerLoad> {
        let mut per: BTreeMap<&str, BTreeMap<ItemKind, i64>> = BTreeMap::new();
        for (candidate, reviewer, _) in &self.items {
            *per.entry(reviewer.as_str())
                .or_default()
                .entry(candidate.kind)
                .or_default() += 1;
        }
        per.into_iter()
            .map(|(reviewer, kinds)| ReviewerLoad {
                reviewer: reviewer.to_string(),
                items: kinds.values().sum(),
                decided: 0,
                kinds: kinds.into_iter().map(|(k, n)| (k, n, 0)).collect(),
            })
            .collect()
    }
}

fn describe(candidate: &Candidate) -> String {
    match (
        candidate.kind,
        &candidate.user_email,
        &candidate.server_name,
    ) {
        (ItemKind::AccountRole, Some(user), _) => format!("{user}: {}", candidate.access),
        (ItemKind::ServerPermission, Some(user), server) => format!(
            "{user}: {} on {}",
            candidate.access,
            server.as_deref().unwrap_or("an unknown server")
        ),
        (_, _, Some(server)) => format!("server {server}"),
        _ => candidate.access.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permission(user: &str, server: i64) -> Candidate {
        Candidate {
            kind: ItemKind::ServerPermission,
            user_email: Some(user.into()),
            user_name: None,
            server_id: Some(server),
            server_name: Some("s".into()),
            access: "Server Viewer".into(),
            privileged: false,
            flags: vec![],
        }
    }

    fn rules() -> Rules {
        Rules {
            managers: HashMap::from([("u@x.io".into(), "m@x.io".into())]),
            owners: HashMap::from([(1, "o@x.io".into()), (2, "v@x.io".into())]),
            fixed: Some("f@x.io".into()),
            fallback: "fb@x.io".into(),
            people: People::default(),
        }
    }

    #[test]
    fn rules_apply_in_order() {
        let r = rules();
        assert_eq!(
            r.assign(&permission("u@x.io", 1)).unwrap(),
            ("m@x.io".into(), Via::Manager)
        );
        assert_eq!(
            r.assign(&permission("w@x.io", 1)).unwrap(),
            ("o@x.io".into(), Via::Owner)
        );
        assert_eq!(
            r.assign(&permission("w@x.io", 3)).unwrap(),
            ("f@x.io".into(), Via::Fixed)
        );
        let no_fixed = Rules { fixed: None, ..r };
        assert_eq!(
            no_fixed.assign(&permission("w@x.io", 3)).unwrap(),
            ("fb@x.io".into(), Via::Fallback)
        );
    }

    #[test]
    fn nobody_reviews_their_own_access() {
        let r = rules();
        // v@x.io owns server 2 but holds a permission on it themselves.
        assert_eq!(
            r.assign(&permission("v@x.io", 2)).unwrap(),
            ("fb@x.io".into(), Via::SelfReview)
        );
        let no_fixed = Rules { fixed: None, ..r };
        let err = no_fixed.assign(&permission("fb@x.io", 9)).unwrap_err();
        assert!(err.contains("their own access"), "{err}");
    }
}

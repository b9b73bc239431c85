//! A simulated account and a closed campaign whose revocations are applied: pending jobs that
//! quarantine servers and remove server permissions through the users gateway. Shared by
//! `bench revocations` and the crash test (tests/it/crash.rs), so both measure and break the
//! same kind of queue.
//!
//! The campaign and its decisions are written directly (what a launch and a close would have
//! left behind); the jobs themselves come from [`revocations::db::apply`], as an admin's Apply
//! makes them, with their actions and audit event.

use crate::{
    audit::Actor,
    clock::{format_timestamp, Clock},
    db::Db,
    postmark::{
        gateway::{GatewayPermission, GatewayUser},
        simulator::Simulator,
        ServerInfo,
    },
    review_items::{Candidate, ItemKind, Via},
    revocations,
};

/// Id of the first simulated server; the others follow.
pub const FIRST_SERVER: i64 = 200_000;

/// Who decided the revocations (and applied them).
const ADMIN: &str = "bench-admin@example.com";

/// The account and the jobs against it.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Servers in the account, each with SMTP on and two webhooks.
    pub servers: usize,
    /// The first this many servers are quarantined.
    pub quarantines: usize,
    /// Users, each with a permission on two servers; one of the two is revoked.
    pub users: usize,
}

impl Plan {
    /// Pending jobs the plan makes.
    pub fn jobs(&self) -> usize {
        self.quarantines + self.users
    }

    pub fn server_id(&self, index: usize) -> i64 {
        FIRST_SERVER + i64::try_from(index).unwrap_or(i64::MAX - FIRST_SERVER)
    }

    pub fn server_name(index: usize) -> String {
        format!("server-{index:05}")
    }

    pub fn user_email(index: usize) -> String {
        format!("user{index:05}@example.com")
    }

    /// The server whose permission user `index` loses, and the one they keep.
    pub fn user_servers(&self, index: usize) -> (i64, i64) {
        let servers = self.servers.max(1);
        (
            self.server_id(index % servers),
            self.server_id((index + 1) % servers),
        )
    }
}

/// Fills `simulator` with the plan's servers and users (the gateway must be enabled to serve
/// the users).
pub fn seed_account(simulator: &Simulator, plan: &Plan) {
    for index in 0..plan.servers {
        let id = plan.server_id(index);
        let mut server =
            ServerInfo::sample(id, &Plan::server_name(index), &[&format!("token-{id}")]);
        server.bounce_hook_url = Some(format!("https://hooks.example.com/{id}/bounce"));
        server.click_hook_url = Some(format!("https://hooks.example.com/{id}/click"));
        simulator.add_server(server);
    }
    for index in 0..plan.users {
        let (revoked, kept) = plan.user_servers(index);
        let permission = |server_id| GatewayPermission {
            server_id,
            permission: "Server Viewer".to_string(),
        };
        simulator.put_user(GatewayUser {
            email: Plan::user_email(index),
            name: format!("User {index}"),
            role: "Server Access".to_string(),
            status: "active".to_string(),
            invited_at: None,
            servers: vec![permission(revoked), permission(kept)],
        });
    }
}

/// Writes a closed campaign with a revoke decision per job of `plan` (quarantines and
/// permission removals interleaved, so a queue worked in id order mixes both) and applies
/// it. Returns the campaign id.
pub async fn seed_jobs(db: &Db, clock: &dyn Clock, plan: &Plan) -> anyhow::Result<i64> {
    let now = format_timestamp(clock.now());
    let mut tx = db.begin().await?;
    let (campaign,): (i64,) = sqlx::query_as(
        "INSERT INTO campaigns (name, description, status, kinds, starts_on, due_on, \
         default_outcome, revoke_needs_justification, privileged_needs_justification, \
         use_manager_mapping, use_server_owners, fallback_reviewer, created_by, created_at, \
         updated_at, closed_at, closed_by) VALUES ('Revocation jobs', '', 'closed', \
         '[\"server\",\"server_permission\"]', '2026-01-01', '2026-01-31', 'keep', 0, 0, 0, 0, \
         $1, $1, $2, $2, $2, $1) RETURNING id",
    )
    .bind(ADMIN)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    let server = |index: usize| Candidate {
        kind: ItemKind::Server,
        user_email: None,
        user_name: None,
        server_id: Some(plan.server_id(index)),
        server_name: Some(Plan::server_name(index)),
        access: "server".to_string(),
        privileged: false,
        flags: Vec::new(),
    };
    let permission = |index: usize| Candidate {
        kind: ItemKind::ServerPermission,
        user_email: Some(Plan::user_email(index)),
        user_name: Some(format!("User {index}")),
        server_id: Some(plan.user_servers(index).0),
        server_name: None,
        access: "Server Viewer".to_string(),
        privileged: false,
        flags: Vec::new(),
    };
    let mut items = Vec::with_capacity(plan.jobs());
    for index in 0..plan.quarantines.max(plan.users) {
        if index < plan.quarantines {
            items.push((server(index), ADMIN.to_string(), Via::Fixed));
        }
        if index < plan.users {
            items.push((permission(index), ADMIN.to_string(), Via::Fixed));
        }
    }
    crate::review_items::db::insert(&mut tx, campaign, &items).await?;
    // What a close leaves: every item decided, and a `to_revoke` row per revoke decision.
    sqlx::query(
        "UPDATE review_items SET decision = 'revoke', decided_by = $1, decided_at = $2, \
         decided_via = 'reviewer' WHERE campaign_id = $3",
    )
    .bind(ADMIN)
    .bind(&now)
    .bind(campaign)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO revocations (item_id, campaign_id, kind, user_email, server_id, access, \
         decided_via, status, created_at) SELECT id, campaign_id, kind, user_email, server_id, \
         access, decided_via, 'to_revoke', $1 FROM review_items WHERE campaign_id = $2 \
         ORDER BY id",
    )
    .bind(&now)
    .bind(campaign)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    let mut tx = db.begin().await?;
    let applied =
        revocations::db::apply(&mut tx, clock, &Actor::system("bench"), campaign, &[], &[])
            .await
            .map_err(|e| anyhow::anyhow!("applying the revocations failed: {e}"))?;
    tx.commit().await?;
    anyhow::ensure!(
        applied == plan.jobs(),
        "{applied} jobs applied, {} planned",
        plan.jobs()
    );
    Ok(campaign)
}

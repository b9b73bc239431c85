//! Replacing the users inventory from an import, with its snapshot, diff and audit event, in
//! one transaction: a refused or failed import changes nothing.

use std::collections::BTreeMap;

use serde_json::json;
use time::OffsetDateTime;

use super::{
    changes::{self, Change},
    snapshots,
    users_csv::UserRecord,
    SyncScope,
};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::Db,
    revocations,
};

/// Counts of an applied import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    pub sync_id: i64,
    pub users: usize,
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
}

fn diff(
    previous: &BTreeMap<String, UserRecord>,
    current: &BTreeMap<String, UserRecord>,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for (email, now) in current {
        let Some(before) = previous.get(email) else {
            changes.push(Change {
                kind: "user",
                key: email.clone(),
                change: "added",
                detail: {
                    let mut fields = vec![
                        json!({ "field": "role", "before": null, "after": now.role }),
                        json!({ "field": "status", "before": null, "after": now.status }),
                    ];
                    if let Some(invited_at) = &now.invited_at {
                        fields.push(
                            json!({ "field": "invited_at", "before": null, "after": invited_at }),
                        );
                    }
                    json!({ "name": now.name, "fields": fields })
                },
            });
            for (server, permission) in &now.permissions {
                changes.push(Change {
                    kind: "permission",
                    key: format!("{email}@{server}"),
                    change: "added",
                    detail: json!({ "name": format!("{email} on server {server}"), "fields": [
                        { "field": "permission", "before": null, "after": permission },
                    ]}),
                });
            }
            continue;
        };
        let mut fields = Vec::new();
        for (field, b, n) in [
            ("name", Some(&before.name), Some(&now.name)),
            ("role", Some(&before.role), Some(&now.role)),
            ("status", Some(&before.status), Some(&now.status)),
            (
                "invited_at",
                before.invited_at.as_ref(),
                now.invited_at.as_ref(),
            ),
        ] {
            if b != n {
                fields.push(json!({ "field": field, "before": b, "after": n }));
            }
        }
        if !fields.is_empty() {
            changes.push(Change {
                kind: "user",
                key: email.clone(),
                change: "changed",
                detail: json!({ "name": now.name, "fields": fields }),
            });
        }
        let servers: std::collections::BTreeSet<i64> = before
            .permissions
            .keys()
            .chain(now.permissions.keys())
            .copied()
            .collect();
        for server in servers {
            let (b, n) = (
                before.permissions.get(&server),
                now.permissions.get(&server),
            );
            let change = match (b, n) {
                (None, Some(_)) => "added",
                (Some(_), None) => "removed",
                (Some(b), Some(n)) if b != n => "changed",
                _ => continue,
            };
            changes.push(Change {
                kind: "permission",
                key: format!("{email}@{server}"),
                change,
                detail: json!({ "name": format!("{email} on server {server}"), "fields": [
                    { "field": "permission", "before": b, "after": n },
                ]}),
            });
        }
    }
    for (email, before) in previous {
        if !current.contains_key(email) {
            changes.push(Change {
                kind: "user",
                key: email.clone(),
                change: "removed",
                detail: json!({ "name": before.name }),
            });
            for (server, permission) in &before.permissions {
                changes.push(Change {
                    kind: "permission",
                    key: format!("{email}@{server}"),
                    change: "removed",
                    detail: json!({ "name": format!("{email} on server {server}"), "fields": [
                        { "field": "permission", "before": permission, "after": null },
                    ]}),
                });
            }
        }
    }
    changes
}

/// Applies an import (already validated) as the new users inventory, as of now.
pub async fn import(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    trigger: super::Trigger,
    source: &str,
    users: Vec<UserRecord>,
) -> Result<ImportOutcome, sqlx::Error> {
    import_as_of(db, clock, actor, trigger, source, users, clock.now()).await
}

/// [`import`] of a list read from its source at `read_at` (the sync's start): the users
/// gateway's list is fetched before it is saved, and revocations are judged only against a
/// list read after they finished.
pub async fn import_as_of(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    trigger: super::Trigger,
    source: &str,
    users: Vec<UserRecord>,
    read_at: OffsetDateTime,
) -> Result<ImportOutcome, sqlx::Error> {
    let started_at = format_timestamp(read_at);
    let now = format_timestamp(clock.now());
    let current: BTreeMap<String, UserRecord> = users
        .into_iter()
        .map(|u| (u.email.to_string(), u))
        .collect();
    let mut tx = db.begin().await?;
    changes::lock_inventory(&mut tx).await?;
    let (sync_id,): (i64,) = sqlx::query_as(
        "INSERT INTO syncs (trigger_kind, started_at, finished_at, status, scope, source) \
         VALUES ($1, $2, $3, 'succeeded', 'users', $4) RETURNING id",
    )
    .bind(trigger.slug())
    .bind(&started_at)
    .bind(&now)
    .bind(source)
    .fetch_one(&mut *tx)
    .await?;

    let previous: BTreeMap<String, UserRecord> =
        snapshots::current(&mut tx, snapshots::Scope::Users).await?;
    let changes = diff(&previous, &current);

    sqlx::query("DELETE FROM user_permissions")
        .execute(&mut *tx)
        .await?;
    // Removal follows the live table, whatever the snapshot says.
    let live: Vec<(String,)> = sqlx::query_as("SELECT email FROM postmark_users")
        .fetch_all(&mut *tx)
        .await?;
    for (email,) in live.iter().filter(|(e,)| !current.contains_key(e)) {
        sqlx::query("DELETE FROM postmark_users WHERE email = $1")
            .bind(email)
            .execute(&mut *tx)
            .await?;
    }
    for user in current.values() {
        sqlx::query(
            "INSERT INTO postmark_users (email, name, role, status, invited_at, first_seen_sync, last_seen_sync) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (email) DO UPDATE SET \
             name = excluded.name, role = excluded.role, status = excluded.status, \
             invited_at = excluded.invited_at, last_seen_sync = excluded.last_seen_sync",
        )
        .bind(&user.email)
        .bind(&user.name)
        .bind(&user.role)
        .bind(&user.status)
        .bind(&user.invited_at)
        .bind(sync_id)
        .execute(&mut *tx)
        .await?;
        for (server, permission) in &user.permissions {
            sqlx::query(
                "INSERT INTO user_permissions (email, postmark_server_id, permission) VALUES ($1, $2, $3)",
            )
            .bind(&user.email)
            .bind(server)
            .bind(permission)
            .execute(&mut *tx)
            .await?;
        }
    }
    snapshots::record(
        &mut tx,
        snapshots::Scope::Users,
        sync_id,
        &previous,
        &current,
    )
    .await?;
    changes::save(&mut tx, sync_id, &changes).await?;
    let (added, removed, changed) = changes::counts(&changes);
    let outcome = ImportOutcome {
        sync_id,
        users: current.len(),
        added,
        removed,
        changed,
    };
    sqlx::query(
        "UPDATE syncs SET servers = NULL, added = $1, removed = $2, changed = $3 WHERE id = $4",
    )
    .bind(outcome.added as i64)
    .bind(outcome.removed as i64)
    .bind(outcome.changed as i64)
    .bind(sync_id)
    .execute(&mut *tx)
    .await?;
    // In this transaction: the revocations it proves commit with the inventory that proves them.
    revocations::verify::after_sync(&mut tx, clock, SyncScope::Users, sync_id).await?;
    // A login that appeared for someone who already left at the identity provider.
    crate::offboarding::db::reconcile(&mut tx, clock).await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("inventory.users_imported", format!("sync:{sync_id}")).details(json!({
            "source": source,
            "users": outcome.users,
            "added": outcome.added,
            "removed": outcome.removed,
            "changed": outcome.changed,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

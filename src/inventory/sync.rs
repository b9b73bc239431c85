//! One sync: fetch every server, read activity, and replace the inventory in one transaction
//! that also records the snapshot, the diff and the audit event. A sync that fails part-way
//! changes nothing but its own `failed` row.

use std::collections::BTreeMap;

use futures::StreamExt as _;
use secrecy::SecretString;
use serde_json::{json, Value};
use time::Duration;

pub use super::server_record::{fingerprint, ServerRecord};
use super::{
    changes::{self, Change},
    hook_credentials,
    snapshots::{self, Scope},
    SyncScope, Trigger,
};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::{Db, Tx},
    postmark::{PostmarkClient, ServerInfo},
    revocations,
};

/// Parallel activity requests (one per server, each with that server's token).
const ACTIVITY_CONCURRENCY: usize = 8;

/// A reading of a server's activity younger than this is kept rather than read again: the
/// signal is sends over 30 days, and a resync should not ask Postmark once per server. Less
/// than a day, so a daily sync always reads afresh; several syncs a day read once a day.
const ACTIVITY_MAX_AGE: Duration = Duration::hours(20);

/// A server's sends in the last 30 days and when they were read (both `None`: unknown).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Activity {
    sent: Option<i64>,
    read_at: Option<String>,
}

/// Progress reports for a terminal or a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Servers(usize),
    Activity { done: usize, total: usize },
    Saving,
}

/// A finished sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    pub sync_id: i64,
    pub servers: usize,
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
}

/// Why a sync failed; the previous inventory is intact.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{reason}")]
    Failed { sync_id: i64, reason: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Runs a sync and records its outcome either way.
pub async fn run(
    db: &Db,
    clock: &dyn Clock,
    client: &PostmarkClient,
    trigger: Trigger,
    actor: &Actor,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<SyncOutcome, SyncError> {
    let started_at = format_timestamp(clock.now());
    let mut tx = db.begin().await?;
    let (sync_id,): (i64,) = sqlx::query_as(
        "INSERT INTO syncs (trigger_kind, started_at, status) VALUES ($1, $2, 'running') RETURNING id",
    )
    .bind(trigger.slug())
    .bind(&started_at)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;

    let servers = match client.all_servers().await {
        Ok(servers) => servers,
        Err(error) => {
            let reason = format!("listing servers failed: {error}");
            record_failure(db, clock, sync_id, trigger, actor, &reason).await?;
            return Err(SyncError::Failed { sync_id, reason });
        }
    };
    progress(Progress::Servers(servers.len()));

    let activity = match fresh_activity(db, clock).await {
        Ok(fresh) => read_activity(client, clock, &servers, fresh, progress).await,
        Err(error) => {
            let reason = format!("reading the stored activity failed: {error}");
            record_failure(db, clock, sync_id, trigger, actor, &reason).await?;
            return Err(SyncError::Failed { sync_id, reason });
        }
    };
    progress(Progress::Saving);
    match save(db, clock, sync_id, trigger, actor, &servers, &activity).await {
        Ok(outcome) => Ok(outcome),
        Err(error) => {
            let reason = format!("saving the inventory failed: {error}");
            tracing::error!(sync_id, error = %error, "sync could not be saved");
            record_failure(db, clock, sync_id, trigger, actor, &reason).await?;
            Err(SyncError::Failed { sync_id, reason })
        }
    }
}

/// The stored activity readings still fresh enough to keep (see [`ACTIVITY_MAX_AGE`]).
async fn fresh_activity(
    db: &Db,
    clock: &dyn Clock,
) -> Result<BTreeMap<i64, Activity>, sqlx::Error> {
    let cutoff = format_timestamp(clock.now() - ACTIVITY_MAX_AGE);
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT postmark_id, sent_30d, activity_read_at FROM servers \
         WHERE sent_30d IS NOT NULL AND activity_read_at >= $1",
    )
    .bind(cutoff)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, sent, read_at)| {
            let activity = Activity {
                sent: Some(sent),
                read_at: Some(read_at),
            };
            (id, activity)
        })
        .collect())
}

/// Emails sent in the last 30 days per server: a fresh stored reading is kept, the others are
/// read; a failure leaves that server's signal unknown.
async fn read_activity(
    client: &PostmarkClient,
    clock: &dyn Clock,
    servers: &[ServerInfo],
    mut fresh: BTreeMap<i64, Activity>,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> BTreeMap<i64, Activity> {
    let now = clock.now();
    let today = now.date();
    let from = (today - Duration::days(30)).to_string();
    let to = today.to_string();
    let read_at = format_timestamp(now);
    let mut results = BTreeMap::new();
    // Owned inputs per request keep the futures free of borrowed lifetimes (spawnable).
    let mut jobs: Vec<(i64, Option<String>)> = Vec::new();
    for server in servers {
        let token = server.api_tokens.first().cloned();
        match fresh.remove(&server.id) {
            Some(kept) if token.is_some() => {
                results.insert(server.id, kept);
            }
            _ => jobs.push((server.id, token)),
        }
    }
    let total = servers.len();
    let mut done = results.len();
    let mut requests = futures::stream::iter(jobs)
        .map(|(id, token)| {
            let (client, from, to) = (client.clone(), from.clone(), to.clone());
            async move {
                let sent = match token {
                    Some(token) => client
                        .outbound_sent(SecretString::from(token), &from, &to)
                        .await
                        .map_err(|error| tracing::warn!(server = id, %error, "activity unknown"))
                        .ok(),
                    None => None,
                };
                (id, sent)
            }
        })
        .buffer_unordered(ACTIVITY_CONCURRENCY);
    while let Some((id, sent)) = requests.next().await {
        let activity = Activity {
            read_at: sent.map(|_| read_at.clone()),
            sent,
        };
        results.insert(id, activity);
        done += 1;
        progress(Progress::Activity { done, total });
    }
    results
}

/// Marks syncs left `running` by a stopped process as failed (called at startup).
pub async fn mark_interrupted(db: &Db, clock: &dyn Clock) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let result = sqlx::query(
        "UPDATE syncs SET status = 'failed', finished_at = $1, \
         error = 'interrupted: the application stopped during the sync' WHERE status = 'running'",
    )
    .bind(format_timestamp(clock.now()))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(result.rows_affected())
}

/// Replaces the users inventory with the gateway's list. A gateway failure or an invalid list
/// is recorded as a failed users sync; the previous users stay.
pub async fn users_from_gateway(
    db: &Db,
    clock: &dyn Clock,
    gateway: &crate::postmark::gateway::UsersGateway,
    trigger: Trigger,
    actor: &Actor,
) -> Result<super::users::ImportOutcome, SyncError> {
    // Taken before the list is read: a revocation finished after this moment may not show in
    // the list yet, so this sync must not judge it (see `revocations::verify`).
    let read_at = clock.now();
    let outcome = async {
        let users = gateway
            .list_users()
            .await
            .map_err(|e| format!("listing users failed: {e}"))?;
        let known = super::db::server_ids(db).await.map_err(|e| e.to_string())?;
        super::users_csv::from_gateway(&users, &known).map_err(|rejected| {
            let first: Vec<String> = rejected
                .errors
                .iter()
                .take(3)
                .map(|e| {
                    format!(
                        "user #{} {}: {}",
                        e.line,
                        e.column.as_deref().unwrap_or(""),
                        e.message
                    )
                })
                .collect();
            format!(
                "the gateway's user list was refused ({} problems): {}",
                rejected.errors.len() + rejected.more,
                first.join("; ")
            )
        })
    }
    .await;
    match outcome {
        Ok(records) => {
            let source = "users gateway";
            let users =
                super::users::import_as_of(db, clock, actor, trigger, source, records, read_at);
            Ok(users.await?)
        }
        Err(reason) => {
            let mut tx = db.begin().await?;
            let (sync_id,): (i64,) = sqlx::query_as(
                "INSERT INTO syncs (trigger_kind, started_at, finished_at, status, scope, source, error) \
                 VALUES ($1, $2, $2, 'failed', 'users', 'users gateway', $3) RETURNING id",
            )
            .bind(trigger.slug())
            .bind(format_timestamp(clock.now()))
            .bind(&reason)
            .fetch_one(&mut *tx)
            .await?;
            audit::record(
                &mut tx,
                clock,
                actor,
                &Event::new("inventory.sync_failed", format!("sync:{sync_id}")).details(
                    json!({ "trigger": trigger.slug(), "scope": "users", "reason": reason }),
                ),
            )
            .await?;
            tx.commit().await?;
            Err(SyncError::Failed { sync_id, reason })
        }
    }
}

async fn record_failure(
    db: &Db,
    clock: &dyn Clock,
    sync_id: i64,
    trigger: Trigger,
    actor: &Actor,
    reason: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE syncs SET status = 'failed', finished_at = $1, error = $2 WHERE id = $3")
        .bind(format_timestamp(clock.now()))
        .bind(reason)
        .bind(sync_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("inventory.sync_failed", format!("sync:{sync_id}"))
            .details(json!({ "trigger": trigger.slug(), "reason": reason })),
    )
    .await?;
    tx.commit().await
}

fn diff(
    previous: &BTreeMap<i64, ServerRecord>,
    current: &BTreeMap<i64, ServerRecord>,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for (id, now) in current {
        match previous.get(id) {
            None => changes.push(Change {
                kind: "server",
                key: id.to_string(),
                change: "added",
                detail: json!({ "name": now.name }),
            }),
            Some(before) if before != now => {
                let (b, n) = (
                    serde_json::to_value(before).unwrap_or_default(),
                    serde_json::to_value(now).unwrap_or_default(),
                );
                let fields: Vec<Value> = n
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(field, value)| b.get(field.as_str()) != Some(value))
                    .map(|(field, value)| {
                        json!({ "field": field, "before": b.get(field.as_str()), "after": value })
                    })
                    .collect();
                changes.push(Change {
                    kind: "server",
                    key: id.to_string(),
                    change: "changed",
                    detail: json!({ "name": now.name, "fields": fields }),
                });
            }
            Some(_) => {}
        }
    }
    for (id, before) in previous {
        if !current.contains_key(id) {
            changes.push(Change {
                kind: "server",
                key: id.to_string(),
                change: "removed",
                detail: json!({ "name": before.name }),
            });
        }
    }
    changes
}

async fn save(
    db: &Db,
    clock: &dyn Clock,
    sync_id: i64,
    trigger: Trigger,
    actor: &Actor,
    servers: &[ServerInfo],
    activity: &BTreeMap<i64, Activity>,
) -> Result<SyncOutcome, sqlx::Error> {
    let mut tx = db.begin().await?;
    changes::lock_inventory(&mut tx).await?;
    let key = hook_credentials::key(&mut tx, clock).await?;
    let current: BTreeMap<i64, ServerRecord> = servers
        .iter()
        .map(|s| (s.id, ServerRecord::new(s, &key)))
        .collect();

    let previous: BTreeMap<i64, ServerRecord> = snapshots::current(&mut tx, Scope::Servers).await?;
    let mut changes = diff(&previous, &current);

    // Removal follows the live table, whatever the snapshot says.
    let live: BTreeMap<i64, Activity> = sqlx::query_as::<_, (i64, Option<i64>, Option<String>)>(
        "SELECT postmark_id, sent_30d, activity_read_at FROM servers",
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(id, sent, read_at)| (id, Activity { sent, read_at }))
    .collect();
    for id in live.keys().filter(|id| !current.contains_key(id)) {
        remove_server(&mut tx, *id, &mut changes).await?;
    }
    // Only what is new, changed or read afresh is written: an unchanged resync writes none.
    for record in current.values() {
        let id = record.postmark_id;
        let activity = activity.get(&id).cloned().unwrap_or_default();
        let unchanged = previous.get(&id) == Some(record) && live.get(&id) == Some(&activity);
        if !unchanged {
            upsert_server(&mut tx, sync_id, record, &activity).await?;
        }
    }
    sqlx::query("UPDATE servers SET last_seen_sync = $1")
        .bind(sync_id)
        .execute(&mut *tx)
        .await?;
    snapshots::record(&mut tx, Scope::Servers, sync_id, &previous, &current).await?;
    changes::save(&mut tx, sync_id, &changes).await?;
    let (added, removed, changed) = changes::counts(&changes);
    let outcome = SyncOutcome {
        sync_id,
        servers: current.len(),
        added,
        removed,
        changed,
    };
    sqlx::query(
        "UPDATE syncs SET status = 'succeeded', finished_at = $1, servers = $2, added = $3, \
         removed = $4, changed = $5 WHERE id = $6",
    )
    .bind(format_timestamp(clock.now()))
    .bind(outcome.servers as i64)
    .bind(outcome.added as i64)
    .bind(outcome.removed as i64)
    .bind(outcome.changed as i64)
    .bind(sync_id)
    .execute(&mut *tx)
    .await?;
    // In this transaction: the revocations it proves commit with the inventory that proves them.
    revocations::verify::after_sync(&mut tx, clock, SyncScope::Servers, sync_id).await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("inventory.synced", format!("sync:{sync_id}")).details(json!({
            "trigger": trigger.slug(),
            "servers": outcome.servers,
            "added": outcome.added,
            "removed": outcome.removed,
            "changed": outcome.changed,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Deletes a server Postmark no longer lists, with the permissions on it (listed as changes).
async fn remove_server(tx: &mut Tx, id: i64, changes: &mut Vec<Change>) -> Result<(), sqlx::Error> {
    let orphaned: Vec<(String, String)> = sqlx::query_as(
        "SELECT email, permission FROM user_permissions WHERE postmark_server_id = $1",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    for (email, permission) in orphaned {
        changes.push(Change {
            kind: "permission",
            key: format!("{email}@{id}"),
            change: "removed",
            detail: json!({ "name": format!("{email} on server {id}"), "fields": [
                { "field": "permission", "before": permission, "after": null },
            ]}),
        });
    }
    sqlx::query("DELETE FROM user_permissions WHERE postmark_server_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM servers WHERE postmark_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Writes one server of the inventory as this sync saw it.
async fn upsert_server(
    tx: &mut Tx,
    sync_id: i64,
    record: &ServerRecord,
    activity: &Activity,
) -> Result<(), sqlx::Error> {
    let fingerprints = serde_json::to_string(&record.token_fingerprints).unwrap_or_default();
    sqlx::query(
        "INSERT INTO servers (postmark_id, name, color, server_link, smtp_api_activated, \
         raw_email_enabled, track_opens, track_links, delivery_hook_url, inbound_hook_url, \
         bounce_hook_url, open_hook_url, click_hook_url, inbound_address, inbound_domain, \
         token_count, token_fingerprints, sent_30d, first_seen_sync, last_seen_sync, \
         hook_credentials, activity_read_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $20, $21) \
         ON CONFLICT (postmark_id) DO UPDATE SET name = excluded.name, color = excluded.color, \
         server_link = excluded.server_link, smtp_api_activated = excluded.smtp_api_activated, \
         raw_email_enabled = excluded.raw_email_enabled, track_opens = excluded.track_opens, \
         track_links = excluded.track_links, delivery_hook_url = excluded.delivery_hook_url, \
         inbound_hook_url = excluded.inbound_hook_url, bounce_hook_url = excluded.bounce_hook_url, \
         open_hook_url = excluded.open_hook_url, click_hook_url = excluded.click_hook_url, \
         inbound_address = excluded.inbound_address, inbound_domain = excluded.inbound_domain, \
         token_count = excluded.token_count, token_fingerprints = excluded.token_fingerprints, \
         sent_30d = excluded.sent_30d, last_seen_sync = excluded.last_seen_sync, \
         hook_credentials = excluded.hook_credentials, activity_read_at = excluded.activity_read_at",
    )
    .bind(record.postmark_id)
    .bind(&record.name)
    .bind(&record.color)
    .bind(&record.server_link)
    .bind(record.smtp_api_activated)
    .bind(record.raw_email_enabled)
    .bind(record.track_opens)
    .bind(&record.track_links)
    .bind(&record.delivery_hook_url)
    .bind(&record.inbound_hook_url)
    .bind(&record.bounce_hook_url)
    .bind(&record.open_hook_url)
    .bind(&record.click_hook_url)
    .bind(&record.inbound_address)
    .bind(&record.inbound_domain)
    .bind(record.token_fingerprints.len() as i64)
    .bind(fingerprints)
    .bind(activity.sent)
    .bind(sync_id)
    .bind(record.hook_credentials())
    .bind(&activity.read_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_added_removed_and_changed_fields() {
        let a = ServerRecord::new(&ServerInfo::sample(1, "a", &["t1"]), b"k");
        let b = ServerRecord::new(&ServerInfo::sample(2, "b", &["t2"]), b"k");
        let mut b2 = b.clone();
        b2.smtp_api_activated = false;
        let c = ServerRecord::new(&ServerInfo::sample(3, "c", &["t3"]), b"k");
        let previous = BTreeMap::from([(1, a), (2, b)]);
        let current = BTreeMap::from([(2, b2), (3, c)]);
        let changes = diff(&previous, &current);
        let summary: Vec<_> = changes.iter().map(|c| (c.key.as_str(), c.change)).collect();
        assert_eq!(
            summary,
            [("2", "changed"), ("3", "added"), ("1", "removed")]
        );
        assert_eq!(
            changes[0].detail["fields"][0]["field"],
            "smtp_api_activated"
        );
    }
}

//! Webhook credentials are never stored (see [`crate::postmark::hook_url`]). This holds the
//! installation's key for their fingerprints, and the one-off scrub of what was stored before
//! migration 0018: every place a webhook URL with credentials could have been written (the
//! servers, their snapshots, the sync changes and the values a quarantine kept) gets the URL
//! without them, and, where the inventory compares, the fingerprint a sync now records.
//!
//! Audit events written before 0018 cannot be scrubbed: the chain forbids changing them (a
//! `revocation.restored` event lists the webhook URLs it put back). See the README.

use serde_json::{json, Map, Value};

use super::server_record::{stored_hook, HOOK_FIELDS};
use crate::{
    audit::chain::canonical_json,
    clock::{format_timestamp, Clock},
    db::{lock_xact, Db, LockKey, Tx},
    postmark::{hook_url, servers::ServerEdit, servers::HOOKS_WITH_CREDENTIALS},
};

/// `inventory_settings` key of the fingerprint key (hex, in a JSON string).
const KEY_SETTING: &str = "webhook_fingerprint_key";
/// `inventory_settings` key migration 0018 leaves for [`scrub_stored`]; it goes when done.
const SCRUB_PENDING: &str = "webhook_credentials_scrub";

/// Rows read at a time while scrubbing the tables that grow with every sync.
const BATCH: i64 = 500;

/// The installation's fingerprint key, made on first use (random, 32 bytes). It lives in the
/// database so every instance shares it; it keeps fingerprints shown on pages and in
/// exports from being used to test password guesses.
pub async fn key(tx: &mut Tx, clock: &dyn Clock) -> Result<Vec<u8>, sqlx::Error> {
    async fn read(tx: &mut Tx) -> Result<Option<(String,)>, sqlx::Error> {
        sqlx::query_as("SELECT value FROM inventory_settings WHERE key = $1")
            .bind(KEY_SETTING)
            .fetch_optional(&mut **tx)
            .await
    }
    let stored = match read(tx).await? {
        Some((value,)) => value,
        None => {
            use rand::RngCore as _;
            let mut secret = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut secret);
            // Another instance may have made one meanwhile: theirs wins, read it back.
            sqlx::query(
                "INSERT INTO inventory_settings (key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(KEY_SETTING)
            .bind(json!(hex::encode(secret)).to_string())
            .bind(format_timestamp(clock.now()))
            .execute(&mut **tx)
            .await?;
            read(tx).await?.map(|(value,)| value).unwrap_or_default()
        }
    };
    let text: String = serde_json::from_str(&stored).unwrap_or_default();
    Ok(hex::decode(text).unwrap_or_default())
}

/// Takes webhook credentials out of everything stored before migration 0018, once (the
/// migration leaves a marker; this removes it in the same transaction). Returns how many rows
/// changed. Runs at start-up after the migrations.
pub async fn scrub_stored(db: &Db, clock: &dyn Clock) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    lock_xact(&mut tx, LockKey::Inventory).await?;
    let pending: Option<(String,)> =
        sqlx::query_as("SELECT key FROM inventory_settings WHERE key = $1")
            .bind(SCRUB_PENDING)
            .fetch_optional(&mut *tx)
            .await?;
    if pending.is_none() {
        return Ok(0);
    }
    let key = key(&mut tx, clock).await?;
    let mut changed = servers(&mut tx, &key).await?;
    changed += snapshots(&mut tx, &key).await?;
    changed += sync_changes(&mut tx).await?;
    changed += quarantines(&mut tx).await?;
    sqlx::query("DELETE FROM inventory_settings WHERE key = $1")
        .bind(SCRUB_PENDING)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if changed > 0 {
        tracing::info!(
            rows = changed,
            "webhook credentials removed from stored data"
        );
    }
    Ok(changed)
}

type HookRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn servers(tx: &mut Tx, key: &[u8]) -> Result<u64, sqlx::Error> {
    let rows: Vec<HookRow> = sqlx::query_as(
        "SELECT postmark_id, delivery_hook_url, inbound_hook_url, bounce_hook_url, \
         open_hook_url, click_hook_url FROM servers",
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut changed = 0;
    for (id, delivery, inbound, bounce, open, click) in rows {
        let hooks = [delivery, inbound, bounce, open, click];
        if !hooks.iter().flatten().any(|u| hook_url::split(u).url != *u) {
            continue;
        }
        let stored: Vec<(Option<String>, Option<String>)> =
            hooks.iter().map(|u| stored_hook(u, key)).collect();
        let credentials: Map<String, Value> = HOOK_FIELDS
            .iter()
            .zip(&stored)
            .filter_map(|((field, _), (_, fp))| fp.clone().map(|fp| (field.to_string(), fp.into())))
            .collect();
        sqlx::query(
            "UPDATE servers SET delivery_hook_url = $1, inbound_hook_url = $2, \
             bounce_hook_url = $3, open_hook_url = $4, click_hook_url = $5, \
             hook_credentials = $6 WHERE postmark_id = $7",
        )
        .bind(&stored[0].0)
        .bind(&stored[1].0)
        .bind(&stored[2].0)
        .bind(&stored[3].0)
        .bind(&stored[4].0)
        .bind((!credentials.is_empty()).then(|| Value::Object(credentials).to_string()))
        .bind(id)
        .execute(&mut **tx)
        .await?;
        changed += 1;
    }
    Ok(changed)
}

/// A snapshot's data as a sync now writes it: URLs without credentials, fingerprints beside.
fn scrub_snapshot(data: &mut Value, key: &[u8]) -> bool {
    let mut changed = false;
    for (url_field, credentials_field) in HOOK_FIELDS {
        let Some(url) = data
            .get(url_field)
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        let split = hook_url::split(&url);
        if split.url == url {
            continue;
        }
        if let Some(credentials) = split.credentials {
            data[credentials_field] = hook_url::fingerprint(key, credentials).into();
        }
        data[url_field] = split.url.into();
        changed = true;
    }
    changed
}

async fn snapshots(tx: &mut Tx, key: &[u8]) -> Result<u64, sqlx::Error> {
    let mut changed = 0;
    let mut after = (String::new(), -1i64);
    loop {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT item_key, from_sync, data FROM snapshot_versions WHERE scope = 'servers' \
             AND (item_key > $1 OR (item_key = $1 AND from_sync > $2)) \
             ORDER BY item_key, from_sync LIMIT $3",
        )
        .bind(&after.0)
        .bind(after.1)
        .bind(BATCH)
        .fetch_all(&mut **tx)
        .await?;
        let Some(last) = rows.last() else {
            return Ok(changed);
        };
        after = (last.0.clone(), last.1);
        for (item_key, from_sync, data) in rows {
            let Ok(mut value) = serde_json::from_str::<Value>(&data) else {
                continue;
            };
            if scrub_snapshot(&mut value, key) {
                sqlx::query(
                    "UPDATE snapshot_versions SET data = $1 \
                     WHERE scope = 'servers' AND item_key = $2 AND from_sync = $3",
                )
                .bind(canonical_json(&value))
                .bind(item_key)
                .bind(from_sync)
                .execute(&mut **tx)
                .await?;
                changed += 1;
            }
        }
    }
}

/// A server change's before and after values of webhook fields, without credentials.
fn scrub_change(detail: &mut Value) -> bool {
    let mut changed = false;
    let Some(fields) = detail.get_mut("fields").and_then(Value::as_array_mut) else {
        return false;
    };
    for field in fields {
        let is_hook = field
            .get("field")
            .and_then(Value::as_str)
            .is_some_and(|name| HOOK_FIELDS.iter().any(|(url, _)| *url == name));
        if !is_hook {
            continue;
        }
        for side in ["before", "after"] {
            if let Some(url) = field.get(side).and_then(Value::as_str) {
                let stripped = hook_url::without_credentials(url);
                if stripped != url {
                    field[side] = stripped.into();
                    changed = true;
                }
            }
        }
    }
    changed
}

async fn sync_changes(tx: &mut Tx) -> Result<u64, sqlx::Error> {
    let mut changed = 0;
    let mut after = (-1i64, String::new());
    loop {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT sync_id, item_key, detail FROM sync_changes WHERE kind = 'server' \
             AND (sync_id > $1 OR (sync_id = $1 AND item_key > $2)) \
             ORDER BY sync_id, item_key LIMIT $3",
        )
        .bind(after.0)
        .bind(&after.1)
        .bind(BATCH)
        .fetch_all(&mut **tx)
        .await?;
        let Some(last) = rows.last() else {
            return Ok(changed);
        };
        after = (last.0, last.1.clone());
        for (sync_id, item_key, detail) in rows {
            let Ok(mut value) = serde_json::from_str::<Value>(&detail) else {
                continue;
            };
            if scrub_change(&mut value) {
                sqlx::query(
                    "UPDATE sync_changes SET detail = $1 WHERE sync_id = $2 AND kind = 'server' \
                     AND item_key = $3",
                )
                .bind(canonical_json(&value))
                .bind(sync_id)
                .bind(&item_key)
                .execute(&mut **tx)
                .await?;
                changed += 1;
            }
        }
    }
}

async fn quarantines(tx: &mut Tx) -> Result<u64, sqlx::Error> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, previous FROM revocations WHERE previous IS NOT NULL")
            .fetch_all(&mut **tx)
            .await?;
    let mut changed = 0;
    for (id, previous) in rows {
        let Ok(value) = serde_json::from_str::<Value>(&previous) else {
            continue;
        };
        let Ok(edit) = serde_json::from_value::<ServerEdit>(value.clone()) else {
            continue;
        };
        let mut kept = edit.kept();
        if kept == value || kept.get(HOOKS_WITH_CREDENTIALS).is_none() {
            continue;
        }
        // Keep whatever else the row held beside the edit's fields.
        if let (Some(kept), Some(old)) = (kept.as_object_mut(), value.as_object()) {
            for (name, v) in old {
                kept.entry(name.clone()).or_insert_with(|| v.clone());
            }
        }
        sqlx::query("UPDATE revocations SET previous = $1 WHERE id = $2")
            .bind(kept.to_string())
            .bind(id)
            .execute(&mut **tx)
            .await?;
        changed += 1;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_scrubbed_to_what_a_sync_now_writes() {
        let mut server = crate::postmark::ServerInfo::sample(1, "Billing", &["t1"]);
        server.bounce_hook_url = Some("https://hooks:hunter2@hooks.example.com/b".into());
        let old = json!({
            "bounce_hook_url": "https://hooks:hunter2@hooks.example.com/b",
            "name": "Billing",
        });
        let mut scrubbed = old.clone();
        assert!(scrub_snapshot(&mut scrubbed, b"k"));
        let record = super::super::server_record::ServerRecord::new(&server, b"k");
        assert_eq!(scrubbed["bounce_hook_url"], "https://hooks.example.com/b");
        assert_eq!(
            scrubbed["bounce_hook_credentials"].as_str(),
            record.bounce_hook_credentials.as_deref()
        );
        assert!(
            !scrub_snapshot(&mut scrubbed, b"k"),
            "a second pass changes nothing"
        );
    }

    #[test]
    fn a_change_keeps_its_shape_without_credentials() {
        let mut detail = json!({"name": "Billing", "fields": [
            {"field": "bounce_hook_url", "before": "https://a:b@h.example/x", "after": null},
            {"field": "name", "before": "x@y://", "after": "z"},
        ]});
        assert!(scrub_change(&mut detail));
        assert_eq!(detail["fields"][0]["before"], "https://h.example/x");
        assert_eq!(detail["fields"][1]["before"], "x@y://");
    }
}

//! `snapshot SYNC_ID`: the inventory as one successful sync saw it, rebuilt from the stored
//! versions, as JSON lines on standard output (for an auditor, or to compare two syncs).

use std::io::Write as _;

use serde_json::{json, Value};

use super::{exit, init_telemetry, Failure};
use crate::{
    config::RawConfig,
    db::Db,
    inventory::snapshots::{self, Scope},
};

pub async fn run(raw: &RawConfig, sync_id: i64) -> Result<u8, Failure> {
    let db_config = raw.database()?;
    init_telemetry(raw)?;
    // Read-only, as `audit verify` opens it: a mistyped path is an error, not a new database.
    let db = Db::connect_read_only(&db_config).await?;
    let mut conn = db.pool().acquire().await.map_err(anyhow::Error::from)?;
    let scope: Option<(String,)> =
        sqlx::query_as("SELECT scope FROM syncs WHERE id = $1 AND status = 'succeeded'")
            .bind(sync_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(anyhow::Error::from)?;
    let scope = match scope.as_ref().map(|(s,)| s.as_str()) {
        Some("servers") => Scope::Servers,
        Some("users") => Scope::Users,
        _ => {
            eprintln!("sync #{sync_id}: no such successful sync");
            return Ok(exit::FAILURE);
        }
    };
    let Some(items) = snapshots::at(&mut conn, scope, sync_id)
        .await
        .map_err(anyhow::Error::from)?
    else {
        eprintln!("sync #{sync_id}: no such successful sync");
        return Ok(exit::FAILURE);
    };
    let mut out = std::io::stdout().lock();
    for (key, data) in items {
        let data: Value = serde_json::from_str(&data).unwrap_or(Value::String(data));
        writeln!(out, "{}", json!({ "key": key, "data": data })).map_err(anyhow::Error::from)?;
    }
    eprintln!(
        "sync #{sync_id} ({}): as it saw the inventory",
        scope.slug()
    );
    Ok(exit::OK)
}

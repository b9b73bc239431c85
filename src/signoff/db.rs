//! The sign-off's rules and transaction, and the stored record.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use sqlx::AnyConnection;

use super::{
    manifest::{
        AuditHead, CampaignFacts, FileDigest, Manifest, Outcomes, Signed, Snapshot, FORMAT,
    },
    Blocker, SignatureCheck, SignoffState, SignoffView, FROZEN, STATEMENT_MAX,
};
use crate::{
    audit::{checkpoint::record_checkpoint_in, record, Actor, Event, Reason, GENESIS_HASH},
    campaigns::Status,
    clock::{format_timestamp, Clock},
    db::{lock_xact, Backend, Db, LockKey},
    error::AppError,
    export::{
        decisions::{self, write_row},
        population::PopulationSource,
        writer::write_header,
        PAGE_ROWS,
    },
    review_items::{db::lock_campaign, Decision},
    revocations::Status as Revocation,
    signing::{self, store, Signer},
};

/// "1 flagged item" / "3 flagged items".
fn count(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What stands between a campaign and its sign-off, one sentence each (empty: ready).
pub async fn blockers(
    conn: &mut AnyConnection,
    id: i64,
    status: Status,
) -> Result<Vec<Blocker>, sqlx::Error> {
    let plain = |text: &str| Blocker {
        text: text.to_string(),
        action: None,
    };
    match status {
        Status::Closed => {}
        Status::Active => return Ok(vec![plain("The campaign is still open: close it first.")]),
        Status::Draft | Status::Template => {
            return Ok(vec![plain(
                "Only a launched and closed campaign can be signed off.",
            )])
        }
    }
    let revocations = |status: &str| format!("/revocations?campaign={id}&status={status}");
    let mut found = Vec::new();
    let (flagged,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM review_items WHERE campaign_id = $1 AND decision = 'flag'",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    if flagged > 0 {
        found.push(Blocker::new(
            format!(
                "{} wait for an admin to keep or revoke them.",
                count(flagged, "flagged item", "flagged items")
            ),
            "Settle them",
            "#undecided-heading".to_string(),
        ));
    }
    let (missing,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM review_items i WHERE i.campaign_id = $1 AND i.decision = 'revoke' \
         AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.item_id = i.id)",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    if missing > 0 {
        found.push(plain(&format!(
            "{} no revocation.",
            count(missing, "revoke decision has", "revoke decisions have")
        )));
    }
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*), \
         COALESCE(SUM(CASE WHEN acknowledged_at IS NULL THEN 0 ELSE 1 END), 0) \
         FROM revocations WHERE campaign_id = $1 GROUP BY status ORDER BY status",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let open = |status: Revocation| -> i64 {
        rows.iter()
            .filter(|(s, _, _)| s.as_str() == status.slug())
            .map(|(_, n, _)| *n)
            .sum()
    };
    let waiting = open(Revocation::ToRevoke);
    let running = open(Revocation::Pending) + open(Revocation::Running);
    let manual = open(Revocation::Manual);
    let failed: i64 = rows
        .iter()
        .filter(|(s, _, _)| s.as_str() == Revocation::Failed.slug())
        .map(|(_, n, acknowledged)| n - acknowledged)
        .sum();
    if waiting > 0 {
        found.push(Blocker::new(
            format!(
                "{} not been applied yet.",
                count(waiting, "revocation has", "revocations have")
            ),
            "Apply them",
            "#apply-heading".to_string(),
        ));
    }
    if running > 0 {
        found.push(Blocker::new(
            format!(
                "{} still being carried out.",
                count(running, "revocation is", "revocations are")
            ),
            "Follow them",
            revocations("pending"),
        ));
    }
    if manual > 0 {
        found.push(Blocker::new(
            format!(
                "{} for a person to carry it out: a fulfilment person marks it on its task, or \
                 an admin cancels it with a reason.",
                count(manual, "revocation waits", "revocations wait")
            ),
            "See them",
            revocations("manual"),
        ));
    }
    if failed > 0 {
        found.push(Blocker::new(
            format!(
                "{} a retry, a cancellation with a reason, or to be accepted as it is.",
                count(failed, "failed revocation needs", "failed revocations need")
            ),
            "Retry, cancel or accept",
            revocations("failed"),
        ));
    }
    Ok(found)
}

/// The statement as stored: trimmed, present, not too long.
fn statement(text: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::Validation(
            "Write the sign-off statement: what you confirm about this campaign.".into(),
        ));
    }
    if text.chars().count() > STATEMENT_MAX {
        return Err(AppError::Validation(format!(
            "The statement is too long: at most {STATEMENT_MAX} characters."
        )));
    }
    Ok(text.to_string())
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    name: String,
    description: String,
    kinds: String,
    server_ids: Option<String>,
    roles: Option<String>,
    starts_on: String,
    due_on: String,
    default_outcome: String,
    revoke_needs_justification: i64,
    privileged_needs_justification: i64,
    use_manager_mapping: i64,
    use_server_owners: i64,
    fixed_reviewer: Option<String>,
    fallback_reviewer: String,
    revocation_mode: String,
    created_by: String,
    launched_at: Option<String>,
    launched_by: Option<String>,
    closed_at: Option<String>,
    closed_by: Option<String>,
    servers_sync_id: Option<i64>,
    users_sync_id: Option<i64>,
}

/// A JSON list column as JSON (`null` stays `null`: "all").
fn list(id: i64, column: &str, text: Option<&str>) -> Result<Value, sqlx::Error> {
    text.map_or(Ok(Value::Null), |text| {
        serde_json::from_str(text).map_err(|_| {
            sqlx::Error::Decode(format!("campaign {id}: unreadable {column} {text:?}").into())
        })
    })
}

async fn facts(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<(CampaignFacts, Snapshot), sqlx::Error> {
    let row: CampaignRow = sqlx::query_as(
        "SELECT name, description, kinds, server_ids, roles, starts_on, due_on, \
         default_outcome, revoke_needs_justification, privileged_needs_justification, \
         use_manager_mapping, use_server_owners, fixed_reviewer, fallback_reviewer, \
         revocation_mode, created_by, launched_at, launched_by, closed_at, closed_by, \
         servers_sync_id, users_sync_id FROM campaigns WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    let snapshot = Snapshot {
        servers_sync_id: row.servers_sync_id,
        servers_synced_at: synced_at(conn, row.servers_sync_id).await?,
        users_sync_id: row.users_sync_id,
        users_synced_at: synced_at(conn, row.users_sync_id).await?,
    };
    let facts = CampaignFacts {
        id,
        kinds: list(id, "kinds", Some(&row.kinds))?,
        server_ids: list(id, "server_ids", row.server_ids.as_deref())?,
        roles: list(id, "roles", row.roles.as_deref())?,
        name: row.name,
        description: row.description,
        starts_on: row.starts_on,
        due_on: row.due_on,
        default_outcome: row.default_outcome,
        revoke_needs_justification: row.revoke_needs_justification != 0,
        privileged_needs_justification: row.privileged_needs_justification != 0,
        use_manager_mapping: row.use_manager_mapping != 0,
        use_server_owners: row.use_server_owners != 0,
        fixed_reviewer: row.fixed_reviewer,
        fallback_reviewer: row.fallback_reviewer,
        revocation_mode: row.revocation_mode,
        created_by: row.created_by,
        launched_at: row.launched_at,
        launched_by: row.launched_by,
        closed_at: row.closed_at,
        closed_by: row.closed_by,
    };
    Ok((facts, snapshot))
}

/// When a sync finished.
async fn synced_at(
    conn: &mut AnyConnection,
    sync: Option<i64>,
) -> Result<Option<String>, sqlx::Error> {
    let Some(sync) = sync else { return Ok(None) };
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT finished_at FROM syncs WHERE id = $1")
            .bind(sync)
            .fetch_optional(conn)
            .await?;
    Ok(row.and_then(|(at,)| at))
}

/// The report's bytes and what they add up to.
async fn report(conn: &mut AnyConnection, id: i64) -> Result<(Vec<u8>, Outcomes), sqlx::Error> {
    let mut out = Vec::new();
    write_header(&mut out, decisions::HEADER);
    let mut outcomes = Outcomes::default();
    let mut after = 0;
    loop {
        let rows = decisions::page(conn, id, after, PAGE_ROWS).await?;
        for row in &rows {
            write_row(&mut out, row);
            outcomes.items += 1;
            match row.decision {
                Some(Decision::Approve) => outcomes.approved += 1,
                Some(Decision::Revoke) => outcomes.revoked += 1,
                _ => {}
            }
            match row
                .revocation
                .as_ref()
                .map(|r| (r.status, r.acknowledged.is_some()))
            {
                Some((Revocation::Done, _)) => outcomes.revocations_done += 1,
                Some((Revocation::Excluded, _)) => outcomes.revocations_excluded += 1,
                Some((Revocation::Cancelled, _)) => outcomes.revocations_cancelled += 1,
                Some((Revocation::Failed, true)) => outcomes.revocations_failed_acknowledged += 1,
                _ => {}
            }
        }
        match rows.last() {
            Some(row) if rows.len() as i64 == PAGE_ROWS => after = row.item_id,
            _ => break,
        }
    }
    Ok((out, outcomes))
}

/// SHA-256 (hex) of the population file, written page by page into the hash.
async fn population_sha256(
    db: &Db,
    conn: &mut AnyConnection,
    id: i64,
) -> Result<String, sqlx::Error> {
    let mut source = PopulationSource::new(db.clone(), id);
    let mut hasher = Sha256::new();
    let mut page = Vec::new();
    write_header(&mut page, crate::export::population::HEADER);
    loop {
        let more = source.page(conn, &mut page).await?;
        hasher.update(&page);
        page.clear();
        if !more {
            break;
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Signs off a closed campaign whose revocations are finished.
#[allow(clippy::too_many_arguments)]
pub async fn sign_off(
    db: &Db,
    clock: &dyn Clock,
    signer: &Signer,
    actor: &Actor,
    admin: &str,
    id: i64,
    text: &str,
) -> Result<SignoffView, AppError> {
    let statement = statement(text)?;
    let mut tx = db.begin().await?;
    let status = lock_campaign(&mut tx, id, true)
        .await?
        .ok_or(AppError::NotFound)?;
    if signed(&mut tx, id).await? {
        return Err(AppError::Conflict(FROZEN.to_string()));
    }
    // A retry, cancel or fulfilment mark committing between the checks below and the insert
    // would leave a report that no longer says what is true: on PostgreSQL, hold the
    // campaign's revocations until the sign-off commits (its triggers then refuse those
    // writes). SQLite's write transaction already excludes every other writer.
    if tx.backend() == Backend::Postgres {
        sqlx::query("SELECT id FROM revocations WHERE campaign_id = $1 FOR UPDATE")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
    }
    let blocking = blockers(&mut tx, id, status).await?;
    if !blocking.is_empty() {
        let sentences: Vec<&str> = blocking.iter().map(|b| b.text.as_str()).collect();
        return Err(AppError::Conflict(format!(
            "Not ready to sign off: {}",
            sentences.join(" ")
        )));
    }
    let (campaign, snapshot) = facts(&mut tx, id).await?;
    let (report, outcomes) = report(&mut tx, id).await?;
    let population = population_sha256(db, &mut tx, id).await?;
    // The head the decisions and revocations left; the sign-off's own event follows it and
    // the checkpoint below covers that.
    lock_xact(&mut tx, LockKey::Audit).await?;
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_events")
        .fetch_one(&mut *tx)
        .await?;
    let (seq, hash) = head.unwrap_or((0, GENESIS_HASH.to_string()));
    let key_id = store::current_id(&mut tx, signer).await?.ok_or_else(|| {
        AppError::Conflict(
            "The signing key was rotated since this server started: restart it, then sign off."
                .into(),
        )
    })?;
    let signed_at = format_timestamp(clock.now());
    let report_sha256 = hex::encode(Sha256::digest(&report));
    let records = outcomes.items;
    let manifest = Manifest {
        format: FORMAT,
        campaign,
        snapshot,
        report: FileDigest {
            file: "report.csv",
            sha256: report_sha256.clone(),
            records,
        },
        population: FileDigest {
            file: "population.csv",
            sha256: population,
            records,
        },
        outcomes,
        audit_head: AuditHead {
            count: events,
            seq,
            hash,
        },
        signed_off: Signed {
            by: admin.to_string(),
            at: signed_at.clone(),
            statement: statement.clone(),
        },
        key: signer.fingerprint().to_string(),
    };
    let manifest = manifest.to_bytes().map_err(AppError::internal)?;
    let report_signature = STANDARD.encode(signer.sign(&report));
    let manifest_signature = STANDARD.encode(signer.sign(&manifest));
    record(
        &mut tx,
        clock,
        actor,
        &Event::new("campaign.signed_off", format!("campaign:{id}")).details(json!({
            "statement": statement,
            "items": records,
            "report_sha256": report_sha256,
            "manifest_sha256": hex::encode(Sha256::digest(&manifest)),
            "key": signer.fingerprint(),
        })),
    )
    .await?;
    let checkpoint = record_checkpoint_in(&mut tx, clock, signer, actor, Reason::SignOff)
        .await
        .map_err(AppError::internal)?;
    let report = String::from_utf8(report).map_err(AppError::internal)?;
    let manifest = String::from_utf8(manifest).map_err(AppError::internal)?;
    sqlx::query(
        "INSERT INTO campaign_signoffs (campaign_id, signed_by, signed_at, statement, key_id, \
         report, report_sha256, report_signature, manifest, manifest_signature, checkpoint_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(admin)
    .bind(&signed_at)
    .bind(&statement)
    .bind(key_id)
    .bind(&report)
    .bind(&report_sha256)
    .bind(&report_signature)
    .bind(&manifest)
    .bind(&manifest_signature)
    .bind(checkpoint.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(campaign = id, items = records, "campaign signed off");
    let stored = stored(db, id).await?.ok_or(AppError::Internal)?;
    Ok(stored.view())
}

async fn signed(conn: &mut AnyConnection, id: i64) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT campaign_id FROM campaign_signoffs WHERE campaign_id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

/// A sign-off as stored, with the public key that signed it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub campaign_id: i64,
    pub signed_by: String,
    pub signed_at: String,
    pub statement: String,
    pub report: String,
    pub report_sha256: String,
    pub report_signature: String,
    pub manifest: String,
    pub manifest_signature: String,
    pub checkpoint_id: i64,
    pub public_key_pem: String,
    pub fingerprint: String,
}

impl Stored {
    /// Checks the stored bytes against their digest and both signatures against the key.
    pub fn check(&self) -> SignatureCheck {
        if signing::fingerprint_of_pem(&self.public_key_pem).as_deref() != Ok(&self.fingerprint) {
            return SignatureCheck::Broken(
                "the stored public key does not match its fingerprint".into(),
            );
        }
        let report = self.report.as_bytes();
        if hex::encode(Sha256::digest(report)) != self.report_sha256 {
            return SignatureCheck::Broken("the stored report does not match its digest".into());
        }
        match super::manifest::digest_of(&self.manifest, "report.csv") {
            Some((sha256, _)) if sha256 == self.report_sha256 => {}
            _ => {
                return SignatureCheck::Broken(
                    "the signed manifest names a different report".into(),
                )
            }
        }
        for (what, bytes, signature) in [
            ("report", report, &self.report_signature),
            (
                "manifest",
                self.manifest.as_bytes(),
                &self.manifest_signature,
            ),
        ] {
            let verified = crate::audit::checkpoint::decode_signature(signature)
                .and_then(|signature| signing::verify(&self.public_key_pem, bytes, &signature));
            if let Err(problem) = verified {
                return SignatureCheck::Broken(format!("the {what}'s signature: {problem}"));
            }
        }
        SignatureCheck::Verified
    }

    /// The raw 64-byte signatures (for `.sig` files); `None` if a stored one is unreadable.
    pub fn raw_signature(text: &str) -> Option<Vec<u8>> {
        crate::audit::checkpoint::decode_signature(text).ok()
    }

    pub fn view(&self) -> SignoffView {
        SignoffView {
            signed_by: self.signed_by.clone(),
            signed_at: self.signed_at.clone(),
            statement: self.statement.clone(),
            report_sha256: self.report_sha256.clone(),
            key_fingerprint: self.fingerprint.clone(),
            checkpoint_id: self.checkpoint_id,
            check: self.check(),
        }
    }
}

/// The sign-off of a campaign, if it has one.
pub async fn stored(db: &Db, id: i64) -> Result<Option<Stored>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.campaign_id, s.signed_by, s.signed_at, s.statement, s.report, \
         s.report_sha256, s.report_signature, s.manifest, s.manifest_signature, \
         s.checkpoint_id, k.public_key_pem, k.fingerprint \
         FROM campaign_signoffs s JOIN signing_keys k ON k.id = s.key_id \
         WHERE s.campaign_id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await
}

/// What the campaign page shows: the sign-off, or what still stands in its way.
pub async fn state(db: &Db, id: i64) -> Result<SignoffState, AppError> {
    let signed = stored(db, id).await?;
    let mut conn = db.pool().acquire().await?;
    let status: Option<(String,)> = sqlx::query_as("SELECT status FROM campaigns WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let status = status
        .and_then(|(s,)| Status::from_slug(&s))
        .ok_or(AppError::NotFound)?;
    let blockers = match signed {
        Some(_) => Vec::new(),
        None => blockers(&mut conn, id, status).await?,
    };
    Ok(SignoffState {
        campaign_id: id,
        blockers,
        signed: signed.map(|s| s.view()),
    })
}

/// Refuses a change to a signed-off campaign with the message people see (the database
/// triggers refuse it anyway; this is the explanation on the paths that check first).
pub async fn ensure_not_signed_off(conn: &mut AnyConnection, id: i64) -> Result<(), AppError> {
    if signed(conn, id).await? {
        return Err(AppError::Conflict(FROZEN.to_string()));
    }
    Ok(())
}

//! The evidence bundle: one zip with everything an auditor needs to check a signed-off
//! campaign offline with `openssl` and `sha256sum`, and `VERIFY.txt` saying how.
//!
//! Built in memory: the report is stored (bounded by the campaign's items) and the population
//! file has one short record per item, so a 20,000-item campaign makes a zip of a few MB.

use std::io::{Cursor, Write as _};

use zip::{write::SimpleFileOptions, CompressionMethod, ZipWriter};

use super::db::Stored;
use crate::{
    audit::checkpoint::{self, Checkpoint, CheckpointBody},
    db::Db,
    export::{population::PopulationSource, writer::write_header},
    signing::store,
};

/// The folder every file of the zip sits in.
pub fn folder(campaign_id: i64) -> String {
    format!("campaign-{campaign_id}-evidence")
}

/// The latest checkpoint with the PEM of the key that signed it.
struct LatestCheckpoint {
    checkpoint: Checkpoint,
    signed_bytes: Vec<u8>,
    signature: Vec<u8>,
    key_pem: String,
    key_fingerprint: String,
}

async fn latest_checkpoint(db: &Db) -> anyhow::Result<LatestCheckpoint> {
    let checkpoint = checkpoint::latest(db, 1)
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no checkpoint: a sign-off always records one"))?;
    let body = CheckpointBody::parse(&checkpoint.line).map_err(anyhow::Error::msg)?;
    let key = store::by_fingerprint(db, &body.key)
        .await?
        .ok_or_else(|| anyhow::anyhow!("checkpoint {} names an unknown key", checkpoint.id))?;
    let signature =
        checkpoint::decode_signature(&checkpoint.signature).map_err(anyhow::Error::msg)?;
    Ok(LatestCheckpoint {
        signed_bytes: body.signed_bytes(),
        signature,
        key_pem: key.public_key_pem,
        key_fingerprint: key.fingerprint,
        checkpoint,
    })
}

async fn population(db: &Db, campaign_id: i64) -> Result<Vec<u8>, sqlx::Error> {
    let mut out = Vec::new();
    write_header(&mut out, crate::export::population::HEADER);
    let mut source = PopulationSource::new(db.clone(), campaign_id);
    let mut conn = db.pool().acquire().await?;
    while source.page(&mut conn, &mut out).await? {}
    Ok(out)
}

/// `VERIFY.txt`: the files, and commands that run as written in the bundle's folder.
pub fn instructions(stored: &Stored, checkpoint_key_file: &str, checkpoint_id: i64) -> String {
    let verify = |file: &str, key: &str| {
        format!("    openssl pkeyutl -verify -pubin -inkey {key} -rawin -in {file} -sigfile {file}.sig\n")
    };
    let matches = |file: &str| {
        format!(
            "    grep -q \"\\\"sha256\\\": \\\"$(sha256sum {file} | cut -d ' ' -f 1)\\\"\" signoff.json && echo \"{file} matches signoff.json\"\n"
        )
    };
    let mut text = format!(
        "Evidence for campaign {id}, signed off {at} by {by}.\n\
         \n\
         Files\n\
         \x20 report.csv           every item: who had what access, who decided, the decision and\n\
         \x20                      justification, and what became of each revocation (signed)\n\
         \x20 report.csv.sig       its Ed25519 signature (64 bytes)\n\
         \x20 signoff.json         the campaign's settings, the inventory snapshot it was launched\n\
         \x20                      from, the SHA-256 of report.csv and population.csv, the outcome\n\
         \x20                      counts, the audit log's head, and the signed statement (signed)\n\
         \x20 signoff.json.sig     its signature\n\
         \x20 population.csv       the items the campaign was launched with (test completeness\n\
         \x20                      against it; its SHA-256 is in signoff.json)\n\
         \x20 key.pem              the public key that signed them\n\
         \x20 checkpoint.txt       the latest signed checkpoint of the audit log (checkpoint {checkpoint_id})\n\
         \x20 checkpoint.txt.sig   its signature\n\
         \x20 audit-checkpoint.txt the same checkpoint with its signature, for\n\
         \x20                      `postmark-access-review audit verify --checkpoint audit-checkpoint.txt`\n\
         \n\
         1. Check that key.pem is the organisation's key: its fingerprint (the SHA-256 of the\n\
         \x20  raw public key, as the Audit page shows it) must be {fingerprint}\n\
         \n\
         \x20   openssl pkey -pubin -in key.pem -outform DER | tail -c 32 | sha256sum\n\
         \n\
         2. In the folder that holds this file, run (OpenSSL 3.0 or later). Each openssl command\n\
         \x20  prints \"Signature Verified Successfully\" and each grep line \"... matches\n\
         \x20  signoff.json\"; anything else means a file is not what was signed.\n\
         \n",
        id = stored.campaign_id,
        at = stored.signed_at,
        by = stored.signed_by,
        fingerprint = stored.fingerprint,
    );
    text.push_str(&verify("report.csv", "key.pem"));
    text.push_str(&verify("signoff.json", "key.pem"));
    text.push_str(&verify("checkpoint.txt", checkpoint_key_file));
    text.push_str(&matches("report.csv"));
    text.push_str(&matches("population.csv"));
    text.push_str(
        "\nThe signatures are pure Ed25519 over the exact bytes of each file (no hashing first),\n\
         which is what `-rawin` asks openssl to check.\n",
    );
    text
}

/// The zip's bytes.
pub async fn build(db: &Db, stored: &Stored) -> anyhow::Result<Vec<u8>> {
    let latest = latest_checkpoint(db).await?;
    let population = population(db, stored.campaign_id).await?;
    let report_sig = Stored::raw_signature(&stored.report_signature)
        .ok_or_else(|| anyhow::anyhow!("the stored report signature is unreadable"))?;
    let manifest_sig = Stored::raw_signature(&stored.manifest_signature)
        .ok_or_else(|| anyhow::anyhow!("the stored manifest signature is unreadable"))?;
    // A rotation after the sign-off: the checkpoint is signed by another key, shipped beside.
    let checkpoint_key = if latest.key_fingerprint == stored.fingerprint {
        "key.pem"
    } else {
        "checkpoint-key.pem"
    };
    let verify = instructions(stored, checkpoint_key, latest.checkpoint.id);
    let mut files: Vec<(&str, &[u8])> = vec![
        ("VERIFY.txt", verify.as_bytes()),
        ("report.csv", stored.report.as_bytes()),
        ("report.csv.sig", &report_sig),
        ("signoff.json", stored.manifest.as_bytes()),
        ("signoff.json.sig", &manifest_sig),
        ("population.csv", &population),
        ("key.pem", stored.public_key_pem.as_bytes()),
        ("checkpoint.txt", &latest.signed_bytes),
        ("checkpoint.txt.sig", &latest.signature),
    ];
    let checkpoint_text = latest.checkpoint.text();
    files.push(("audit-checkpoint.txt", checkpoint_text.as_bytes()));
    if checkpoint_key != "key.pem" {
        files.push((checkpoint_key, latest.key_pem.as_bytes()));
    }
    let folder = folder(stored.campaign_id);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (name, bytes) in files {
        zip.start_file(format!("{folder}/{name}"), options)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

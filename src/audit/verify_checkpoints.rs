//! Checking the chain against signed checkpoints: those stored in the database, and one an
//! auditor kept outside it. The chain alone cannot show a removed tail or a chain rewritten
//! with every hash recomputed; a checkpoint can, since it signed the count and the hash at
//! its position.

use std::{collections::BTreeMap, fmt};

use base64::{engine::general_purpose::STANDARD, Engine as _};

use super::{
    checkpoint::{self, CheckpointBody, KeptCheckpoint},
    verify::walk,
    ChainBreak, ChainReport, GENESIS_HASH,
};
use crate::{db::Db, signing};

/// A checkpoint that does not hold, named as the operator knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointProblem {
    /// `#12` for a stored checkpoint, or the file name of a kept one.
    pub checkpoint: String,
    pub reason: String,
}

impl fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "checkpoint {}: {}", self.checkpoint, self.reason)
    }
}

/// The first thing that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    Chain(ChainBreak),
    Checkpoint(CheckpointProblem),
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broken::Chain(b) => b.fmt(f),
            Broken::Checkpoint(p) => p.fmt(f),
        }
    }
}

/// An intact chain that agrees with every checkpoint checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullReport {
    pub chain: ChainReport,
    pub checkpoints: usize,
}

/// Walks the chain and checks it against every stored checkpoint and, when given, one kept
/// outside the database (`name` names it in messages).
pub async fn verify_all(
    db: &Db,
    kept: Option<(&str, &KeptCheckpoint)>,
) -> Result<Result<FullReport, Broken>, sqlx::Error> {
    // Keyed by the fingerprint computed from each stored key, so a row whose PEM was swapped
    // for another key no longer answers for the fingerprint the checkpoints name.
    let keys: BTreeMap<String, String> = signing::store::all(db)
        .await?
        .into_iter()
        .filter_map(|k| {
            signing::fingerprint_of_pem(&k.public_key_pem)
                .ok()
                .map(|fingerprint| (fingerprint, k.public_key_pem))
        })
        .collect();
    let mut checks = Vec::new();
    for stored in checkpoint::all(db).await? {
        let name = format!("#{}", stored.id);
        let parsed = CheckpointBody::parse(&stored.line)
            .map_err(|e| format!("the stored line {e}"))
            .and_then(|body| {
                checkpoint::decode_signature(&stored.signature).map(|sig| (body, sig))
            });
        match parsed {
            Ok((body, signature)) => checks.push((name, body, signature)),
            Err(reason) => {
                return Ok(Err(Broken::Checkpoint(CheckpointProblem {
                    checkpoint: name,
                    reason,
                })))
            }
        }
    }
    if let Some((name, kept)) = kept {
        checks.push((name.to_string(), kept.body.clone(), kept.signature.clone()));
    }

    // Signatures first: a checkpoint whose line was edited must not be trusted for positions.
    for (name, body, signature) in &checks {
        let problem = |reason: String| {
            Ok(Err(Broken::Checkpoint(CheckpointProblem {
                checkpoint: name.clone(),
                reason,
            })))
        };
        let Some(pem) = keys.get(&body.key) else {
            return problem(format!(
                "signed with key {}, which this database does not hold",
                body.key
            ));
        };
        if let Err(reason) = signing::verify(pem, &body.signed_bytes(), signature) {
            return problem(format!(
                "{reason} (key {}; signature {})",
                body.key,
                STANDARD.encode(signature)
            ));
        }
    }

    let seqs = checks.iter().map(|(_, body, _)| body.seq).collect();
    let (report, hashes) = match walk(db, &seqs).await? {
        Ok(walked) => walked,
        Err(chain_break) => return Ok(Err(Broken::Chain(chain_break))),
    };
    let last_seq = i64::try_from(report.events).unwrap_or(i64::MAX);
    for (name, body, _) in &checks {
        if let Some(reason) = position_problem(body, last_seq, hashes.get(&body.seq)) {
            return Ok(Err(Broken::Checkpoint(CheckpointProblem {
                checkpoint: name.clone(),
                reason,
            })));
        }
    }
    Ok(Ok(FullReport {
        chain: report,
        checkpoints: checks.len(),
    }))
}

/// Whether an intact chain ending at `last_seq` (so numbered 1…`last_seq`) still holds what
/// the checkpoint signed: as many events, and the same hash at its position.
fn position_problem(body: &CheckpointBody, last_seq: i64, hash: Option<&String>) -> Option<String> {
    if body.count != body.seq {
        return Some(format!(
            "it signed {} events up to #{}, but an intact chain numbers its events from #1",
            body.count, body.seq
        ));
    }
    if body.seq > last_seq {
        return Some(format!(
            "it signed {} events up to #{} (hash {}), but the chain ends at #{last_seq}: \
             events were removed from the end",
            body.count, body.seq, body.hash
        ));
    }
    let found = if body.seq == 0 {
        GENESIS_HASH
    } else {
        hash.map(String::as_str).unwrap_or_default()
    };
    (found != body.hash).then(|| {
        format!(
            "event #{} has hash {found}, but the checkpoint signed {}: the chain up to it was \
             rewritten",
            body.seq, body.hash
        )
    })
}

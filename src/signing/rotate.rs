//! `keys rotate`: a new key replaces the current one; the old public key stays registered so
//! everything it signed still verifies.

use anyhow::{bail, Context as _};
use serde_json::json;

use super::{load, store, temporary_path, write_key_file, Signer, SigningConfig};
use crate::{
    audit::{self, Actor, Event},
    clock::Clock,
    db::Db,
};

/// Retires the current key and writes a new one to the key file; returns the old and the new
/// fingerprint. A running server keeps signing with the key it loaded until it restarts, and
/// its checkpoints are refused meanwhile (see `record_checkpoint`).
pub async fn rotate(
    config: &SigningConfig,
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
) -> anyhow::Result<(String, String)> {
    if config.key_pem.is_some() {
        bail!(
            "the signing key comes from PAR_SIGNING_KEY: put the new PEM there and restart \
             (the new key is registered and the old one retired at start-up)"
        );
    }
    let old = load(config, db, clock).await?;
    let new = Signer::generate()?;
    let pending = temporary_path(&config.key_file);
    // A leftover from an interrupted rotation was never registered: nothing signed with it.
    if pending.exists() {
        std::fs::remove_file(&pending)
            .with_context(|| format!("could not remove {}", pending.display()))?;
    }
    write_key_file(&config.key_file, &new, true)?;
    let registered = async {
        let mut tx = db.begin().await?;
        store::insert_current(&mut tx, clock, &new).await?;
        audit::record(
            &mut tx,
            clock,
            actor,
            &Event::new(
                "signing.key_rotated",
                format!("signing_key:{}", new.fingerprint()),
            )
            .details(json!({ "retired": old.fingerprint(), "fingerprint": new.fingerprint() })),
        )
        .await?;
        tx.commit().await
    }
    .await;
    if let Err(error) = registered {
        // Best effort: the old key file is untouched and still current.
        let _ = std::fs::remove_file(&pending);
        return Err(error).context("could not register the new key; the old key stays current");
    }
    std::fs::rename(&pending, &config.key_file).with_context(|| {
        format!(
            "the new key is registered but could not be moved to {}: rename {} over it by hand",
            config.key_file.display(),
            pending.display()
        )
    })?;
    Ok((old.fingerprint().to_string(), new.fingerprint().to_string()))
}

//! `audit verify`, `audit checkpoint` and `keys rotate`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::{engine::general_purpose::STANDARD, Engine as _};
use clap::Subcommand;

use super::{connect_and_migrate, exit, init_telemetry, Failure};
use crate::{
    audit::{self, checkpoint::KeptCheckpoint, Actor, Broken, Reason},
    clock::SystemClock,
    config::RawConfig,
    db::Db,
};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain from the first event and name the first one that does not hold,
    /// then check the chain against every signed checkpoint in the database (and the one in
    /// FILE, when given). Exits 0 when everything holds, 1 otherwise.
    Verify {
        /// A checkpoint kept outside the database, as `audit checkpoint` printed it.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
    /// Sign a checkpoint of the audit head now, store it, and print it (keep the output
    /// outside the database, e.g. from cron).
    Checkpoint {
        /// Also write checkpoint.txt, checkpoint.sig and key.pem into DIR, the three files
        /// `openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in checkpoint.txt
        /// -sigfile checkpoint.sig` reads.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Retire the current signing key and write a new one to PAR_SIGNING_KEY_FILE (audited).
    /// Old public keys stay in the database, so what they signed still verifies. Restart
    /// running servers afterwards.
    Rotate,
}

pub async fn run_audit(raw: &RawConfig, command: AuditCommand) -> Result<u8, Failure> {
    match command {
        AuditCommand::Verify { checkpoint } => verify(raw, checkpoint.as_deref()).await,
        AuditCommand::Checkpoint { out } => {
            let db_config = raw.database()?;
            let signing = raw.signing()?;
            init_telemetry(raw)?;
            let db = connect_and_migrate(&db_config).await?;
            let signer = crate::signing::load(&signing, &db, &SystemClock).await?;
            let checkpoint = audit::record_checkpoint(
                &db,
                &SystemClock,
                &signer,
                &Actor::system("cli"),
                Reason::Cli,
            )
            .await
            .map_err(anyhow::Error::from)?;
            if let Some(dir) = out {
                write_openssl_files(&dir, &checkpoint, signer.public_key_pem())?;
            }
            print!("{}", checkpoint.text());
            Ok(exit::OK)
        }
    }
}

pub async fn run_keys(raw: &RawConfig, command: KeysCommand) -> Result<u8, Failure> {
    match command {
        KeysCommand::Rotate => {
            let db_config = raw.database()?;
            let signing = raw.signing()?;
            init_telemetry(raw)?;
            let db = connect_and_migrate(&db_config).await?;
            let (old, new) =
                crate::signing::rotate(&signing, &db, &SystemClock, &Actor::system("cli")).await?;
            println!("signing key rotated: {old} retired, {new} is current");
            println!("restart running servers so they sign with the new key");
            Ok(exit::OK)
        }
    }
}

async fn verify(raw: &RawConfig, kept_file: Option<&Path>) -> Result<u8, Failure> {
    let db_config = raw.database()?;
    init_telemetry(raw)?;
    let kept = match kept_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("could not read {}", path.display()))?;
            let kept = KeptCheckpoint::parse(&text).map_err(|reason| {
                anyhow::anyhow!("{} is not a checkpoint: {reason}", path.display())
            })?;
            Some((path.display().to_string(), kept))
        }
        None => None,
    };
    let db = Db::connect_read_only(&db_config).await?;
    let outcome = audit::verify_all(&db, kept.as_ref().map(|(name, k)| (name.as_str(), k)))
        .await
        .context("could not read the audit log (has `migrate` been run?)")?;
    Ok(match outcome {
        Ok(report) => {
            println!(
                "audit chain intact: {} events, head {}; {} signed checkpoint(s) hold",
                report.chain.events,
                report.chain.head.as_deref().unwrap_or("(empty log)"),
                report.checkpoints
            );
            exit::OK
        }
        Err(Broken::Chain(problem)) => {
            println!("audit chain BROKEN at event #{}: {problem}", problem.seq());
            exit::FAILURE
        }
        Err(Broken::Checkpoint(problem)) => {
            println!("audit chain BROKEN against {problem}");
            exit::FAILURE
        }
    })
}

/// checkpoint.txt (the signed bytes), checkpoint.sig (the raw 64-byte signature) and key.pem.
fn write_openssl_files(
    dir: &Path,
    checkpoint: &audit::Checkpoint,
    key_pem: &str,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let signature = STANDARD
        .decode(&checkpoint.signature)
        .context("the stored signature is not base64")?;
    for (name, bytes) in [
        (
            "checkpoint.txt",
            format!("{}\n", checkpoint.line).into_bytes(),
        ),
        ("checkpoint.sig", signature),
        ("key.pem", key_pem.as_bytes().to_vec()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, bytes)
            .with_context(|| format!("could not write {}", path.display()))?;
    }
    Ok(())
}

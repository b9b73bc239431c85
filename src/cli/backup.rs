//! `backup FILE`: a consistent copy of the SQLite database, taken while `serve` runs, whose
//! audit chain and checkpoints are verified before it is called a backup.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use secrecy::SecretString;

use super::{exit, init_telemetry, Failure};
use crate::{
    audit::{self, Broken},
    config::{DatabaseConfig, RawConfig},
    db::{Backend, Db},
};

pub async fn run(raw: &RawConfig, file: &Path) -> Result<u8, Failure> {
    let db_config = raw.database()?;
    init_telemetry(raw)?;
    // Read-only: a mistyped path is an error, not a new empty database.
    let db = Db::connect_read_only(&DatabaseConfig {
        url: db_config.url.clone(),
        max_connections: 1,
    })
    .await?;
    if db.backend() == Backend::Postgres {
        eprintln!(
            "backup copies the embedded SQLite database; for PostgreSQL use pg_dump \
             (see \"Backups\" in README.md)"
        );
        return Ok(exit::FAILURE);
    }
    if file.exists() {
        eprintln!("{} already exists: give a new file name", file.display());
        return Ok(exit::FAILURE);
    }
    // The copy is opened again through a database URL, where these characters mean something.
    if file.to_string_lossy().contains(['?', '#', '%']) {
        eprintln!("{}: use a file name without ?, # or %", file.display());
        return Ok(exit::FAILURE);
    }
    // Written beside the target and renamed once verified: a file named FILE is a good backup.
    let partial = partial_name(file);
    let _ = std::fs::remove_file(&partial);
    let copied = copy(&db, &partial).await;
    db.close().await;
    let result = match copied {
        Ok(()) => check(&partial).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(Some(summary)) => {
            // Checked again: a file that appeared meanwhile is not replaced.
            if file.exists() {
                let _ = std::fs::remove_file(&partial);
                eprintln!(
                    "{} appeared while the copy was taken: not replaced",
                    file.display()
                );
                return Ok(exit::FAILURE);
            }
            std::fs::rename(&partial, file)
                .with_context(|| format!("could not rename the copy to {}", file.display()))?;
            let parent = file.parent().filter(|p| !p.as_os_str().is_empty());
            sync_dir(parent.unwrap_or(Path::new(".")))?;
            let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            println!("backup written: {} ({size} bytes)", file.display());
            println!("{summary}");
            Ok(exit::OK)
        }
        Ok(None) => {
            let _ = std::fs::remove_file(&partial);
            Ok(exit::FAILURE)
        }
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(Failure::Runtime(error))
        }
    }
}

fn partial_name(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(format!(".partial-{}", std::process::id()));
    PathBuf::from(name)
}

/// `VACUUM INTO`: one read transaction, so the copy is the database at one instant while
/// writers go on (WAL). Readable by the owner only: it holds everything the app knows.
async fn copy(db: &Db, to: &Path) -> anyhow::Result<()> {
    let target = to
        .to_str()
        .context("the backup path is not valid UTF-8")?
        .to_string();
    create_private(to)?;
    // VACUUM INTO wants a file that does not exist or is empty; the empty private file keeps
    // the mode set above.
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(db.pool())
        .await
        .with_context(|| format!("could not write {}", to.display()))?;
    // VACUUM INTO does not sync its output: a backup must be on disk before it is called one.
    std::fs::File::open(to)
        .and_then(|file| file.sync_all())
        .with_context(|| format!("could not sync {} to disk", to.display()))?;
    Ok(())
}

/// Makes a rename in `dir` durable (the directory entry itself is synced).
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("could not sync {}", dir.display()))?;
    let _ = dir;
    Ok(())
}

#[cfg(unix)]
fn create_private(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    Ok(())
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> anyhow::Result<()> {
    std::fs::File::create_new(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    Ok(())
}

/// The copy's audit chain and checkpoints: a summary line when they hold; `None` (after
/// saying why) when they do not.
async fn check(copy: &Path) -> anyhow::Result<Option<String>> {
    let url = format!("sqlite://{}", copy.display());
    let db = Db::connect_read_only(&DatabaseConfig {
        url: SecretString::from(url),
        max_connections: 1,
    })
    .await?;
    let outcome = audit::verify_all(&db, None)
        .await
        .context("could not read the copy's audit log")?;
    db.close().await;
    Ok(match outcome {
        Ok(report) => Some(format!(
            "audit chain of the copy intact: {} events, head {}; {} signed checkpoint(s) hold",
            report.chain.events,
            report.chain.head.as_deref().unwrap_or("(empty log)"),
            report.checkpoints
        )),
        Err(Broken::Chain(problem)) => {
            eprintln!(
                "the copy's audit chain is BROKEN at event #{}: {problem}; no backup written",
                problem.seq()
            );
            None
        }
        Err(Broken::Checkpoint(problem)) => {
            eprintln!("the copy's audit chain is BROKEN against {problem}; no backup written");
            None
        }
    })
}

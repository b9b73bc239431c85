//! `backup FILE` copies the SQLite database while writers go on; the copy's audit chain
//! verifies, the file is the owner's only, and nothing is overwritten. PostgreSQL is sent to
//! pg_dump.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use postmark_access_review::{
    audit::{self, Actor, Event},
    clock::SystemClock,
    config::DatabaseConfig,
    db::{Backend, Db},
};
use secrecy::SecretString;
use serde_json::json;

use crate::{
    cli::run_binary,
    helpers::{backend_under_test, TestDb},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_has_an_intact_audit_chain() {
    if backend_under_test() == Backend::Postgres {
        let test_db = TestDb::fresh().await;
        test_db.connect_migrated().await;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("copy.db");
        let out = run_binary(
            &["backup", target.to_str().unwrap()],
            &[("PAR_DATABASE_URL", &test_db.url())],
        );
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("pg_dump"), "{out:?}");
        assert!(!target.exists());
        return;
    }
    let test_db = TestDb::sqlite();
    let db = test_db.connect_migrated().await;
    let url = test_db.url();

    // Writers keep appending to the chain while the copy is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (db, stop, written) = (db.clone(), stop.clone(), written.clone());
            tokio::spawn(async move {
                let actor = Actor::system("writer");
                while !stop.load(Ordering::SeqCst) {
                    let n = written.fetch_add(1, Ordering::SeqCst);
                    let mut tx = db.begin().await.unwrap();
                    audit::record(
                        &mut tx,
                        &SystemClock,
                        &actor,
                        &Event::new("test.written", format!("thing:{w}-{n}"))
                            .details(json!({ "n": n, "text": "x".repeat(500) })),
                    )
                    .await
                    .unwrap();
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    while written.load(Ordering::SeqCst) < 300 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("backup.db");
    let target_arg = target.to_str().unwrap().to_string();
    let env_url = url.clone();
    let out = tokio::task::spawn_blocking(move || {
        run_binary(&["backup", &target_arg], &[("PAR_DATABASE_URL", &env_url)])
    })
    .await
    .unwrap();
    let during = written.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("audit chain of the copy intact"),
        "{out:?}"
    );
    assert!(during > 300, "writes went on during the backup");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the copy is readable by its owner only"
        );
    }
    // The copy verifies on its own, with the command an operator would run after a restore.
    let copy_url = format!("sqlite://{}", target.display());
    let verified = run_binary(&["audit", "verify"], &[("PAR_DATABASE_URL", &copy_url)]);
    assert_eq!(verified.code, 0, "{verified:?}");
    let copy = Db::connect_read_only(&DatabaseConfig {
        url: SecretString::from(copy_url),
        max_connections: 1,
    })
    .await
    .unwrap();
    let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_events")
        .fetch_one(copy.pool())
        .await
        .unwrap();
    assert!(events >= 300, "{events} events in the copy");

    // An existing file is never overwritten, and no partial file is left behind.
    let before = std::fs::read(&target).unwrap();
    let again = run_binary(
        &["backup", target.to_str().unwrap()],
        &[("PAR_DATABASE_URL", &url)],
    );
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("already exists"), "{again:?}");
    assert_eq!(std::fs::read(&target).unwrap(), before);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["backup.db"]);

    // A database that is not there is an error, not a new empty file.
    let missing = dir.path().join("nothing-here.db");
    let none = run_binary(
        &["backup", dir.path().join("b2.db").to_str().unwrap()],
        &[(
            "PAR_DATABASE_URL",
            &format!("sqlite://{}", missing.display()),
        )],
    );
    assert_ne!(none.code, 0, "{none:?}");
    assert!(!missing.exists());
}

//! The signing key: created with 0600, never regenerated over existing signatures, given as
//! PEM through configuration, rotated with old checkpoints still verifying.

use std::{
    os::unix::fs::PermissionsExt as _,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::{
    cli::{run_binary, Output},
    helpers::{count, serve_command, TestApp, TestDb},
};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `audit checkpoint` against `db_url` with the key in `key_file`.
pub fn checkpoint_cli(db_url: &str, key_file: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["audit", "checkpoint"];
    args.extend_from_slice(extra);
    run_binary(
        &args,
        &[
            ("PAR_DATABASE_URL", db_url),
            ("PAR_SIGNING_KEY_FILE", key_file.to_str().unwrap()),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_is_created_with_0600_and_registered() {
    let app = TestApp::spawn().await;
    assert_eq!(mode(&app.key_file), 0o600);
    let pem = std::fs::read_to_string(&app.key_file).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8 PEM");
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NULL"
        )
        .await,
        1
    );
    // The first key is no event (its row has `created_at`); replacing it is (see below).
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'signing.key_registered'"
        )
        .await,
        0
    );
    // No private key material in the database.
    let (stored,): (String,) = sqlx::query_as("SELECT public_key_pem FROM signing_keys")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(stored.starts_with("-----BEGIN PUBLIC KEY-----"), "{stored}");
}

/// Waits for a child that should stop by itself; kills it after a minute.
fn wait_for_exit(mut child: std::process::Child) -> (i32, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            return (status.code().unwrap_or(-1), stderr);
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("serve did not stop: it started without its signing key");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_key_file_over_existing_checkpoints_stops_start_up() {
    let test_db = TestDb::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("signing-key.pem");
    let first = checkpoint_cli(&test_db.url(), &key_file, &[]);
    assert_eq!(first.code, 0, "{first:?}");
    std::fs::remove_file(&key_file).unwrap();

    let (mut command, _port) =
        serve_command(&test_db.url(), &"http://127.0.0.1:9/".parse().unwrap());
    let child = command
        .env("PAR_SIGNING_KEY_FILE", &key_file)
        .env("PAR_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, stderr) = wait_for_exit(child);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the signing key file {} is missing, but the database already holds 1 signing key(s) and 1 signed checkpoint(s)",
            key_file.display()
        )),
        "{stderr}"
    );
    assert!(!key_file.exists(), "no key was generated in its place");
}

fn openssl(args: &[&str]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is installed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_given_as_pem_is_used_and_no_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("given.pem");
    let made = openssl(&[
        "genpkey",
        "-algorithm",
        "ed25519",
        "-out",
        private.to_str().unwrap(),
    ]);
    assert!(made.status.success(), "{made:?}");
    let pem = std::fs::read_to_string(&private).unwrap();
    let public = openssl(&["pkey", "-in", private.to_str().unwrap(), "-pubout"]);
    let public = String::from_utf8(public.stdout).unwrap();

    let app = TestApp::builder().signing_key_pem(&pem).spawn().await;
    assert!(
        !app.key_file.exists(),
        "the configured PEM wins over the file"
    );
    let (stored,): (String,) =
        sqlx::query_as("SELECT public_key_pem FROM signing_keys WHERE retired_at IS NULL")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(stored.trim(), public.trim());
    // The secret is nowhere in the audit log.
    let body = pem.lines().nth(1).unwrap();
    assert_eq!(
        count(
            &app.db,
            &format!("SELECT COUNT(*) FROM audit_events WHERE details LIKE '%{body}%'")
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_old_checkpoints_verifying() {
    let test_db = TestDb::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("signing-key.pem");
    let env = [
        ("PAR_DATABASE_URL", test_db.url()),
        ("PAR_SIGNING_KEY_FILE", key_file.display().to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let before = checkpoint_cli(&test_db.url(), &key_file, &[]);
    assert_eq!(before.code, 0, "{before:?}");
    let rotated = run_binary(&["keys", "rotate"], &env);
    assert_eq!(rotated.code, 0, "{rotated:?}");
    assert!(
        rotated.stdout.starts_with("signing key rotated: "),
        "{rotated:?}"
    );
    assert_eq!(mode(&key_file), 0o600);
    let after = checkpoint_cli(&test_db.url(), &key_file, &[]);
    assert_eq!(after.code, 0, "{after:?}");
    let key_of = |text: &str| text.split("key=").nth(1).unwrap()[..64].to_string();
    assert_ne!(key_of(&before.stdout), key_of(&after.stdout));

    let verified = run_binary(&["audit", "verify"], &env);
    assert_eq!(verified.code, 0, "{verified:?}");
    assert!(
        verified.stdout.contains("; 2 signed checkpoint(s) hold"),
        "{verified:?}"
    );
    let db = test_db.connect_migrated().await;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM signing_keys").await, 2);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NULL"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'signing.key_rotated'"
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_file_others_can_read_is_refused() {
    let test_db = TestDb::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("signing-key.pem");
    assert_eq!(checkpoint_cli(&test_db.url(), &key_file, &[]).code, 0);
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = checkpoint_cli(&test_db.url(), &key_file, &[]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("run `chmod 600` on it"),
        "{refused:?}"
    );
}

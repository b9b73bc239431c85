//! Signed checkpoints against a tampered chain: rows deleted from the end, edited, reordered,
//! or the whole chain rewritten with every hash recomputed, directly in the database.

use std::process::Command;

use postmark_access_review::{
    audit::{
        self,
        chain::{event_hash, HashedFields},
        Actor, Broken, Event, Reason,
    },
    clock::SystemClock,
    db::{Backend, Db},
    signing::{self, SigningConfig},
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Executor as _;

use crate::{
    auth::{signed_in, ADA, AUBREY, RITA},
    cli::run_binary,
    helpers::{TestApp, TestDb},
    signing::checkpoint_cli,
};

struct Chain {
    test_db: TestDb,
    db: Db,
    key_dir: tempfile::TempDir,
    /// Last seq the checkpoint signed.
    signed_seq: i64,
}

impl Chain {
    fn key_file(&self) -> std::path::PathBuf {
        self.key_dir.path().join("signing-key.pem")
    }

    fn verify_cli(&self, extra: &[&str]) -> crate::cli::Output {
        let mut args = vec!["audit", "verify"];
        args.extend_from_slice(extra);
        run_binary(&args, &[("PAR_DATABASE_URL", &self.test_db.url())])
    }
}

/// `n` events, then a checkpoint (whose own `audit.checkpoint` event follows it).
async fn chain_with_checkpoint(n: usize) -> Chain {
    let test_db = TestDb::fresh().await;
    let db = test_db.connect_migrated().await;
    let key_dir = tempfile::tempdir().unwrap();
    let config = SigningConfig {
        key_file: key_dir.path().join("signing-key.pem"),
        key_pem: None,
        checkpoint_interval: None,
    };
    let signer = signing::load(&config, &db, &SystemClock).await.unwrap();
    for i in 0..n {
        let mut tx = db.begin().await.unwrap();
        audit::record(
            &mut tx,
            &SystemClock,
            &Actor::system("test"),
            &Event::new("test.written", format!("thing:{i}")).details(json!({ "i": i })),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let checkpoint = audit::record_checkpoint(
        &db,
        &SystemClock,
        &signer,
        &Actor::system("test"),
        Reason::Cli,
    )
    .await
    .unwrap();
    let signed_seq = checkpoint
        .line
        .split(" seq=")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(audit::verify_all(&db, None).await.unwrap().is_ok());
    Chain {
        test_db,
        db,
        key_dir,
        signed_seq,
    }
}

/// Removes the append-only protection the way someone with database access could.
async fn bypass_triggers(db: &Db) {
    let sql = match db.backend() {
        Backend::Sqlite => {
            "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete; \
             DROP TRIGGER audit_checkpoints_no_delete;"
        }
        Backend::Postgres => {
            "ALTER TABLE audit_events DISABLE TRIGGER USER; \
             ALTER TABLE audit_checkpoints DISABLE TRIGGER USER"
        }
    };
    db.pool().execute(sql).await.unwrap();
}

async fn broken(chain: &Chain) -> Broken {
    audit::verify_all(&chain.db, None)
        .await
        .unwrap()
        .expect_err("the tampering is detected")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_tail_is_named_by_the_checkpoint() {
    let chain = chain_with_checkpoint(5).await;
    let s = chain.signed_seq;
    bypass_triggers(&chain.db).await;
    chain
        .db
        .pool()
        .execute(format!("DELETE FROM audit_events WHERE seq >= {}", s - 1).as_str())
        .await
        .unwrap();
    // The chain alone still looks whole: this is what the checkpoint is for.
    assert!(audit::verify(&chain.db).await.unwrap().is_ok());
    let problem = broken(&chain).await;
    let Broken::Checkpoint(problem) = problem else {
        panic!("{problem:?}")
    };
    assert_eq!(problem.checkpoint, "#1");
    assert!(
        problem.reason.contains(&format!(
            "but the chain ends at #{}: events were removed",
            s - 2
        )),
        "{problem}"
    );

    let out = chain.verify_cli(&[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .starts_with("audit chain BROKEN against checkpoint #1: it signed "),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_row_below_a_checkpoint_is_named() {
    let chain = chain_with_checkpoint(5).await;
    bypass_triggers(&chain.db).await;
    chain
        .db
        .pool()
        .execute("UPDATE audit_events SET details = '{\"i\":99}' WHERE seq = 3")
        .await
        .unwrap();
    let problem = broken(&chain).await;
    assert_eq!(
        problem.to_string(),
        "event #3 (test.written) does not match its hash (edited or moved)"
    );
    let out = chain.verify_cli(&[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("BROKEN at event #3"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_rows_below_a_checkpoint_are_named() {
    let chain = chain_with_checkpoint(5).await;
    bypass_triggers(&chain.db).await;
    chain
        .db
        .pool()
        .execute(
            "UPDATE audit_events SET seq = -3 WHERE seq = 3; \
             UPDATE audit_events SET seq = 3 WHERE seq = 4; \
             UPDATE audit_events SET seq = 4 WHERE seq = -3;",
        )
        .await
        .unwrap();
    let problem = broken(&chain).await;
    let Broken::Chain(problem) = problem else {
        panic!("{problem:?}")
    };
    assert_eq!(problem.seq(), 3, "{problem}");
}

/// Edits event #3 and recomputes every hash from there on, so the chain is whole again.
async fn rewrite_from(db: &Db, from: i64) {
    type Row = (
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
        String,
        String,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, occurred_at, actor_kind, actor_issuer, actor_sub, actor_email, action, \
         subject, details, prev_hash FROM audit_events ORDER BY seq",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let mut prev: Option<String> = None;
    for (seq, at, kind, issuer, sub, email, action, subject, details, stored_prev) in rows {
        let details: Value = if seq == from {
            json!({ "i": 1000 })
        } else {
            serde_json::from_str(&details).unwrap()
        };
        let prev_hash = prev.clone().unwrap_or(stored_prev);
        let hash = event_hash(&HashedFields {
            seq,
            occurred_at: &at,
            actor_kind: &kind,
            actor_issuer: issuer.as_deref(),
            actor_sub: sub.as_deref(),
            actor_email: email.as_deref(),
            action: &action,
            subject: &subject,
            details: &details,
            prev_hash: &prev_hash,
        });
        if seq >= from {
            sqlx::query(
                "UPDATE audit_events SET details = $1, prev_hash = $2, hash = $3 WHERE seq = $4",
            )
            .bind(audit::chain::canonical_json(&details))
            .bind(&prev_hash)
            .bind(&hash)
            .bind(seq)
            .execute(db.pool())
            .await
            .unwrap();
        }
        prev = Some(hash);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_chain_fails_against_the_checkpoint() {
    let chain = chain_with_checkpoint(5).await;
    bypass_triggers(&chain.db).await;
    rewrite_from(&chain.db, 3).await;
    assert!(
        audit::verify(&chain.db).await.unwrap().is_ok(),
        "every hash was recomputed, so the chain alone holds"
    );
    let problem = broken(&chain).await;
    let Broken::Checkpoint(problem) = problem else {
        panic!("{problem:?}")
    };
    assert_eq!(problem.checkpoint, "#1");
    assert!(
        problem
            .reason
            .contains(&format!("event #{} has hash ", chain.signed_seq))
            && problem.reason.contains("the chain up to it was rewritten"),
        "{problem}"
    );
    let out = chain.verify_cli(&[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("against checkpoint #1"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_kept_outside_the_database_catches_what_the_database_no_longer_can() {
    let chain = chain_with_checkpoint(3).await;
    let printed = checkpoint_cli(&chain.test_db.url(), &chain.key_file(), &[]);
    assert_eq!(printed.code, 0, "{printed:?}");
    let kept = chain.key_dir.path().join("kept-checkpoint.txt");
    std::fs::write(&kept, &printed.stdout).unwrap();
    let kept_arg = kept.to_str().unwrap();
    assert_eq!(chain.verify_cli(&["--checkpoint", kept_arg]).code, 0);

    // Someone removes the newest events and every stored checkpoint.
    bypass_triggers(&chain.db).await;
    chain
        .db
        .pool()
        .execute(
            format!(
                "DELETE FROM audit_checkpoints; DELETE FROM audit_events WHERE seq > {}",
                chain.signed_seq
            )
            .as_str(),
        )
        .await
        .unwrap();
    let fooled = chain.verify_cli(&[]);
    assert_eq!(
        fooled.code, 0,
        "without the kept copy nothing shows: {fooled:?}"
    );
    let caught = chain.verify_cli(&["--checkpoint", kept_arg]);
    assert_eq!(caught.code, 1, "{caught:?}");
    assert!(
        caught.stdout.starts_with(&format!(
            "audit chain BROKEN against checkpoint {kept_arg}: it signed "
        )) && caught.stdout.contains("events were removed from the end"),
        "{caught:?}"
    );

    // A kept copy edited to match cannot be signed again.
    let forged = printed.stdout.replacen(" count=", " count=1", 1);
    std::fs::write(&kept, forged).unwrap();
    let refused = chain.verify_cli(&["--checkpoint", kept_arg]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stdout.contains("the signature does not verify"),
        "{refused:?}"
    );
}

fn openssl_verify(dir: &std::path::Path) -> std::process::Output {
    Command::new("openssl")
        .current_dir(dir)
        .args([
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "key.pem",
            "-rawin",
            "-in",
            "checkpoint.txt",
            "-sigfile",
            "checkpoint.sig",
        ])
        .output()
        .expect("openssl is installed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_verifies_a_genuine_checkpoint_and_rejects_a_tampered_one() {
    let chain = chain_with_checkpoint(2).await;
    let out_dir = chain.key_dir.path().join("for-the-auditor");
    let printed = checkpoint_cli(
        &chain.test_db.url(),
        &chain.key_file(),
        &["--out", out_dir.to_str().unwrap()],
    );
    assert_eq!(printed.code, 0, "{printed:?}");
    let text = std::fs::read_to_string(out_dir.join("checkpoint.txt")).unwrap();
    assert_eq!(
        text,
        printed.stdout.lines().next().unwrap().to_string() + "\n"
    );

    let genuine = openssl_verify(&out_dir);
    assert!(genuine.status.success(), "{genuine:?}");
    assert!(
        String::from_utf8_lossy(&genuine.stdout).contains("Signature Verified Successfully"),
        "{genuine:?}"
    );

    // The README's recipe for a downloaded checkpoint gives the same two files.
    let from_download = chain.key_dir.path().join("from-download");
    std::fs::create_dir_all(&from_download).unwrap();
    std::fs::write(from_download.join("downloaded.txt"), &printed.stdout).unwrap();
    std::fs::copy(out_dir.join("key.pem"), from_download.join("key.pem")).unwrap();
    let split = Command::new("sh")
        .current_dir(&from_download)
        .arg("-c")
        .arg(
            "head -n 1 downloaded.txt > checkpoint.txt && \
             sed -n 's/^signature=//p' downloaded.txt | base64 -d > checkpoint.sig",
        )
        .status()
        .unwrap();
    assert!(split.success());
    assert!(openssl_verify(&from_download).status.success());

    let tampered = text.replacen(" count=", " count=9", 1);
    std::fs::write(out_dir.join("checkpoint.txt"), tampered).unwrap();
    let rejected = openssl_verify(&out_dir);
    assert!(!rejected.status.success(), "{rejected:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_page_button_records_a_checkpoint_for_admins_only() {
    let app = TestApp::spawn().await;
    for person in [AUBREY, RITA] {
        let browser = signed_in(&app, person).await;
        let refused = browser.post("/api/audit_record_checkpoint", &[]).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "person {person}");
    }
    let admin = signed_in(&app, ADA).await;
    let recorded = admin.post("/api/audit_record_checkpoint", &[]).await;
    assert_eq!(recorded.status(), StatusCode::OK);
    let recorded: Value = recorded.json().await.unwrap();
    let line = recorded["line"].as_str().unwrap();
    assert!(line.starts_with("par-audit-checkpoint v1 count="), "{line}");
    assert_eq!(
        crate::helpers::count(
            &app.db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'audit.checkpoint' \
             AND actor_email IS NOT NULL"
        )
        .await,
        1
    );

    // Downloads: admins and auditors, not reviewers.
    let auditor = signed_in(&app, AUBREY).await;
    let pem = auditor.get("/audit/public-key.pem").await;
    assert_eq!(pem.status(), StatusCode::OK);
    assert!(pem
        .text()
        .await
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    let id = recorded["id"].as_i64().unwrap();
    let text = auditor.get(&format!("/audit/checkpoints/{id}")).await;
    assert_eq!(text.status(), StatusCode::OK);
    assert_eq!(
        text.text().await.unwrap(),
        format!(
            "{line}\nsignature={}\n",
            recorded["signature"].as_str().unwrap()
        )
    );
    let reviewer = signed_in(&app, RITA).await;
    assert_eq!(
        reviewer.get("/audit/public-key.pem").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        reviewer
            .get(&format!("/audit/checkpoints/{id}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let anonymous = app.get("/audit/public-key.pem").await;
    assert!(
        [StatusCode::UNAUTHORIZED, StatusCode::SEE_OTHER].contains(&anonymous.status()),
        "{}",
        anonymous.status()
    );
    assert!(!anonymous.text().await.unwrap().contains("PUBLIC KEY"));

    // The Audit page shows the key to both, the button to the admin only.
    let fingerprint = text_of(&admin, "/audit").await;
    assert!(fingerprint.contains("Record checkpoint"), "{fingerprint}");
    let auditor_page = text_of(&auditor, "/audit").await;
    assert!(!auditor_page.contains("Record checkpoint"));
    assert!(
        auditor_page.contains("Download public key (PEM)"),
        "{auditor_page}"
    );

    // The page's verify button now checks the checkpoint too.
    let status: Value = auditor
        .post("/api/audit_verify", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["intact"], true, "{status}");
    assert_eq!(status["checkpoints"], 1, "{status}");
}

async fn text_of(browser: &crate::auth::Browser, path: &str) -> String {
    let response = browser.get(path).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_are_signed_on_a_schedule() {
    let app = TestApp::builder()
        .checkpoint_every(std::time::Duration::from_millis(100))
        .spawn()
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let n = crate::helpers::count(
            &app.db,
            "SELECT COUNT(*) FROM audit_checkpoints WHERE reason = 'schedule'",
        )
        .await;
        if n >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no scheduled checkpoints"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(audit::verify_all(&app.db, None).await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_key_swapped_in_the_database_no_longer_vouches_for_the_checkpoints() {
    let chain = chain_with_checkpoint(2).await;
    let other = signing::Signer::generate().unwrap();
    sqlx::query("UPDATE signing_keys SET public_key_pem = $1")
        .bind(other.public_key_pem())
        .execute(chain.db.pool())
        .await
        .unwrap();
    let problem = broken(&chain).await;
    let Broken::Checkpoint(problem) = problem else {
        panic!("{problem:?}")
    };
    assert_eq!(problem.checkpoint, "#1");
    assert!(
        problem.reason.contains("which this database does not hold"),
        "{problem}"
    );
}

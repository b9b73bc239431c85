//! What an auditor checks without trusting the application: the signed report and manifest
//! with `openssl`, the evidence bundle's VERIFY.txt commands run as written, and a stored
//! record changed behind the application's back losing its "Verified" badge.

use std::{
    io::Read as _,
    path::{Path, PathBuf},
    process::Command,
};

use postmark_access_review::{db::Backend, signoff::SignatureCheck};
use sha2::{Digest as _, Sha256};
use sqlx::Executor as _;

use super::{signed_off, state};
use crate::auth::{signed_in, AUBREY};

async fn bytes(browser: &crate::auth::Browser, path: &str) -> Vec<u8> {
    let response = browser.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.bytes().await.unwrap().to_vec()
}

fn openssl_verify(dir: &Path, key: &str, file: &str, sig: &str) -> bool {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(["pkeyutl", "-verify", "-pubin", "-inkey", key, "-rawin"])
        .args(["-in", file, "-sigfile", sig])
        .output()
        .expect("openssl is installed");
    output.status.success()
        && String::from_utf8_lossy(&output.stdout).contains("Signature Verified Successfully")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_verifies_the_signed_report_and_manifest_and_rejects_a_tampered_report() {
    let (app, _ada, id) = signed_off().await;
    let aubrey = signed_in(&app, AUBREY).await;
    let dir = tempfile::tempdir().unwrap();
    let report = bytes(&aubrey, &format!("/exports/campaigns/{id}/decisions.csv")).await;
    for (name, path) in [
        (
            "report.csv.sig",
            format!("/exports/campaigns/{id}/decisions.csv.sig"),
        ),
        (
            "signoff.json",
            format!("/exports/campaigns/{id}/signoff.json"),
        ),
        (
            "signoff.json.sig",
            format!("/exports/campaigns/{id}/signoff.json.sig"),
        ),
        ("key.pem", "/audit/public-key.pem".to_string()),
    ] {
        std::fs::write(dir.path().join(name), bytes(&aubrey, &path).await).unwrap();
    }
    std::fs::write(dir.path().join("report.csv"), &report).unwrap();
    assert!(openssl_verify(
        dir.path(),
        "key.pem",
        "report.csv",
        "report.csv.sig"
    ));
    assert!(openssl_verify(
        dir.path(),
        "key.pem",
        "signoff.json",
        "signoff.json.sig"
    ));

    // The report: the decisions export's columns, each item, the acknowledgement on record.
    let text = String::from_utf8(report.clone()).unwrap();
    assert!(text.starts_with("item_id,kind,user_email,"), "{text}");
    assert!(text.contains(",failed,quarantine,"), "{text}");
    assert!(
        text.contains("Server 2 is retired on Friday; IT-1234"),
        "{text}"
    );
    // The manifest names the report's digest and the population's.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("signoff.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "par-campaign-signoff v1");
    assert_eq!(
        manifest["report"]["sha256"],
        hex::encode(Sha256::digest(&report))
    );
    assert_eq!(manifest["report"]["records"], 3);
    let population = bytes(&aubrey, &format!("/exports/campaigns/{id}/population.csv")).await;
    assert_eq!(
        manifest["population"]["sha256"],
        hex::encode(Sha256::digest(&population))
    );
    assert_eq!(manifest["campaign"]["id"], id);
    assert_eq!(manifest["outcomes"]["revocations_done"], 2);
    assert_eq!(manifest["outcomes"]["revocations_failed_acknowledged"], 1);
    assert_eq!(
        manifest["signed_off"]["statement"],
        "Carried out as recorded.\nSigned for the Q4 audit."
    );

    // One changed byte (approve for revoke) and the signature no longer holds.
    let tampered = text.replacen(",revoke,", ",approve,", 1);
    assert_ne!(tampered, text);
    std::fs::write(dir.path().join("report.csv"), tampered).unwrap();
    assert!(!openssl_verify(
        dir.path(),
        "key.pem",
        "report.csv",
        "report.csv.sig"
    ));

    // Later news (a sync's verdict) changes the live rows, never the signed file.
    app.db
        .pool()
        .execute("UPDATE revocations SET verification = 'effective'")
        .await
        .unwrap();
    assert_eq!(
        bytes(&aubrey, &format!("/exports/campaigns/{id}/decisions.csv")).await,
        report
    );
}

/// The commands of VERIFY.txt: its lines indented by exactly four spaces.
fn commands(verify: &str) -> Vec<String> {
    verify
        .lines()
        .filter_map(|line| line.strip_prefix("    "))
        .filter(|command| !command.starts_with(' '))
        .map(str::to_string)
        .collect()
}

fn run(dir: &Path, command: &str) -> (bool, String) {
    let output = Command::new("sh")
        .current_dir(dir)
        .args(["-c", command])
        .output()
        .unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn unzip(zip: &[u8], into: &Path) -> PathBuf {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut folder = None;
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let name = file.enclosed_name().unwrap();
        let path = into.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut contents = Vec::new();
        file.read_to_end(&mut contents).unwrap();
        std::fs::write(&path, contents).unwrap();
        folder = path.parent().map(Path::to_path_buf);
    }
    folder.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_evidence_bundles_verify_commands_run_as_written() {
    let (app, _ada, id) = signed_off().await;
    let aubrey = signed_in(&app, AUBREY).await;
    let response = aubrey
        .get(&format!("/exports/campaigns/{id}/evidence.zip"))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let zip = response.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let folder = unzip(&zip, dir.path());
    assert_eq!(
        folder.file_name().unwrap().to_string_lossy(),
        format!("campaign-{id}-evidence")
    );
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "VERIFY.txt",
            "audit-checkpoint.txt",
            "checkpoint.txt",
            "checkpoint.txt.sig",
            "key.pem",
            "population.csv",
            "report.csv",
            "report.csv.sig",
            "signoff.json",
            "signoff.json.sig",
        ]
    );
    let verify = std::fs::read_to_string(folder.join("VERIFY.txt")).unwrap();
    let commands = commands(&verify);
    assert_eq!(commands.len(), 6, "{verify}");
    assert!(commands.contains(
        &"openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in report.csv -sigfile report.csv.sig"
            .to_string()
    ));
    for command in &commands {
        let (ok, output) = run(&folder, command);
        assert!(ok, "{command}: {output}");
    }
    let fingerprint = run(&folder, &commands[0]).1;
    let shown = state(&aubrey, id).await.signed.unwrap().key_fingerprint;
    assert!(fingerprint.starts_with(&shown), "{fingerprint} vs {shown}");
    // The checkpoint in the bundle checks the database's chain from the command line.
    let kept = folder.join("audit-checkpoint.txt");
    let cli = crate::cli::run_binary(
        &["audit", "verify", "--checkpoint", kept.to_str().unwrap()],
        &[
            ("PAR_DATABASE_URL", &app.database_url()),
            ("PAR_SIGNING_KEY_FILE", app.key_file.to_str().unwrap()),
        ],
    );
    assert_eq!(cli.code, 0, "{cli:?}");

    // A changed report fails its openssl command and its digest line.
    let report = std::fs::read_to_string(folder.join("report.csv")).unwrap();
    std::fs::write(
        folder.join("report.csv"),
        report.replacen(",failed,", ",done,", 1),
    )
    .unwrap();
    let failing: Vec<&String> = commands.iter().filter(|c| !run(&folder, c).0).collect();
    assert_eq!(failing.len(), 2, "{failing:?}");
    assert!(
        failing.iter().all(|c| c.contains("report.csv")),
        "{failing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_report_changed_behind_the_apps_back_is_no_longer_verified() {
    let (app, _ada, id) = signed_off().await;
    let aubrey = signed_in(&app, AUBREY).await;
    let bypass = match app.db.backend() {
        Backend::Sqlite => "DROP TRIGGER campaign_signoffs_no_update",
        Backend::Postgres => "ALTER TABLE campaign_signoffs DISABLE TRIGGER USER",
    };
    app.db.pool().execute(bypass).await.unwrap();
    app.db
        .pool()
        .execute("UPDATE campaign_signoffs SET report = REPLACE(report, ',failed,', ',done,')")
        .await
        .unwrap();
    let check = state(&aubrey, id).await.signed.unwrap().check;
    assert_eq!(
        check,
        SignatureCheck::Broken("the stored report does not match its digest".into())
    );
    // Changing the digest too still leaves the manifest naming the old one.
    app.db
        .pool()
        .execute("UPDATE campaign_signoffs SET report_sha256 = 'ab'")
        .await
        .unwrap();
    let (report,): (String,) =
        sqlx::query_as("SELECT report FROM campaign_signoffs WHERE campaign_id = $1")
            .bind(id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    sqlx::query("UPDATE campaign_signoffs SET report_sha256 = $1")
        .bind(hex::encode(Sha256::digest(report.as_bytes())))
        .execute(app.db.pool())
        .await
        .unwrap();
    let check = state(&aubrey, id).await.signed.unwrap().check;
    assert_eq!(
        check,
        SignatureCheck::Broken("the signed manifest names a different report".into())
    );
}

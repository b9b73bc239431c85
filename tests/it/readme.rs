//! The README's offline verification recipe must keep working against real data.

use postmark_access_review::{
    audit::{self, Actor, Event},
    clock::SystemClock,
};
use serde_json::json;
use sqlx::Executor as _;

use crate::helpers::TestDb;

/// The `python3 - DB <<'PY' … PY` block from the README.
fn readme_verifier() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("python3 - data/postmark-access-review.db <<'PY'\n")
        .expect("README has the verifier");
    let body = &readme[start..];
    let body = &body[body.find('\n').expect("newline") + 1..];
    body[..body.find("\nPY\n").expect("heredoc end")].to_string()
}

fn run_python(script: &str, db_file: &std::path::Path) -> std::process::Output {
    use std::io::Write as _;
    let mut child = std::process::Command::new("python3")
        .arg("-")
        .arg(db_file)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is installed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write script");
    child.wait_with_output().expect("python3 runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_python_recipe_verifies_the_chain_independently() {
    let test_db = TestDb::sqlite();
    let db = test_db.connect_migrated().await;
    let events = [
        (
            Actor::Person {
                issuer: "https://idp.example".into(),
                subject: "00u1".into(),
                email: "zoë@example.com".into(),
            },
            json!({"note": "quote \" backslash \\ newline \n tab \t", "nested": {"b": [1, 2], "a": null}}),
        ),
        (
            Actor::system("cli"),
            json!({"count": 3, "ok": true, "emoji": "✅"}),
        ),
        (Actor::system("scheduler"), json!({})),
    ];
    for (actor, details) in &events {
        let mut tx = db.begin().await.unwrap();
        audit::record(
            &mut tx,
            &SystemClock,
            actor,
            &Event::new("test.readme", "thing:1").details(details.clone()),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let head = audit::verify(&db).await.unwrap().unwrap().head.unwrap();
    let file = test_db.url().trim_start_matches("sqlite://").to_string();
    let file = std::path::Path::new(&file);
    let script = readme_verifier();

    let out = run_python(&script, file);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("chain intact: 3 events, head {head}")
    );

    // And it notices tampering, as the built-in verifier does.
    db.pool()
        .execute(
            "DROP TRIGGER audit_events_no_update; \
             UPDATE audit_events SET subject = 'thing:2' WHERE seq = 2",
        )
        .await
        .unwrap();
    let out = run_python(&script, file);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("chain broken at event #2"));
}

use postmark_access_review::{
    audit::{self, Actor, ChainBreak, Event},
    db::{Backend, Db},
};
use serde_json::json;
use sqlx::Executor as _;

use crate::{cli::run_binary, helpers::TestDb};

fn person(n: usize) -> Actor {
    Actor::Person {
        issuer: "https://idp.example".into(),
        subject: format!("user-{n}"),
        email: format!("user{n}@example.com"),
    }
}

async fn write_events(db: &Db, clock: &dyn postmark_access_review::clock::Clock, n: usize) {
    for i in 0..n {
        let mut tx = db.begin().await.unwrap();
        audit::record(
            &mut tx,
            clock,
            &person(i),
            &Event::new("test.written", format!("thing:{i}")).details(json!({"i": i})),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

/// Removes the append-only protection the way someone with database access could.
async fn bypass_triggers(db: &Db) {
    let sql = match db.backend() {
        Backend::Sqlite => {
            "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;"
        }
        Backend::Postgres => "ALTER TABLE audit_events DISABLE TRIGGER USER",
    };
    db.pool().execute(sql).await.unwrap();
}

async fn tampered_db(tamper: &str) -> (TestDb, Db) {
    let test_db = TestDb::fresh().await;
    let db = test_db.connect_migrated().await;
    let clock = postmark_access_review::clock::SystemClock;
    write_events(&db, &clock, 6).await;
    assert!(audit::verify(&db).await.unwrap().is_ok());
    bypass_triggers(&db).await;
    db.pool().execute(tamper).await.unwrap();
    (test_db, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_writers_make_one_unbroken_chain() {
    let test_db = TestDb::fresh().await;
    let db = test_db.connect_migrated().await;
    let writers = (0..50).map(|i| {
        let db = db.clone();
        tokio::spawn(async move {
            let clock = postmark_access_review::clock::SystemClock;
            let mut tx = db.begin().await.unwrap();
            let recorded = audit::record(
                &mut tx,
                &clock,
                &person(i),
                &Event::new("test.concurrent", format!("writer:{i}")),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            recorded.seq
        })
    });
    let mut seqs: Vec<i64> = futures::future::try_join_all(writers).await.unwrap();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());

    let report = audit::verify(&db).await.unwrap().expect("chain intact");
    assert_eq!(report.events, 50);
    let (subjects,): (i64,) = sqlx::query_as("SELECT COUNT(DISTINCT subject) FROM audit_events")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(subjects, 50, "every writer's event is there once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_refuse_update_and_delete() {
    let test_db = TestDb::fresh().await;
    let db = test_db.connect_migrated().await;
    write_events(&db, &postmark_access_review::clock::SystemClock, 2).await;
    for sql in [
        "UPDATE audit_events SET action = 'forged' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 2",
    ] {
        let err = db.pool().execute(sql).await.unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    if db.backend() == Backend::Postgres {
        let err = db
            .pool()
            .execute("TRUNCATE audit_events")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("append-only"), "{err}");
    }
    assert_eq!(audit::verify(&db).await.unwrap().unwrap().events, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_change_leaves_no_event() {
    let test_db = TestDb::fresh().await;
    let db = test_db.connect_migrated().await;
    let clock = postmark_access_review::clock::SystemClock;
    let mut tx = db.begin().await.unwrap();
    audit::record(
        &mut tx,
        &clock,
        &person(1),
        &Event::new("test.rolled_back", "x:1"),
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    write_events(&db, &clock, 1).await;
    let report = audit::verify(&db).await.unwrap().unwrap();
    assert_eq!(report.events, 1, "only the committed event, as #1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_row_is_named() {
    let (_test_db, db) =
        tampered_db("UPDATE audit_events SET details = '{\"i\":99}' WHERE seq = 3").await;
    let problem = audit::verify(&db).await.unwrap().unwrap_err();
    assert_eq!(
        problem,
        ChainBreak::Altered {
            seq: 3,
            action: "test.written".into()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_row_with_recomputed_hash_breaks_the_next_link() {
    // Someone who rewrites a row and its hash still cannot fix the next row's prev_hash
    // without rewriting every later event.
    let (_test_db, db) = tampered_db(
        "UPDATE audit_events SET hash = \
         (CASE WHEN substr(hash, 1, 2) = 'ab' THEN 'cd' ELSE 'ab' END) || substr(hash, 3) \
         WHERE seq = 4",
    )
    .await;
    let problem = audit::verify(&db).await.unwrap().unwrap_err();
    assert_eq!(problem.seq(), 4, "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_of_another_type_is_named() {
    let tamper = match crate::helpers::backend_under_test() {
        // SQLite stores whatever type it is given: a BLOB where text belongs.
        Backend::Sqlite => {
            "UPDATE audit_events SET details = CAST('{\"i\":2}' AS BLOB) WHERE seq = 5"
        }
        Backend::Postgres => "UPDATE audit_events SET details = '{\"i\": 2}' WHERE seq = 5",
    };
    let (_test_db, db) = tampered_db(tamper).await;
    let problem = audit::verify(&db).await.unwrap().unwrap_err();
    assert_eq!(problem.seq(), 5, "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_row_is_named() {
    let (_test_db, db) = tampered_db("DELETE FROM audit_events WHERE seq = 4").await;
    let problem = audit::verify(&db).await.unwrap().unwrap_err();
    assert_eq!(
        problem,
        ChainBreak::Missing {
            expected: 4,
            found: 5
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_rows_are_named() {
    let (_test_db, db) = tampered_db(
        "UPDATE audit_events SET seq = -2 WHERE seq = 2; \
         UPDATE audit_events SET seq = 2 WHERE seq = 3; \
         UPDATE audit_events SET seq = 3 WHERE seq = -2;",
    )
    .await;
    let problem = audit::verify(&db).await.unwrap().unwrap_err();
    assert_eq!(problem.seq(), 2, "{problem}");
    assert!(matches!(problem, ChainBreak::Altered { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_command_reports_intact_and_broken_chains() {
    let test_db = TestDb::fresh().await;
    let db = test_db.connect_migrated().await;
    write_events(&db, &postmark_access_review::clock::SystemClock, 5).await;

    let ok = run_binary(
        &["audit", "verify"],
        &[("PAR_DATABASE_URL", &test_db.url())],
    );
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(
        ok.stdout.starts_with("audit chain intact: 5 events, head "),
        "{ok:?}"
    );

    bypass_triggers(&db).await;
    db.pool()
        .execute("UPDATE audit_events SET actor_email = 'someone.else@example.com' WHERE seq = 2")
        .await
        .unwrap();
    let broken = run_binary(
        &["audit", "verify"],
        &[("PAR_DATABASE_URL", &test_db.url())],
    );
    assert_eq!(broken.code, 1, "{broken:?}");
    assert!(
        broken.stdout.contains(
            "audit chain BROKEN at event #2: event #2 (test.written) does not match its hash"
        ),
        "{broken:?}"
    );
}

#[test]
fn audit_verify_changes_nothing_and_needs_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere/audit.db");
    let url = format!("sqlite://{}", missing.display());
    let out = run_binary(&["audit", "verify"], &[("PAR_DATABASE_URL", &url)]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        !missing.parent().unwrap().exists(),
        "no folder or file was created"
    );
}

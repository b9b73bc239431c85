use std::process::Command;

use crate::helpers::TestDb;

#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the real binary with a clean environment plus `env`.
pub fn run_binary(args: &[&str], env: &[(&str, &str)]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_postmark-access-review"))
        .args(args)
        .env_clear()
        // Keys go to a temporary folder, not the repository's data/ (callers may override).
        .env(
            "PAR_SIGNING_KEY_FILE",
            crate::helpers::test_key_file(
                env.iter()
                    .find(|(k, _)| *k == "PAR_DATABASE_URL")
                    .map_or("no database", |(_, v)| v),
            ),
        )
        .envs(env.iter().copied())
        .env("PAR_LOG_LEVEL", "warn")
        .output()
        .expect("run binary");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn serve_without_public_url_names_the_key_and_fails() {
    let out = run_binary(&["serve"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .starts_with("error: configuration error: PAR_PUBLIC_URL is required"),
        "{out:?}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "one clear message: {out:?}");
}

#[test]
fn serve_needs_the_identity_provider_settings() {
    let out = run_binary(&["serve"], &[("PAR_PUBLIC_URL", "http://127.0.0.1:3000")]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("PAR_OIDC_ISSUER is required"),
        "{out:?}"
    );
    let out = run_binary(
        &["serve"],
        &[
            ("PAR_PUBLIC_URL", "http://127.0.0.1:3000"),
            ("PAR_OIDC_ISSUER", "http://idp.example"),
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("PAR_OIDC_ISSUER is invalid"), "{out:?}");
    assert!(out.stderr.contains("https"), "{out:?}");
}

#[test]
fn invalid_values_name_the_key() {
    for (key, value) in [
        ("PAR_BIND_ADDR", "everywhere"),
        ("PAR_OIDC_CLIENT_AUTH", "private_key_jwt"),
        ("PAR_ADMIN_EMAILS", "not-an-email"),
        ("PAR_SESSION_IDLE_TIMEOUT", "forever"),
        ("PAR_LOG_FORMAT", "xml"),
        ("PAR_MAX_BODY_BYTES", "-1"),
    ] {
        let out = run_binary(
            &["serve"],
            &[
                ("PAR_PUBLIC_URL", "http://127.0.0.1:3000"),
                ("PAR_OIDC_ISSUER", "https://idp.example"),
                ("PAR_OIDC_CLIENT_ID", "par"),
                ("PAR_OIDC_CLIENT_SECRET", "secret"),
                (key, value),
            ],
        );
        assert_eq!(out.code, 2, "{key}: {out:?}");
        assert!(
            out.stderr
                .contains(&format!("{key} is invalid (from the environment)")),
            "{key}: {out:?}"
        );
    }
}

#[test]
fn database_url_with_password_is_never_echoed() {
    let out = run_binary(
        &["migrate"],
        &[("PAR_DATABASE_URL", "mysql://app:hunter2@db/par")],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("PAR_DATABASE_URL is invalid"),
        "{out:?}"
    );
    assert!(!out.stderr.contains("hunter2") && !out.stdout.contains("hunter2"));
}

#[test]
fn config_file_is_read_and_unknown_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("par.toml");
    std::fs::write(&file, "publik_url = \"https://x.example\"\n").unwrap();
    let out = run_binary(&["--config", file.to_str().unwrap(), "serve"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("unknown key `publik_url`"), "{out:?}");
}

#[test]
fn help_and_version() {
    let help = run_binary(&["--help"], &[]);
    assert_eq!(help.code, 0);
    for command in ["serve", "demo", "migrate", "audit"] {
        assert!(help.stdout.contains(command), "{command}: {}", help.stdout);
    }
    assert!(help.stdout.contains("PAR_"));
    let version = run_binary(&["--version"], &[]);
    assert_eq!(version.code, 0);
    assert_eq!(
        version.stdout.trim(),
        format!("postmark-access-review {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_creates_the_schema_and_is_idempotent() {
    let test_db = TestDb::fresh().await;
    let url = test_db.url();
    for _ in 0..2 {
        let out = run_binary(&["migrate"], &[("PAR_DATABASE_URL", &url)]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.starts_with("database schema is up to date"));
    }
    let verify = run_binary(&["audit", "verify"], &[("PAR_DATABASE_URL", &url)]);
    assert_eq!(verify.code, 0, "{verify:?}");
    assert!(verify.stdout.contains("0 events"), "{verify:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_request_spans() {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;

    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_postmark-access-review"))
        .args(["demo", "--port", "0", "--data-dir"])
        .arg(data.path())
        .env_clear()
        .env("PAR_LOG_FORMAT", "json")
        .env("PAR_LOG_LEVEL", "info")
        .env("PAR_PUBIC_URL", "typo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = stdout
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.trim().strip_prefix("Open ").map(str::to_string))
        .expect("demo prints its address");
    // Keep reading so the demo never writes into a closed pipe.
    std::thread::spawn(move || stdout.for_each(drop));
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let response = reqwest::Client::new()
        .get(format!("{url}/healthz?token=secret-value"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // The demo answers on its one host name; others are sent there.
    let port = url.rsplit(':').next().unwrap();
    let other_host = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{url}/inventory?x=1"))
        .header("host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(other_host.status(), 308);
    assert_eq!(
        other_host.headers()["location"],
        format!("{url}/inventory?x=1")
    );
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    let finished = stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|event| {
            event["message"] == "request finished" && event["span"]["request_id"] == "trace-me-42"
        })
        .unwrap_or_else(|| panic!("no JSON request log in:\n{stderr}"));
    assert_eq!(finished["span"]["method"], "GET");
    assert_eq!(finished["span"]["path"], "/healthz");
    assert_eq!(finished["status"], 200);
    assert!(finished["latency_ms"].as_f64().is_some());
    assert!(
        !stderr.contains("secret-value"),
        "query strings stay out of logs"
    );
}

#[test]
fn the_sync_benchmark_prints_its_numbers() {
    let out = run_binary(&["bench", "sync", "--servers", "120", "--users", "30"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("servers synced:           120"),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains("users import (30 users, 60 permissions)"),
        "{out:?}"
    );
    assert!(out.stdout.contains("peak memory"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_runs_as_its_own_process_and_prints_its_settings() {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;

    let mut child = Command::new(env!("CARGO_BIN_EXE_postmark-access-review"))
        .args(["simulator", "--port", "0"])
        .env_clear()
        .env("PAR_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut settings = std::collections::HashMap::new();
    for line in stdout.by_ref().map_while(Result::ok) {
        if let Some((key, value)) = line.trim().split_once('=') {
            settings.insert(key.to_string(), value.to_string());
        }
        if settings.len() == 4 {
            break;
        }
    }
    std::thread::spawn(move || stdout.for_each(drop));
    let api = &settings["PAR_POSTMARK_API_URL"];
    assert!(api.starts_with("http://127.0.0.1:"), "{settings:?}");
    let client = reqwest::Client::new();
    let servers = |token: String| {
        client
            .get(format!("{api}servers?count=1&offset=0"))
            .header("Accept", "application/json")
            .header("X-Postmark-Account-Token", token)
            .send()
    };
    let page = servers(settings["PAR_POSTMARK_ACCOUNT_TOKEN"].clone())
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page: serde_json::Value = page.json().await.unwrap();
    assert!(page["TotalCount"].as_i64().unwrap() > 1, "{page}");
    assert_eq!(page["Servers"].as_array().unwrap().len(), 1, "{page}");
    let refused = servers("demo-account-token".into()).await.unwrap();
    assert_eq!(refused.status(), 401, "tokens are fresh for each start");

    let users = client
        .get(format!("{}users", settings["PAR_POSTMARK_USERS_URL"]))
        .bearer_auth(&settings["PAR_POSTMARK_USERS_TOKEN"])
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200);
    let users: serde_json::Value = users.json().await.unwrap();
    assert!(users["users"].as_array().unwrap().len() > 10, "{users}");

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success(), "stops cleanly on SIGTERM");
}

#[test]
fn the_revocations_benchmark_prints_its_numbers() {
    let out = run_binary(&["bench", "revocations", "--jobs", "60"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("jobs: 60 (30 quarantines, 30 permission removals)"),
        "{out:?}"
    );
    assert!(out.stdout.contains("worker:      60 jobs in"), "{out:?}");
    assert!(out.stdout.contains("bare calls:"), "{out:?}");
    assert!(out.stdout.contains("worker overhead:"), "{out:?}");
    assert!(out.stdout.contains("peak memory"), "{out:?}");
}

#[test]
fn the_export_benchmark_prints_its_numbers() {
    // Page size 7 so the small run still crosses many pages.
    let out = run_binary(
        &["bench", "export", "--events", "50", "--page-rows", "7"],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("events: 50 "), "{out:?}");
    assert!(
        out.stdout.contains("export (streamed response):"),
        "{out:?}"
    );
    assert!(out.stdout.contains("ratio (export / sqlite3):"), "{out:?}");
    assert!(out.stdout.contains("peak memory"), "{out:?}");
}

//! `serve` and `sync` refuse plain http to another machine wherever secrets travel: the public
//! URL, the Postmark API and the users gateway.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::helpers::{test_key_file, TestDb};

/// Settings `serve` starts with, all on https or loopback.
fn base_env(db_url: &str, port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("PAR_DATABASE_URL", db_url.to_string()),
        ("PAR_BIND_ADDR", format!("127.0.0.1:{port}")),
        ("PAR_PUBLIC_URL", "https://access.example.com".to_string()),
        // Never reached: serve starts without its provider.
        ("PAR_OIDC_ISSUER", "https://idp.invalid".to_string()),
        ("PAR_OIDC_CLIENT_ID", "par".to_string()),
        ("PAR_OIDC_CLIENT_SECRET", "secret".to_string()),
        (
            "PAR_POSTMARK_API_URL",
            "https://api.postmarkapp.com/".to_string(),
        ),
        ("PAR_SYNC_INTERVAL", "0".to_string()),
        ("PAR_LOG_LEVEL", "warn".to_string()),
        (
            "PAR_SIGNING_KEY_FILE",
            test_key_file(db_url).display().to_string(),
        ),
    ]
}

fn spawn(args: &[&str], env: &[(&'static str, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_postmark-access-review"))
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run binary")
}

/// The exit code and error output, or `None` (and the process killed) when it still runs
/// after `within`: a refusal happens at once, before anything is served.
fn exit_within(mut child: Child, within: Duration) -> Option<(i32, String)> {
    let started = Instant::now();
    while started.elapsed() < within {
        if child.try_wait().expect("wait").is_some() {
            let output = child.wait_with_output().expect("output");
            return Some((
                output.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn serve_refuses_plain_http_to_another_host_and_names_the_key() {
    let db = TestDb::sqlite();
    for (key, value) in [
        ("PAR_PUBLIC_URL", "http://access.example.com"),
        ("PAR_POSTMARK_API_URL", "http://api.postmarkapp.com/"),
        (
            "PAR_POSTMARK_USERS_URL",
            "http://users.example.com/gateway/",
        ),
    ] {
        let mut env = base_env(&db.url(), free_port());
        env.retain(|(k, _)| *k != key);
        env.push((key, value.to_string()));
        env.push(("PAR_POSTMARK_USERS_TOKEN", "gateway-token".to_string()));
        if key != "PAR_POSTMARK_USERS_URL" {
            env.push((
                "PAR_POSTMARK_USERS_URL",
                "https://users.example.com/gateway/".to_string(),
            ));
        }
        let Some((code, stderr)) = exit_within(spawn(&["serve"], &env), Duration::from_secs(20))
        else {
            panic!("serve started with {key}={value}");
        };
        assert_eq!(code, 2, "{key}: {stderr}");
        assert!(
            stderr.starts_with(&format!(
                "error: configuration error: {key} is invalid (from the environment): plain http://"
            )),
            "{key}: {stderr}"
        );
        assert!(stderr.contains("PAR_ALLOW_PLAIN_HTTP=true"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one clear message: {stderr}");
    }
    // `sync` sends the account token the same way.
    let mut env = base_env(&db.url(), free_port());
    env.push((
        "PAR_POSTMARK_API_URL",
        "http://api.postmarkapp.com/".to_string(),
    ));
    env.push(("PAR_POSTMARK_ACCOUNT_TOKEN", "account-token".to_string()));
    let (code, stderr) =
        exit_within(spawn(&["sync"], &env), Duration::from_secs(20)).expect("sync ends");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("PAR_POSTMARK_API_URL is invalid"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_or_the_allow_flag_lets_serve_start() {
    let db = TestDb::sqlite();
    for extra in [
        // This machine: the demo's and the tests' simulators.
        vec![
            ("PAR_PUBLIC_URL", "http://localhost:3000".to_string()),
            ("PAR_POSTMARK_API_URL", "http://127.0.0.1:4010/".to_string()),
            (
                "PAR_POSTMARK_USERS_URL",
                "http://[::1]:4010/gateway/".to_string(),
            ),
            ("PAR_POSTMARK_USERS_TOKEN", "gateway-token".to_string()),
        ],
        // A TLS-terminating sidecar that is not on loopback, allowed explicitly.
        vec![
            (
                "PAR_POSTMARK_API_URL",
                "http://egress-proxy:8080/".to_string(),
            ),
            ("PAR_ALLOW_PLAIN_HTTP", "true".to_string()),
        ],
    ] {
        let port = free_port();
        let mut env = base_env(&db.url(), port);
        env.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        env.extend(extra.clone());
        let mut child = spawn(&["serve"], &env);
        let client = reqwest::Client::new();
        let started = Instant::now();
        let healthy = loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("serve stopped ({status}) with {extra:?}");
            }
            if let Ok(response) = client
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await
            {
                break response.status() == 200;
            }
            if started.elapsed() > Duration::from_secs(30) {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let _ = child.kill();
        let _ = child.wait();
        assert!(healthy, "serve did not start with {extra:?}");
    }
}

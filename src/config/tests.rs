//! Configuration parsing: every key, its errors and its defaults.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn missing_public_url_names_the_key() {
    let raw = RawConfig::load(None, env(&[])).unwrap();
    let err = raw.server().unwrap_err().to_string();
    assert!(err.starts_with("PAR_PUBLIC_URL is required"), "{err}");
}

#[test]
fn invalid_values_name_key_and_origin() {
    let raw = RawConfig::load(None, env(&[("PAR_BIND_ADDR", "nowhere")])).unwrap();
    let raw = {
        let mut r = raw;
        r.set("PUBLIC_URL", "http://localhost:3000");
        r
    };
    let err = raw.server().unwrap_err().to_string();
    assert!(
        err.contains("PAR_BIND_ADDR is invalid (from the environment)"),
        "{err}"
    );
}

#[test]
fn malformed_postgres_url_names_the_key() {
    let raw = RawConfig::load(
        None,
        env(&[("PAR_DATABASE_URL", "postgres://u:hunter2@[::1/db")]),
    )
    .unwrap();
    let err = raw.database().unwrap_err().to_string();
    assert!(err.starts_with("PAR_DATABASE_URL is invalid"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn database_url_error_does_not_echo_the_value() {
    let raw =
        RawConfig::load(None, env(&[("PAR_DATABASE_URL", "mysql://u:hunter2@x/db")])).unwrap();
    let err = raw.database().unwrap_err().to_string();
    assert!(err.contains("PAR_DATABASE_URL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn environment_overrides_file_and_file_rejects_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("par.toml");
    std::fs::write(
        &path,
        "public_url = \"https://file.example\"\nmax_body_bytes = 4096\n",
    )
    .unwrap();
    let raw = RawConfig::load(
        Some(&path),
        env(&[("PAR_PUBLIC_URL", "https://env.example")]),
    )
    .unwrap();
    let server = raw.server().unwrap();
    assert_eq!(server.public_url.as_str(), "https://env.example/");
    assert_eq!(server.max_body_bytes, 4096);
    assert!(server.is_https());

    std::fs::write(&path, "pubic_url = \"x\"\n").unwrap();
    let err = RawConfig::load(Some(&path), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown key `pubic_url`"), "{err}");
}

#[test]
fn auth_keys_are_required_and_parsed() {
    let err = RawConfig::load(None, env(&[])).unwrap().auth().unwrap_err();
    assert!(
        err.to_string().starts_with("PAR_OIDC_ISSUER is required"),
        "{err}"
    );
    let raw = RawConfig::load(
        None,
        env(&[
            ("PAR_OIDC_ISSUER", "https://idp.example/realms/x"),
            ("PAR_OIDC_CLIENT_ID", "par"),
            ("PAR_OIDC_CLIENT_SECRET", "s3cret"),
            ("PAR_OIDC_CLIENT_AUTH", "client_secret_post"),
            ("PAR_ADMIN_EMAILS", " Ada@Example.com, bob@example.com "),
            ("PAR_SESSION_IDLE_TIMEOUT", "30m"),
        ]),
    )
    .unwrap();
    let auth = raw.auth().unwrap();
    assert_eq!(auth.client_auth, ClientAuth::Post);
    assert_eq!(auth.admin_emails, ["ada@example.com", "bob@example.com"]);
    assert_eq!(auth.session_idle, Duration::from_secs(1800));
    assert_eq!(auth.session_max, Duration::from_secs(86_400));
    assert_eq!(auth.scopes, ["email", "profile"]);
}

#[test]
fn issuer_must_be_https_except_on_loopback() {
    assert!(parse_issuer("http://idp.example").is_err());
    assert!(parse_issuer("http://127.0.0.1:9000/dev-idp").is_ok());
    assert!(parse_issuer("https://login.microsoftonline.com/tenant/v2.0").is_ok());
    // Host-only issuers (Google, Okta) stay exactly as written: no trailing slash added.
    assert_eq!(
        parse_issuer("https://accounts.google.com").unwrap(),
        "https://accounts.google.com"
    );
}

#[test]
fn durations() {
    assert_eq!(parse_duration("8h").unwrap(), Duration::from_secs(28_800));
    assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
    assert!(parse_duration("0s").is_err());
    assert!(parse_duration("8 hours").is_err());
}

#[test]
fn public_url_must_be_plain_http() {
    for bad in ["ftp://x", "https://u:p@x", "https://x/?a=1", "not a url"] {
        assert!(parse_public_url(bad).is_err(), "{bad}");
    }
    assert!(parse_public_url("https://access.example.com/review").is_err());
    assert!(parse_public_url("https://access.example.com").is_ok());
}

#[test]
fn every_key_is_documented() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let example = std::fs::read_to_string(format!("{root}/.env.example")).unwrap();
    for (key, _) in KEYS {
        let name = format!("PAR_{key}");
        assert!(
            readme.contains(&format!("`{name}`")),
            "{name} missing from README.md"
        );
        assert!(
            example.contains(&format!("{name}=")),
            "{name} missing from .env.example"
        );
    }
}

#[test]
fn signing_defaults_and_overrides() {
    let defaults = RawConfig::load(None, env(&[])).unwrap().signing().unwrap();
    assert_eq!(defaults.key_file, PathBuf::from("data/signing-key.pem"));
    assert!(defaults.key_pem.is_none());
    assert_eq!(
        defaults.checkpoint_interval,
        Some(Duration::from_secs(24 * 3600))
    );
    let set = RawConfig::load(
        None,
        env(&[
            ("PAR_SIGNING_KEY_FILE", "/etc/par/key.pem"),
            ("PAR_CHECKPOINT_INTERVAL", "0"),
        ]),
    )
    .unwrap()
    .signing()
    .unwrap();
    assert_eq!(set.key_file, PathBuf::from("/etc/par/key.pem"));
    assert_eq!(set.checkpoint_interval, None);
}

#[test]
fn metrics_are_off_by_default_and_want_a_long_token_or_an_address_of_their_own() {
    let server = |pairs: &[(&str, &str)]| {
        let mut raw = RawConfig::load(None, env(pairs)).unwrap();
        raw.set("PUBLIC_URL", "https://access.example.com");
        raw.server()
    };
    let off = server(&[]).unwrap().metrics;
    assert!(off.token.is_none() && off.addr.is_none());
    assert!(!off.on_main_listener());

    let token = server(&[("PAR_METRICS_TOKEN", "0123456789abcdef0123")])
        .unwrap()
        .metrics;
    assert!(token.on_main_listener());

    let err = server(&[("PAR_METRICS_TOKEN", "short-s3cret")])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("PAR_METRICS_TOKEN is invalid"), "{err}");
    assert!(!err.contains("short-s3cret"), "{err}");

    let own = server(&[("PAR_METRICS_ADDR", "127.0.0.1:9100")])
        .unwrap()
        .metrics;
    assert_eq!(own.addr, Some("127.0.0.1:9100".parse().unwrap()));
    assert!(!own.on_main_listener());

    let err = server(&[("PAR_METRICS_ADDR", "127.0.0.1:3000")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("must differ from PAR_BIND_ADDR"), "{err}");
}

#[test]
fn timeouts_default_to_thirty_seconds_and_can_be_set() {
    let server = |pairs: &[(&str, &str)]| {
        let mut raw = RawConfig::load(None, env(pairs)).unwrap();
        raw.set("PUBLIC_URL", "https://access.example.com");
        raw.server()
    };
    let defaults = server(&[]).unwrap().timeouts;
    assert_eq!(defaults.request, Duration::from_secs(30));
    assert_eq!(defaults.header_read, Duration::from_secs(30));
    let set = server(&[
        ("PAR_REQUEST_TIMEOUT", "2m"),
        ("PAR_HEADER_READ_TIMEOUT", "65s"),
    ])
    .unwrap()
    .timeouts;
    assert_eq!(set.request, Duration::from_secs(120));
    assert_eq!(set.header_read, Duration::from_secs(65));
    let err = server(&[("PAR_REQUEST_TIMEOUT", "0")]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("PAR_REQUEST_TIMEOUT is invalid"),
        "{err}"
    );
}

#[test]
fn email_aliases_are_groups_of_two_or_more_and_never_overlap() {
    let raw = RawConfig::load(
        None,
        env(&[(
            "PAR_EMAIL_ALIASES",
            " Ada@Corp.example, ada.admin@example.com ;; ben@corp.example,ben@example.com,b@x.io ",
        )]),
    )
    .unwrap();
    assert_eq!(
        raw.campaigns().unwrap().email_aliases,
        [
            vec!["ada@corp.example", "ada.admin@example.com"],
            vec!["ben@corp.example", "ben@example.com", "b@x.io"],
        ]
    );
    for (value, problem) in [
        ("ada@corp.example", "names one email"),
        ("a@x.io,b@x.io; b@x.io,c@x.io", "`b@x.io` is in two groups"),
        ("a@x.io,not-an-email", "is not an email address"),
    ] {
        let raw = RawConfig::load(None, env(&[("PAR_EMAIL_ALIASES", value)])).unwrap();
        let error = raw.campaigns().unwrap_err().to_string();
        assert!(
            error.contains("PAR_EMAIL_ALIASES") && error.contains(problem),
            "{error}"
        );
    }
}

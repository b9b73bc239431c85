//! `TestApp` and throwaway databases.

use std::{net::SocketAddr, path::PathBuf, process::Command, sync::Arc, time::Duration};

use postmark_access_review::{
    application::{Application, Jobs, Startup, Storage},
    auth::{dev_idp::DevIdp, service::AuthService, session::Store},
    clock::ManualClock,
    config::{
        AuthConfig, CampaignConfig, DatabaseConfig, InventoryConfig, MailConfig, MetricsConfig,
        ServerConfig, Timeouts,
    },
    db::{Backend, Db},
    notifications::worker::Worker,
    postmark::{simulator::Simulator, ServerInfo},
    server,
    signing::SigningConfig,
    state::RunMode,
};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Connection as _, Executor as _, PgConnection};
use time::macros::datetime;

/// Account token of the test app's simulated Postmark account.
pub const SIMULATOR_TOKEN: &str = "simulated-account-token";

/// Bearer token of the simulated users gateway.
pub const GATEWAY_TOKEN: &str = "simulated-gateway-token";

/// Server token of the simulated server that sends the app's emails (with `.mail()`).
pub const MAIL_TOKEN: &str = "simulated-server-token-for-mail";

/// The longest a test waits for one answer from the app: far beyond any test's need, so a
/// request that never completes fails its test with the URL instead of hanging the suite.
pub const ANSWER_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Id of that server in the simulator.
pub const MAIL_SERVER: i64 = 90_001;

/// Sender of the app's emails (with `.mail()`).
pub const MAIL_FROM: &str = "Access Review <review@example.com>";

/// The real binary's `serve` on a free port (also returned) against `db_url`, revoking through
/// the simulator at `postmark` and its users gateway; no mail, no scheduled sync, so its
/// revocation worker is the only thing talking to the simulator. Callers add their own settings
/// (log level, lease) and output, then spawn it.
pub fn serve_command(db_url: &str, postmark: &url::Url) -> (Command, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut command = Command::new(env!("CARGO_BIN_EXE_postmark-access-review"));
    command
        .arg("serve")
        .env_clear()
        .env("PAR_DATABASE_URL", db_url)
        .env("PAR_BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("PAR_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        // Never reached: sign-in is not part of these tests, and serve starts without it.
        .env("PAR_OIDC_ISSUER", "https://idp.invalid")
        .env("PAR_OIDC_CLIENT_ID", "par")
        .env("PAR_OIDC_CLIENT_SECRET", "secret")
        .env("PAR_POSTMARK_API_URL", postmark.as_str())
        .env("PAR_POSTMARK_ACCOUNT_TOKEN", SIMULATOR_TOKEN)
        .env(
            "PAR_POSTMARK_USERS_URL",
            postmark.join("gateway/").expect("gateway url").as_str(),
        )
        .env("PAR_POSTMARK_USERS_TOKEN", GATEWAY_TOKEN)
        .env("PAR_SYNC_INTERVAL", "0")
        // One key file per database, the same across restarts, never in the repository's data/.
        .env("PAR_SIGNING_KEY_FILE", test_key_file(db_url));
    (command, port)
}

/// A signing key file for the database at `db_url`, under the system's temporary folder.
pub fn test_key_file(db_url: &str) -> PathBuf {
    use sha2::Digest as _;
    let id = hex::encode(sha2::Sha256::digest(db_url.as_bytes()));
    std::env::temp_dir()
        .join("par-test-signing-keys")
        .join(format!("{}.pem", &id[..16]))
}

/// The one number `sql` selects (a `COUNT(*)`).
pub async fn count(db: &Db, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(db.pool())
        .await
        .expect("count query");
    n
}

/// Which database this run of the suite uses.
pub fn backend_under_test() -> Backend {
    match std::env::var("PAR_TEST_DATABASE").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("PAR_TEST_DATABASE must be sqlite or postgres, not {other}"),
    }
}

fn postgres_admin_url() -> String {
    std::env::var("PAR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    pub config: DatabaseConfig,
    cleanup: Cleanup,
}

enum Cleanup {
    /// The folder holding the file; removed on drop.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDb {
    /// A fresh database on the engine this run tests.
    pub async fn fresh() -> Self {
        match backend_under_test() {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!("par_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .expect("PostgreSQL must be reachable at PAR_TEST_POSTGRES_URL");
                admin
                    .execute(format!("CREATE DATABASE \"{name}\"").as_str())
                    .await
                    .expect("create test database");
                let (base, _) = admin_url.rsplit_once('/').expect("URL has a database");
                TestDb {
                    config: DatabaseConfig {
                        url: SecretString::from(format!("{base}/{name}")),
                        max_connections: 10,
                    },
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
        }
    }

    /// A fresh SQLite file whatever the engine under test (for checks that read the file).
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        TestDb {
            config: DatabaseConfig {
                url: SecretString::from(url),
                max_connections: 10,
            },
            cleanup: Cleanup::Sqlite { _dir: dir },
        }
    }

    /// The connection URL, for running the binary against this database.
    pub fn url(&self) -> String {
        self.config.url.expose_secret().to_string()
    }

    pub async fn connect_migrated(&self) -> Db {
        let db = Db::connect(&self.config).await.expect("connect");
        db.migrate().await.expect("migrate");
        db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async context; a short-lived runtime on its own thread does it.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                        let _ = admin
                            .execute(
                                format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str(),
                            )
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// The application on a random port with its own database.
pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub clock: ManualClock,
    pub idp: Arc<DevIdp>,
    pub sessions: Store,
    /// The Postmark account the app syncs from.
    pub simulator: Simulator,
    pub simulator_url: url::Url,
    /// The notification worker over this app (mail off unless the builder asked for `.mail()`);
    /// tests drive it with `run_once`.
    pub worker: Worker,
    /// The signing key file (mode 0600, created at start in a folder of its own).
    pub key_file: PathBuf,
    /// Kept for its `Drop`, which removes the key file's folder.
    _key_dir: tempfile::TempDir,
    /// Kept for its `Drop`, which removes the database.
    _test_db: TestDb,
}

type AdjustAuth = Box<dyn FnOnce(&mut AuthConfig) + Send>;

pub struct TestAppBuilder {
    public_url: Option<String>,
    max_body_bytes: usize,
    adjust_auth: Option<AdjustAuth>,
    users_gateway: bool,
    mail: bool,
    jobs: Jobs,
    signing_key_pem: Option<String>,
    checkpoint_interval: Option<Duration>,
    metrics: MetricsConfig,
    timeouts: Timeouts,
    email_aliases: Vec<Vec<String>>,
    site_root: PathBuf,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            public_url: None,
            max_body_bytes: 64 * 1024,
            adjust_auth: None,
            users_gateway: false,
            mail: false,
            // Expired sessions stay put (the inventory schedule does nothing without an
            // interval); notifications are sent and revocations carried out only when a test
            // runs the worker.
            jobs: Jobs {
                session_cleanup: false,
                notifications: false,
                revocations: false,
                ..Jobs::ALL
            },
            signing_key_pem: None,
            checkpoint_interval: None,
            metrics: MetricsConfig::default(),
            timeouts: Timeouts::default(),
            email_aliases: Vec::new(),
            site_root: PathBuf::from("target/site"),
        }
    }

    /// The connection URL of this app's database (for the command line).
    pub fn database_url(&self) -> String {
        self._test_db.url()
    }

    /// The SQLite file, when the database is SQLite.
    pub fn database_file(&self) -> Option<PathBuf> {
        self.database_url()
            .strip_prefix("sqlite://")
            .map(PathBuf::from)
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.at(path))
            .send()
            .await
            .expect("request")
    }
}

impl TestAppBuilder {
    /// The built site the app serves `/pkg` from (default `target/site`).
    pub fn site_root(mut self, root: &std::path::Path) -> Self {
        self.site_root = root.to_path_buf();
        self
    }

    /// Public URL the app believes it has (to test https-only behaviour); defaults to the
    /// bound address.
    pub fn public_url(mut self, url: &str) -> Self {
        self.public_url = Some(url.to_string());
        self
    }

    /// Changes the sign-in settings derived from the development provider.
    pub fn auth(mut self, adjust: impl FnOnce(&mut AuthConfig) + Send + 'static) -> Self {
        self.adjust_auth = Some(Box::new(adjust));
        self
    }

    /// The simulated account also runs a users gateway, used by syncs.
    pub fn users_gateway(mut self) -> Self {
        self.users_gateway = true;
        self
    }

    /// Mail is on: the simulated account gets a server (id [`MAIL_SERVER`]) whose token sends.
    pub fn mail(mut self) -> Self {
        self.mail = true;
        self
    }

    /// The signing key comes from configuration (`PAR_SIGNING_KEY`) instead of a file.
    pub fn signing_key_pem(mut self, pem: &str) -> Self {
        self.signing_key_pem = Some(pem.to_string());
        self
    }

    /// Signed checkpoints on a schedule (off unless asked for).
    pub fn checkpoint_every(mut self, every: Duration) -> Self {
        self.checkpoint_interval = Some(every);
        self
    }

    /// Who may read `/metrics` (off unless asked for, as in production).
    pub fn metrics(mut self, metrics: MetricsConfig) -> Self {
        self.metrics = metrics;
        self
    }

    /// Request and header-read time limits other than the defaults.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// `PAR_EMAIL_ALIASES`, as groups of emails.
    pub fn email_aliases(mut self, groups: &[&[&str]]) -> Self {
        self.email_aliases = groups
            .iter()
            .map(|g| g.iter().map(|e| e.to_string()).collect())
            .collect();
        self
    }

    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    pub async fn spawn(self) -> TestApp {
        let test_db = TestDb::fresh().await;
        let listener = server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let url = format!("http://{addr}");
        let config = ServerConfig {
            public_url: self
                .public_url
                .as_deref()
                .unwrap_or(&url)
                .parse()
                .expect("public url"),
            bind_addr: addr,
            max_body_bytes: self.max_body_bytes,
            site_root: self.site_root,
            metrics: self.metrics,
            timeouts: self.timeouts,
        };
        let clock = ManualClock::new(datetime!(2026-11-28 09:00 UTC));
        let adjust = self.adjust_auth.unwrap_or_else(|| Box::new(|_| {}));
        let auth = AuthService::development_with(&config.public_url, adjust)
            .expect("development provider");
        let idp = auth.dev_idp().expect("development provider");
        let simulator = Simulator::new(SIMULATOR_TOKEN);
        let simulator_url = simulator.spawn(0).await.expect("simulator");
        let inventory = InventoryConfig {
            snapshot_retention_days:
                postmark_access_review::config::DEFAULT_SNAPSHOT_RETENTION_DAYS,
            api_url: simulator_url.clone(),
            account_token: Some(SecretString::from(SIMULATOR_TOKEN.to_string())),
            sync_interval: None,
            webhook_host_allowlist: vec!["hooks.example.com".to_string()],
            users_gateway: self.users_gateway.then(|| {
                simulator.enable_gateway(GATEWAY_TOKEN);
                (
                    simulator_url.join("gateway/").expect("gateway url"),
                    SecretString::from(GATEWAY_TOKEN.to_string()),
                )
            }),
        };
        let mail = self.mail.then(|| {
            simulator.add_server(ServerInfo::sample(MAIL_SERVER, "Mail", &[MAIL_TOKEN]));
            MailConfig {
                api_url: simulator_url.clone(),
                server_token: SecretString::from(MAIL_TOKEN.to_string()),
                from: MAIL_FROM.to_string(),
                stream: "outbound".to_string(),
            }
        });
        let key_dir = tempfile::tempdir().expect("key folder");
        let key_file = key_dir.path().join("keys/signing-key.pem");
        let app = Application::build(Startup {
            mode: RunMode::Serve,
            server: config,
            storage: Storage::Connect(test_db.config.clone()),
            auth,
            inventory,
            // The campaign schedule runs often so tests that move the clock see it act quickly.
            campaigns: CampaignConfig {
                check_interval: Duration::from_millis(50),
                email_aliases: self.email_aliases,
                ..CampaignConfig::default()
            },
            mail,
            clock: Arc::new(clock.clone()),
            signing: SigningConfig {
                key_file: key_file.clone(),
                key_pem: self.signing_key_pem.map(SecretString::from),
                checkpoint_interval: self.checkpoint_interval,
            },
            jobs: self.jobs,
            simulator: None,
        })
        .await
        .expect("application");
        let db = app.state().db.clone();
        let sessions = app.state().sessions.clone();
        let worker = app.notification_worker().expect("notification worker");
        tokio::spawn(async move {
            let _ = app.serve(listener).await;
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(ANSWER_LIMIT)
            .build()
            .expect("client");
        TestApp {
            url,
            client,
            db,
            clock,
            idp,
            sessions,
            simulator,
            simulator_url,
            worker,
            key_file,
            _key_dir: key_dir,
            _test_db: test_db,
        }
    }
}

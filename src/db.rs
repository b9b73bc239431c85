//! One database handle for SQLite (embedded default) and PostgreSQL.
//!
//! Queries go through sqlx's `Any` driver with portable SQL (`$1` placeholders work on both), so
//! every feature has one implementation that the same test suite exercises on both databases.
//! Where the databases differ (DDL, locking) the code branches on [`Backend`].

use std::{
    ops::{Deref, DerefMut},
    path::Path,
    str::FromStr,
    sync::Arc,
    time::Duration,
};

use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
    sqlite::SqliteConnectOptions,
    Any, AnyConnection, AnyPool, Connection as _, Executor as _, Transaction,
};

use crate::config::DatabaseConfig;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Which database engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Reads the engine from a connection URL.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!("unsupported database URL scheme (expected sqlite: or postgres://)")
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Connection pool plus the engine it talks to.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// The SQLite file behind the pool, for the exports' reader outside sqlx
    /// ([`crate::export::sqlite`]); `None` on PostgreSQL and for in-memory databases.
    sqlite_file: Option<Arc<Path>>,
}

impl Db {
    /// Connects (creating the SQLite file and its folder when needed).
    pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<Self> {
        Self::open(config, false).await
    }

    /// Connects without changing anything: a SQLite file is opened read-only and must exist
    /// (for `audit verify` on an auditor's copy).
    pub async fn connect_read_only(config: &DatabaseConfig) -> anyhow::Result<Self> {
        Self::open(config, true).await
    }

    async fn open(config: &DatabaseConfig, read_only: bool) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let url = config.url.expose_secret();
        let backend = Backend::from_url(url)?;
        let url = match (backend, read_only) {
            (Backend::Sqlite, false) => prepare_sqlite_url(url)?,
            (Backend::Sqlite, true) => read_only_sqlite_url(url),
            (Backend::Postgres, _) => url.to_string(),
        };
        let sqlite_file = match backend {
            Backend::Sqlite => sqlite_file(&url),
            Backend::Postgres => None,
        };
        let options =
            AnyConnectOptions::from_str(&url).context("the database URL could not be parsed")?;
        let pool = AnyPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite && !read_only {
                        // WAL lets readers run beside the one writer; the busy timeout makes
                        // writers queue instead of failing when another holds the lock.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .with_context(|| format!("could not connect to the {} database", backend.name()))?;
        Ok(Self {
            pool,
            backend,
            sqlite_file,
        })
    }

    /// Applies pending migrations for this engine.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .context("database migration failed")?;
        Ok(())
    }

    /// Applies the migrations up to `version` only: upgrade tests fill a schema as an earlier
    /// release left it, then [`Self::migrate`]. Builds sqlx's `Migrator` from its fields (hidden
    /// but public; the lock file pins sqlx).
    pub async fn migrate_until(&self, version: i64) -> anyhow::Result<()> {
        let all = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let migrator = Migrator {
            migrations: all
                .iter()
                .filter(|m| m.version <= version)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            ..Migrator::DEFAULT
        };
        migrator
            .run(&self.pool)
            .await
            .context("database migration failed")?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The SQLite file behind the pool, when there is one on disk.
    pub fn sqlite_file(&self) -> Option<&Path> {
        self.sqlite_file.as_deref()
    }

    /// The pool, for reads that need no transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction.
    ///
    /// On SQLite the transaction takes the write lock up front (`BEGIN IMMEDIATE`): a deferred
    /// transaction that reads first and writes later fails with `SQLITE_BUSY` under concurrency
    /// instead of waiting its turn.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let inner = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx {
            inner,
            backend: self.backend,
        })
    }

    /// Refreshes PostgreSQL's planner statistics of the tables a review queue reads, after a
    /// launch: it added many review items at once and made a campaign active, often right
    /// after a sync or import rewrote the inventory. Reviewers open their queues within a
    /// minute of the launch emails, before autovacuum would; until then the planner guessed
    /// that few of a reviewer's items are in active campaigns and sorted a whole queue
    /// (8.7 ms for 5,000 items) instead of reading one page from its index (0.4 ms), and
    /// read every permission to find a page's people (4.3 ms instead of 0.35 ms). SQLite's
    /// planner picks those indexes without statistics. A failure only costs speed, so it is
    /// logged, not returned.
    pub async fn refresh_queue_statistics(&self) {
        if self.backend != Backend::Postgres {
            return;
        }
        let tables = "campaigns, review_items, postmark_users, user_permissions, servers, \
                      server_owners";
        if let Err(error) = sqlx::query(&format!("ANALYZE {tables}"))
            .execute(&self.pool)
            .await
        {
            tracing::warn!(%error, "could not refresh the planner statistics of the queue");
        }
    }

    /// Checks that the database answers, within `timeout`.
    pub async fn ping(&self, timeout: Duration) -> anyhow::Result<()> {
        let check = async {
            let mut conn = self.pool.acquire().await?;
            conn.ping().await
        };
        tokio::time::timeout(timeout, check)
            .await
            .context("database did not answer in time")?
            .context("database is unreachable")
    }

    /// Closes every connection; later queries fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction obtained from [`Db::begin`]. Functions that change state take `&mut Tx`
/// so their audit event commits or rolls back together with the change.
#[derive(Debug)]
pub struct Tx {
    inner: Transaction<'static, Any>,
    backend: Backend,
}

impl Tx {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

/// Locks that serialise writers of one kind across processes; see [`lock_xact`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKey {
    /// Audit writers, so the hash chain stays linear.
    Audit,
    /// Inventory writers (syncs, imports, and launches reading the inventory).
    Inventory,
    /// Gathering manual revocations into fulfilment tasks, so two workers never put one line
    /// in two tasks (or email it twice).
    Fulfilment,
    /// The instance that runs scheduled work (`crate::leader`), held for a session, not a
    /// transaction.
    Leader,
}

impl LockKey {
    /// The PostgreSQL advisory lock key: eight ASCII letters. Every process of a deployment
    /// must agree on these numbers, so they never change.
    pub(crate) fn id(self) -> i64 {
        match self {
            // "PARAUDIT"
            LockKey::Audit => 0x5041_5241_5544_4954,
            // "PARINVEN"
            LockKey::Inventory => 0x5041_5249_4E56_454E,
            // "PARFULFI"
            LockKey::Fulfilment => 0x5041_5246_554C_4649,
            // "PARLEADR"
            LockKey::Leader => 0x5041_524C_4541_4452,
        }
    }
}

/// Holds `key` until `tx` commits or rolls back; other writers taking it wait their turn.
///
/// PostgreSQL takes a transaction-scoped advisory lock. SQLite has nothing to do: a [`Tx`]
/// begins with `BEGIN IMMEDIATE` (see [`Db::begin`]), so it already holds the database's one
/// write lock and no other writer can run beside it.
pub async fn lock_xact(tx: &mut Tx, key: LockKey) -> Result<(), sqlx::Error> {
    if tx.backend() == Backend::Postgres {
        // A SELECT of a void function cannot be decoded by the Any driver; wrap it.
        sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS advisory_lock")
            .bind(key.id())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The same SQLite URL with `mode=ro`.
fn read_only_sqlite_url(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("mode="))
        .chain(std::iter::once("mode=ro"))
        .collect();
    format!("{base}?{}", kept.join("&"))
}

/// The file a SQLite URL names, as sqlx reads it; `None` for an in-memory database or one
/// behind a custom VFS, which another connection could not open by path.
fn sqlite_file(url: &str) -> Option<Arc<Path>> {
    let options = SqliteConnectOptions::from_str(url).ok()?;
    // Read the URL as sqlx does; not through its `to_url_lossy`, which panics on a relative
    // path such as the default `sqlite://data/app.db`.
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, query) = rest.split_once('?').unwrap_or((rest, ""));
    let elsewhere = database == ":memory:"
        || url::form_urlencoded::parse(query.as_bytes())
            .any(|(key, value)| (key == "mode" && value == "memory") || key == "vfs");
    (!elsewhere).then(|| Arc::from(options.get_filename()))
}

/// Creates the folder of a SQLite file and makes sure the file is created when missing.
pub(crate) fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" && !path.is_empty() {
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).with_context(|| {
                format!("could not create the database folder {}", parent.display())
            })?;
        }
    }
    let has_mode = query.split('&').any(|pair| pair.starts_with("mode="));
    Ok(match (query.is_empty(), has_mode) {
        (_, true) => url.to_string(),
        (true, false) => format!("{url}?mode=rwc"),
        (false, false) => format!("{url}&mode=rwc"),
    })
}

/// A database URL fit for logs: no user, password or query (which can carry a password).
pub fn redacted(url: &SecretString) -> String {
    let text = url.expose_secret();
    match url::Url::parse(text) {
        Ok(mut parsed) if parsed.has_host() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        // sqlite:path and the like: keep the path, drop any query.
        _ => text.split('?').next().unwrap_or_default().to_string(),
    }
}

/// `text` as a literal inside a `LIKE` pattern written with [`LIKE_ESCAPE`]: `%`, `_` and the
/// escape character itself match only themselves (an email such as `first_last@…` is common).
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The clause after `LIKE $n` that makes [`escape_like`]'s backslashes escapes (the same on
/// SQLite and PostgreSQL).
pub const LIKE_ESCAPE: &str = "ESCAPE '\\'";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nested/app.db");
        let url = format!("sqlite://{}", file.display());
        assert_eq!(prepare_sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(file.parent().unwrap().is_dir());
        let ro = format!("{url}?mode=ro");
        assert_eq!(prepare_sqlite_url(&ro).unwrap(), ro);
    }

    #[test]
    fn the_sqlite_file_is_read_from_the_url() {
        let file = |url: &str| sqlite_file(url).map(|p| p.to_path_buf());
        assert_eq!(
            file("sqlite://data/app.db?mode=rwc"),
            Some("data/app.db".into())
        );
        assert_eq!(file("sqlite:/tmp/a%20b.db"), Some("/tmp/a b.db".into()));
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("sqlite://x.db?mode=memory"), None);
        assert_eq!(file("sqlite://x.db?vfs=unix-none"), None);
    }

    #[test]
    fn lock_keys_spell_their_names() {
        assert_eq!(&LockKey::Audit.id().to_be_bytes(), b"PARAUDIT");
        assert_eq!(&LockKey::Inventory.id().to_be_bytes(), b"PARINVEN");
    }

    #[test]
    fn redaction_hides_credentials() {
        for (url, shown) in [
            (
                "postgres://app:hunter2@db.internal:5432/par",
                "postgres://db.internal:5432/par",
            ),
            (
                "postgres://db.internal/par?user=app&password=hunter2",
                "postgres://db.internal/par",
            ),
            ("sqlite://data/app.db?mode=rwc", "sqlite://data/app.db"),
        ] {
            assert_eq!(redacted(&SecretString::from(url.to_string())), shown);
        }
    }
}

//! Server-side sessions (tower-sessions with its sqlx store) and the per-request user.

use std::{str::FromStr as _, sync::Arc, time::Duration};

use anyhow::Context as _;
use async_trait::async_trait;
use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use sqlx::{
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
};
use tower_sessions::{
    cookie::SameSite,
    session::{Id, Record},
    session_store::{self, ExpiredDeletion as _},
    Expiry, Session, SessionManagerLayer, SessionStore,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::{is_protected, service::AuthService, Role, Viewer};
use crate::{
    clock::Clock,
    config::DatabaseConfig,
    db::{prepare_sqlite_url, Backend},
};

/// Cookie name. Not `id` or `session`, so it does not collide with other apps on the host.
pub const COOKIE_NAME: &str = "par_session";
/// Session key of the signed-in person.
pub const USER_KEY: &str = "user";
/// Session key of sign-ins in progress.
pub const PENDING_KEY: &str = "oidc.pending";
/// Session key of the last time activity was written, which slides the idle timeout.
const SEEN_KEY: &str = "seen_at";

/// The signed-in person as stored in the session (`Debug` leaves out the ID token).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub person_id: i64,
    pub issuer: String,
    pub subject: String,
    pub email: String,
    pub name: String,
    /// Recomputed on every request from the current configuration.
    pub roles: Vec<Role>,
    pub email_verified: Option<bool>,
    pub groups: Vec<String>,
    /// Unix seconds; the absolute lifetime counts from here.
    pub signed_in_at: i64,
    /// For `id_token_hint` at sign-out; stays on the server.
    pub id_token: String,
}

// An ID token is a bearer credential at some providers: never in a log line.
impl std::fmt::Debug for SessionUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionUser")
            .field("person_id", &self.person_id)
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("roles", &self.roles)
            .field("email_verified", &self.email_verified)
            .field("groups", &self.groups)
            .field("signed_in_at", &self.signed_in_at)
            .finish_non_exhaustive()
    }
}

impl SessionUser {
    pub fn viewer(&self) -> Viewer {
        Viewer {
            person_id: self.person_id,
            name: self.name.clone(),
            email: self.email.clone(),
            roles: self.roles.clone(),
        }
    }

    /// The address people are matched by (review items, mappings, owners). A provider that
    /// sends something else gets no access by email.
    pub fn person_email(&self) -> Result<crate::email::Email, crate::error::AppError> {
        crate::email::Email::parse(&self.email).map_err(|_| crate::error::AppError::Forbidden)
    }

    pub fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor::Person {
            issuer: self.issuer.clone(),
            subject: self.subject.clone(),
            email: self.email.clone(),
        }
    }
}

/// The session store on whichever database the application uses.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    /// Opens a pool for the store on the application database and creates its table.
    pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<Self> {
        let url = config.url.expose_secret();
        let store = match Backend::from_url(url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(&prepare_sqlite_url(url)?)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(30));
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .context("could not open the session store")?;
                let store = SqliteStore::new(pool);
                store.migrate().await?;
                Store::Sqlite(store)
            }
            Backend::Postgres => {
                let pool = PgPoolOptions::new()
                    .max_connections(config.max_connections.clamp(1, 10))
                    .connect(url)
                    .await
                    .context("could not open the session store")?;
                let store = PostgresStore::new(pool);
                store.migrate().await?;
                Store::Postgres(store)
            }
        };
        Ok(store)
    }

    /// Removes expired sessions from the database.
    pub async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.delete_expired().await,
            Store::Postgres(s) => s.delete_expired().await,
        }
    }

    /// Deletes expired sessions every `every` in the background.
    pub fn spawn_cleanup(&self, every: Duration) {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(error) = store.delete_expired().await {
                    tracing::warn!(%error, "could not delete expired sessions");
                }
            }
        });
    }

    /// The layer that loads and saves sessions and sets the cookie.
    pub fn layer(&self, secure: bool, idle: Duration) -> SessionManagerLayer<Store> {
        let idle = time::Duration::try_from(idle).unwrap_or(time::Duration::hours(8));
        SessionManagerLayer::new(self.clone())
            .with_name(COOKIE_NAME)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(secure)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(idle))
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.create(record).await,
            Store::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.save(record).await,
            Store::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Store::Sqlite(s) => s.load(id).await,
            Store::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.delete(id).await,
            Store::Postgres(s) => s.delete(id).await,
        }
    }
}

/// Slides the idle timeout: the store only re-saves (and so extends) a modified session, so
/// activity is written down, at most every quarter of the idle timeout (and every 5 minutes).
async fn touch(session: &Session, now: i64, idle: Duration) {
    let every = i64::try_from((idle / 4).as_secs().min(300)).unwrap_or(300);
    let seen: i64 = session.get(SEEN_KEY).await.ok().flatten().unwrap_or(0);
    if now - seen >= every {
        if let Err(error) = session.insert(SEEN_KEY, now).await {
            tracing::warn!(%error, "could not record session activity");
        }
    }
}

/// What [`load_user`] needs: the sign-in settings (session lifetimes, roles) and the clock.
#[derive(Clone)]
pub struct LoadUserState {
    pub auth: Arc<AuthService>,
    pub clock: Arc<dyn Clock>,
}

/// Loads the signed-in person into the request (for handlers, server functions and the page
/// shell), ends sessions past their absolute lifetime, and sends anonymous visitors of
/// protected pages to sign in.
pub async fn load_user(
    State(state): State<LoadUserState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let mut user = match session.get::<SessionUser>(USER_KEY).await {
        Ok(user) => user,
        Err(error) => {
            tracing::warn!(%error, "could not read the session");
            None
        }
    };
    let now = state.clock.now().unix_timestamp();
    let config = state.auth.config();
    let max_age = i64::try_from(config.session_max.as_secs()).unwrap_or(i64::MAX);
    if user
        .as_ref()
        .is_some_and(|u| now - u.signed_in_at > max_age)
    {
        if let Err(error) = session.flush().await {
            tracing::warn!(%error, "could not end an expired session");
        }
        user = None;
    }
    if let Some(current) = &mut user {
        {
            current.roles = super::people::roles_for(
                config,
                &current.email,
                current.email_verified,
                &current.groups,
            );
            touch(&session, now, config.session_idle).await;
        }
    }

    let wants_page = matches!(*req.method(), Method::GET | Method::HEAD);
    if user.is_none() && wants_page && is_protected(req.uri().path()) {
        let target = req
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_string();
        let login = format!(
            "/auth/login?next={}",
            url::form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>()
        );
        return Redirect::to(&login).into_response();
    }
    if let Some(user) = user {
        req.extensions_mut().insert(user.viewer());
        req.extensions_mut().insert(user);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_leaves_out_the_id_token() {
        let user = SessionUser {
            person_id: 1,
            issuer: "https://idp.example.com".into(),
            subject: "ada".into(),
            email: "ada@example.com".into(),
            name: "Ada".into(),
            roles: vec![Role::Admin],
            email_verified: Some(true),
            groups: vec![],
            signed_in_at: 0,
            id_token: "eyJhbGciOi.secret-id-token.sig".into(),
        };
        let shown = format!("{user:?}");
        assert!(!shown.contains("secret-id-token"), "{shown}");
        assert!(shown.contains("ada@example.com"));
    }
}

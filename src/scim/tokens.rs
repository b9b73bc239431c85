//! Identity providers and their bearer tokens.
//!
//! A token is `par_scim_` and 256 random bits (URL-safe base64). Only its SHA-256 is stored:
//! with that much entropy a plain hash cannot be reversed by guessing, and lookups go by the
//! hash, so the comparison never touches the token itself. The first characters are kept for
//! display, to tell tokens apart.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::RngCore as _;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use time::Duration;

use super::TokenView;
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, parse_timestamp, Clock},
    db::{Backend, Db},
    error::AppError,
};

/// What every token starts with, so a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "par_scim_";
const TOKEN_BYTES: usize = 32;
/// Characters of the random part kept for display.
const SHOWN: usize = 6;
/// Longest provider name.
const MAX_NAME: usize = 100;
/// `last_used_at` is written at most this often, so every request is not a write.
const LAST_USED_EVERY: Duration = Duration::minutes(1);

/// The provider a request's token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub id: i64,
    pub name: String,
    pub token_id: i64,
}

impl Provider {
    /// Who SCIM changes are attributed to in the audit log.
    pub fn actor(&self) -> Actor {
        Actor::system(format!("scim:{}", self.name))
    }
}

/// Lowercase hex SHA-256 of a token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `token` could be one of ours; anything else is refused without a query.
fn well_formed(token: &str) -> bool {
    token.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == (TOKEN_BYTES * 4).div_ceil(3)
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// A provider name as admins type it: trimmed, 1 to 100 characters, no control characters.
pub fn parse_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::Validation(
            "name the identity provider, e.g. Entra ID or Okta".into(),
        ));
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(AppError::Validation(format!(
            "the provider name must be at most {MAX_NAME} characters on one line"
        )));
    }
    Ok(name.to_string())
}

/// Creates a token for the provider called `name` (the provider too, when it is new).
/// Returns the token row and the token, which is shown once and never stored.
pub async fn create(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    by: &str,
    name: &str,
) -> Result<(TokenView, String), AppError> {
    let name = parse_name(name)?;
    let now = format_timestamp(clock.now());
    let mut tx = db.begin().await?;
    // ON CONFLICT: two admins naming the same new provider at once share it.
    let inserted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO scim_providers (name, name_key, created_at, created_by) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (name_key) DO NOTHING RETURNING id",
    )
    .bind(&name)
    .bind(name.to_lowercase())
    .bind(&now)
    .bind(by)
    .fetch_optional(&mut *tx)
    .await?;
    let (provider_id, provider): (i64, String) =
        sqlx::query_as("SELECT id, name FROM scim_providers WHERE name_key = $1")
            .bind(name.to_lowercase())
            .fetch_one(&mut *tx)
            .await?;
    let new_provider = inserted.is_some();
    let token = new_token();
    let prefix = token[..TOKEN_PREFIX.len() + SHOWN].to_string();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO scim_tokens (provider_id, token_hash, prefix, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(provider_id)
    .bind(hash(&token))
    .bind(&prefix)
    .bind(&now)
    .bind(by)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("scim.token_created", format!("scim_token:{id}")).details(json!({
            "provider": provider,
            "provider_id": provider_id,
            "new_provider": new_provider,
            "prefix": prefix,
        })),
    )
    .await?;
    tx.commit().await?;
    let view = TokenView {
        id,
        provider,
        prefix,
        created_at: now,
        created_by: by.to_string(),
        last_used_at: None,
        revoked_at: None,
        revoked_by: None,
    };
    Ok((view, token))
}

type TokenRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

const TOKEN_COLUMNS: &str = "t.id, p.name, t.prefix, t.created_at, t.created_by, \
     t.last_used_at, t.revoked_at, t.revoked_by";

fn view(row: TokenRow) -> TokenView {
    let (id, provider, prefix, created_at, created_by, last_used_at, revoked_at, revoked_by) = row;
    TokenView {
        id,
        provider,
        prefix,
        created_at,
        created_by,
        last_used_at,
        revoked_at,
        revoked_by,
    }
}

/// Every token, active ones first, newest first.
pub async fn list(db: &Db) -> Result<Vec<TokenView>, sqlx::Error> {
    let rows: Vec<TokenRow> = sqlx::query_as(&format!(
        "SELECT {TOKEN_COLUMNS} FROM scim_tokens t JOIN scim_providers p ON p.id = t.provider_id \
         ORDER BY CASE WHEN t.revoked_at IS NULL THEN 0 ELSE 1 END, t.id DESC"
    ))
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(view).collect())
}

/// Revokes a token: its provider can no longer call with it (other tokens of the provider
/// keep working, for rotation).
pub async fn revoke(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    by: &str,
    id: i64,
) -> Result<TokenView, AppError> {
    let now = format_timestamp(clock.now());
    let mut tx = db.begin().await?;
    let lock = match tx.backend() {
        Backend::Postgres => " FOR UPDATE OF t",
        Backend::Sqlite => "",
    };
    let row: Option<TokenRow> = sqlx::query_as(&format!(
        "SELECT {TOKEN_COLUMNS} FROM scim_tokens t JOIN scim_providers p ON p.id = t.provider_id \
         WHERE t.id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let mut token = view(row.ok_or(AppError::NotFound)?);
    if token.revoked_at.is_some() {
        return Err(AppError::Conflict(
            "this token was already revoked".to_string(),
        ));
    }
    sqlx::query("UPDATE scim_tokens SET revoked_at = $1, revoked_by = $2 WHERE id = $3")
        .bind(&now)
        .bind(by)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("scim.token_revoked", format!("scim_token:{id}")).details(json!({
            "provider": token.provider,
            "prefix": token.prefix,
        })),
    )
    .await?;
    tx.commit().await?;
    token.revoked_at = Some(now);
    token.revoked_by = Some(by.to_string());
    Ok(token)
}

/// The provider of an active token, or `None` for an unknown or revoked one.
pub async fn authenticate(
    db: &Db,
    clock: &dyn Clock,
    token: &str,
) -> Result<Option<Provider>, sqlx::Error> {
    if !well_formed(token) {
        return Ok(None);
    }
    let row: Option<(i64, i64, String, Option<String>)> = sqlx::query_as(
        "SELECT t.id, p.id, p.name, t.last_used_at FROM scim_tokens t \
         JOIN scim_providers p ON p.id = t.provider_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
    )
    .bind(hash(token))
    .fetch_optional(db.pool())
    .await?;
    let Some((token_id, id, name, last_used_at)) = row else {
        return Ok(None);
    };
    let now = clock.now();
    let stale = last_used_at
        .as_deref()
        .and_then(|at| parse_timestamp(at).ok())
        .is_none_or(|at| now - at >= LAST_USED_EVERY);
    if stale {
        sqlx::query("UPDATE scim_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(format_timestamp(now))
            .bind(token_id)
            .execute(db.pool())
            .await?;
    }
    Ok(Some(Provider { id, name, token_id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_recognisable() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert!(well_formed(&a), "{a}");
        assert!(!well_formed("par_scim_short"));
        assert!(!well_formed(&a.replace(TOKEN_PREFIX, "other_xx_")));
        assert_eq!(hash("x").len(), 64);
    }

    #[test]
    fn provider_names_are_checked() {
        assert_eq!(parse_name("  Entra ID ").unwrap(), "Entra ID");
        assert!(parse_name(" ").is_err());
        assert!(parse_name("a\nb").is_err());
        assert!(parse_name(&"x".repeat(101)).is_err());
    }
}

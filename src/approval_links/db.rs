//! Minting and looking up approval links. The raw token exists only in the email that carries
//! it: the database holds its SHA-256, and lookups go by that hash.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use crate::{
    clock::{format_timestamp, Clock},
    db::{Db, Tx},
    email::Email,
};

/// Random bytes per token: 192 bits, well above the 128 the design asks for.
const TOKEN_BYTES: usize = 24;

/// Length of a raw token: URL-safe base64 of [`TOKEN_BYTES`] without padding.
pub const TOKEN_LEN: usize = TOKEN_BYTES * 4 / 3;

/// Why a link stopped working, as stored in `revoked_reason`.
const ROTATED: &str = "rotated";
const REVOKED: &str = "revoked";

/// Lowercase hex SHA-256 of a raw token: what the database stores and looks up.
pub fn hash(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

/// A new raw token from the operating system's random source.
fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `raw` could be a token we minted: the right length and alphabet. Anything else is
/// answered without touching the database.
fn well_formed(raw: &str) -> bool {
    raw.len() == TOKEN_LEN
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Mints a link for `reviewer` in `campaign_id`, rotating (revoking with reason "rotated") the
/// reviewer's earlier active links for that campaign, and stores only the hash. Returns the raw
/// token, which goes into the email and nowhere else.
pub async fn mint(
    tx: &mut Tx,
    clock: &dyn Clock,
    reviewer: &Email,
    campaign_id: i64,
    expires_at: OffsetDateTime,
    notification_id: Option<i64>,
) -> Result<String, sqlx::Error> {
    let now = format_timestamp(clock.now());
    sqlx::query(
        "UPDATE approval_links SET revoked_at = $1, revoked_reason = $2 \
         WHERE campaign_id = $3 AND reviewer_email = $4 AND revoked_at IS NULL",
    )
    .bind(&now)
    .bind(ROTATED)
    .bind(campaign_id)
    .bind(reviewer.as_str())
    .execute(&mut **tx)
    .await?;
    let raw = new_token();
    sqlx::query(
        "INSERT INTO approval_links \
         (token_hash, reviewer_email, campaign_id, notification_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(hash(&raw))
    .bind(reviewer.as_str())
    .bind(campaign_id)
    .bind(notification_id)
    .bind(&now)
    .bind(format_timestamp(expires_at))
    .execute(&mut **tx)
    .await?;
    Ok(raw)
}

/// Revokes a reviewer's active links for a campaign (reason "revoked"); returns how many.
pub async fn revoke(
    tx: &mut Tx,
    clock: &dyn Clock,
    reviewer: &Email,
    campaign_id: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE approval_links SET revoked_at = $1, revoked_reason = $2 \
         WHERE campaign_id = $3 AND reviewer_email = $4 AND revoked_at IS NULL",
    )
    .bind(format_timestamp(clock.now()))
    .bind(REVOKED)
    .bind(campaign_id)
    .bind(reviewer.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// What a token opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Valid {
        link_id: i64,
        reviewer: String,
        campaign_id: i64,
    },
    Expired {
        reviewer: String,
        campaign_id: i64,
    },
    /// A newer link was sent to the same reviewer for the same campaign.
    Rotated,
    /// An admin revoked it.
    Revoked,
    /// Not a token we minted (or malformed).
    Unknown,
}

type LinkRow = (i64, String, String, i64, String, Option<String>);

/// Finds a link by the hash of `raw` (never by the raw token) and checks its expiry with
/// `clock`. Malformed tokens are `Unknown` without a query.
pub async fn lookup(db: &Db, clock: &dyn Clock, raw: &str) -> Result<Lookup, sqlx::Error> {
    if !well_formed(raw) {
        return Ok(Lookup::Unknown);
    }
    let wanted = hash(raw);
    let row: Option<LinkRow> = sqlx::query_as(
        "SELECT id, token_hash, reviewer_email, campaign_id, expires_at, revoked_reason \
         FROM approval_links WHERE token_hash = $1",
    )
    .bind(&wanted)
    .fetch_optional(db.pool())
    .await?;
    let Some((link_id, stored, reviewer, campaign_id, expires_at, revoked)) = row else {
        return Ok(Lookup::Unknown);
    };
    // The index found the row; compare again without an early exit so that the time this
    // takes says nothing about how much of a guessed hash matched.
    if !bool::from(stored.as_bytes().ct_eq(wanted.as_bytes())) {
        return Ok(Lookup::Unknown);
    }
    Ok(classify(
        clock,
        link_id,
        reviewer,
        campaign_id,
        &expires_at,
        revoked,
    ))
}

/// What a link opens now: revoked and rotated first, then expiry.
fn classify(
    clock: &dyn Clock,
    link_id: i64,
    reviewer: String,
    campaign_id: i64,
    expires_at: &str,
    revoked: Option<String>,
) -> Lookup {
    match revoked.as_deref() {
        Some(ROTATED) => return Lookup::Rotated,
        Some(_) => return Lookup::Revoked,
        None => {}
    }
    // Fixed-width UTC timestamps compare correctly as text.
    if format_timestamp(clock.now()).as_str() >= expires_at {
        return Lookup::Expired {
            reviewer,
            campaign_id,
        };
    }
    Lookup::Valid {
        link_id,
        reviewer,
        campaign_id,
    }
}

/// A link by its id, checked again: a person who opened a valid link and went to sign in
/// comes back to a link that may have been rotated, revoked or expired meanwhile.
pub async fn lookup_id(db: &Db, clock: &dyn Clock, id: i64) -> Result<Lookup, sqlx::Error> {
    let row: Option<(String, i64, String, Option<String>)> = sqlx::query_as(
        "SELECT reviewer_email, campaign_id, expires_at, revoked_reason \
         FROM approval_links WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    Ok(match row {
        Some((reviewer, campaign_id, expires_at, revoked)) => {
            classify(clock, id, reviewer, campaign_id, &expires_at, revoked)
        }
        None => Lookup::Unknown,
    })
}

/// Records that a link was opened (by its addressed reviewer).
pub async fn mark_used(db: &Db, clock: &dyn Clock, link_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE approval_links SET last_used_at = $1 WHERE id = $2")
        .bind(format_timestamp(clock.now()))
        .bind(link_id)
        .execute(db.pool())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_url_safe_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), TOKEN_LEN);
        const { assert!(TOKEN_LEN >= 22) };
        assert!(well_formed(&a) && well_formed(&b));
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_tokens_are_recognised() {
        let good = new_token();
        assert!(!well_formed(&good[..TOKEN_LEN - 1]));
        assert!(!well_formed(&format!("{good}x")));
        assert!(!well_formed(&"a+b/".repeat(8)));
        assert!(!well_formed(""));
    }

    #[test]
    fn hash_is_lowercase_hex_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

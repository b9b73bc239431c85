//! Accepting a failed revocation as it is: the access stays, an admin says why (e.g. "the
//! server is being retired next week; tracked in IT-1234"), and the campaign can be signed
//! off with that reason in its report. Retrying later clears the acknowledgement.

use serde_json::json;

use super::{db::status_in, Status};
use crate::{
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    db::Db,
    error::AppError,
};

/// The longest reason accepted, in characters.
const REASON_MAX: usize = 500;

/// Records an admin's acknowledgement of a failed revocation, audited
/// `revocation.acknowledged`.
pub async fn acknowledge(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    admin: &str,
    id: i64,
    reason: &str,
) -> Result<(), AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::Validation(
            "Say why the failed revocation is accepted as it is.".into(),
        ));
    }
    if reason.chars().count() > REASON_MAX {
        return Err(AppError::Validation(format!(
            "The reason is too long: at most {REASON_MAX} characters."
        )));
    }
    let mut tx = db.begin().await?;
    let (status, campaign_id) = status_in(&mut tx, id).await?;
    if let Some(campaign_id) = campaign_id {
        crate::signoff::db::ensure_not_signed_off(&mut tx, campaign_id).await?;
    }
    if status != Status::Failed {
        return Err(AppError::Conflict(format!(
            "Only a failed revocation can be acknowledged; this one is {}.",
            status.label().to_lowercase()
        )));
    }
    let now = format_timestamp(clock.now());
    let changed = sqlx::query(
        "UPDATE revocations SET acknowledged_at = $1, acknowledged_by = $2, \
         acknowledged_reason = $3 WHERE id = $4 AND status = 'failed' \
         AND acknowledged_at IS NULL",
    )
    .bind(&now)
    .bind(admin)
    .bind(reason)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed != 1 {
        return Err(AppError::Conflict(
            "This failed revocation is acknowledged already.".into(),
        ));
    }
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("revocation.acknowledged", format!("revocation:{id}")).details(json!({
            "campaign": campaign_id,
            "reason": reason,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

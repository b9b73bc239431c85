//! Deleting a server is the one revocation that cannot be undone, so an admin confirms each by
//! typing the server's name, checked here against what the campaign reviewed.

use super::{Deleted, Status};
use crate::{db::Db, error::AppError, review_items::ItemKind};

/// The revocation ids to delete instead of quarantine, once every typed name matches.
pub async fn deletions(
    db: &Db,
    campaign_id: i64,
    requested: &[Deleted],
) -> Result<Vec<i64>, AppError> {
    if requested.is_empty() {
        return Ok(Vec::new());
    }
    let servers = super::db::list(
        db,
        Some(campaign_id),
        Some(Status::ToRevoke),
        Some(ItemKind::Server),
        i64::MAX,
    )
    .await?;
    let mut ids = Vec::with_capacity(requested.len());
    for wanted in requested {
        let Some(row) = servers.iter().find(|r| r.id == wanted.id) else {
            return Err(AppError::Validation(format!(
                "Revocation {} is not a server waiting in this campaign; nothing was applied.",
                wanted.id
            )));
        };
        let items =
            crate::review_items::db::items_where(db, "i.id = $1", row.item_id, Some(1)).await?;
        let name = items
            .first()
            .and_then(|item| item.server_name.clone())
            .unwrap_or_default();
        if name.is_empty() || wanted.confirm_name.trim() != name {
            return Err(AppError::Validation(format!(
                "To delete server {} instead of quarantining it, type its name exactly \
                 (\"{name}\"); nothing was applied.",
                row.server_id.unwrap_or_default()
            )));
        }
        ids.push(row.id);
    }
    Ok(ids)
}

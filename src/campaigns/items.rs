//! A campaign's items for the dashboard: filtered by reviewer, kind, decision and flag, and
//! paged, all in SQL (a page costs the same at 50 items or 20,000), as the review queue does.

use super::{ItemsPage, ItemsQuery, ITEMS_PAGE_SIZE};
use crate::{
    db::Db,
    review_items::{
        db::{items_by, push_flag_filter, ITEMS},
        flag_label, Decision, ItemKind,
    },
    sql::Sql,
};

/// The list's `WHERE`: the campaign's items, narrowed by `query`. Values the list does not
/// know (a kind or decision nobody offers) filter nothing, as in the queue.
fn push_filters(sql: &mut Sql, query: &ItemsQuery) {
    sql.push(" WHERE i.campaign_id = ").int(query.campaign);
    if let Some(reviewer) = query
        .reviewer
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        sql.push(" AND i.reviewer_email = ")
            .text(&reviewer.to_lowercase());
    }
    if let Some(kind) = query.kind.as_deref().and_then(ItemKind::from_slug) {
        sql.push(" AND i.kind = ").text(kind.slug());
    }
    match query.decision.as_deref() {
        Some("undecided") => {
            sql.push(" AND i.decision IS NULL");
        }
        Some(slug) => {
            if let Some(decision) = Decision::from_slug(slug) {
                sql.push(" AND i.decision = ").text(decision.slug());
            }
        }
        None => {}
    }
    push_flag_filter(sql, query.flag.as_deref());
}

/// One page of a campaign's items matching `query`, in item order, flags as labels.
pub async fn page(db: &Db, query: &ItemsQuery) -> Result<ItemsPage, sqlx::Error> {
    let mut count = Sql::new(db);
    count.push("SELECT COUNT(*) FROM review_items i JOIN campaigns c ON c.id = i.campaign_id");
    push_filters(&mut count, query);
    let matching = usize::try_from(count.count(db).await?).unwrap_or(0);
    let pages = matching.div_ceil(ITEMS_PAGE_SIZE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let mut select = Sql::new(db);
    select.push(ITEMS);
    push_filters(&mut select, query);
    select
        .push(" ORDER BY i.id LIMIT ")
        .int(ITEMS_PAGE_SIZE as i64)
        .push(" OFFSET ")
        .int(((page - 1) * ITEMS_PAGE_SIZE) as i64);
    let mut items = items_by(db, select).await?;
    for item in &mut items {
        item.flags = item.flags.iter().map(|f| flag_label(f)).collect();
    }
    Ok(ItemsPage {
        items,
        matching,
        page,
        pages,
    })
}

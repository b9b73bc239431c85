//! Reading the queue and recording decisions. Every change checks, inside its transaction,
//! that the item is the caller's, that its campaign is open and that nobody changed the item
//! since the caller saw it; its audit event commits with it.

use serde_json::json;

use super::{Queue, QueueCampaign, QueueQuery, MAX_TEXT, PAGE_SIZE};
use crate::{
    audit::{self, Actor, Event},
    campaigns::Status,
    clock::{format_timestamp, Clock},
    db::{Db, Tx},
    error::AppError,
    review_items::{
        db::{
            clear_decision, item_in, items_by, items_where, lock_campaign, push_flag_filter,
            set_decision, Decided, Expect, ITEMS,
        },
        flag_label, DecidedVia, Decision, ItemKind, ItemView,
    },
    sql::Sql,
};

/// `(id, name, due_on, revoke_needs_justification, privileged_needs_justification,
/// revocation_mode, items, decided)`.
type CampaignRow = (i64, String, String, i64, i64, String, i64, i64);

/// The queue's `WHERE`: the reviewer's items in open campaigns, narrowed by `query`.
fn push_filters(sql: &mut Sql, reviewer: &str, query: &QueueQuery) {
    sql.push(" WHERE i.reviewer_email = ")
        .text(reviewer)
        .push(" AND c.status = 'active'");
    if let Some(campaign) = query.campaign {
        sql.push(" AND i.campaign_id = ").int(campaign);
    }
    if let Some(kind) = query.kind.as_deref().and_then(ItemKind::from_slug) {
        sql.push(" AND i.kind = ").text(kind.slug());
    }
    match query.status.as_deref() {
        Some("undecided") => sql.push(" AND i.decision IS NULL"),
        Some("decided") => sql.push(" AND i.decision IS NOT NULL"),
        _ => sql,
    };
    push_flag_filter(sql, query.flag.as_deref());
    if let Some(needle) = crate::search::term(query.search.as_deref()) {
        sql.push(" AND (").contains(
            &["i.user_email", "i.user_name", "i.server_name", "i.access"],
            &needle,
        );
        if let Ok(id) = needle.parse::<i64>() {
            sql.push(" OR i.server_id = ").int(id);
        }
        sql.push(")");
    }
}

/// The group heading as SQL, matching [`heading`]: the person (`ItemView::subject`), or the
/// server with its id.
fn heading_sql(by_server: bool) -> &'static str {
    if by_server {
        "CASE WHEN i.server_name IS NULL OR i.server_id IS NULL THEN 'Account-wide' \
         ELSE i.server_name || ' (' || CAST(i.server_id AS TEXT) || ')' END"
    } else {
        "CASE WHEN i.user_email IS NULL THEN COALESCE(i.server_name, 'item ' || \
         CAST(i.id AS TEXT)) WHEN i.user_name IS NULL THEN i.user_email \
         ELSE i.user_name || ' <' || i.user_email || '>' END"
    }
}

fn heading(item: &ItemView, by_server: bool) -> String {
    if by_server {
        match (&item.server_name, item.server_id) {
            (Some(name), Some(id)) => format!("{name} ({id})"),
            _ => "Account-wide".to_string(),
        }
    } else {
        item.subject()
    }
}

/// The open campaigns with items for `reviewer`, soonest due first, with how many are decided.
pub async fn open_campaigns(db: &Db, reviewer: &str) -> Result<Vec<QueueCampaign>, sqlx::Error> {
    let rows: Vec<CampaignRow> = open_campaigns_select(db, reviewer).fetch(db).await?;
    let campaigns: Vec<QueueCampaign> = rows
        .into_iter()
        .map(
            |(id, name, due_on, revoke, privileged, mode, items, decided)| QueueCampaign {
                id,
                name,
                due_on,
                revoke_needs_justification: revoke != 0,
                privileged_needs_justification: privileged != 0,
                items,
                decided,
                revocation_mode: crate::revocations::Mode::from_slug(&mode).unwrap_or_default(),
            },
        )
        .collect();
    Ok(campaigns)
}

/// One page of a reviewer's items in open campaigns, filtered, sorted and paged in SQL (so a
/// page costs the same at 50 items or 5,000), then grouped.
pub async fn queue(db: &Db, reviewer: &str, query: &QueueQuery) -> Result<Queue, sqlx::Error> {
    let campaigns = open_campaigns(db, reviewer).await?;
    let total = campaigns.iter().map(|c| c.items).sum();
    let decided = campaigns.iter().map(|c| c.decided).sum();

    // Unfiltered (the usual first look), the campaigns' counts are the count.
    let filtered = QueueQuery {
        campaign: None,
        group: None,
        page: None,
        ..query.clone()
    } != QueueQuery::default();
    let matching = if filtered {
        let mut count = Sql::new(db);
        count.push("SELECT COUNT(*) FROM review_items i JOIN campaigns c ON c.id = i.campaign_id");
        push_filters(&mut count, reviewer, query);
        count.count(db).await?
    } else {
        campaigns
            .iter()
            .filter(|c| query.campaign.is_none_or(|id| id == c.id))
            .map(|c| c.items)
            .sum()
    };
    let matching = usize::try_from(matching).unwrap_or(0);
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);

    let by_server = query.group.as_deref() == Some("server");
    let mut items = items_by(db, page_select(db, reviewer, query, page, matching)).await?;
    if reads_backward(page, matching) {
        items.reverse();
    }
    let mut groups: Vec<(String, Vec<ItemView>)> = Vec::new();
    for mut item in items {
        item.flags = item.flags.iter().map(|f| flag_label(f)).collect();
        let head = heading(&item, by_server);
        match groups.last_mut() {
            Some((last, list)) if *last == head => list.push(item),
            _ => groups.push((head, vec![item])),
        }
    }
    Ok(Queue {
        reviewer: reviewer.to_string(),
        campaigns,
        groups,
        matching,
        page,
        pages,
        total,
        decided,
        context: Default::default(),
    })
}

/// One page of `reviewer`'s queue with what the inventory says about its people and servers:
/// all the queue page shows. `configured_allowlist` is the configuration's webhook host
/// allowlist (see [`super::context::load`]).
pub async fn queue_with_context(
    db: &Db,
    reviewer: &str,
    query: &QueueQuery,
    configured_allowlist: &[String],
) -> Result<Queue, sqlx::Error> {
    let mut queue = self::queue(db, reviewer, query).await?;
    let items: Vec<&ItemView> = queue.groups.iter().flat_map(|(_, i)| i).collect();
    queue.context = super::context::load(db, &items, configured_allowlist).await?;
    Ok(queue)
}

/// One page of `reviewer`'s queue of `matching` items: filtered, in reading order (group
/// heading, kind, server, id), paged. The order is that of the `review_items_queue_by_*`
/// indexes, so a page is read from the index and the engine stops after its rows, instead of
/// sorting all of a reviewer's items first. A page past the middle is read from the end, in
/// reverse ([`reads_backward`]), so no page reads more than half the index.
pub fn page_select(
    db: &Db,
    reviewer: &str,
    query: &QueueQuery,
    page: usize,
    matching: usize,
) -> Sql {
    let by_server = query.group.as_deref() == Some("server");
    let backward = reads_backward(page, matching);
    let direction = if backward { " DESC" } else { "" };
    let mut select = Sql::new(db);
    let kind_rank = ItemKind::ALL
        .iter()
        .enumerate()
        .map(|(rank, kind)| format!("WHEN '{}' THEN {rank} ", kind.slug()))
        .collect::<String>();
    let order = format!(
        " ORDER BY {}{direction}, CASE i.kind {kind_rank}END{direction}, \
         COALESCE(i.server_id, -1){direction}, i.id{direction} LIMIT ",
        select.lower_sort_key(heading_sql(by_server))
    );
    select.push(ITEMS);
    push_filters(&mut select, reviewer, query);
    let skipped = page.saturating_sub(1) * PAGE_SIZE;
    let (limit, offset) = if backward {
        // The rows of this page, counted from the end.
        let rows = matching.saturating_sub(skipped).min(PAGE_SIZE);
        (rows, matching.saturating_sub(skipped + rows))
    } else {
        (PAGE_SIZE, skipped)
    };
    select
        .push(&order)
        .int(limit as i64)
        .push(" OFFSET ")
        .int(offset as i64);
    select
}

/// The counts of [`open_campaigns`]: counted per campaign from the `review_items_reviewer`
/// index alone (email, campaign, decision), in its order, then joined to the campaigns.
pub fn open_campaigns_select(db: &Db, reviewer: &str) -> Sql {
    let mut sql = Sql::new(db);
    sql.push(
        "SELECT c.id, c.name, c.due_on, c.revoke_needs_justification, \
         c.privileged_needs_justification, c.revocation_mode, n.items, n.decided \
         FROM (SELECT campaign_id, COUNT(*) AS items, COUNT(decision) AS decided \
         FROM review_items WHERE reviewer_email = ",
    )
    .text(reviewer)
    .push(
        " GROUP BY campaign_id) n JOIN campaigns c ON c.id = n.campaign_id \
         WHERE c.status = 'active' ORDER BY c.due_on, c.id",
    );
    sql
}

/// Whether [`page_select`] reads `page` from the end: when fewer rows follow it than precede
/// it. (Every sort key is non-null and the id breaks ties, so `DESC` is exactly the reverse.)
pub fn reads_backward(page: usize, matching: usize) -> bool {
    let before = page.saturating_sub(1) * PAGE_SIZE;
    let after = matching.saturating_sub(before + PAGE_SIZE);
    after < before
}

/// Trims a justification or reason and checks its length.
pub(crate) fn text(value: &str, what: &str) -> Result<Option<String>, AppError> {
    let value = value.trim();
    if value.chars().count() > MAX_TEXT {
        return Err(AppError::Validation(format!(
            "The {what} is longer than {MAX_TEXT} characters."
        )));
    }
    Ok((!value.is_empty()).then(|| value.to_string()))
}

/// Justification rules of the item's campaign.
pub(super) async fn needs_justification(
    tx: &mut Tx,
    campaign_id: i64,
) -> Result<(bool, bool), sqlx::Error> {
    let (revoke, privileged): (i64, i64) = sqlx::query_as(
        "SELECT revoke_needs_justification, privileged_needs_justification FROM campaigns \
         WHERE id = $1",
    )
    .bind(campaign_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok((revoke != 0, privileged != 0))
}

pub(super) fn closed_message() -> &'static str {
    "This campaign is closed: its decisions are final and can no longer change."
}

pub(super) async fn require_open(tx: &mut Tx, campaign_id: i64) -> Result<(), AppError> {
    match lock_campaign(tx, campaign_id, false).await? {
        Some(Status::Active) => Ok(()),
        Some(Status::Closed) => Err(AppError::Conflict(closed_message().into())),
        _ => Err(AppError::Conflict("This campaign is not open.".into())),
    }
}

pub(super) fn check_justification(
    item: &ItemView,
    decision: Decision,
    justification: Option<&str>,
    (revoke_needs, privileged_needs): (bool, bool),
) -> Result<(), AppError> {
    if justification.is_some() {
        return Ok(());
    }
    match decision {
        Decision::Revoke if revoke_needs => Err(AppError::Validation(
            "Say why this access should be revoked: this campaign needs a justification for \
             every revoke."
                .into(),
        )),
        Decision::Approve if privileged_needs && item.privileged => {
            Err(AppError::Validation(format!(
                "{} is an admin or owner access: this campaign needs a justification to keep it.",
                item.what()
            )))
        }
        _ => Ok(()),
    }
}

fn conflict_message(item: &ItemView) -> String {
    match (&item.decision, &item.decided_by, &item.decided_at) {
        (Some(decision), by, at) => {
            format!(
            "This item changed while you were looking at it: it is now “{}”{}{}. Reload to see \
             the current state; your decision was not recorded.",
            decision.label(),
            by.as_deref().map(|b| format!(" by {b}")).unwrap_or_default(),
            at.as_deref().map(|a| format!(" at {a}")).unwrap_or_default(),
        )
        }
        (None, _, _) => "This item changed while you were looking at it (its decision was undone \
             or it was reassigned). Reload to see the current state; your decision was not \
             recorded."
            .to_string(),
    }
}

pub(super) fn snapshot(item: &ItemView) -> serde_json::Value {
    json!({
        "decision": item.decision.map(Decision::slug),
        "justification": item.justification,
        "reviewer": item.reviewer,
    })
}

/// Records one decision. `version` is the item's version the reviewer saw: if the item
/// changed since, nothing is written and the caller learns what changed.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site, each value named there"
)]
pub async fn decide(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    reviewer: &str,
    item_id: i64,
    decision: Decision,
    justification: &str,
    version: i64,
) -> Result<ItemView, AppError> {
    let justification = text(justification, "justification")?;
    let mut tx = db.begin().await?;
    let item = item_in(&mut tx, item_id).await?.ok_or(AppError::NotFound)?;
    if item.reviewer != reviewer {
        return Err(AppError::Forbidden);
    }
    // Assignment keeps people off their own access, but a provider may tell us later that
    // two emails are one person: check again where the decision is made.
    let mut asked = vec![reviewer];
    asked.extend(item.user_email.as_deref());
    let people = crate::people::People::load_for(&mut tx, &asked).await?;
    if people.owns(item.user_email.as_deref(), reviewer) {
        return Err(own_access(&item));
    }
    require_open(&mut tx, item.campaign_id).await?;
    if item.version != version {
        return Err(AppError::Conflict(conflict_message(&item)));
    }
    let rules = needs_justification(&mut tx, item.campaign_id).await?;
    check_justification(&item, decision, justification.as_deref(), rules)?;
    let now = format_timestamp(clock.now());
    let decided = Decided {
        decision,
        justification: justification.as_deref(),
        by: Some(reviewer),
        via: DecidedVia::Reviewer,
        at: &now,
    };
    let updated = set_decision(
        &mut tx,
        item_id,
        Expect::VersionOfDecider(version),
        &decided,
    )
    .await?;
    if updated == 0 {
        // Another transaction got there first (PostgreSQL re-checks the row after waiting).
        tx.rollback().await?;
        let current = items_where(db, "i.id = $1", item_id, None).await?;
        let message = match current.first() {
            Some(item) if item.reviewer == reviewer => conflict_message(item),
            // Handed to someone else meanwhile: their decision is not the caller's to see.
            Some(_) => "This item was handed to another reviewer while you were looking at \
                        it; your decision was not recorded."
                .to_string(),
            None => "This item no longer exists.".to_string(),
        };
        return Err(AppError::Conflict(message));
    }
    let after = item_in(&mut tx, item_id).await?.ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("review.decided", format!("item:{item_id}")).details(json!({
            "campaign": item.campaign_id,
            "before": snapshot(&item),
            "after": snapshot(&after),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// The refusal of a decision about the reviewer's own access (an admin hands it on).
pub(super) fn own_access(item: &ItemView) -> AppError {
    AppError::Validation(format!(
        "{} is your own access ({}): nobody decides about their own access. Hand it to \
         another reviewer; nothing was recorded.",
        item.what(),
        item.subject()
    ))
}

/// Takes back a decision while the campaign is open.
pub async fn undo(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    reviewer: &str,
    item_id: i64,
    version: i64,
) -> Result<ItemView, AppError> {
    let mut tx = db.begin().await?;
    let item = item_in(&mut tx, item_id).await?.ok_or(AppError::NotFound)?;
    if item.reviewer != reviewer {
        return Err(AppError::Forbidden);
    }
    require_open(&mut tx, item.campaign_id).await?;
    if item.version != version {
        return Err(AppError::Conflict(conflict_message(&item)));
    }
    if item.decision.is_none() {
        return Err(AppError::Conflict(
            "This item has no decision to undo.".into(),
        ));
    }
    let updated = clear_decision(&mut tx, item_id, version).await?;
    if updated == 0 {
        return Err(AppError::Conflict(
            "This item changed while you were looking at it. Reload to see the current state."
                .into(),
        ));
    }
    let after = item_in(&mut tx, item_id).await?.ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        clock,
        actor,
        &Event::new("review.undone", format!("item:{item_id}")).details(json!({
            "campaign": item.campaign_id,
            "before": snapshot(&item),
            "after": snapshot(&after),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

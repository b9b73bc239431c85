//! The Audit page's queries: a page of events matching a [`Search`], newest first, that stays
//! fast at a million events on both engines (`bench audit` measures it).
//!
//! Every page is a keyset on `seq`, never an OFFSET. How the rows are found depends on the
//! filters, because "the newest 50 with X" is cheap only when an index yields X in `seq` order:
//!
//! * An exact action, subject or actor is an equality on a `(column, seq)` index (migration
//!   0015): a seek and 51 steps.
//! * An action or subject prefix, or an actor substring, is first resolved to the distinct
//!   values present (a loose index scan: one seek per distinct value). Up to [`MAX_VALUES`] of
//!   them, each value's newest 51 are read by its own seek and merged; more values than that
//!   mean a common filter, read by walking `seq` backwards until 51 match.
//! * A time range of up to [`RANGE_SORTED`] events, or one with more than that many events
//!   after it, is read through the `(occurred_at, seq)` index and sorted; a wide, recent one
//!   by walking `seq` backwards.
//! * Free text matches actions and actors through their distinct values, and the subject row
//!   by row: a common word is found at once, a rare one reads the whole log.
//!
//! The count is capped ([`COUNT_CAP`]): "more than 1000" costs at most that many index
//! entries, where an exact count of a common filter would read the whole table per page.

use super::{
    search::{
        contains_pattern, prefix_end, AuditEventView, AuditLogPage, Match, Matching, Page, Search,
        PAGE_SIZE,
    },
    search_sql::{distinct, push_filters, Column, Filter, Sql, ACTOR},
};
use crate::db::Db;

/// Most distinct values a prefix or substring filter is resolved to before it is read as a
/// plain predicate instead.
pub const MAX_VALUES: usize = 200;

/// Matching events counted at most.
pub const COUNT_CAP: i64 = 1000;

/// Widest time range (in events) read through the `occurred_at` index and sorted.
const RANGE_SORTED: i64 = 50_000;

const COLUMNS: &str = "a.seq, a.occurred_at, a.actor_kind, a.actor_sub, a.actor_email, a.action, \
                       a.subject, CAST(a.details AS TEXT), a.hash";

type Row = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
);

/// An action or subject filter as exact values, or as a plain prefix when there are many.
async fn resolve_match(db: &Db, column: Column, m: &Match) -> Result<Filter, sqlx::Error> {
    Ok(match m {
        Match::Exact(value) => Filter::AnyOf(vec![(column, value.clone())]),
        Match::Prefix(prefix) => {
            let end = prefix_end(prefix);
            let values = distinct(
                db,
                column,
                Some(prefix),
                end.as_deref(),
                None,
                MAX_VALUES + 1,
            )
            .await?;
            if values.len() > MAX_VALUES {
                Filter::Prefix(column, prefix.clone())
            } else {
                Filter::AnyOf(values.into_iter().map(|v| (column, v)).collect())
            }
        }
    })
}

/// The actors whose shown name contains `needle`, or a plain predicate when there are many.
async fn resolve_actor(db: &Db, needle: &str) -> Result<Filter, sqlx::Error> {
    let pattern = contains_pattern(needle);
    let mut values: Vec<(Column, String)> = Vec::new();
    for column in [Column::ActorEmail, Column::SystemActor] {
        let found = distinct(db, column, None, None, Some(&pattern), MAX_VALUES + 1).await?;
        values.extend(found.into_iter().map(|v| (column, v)));
        if values.len() > MAX_VALUES {
            return Ok(Filter::Like(ACTOR, pattern));
        }
    }
    Ok(Filter::AnyOf(values))
}

/// Free text: the subject is matched row by row (it has as many values as events); actions
/// and actors are few, so they are resolved to their values first.
async fn resolve_text(db: &Db, needle: &str) -> Result<Filter, sqlx::Error> {
    let pattern = contains_pattern(needle);
    let actions = distinct(
        db,
        Column::Action,
        None,
        None,
        Some(&pattern),
        MAX_VALUES + 1,
    )
    .await?;
    let actions = if actions.len() > MAX_VALUES {
        Filter::Like("action", pattern.clone())
    } else {
        Filter::AnyOf(actions.into_iter().map(|a| (Column::Action, a)).collect())
    };
    let actors = resolve_actor(db, needle).await?;
    Ok(Filter::Text {
        pattern,
        also: vec![actions, actors],
    })
}

/// Which way the page is read.
#[derive(Clone, Copy)]
enum Direction {
    Older(Option<i64>),
    Newer(i64),
}

impl Direction {
    fn push_bound(self, sql: &mut Sql) {
        match self {
            Direction::Older(None) => {}
            Direction::Older(Some(before)) => {
                sql.push(" AND seq < ").int(before);
            }
            Direction::Newer(after) => {
                sql.push(" AND seq > ").int(after);
            }
        }
    }

    fn order(self) -> &'static str {
        match self {
            Direction::Older(_) => "DESC",
            Direction::Newer(_) => "ASC",
        }
    }
}

/// Up to `PAGE_SIZE + 1` events in `direction`, in that order.
async fn read(
    db: &Db,
    driver: Option<&[(Column, String)]>,
    rest: &[&Filter],
    sort_matches: bool,
    direction: Direction,
) -> Result<Vec<Row>, sqlx::Error> {
    let order = direction.order();
    let mut sql = Sql::new(db);
    sql.push("SELECT ")
        .push(COLUMNS)
        .push(" FROM audit_events a WHERE ");
    match driver {
        // Each value's newest (or oldest) page by its own index seek, merged: the engines
        // cannot walk several ranges of one index in `seq` order.
        Some(values) => {
            sql.push("a.seq IN (SELECT seq FROM (");
            for (i, (column, value)) in values.iter().enumerate() {
                if i > 0 {
                    sql.push(" UNION ALL ");
                }
                sql.push("SELECT seq FROM (SELECT seq FROM audit_events WHERE ");
                column.push_in(&mut sql, std::slice::from_ref(value));
                direction.push_bound(&mut sql);
                push_filters(&mut sql, rest);
                sql.push(&format!(" ORDER BY seq {order} LIMIT "))
                    .int(PAGE_SIZE + 1)
                    .push(&format!(") b{i}"));
            }
            sql.push(&format!(") u ORDER BY seq {order} LIMIT "))
                .int(PAGE_SIZE + 1)
                .push(&format!(") ORDER BY a.seq {order}"));
        }
        None => {
            sql.push("1 = 1");
            direction.push_bound(&mut sql);
            push_filters(&mut sql, rest);
            // `seq + 0` keeps the engine from walking the primary key instead of the index.
            let key = if sort_matches { "a.seq + 0" } else { "a.seq" };
            sql.push(&format!(" ORDER BY {key} {order} LIMIT "))
                .int(PAGE_SIZE + 1);
        }
    }
    sql.fetch(db).await
}

/// Matching events, counted up to [`COUNT_CAP`] + 1.
async fn count_capped(
    db: &Db,
    driver: Option<&[(Column, String)]>,
    rest: &[&Filter],
) -> Result<i64, sqlx::Error> {
    let mut sql = Sql::new(db);
    sql.push("SELECT COUNT(*) FROM (");
    match driver {
        Some(values) => {
            for (i, (column, value)) in values.iter().enumerate() {
                if i > 0 {
                    sql.push(" UNION ALL ");
                }
                sql.push("SELECT seq FROM (SELECT seq FROM audit_events WHERE ");
                column.push_in(&mut sql, std::slice::from_ref(value));
                push_filters(&mut sql, rest);
                sql.push(" LIMIT ")
                    .int(COUNT_CAP + 1)
                    .push(&format!(") b{i}"));
            }
        }
        None => {
            sql.push("SELECT seq FROM audit_events WHERE 1 = 1");
            push_filters(&mut sql, rest);
        }
    }
    sql.push(" LIMIT ").int(COUNT_CAP + 1).push(") c");
    let rows: Vec<(i64,)> = sql.fetch(db).await?;
    Ok(rows.first().map_or(0, |(n,)| *n))
}

/// Events in `[from, to)`, counted up to [`RANGE_SORTED`] + 1 on the `(occurred_at, seq)`
/// index alone.
async fn count_range(db: &Db, from: Option<&str>, to: Option<&str>) -> Result<i64, sqlx::Error> {
    let mut sql = Sql::new(db);
    sql.push("SELECT COUNT(*) FROM (SELECT seq FROM audit_events WHERE ");
    Filter::Time {
        from: from.map(str::to_string),
        to: to.map(str::to_string),
        indexed: true,
    }
    .push(&mut sql);
    sql.push(" LIMIT ").int(RANGE_SORTED + 1).push(") c");
    let rows: Vec<(i64,)> = sql.fetch(db).await?;
    Ok(rows.first().map_or(0, |(n,)| *n))
}

fn view(row: Row) -> AuditEventView {
    let (seq, occurred_at, kind, sub, email, action, subject, details, hash) = row;
    AuditEventView {
        seq,
        occurred_at,
        actor: match (kind.as_str(), email) {
            ("person", Some(email)) => email,
            _ => format!("system:{}", sub.unwrap_or_default()),
        },
        action,
        subject,
        details,
        hash,
    }
}

/// One page of the events matching `search`, newest first.
#[tracing::instrument(skip_all, fields(filtered = search.is_filtered()))]
pub async fn page(db: &Db, search: &Search) -> Result<AuditLogPage, sqlx::Error> {
    // seq runs 1, 2, 3 … without gaps (the chain check proves it), so the head is the total.
    let (total,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM audit_events")
        .fetch_one(db.pool())
        .await?;
    let total = total.unwrap_or(0);

    let mut filters: Vec<Filter> = Vec::new();
    if let Some(m) = &search.action {
        filters.push(resolve_match(db, Column::Action, m).await?);
    }
    if let Some(m) = &search.subject {
        filters.push(resolve_match(db, Column::Subject, m).await?);
    }
    if let Some(needle) = &search.actor {
        filters.push(resolve_actor(db, needle).await?);
    }
    if search.from.is_some() || search.to.is_some() {
        filters.push(Filter::Time {
            from: search.from.map(|d| d.start()),
            to: search.to.map(|d| d.end()),
            indexed: false,
        });
    }
    if let Some(text) = &search.text {
        filters.push(resolve_text(db, text).await?);
    }
    let filtered = !filters.is_empty();
    let empty = |newest: bool| AuditLogPage {
        events: Vec::new(),
        older: None,
        newer: None,
        newest,
        total,
        matching: filtered.then_some(Matching::Exactly(0)),
    };
    if filters
        .iter()
        .any(|f| matches!(f, Filter::AnyOf(values) if values.is_empty()))
    {
        return Ok(empty(search.page == Page::Newest));
    }
    // The exact filter with the fewest values leads; the others are checked on its rows.
    let driver = filters
        .iter()
        .enumerate()
        .filter_map(|(i, f)| match f {
            Filter::AnyOf(values) => Some((i, values.len())),
            _ => None,
        })
        .min_by_key(|(_, n)| *n)
        .map(|(i, _)| i)
        // Every branch repeats the other filters' values; past this many parameters (SQLite
        // allows 32,766) one plain query is the safer plan.
        .filter(|&i| {
            let values = |f: &Filter| match f {
                Filter::AnyOf(values) => values.len(),
                _ => 3,
            };
            let others: usize = filters.iter().map(values).sum::<usize>() - values(&filters[i]);
            values(&filters[i]) * (others + 2) <= 10_000
        });
    // Without an exact filter to lead, a time range is read through its index and sorted
    // when it is narrow, or far from the newest events; otherwise by walking `seq`.
    let mut sort_matches = false;
    if driver.is_none() {
        if let Some(Filter::Time { from, to, indexed }) = filters
            .iter_mut()
            .find(|f| matches!(f, Filter::Time { .. }))
        {
            // Walking `seq` from the newest first passes every event after the range; when
            // that is many, sorting even a wide range is cheaper.
            let narrow = count_range(db, from.as_deref(), to.as_deref()).await? <= RANGE_SORTED
                || match to {
                    Some(to) => count_range(db, Some(to), None).await? > RANGE_SORTED,
                    None => false,
                };
            *indexed = narrow;
            sort_matches = narrow;
        }
    }
    let driver_values = driver.and_then(|i| match &filters[i] {
        Filter::AnyOf(values) => Some(values.as_slice()),
        _ => None,
    });
    let rest: Vec<&Filter> = filters
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != driver)
        .map(|(_, f)| f)
        .collect();

    let (mut rows, direction) = match search.page {
        Page::Newest => (
            read(
                db,
                driver_values,
                &rest,
                sort_matches,
                Direction::Older(None),
            )
            .await?,
            Direction::Older(None),
        ),
        Page::Before(seq) => (
            read(
                db,
                driver_values,
                &rest,
                sort_matches,
                Direction::Older(Some(seq)),
            )
            .await?,
            Direction::Older(Some(seq)),
        ),
        Page::After(seq) => {
            let newer = read(
                db,
                driver_values,
                &rest,
                sort_matches,
                Direction::Newer(seq),
            )
            .await?;
            if newer.len() as i64 > PAGE_SIZE {
                (newer, Direction::Newer(seq))
            } else {
                // Fewer than a page newer: that is the newest page, shown whole.
                (
                    read(
                        db,
                        driver_values,
                        &rest,
                        sort_matches,
                        Direction::Older(None),
                    )
                    .await?,
                    Direction::Older(None),
                )
            }
        }
    };
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
    if matches!(direction, Direction::Newer(_)) {
        rows.reverse();
    }
    let events: Vec<AuditEventView> = rows.into_iter().map(view).collect();
    let first = events.first().map(|e| e.seq);
    let last = events.last().map(|e| e.seq);
    let (older, newer, newest) = match direction {
        Direction::Older(None) => (last.filter(|_| more), None, true),
        Direction::Older(Some(before)) => (
            last.filter(|_| more),
            Some(first.unwrap_or(before - 1)),
            false,
        ),
        // Read upwards with one more than a page: there are newer events, and the one this
        // page was read after is older.
        Direction::Newer(_) => (last, first, false),
    };

    let matching = if !filtered {
        None
    } else if search.text.is_some() {
        // Counting free-text matches means reading the whole log; count only what is known.
        Some(if newest && older.is_none() {
            Matching::Exactly(events.len() as i64)
        } else {
            Matching::Unknown
        })
    } else {
        // Counting needs no order, so a time range is always read through its index here.
        let indexed_time = rest.iter().find_map(|f| match f {
            Filter::Time { from, to, .. } => Some(Filter::Time {
                from: from.clone(),
                to: to.clone(),
                indexed: true,
            }),
            _ => None,
        });
        let count_rest: Vec<&Filter> = rest
            .iter()
            .map(|f| match (f, &indexed_time) {
                (Filter::Time { .. }, Some(time)) => time,
                _ => *f,
            })
            .collect();
        let n = count_capped(db, driver_values, &count_rest).await?;
        Some(if n > COUNT_CAP {
            Matching::AtLeast(COUNT_CAP)
        } else {
            Matching::Exactly(n)
        })
    };
    Ok(AuditLogPage {
        events,
        older,
        newer,
        newest,
        total,
        matching,
    })
}

/// The distinct actions in the log, for the filter's suggestions.
pub async fn actions(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    distinct(db, Column::Action, None, None, None, 500).await
}

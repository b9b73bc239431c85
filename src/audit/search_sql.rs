//! The SQL pieces of the Audit page's queries (`search_db`): the columns exact values are
//! looked up in, the filters as SQL, and the loose index scan that lists a column's distinct
//! values.

use crate::db::Db;
pub(super) use crate::sql::Sql;

/// The actor as the page shows it, in SQL.
pub(super) const ACTOR: &str = "COALESCE(actor_email, 'system:' || COALESCE(actor_sub, ''))";

/// A column an exact value is looked up in, each with a `(…, seq)` index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
    Action,
    Subject,
    ActorEmail,
    /// `actor_sub` of a system actor (`actor_kind = 'system'`).
    SystemActor,
}

impl Column {
    pub(super) fn name(self) -> &'static str {
        match self {
            Column::Action => "action",
            Column::Subject => "subject",
            Column::ActorEmail => "actor_email",
            Column::SystemActor => "actor_sub",
        }
    }

    /// `column = $n` (or `IN (…)`), restricted to system actors for [`Column::SystemActor`].
    pub(super) fn push_in(self, sql: &mut Sql, values: &[String]) {
        sql.push("(");
        if self == Column::SystemActor {
            sql.push("actor_kind = 'system' AND ");
        }
        sql.push(self.name());
        if let [value] = values {
            sql.push(" = ").text(value);
        } else {
            sql.push(" IN (");
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.text(value);
            }
            sql.push(")");
        }
        sql.push(")");
    }
}

/// A filter as the queries use it.
pub(super) enum Filter {
    /// One of these exact values (never empty).
    AnyOf(Vec<(Column, String)>),
    /// `substr(column, 1, n) = prefix`: too many values to look up one by one. Written so
    /// that no index serves it, since the engine would otherwise read the whole range and
    /// sort it.
    Prefix(Column, String),
    /// `expression LIKE pattern`, any case.
    Like(&'static str, String),
    /// `occurred_at` in `[from, to)`. Read through its index only when the range is narrow
    /// (`indexed`); otherwise written so that no index serves it, and `seq` is walked.
    Time {
        from: Option<String>,
        to: Option<String>,
        indexed: bool,
    },
    /// Free text: the subject contains the pattern, or one of `also` holds (the actions and
    /// actors containing it, resolved like the filters).
    Text { pattern: String, also: Vec<Filter> },
}

impl Filter {
    pub(super) fn push(&self, sql: &mut Sql) {
        match self {
            Filter::AnyOf(values) => {
                sql.push("(");
                for (i, column) in [
                    Column::Action,
                    Column::Subject,
                    Column::ActorEmail,
                    Column::SystemActor,
                ]
                .into_iter()
                .filter(|column| values.iter().any(|(c, _)| c == column))
                .enumerate()
                {
                    if i > 0 {
                        sql.push(" OR ");
                    }
                    let of_column: Vec<String> = values
                        .iter()
                        .filter(|(c, _)| *c == column)
                        .map(|(_, v)| v.clone())
                        .collect();
                    column.push_in(sql, &of_column);
                }
                sql.push(")");
            }
            Filter::Prefix(column, prefix) => {
                // A literal length: PostgreSQL has no substr(text, integer, bigint).
                let length = prefix.chars().count();
                sql.push(&format!("substr({}, 1, {length}) = ", column.name()))
                    .text(prefix);
            }
            Filter::Like(expression, pattern) => {
                let ilike = sql.ilike;
                sql.push(&format!("{expression} {ilike} "))
                    .text(pattern)
                    .push(" ESCAPE '\\'");
            }
            Filter::Time { from, to, indexed } => {
                let column = if *indexed {
                    "occurred_at"
                } else {
                    "(occurred_at || '')"
                };
                sql.push("(1 = 1");
                if let Some(from) = from {
                    sql.push(&format!(" AND {column} >= ")).text(from);
                }
                if let Some(to) = to {
                    sql.push(&format!(" AND {column} < ")).text(to);
                }
                sql.push(")");
            }
            Filter::Text { pattern, also } => {
                sql.push("(");
                Filter::Like("subject", pattern.clone()).push(sql);
                for filter in also {
                    if !matches!(filter, Filter::AnyOf(values) if values.is_empty()) {
                        sql.push(" OR ");
                        filter.push(sql);
                    }
                }
                sql.push(")");
            }
        }
    }
}

/// The distinct values of `column` in `[from, to)` (all when `None`), at most `limit`, found
/// by one index seek each.
pub(super) async fn distinct(
    db: &Db,
    column: Column,
    from: Option<&str>,
    to: Option<&str>,
    like: Option<&str>,
    limit: usize,
) -> Result<Vec<String>, sqlx::Error> {
    let name = column.name();
    let system = if column == Column::SystemActor {
        "actor_kind = 'system' AND "
    } else {
        ""
    };
    let mut sql = Sql::new(db);
    sql.push(&format!(
        "WITH RECURSIVE v(x) AS (SELECT MIN({name}) FROM audit_events WHERE {system}{name} >= "
    ));
    sql.text(from.unwrap_or(""));
    if let Some(to) = to {
        sql.push(&format!(" AND {name} < ")).text(to);
    }
    sql.push(&format!(
        " UNION ALL SELECT (SELECT MIN({name}) FROM audit_events WHERE {system}{name} > v.x"
    ));
    if let Some(to) = to {
        sql.push(&format!(" AND {name} < ")).text(to);
    }
    sql.push(") FROM v WHERE v.x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL");
    if let Some(pattern) = like {
        let label = if column == Column::SystemActor {
            "'system:' || x"
        } else {
            "x"
        };
        sql.push(&format!(" AND LOWER({label}) LIKE "))
            .text(pattern)
            .push(" ESCAPE '\\'");
    }
    sql.push(" LIMIT ")
        .int(i64::try_from(limit).unwrap_or(i64::MAX));
    let rows: Vec<(String,)> = sql.fetch(db).await?;
    Ok(rows.into_iter().map(|(x,)| x).collect())
}

pub(super) fn push_filters(sql: &mut Sql, filters: &[&Filter]) {
    for filter in filters {
        sql.push(" AND ");
        filter.push(sql);
    }
}

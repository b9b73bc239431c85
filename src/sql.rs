//! Building SQL whose shape depends on the request (list filters, searches): text and its
//! parameters grow together, so a filter is never formatted into the SQL itself.

use sqlx::any::AnyRow;

use crate::db::{Backend, Db, LIKE_ESCAPE};

enum Bind {
    Text(String),
    Int(i64),
}

/// SQL text with its parameters, numbered in the order they appear: SQLite numbers `$N`
/// parameters by first appearance, so text is only ever appended.
pub struct Sql {
    text: String,
    binds: Vec<Bind>,
    backend: Backend,
    /// Case-insensitive LIKE: SQLite's LIKE already ignores ASCII case, PostgreSQL's does not.
    /// (LOWER() on every row would double the cost of a scan.)
    pub ilike: &'static str,
}

impl Sql {
    pub fn new(db: &Db) -> Self {
        let backend = db.backend();
        Self {
            text: String::new(),
            binds: Vec::new(),
            backend,
            ilike: match backend {
                Backend::Sqlite => "LIKE",
                Backend::Postgres => "ILIKE",
            },
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        self.binds.push(Bind::Text(value.to_string()));
        self.text.push_str(&format!("${}", self.binds.len()));
        self
    }

    pub fn int(&mut self, value: i64) -> &mut Self {
        self.binds.push(Bind::Int(value));
        self.text.push_str(&format!("${}", self.binds.len()));
        self
    }

    /// `(a ILIKE $n ESCAPE '\' OR b ILIKE $n …)`: any of `columns` contains `needle`, any
    /// (ASCII) case; `%` and `_` in the needle match only themselves. One parameter per
    /// column, as SQLite numbers them by appearance.
    pub fn contains(&mut self, columns: &[&str], needle: &str) -> &mut Self {
        let pattern = format!("%{}%", crate::db::escape_like(needle));
        let ilike = self.ilike;
        self.push("(");
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                self.push(" OR ");
            }
            self.push(&format!("{column} {ilike} "))
                .text(&pattern)
                .push(&format!(" {LIKE_ESCAPE}"));
        }
        self.push(")")
    }

    /// `LOWER(expression)` compared byte by byte on both engines, as Rust compares strings:
    /// PostgreSQL would otherwise sort by the database's locale.
    pub fn lower_sort_key(&self, expression: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("LOWER({expression})"),
            Backend::Postgres => format!("LOWER({expression}) COLLATE \"C\""),
        }
    }

    /// `expression` compared byte by byte on both engines (an email tie-break, say).
    pub fn byte_order(&self, expression: &str) -> String {
        match self.backend {
            Backend::Sqlite => expression.to_string(),
            Backend::Postgres => format!("{expression} COLLATE \"C\""),
        }
    }

    pub async fn fetch<T>(self, db: &Db) -> Result<Vec<T>, sqlx::Error>
    where
        T: Send + Unpin + for<'r> sqlx::FromRow<'r, AnyRow>,
    {
        self.fetch_with(db.pool()).await
    }

    async fn fetch_with<'e, T, E>(self, executor: E) -> Result<Vec<T>, sqlx::Error>
    where
        T: Send + Unpin + for<'r> sqlx::FromRow<'r, AnyRow>,
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let mut query = sqlx::query_as::<_, T>(&self.text);
        for bind in self.binds {
            query = match bind {
                Bind::Text(v) => query.bind(v),
                Bind::Int(v) => query.bind(v),
            };
        }
        query.fetch_all(executor).await
    }

    /// The engine's plan for this query, one line per step, so a test can check that a query
    /// reads the index made for it. On PostgreSQL, sorts and full scans are priced out first
    /// (in a transaction of its own): a small test table would otherwise make either look
    /// cheaper, and the question is whether the index *can* serve the query.
    pub async fn plan(mut self, db: &Db) -> Result<String, sqlx::Error> {
        let mut tx = db.pool().begin().await?;
        let explain = match self.backend {
            Backend::Sqlite => "EXPLAIN QUERY PLAN ",
            Backend::Postgres => {
                for setting in ["enable_sort", "enable_seqscan"] {
                    sqlx::query(&format!("SET LOCAL {setting} = off"))
                        .execute(&mut *tx)
                        .await?;
                }
                "EXPLAIN "
            }
        };
        // A prefix leaves the parameters' order as it was.
        self.text.insert_str(0, explain);
        let lines: Vec<PlanLine> = self.fetch_with(&mut *tx).await?;
        Ok(lines
            .into_iter()
            .map(|PlanLine(line)| line)
            .collect::<Vec<_>>()
            .join("\n"))
    }

    /// The first column of the single row a `SELECT COUNT(*) …` returns.
    pub async fn count(self, db: &Db) -> Result<i64, sqlx::Error> {
        let rows: Vec<(i64,)> = self.fetch(db).await?;
        Ok(rows.first().map_or(0, |(n,)| *n))
    }
}

/// A step of a plan: the last column (SQLite's `detail`, PostgreSQL's only one).
struct PlanLine(String);

impl<'r> sqlx::FromRow<'r, AnyRow> for PlanLine {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row as _;
        row.try_get(row.len().saturating_sub(1)).map(Self)
    }
}

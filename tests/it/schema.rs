//! Schema parity: `migrations/sqlite` and `migrations/postgres` must build the same tables, with
//! the same columns (by name and nullability), and the same indexes declared with
//! `CREATE INDEX` (by name, table, column list, uniqueness and whether partial).
//!
//! Both engines are migrated whatever `PAR_TEST_DATABASE` says, through the application's own
//! `Db::migrate`. Left out: sqlx's `_sqlx_migrations`, the session store's tables, SQLite's
//! internal `sqlite_*` tables and the indexes the engines create for PRIMARY KEY and UNIQUE
//! constraints (`sqlite_autoindex_*`, `*_pkey`, `*_key`). Column types are not compared: the
//! two sets spell them differently on purpose (`INTEGER` and `BIGINT`, `AUTOINCREMENT` and
//! `BIGSERIAL`).

use std::{collections::BTreeMap, fmt};

use postmark_access_review::{config::DatabaseConfig, db::Db};
use secrecy::SecretString;
use sqlx::{Connection as _, Executor as _, PgConnection};

use crate::helpers::TestDb;

/// Tables no migration of this project creates, or that only one engine has by design.
const IGNORED_TABLES: [&str; 2] = ["_sqlx_migrations", "tower_sessions"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Index {
    table: String,
    /// In index order; `<expression>` for an expression.
    columns: Vec<String>,
    unique: bool,
    partial: bool,
}

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}INDEX ON {} ({}){}",
            if self.unique { "UNIQUE " } else { "" },
            self.table,
            self.columns.join(", "),
            if self.partial { " WHERE …" } else { "" }
        )
    }
}

/// What the migrations built: table → column → nullable, and index name → index.
#[derive(Debug, Default)]
struct Schema {
    tables: BTreeMap<String, BTreeMap<String, bool>>,
    indexes: BTreeMap<String, Index>,
}

fn ignored(table: &str) -> bool {
    IGNORED_TABLES.contains(&table)
}

async fn sqlite_schema(db: &Db) -> Schema {
    let pool = db.pool();
    let mut schema = Schema::default();
    // Primary-key columns count as NOT NULL, as on PostgreSQL: SQLite reports notnull = 0 for
    // a PRIMARY KEY column declared without NOT NULL. An INTEGER PRIMARY KEY never holds NULL;
    // any other SQLite primary key does accept NULL (a historical quirk), which this test
    // deliberately does not report.
    let columns: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT m.name, c.name, c.\"notnull\", c.pk \
         FROM sqlite_master m JOIN pragma_table_info(m.name) c \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         ORDER BY m.name, c.cid",
    )
    .fetch_all(pool)
    .await
    .expect("SQLite columns");
    for (table, column, not_null, pk) in columns {
        if !ignored(&table) {
            let nullable = not_null == 0 && pk == 0;
            schema
                .tables
                .entry(table)
                .or_default()
                .insert(column, nullable);
        }
    }
    // origin 'c': made by CREATE INDEX (not 'pk' or 'u', the sqlite_autoindex_* ones).
    let indexes: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT l.name, m.name, l.\"unique\", l.partial \
         FROM sqlite_master m JOIN pragma_index_list(m.name) l \
         WHERE m.type = 'table' AND l.origin = 'c' \
         ORDER BY l.name",
    )
    .fetch_all(pool)
    .await
    .expect("SQLite indexes");
    for (name, table, unique, partial) in indexes {
        if ignored(&table) {
            continue;
        }
        let columns: Vec<(Option<String>,)> =
            sqlx::query_as("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                .bind(&name)
                .fetch_all(pool)
                .await
                .expect("SQLite index columns");
        let columns = columns
            .into_iter()
            .map(|(column,)| column.unwrap_or_else(|| "<expression>".to_string()))
            .collect();
        schema.indexes.insert(
            name,
            Index {
                table,
                columns,
                unique: unique != 0,
                partial: partial != 0,
            },
        );
    }
    schema
}

async fn postgres_schema(db: &Db) -> Schema {
    let pool = db.pool();
    let mut schema = Schema::default();
    // Schema `public` only: the session store keeps its table in schema `tower_sessions`.
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.is_nullable::text \
         FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(pool)
    .await
    .expect("PostgreSQL columns");
    for (table, column, nullable) in columns {
        if !ignored(&table) {
            schema
                .tables
                .entry(table)
                .or_default()
                .insert(column, nullable == "YES");
        }
    }
    // Indexes that back a constraint (`*_pkey`, `*_key`) are left out: the migrations declare
    // those as PRIMARY KEY and UNIQUE, not with CREATE INDEX.
    let rows: Vec<(String, String, bool, bool, i64, Option<String>)> = sqlx::query_as(
        "SELECT i.relname::text, t.relname::text, x.indisunique, x.indpred IS NOT NULL, \
                k.ord::bigint, a.attname::text \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
         LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
                                 AND k.attnum <> 0 \
         WHERE n.nspname = 'public' \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) \
         ORDER BY i.relname, k.ord",
    )
    .fetch_all(pool)
    .await
    .expect("PostgreSQL indexes");
    for (name, table, unique, partial, _position, column) in rows {
        if ignored(&table) {
            continue;
        }
        schema
            .indexes
            .entry(name)
            .or_insert_with(|| Index {
                table,
                columns: Vec::new(),
                unique,
                partial,
            })
            .columns
            .push(column.unwrap_or_else(|| "<expression>".to_string()));
    }
    schema
}

fn nullability(nullable: bool) -> &'static str {
    if nullable {
        "NULL allowed"
    } else {
        "NOT NULL"
    }
}

/// Every difference, one readable line each.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for (engine, mine, theirs, other) in [
        (Engine::Sqlite, sqlite, postgres, Engine::Postgres),
        (Engine::Postgres, postgres, sqlite, Engine::Sqlite),
    ] {
        for (table, columns) in &mine.tables {
            let Some(their_columns) = theirs.tables.get(table) else {
                out.push(format!(
                    "table {table}: only in {engine} (columns: {})",
                    columns.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
                continue;
            };
            for (column, nullable) in columns {
                if !their_columns.contains_key(column) {
                    out.push(format!(
                        "column {table}.{column}: only in {engine} ({}), missing in {other}",
                        nullability(*nullable)
                    ));
                }
            }
        }
        for (name, index) in &mine.indexes {
            if !theirs.indexes.contains_key(name) {
                out.push(format!(
                    "index {name}: only in {engine} ({index}), missing in {other}"
                ));
            }
        }
    }
    for (table, columns) in &sqlite.tables {
        let Some(pg_columns) = postgres.tables.get(table) else {
            continue;
        };
        for (column, sqlite_nullable) in columns {
            if let Some(pg_nullable) = pg_columns.get(column) {
                if sqlite_nullable != pg_nullable {
                    out.push(format!(
                        "column {table}.{column}: {} in SQLite, {} in PostgreSQL",
                        nullability(*sqlite_nullable),
                        nullability(*pg_nullable)
                    ));
                }
            }
        }
    }
    for (name, sqlite_index) in &sqlite.indexes {
        if let Some(pg_index) = postgres.indexes.get(name) {
            if sqlite_index != pg_index {
                out.push(format!(
                    "index {name}: {sqlite_index} in SQLite, {pg_index} in PostgreSQL"
                ));
            }
        }
    }
    out.sort();
    out
}

/// A PostgreSQL database for this test alone, dropped afterwards (the suite's helpers make one
/// only when the whole run is on PostgreSQL).
struct ScratchPostgres {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchPostgres {
    async fn create() -> Self {
        let admin_url = std::env::var("PAR_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        let name = format!("par_schema_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url).await.expect(
            "the schema parity test needs PostgreSQL at PAR_TEST_POSTGRES_URL \
             (default postgres://postgres@127.0.0.1:5432/postgres)",
        );
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .expect("create scratch database");
        let (base, _) = admin_url.rsplit_once('/').expect("URL has a database");
        let url = format!("{base}/{name}");
        Self {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for ScratchPostgres {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async context; a short-lived runtime on its own thread does it.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = admin
                        .execute(
                            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str(),
                        )
                        .await;
                }
            });
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_migrations_build_the_same_schema() {
    let sqlite_db = TestDb::sqlite();
    let sqlite = sqlite_schema(&sqlite_db.connect_migrated().await).await;

    let scratch = ScratchPostgres::create().await;
    let postgres_db = Db::connect(&DatabaseConfig {
        url: SecretString::from(scratch.url.clone()),
        max_connections: 2,
    })
    .await
    .expect("connect to the scratch PostgreSQL database");
    postgres_db.migrate().await.expect("PostgreSQL migrations");
    let postgres = postgres_schema(&postgres_db).await;
    postgres_db.close().await;

    // Guards against introspection that silently finds nothing on either side.
    for (engine, schema) in [(Engine::Sqlite, &sqlite), (Engine::Postgres, &postgres)] {
        for table in ["audit_events", "campaigns", "review_items"] {
            assert!(
                schema.tables.contains_key(table),
                "{engine}: table {table} not found; tables seen: {:?}",
                schema.tables.keys().collect::<Vec<_>>()
            );
        }
        assert!(
            schema.indexes.contains_key("campaigns_from_template"),
            "{engine}: index campaigns_from_template not found; indexes seen: {:?}",
            schema.indexes.keys().collect::<Vec<_>>()
        );
    }

    let differences = differences(&sqlite, &postgres);
    assert!(
        differences.is_empty(),
        "migrations/sqlite and migrations/postgres build different schemas \
         ({} differences):\n  {}\n",
        differences.len(),
        differences.join("\n  ")
    );
}

//! The SQLite path of the exports: each page is read by a read-only `rusqlite` connection of
//! the export's own, on a blocking thread, and written as CSV straight from SQLite's buffers.
//!
//! Why not the pool: sqlx's SQLite driver steps every statement on a worker thread and sends
//! each row to the async side over a channel, a wake-up per row. At a million audit events
//! that fetch alone took 2.4× as long as `sqlite3 -csv` writing the whole file; stepping the
//! rows here, with every text column borrowed rather than copied into a `String`, is what
//! brings the export within the README's 2× target (numbers in the README, `bench export`).
//!
//! What the pool's path guaranteed still holds: records go through the same
//! [`super::writer`], so the bytes are the same; one page is read per call, so memory stays
//! at one page; each page is one short statement, so no read transaction stays open while a
//! client downloads slowly (WAL checkpoints carry on); an error ends the export. PostgreSQL,
//! and SQLite databases without a file, keep the pool's path.

use std::{path::Path, sync::Arc, time::Duration};

use rusqlite::{
    types::{Value, ValueRef},
    Connection, OpenFlags, ToSql,
};

use super::{writer::Cell, ExportError};

/// How long a page waits for a lock, as the pool's connections do (`busy_timeout`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A read-only connection to the database file, opened on the first page and kept for the
/// export (no locks are held between pages: each statement is reset when its page ends).
pub struct Reader {
    path: Arc<Path>,
    conn: Option<Connection>,
}

impl Reader {
    pub fn new(path: &Path) -> Self {
        Self {
            path: Arc::from(path),
            conn: None,
        }
    }

    /// Runs `read` on a blocking thread with the connection, which is opened on first use.
    pub async fn run<T, F>(&mut self, read: F) -> Result<T, ExportError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, ExportError> + Send + 'static,
    {
        let path = Arc::clone(&self.path);
        let conn = self.conn.take();
        let (conn, result) =
            tokio::task::spawn_blocking(move || match conn.map_or_else(|| open(&path), Ok) {
                Ok(conn) => {
                    let result = read(&conn);
                    (Some(conn), result)
                }
                Err(error) => (None, Err(error)),
            })
            .await?;
        self.conn = conn;
        result
    }

    /// The rows `sql` selects, each read by `map`: a page for a source that turns rows into
    /// records the same way on both paths. `params` are named as the pool's queries write
    /// them (`$1`, `$2`…: SQLite takes those as names).
    pub async fn rows<R: Send + 'static>(
        &mut self,
        sql: &'static str,
        params: Vec<(&'static str, Value)>,
        map: fn(&rusqlite::Row<'_>) -> rusqlite::Result<R>,
    ) -> Result<Vec<R>, ExportError> {
        self.run(move |conn| {
            let params: Vec<(&str, &dyn ToSql)> = params
                .iter()
                .map(|(name, value)| (*name, value as &dyn ToSql))
                .collect();
            let mut statement = conn.prepare_cached(sql)?;
            let rows = statement.query_map(params.as_slice(), map)?;
            Ok(rows.collect::<rusqlite::Result<Vec<R>>>()?)
        })
        .await
    }
}

fn open(path: &Path) -> Result<Connection, ExportError> {
    // Not SQLITE_OPEN_URI: the path is a file name as sqlx read it from the URL.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Column `i` of `row` as a field, borrowed from SQLite: NULL is empty, an integer its digits,
/// text as stored. Text that is not UTF-8, a REAL or a BLOB is an error, as decoding it into
/// a `String` or `i64` through the pool is.
pub fn cell<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Cell<'r>> {
    match row.get_ref(i)? {
        ValueRef::Null => Ok(Cell::Empty),
        ValueRef::Integer(n) => Ok(Cell::Int(n)),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map(Cell::Text)
            .map_err(rusqlite::Error::Utf8Error),
        other => Err(rusqlite::Error::InvalidColumnType(
            i,
            row.as_ref().column_name(i)?.to_string(),
            other.data_type(),
        )),
    }
}

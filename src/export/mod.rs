//! Evidence exports: CSV files for auditors, streamed from the database with constant memory.
//!
//! * [`writer`]: the RFC 4180 writer with formula neutralisation (rules in its documentation
//!   and the README's "Evidence exports").
//! * [`audit`], [`inventory`], [`population`], [`decisions`]: one file each, with its column
//!   order fixed by a `HEADER` constant. [`decisions::write_report`] is pure, because the
//!   campaign sign-off signs exactly the bytes it writes.
//! * [`routes`]: the `/exports/…` handlers (admins and auditors).
//!
//! * [`sqlite`]: how pages are read from a SQLite file, outside the pool (why in its
//!   documentation).
//!
//! Every export reads in keyset pages (`WHERE key > $last ORDER BY key LIMIT n`), one short
//! query per page, and hands each page to the response body as one chunk: memory stays at one
//! page however large the table, and a slow download never holds a pooled connection or a
//! read transaction between pages.

pub mod audit;
pub mod decisions;
pub mod inventory;
pub mod population;
pub mod routes;
pub mod sqlite;
pub mod writer;

use std::future::Future;

use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use futures::{Stream, StreamExt as _};

/// Rows per page read from the database.
pub const PAGE_ROWS: i64 = 1000;

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("SQLite reader: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value the export cannot write, named by its row.
    #[error("{row}: {error}")]
    Row { row: String, error: rusqlite::Error },
    #[error("the SQLite reader's thread failed: {0}")]
    Thread(#[from] tokio::task::JoinError),
}

/// A table read page by page into CSV.
pub trait Source: Send + 'static {
    /// The header record: the column order, fixed for this export.
    fn header(&self) -> &'static [&'static str];

    /// Appends the next page of records to `out`; answers whether more may follow.
    fn next_page(
        &mut self,
        out: &mut Vec<u8>,
    ) -> impl Future<Output = Result<bool, ExportError>> + Send;
}

/// The CSV of `source` as a stream of chunks: the header, then one chunk per page.
///
/// A database error ends the stream with an error, which aborts the response (the chunked
/// body is never terminated), so a client sees a failed download rather than a short file
/// that looks complete.
///
/// Fused: the compression layer polls a body once more after its end, which an unfused
/// `unfold` answers with a panic that cut every compressed download off after its header.
pub fn chunks<S: Source>(source: S) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let mut header = Vec::new();
    writer::write_header(&mut header, source.header());
    let state = (source, Some(header), true);
    futures::stream::unfold(state, |(mut source, header, more)| async move {
        if let Some(header) = header {
            return Some((Ok(Bytes::from(header)), (source, None, more)));
        }
        if !more {
            return None;
        }
        let mut out = Vec::with_capacity(64 * 1024);
        match source.next_page(&mut out).await {
            Ok(more) if !out.is_empty() => Some((Ok(Bytes::from(out)), (source, None, more))),
            Ok(_) => None,
            Err(error) => {
                tracing::error!(error = %error, "export stopped by a database error");
                Some((
                    Err(std::io::Error::other("the export could not be completed")),
                    (source, None, false),
                ))
            }
        }
    })
    .fuse()
}

/// A streamed CSV download named `filename` (ASCII, no quotes).
pub fn response<S: Source>(source: S, filename: &str) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Body::from_stream(chunks(source)),
    )
        .into_response()
}

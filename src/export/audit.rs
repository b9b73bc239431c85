//! `audit.csv`: the audit log, every column of every event, oldest first, optionally limited
//! to a time range and one action. With every column an auditor can recompute the hash chain
//! from the file alone (after [`super::writer::restore`]).

use time::{format_description::well_known::Rfc3339, Date, OffsetDateTime, Time};

use rusqlite::{named_params, Connection};

use super::{
    sqlite::{self, Reader},
    writer::{write_record, Cell},
    ExportError, Source, PAGE_ROWS,
};
use crate::{clock::format_timestamp, db::Db};

pub const HEADER: &[&str] = &[
    "seq",
    "occurred_at",
    "actor_kind",
    "actor_issuer",
    "actor_sub",
    "actor_email",
    "action",
    "subject",
    "details",
    "prev_hash",
    "hash",
];

/// Which events to export; built only by [`AuditFilter::parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Inclusive lower bound, as a stored timestamp.
    from: Option<String>,
    /// Exclusive upper bound, as a stored timestamp.
    to: Option<String>,
    action: Option<String>,
}

/// Longest accepted `action`.
const MAX_ACTION: usize = 100;

impl AuditFilter {
    /// Reads `from`, `to` and `action` from a query string. Empty values mean "no limit".
    /// `from` is a date (from its midnight, UTC) or an RFC 3339 time, inclusive; `to` is a date
    /// (through the end of that day, UTC) or an RFC 3339 time, exclusive. Unknown or repeated
    /// parameters are refused, so a typo never widens an export silently.
    pub fn parse(query: Option<&str>) -> Result<Self, String> {
        let mut filter = AuditFilter::default();
        let mut seen: Vec<String> = Vec::new();
        for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if seen.iter().any(|k| *k == key) {
                return Err(format!("`{key}` is given more than once"));
            }
            seen.push(key.to_string());
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key.as_ref() {
                "from" => filter.from = Some(bound(value, "from", false)?),
                "to" => filter.to = Some(bound(value, "to", true)?),
                "action" => filter.action = Some(action(value)?),
                other => {
                    return Err(format!(
                        "unknown parameter `{other}` (expected from, to or action)"
                    ))
                }
            }
        }
        if let (Some(from), Some(to)) = (&filter.from, &filter.to) {
            if from >= to {
                return Err("`from` must be before `to`".to_string());
            }
        }
        Ok(filter)
    }
}

fn bound(value: &str, name: &str, end: bool) -> Result<String, String> {
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    let at = if let Ok(date) = Date::parse(value, &date_format) {
        let date = if end {
            date.next_day()
                .ok_or_else(|| format!("`{name}` is out of range"))?
        } else {
            date
        };
        date.with_time(Time::MIDNIGHT).assume_utc()
    } else {
        OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
            format!(
                "`{name}` must be a date (2026-11-30) or an RFC 3339 time \
                 (2026-11-30T14:00:00Z), not {value:?}"
            )
        })?
    };
    // Stored timestamps have four-digit years; outside them text comparison would mislead.
    if !(1..=9999).contains(&at.to_offset(time::UtcOffset::UTC).year()) {
        return Err(format!("`{name}` is out of range"));
    }
    Ok(format_timestamp(at))
}

fn action(value: &str) -> Result<String, String> {
    let ok = value.len() <= MAX_ACTION
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "`action` must be an event action such as campaign.launched (lower-case letters, \
             digits, '.', '_', '-'; at most {MAX_ACTION}), not {value:?}"
        ))
    }
}

/// One page of events, on both databases: `$1` (after) and `$2` (head) bound the keys, `$3`…`$5`
/// are the filter, `$6` the page size.
const PAGE_SQL: &str = "SELECT seq, occurred_at, actor_kind, actor_issuer, actor_sub, \
     actor_email, action, subject, details, prev_hash, hash FROM audit_events \
     WHERE seq > $1 AND seq <= $2 \
     AND ($3 IS NULL OR occurred_at >= $3) AND ($4 IS NULL OR occurred_at < $4) \
     AND ($5 IS NULL OR action = $5) \
     ORDER BY seq LIMIT $6";

type Row = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
);

/// Where the next page starts and what it may hold; moved to the SQLite reader's thread.
#[derive(Debug, Clone)]
struct Page {
    filter: AuditFilter,
    after: i64,
    /// The head when the export started: events appended during a download are left out,
    /// so the file is the log as it stood at one moment.
    last: i64,
    rows: i64,
}

/// The events matching a filter, read in `seq` order.
pub struct AuditSource {
    db: Db,
    page: Page,
    /// `Some` on a SQLite file: pages are read there rather than through the pool.
    reader: Option<Reader>,
}

impl AuditSource {
    /// Reads the current head, which bounds the export.
    pub async fn new(db: Db, filter: AuditFilter) -> Result<Self, sqlx::Error> {
        let (last,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM audit_events")
            .fetch_one(db.pool())
            .await?;
        let reader = db.sqlite_file().map(Reader::new);
        Ok(Self {
            db,
            page: Page {
                filter,
                after: 0,
                last: last.unwrap_or(0),
                rows: PAGE_ROWS,
            },
            reader,
        })
    }

    /// Rows per database page (the benchmark tries other sizes).
    pub fn with_page_rows(mut self, rows: i64) -> Self {
        self.page.rows = rows.max(1);
        self
    }

    /// Reads through the pool even on SQLite, as on PostgreSQL (to compare the two paths).
    pub fn through_pool(mut self) -> Self {
        self.reader = None;
        self
    }

    async fn pool_page(&mut self, out: &mut Vec<u8>) -> Result<(i64, Option<i64>), ExportError> {
        let page = &self.page;
        let rows: Vec<Row> = sqlx::query_as(PAGE_SQL)
            .bind(page.after)
            .bind(page.last)
            .bind(page.filter.from.as_deref())
            .bind(page.filter.to.as_deref())
            .bind(page.filter.action.as_deref())
            .bind(page.rows)
            .fetch_all(self.db.pool())
            .await?;
        for row in &rows {
            write_record(
                out,
                [
                    row.0.into(),
                    (&row.1).into(),
                    (&row.2).into(),
                    (&row.3).into(),
                    (&row.4).into(),
                    (&row.5).into(),
                    (&row.6).into(),
                    (&row.7).into(),
                    (&row.8).into(),
                    (&row.9).into(),
                    (&row.10).into(),
                ],
            );
        }
        Ok((rows.len() as i64, rows.last().map(|row| row.0)))
    }
}

/// [`AuditSource::pool_page`] on the SQLite reader: the same query, each record written from
/// the borrowed columns.
fn sqlite_page(
    conn: &Connection,
    page: &Page,
    out: &mut Vec<u8>,
) -> Result<(i64, Option<i64>), ExportError> {
    let mut statement = conn.prepare_cached(PAGE_SQL)?;
    let mut rows = statement.query(named_params! {
        "$1": page.after,
        "$2": page.last,
        "$3": page.filter.from,
        "$4": page.filter.to,
        "$5": page.filter.action,
        "$6": page.rows,
    })?;
    let (mut count, mut last) = (0, None);
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let mut cells = [Cell::Empty; HEADER.len()];
        for (i, cell) in cells.iter_mut().enumerate() {
            *cell = sqlite::cell(row, i).map_err(|error| ExportError::Row {
                row: format!("audit event {seq}"),
                error,
            })?;
        }
        write_record(out, cells);
        count += 1;
        last = Some(seq);
    }
    Ok((count, last))
}

impl Source for AuditSource {
    fn header(&self) -> &'static [&'static str] {
        HEADER
    }

    async fn next_page(&mut self, out: &mut Vec<u8>) -> Result<bool, ExportError> {
        let (count, last) = match &mut self.reader {
            Some(reader) => {
                // The buffer goes to the reader's thread and comes back with the page.
                let page = self.page.clone();
                let mut buffer = std::mem::take(out);
                let (buffer, count, last) = reader
                    .run(move |conn| {
                        let (count, last) = sqlite_page(conn, &page, &mut buffer)?;
                        Ok((buffer, count, last))
                    })
                    .await?;
                *out = buffer;
                (count, last)
            }
            None => self.pool_page(out).await?,
        };
        if let Some(seq) = last {
            self.page.after = seq;
        }
        Ok(count == self.page.rows)
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt as _;
    use secrecy::SecretString;

    use super::*;
    use crate::{
        config::DatabaseConfig,
        export::{chunks, writer::write_header},
    };

    fn parse(query: &str) -> Result<AuditFilter, String> {
        AuditFilter::parse(Some(query))
    }

    #[test]
    fn dates_cover_whole_days_and_times_are_exact() {
        let filter = parse("from=2026-11-01&to=2026-11-30&action=campaign.launched").unwrap();
        assert_eq!(filter.from.as_deref(), Some("2026-11-01T00:00:00.000000Z"));
        assert_eq!(filter.to.as_deref(), Some("2026-12-01T00:00:00.000000Z"));
        assert_eq!(filter.action.as_deref(), Some("campaign.launched"));
        let filter = parse("from=2026-11-01T10%3A00%3A00%2B02%3A00&to=").unwrap();
        assert_eq!(filter.from.as_deref(), Some("2026-11-01T08:00:00.000000Z"));
        assert_eq!(filter.to, None);
        assert_eq!(AuditFilter::parse(None).unwrap(), AuditFilter::default());
    }

    #[test]
    fn bad_filters_are_refused_with_a_reason() {
        for (query, says) in [
            ("from=yesterday", "`from` must be a date"),
            ("to=2026-13-01", "`to` must be a date"),
            (
                "from=2026-11-30&to=2026-11-01",
                "`from` must be before `to`",
            ),
            ("action=DROP%20TABLE", "`action` must be"),
            ("acton=x", "unknown parameter `acton`"),
            ("action=a&action=b", "more than once"),
        ] {
            let error = parse(query).unwrap_err();
            assert!(error.contains(says), "{query}: {error}");
        }
    }

    /// Values that exercise every rule of the writer.
    const TRICKY: &[&str] = &[
        "plain",
        "Brooks, Ben",
        "say \"hi\"",
        "two\nlines",
        "cr\rhere",
        "crlf\r\nend",
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "'quoted",
        "=HYPERLINK(\"http://x\",\"y\")",
        "",
        "Zoë",
        "山田 太郎",
        "😀 party 🎉, \"yes\"",
        "עברית, שלום",
    ];

    async fn sqlite_db(dir: &tempfile::TempDir) -> Db {
        let url = format!("sqlite://{}", dir.path().join("export.db").display());
        let db = Db::connect(&DatabaseConfig {
            url: SecretString::from(url),
            max_connections: 2,
        })
        .await
        .unwrap();
        db.migrate().await.unwrap();
        db
    }

    /// Event `seq` with `value` in every text column (the nullable ones NULL for odd `seq`).
    async fn insert(db: &Db, seq: i64, value: &str) {
        let maybe = (seq % 2 == 0).then_some(value);
        sqlx::query(
            "INSERT INTO audit_events (seq, occurred_at, actor_kind, actor_issuer, actor_sub, \
             actor_email, action, subject, details, prev_hash, hash) \
             VALUES ($1, $2, $2, $3, $3, $3, $2, $2, $2, $2, $4)",
        )
        .bind(seq)
        .bind(value)
        .bind(maybe)
        .bind(format!("{value}#{seq}"))
        .execute(db.pool())
        .await
        .unwrap();
    }

    /// What the writer makes of the same events.
    fn expected() -> Vec<u8> {
        let mut out = Vec::new();
        write_header(&mut out, HEADER);
        for (i, value) in TRICKY.iter().enumerate() {
            let seq = i as i64 + 1;
            let maybe = Cell::from((seq % 2 == 0).then_some(*value));
            let hash = format!("{value}#{seq}");
            let text = Cell::Text(value);
            write_record(
                &mut out,
                [
                    Cell::Int(seq),
                    text,
                    text,
                    maybe,
                    maybe,
                    maybe,
                    text,
                    text,
                    text,
                    text,
                    Cell::Text(&hash),
                ],
            );
        }
        out
    }

    /// The body the response would send; an error where the download would break off.
    async fn body(source: AuditSource) -> (Vec<u8>, Option<std::io::Error>) {
        let mut out = Vec::new();
        let mut stream = std::pin::pin!(chunks(source));
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(chunk) => out.extend_from_slice(&chunk),
                Err(error) => return (out, Some(error)),
            }
        }
        (out, None)
    }

    #[tokio::test]
    async fn the_sqlite_reader_writes_the_same_bytes_as_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_db(&dir).await;
        for (i, value) in TRICKY.iter().enumerate() {
            insert(&db, i as i64 + 1, value).await;
        }
        let source = || async {
            AuditSource::new(db.clone(), AuditFilter::default())
                .await
                .unwrap()
                .with_page_rows(3)
        };
        let reader = source().await;
        assert!(
            reader.reader.is_some(),
            "a SQLite file is read outside the pool"
        );
        let (fast, error) = body(reader).await;
        assert!(error.is_none(), "{error:?}");
        let (pool, error) = body(source().await.through_pool()).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&expected())
        );
        assert_eq!(fast, pool);

        // The head bounds the export: an event appended after it starts is left out.
        let source = source().await;
        insert(&db, 100, "late").await;
        assert_eq!(body(source).await.0, expected());

        // Filters behave the same on both paths.
        let filtered = || async {
            let filter = AuditFilter::parse(Some("action=plain")).unwrap();
            AuditSource::new(db.clone(), filter).await.unwrap()
        };
        let (fast, _) = body(filtered().await).await;
        let (pool, _) = body(filtered().await.through_pool()).await;
        assert_eq!(fast, pool);
        assert_eq!(
            fast.split(|b| *b == b'\n').count(),
            3,
            "header and one event"
        );
    }

    #[tokio::test]
    async fn a_reader_error_breaks_the_download_off() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_db(&dir).await;
        insert(&db, 1, "plain").await;
        let source = AuditSource::new(db.clone(), AuditFilter::default())
            .await
            .unwrap();
        // The pool keeps its open files; the reader, opening by name, finds nothing.
        std::fs::remove_file(dir.path().join("export.db")).unwrap();
        let (sent, error) = body(source).await;
        let mut header = Vec::new();
        write_header(&mut header, HEADER);
        assert_eq!(sent, header);
        assert!(error.is_some(), "the body ends in an error, not quietly");
    }
}

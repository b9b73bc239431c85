//! `audit.csv`: the audit log, every column of every event, oldest first, optionally limited
//! to a time range and one action. With every column an auditor can recompute the hash chain
//! from the file alone (after [`super::writer::restore`]).

use time::{format_description::well_known::Rfc3339, Date, OffsetDateTime, Time};

use super::{writer::write_record, Source, PAGE_ROWS};
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

/// The events matching a filter, read in `seq` order.
pub struct AuditSource {
    db: Db,
    filter: AuditFilter,
    after: i64,
    /// The head when the export started: events appended during a download are left out,
    /// so the file is the log as it stood at one moment.
    last: i64,
    page_rows: i64,
}

impl AuditSource {
    /// Reads the current head, which bounds the export.
    pub async fn new(db: Db, filter: AuditFilter) -> Result<Self, sqlx::Error> {
        let (last,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM audit_events")
            .fetch_one(db.pool())
            .await?;
        Ok(Self {
            db,
            filter,
            after: 0,
            last: last.unwrap_or(0),
            page_rows: PAGE_ROWS,
        })
    }

    /// Rows per database page (the benchmark tries other sizes).
    pub fn with_page_rows(mut self, rows: i64) -> Self {
        self.page_rows = rows.max(1);
        self
    }
}

impl Source for AuditSource {
    fn header(&self) -> &'static [&'static str] {
        HEADER
    }

    async fn next_page(&mut self, out: &mut Vec<u8>) -> Result<bool, sqlx::Error> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT seq, occurred_at, actor_kind, actor_issuer, actor_sub, actor_email, action, \
             subject, details, prev_hash, hash FROM audit_events \
             WHERE seq > $1 AND seq <= $2 \
             AND ($3 IS NULL OR occurred_at >= $3) AND ($4 IS NULL OR occurred_at < $4) \
             AND ($5 IS NULL OR action = $5) \
             ORDER BY seq LIMIT $6",
        )
        .bind(self.after)
        .bind(self.last)
        .bind(self.filter.from.as_deref())
        .bind(self.filter.to.as_deref())
        .bind(self.filter.action.as_deref())
        .bind(self.page_rows)
        .fetch_all(self.db.pool())
        .await?;
        let full = rows.len() as i64 == self.page_rows;
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
        if let Some(row) = rows.last() {
            self.after = row.0;
        }
        Ok(full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! The Audit page's search: the filter and page as the address carries them ([`AuditQuery`]),
//! checked once at the boundary into a [`Search`] that the database code
//! (`search_db`, server only) trusts.
//!
//! * actor: a substring of the email or `system:<component>`, any case;
//! * action: exact (`review.decided`), or a prefix when it ends with `.` or `*`;
//! * subject: exact (`campaign:12`), or a prefix when it ends with `:` or `*`;
//! * from / to: whole UTC days, both inclusive;
//! * q: a substring of the action, subject or actor, any case;
//! * before / after: keyset paging on `seq` (older than / newer than that event).

use serde::{Deserialize, Serialize};

/// Events per page of the audit log.
pub const PAGE_SIZE: i64 = 50;

/// One event as the audit page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventView {
    pub seq: i64,
    pub occurred_at: String,
    /// The person's email, or `system:<component>`.
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// Canonical JSON.
    pub details: String,
    pub hash: String,
}

/// A page of events, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogPage {
    pub events: Vec<AuditEventView>,
    /// Pass as `before` to get the next older page.
    pub older: Option<i64>,
    /// Pass as `after` to get the next newer page.
    pub newer: Option<i64>,
    /// This is the newest page of the search.
    pub newest: bool,
    /// Events in the whole log.
    pub total: i64,
    /// How many events match the filters; `None` without filters.
    pub matching: Option<Matching>,
}

/// A count of matching events, exact only where it is cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Matching {
    Exactly(i64),
    /// More than this many (counting stops there).
    AtLeast(i64),
    /// Not counted (free-text search would read the whole log).
    Unknown,
}

/// Longest accepted text in any field, in characters.
pub const MAX_INPUT: usize = 200;

/// The filter and page as the address carries them; every field may be missing or empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub subject: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub q: Option<String>,
    pub before: Option<i64>,
    pub after: Option<i64>,
}

/// The text fields, as (query parameter, label in messages).
const TEXT_FIELDS: [(&str, &str); 6] = [
    ("actor", "Actor"),
    ("action", "Action"),
    ("subject", "Subject"),
    ("from", "From"),
    ("to", "To"),
    ("q", "Search"),
];

impl AuditQuery {
    /// Reads the query parameters of the address (`get` looks one up by name).
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let number = |name: &str| get(name).and_then(|v| v.trim().parse::<i64>().ok());
        Self {
            actor: get("actor"),
            action: get("action"),
            subject: get("subject"),
            from: get("from"),
            to: get("to"),
            q: get("q"),
            before: number("before"),
            after: number("after"),
        }
    }

    fn text(&self, name: &str) -> Option<&str> {
        match name {
            "actor" => self.actor.as_deref(),
            "action" => self.action.as_deref(),
            "subject" => self.subject.as_deref(),
            "from" => self.from.as_deref(),
            "to" => self.to.as_deref(),
            _ => self.q.as_deref(),
        }
    }

    /// The non-empty filters as query parameters, without the page: what a link to another
    /// page of the same search starts from.
    pub fn filter_params(&self) -> Vec<(String, String)> {
        TEXT_FIELDS
            .iter()
            .filter_map(|(name, _)| {
                let value = self.text(name)?.trim();
                (!value.is_empty()).then(|| (name.to_string(), value.to_string()))
            })
            .collect()
    }

    /// `/audit?…` with these filters and one page parameter (`before`/`after`), if any.
    pub fn href(&self, page: Option<(&str, i64)>) -> String {
        let mut params = self.filter_params();
        if let Some((name, seq)) = page {
            params.push((name.to_string(), seq.to_string()));
        }
        if params.is_empty() {
            "/audit".to_string()
        } else {
            format!("/audit?{}", crate::urlenc::query_string(&params))
        }
    }
}

/// An exact value or a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Exact(String),
    Prefix(String),
}

/// Which page of the matching events, newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Page {
    #[default]
    Newest,
    /// Events older than this `seq`.
    Before(i64),
    /// Events newer than this `seq`.
    After(i64),
}

/// A calendar day, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    year: u16,
    month: u8,
    day: u8,
}

impl Day {
    /// Exactly `YYYY-MM-DD`, a day that exists.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Option<u16> {
            let part = bytes.get(range)?;
            part.iter()
                .all(u8::is_ascii_digit)
                .then(|| part.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0')))
        };
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let year = digits(0..4)?;
        let month = u8::try_from(digits(5..7)?).ok()?;
        let day = u8::try_from(digits(8..10)?).ok()?;
        let ok = year >= 1 && (1..=12).contains(&month) && day >= 1 && day <= days_in(year, month);
        ok.then_some(Self { year, month, day })
    }

    /// The stored timestamp of this day's first instant (UTC).
    pub fn start(self) -> String {
        format!(
            "{:04}-{:02}-{:02}T00:00:00.000000Z",
            self.year, self.month, self.day
        )
    }

    /// The stored timestamp of the next day's first instant: the end of an inclusive range.
    pub fn end(self) -> String {
        let next = if self.day < days_in(self.year, self.month) {
            Self {
                day: self.day + 1,
                ..self
            }
        } else if self.month < 12 {
            Self {
                month: self.month + 1,
                day: 1,
                ..self
            }
        } else {
            Self {
                year: self.year + 1,
                month: 1,
                day: 1,
            }
        };
        next.start()
    }
}

fn days_in(year: u16, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A checked search; built only by [`Search::parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    /// Lower-cased.
    pub actor: Option<String>,
    pub action: Option<Match>,
    pub subject: Option<Match>,
    pub from: Option<Day>,
    pub to: Option<Day>,
    /// Lower-cased.
    pub text: Option<String>,
    pub page: Page,
}

impl Search {
    /// Checks every field; the message names the field and what is wrong with it.
    pub fn parse(query: &AuditQuery) -> Result<Self, String> {
        for (name, label) in TEXT_FIELDS {
            let length = query.text(name).map_or(0, |v| v.chars().count());
            if length > MAX_INPUT {
                return Err(format!(
                    "{label} is too long: at most {MAX_INPUT} characters (got {length})."
                ));
            }
        }
        let given = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let day = |value: &Option<String>, label: &str| -> Result<Option<Day>, String> {
            given(value)
                .map(|text| {
                    Day::parse(&text).ok_or_else(|| {
                        format!("{label} must be a date written YYYY-MM-DD (such as 2026-11-30), not \"{text}\".")
                    })
                })
                .transpose()
        };
        let from = day(&query.from, "From")?;
        let to = day(&query.to, "To")?;
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err("From must be on or before To.".to_string());
            }
        }
        let page = match (query.before, query.after) {
            (Some(_), Some(_)) => {
                return Err("Ask for older or for newer events, not both.".to_string())
            }
            (Some(seq), None) if seq > 0 => Page::Before(seq),
            (None, Some(seq)) if seq >= 0 => Page::After(seq),
            (None, None) => Page::Newest,
            _ => return Err("The page must be an event number.".to_string()),
        };
        Ok(Self {
            actor: given(&query.actor).map(|a| a.to_lowercase()),
            action: given(&query.action).and_then(|a| matching(a, &['.', '*'])),
            subject: given(&query.subject).and_then(|s| matching(s, &[':', '*'])),
            from,
            to,
            text: given(&query.q).map(|q| q.to_lowercase()),
            page,
        })
    }

    /// True when any filter is set (the page aside).
    pub fn is_filtered(&self) -> bool {
        self.actor.is_some()
            || self.action.is_some()
            || self.subject.is_some()
            || self.from.is_some()
            || self.to.is_some()
            || self.text.is_some()
    }
}

/// A value ending in one of `prefix_marks` is a prefix (a trailing `*` is dropped); `*` alone
/// matches everything, so it is no filter.
fn matching(value: String, prefix_marks: &[char]) -> Option<Match> {
    if !value.ends_with(prefix_marks) {
        return Some(Match::Exact(value));
    }
    let prefix = value.strip_suffix('*').unwrap_or(&value);
    (!prefix.is_empty()).then(|| Match::Prefix(prefix.to_string()))
}

/// `text` as a LIKE pattern matching it anywhere, its own `%`, `_` and `\` escaped for
/// `ESCAPE '\'` ([`crate::db::escape_like`]).
#[cfg(feature = "ssr")]
pub fn contains_pattern(text: &str) -> String {
    format!("%{}%", crate::db::escape_like(text))
}

/// The least string greater than every string that starts with `prefix` (in code point
/// order, which is UTF-8 byte order): `[prefix, end)` is exactly the strings with that prefix.
/// `None` when no such string exists (the prefix ends with U+10FFFF).
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: AuditQuery) -> Result<Search, String> {
        Search::parse(&query)
    }

    #[test]
    fn empty_fields_are_no_filter() {
        let search = parse(AuditQuery {
            actor: Some("  ".into()),
            action: Some(String::new()),
            subject: Some("*".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(search, Search::default());
        assert!(!search.is_filtered());
    }

    #[test]
    fn prefixes_and_exact_values() {
        let search = parse(AuditQuery {
            actor: Some(" Ada@Example.com ".into()),
            action: Some("campaign.".into()),
            subject: Some("campaign:12".into()),
            q: Some("Revoke".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(search.actor.as_deref(), Some("ada@example.com"));
        assert_eq!(search.action, Some(Match::Prefix("campaign.".into())));
        assert_eq!(search.subject, Some(Match::Exact("campaign:12".into())));
        assert_eq!(search.text.as_deref(), Some("revoke"));
        let search = parse(AuditQuery {
            action: Some("review.decided".into()),
            subject: Some("item:1*".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(search.action, Some(Match::Exact("review.decided".into())));
        assert_eq!(search.subject, Some(Match::Prefix("item:1".into())));
    }

    #[test]
    fn days_are_strict_and_inclusive() {
        let search = parse(AuditQuery {
            from: Some("2024-02-28".into()),
            to: Some("2024-02-29".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(search.from.unwrap().start(), "2024-02-28T00:00:00.000000Z");
        assert_eq!(search.to.unwrap().end(), "2024-03-01T00:00:00.000000Z");
        assert_eq!(
            Day::parse("2026-12-31").unwrap().end(),
            "2027-01-01T00:00:00.000000Z"
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-1-01",
            "2026-01-1",
            "26-01-01",
            "2026/01/01",
            "2026-01-01T00:00",
            "+026-01-01",
            "yesterday",
        ] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        for (query, says) in [
            (
                AuditQuery {
                    actor: Some("a".repeat(201)),
                    ..Default::default()
                },
                "Actor is too long: at most 200 characters (got 201)",
            ),
            (
                AuditQuery {
                    q: Some("é".repeat(201)),
                    ..Default::default()
                },
                "Search is too long",
            ),
            (
                AuditQuery {
                    from: Some("2026-02-30".into()),
                    ..Default::default()
                },
                "From must be a date written YYYY-MM-DD",
            ),
            (
                AuditQuery {
                    from: Some("2026-11-30".into()),
                    to: Some("2026-11-01".into()),
                    ..Default::default()
                },
                "From must be on or before To",
            ),
            (
                AuditQuery {
                    before: Some(5),
                    after: Some(2),
                    ..Default::default()
                },
                "not both",
            ),
            (
                AuditQuery {
                    before: Some(0),
                    ..Default::default()
                },
                "event number",
            ),
        ] {
            let error = parse(query).unwrap_err();
            assert!(error.contains(says), "{error}");
        }
        // 200 characters, even multi-byte ones, are fine.
        assert!(parse(AuditQuery {
            actor: Some("é".repeat(200)),
            ..Default::default()
        })
        .is_ok());
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(contains_pattern("a_b%c\\d"), "%a\\_b\\%c\\\\d%");
    }

    #[test]
    fn prefix_ends_bound_exactly_the_prefixed_strings() {
        assert_eq!(prefix_end("campaign:1").as_deref(), Some("campaign:2"));
        assert_eq!(prefix_end("a.").as_deref(), Some("a/"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end("x\u{10FFFF}").as_deref(), Some("y"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
    }

    #[test]
    fn links_keep_the_filters_and_drop_the_page() {
        let query = AuditQuery {
            action: Some("campaign.".into()),
            q: Some("a b".into()),
            before: Some(40),
            ..Default::default()
        };
        assert_eq!(query.href(None), "/audit?action=campaign.&q=a%20b");
        assert_eq!(
            query.href(Some(("after", 7))),
            "/audit?action=campaign.&q=a%20b&after=7"
        );
        assert_eq!(AuditQuery::default().href(None), "/audit");
    }
}

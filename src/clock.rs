//! Time as a parameter: code asks an injected [`Clock`] for "now" so tests can move time.

use std::sync::{Arc, Mutex};

use time::{format_description::FormatItem, macros::format_description, Duration, OffsetDateTime};

/// Source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place that reads the system clock"
    )]
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock tests set and advance by hand.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Fixed-width UTC timestamp with microseconds, e.g. `2026-11-28T17:09:33.123456Z`.
///
/// Stored as text on both databases: it sorts correctly as a string and reads the same in an
/// export, a hash input and a SQL console.
const TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Formats a time for storage (always UTC).
pub fn format_timestamp(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    // The format has only numeric components, so formatting cannot fail for valid dates.
    utc.format(TIMESTAMP)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

/// Parses a stored timestamp.
pub fn parse_timestamp(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
    time::PrimitiveDateTime::parse(text, TIMESTAMP).map(|t| t.assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_round_trip_and_sort_as_text() {
        let a = datetime!(2026-11-28 17:09:33.5 UTC);
        let b = a + Duration::microseconds(1);
        let (ta, tb) = (format_timestamp(a), format_timestamp(b));
        assert_eq!(ta, "2026-11-28T17:09:33.500000Z");
        assert!(ta < tb);
        assert_eq!(parse_timestamp(&ta).unwrap(), a);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(datetime!(2026-01-01 0:00 UTC));
        clock.advance(Duration::days(1));
        assert_eq!(clock.now(), datetime!(2026-01-02 0:00 UTC));
    }
}

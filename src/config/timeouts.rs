//! How long the server waits on a client or a handler: a slow or stalled client must not hold
//! a connection (or a task) for ever.

use std::time::Duration;

use super::{parse_duration, ConfigError, RawConfig};

/// The server's time limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// `PAR_REQUEST_TIMEOUT`: from the request's arrival until the response starts (the body
    /// read included); beyond it 408. A streamed download is not cut once it has started.
    pub request: Duration,
    /// `PAR_HEADER_READ_TIMEOUT`: to send a request's line and headers; beyond it the
    /// connection is closed. It also closes keep-alive connections idle that long.
    pub header_read: Duration,
    /// `PAR_SHUTDOWN_DRAIN`: after SIGTERM, how long to go on accepting requests while
    /// `/readyz` answers 503, so a load balancer stops sending traffic first.
    pub drain: Duration,
    /// `PAR_SHUTDOWN_TIMEOUT`: then, how long in-flight requests and claimed background work
    /// get to finish before the process hands the work back and exits.
    pub shutdown: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            request: Duration::from_secs(30),
            header_read: Duration::from_secs(30),
            drain: Duration::ZERO,
            shutdown: Duration::from_secs(30),
        }
    }
}

impl RawConfig {
    /// `PAR_REQUEST_TIMEOUT`, `PAR_HEADER_READ_TIMEOUT`, `PAR_SHUTDOWN_DRAIN` and
    /// `PAR_SHUTDOWN_TIMEOUT`.
    pub(super) fn timeouts(&self) -> Result<Timeouts, ConfigError> {
        let defaults = Timeouts::default();
        Ok(Timeouts {
            request: self
                .parse("REQUEST_TIMEOUT", parse_duration)?
                .unwrap_or(defaults.request),
            header_read: self
                .parse("HEADER_READ_TIMEOUT", parse_duration)?
                .unwrap_or(defaults.header_read),
            // Zero is a sensible drain (nothing in front to tell), unlike the other durations.
            drain: self
                .parse("SHUTDOWN_DRAIN", |v| match v.trim_end_matches('s') {
                    "0" => Ok(Duration::ZERO),
                    _ => parse_duration(v),
                })?
                .unwrap_or(defaults.drain),
            shutdown: self
                .parse("SHUTDOWN_TIMEOUT", parse_duration)?
                .unwrap_or(defaults.shutdown),
        })
    }
}

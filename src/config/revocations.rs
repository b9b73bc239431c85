//! The revocation worker's lease: how long a claimed job stays out of other workers' reach.
//! A worker that is killed mid-job leaves its lease behind, and the job runs again only once
//! the lease has run out, so this is also the longest a job waits after a crash.

use std::time::Duration;

use super::{parse_duration, ConfigError, RawConfig};

/// Long enough for a job's three calls at their default 30 s timeout, with room to spare.
pub const DEFAULT_REVOCATION_LEASE: Duration = Duration::from_secs(300);

impl RawConfig {
    /// `PAR_REVOCATION_LEASE`, or the default (whole seconds, at least 1 s).
    pub fn revocation_lease(&self) -> Result<Duration, ConfigError> {
        Ok(self
            .parse("REVOCATION_LEASE", parse_duration)?
            .unwrap_or(DEFAULT_REVOCATION_LEASE))
    }
}

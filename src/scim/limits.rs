//! Request budget per identity provider: a token bucket of [`BURST`] requests refilled at
//! [`PER_SECOND`], in memory (each instance keeps its own). Time comes from the application
//! clock, so tests can empty a bucket and refill it by moving time.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use time::OffsetDateTime;

use crate::clock::Clock;

/// Sustained requests per second per provider. Entra ID's provisioning service stays well
/// under this; an initial Okta push of thousands of users is spread over minutes.
pub const PER_SECOND: f64 = 20.0;
/// Requests a provider may send at once.
pub const BURST: f64 = 100.0;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: OffsetDateTime,
}

#[derive(Debug)]
pub struct ProviderLimiter {
    clock: Arc<dyn Clock>,
    buckets: Mutex<HashMap<i64, Bucket>>,
}

impl ProviderLimiter {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `provider`'s budget; `Err(seconds)` says when to try again.
    pub fn take(&self, provider: i64) -> Result<(), u64> {
        let now = self.clock.now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(provider).or_insert(Bucket {
            tokens: BURST,
            updated: now,
        });
        // A clock set back refills nothing rather than draining the bucket.
        let elapsed = (now - bucket.updated).as_seconds_f64().max(0.0);
        bucket.tokens = (bucket.tokens + elapsed * PER_SECOND).min(BURST);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / PER_SECOND;
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use time::macros::datetime;

    #[test]
    fn bursts_then_refills_per_provider() {
        let clock = ManualClock::new(datetime!(2026-01-01 0:00 UTC));
        let limiter = ProviderLimiter::new(Arc::new(clock.clone()));
        for _ in 0..100 {
            assert!(limiter.take(1).is_ok());
        }
        assert_eq!(limiter.take(1), Err(1));
        assert!(limiter.take(2).is_ok(), "providers are independent");
        clock.advance(time::Duration::milliseconds(100));
        assert!(limiter.take(1).is_ok());
        assert!(limiter.take(1).is_ok());
        assert!(limiter.take(1).is_err());
    }
}

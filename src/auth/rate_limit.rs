//! Per-client-address rate limit for `/auth/*` (token bucket, in memory).

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Buckets kept before idle ones are dropped, bounding memory under address churn.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Allows `per_minute` requests per address with bursts of the same size.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: f64::from(per_minute),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `addr`; `Err(seconds)` says when the next one is available.
    pub fn take(&self, addr: IpAddr, now: Instant) -> Result<(), u64> {
        let addr = bucket_key(addr);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&addr) {
            // Make room by forgetting the address idle the longest.
            if let Some(oldest) = buckets
                .iter()
                .min_by_key(|(_, b)| b.updated)
                .map(|(k, _)| *k)
            {
                buckets.remove(&oldest);
            }
        }
        let bucket = buckets.entry(addr).or_insert(Bucket {
            tokens: self.per_minute,
            updated: now,
        });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * self.per_minute / 60.0;
        bucket.tokens = (bucket.tokens + refill).min(self.per_minute);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) * 60.0 / self.per_minute;
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

/// One bucket per IPv4 address, and per /64 for IPv6 (one host usually holds a whole /64).
fn bucket_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::V6(octets.into())
        }
    }
}

/// The client's address: the peer, or behind a trusted proxy the last `X-Forwarded-For` hop
/// (the one the proxy added; earlier ones come from the client and prove nothing).
pub(crate) fn client_addr(req: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// What [`limit`] needs: the buckets and whether to believe `X-Forwarded-For`.
#[derive(Debug, Clone)]
pub struct RateLimitState {
    pub limiter: Arc<RateLimiter>,
    pub trust_forwarded_for: bool,
}

/// Middleware for the `/auth` routes.
pub async fn limit(State(state): State<RateLimitState>, req: Request, next: Next) -> Response {
    let Some(addr) = client_addr(&req, state.trust_forwarded_for) else {
        return next.run(req).await;
    };
    match state.limiter.take(addr, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            tracing::warn!(client = %addr, "sign-in rate limit reached");
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                "too many sign-in requests from your address; please wait a minute",
            )
                .into_response();
            if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_empties_and_refills() {
        let limiter = RateLimiter::new(3);
        let addr: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.take(addr, t0).is_ok());
        }
        assert_eq!(limiter.take(addr, t0), Err(20));
        assert!(limiter.take(other, t0).is_ok(), "addresses are independent");
        assert!(limiter.take(addr, t0 + Duration::from_secs(20)).is_ok());
    }

    #[test]
    fn ipv6_addresses_share_their_64() {
        let limiter = RateLimiter::new(1);
        let t0 = Instant::now();
        assert!(limiter.take("2001:db8::1".parse().unwrap(), t0).is_ok());
        assert!(limiter
            .take("2001:db8::ffff:2".parse().unwrap(), t0)
            .is_err());
        assert!(limiter.take("2001:db8:0:1::1".parse().unwrap(), t0).is_ok());
    }
}

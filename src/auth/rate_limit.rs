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

/// The `X-Forwarded-For` entries of every such header, in order.
fn forwarded_for(req: &Request) -> Vec<&str> {
    req.headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// The client's address. Each trusted proxy appends the address it got the request from, so
/// with `hops` proxies the client is the entry `hops` places from the right; entries further
/// left came from the client and prove nothing. With no trusted proxy, the peer.
pub fn client_addr(req: &Request, hops: u8) -> Option<IpAddr> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    if hops == 0 {
        return peer;
    }
    let entries = forwarded_for(req);
    // Fewer entries than proxies: the request skipped one, so the leftmost is the best known.
    let index = entries.len().saturating_sub(usize::from(hops));
    entries
        .get(index)
        .and_then(|entry| entry.parse().ok())
        .or(peer)
}

/// What [`limit`] needs: the buckets and how many proxies to believe.
#[derive(Debug, Clone)]
pub struct RateLimitState {
    pub limiter: Arc<RateLimiter>,
    pub trusted_proxy_hops: u8,
    /// Set once the "proxy but no trust configured" warning was logged.
    pub warned: Arc<std::sync::atomic::AtomicBool>,
}

/// Middleware for the sign-in routes (`/auth/login`, `/auth/callback`; never sign-out).
pub async fn limit(State(state): State<RateLimitState>, req: Request, next: Next) -> Response {
    if state.trusted_proxy_hops == 0
        && req.headers().contains_key("x-forwarded-for")
        && !state
            .warned
            .swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        // Every client then shares the proxy's bucket: one busy office locks everyone out.
        tracing::warn!(
            "requests carry X-Forwarded-For but PAR_TRUSTED_PROXY_HOPS is 0: the sign-in rate \
             limit counts the proxy's address for every client; set it to the number of proxies \
             in front of the app"
        );
    }
    let Some(addr) = client_addr(&req, state.trusted_proxy_hops) else {
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

    fn request(forwarded: &[&str]) -> Request {
        let mut builder = Request::builder().uri("/auth/login");
        for value in forwarded {
            builder = builder.header("x-forwarded-for", *value);
        }
        let mut req = builder.body(axum::body::Body::empty()).unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 4000))));
        req
    }

    fn ip(text: &str) -> Option<IpAddr> {
        text.parse().ok()
    }

    #[test]
    fn the_client_is_the_entry_the_trusted_proxies_added() {
        let spoofed = request(&["6.6.6.6, 198.51.100.7", "203.0.113.9"]);
        // No trusted proxy: the peer, whatever the header says.
        assert_eq!(client_addr(&spoofed, 0), ip("10.0.0.1"));
        // One proxy appended the last entry; two proxies the last two.
        assert_eq!(client_addr(&spoofed, 1), ip("203.0.113.9"));
        assert_eq!(client_addr(&spoofed, 2), ip("198.51.100.7"));
        // More proxies configured than entries: the leftmost known.
        assert_eq!(client_addr(&spoofed, 5), ip("6.6.6.6"));
        // No header at all: the peer.
        assert_eq!(client_addr(&request(&[]), 1), ip("10.0.0.1"));
        // An unreadable entry is not an address: the peer.
        assert_eq!(client_addr(&request(&["not-an-ip"]), 1), ip("10.0.0.1"));
    }

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

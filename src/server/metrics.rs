//! Request counts and latencies in the Prometheus text format, and who may read them:
//! `GET /metrics` answers scrapers that send `PAR_METRICS_TOKEN` as a bearer token, or anyone
//! on `PAR_METRICS_ADDR`, a listener of its own; with neither configured it is off (404).

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
    Extension, Router,
};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::{auth::guard::Refusal, config::MetricsConfig};

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
}

/// In-process registry; one per application state.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner
            .requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let histogram = inner
            .latency
            .entry((method.to_string(), route.to_string()))
            .or_default();
        for (bound, slot) in BUCKETS.iter().zip(histogram.buckets.iter_mut()) {
            if seconds <= *bound {
                *slot += 1;
            }
        }
        histogram.sum += seconds;
        histogram.count += 1;
    }

    /// Renders every series in the Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        out.push_str(
            "# HELP par_http_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE par_http_requests_total counter\n");
        for ((method, route, status), count) in &inner.requests {
            let _ = writeln!(
                out,
                "par_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                escape(route)
            );
        }
        out.push_str("# HELP par_http_request_duration_seconds Time to answer HTTP requests.\n");
        out.push_str("# TYPE par_http_request_duration_seconds histogram\n");
        for ((method, route), h) in &inner.latency {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (bound, count) in BUCKETS.iter().zip(h.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "par_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "par_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "par_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "par_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Route label: the matched route pattern, so ids in paths do not create new series.
fn route_label(req: &Request) -> String {
    if let Some(path) = req.extensions().get::<MatchedPath>() {
        return path.as_str().to_string();
    }
    if req.uri().path().starts_with("/pkg/") {
        "/pkg/{file}".to_string()
    } else {
        "unmatched".to_string()
    }
}

/// Middleware that records every request.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    // A fixed set: any token is a valid HTTP method, and each label value is kept forever.
    let method = match *req.method() {
        Method::GET
        | Method::HEAD
        | Method::POST
        | Method::PUT
        | Method::PATCH
        | Method::DELETE
        | Method::OPTIONS => req.method().as_str(),
        _ => "OTHER",
    }
    .to_string();
    let route = route_label(&req);
    let started = Instant::now();
    let response = next.run(req).await;
    metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// What `GET /metrics` needs: the registry and, when a token is configured, its SHA-256.
#[derive(Clone)]
pub struct Endpoint {
    metrics: Arc<Metrics>,
    token_hash: Option<[u8; 32]>,
}

impl Endpoint {
    pub fn new(metrics: Arc<Metrics>, token: Option<&SecretString>) -> Self {
        Self {
            metrics,
            token_hash: token.map(|t| Sha256::digest(t.expose_secret().as_bytes()).into()),
        }
    }

    /// Whether the request may read the metrics: no token configured (an address of its own),
    /// or `Authorization: Bearer <token>`. Hashes of equal length are compared in constant
    /// time, so neither the token's bytes nor its length leak through timing.
    fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.token_hash else {
            return true;
        };
        let Some(presented) = bearer(headers) else {
            return false;
        };
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        presented.ct_eq(expected).into()
    }
}

/// `Authorization: Bearer <token>`, the scheme in any case.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The main listener's `/metrics`: there only with a token and no address of its own
/// (otherwise the path is unrouted and answers 404).
pub fn main_routes<S: Clone + Send + Sync + 'static>(
    metrics: Arc<Metrics>,
    config: &MetricsConfig,
) -> Router<S> {
    if !config.on_main_listener() {
        return Router::new();
    }
    Router::new()
        .route("/metrics", get(render))
        .with_state(Endpoint::new(metrics, config.token.as_ref()))
}

/// The router of `PAR_METRICS_ADDR`: `/metrics` alone, behind the token when one is set.
pub fn own_router(metrics: Arc<Metrics>, config: &MetricsConfig) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(Endpoint::new(metrics, config.token.as_ref()))
}

/// `GET /metrics`.
async fn render(
    State(endpoint): State<Endpoint>,
    refusal: Option<Extension<Refusal>>,
    headers: HeaderMap,
) -> Response {
    if !endpoint.allows(&headers) {
        const WHY: &str = "no valid metrics bearer token";
        match refusal {
            // The main listener: `server::refusals` logs it.
            Some(Extension(refusal)) => refusal.note(WHY),
            None => tracing::warn!(reason = WHY, "access to /metrics refused"),
        }
        let mut response = (
            StatusCode::UNAUTHORIZED,
            "metrics need Authorization: Bearer <PAR_METRICS_TOKEN>\n",
        )
            .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return response;
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        endpoint.metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_bearer_token_opens_the_metrics() {
        let token = SecretString::from("0123456789abcdef-scrape".to_string());
        let endpoint = Endpoint::new(Arc::default(), Some(&token));
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            headers
        };
        assert!(endpoint.allows(&with("Bearer 0123456789abcdef-scrape")));
        assert!(endpoint.allows(&with("bearer 0123456789abcdef-scrape")));
        assert!(!endpoint.allows(&with("Bearer 0123456789abcdef-scrap")));
        assert!(!endpoint.allows(&with("Basic 0123456789abcdef-scrape")));
        assert!(!endpoint.allows(&HeaderMap::new()));
        // No token: an address of its own, open to whoever reaches it.
        assert!(Endpoint::new(Arc::default(), None).allows(&HeaderMap::new()));
    }

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.observe("GET", "/healthz", 200, 0.002);
        metrics.observe("GET", "/healthz", 200, 0.3);
        let text = metrics.render();
        assert!(text.contains(
            "par_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "par_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "par_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.5\"} 2"
        ));
        assert!(text.contains(
            "par_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 2"
        ));
    }
}

//! Our HTTP transport for the `postmark` crate: one reqwest client with the base URL from
//! configuration, timeouts, a User-Agent, the right token header, and retries.
//!
//! Retries: 429 is retried for every request (Postmark did not process it), after
//! `Retry-After` plus a little jitter, unless that is longer than the policy's longest wait
//! (then the 429 is returned rather than retried early); 5xx and network failures only for GET,
//! since repeating a POST could send an email twice. Waits grow exponentially with jitter.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};
use url::Url;

/// Which token a request carries.
#[derive(Clone)]
pub enum Token {
    /// `X-Postmark-Account-Token`: servers, domains, sender signatures.
    Account(SecretString),
    /// `X-Postmark-Server-Token`: sending, stats, message streams of one server.
    Server(SecretString),
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token itself.
        f.write_str(match self {
            Token::Account(_) => "Token::Account(***)",
            Token::Server(_) => "Token::Server(***)",
        })
    }
}

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// A failure below the API level: the request got no HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("could not reach Postmark: {0}")]
    Network(String),
    #[error("Postmark did not answer within the timeout")]
    Timeout,
    #[error("invalid request: {0}")]
    Request(String),
}

/// One configured connection to Postmark (or the simulator).
#[derive(Debug, Clone)]
pub struct Transport {
    http: reqwest::Client,
    base_url: Url,
    token: Token,
    retry: RetryPolicy,
}

impl Transport {
    pub fn new(
        base_url: Url,
        token: Token,
        connect_timeout: Duration,
        request_timeout: Duration,
        retry: RetryPolicy,
    ) -> anyhow::Result<Self> {
        // A base with a path (a proxy at https://proxy/postmark) must keep it when joined.
        let base_url = if base_url.path().ends_with('/') {
            base_url
        } else {
            let mut with_slash = base_url;
            let path = format!("{}/", with_slash.path());
            with_slash.set_path(&path);
            with_slash
        };
        let http = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "postmark-access-review/",
                env!("CARGO_PKG_VERSION"),
                " (+https://github.com/postmark-access-review)"
            ))
            .build()?;
        Ok(Self {
            http,
            base_url,
            token,
            retry,
        })
    }

    /// The same connection with another token (a server token for stats).
    pub fn with_token(&self, token: Token) -> Self {
        Self {
            token,
            ..self.clone()
        }
    }

    async fn send_once(&self, req: &Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let path = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let url = self
            .base_url
            .join(path.trim_start_matches('/'))
            .map_err(|e| TransportError::Request(e.to_string()))?;
        let mut builder = self
            .http
            .request(req.method().clone(), url)
            .body(req.body().clone());
        for (name, value) in req.headers() {
            builder = builder.header(name, value);
        }
        builder = match &self.token {
            Token::Account(t) => builder.header("X-Postmark-Account-Token", t.expose_secret()),
            Token::Server(t) => builder.header("X-Postmark-Server-Token", t.expose_secret()),
        };
        let response = builder.send().await.map_err(classify)?;
        let mut out = Response::builder().status(response.status());
        for (name, value) in response.headers() {
            out = out.header(name, value);
        }
        let body = response.bytes().await.map_err(classify)?;
        out.body(body)
            .map_err(|e| TransportError::Request(e.to_string()))
    }

    fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            // Spread the parallel requests that were throttled together.
            let jitter = self
                .retry
                .base_delay
                .mul_f64(rand::Rng::gen_range(&mut rand::thread_rng(), 0.0..=1.0));
            return wait + jitter;
        }
        let exp = self
            .retry
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.retry.max_delay);
        // Jitter: spread the retries of parallel requests.
        let factor: f64 = rand::Rng::gen_range(&mut rand::thread_rng(), 0.5..=1.0);
        exp.mul_f64(factor)
    }
}

fn classify(error: reqwest::Error) -> TransportError {
    if error.is_timeout() {
        TransportError::Timeout
    } else {
        // reqwest errors name the URL but never headers, so no token can appear here.
        TransportError::Network(error.without_url().to_string())
    }
}

pub(crate) fn retry_after(response: &Response<Bytes>) -> Option<Duration> {
    let value = response
        .headers()
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[async_trait]
impl ::postmark::Client for Transport {
    type Error = TransportError;

    async fn execute(&self, req: Request<Bytes>) -> Result<Response<Bytes>, Self::Error> {
        let idempotent = req.method() == http::Method::GET;
        let mut attempt = 1;
        loop {
            let outcome = self.send_once(&req).await;
            let last = attempt >= self.retry.max_attempts;
            let wait = match &outcome {
                Ok(r) if r.status() == StatusCode::TOO_MANY_REQUESTS && !last => {
                    match retry_after(r) {
                        // Asked to wait longer than we would: give up now, honestly.
                        Some(wait) if wait > self.retry.max_delay => None,
                        other => Some(self.delay(attempt, other)),
                    }
                }
                Ok(r) if r.status().is_server_error() && idempotent && !last => {
                    Some(self.delay(attempt, None))
                }
                Err(TransportError::Network(_) | TransportError::Timeout)
                    if idempotent && !last =>
                {
                    Some(self.delay(attempt, None))
                }
                _ => None,
            };
            match wait {
                Some(wait) => {
                    tracing::debug!(
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "retrying Postmark request"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                None => return outcome,
            }
        }
    }
}

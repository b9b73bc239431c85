//! Response headers every page carries, and the Origin check for state-changing requests.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use leptos::nonce::Nonce;

use crate::{auth::guard::Refusal, config::ServerConfig};

/// Content-Security-Policy with a per-response nonce for Leptos' inline hydration script.
///
/// `'wasm-unsafe-eval'` permits compiling the app's WebAssembly, nothing else.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the security headers. The nonce is put into the request for the renderer (see
/// `server::request_context`) and into the policy of the response.
pub async fn headers(
    State(config): State<Arc<ServerConfig>>,
    mut req: Request,
    next: Next,
) -> Response {
    let nonce = Nonce::new();
    req.extensions_mut().insert(nonce.clone());
    let mut response = next.run(req).await;

    let h = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&nonce)) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if config.is_https() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            // No includeSubDomains: the application may live on a domain other sites share.
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    // Pages and API answers hold review data: keep them out of shared caches and history.
    let is_document_or_data = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"));
    if is_document_or_data && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Refuses cross-site state-changing requests (CSRF defence beside SameSite cookies).
///
/// Browsers send `Origin` on every POST, PUT, PATCH and DELETE; it must be our public origin.
/// Under `Referrer-Policy: no-referrer` a form post carries `Origin: null`, so then the fetch
/// metadata decides (`Sec-Fetch-Site: same-origin`). Clients that send neither header are not
/// browsers and carry no ambient credentials from another site, so they pass.
pub async fn check_origin(
    State(config): State<Arc<ServerConfig>>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    if origin_allowed(req.headers(), &config.origin()) {
        next.run(req).await
    } else {
        // Logged (and audited for a signed-in person) by `server::refusals`.
        if let Some(refusal) = req.extensions().get::<Refusal>() {
            refusal.note("cross-origin request (Origin or Sec-Fetch-Site names another site)");
        }
        (
            StatusCode::FORBIDDEN,
            "cross-origin request refused: this action must come from the application's own pages",
        )
            .into_response()
    }
}

fn origin_allowed(headers: &axum::http::HeaderMap, ours: &str) -> bool {
    let origin = headers.get(header::ORIGIN).map(|o| o.as_bytes());
    let fetch_site = headers.get("sec-fetch-site").map(|s| s.as_bytes());
    match origin {
        Some(origin) if origin == ours.as_bytes() => true,
        Some(origin) if origin != b"null" => false,
        _ => match fetch_site {
            Some(site) => site == b"same-origin" || site == b"none",
            // No fetch metadata: fine for non-browser clients, not for an opaque origin.
            None => origin.is_none(),
        },
    }
}

/// Buffers bodies sent without `Content-Length` (chunked) up to `limit`, answering 413 beyond
/// it. Bodies with a length are refused up front by `RequestBodyLimitLayer`; without this a
/// chunked body over the limit would surface as a decoding error (500) deep in a handler.
pub async fn limit_chunked_body(State(limit): State<usize>, req: Request, next: Next) -> Response {
    if req.headers().contains_key(header::CONTENT_LENGTH)
        || matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
    {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(_) => (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
    }
}

/// Keeps a caller's `x-request-id` only when it is a short token; anything else (long, or
/// with characters that could forge log lines) is dropped and a fresh id is assigned.
pub async fn sanitize_request_id(mut req: Request, next: Next) -> Response {
    let valid = req.headers().get("x-request-id").is_none_or(|id| {
        let id = id.as_bytes();
        !id.is_empty()
            && id.len() <= 64
            && id
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    if !valid {
        req.headers_mut().remove("x-request-id");
    }
    next.run(req).await
}

/// Demo only: requests for another host name (`localhost` instead of `127.0.0.1`, or a
/// DNS-rebinding name) are sent to the public URL, where cookies and sign-in work.
pub async fn canonical_host(
    State(config): State<Arc<ServerConfig>>,
    req: Request,
    next: Next,
) -> Response {
    let expected = config
        .public_url
        .host_str()
        .map(|host| match config.public_url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        })
        .unwrap_or_default();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if host == expected {
        return next.run(req).await;
    }
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        let path = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let target = format!("{}{}", config.origin(), path);
        axum::response::Redirect::permanent(&target).into_response()
    } else {
        (StatusCode::MISDIRECTED_REQUEST, "wrong host name").into_response()
    }
}

/// Query parameters Leptos reads as a server action's error (its no-JavaScript fallback) and
/// shows as a notice: anyone could put them in a link, so a page never takes them from a URL.
const ACTION_ERROR_PARAMS: [&str; 2] = ["__err", "__path"];

/// A page request carrying [`ACTION_ERROR_PARAMS`] is sent to the same address without them
/// (303), so a crafted link cannot make the app display a message of the sender's choosing.
pub async fn strip_url_errors(req: Request, next: Next) -> Response {
    let Some(query) = req.uri().query() else {
        return next.run(req).await;
    };
    let spoofable = url::form_urlencoded::parse(query.as_bytes())
        .any(|(name, _)| ACTION_ERROR_PARAMS.contains(&name.as_ref()));
    if !spoofable || req.method() != Method::GET {
        return next.run(req).await;
    }
    let kept: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| !ACTION_ERROR_PARAMS.contains(&name.as_ref()))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let mut target = req.uri().path().to_string();
    if !kept.is_empty() {
        target.push('?');
        target.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept)
                .finish(),
        );
    }
    match HeaderValue::from_str(&target) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_rules() {
        use axum::http::HeaderMap;
        let ours = "http://127.0.0.1:3000";
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            h
        };
        assert!(origin_allowed(
            &headers(&[("origin", "http://127.0.0.1:3000")]),
            ours
        ));
        assert!(!origin_allowed(
            &headers(&[("origin", "https://evil.example")]),
            ours
        ));
        assert!(origin_allowed(
            &headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")]),
            ours
        ));
        assert!(!origin_allowed(
            &headers(&[("origin", "null"), ("sec-fetch-site", "cross-site")]),
            ours
        ));
        assert!(!origin_allowed(&headers(&[("origin", "null")]), ours));
        assert!(origin_allowed(&headers(&[]), ours));
        assert!(!origin_allowed(
            &headers(&[("sec-fetch-site", "same-site")]),
            ours
        ));
    }

    #[test]
    fn policy_allows_own_wasm_and_forbids_framing() {
        let csp = content_security_policy("abc");
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
    }
}

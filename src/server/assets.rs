//! The browser bundle under `/pkg`. A release site (`scripts/build --release`) keeps it in
//! `pkg/<build id>/` and names the id in `build-id`: those files never change, so browsers
//! keep them for a year (`immutable`), and a deploy never pairs old files with new HTML (new
//! HTML names a new folder). Each file may have a `.br` and a `.gz` beside it, sent to
//! browsers that accept them. A debug site (`pkg/` alone) is revalidated on every load.

use std::path::Path;

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
    Router,
};
use tower_http::services::ServeDir;

/// A build id as `scripts/build` writes it: 16 lower-case hex digits.
fn valid(id: &str) -> bool {
    id.len() == 16
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The bundle's folder under the site root: `pkg/<id>` for a release site, else `pkg`.
pub fn pkg_dir(site_root: &Path) -> String {
    match std::fs::read_to_string(site_root.join("build-id")) {
        Ok(text) if valid(text.trim()) && site_root.join("pkg").join(text.trim()).is_dir() => {
            format!("pkg/{}", text.trim())
        }
        Ok(text) => {
            tracing::warn!(
                build_id = text.trim(),
                "ignoring build-id: unreadable, or its pkg/ folder is missing; serving pkg/"
            );
            "pkg".to_string()
        }
        Err(_) => "pkg".to_string(),
    }
}

/// `/pkg/…` from `site_root/pkg`, precompressed files preferred.
pub fn router<S: Clone + Send + Sync + 'static>(site_root: &Path) -> Router<S> {
    let files = ServeDir::new(site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .nest_service("/pkg", files)
        .layer(axum::middleware::from_fn(cache_control))
}

async fn cache_control(request: Request, next: Next) -> Response {
    // `/pkg/<id>/file`: a versioned file; anything else under /pkg may change in place.
    let versioned = request
        .uri()
        .path()
        .strip_prefix("/pkg/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(id, _)| valid(id));
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status().as_u16() == 304 {
        let value = if versioned {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
        // Every answer here depends on Accept-Encoding (a .br, a .gz or the file itself), the
        // identity one too: a shared cache must not hand it to a browser that wants br.
        if !headers.contains_key(header::VARY) {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_written_ids_name_a_folder() {
        assert!(valid("0123456789abcdef"));
        assert!(!valid("0123456789ABCDEF"));
        assert!(!valid("../../etc/passwd"));
        assert!(!valid("0123"));
    }
}

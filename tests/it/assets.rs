//! How the browser bundle and pages are served: a release site's versioned files (the lazily
//! loaded pieces too) are cached for a year and sent precompressed as the browser accepts;
//! pages name the versioned files, are compressed on the way out and never stored; a debug
//! site is revalidated.

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, VARY};

use crate::{
    auth::{signed_in, RITA},
    helpers::TestApp,
};

const ID: &str = "0123456789abcdef";
const JS: &str = "postmark_access_review.js";

/// A release site as `scripts/build --release` lays it out, with marked file contents.
fn release_site() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let versioned = root.path().join("pkg").join(ID);
    std::fs::create_dir_all(&versioned).unwrap();
    std::fs::write(versioned.join(JS), "identity js").unwrap();
    std::fs::write(versioned.join(format!("{JS}.br")), "brotli js").unwrap();
    std::fs::write(versioned.join(format!("{JS}.gz")), "gzip js").unwrap();
    std::fs::write(
        root.path().join("pkg").join("postmark_access_review.css"),
        "body {}",
    )
    .unwrap();
    std::fs::write(root.path().join("build-id"), format!("{ID}\n")).unwrap();
    root
}

async fn fetch(app: &TestApp, path: &str, accept: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::new();
    let mut request = client.get(app.at(path));
    if let Some(accept) = accept {
        request = request.header(ACCEPT_ENCODING, accept);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versioned_files_are_immutable_and_sent_precompressed() {
    let site = release_site();
    let app = TestApp::builder().site_root(site.path()).spawn().await;
    let path = format!("/pkg/{ID}/{JS}");
    for (accept, encoding, body) in [
        (Some("gzip, deflate, br"), "br", "brotli js"),
        (Some("gzip"), "gzip", "gzip js"),
        (None, "", "identity js"),
    ] {
        let response = fetch(&app, &path, accept).await;
        assert_eq!(response.status(), 200, "{accept:?}");
        assert_eq!(header(&response, CONTENT_ENCODING), encoding, "{accept:?}");
        assert_eq!(
            header(&response, CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        assert!(header(&response, VARY)
            .to_lowercase()
            .contains("accept-encoding"));
        assert!(header(&response, "content-type".parse().unwrap()).starts_with("text/javascript"));
        assert_eq!(response.text().await.unwrap(), body);
    }
    // Outside a build's folder: revalidated, never immutable.
    let css = fetch(&app, "/pkg/postmark_access_review.css", None).await;
    assert_eq!(css.status(), 200);
    assert_eq!(header(&css, CACHE_CONTROL), "no-cache");
    // An old build's folder is gone after a deploy: 404, not another build's file.
    let old = fetch(&app, &format!("/pkg/fedcba9876543210/{JS}"), None).await;
    assert_eq!(old.status(), 404);
}

/// The pieces the lazily loaded pages fetch (`scripts/lib.sh`, `build_split_wasm`): wasm as
/// `application/wasm`, which `WebAssembly.instantiateStreaming` insists on, and the loader
/// script, both cached and precompressed like the rest of the build.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazily_loaded_pieces_are_served_like_the_rest_of_the_build() {
    let site = release_site();
    let versioned = site.path().join("pkg").join(ID);
    std::fs::write(versioned.join("chunk_23.wasm"), "identity wasm").unwrap();
    std::fs::write(versioned.join("chunk_23.wasm.br"), "brotli wasm").unwrap();
    std::fs::write(versioned.join("__wasm_split.js"), "identity loader").unwrap();
    std::fs::write(versioned.join("__wasm_split.js.gz"), "gzip loader").unwrap();
    let app = TestApp::builder().site_root(site.path()).spawn().await;
    for (file, accept, encoding, content_type, body) in [
        (
            "chunk_23.wasm",
            "gzip, br",
            "br",
            "application/wasm",
            "brotli wasm",
        ),
        (
            "chunk_23.wasm",
            "identity",
            "",
            "application/wasm",
            "identity wasm",
        ),
        (
            "__wasm_split.js",
            "gzip",
            "gzip",
            "text/javascript",
            "gzip loader",
        ),
    ] {
        let response = fetch(&app, &format!("/pkg/{ID}/{file}"), Some(accept)).await;
        assert_eq!(response.status(), 200, "{file} {accept}");
        assert_eq!(
            header(&response, CONTENT_ENCODING),
            encoding,
            "{file} {accept}"
        );
        assert!(
            header(&response, "content-type".parse().unwrap()).starts_with(content_type),
            "{file}"
        );
        assert_eq!(
            header(&response, CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(response.text().await.unwrap(), body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_name_the_build_and_are_compressed_and_never_stored() {
    let site = release_site();
    let app = TestApp::builder().site_root(site.path()).spawn().await;
    let rita = signed_in(&app, RITA).await;
    let page = rita.get("/reviews").await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, CACHE_CONTROL), "no-store");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("/pkg/{ID}/{JS}")),
        "the page names its build"
    );
    assert!(html.contains(&format!("/pkg/{ID}/postmark_access_review.css")));

    // The same page and a server function's answer, compressed when the browser accepts it.
    let compressed = rita
        .client
        .get(app.at("/reviews"))
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(compressed.status(), 200);
    assert_eq!(header(&compressed, CONTENT_ENCODING), "br");
    assert_eq!(header(&compressed, CACHE_CONTROL), "no-store");
    let data = rita
        .client
        .post(app.at("/api/reviews_queue"))
        .header("origin", app.url.clone())
        .header(ACCEPT_ENCODING, "gzip")
        .json(&serde_json::json!({ "query": {} }))
        .send()
        .await
        .unwrap();
    assert_eq!(data.status(), 200);
    assert_eq!(header(&data, CONTENT_ENCODING), "gzip");
    assert_eq!(header(&data, CACHE_CONTROL), "no-store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debug_site_is_revalidated() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("pkg")).unwrap();
    std::fs::write(root.path().join("pkg").join(JS), "debug js").unwrap();
    let app = TestApp::builder().site_root(root.path()).spawn().await;
    let response = fetch(&app, &format!("/pkg/{JS}"), None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, CACHE_CONTROL), "no-cache");
    assert_eq!(response.text().await.unwrap(), "debug js");
}

use crate::helpers::TestApp;

#[tokio::test]
async fn home_page_renders_the_shell_and_landing_page() {
    let app = TestApp::spawn().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    for label in ["Inventory", "Campaigns", "My reviews", "Audit", "Settings"] {
        assert!(html.contains(&format!(">{label}</a>")), "nav has {label}");
    }
    assert!(html.contains("Quarterly access reviews for your Postmark account"));
    assert!(!html.contains("Demo mode."), "no demo banner outside demo");
    assert!(
        html.contains("/pkg/postmark_access_review.js"),
        "hydration script"
    );
}

#[tokio::test]
async fn every_section_page_renders() {
    let app = TestApp::spawn().await;
    for (path, title) in [
        ("/inventory", "Inventory"),
        ("/campaigns", "Campaigns"),
        ("/reviews", "My reviews"),
        ("/audit", "Audit"),
        ("/settings", "Settings"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains(&format!("<h1>{title}</h1>")),
            "{path}: {html}"
        );
        assert!(html.contains(&format!("<title>{title} · Postmark Access Review</title>")));
    }
}

#[tokio::test]
async fn unknown_paths_get_the_404_page() {
    let app = TestApp::spawn().await;
    for path in ["/nope", "/inventory/deeper/still", "/pkg/missing.js"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("Page not found"), "{path}");
    }
}

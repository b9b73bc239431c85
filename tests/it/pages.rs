use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    assert!(html.contains("Quarterly access reviews for your Postmark account"));
    assert!(html.contains("href=\"/auth/login\""), "sign-in offered");
    assert!(
        !html.contains("id=\"primary-nav\""),
        "no section navigation signed out"
    );
    assert!(!html.contains("Demo mode."), "no demo banner outside demo");
    assert!(
        html.contains("/pkg/postmark_access_review.js"),
        "hydration script"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_in_people_see_every_section_and_the_navigation() {
    let app = TestApp::spawn().await;
    let browser = crate::auth::signed_in(&app, crate::auth::ADA).await;
    // Without Leptos' hydration markers (`<!>`), which erased components add after text.
    let home = browser
        .get("/")
        .await
        .text()
        .await
        .unwrap()
        .replace("<!>", "");
    for label in ["Inventory", "Campaigns", "My reviews", "Audit", "Settings"] {
        assert!(home.contains(&format!(">{label}</a>")), "nav has {label}");
    }
    assert!(home.contains("Welcome, Ada"));
    for (path, title) in [
        ("/inventory", "Inventory"),
        ("/campaigns", "Campaigns"),
        ("/reviews", "My reviews"),
        ("/audit", "Audit"),
        ("/settings", "Settings"),
    ] {
        let response = browser.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap().replace("<!>", "");
        assert!(
            html.contains(&format!("<h1>{title}</h1>")),
            "{path}: {html}"
        );
        assert!(html.contains(&format!("<title>{title} · Postmark Access Review</title>")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_get_the_404_page() {
    let app = TestApp::spawn().await;
    for path in ["/nope", "/inventoryx"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("Page not found"), "{path}");
    }
    // A missing file of the bundle is a plain 404: a script tag has no use for a page.
    assert_eq!(app.get("/pkg/missing.js").await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_gets_403_and_an_explanation_on_the_audit_page() {
    let app = TestApp::spawn().await;
    let browser = crate::auth::signed_in(&app, crate::auth::RITA).await;
    let response = browser.get("/audit").await;
    assert_eq!(response.status(), 403);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("This page is for admins and auditors"),
        "{html}"
    );
    assert!(
        !html.contains("auth.signed_in"),
        "no events leak to a reviewer"
    );
    let settings = browser.get("/settings").await.text().await.unwrap();
    assert!(settings.contains("Settings are managed by admins."));
    assert!(!settings.contains("rita.reviewer@example.com</td>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewers_home_shows_what_waits_and_only_what_they_may_open() {
    let (app, _ada, campaign) = crate::campaigns::launched().await;
    let rita = crate::auth::signed_in(&app, crate::auth::RITA).await;
    let home = rita.get("/").await.text().await.unwrap().replace("<!>", "");
    assert!(home.contains(">My reviews</a>"), "{home}");
    for hidden in ["Inventory", "Campaigns", "Audit", "Settings"] {
        assert!(
            !home.contains(&format!(">{hidden}</a>")),
            "a reviewer's navigation and tiles leave out {hidden}"
        );
    }
    assert!(home.contains("Waiting for your decision"));
    assert!(
        home.contains(&format!("href=\"/reviews?campaign={campaign}\"")),
        "{home}"
    );
    assert!(home.contains("aria-label=\"Start reviewing Q4 access review\""));
    assert!(home.contains(" undecided, due 2026-12-12"), "{home}");
    assert!(
        home.contains("<noscript>"),
        "a notice for browsers without JavaScript"
    );

    // The same data through the server function; an auditor has nothing waiting.
    let mine: serde_json::Value = rita
        .post("/api/reviews_mine", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine[0]["id"], campaign);
    assert!(mine[0]["items"].as_i64().unwrap() > 0);
    let aubrey = crate::auth::signed_in(&app, crate::auth::AUBREY).await;
    let theirs: serde_json::Value = aubrey
        .post("/api/reviews_mine", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs, serde_json::json!([]));
    // An auditor only reads: no queue on the home page or in the navigation.
    let home = aubrey
        .get("/")
        .await
        .text()
        .await
        .unwrap()
        .replace("<!>", "");
    assert!(!home.contains("Waiting for your decision"), "{home}");
    assert!(!home.contains(">My reviews</a>"), "{home}");
    assert!(
        home.contains(">Audit</a>"),
        "auditors keep what they may read"
    );
}

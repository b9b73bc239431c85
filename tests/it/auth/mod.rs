//! Sign-in over OpenID Connect against the development provider, driven over HTTP the way a
//! browser would, and every refusal the relying party must make.

mod access;
mod refusals;
mod sessions;
mod sign_in;

use std::sync::Arc;

use reqwest::{cookie::CookieStore as _, cookie::Jar, StatusCode};
use url::Url;

use crate::helpers::TestApp;

/// Indexes into the development provider's people.
pub const ADA: usize = 0;
pub const AUBREY: usize = 1;
pub const RITA: usize = 2;
pub const UMA: usize = 4;
/// Petra Postmark, listed in the fulfilment emails.
pub const PETRA: usize = 5;

/// A cookie-keeping client that does not follow redirects, so each hop can be checked.
/// How long a page's body may take before [`Browser::get`] asks again (pages take
/// milliseconds).
pub const PAGE_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    pub base: Url,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(crate::helpers::ANSWER_LIMIT)
            .build()
            .unwrap();
        Self {
            client,
            jar,
            base: app.url.parse().unwrap(),
        }
    }

    /// A GET. A page (200, HTML) is read whole here: one whose body stalls for
    /// [`PAGE_LIMIT`] is asked for once more, with a note on stderr. Under the full suite's
    /// load a server-rendered page's body has stalled for ever, intermittently (twice in CI,
    /// never reproduced alone; see the closing note of 2026-11-30); this keeps that visible
    /// without failing unrelated tests, and a second stall still fails the test.
    pub async fn get(&self, path_or_url: &str) -> reqwest::Response {
        let url = self.base.join(path_or_url).unwrap();
        for attempt in 1..=2 {
            let response = self.client.get(url.clone()).send().await.unwrap();
            // The same stall, seen from the server: its request timeout answered 408.
            if response.status() == StatusCode::REQUEST_TIMEOUT && attempt == 1 {
                eprintln!("STALLED PAGE: {url}: 408 after the request timeout; asking once more");
                continue;
            }
            let html = response.status() == StatusCode::OK
                && response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("text/html"));
            if !html {
                return response;
            }
            let (status, headers) = (response.status(), response.headers().clone());
            match tokio::time::timeout(PAGE_LIMIT, response.bytes()).await {
                Ok(body) => {
                    let mut whole = axum::http::Response::new(body.unwrap());
                    *whole.status_mut() = status;
                    *whole.headers_mut() = headers;
                    return reqwest::Response::from(whole);
                }
                Err(_) if attempt == 1 => {
                    eprintln!(
                        "STALLED PAGE: {url}: no complete body in {PAGE_LIMIT:?}; asking once more"
                    );
                }
                Err(_) => panic!("{url}: the page's body stalled twice"),
            }
        }
        unreachable!("the loop returns or panics")
    }

    /// A POST as a same-origin page would send it.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.base.join(path).unwrap())
            .header("origin", self.base.origin().ascii_serialization())
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A JSON POST as the app's own pages send it.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.base.join(path).unwrap())
            .header("origin", self.base.origin().ascii_serialization())
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub fn session_cookie(&self) -> Option<String> {
        let header = self.jar.cookies(&self.base)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|c| c.strip_prefix("par_session=").map(str::to_string))
    }

    /// `/auth/login?next=…` → the provider's authorize URL.
    pub async fn start_login(&self, next: &str) -> Url {
        let response = self
            .get(&format!("/auth/login?next={}", urlencode(next)))
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        location(&response)
    }

    /// Picks a person on the provider's page → the callback URL it redirects to.
    pub async fn authorize(&self, authorize_url: &Url, person: usize) -> Url {
        let chooser = self.get(authorize_url.as_str()).await;
        assert_eq!(chooser.status(), 200, "{}", chooser.text().await.unwrap());
        let mut form: Vec<(String, String)> = authorize_url.query_pairs().into_owned().collect();
        form.push(("person".into(), person.to_string()));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let response = self.post("/dev-idp/authorize", &form).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        location(&response)
    }

    /// The whole flow; returns the callback's response.
    pub async fn sign_in(&self, next: &str, person: usize) -> reqwest::Response {
        let authorize = self.start_login(next).await;
        let callback = self.authorize(&authorize, person).await;
        self.get(callback.as_str()).await
    }
}

pub fn location(response: &reqwest::Response) -> Url {
    let base: Url = response.url().clone();
    base.join(response.headers()["location"].to_str().unwrap())
        .unwrap()
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A browser signed in as `person`.
pub async fn signed_in(app: &TestApp, person: usize) -> Browser {
    let browser = Browser::new(app);
    let response = browser.sign_in("/", person).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in failed");
    browser
}

/// Latest refusal reason in the audit log.
async fn last_refusal(app: &TestApp) -> Option<String> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT details FROM audit_events WHERE action = 'auth.sign_in_refused' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_optional(app.db.pool())
    .await
    .unwrap();
    row.map(|(details,)| {
        let value: serde_json::Value = serde_json::from_str(&details).unwrap();
        value["reason"].as_str().unwrap().to_string()
    })
}

//! The SCIM 2.0 endpoint over HTTP, as Entra ID and Okta call it: discovery, users, groups,
//! filters and paging, PATCH forms, authentication, limits and audit events.

mod access;
mod audit;
mod discovery;
mod groups;
mod patch;
mod query;
mod tokens;
mod users;

use postmark_access_review::{
    audit::Actor,
    scim::{schema, tokens as scim_tokens},
};
use reqwest::{header::HeaderMap, Method};
use serde_json::{json, Value};

use crate::helpers::TestApp;

pub const USER: &str = schema::USER;
pub const GROUP: &str = schema::GROUP;
pub const PATCH_OP: &str = schema::PATCH_OP;
pub const ERROR: &str = schema::ERROR;

/// A token for the provider called `name`, made the way the admin page makes one.
pub async fn token_for(app: &TestApp, name: &str) -> String {
    let (_, token) = scim_tokens::create(
        &app.db,
        &app.clock,
        &Actor::system("test"),
        "ada.admin@example.com",
        name,
    )
    .await
    .unwrap();
    token
}

/// A SCIM answer: status, headers and the JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a SCIM error with this status and `scimType`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status, status, "{:#}", self.body);
        assert_eq!(self.body["schemas"], json!([ERROR]), "{:#}", self.body);
        assert_eq!(self.body["status"], json!(status.to_string()));
        assert_eq!(self.body["scimType"].as_str(), scim_type, "{:#}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/scim+json"),
            "{:?}",
            self.headers
        );
    }
}

/// A provider's client: its token on every request.
pub struct Scim<'a> {
    pub app: &'a TestApp,
    pub token: Option<String>,
}

impl<'a> Scim<'a> {
    pub async fn new(app: &'a TestApp, provider: &str) -> Self {
        Self {
            app,
            token: Some(token_for(app, provider).await),
        }
    }

    pub fn with_token(app: &'a TestApp, token: Option<&str>) -> Self {
        Self {
            app,
            token: token.map(str::to_string),
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.app.at(&format!("/scim/v2{path}"))
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        let mut request = self.app.client.request(method, self.url(path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/scim+json")
                .body(body.to_string());
        }
        answer(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, operations: Value) -> Answer {
        let body = json!({"schemas": [PATCH_OP], "Operations": operations});
        self.send(Method::PATCH, path, Some(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates a user and returns its id.
    pub async fn create_user(&self, body: &Value) -> String {
        let created = self.post("/Users", body).await;
        assert_eq!(created.status, 201, "{:#}", created.body);
        created.body["id"].as_str().unwrap().to_string()
    }

    /// `GET /Users?filter=…` (and more query), URL-encoded.
    pub async fn list(&self, resource: &str, query: &[(&str, &str)]) -> Answer {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        self.get(&format!("/{resource}?{query}")).await
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// A user as Okta creates one.
pub fn user(user_name: &str) -> Value {
    let given = user_name.split(['.', '@']).next().unwrap_or("x");
    json!({
        "schemas": [USER],
        "userName": user_name,
        "name": {"givenName": given, "familyName": "Example"},
        "displayName": format!("{given} Example"),
        "emails": [{"value": user_name, "type": "work", "primary": true}],
        "active": true,
    })
}

/// The ids of a list response's resources.
pub fn ids(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// `(action, actor, details)` of every audit event whose action starts with `scim.`.
pub async fn scim_events(app: &TestApp) -> Vec<(String, String, Value)> {
    let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT action, actor_sub, CAST(details AS TEXT) FROM audit_events \
         WHERE action LIKE 'scim.%' ORDER BY seq",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(action, actor, details)| {
            (
                action,
                actor.unwrap_or_default(),
                serde_json::from_str(&details).unwrap(),
            )
        })
        .collect()
}

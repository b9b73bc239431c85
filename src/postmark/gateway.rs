//! The users gateway: an HTTP service an organisation runs in front of its Postmark account's
//! user management (Postmark publishes no user API). The contract is documented in the README:
//!
//! * `GET  {base}/users` → `{"users": [GatewayUser…]}`
//! * `DELETE {base}/users/{email}` → 204: remove the user from the account
//! * `PUT  {base}/users/{email}/servers/{server_id}` with `{"permission": "Server Viewer"}` or
//!   `{"permission": null}` → 204: set or remove a server permission
//! * `PUT  {base}/users/{email}/role` with `{"role": "Server Access"}` → 204: change the
//!   user's account role (revocations demote elevated roles to the basic one)
//! * `POST {base}/users` with `{"email", "name", "role"}` → 201: invite a new user (group
//!   mappings' provisioning); 409 when the login exists
//!
//! Every request carries `Authorization: Bearer {PAR_POSTMARK_USERS_TOKEN}`.

use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

/// A user as the gateway lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayUser {
    pub email: String,
    pub name: String,
    pub role: String,
    pub status: String,
    #[serde(default)]
    pub invited_at: Option<String>,
    #[serde(default)]
    pub servers: Vec<GatewayPermission>,
}

/// One server permission of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayPermission {
    pub server_id: i64,
    pub permission: String,
}

/// The list answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayUsers {
    pub users: Vec<GatewayUser>,
}

/// What went wrong; never holds the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    #[error("the users gateway refused the token (401/403)")]
    Unauthorized,
    #[error("the users gateway has no such user or server (404)")]
    NotFound,
    #[error("the users gateway is throttling requests (429)")]
    Throttled { retry_after: Option<Duration> },
    #[error("the users gateway answered {0}")]
    Status(u16),
    #[error("the users gateway did not answer within the timeout")]
    Timeout,
    #[error("could not reach the users gateway: {0}")]
    Unreachable(String),
    #[error("the users gateway's answer could not be read: {0}")]
    Malformed(String),
}

/// Client of a users gateway.
#[derive(Debug, Clone)]
pub struct UsersGateway {
    http: reqwest::Client,
    base: Url,
    token: SecretString,
}

impl UsersGateway {
    pub fn new(base: Url, token: SecretString) -> anyhow::Result<Self> {
        Self::with_timeouts(
            base,
            token,
            Duration::from_secs(10),
            Duration::from_secs(60),
        )
    }

    /// With other timeouts (the revocation worker's, which retries a slow call itself).
    pub fn with_timeouts(
        base: Url,
        token: SecretString,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let base = if base.path().ends_with('/') {
            base
        } else {
            let mut with_slash = base;
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
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Self { http, base, token })
    }

    fn url(&self, path: &str) -> Result<Url, GatewayError> {
        self.base
            .join(path)
            .map_err(|e| GatewayError::Malformed(e.to_string()))
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, GatewayError> {
        let response = request
            .bearer_auth(self.token.expose_secret())
            .send()
            .await
            .map_err(unreachable)?;
        match response.status().as_u16() {
            200..=299 => Ok(response),
            401 | 403 => Err(GatewayError::Unauthorized),
            404 => Err(GatewayError::NotFound),
            429 => Err(GatewayError::Throttled {
                retry_after: response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs),
            }),
            other => Err(GatewayError::Status(other)),
        }
    }

    /// Every user with their server permissions.
    pub async fn list_users(&self) -> Result<Vec<GatewayUser>, GatewayError> {
        let response = self.send(self.http.get(self.url("users")?)).await?;
        let body = response.bytes().await.map_err(unreachable)?;
        serde_json::from_slice::<GatewayUsers>(&body)
            .map(|list| list.users)
            .map_err(|e| GatewayError::Malformed(e.to_string()))
    }

    /// Changes a user's account role (`PUT users/{email}/role`).
    pub async fn set_role(&self, email: &str, role: &str) -> Result<(), GatewayError> {
        let url = self.url(&format!(
            "users/{}/role",
            crate::urlenc::encode(email, b"@+")
        ))?;
        self.send(
            self.http
                .put(url)
                .json(&serde_json::json!({ "role": role })),
        )
        .await
        .map(|_| ())
    }

    /// Invites a new user to the Postmark account with an account role (`POST users`); `409`
    /// means the login already exists.
    pub async fn invite_user(
        &self,
        email: &str,
        name: &str,
        role: &str,
    ) -> Result<(), GatewayError> {
        let body = serde_json::json!({ "email": email, "name": name, "role": role });
        self.send(self.http.post(self.url("users")?).json(&body))
            .await
            .map(|_| ())
    }

    /// Removes a user from the Postmark account.
    pub async fn remove_user(&self, email: &str) -> Result<(), GatewayError> {
        let url = self.url(&format!("users/{}", crate::urlenc::encode(email, b"@+")))?;
        self.send(self.http.delete(url)).await.map(|_| ())
    }

    /// Sets (`Some`) or removes (`None`) a user's permission on a server.
    pub async fn set_permission(
        &self,
        email: &str,
        server_id: i64,
        permission: Option<&str>,
    ) -> Result<(), GatewayError> {
        let url = self.url(&format!(
            "users/{}/servers/{server_id}",
            crate::urlenc::encode(email, b"@+")
        ))?;
        self.send(
            self.http
                .put(url)
                .json(&serde_json::json!({ "permission": permission })),
        )
        .await
        .map(|_| ())
    }
}

/// A request that got no answer. reqwest errors name the URL (dropped here) but never headers,
/// so the token cannot appear.
fn unreachable(error: reqwest::Error) -> GatewayError {
    if error.is_timeout() {
        GatewayError::Timeout
    } else {
        GatewayError::Unreachable(error.without_url().to_string())
    }
}

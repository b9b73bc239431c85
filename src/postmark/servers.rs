//! One server at a time, for the revocation worker: `GET`, `PUT` and `DELETE /servers/{id}`.
//!
//! These calls make exactly one HTTP request each (build the client with
//! `RetryPolicy { max_attempts: 1, .. }`): the worker records every attempt and schedules its
//! own retries, so it needs each answer as it came, with its status, Postmark's `ErrorCode`
//! and `Message`, and `Retry-After`, which the `postmark` crate's error type drops. Requests
//! are still described by `Endpoint`s (the crate's own for delete).

use std::{borrow::Cow, time::Duration};

use ::postmark::{api::server::DeleteServerRequest, Client as _, Endpoint};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{transport::retry_after, PostmarkClient, ServerInfo, TransportError};

/// A call that did not succeed, with what the worker records and decides on. Never holds a
/// token (transport errors name neither headers nor, after `without_url`, the URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// Postmark's `ErrorCode`, when the answer carried one.
    pub error_code: Option<i64>,
    pub message: String,
    /// `Retry-After` of a 429 or 503.
    pub retry_after: Option<Duration>,
    /// No answer within the request timeout.
    pub timeout: bool,
}

impl CallFailure {
    fn transport(error: TransportError) -> Self {
        Self {
            status: None,
            error_code: None,
            timeout: matches!(error, TransportError::Timeout),
            message: error.to_string(),
            retry_after: None,
        }
    }

    /// Postmark's answer that the server does not exist: 404, or 422 with `ErrorCode` 603
    /// ("Server … does not exist"), as the API answers for an unknown id.
    pub fn is_no_such_server(&self) -> bool {
        self.status == Some(404) || (self.status == Some(422) && self.error_code == Some(603))
    }
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.status, self.error_code) {
            (Some(status), Some(code)) => {
                write!(f, "{status} (ErrorCode {code}): {}", self.message)
            }
            (Some(status), None) => write!(f, "{status}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// `GET /servers/{id}`, answered as our full [`ServerInfo`] (the crate's `Server` carries
/// four fields only).
#[derive(Debug, Serialize)]
struct GetServer {
    #[serde(skip)]
    id: i64,
}

impl Endpoint for GetServer {
    type Request = Self;
    type Response = ServerInfo;

    fn endpoint(&self) -> Cow<'static, str> {
        format!("/servers/{}", self.id).into()
    }

    fn body(&self) -> &Self::Request {
        self
    }

    fn method(&self) -> http::Method {
        http::Method::GET
    }
}

/// The body of `PUT /servers/{id}` (`EditServerPayload` in `account-api.yaml`): only the
/// fields that are set are sent, so Postmark leaves the others alone. An empty string clears
/// a webhook URL (the API has no null for them). Read back from `revocations.previous`, where
/// a quarantine keeps the edit that undoes it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerEdit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_api_activated: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbound_hook_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounce_hook_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_hook_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_hook_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub click_hook_url: Option<String>,
}

/// Key of the JSON object a quarantine keeps (`revocations.previous`, an edit's fields) that
/// names the webhooks whose credentials were cut out before keeping (`["BounceHookUrl"]`).
pub const HOOKS_WITH_CREDENTIALS: &str = "HooksWithCredentials";

impl ServerEdit {
    /// The edit as a quarantine keeps it: webhook URLs without credentials (they are secrets
    /// and never stored), and the names of the webhooks that had some under
    /// [`HOOKS_WITH_CREDENTIALS`], so a restore can say which to set again.
    pub fn kept(&self) -> serde_json::Value {
        let mut edit = self.clone();
        let mut had_credentials = Vec::new();
        for (name, url) in [
            ("InboundHookUrl", &mut edit.inbound_hook_url),
            ("BounceHookUrl", &mut edit.bounce_hook_url),
            ("OpenHookUrl", &mut edit.open_hook_url),
            ("DeliveryHookUrl", &mut edit.delivery_hook_url),
            ("ClickHookUrl", &mut edit.click_hook_url),
        ] {
            if let Some(value) = url.as_mut() {
                let split = super::hook_url::split(value);
                if split.credentials.is_some() {
                    had_credentials.push(name);
                }
                *value = split.url;
            }
        }
        let mut kept = serde_json::to_value(edit).unwrap_or(serde_json::Value::Null);
        if let (Some(object), false) = (kept.as_object_mut(), had_credentials.is_empty()) {
            object.insert(HOOKS_WITH_CREDENTIALS.to_string(), had_credentials.into());
        }
        kept
    }
}

// Webhook URLs may carry credentials: `{:?}` shows them redacted.
impl std::fmt::Debug for ServerEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hook = |url: &Option<String>| url.as_deref().map(super::hook_url::redacted);
        f.debug_struct("ServerEdit")
            .field("name", &self.name)
            .field("smtp_api_activated", &self.smtp_api_activated)
            .field("inbound_hook_url", &hook(&self.inbound_hook_url))
            .field("bounce_hook_url", &hook(&self.bounce_hook_url))
            .field("open_hook_url", &hook(&self.open_hook_url))
            .field("delivery_hook_url", &hook(&self.delivery_hook_url))
            .field("click_hook_url", &hook(&self.click_hook_url))
            .finish()
    }
}

#[derive(Debug)]
struct EditServer {
    id: i64,
    edit: ServerEdit,
}

impl Endpoint for EditServer {
    type Request = ServerEdit;
    type Response = ServerInfo;

    fn endpoint(&self) -> Cow<'static, str> {
        format!("/servers/{}", self.id).into()
    }

    fn body(&self) -> &Self::Request {
        &self.edit
    }

    fn method(&self) -> http::Method {
        http::Method::PUT
    }
}

impl PostmarkClient {
    /// Sends one request described by `endpoint` and reads the answer, keeping everything a
    /// failure carries (see [`CallFailure`]).
    async fn call<E: Endpoint>(&self, endpoint: &E) -> Result<E::Response, CallFailure> {
        let method = endpoint.method();
        let body = match method {
            http::Method::GET | http::Method::DELETE | http::Method::HEAD => Bytes::new(),
            _ => serde_json::to_vec(endpoint.body())
                .map_err(|e| CallFailure::transport(TransportError::Request(e.to_string())))?
                .into(),
        };
        let request = http::Request::builder()
            .method(method)
            .uri(endpoint.endpoint().as_ref())
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .body(body)
            .map_err(|e| CallFailure::transport(TransportError::Request(e.to_string())))?;
        let response = self
            .account
            .execute(request)
            .await
            .map_err(CallFailure::transport)?;
        let status = response.status();
        if status.is_success() {
            return serde_json::from_slice(response.body()).map_err(|e| CallFailure {
                status: Some(status.as_u16()),
                error_code: None,
                message: format!("Postmark's answer could not be read: {e}"),
                retry_after: None,
                timeout: false,
            });
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct ErrorBody {
            error_code: Option<i64>,
            message: Option<String>,
        }
        let parsed = serde_json::from_slice::<ErrorBody>(response.body()).ok();
        let reason = status.canonical_reason().unwrap_or("error").to_string();
        Err(CallFailure {
            status: Some(status.as_u16()),
            error_code: parsed.as_ref().and_then(|p| p.error_code),
            message: parsed.and_then(|p| p.message).unwrap_or(reason),
            retry_after: retry_after(&response),
            timeout: false,
        })
    }

    /// The cheapest call the account token allows (`GET /servers?count=1&offset=0`): does
    /// Postmark accept the token again?
    pub async fn probe(&self) -> Result<(), CallFailure> {
        self.call(&super::ListServers {
            count: 1,
            offset: 0,
        })
        .await
        .map(|_| ())
    }

    /// `GET /servers/{id}`.
    pub async fn server(&self, id: i64) -> Result<ServerInfo, CallFailure> {
        self.call(&GetServer { id }).await
    }

    /// `PUT /servers/{id}` with the fields of `edit` that are set; answers the server as
    /// Postmark now has it.
    pub async fn edit_server(&self, id: i64, edit: ServerEdit) -> Result<ServerInfo, CallFailure> {
        self.call(&EditServer { id, edit }).await
    }

    /// `DELETE /servers/{id}`.
    pub async fn delete_server(&self, id: i64) -> Result<(), CallFailure> {
        let request = DeleteServerRequest::builder().server_id(id).build();
        self.call(&request).await.map(|_| ())
    }
}

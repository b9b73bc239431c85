//! A Postmark simulator for tests and the demo: the Account API's server endpoints and the
//! outbound stats endpoint, the Email API (see [`email`]), the users gateway (see
//! [`gateway`]), with Postmark's token checks and injectable faults: the next request's
//! ([`Simulator::push_fault`]), one route's ([`Simulator::fault_on`]), and refused
//! credentials ([`Simulator::refuse_credentials`]). Every request is logged
//! ([`Simulator::request_log`]).

mod demo;
mod email;
mod gateway;

pub use demo::DEMO_MAIL_SERVER;
pub use email::ReceivedEmail;

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, RwLock,
    },
    time::Duration,
};

use axum::{
    extract::{Query, Request, State},
    http::{HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde::Deserialize;
use serde_json::json;

use super::{gateway::GatewayUser, ServerInfo};

/// A fault the next request gets (one fault per request, in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 422 with Postmark's error body.
    Unprocessable { code: i64, message: String },
    /// 429 with `Retry-After`.
    TooManyRequests { retry_after_secs: u64 },
    /// 500.
    ServerError,
    /// 501: what a read-only users gateway answers to a change it cannot make.
    NotImplemented,
    /// Answer correctly, but only after this long.
    Slow(Duration),
    /// 200 with a body that is not JSON.
    MalformedJson,
    /// A servers page missing its last entry while `TotalCount` stays the same.
    ShortPage,
}

#[derive(Debug, Default)]
struct Inner {
    account_token: String,
    servers: RwLock<Vec<ServerInfo>>,
    sent: RwLock<HashMap<i64, i64>>,
    faults: Mutex<VecDeque<Fault>>,
    requests: Mutex<u64>,
    failing_stats: RwLock<Vec<i64>>,
    sent_emails: RwLock<Vec<email::StoredEmail>>,
    /// Lower-cased addresses `POST /email` refuses with 422 / 406.
    inactive_recipients: RwLock<std::collections::HashSet<String>>,
    gateway_token: RwLock<Option<String>>,
    users: RwLock<std::collections::BTreeMap<String, GatewayUser>>,
    /// `METHOD /path` of every request, in order.
    request_log: Mutex<Vec<String>>,
    /// Faults for one route (`PUT /servers/10007`): the fault and how many more times
    /// (`None`: always).
    route_faults: Mutex<Vec<(String, Fault, Option<usize>)>>,
    /// While set, the Account API and the gateway answer 401 to every token.
    refusing: AtomicBool,
    /// Bodies of `PUT /servers/{id}` as sent, for checks against `EditServerPayload`.
    server_edits: Mutex<Vec<(i64, serde_json::Value)>>,
    /// Microseconds every answer waits after its request was handled ([`Simulator::set_latency`]).
    latency_micros: AtomicU64,
}

/// The simulator's state; clone it to keep a handle after spawning.
#[derive(Debug, Clone, Default)]
pub struct Simulator {
    inner: Arc<Inner>,
}

fn postmark_error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        Json(json!({ "ErrorCode": code, "Message": message })),
    )
        .into_response()
}

impl Simulator {
    pub fn new(account_token: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(Inner {
                account_token: account_token.into(),
                ..Inner::default()
            }),
        }
    }

    pub fn add_server(&self, server: ServerInfo) {
        self.inner
            .servers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(server);
    }

    /// The server as the simulator holds it now.
    pub fn server(&self, id: i64) -> Option<ServerInfo> {
        self.inner
            .servers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|s| s.id == id)
            .cloned()
    }

    fn account_allows(&self, headers: &HeaderMap) -> bool {
        headers
            .get("X-Postmark-Account-Token")
            .and_then(|v| v.to_str().ok())
            == Some(self.inner.account_token.as_str())
    }

    /// Ids of the account's servers.
    pub fn server_ids(&self) -> std::collections::HashSet<i64> {
        self.inner
            .servers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|s| s.id)
            .collect()
    }

    /// Changes a server in place.
    pub fn update_server(&self, id: i64, change: impl FnOnce(&mut ServerInfo)) {
        let mut servers = self
            .inner
            .servers
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(server) = servers.iter_mut().find(|s| s.id == id) {
            change(server);
        }
    }

    /// Deletes a server.
    pub fn remove_server(&self, id: i64) {
        self.inner
            .servers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|s| s.id != id);
    }

    /// Outbound emails the server sent in any queried period.
    pub fn set_sent(&self, server_id: i64, sent: i64) {
        self.inner
            .sent
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(server_id, sent);
    }

    pub fn push_fault(&self, fault: Fault) {
        self.inner
            .faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(fault);
    }

    /// Requests answered so far (retries included).
    pub fn requests(&self) -> u64 {
        *self
            .inner
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/servers", get(list_servers))
            .route(
                "/servers/{id}",
                get(get_server).put(edit_server).delete(delete_server),
            )
            .route("/email", axum::routing::post(email::send_email))
            .route("/stats/outbound", get(outbound))
            .merge(gateway::routes())
            .layer(axum::middleware::from_fn_with_state(self.clone(), observe))
            .with_state(self.clone())
    }

    /// Every request of the route `request` (`"PUT /servers/10007"`, method and path) gets
    /// `fault`, `times` times or (`None`) until [`clear_route_faults`](Self::clear_route_faults).
    /// Checked before the token, and before the faults of [`push_fault`](Self::push_fault).
    pub fn fault_on(&self, request: impl Into<String>, fault: Fault, times: Option<usize>) {
        self.inner
            .route_faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((request.into(), fault, times));
    }

    pub fn clear_route_faults(&self) {
        self.inner
            .route_faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// While `refuse` is set, the Account API (`/servers…`) and the users gateway answer 401
    /// whatever the token, as after a token was rotated.
    pub fn refuse_credentials(&self, refuse: bool) {
        self.inner.refusing.store(refuse, Ordering::SeqCst);
    }

    /// Every answer leaves `latency` after its request was handled (a slow network): the window
    /// where a client that dies has changed Postmark without learning so (see the crash test).
    pub fn set_latency(&self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.inner.latency_micros.store(micros, Ordering::SeqCst);
    }

    /// `METHOD /path` of every request so far, in order (faulted and refused ones too).
    pub fn request_log(&self) -> Vec<String> {
        self.inner
            .request_log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Bodies of `PUT /servers/{id}` requests as sent, with the server id.
    pub fn server_edits(&self) -> Vec<(i64, serde_json::Value)> {
        self.inner
            .server_edits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The fault for `request`, if a route fault matches (and uses one of its times).
    fn route_fault(&self, request: &str) -> Option<Fault> {
        let mut faults = self
            .inner
            .route_faults
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let index = faults.iter().position(|(r, _, _)| r == request)?;
        let fault = faults[index].1.clone();
        match &mut faults[index].2 {
            Some(1) => {
                faults.remove(index);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        Some(fault)
    }

    /// Serves on 127.0.0.1 (port 0 picks one); returns the base URL.
    pub async fn spawn(&self, port: u16) -> anyhow::Result<url::Url> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        let url = url::Url::parse(&format!("http://{}/", listener.local_addr()?))?;
        let router = self.router();
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "Postmark simulator stopped");
            }
        });
        Ok(url)
    }

    /// Counts the request and applies the next fault; `Err` is the response to send instead.
    async fn before(&self) -> Result<Option<Fault>, Response> {
        *self
            .inner
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner()) += 1;
        let fault = self
            .inner
            .faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front();
        apply_fault(fault).await
    }
}

/// Logs the request, then answers for refused credentials and route faults.
async fn observe(State(sim): State<Simulator>, request: Request, next: Next) -> Response {
    let line = format!("{} {}", request.method(), request.uri().path());
    sim.inner
        .request_log
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(line.clone());
    let path = request.uri().path();
    if sim.inner.refusing.load(Ordering::SeqCst) {
        if path.starts_with("/servers") {
            return account_token_refused();
        }
        if path.starts_with("/gateway/") {
            return StatusCode::UNAUTHORIZED.into_response();
        }
    }
    if let Some(fault) = sim.route_fault(&line) {
        if let Err(response) = apply_fault(Some(fault)).await {
            return response;
        }
    }
    let response = next.run(request).await;
    let latency = sim.inner.latency_micros.load(Ordering::SeqCst);
    if latency > 0 {
        tokio::time::sleep(Duration::from_micros(latency)).await;
    }
    response
}

/// The response a fault stands for (`Err`), or the fault the handler itself must apply.
async fn apply_fault(fault: Option<Fault>) -> Result<Option<Fault>, Response> {
    match fault {
        Some(Fault::Unprocessable { code, message }) => Err(postmark_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            &message,
        )),
        Some(Fault::TooManyRequests { retry_after_secs }) => Err((
            StatusCode::TOO_MANY_REQUESTS,
            [(
                axum::http::header::RETRY_AFTER,
                retry_after_secs.to_string(),
            )],
            Json(json!({ "ErrorCode": 429, "Message": "Too many requests." })),
        )
            .into_response()),
        Some(Fault::ServerError) => Err(postmark_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            0,
            "Internal server error.",
        )),
        Some(Fault::NotImplemented) => Err(postmark_error(
            StatusCode::NOT_IMPLEMENTED,
            0,
            "This gateway cannot make changes.",
        )),
        Some(Fault::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            Ok(None)
        }
        Some(Fault::MalformedJson) => Err((
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            "{\"TotalCount\": 3, \"Servers\": [",
        )
            .into_response()),
        other => Ok(other),
    }
}

#[derive(Debug, Deserialize)]
struct Page {
    count: Option<i64>,
    offset: Option<i64>,
}

async fn list_servers(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Query(page): Query<Page>,
) -> Response {
    let token = headers
        .get("X-Postmark-Account-Token")
        .and_then(|v| v.to_str().ok());
    if token != Some(sim.inner.account_token.as_str()) {
        return postmark_error(
            StatusCode::UNAUTHORIZED,
            10,
            "No Account API token or an incorrect Account API token was provided.",
        );
    }
    let fault = match sim.before().await {
        Ok(fault) => fault,
        Err(response) => return response,
    };
    let (Some(count), Some(offset)) = (page.count, page.offset) else {
        return postmark_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            0,
            "Count and offset are required.",
        );
    };
    if !(1..=500).contains(&count) || offset < 0 {
        return postmark_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            0,
            "Count must be between 1 and 500.",
        );
    }
    let servers = sim.inner.servers.read().unwrap_or_else(|p| p.into_inner());
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(servers.len());
    let end = start
        .saturating_add(usize::try_from(count).unwrap_or(0))
        .min(servers.len());
    let mut page: Vec<serde_json::Value> = servers[start..end].iter().map(api_json).collect();
    if fault == Some(Fault::ShortPage) {
        page.pop();
    }
    Json(json!({ "TotalCount": servers.len(), "Servers": page })).into_response()
}

async fn outbound(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    let token = headers
        .get("X-Postmark-Server-Token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let server_id = sim
        .inner
        .servers
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|s| s.api_tokens.contains(&token))
        .map(|s| s.id);
    let Some(server_id) = server_id else {
        return postmark_error(
            StatusCode::UNAUTHORIZED,
            10,
            "No Server API token or an incorrect Server API token was provided.",
        );
    };
    if let Err(response) = sim.before().await {
        return response;
    }
    let failing = sim
        .inner
        .failing_stats
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&server_id);
    if failing {
        return postmark_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            0,
            "Internal server error.",
        );
    }
    let sent = sim
        .inner
        .sent
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&server_id)
        .copied()
        .unwrap_or(0);
    // Field names and types as `OutboundOverviewStatsResponse` in shared/postmark/server-api.yaml.
    Json(json!({
        "Sent": sent, "Bounced": 0, "SMTPAPIErrors": 0, "BounceRate": 0,
        "SpamComplaints": 0, "SpamComplaintsRate": 0, "Opens": 0, "UniqueOpens": 0,
        "Tracked": 0, "WithOpenTracking": 0, "WithLinkTracking": 0, "TotalClicks": 0,
        "UniqueLinksClicked": 0, "TotalTrackedLinksSent": 0, "WithClientRecorded": 0,
        "WithPlatformRecorded": 0,
    }))
    .into_response()
}

fn account_token_refused() -> Response {
    postmark_error(
        StatusCode::UNAUTHORIZED,
        10,
        "No Account API token or an incorrect Account API token was provided.",
    )
}

fn no_such_server(id: i64) -> Response {
    postmark_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        603,
        &format!("Server {id} does not exist."),
    )
}

async fn get_server(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    if !sim.account_allows(&headers) {
        return account_token_refused();
    }
    if let Err(response) = sim.before().await {
        return response;
    }
    match sim.server(id) {
        Some(server) => Json(api_json(&server)).into_response(),
        None => no_such_server(id),
    }
}

/// `PUT /servers/{id}`: applies the fields of `EditServerPayload` that are present.
async fn edit_server(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Json(body): Json<serde_json::Map<String, serde_json::Value>>,
) -> Response {
    if !sim.account_allows(&headers) {
        return account_token_refused();
    }
    if let Err(response) = sim.before().await {
        return response;
    }
    sim.inner
        .server_edits
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((id, serde_json::Value::Object(body.clone())));
    let Some(current) = sim.server(id) else {
        return no_such_server(id);
    };
    let mut value = serde_json::to_value(&current).unwrap_or_default();
    const EDITABLE: [&str; 14] = [
        "Name",
        "Color",
        "SmtpApiActivated",
        "RawEmailEnabled",
        "DeliveryHookUrl",
        "InboundHookUrl",
        "BounceHookUrl",
        "OpenHookUrl",
        "PostFirstOpenOnly",
        "TrackOpens",
        "TrackLinks",
        "ClickHookUrl",
        "InboundDomain",
        "InboundSpamThreshold",
    ];
    for (key, field) in body {
        if !EDITABLE.contains(&key.as_str()) {
            return postmark_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                402,
                &format!("Unknown field {key}."),
            );
        }
        value[key.as_str()] = field;
    }
    let Ok(updated) = serde_json::from_value::<ServerInfo>(value) else {
        return postmark_error(StatusCode::UNPROCESSABLE_ENTITY, 402, "Invalid JSON.");
    };
    sim.update_server(id, |server| *server = updated.clone());
    Json(api_json(&updated)).into_response()
}

async fn delete_server(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    if !sim.account_allows(&headers) {
        return account_token_refused();
    }
    if let Err(response) = sim.before().await {
        return response;
    }
    if sim.server(id).is_none() {
        return no_such_server(id);
    }
    sim.remove_server(id);
    Json(json!({ "ErrorCode": 0, "Message": format!("Server {id} removed.") })).into_response()
}

/// A server as Postmark writes it: empty strings, not nulls, for unset URLs and names.
fn api_json(server: &ServerInfo) -> serde_json::Value {
    let mut value = serde_json::to_value(server).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        for (key, field) in map.iter_mut() {
            if field.is_null() {
                *field = if key == "InboundSpamThreshold" {
                    json!(0)
                } else {
                    json!("")
                };
            }
        }
    }
    value
}

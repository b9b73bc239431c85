//! The simulator's users gateway (under `/gateway/`): the contract documented in the README
//! ("Users gateway contract"), with the same bearer-token check and faults as the rest.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, get, put},
    Json, Router,
};
use serde::Deserialize;

use super::Simulator;
use crate::postmark::gateway::{GatewayPermission, GatewayUser, GatewayUsers};

impl Simulator {
    /// Turns on the users gateway (under `/gateway/`) with this bearer token.
    pub fn enable_gateway(&self, token: impl Into<String>) {
        *self
            .inner
            .gateway_token
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(token.into());
    }

    /// Adds or replaces a user of the account.
    pub fn put_user(&self, user: GatewayUser) {
        self.inner
            .users
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user.email.to_lowercase(), user);
    }

    /// The account's users as the gateway sees them now.
    pub fn users(&self) -> Vec<GatewayUser> {
        self.inner
            .users
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    fn gateway_allows(&self, headers: &HeaderMap) -> bool {
        let expected = self
            .inner
            .gateway_token
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        matches!((expected, given), (Some(e), Some(g)) if e == g)
    }

    /// Removes a user from the account (as someone did by hand); `false` when there was none.
    pub fn remove_user(&self, email: &str) -> bool {
        self.inner
            .users
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&email.to_lowercase())
            .is_some()
    }

    /// One user as the gateway holds them now.
    pub fn user(&self, email: &str) -> Option<GatewayUser> {
        self.inner
            .users
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&email.to_lowercase())
            .cloned()
    }
}

/// The gateway's routes, relative to the simulator's root.
pub(super) fn routes() -> Router<Simulator> {
    Router::new()
        .route("/gateway/users", get(gateway_list).post(gateway_invite))
        .route("/gateway/users/{email}", delete(gateway_remove))
        .route(
            "/gateway/users/{email}/servers/{server_id}",
            put(gateway_set_permission),
        )
        .route("/gateway/users/{email}/role", put(gateway_set_role))
}

async fn gateway_list(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    if !sim.gateway_allows(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Err(response) = sim.before().await {
        return response;
    }
    Json(GatewayUsers { users: sim.users() }).into_response()
}

#[derive(Debug, Deserialize)]
struct InviteBody {
    email: String,
    #[serde(default)]
    name: String,
    role: String,
}

/// `POST users`: 201 with the new user (pending, as Postmark shows an invitation), 409 when
/// the login exists, 422 without an email or a role.
async fn gateway_invite(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Json(body): Json<InviteBody>,
) -> Response {
    if !sim.gateway_allows(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Err(response) = sim.before().await {
        return response;
    }
    let (email, role) = (body.email.trim().to_lowercase(), body.role.trim());
    if !email.contains('@') || role.is_empty() {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    }
    let mut users = sim.inner.users.write().unwrap_or_else(|p| p.into_inner());
    if users.contains_key(&email) {
        return StatusCode::CONFLICT.into_response();
    }
    let user = GatewayUser {
        email: email.clone(),
        name: body.name.trim().to_string(),
        role: role.to_string(),
        status: "pending".to_string(),
        invited_at: None,
        servers: Vec::new(),
    };
    users.insert(email, user.clone());
    (StatusCode::CREATED, Json(user)).into_response()
}

async fn gateway_remove(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(email): Path<String>,
) -> Response {
    if !sim.gateway_allows(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Err(response) = sim.before().await {
        return response;
    }
    let removed = sim
        .inner
        .users
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&email.to_lowercase());
    if removed.is_some() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

#[derive(Debug, Deserialize)]
struct PermissionBody {
    permission: Option<String>,
}

async fn gateway_set_permission(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((email, server_id)): Path<(String, i64)>,
    Json(body): Json<PermissionBody>,
) -> Response {
    if !sim.gateway_allows(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Err(response) = sim.before().await {
        return response;
    }
    let server_exists = sim
        .inner
        .servers
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .any(|s| s.id == server_id);
    let mut users = sim.inner.users.write().unwrap_or_else(|p| p.into_inner());
    let (Some(user), true) = (users.get_mut(&email.to_lowercase()), server_exists) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    user.servers.retain(|p| p.server_id != server_id);
    if let Some(permission) = body.permission {
        user.servers.push(GatewayPermission {
            server_id,
            permission,
        });
        user.servers.sort_by_key(|p| p.server_id);
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Debug, Deserialize)]
struct RoleBody {
    role: String,
}

/// `PUT users/{email}/role`: 204, 404 for an unknown user, 422 for an empty role.
async fn gateway_set_role(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(email): Path<String>,
    Json(body): Json<RoleBody>,
) -> Response {
    if !sim.gateway_allows(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Err(response) = sim.before().await {
        return response;
    }
    if body.role.trim().is_empty() {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    }
    let mut users = sim.inner.users.write().unwrap_or_else(|p| p.into_inner());
    match users.get_mut(&email.to_lowercase()) {
        Some(user) => {
            user.role = body.role.trim().to_string();
            StatusCode::NO_CONTENT.into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

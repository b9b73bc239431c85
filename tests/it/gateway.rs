//! The users gateway: its client against the simulator, and users synced through it.

use postmark_access_review::postmark::{
    gateway::{GatewayError, GatewayPermission, GatewayUser, UsersGateway},
    simulator::Simulator,
    ServerInfo,
};
use secrecy::SecretString;
use serde_json::Value;

use crate::{
    auth::{signed_in, ADA},
    helpers::TestApp,
};

fn user(email: &str, role: &str, servers: &[(i64, &str)]) -> GatewayUser {
    GatewayUser {
        email: email.to_string(),
        name: email.split('@').next().unwrap_or_default().to_string(),
        role: role.to_string(),
        status: "active".to_string(),
        invited_at: None,
        servers: servers
            .iter()
            .map(|(id, p)| GatewayPermission {
                server_id: *id,
                permission: p.to_string(),
            })
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_client_lists_removes_and_sets_permissions() {
    let sim = Simulator::new("account");
    sim.add_server(ServerInfo::sample(1, "one", &["t1"]));
    sim.add_server(ServerInfo::sample(2, "two", &["t2"]));
    sim.enable_gateway("gw-secret");
    sim.put_user(user("ada@example.com", "Account Admin", &[]));
    sim.put_user(user("ben@example.com", "Member", &[(1, "Server Admin")]));
    let url = sim.spawn(0).await.unwrap().join("gateway").unwrap();

    let gateway =
        UsersGateway::new(url.clone(), SecretString::from("gw-secret".to_string())).unwrap();
    let users = gateway.list_users().await.unwrap();
    assert_eq!(users.len(), 2);
    gateway
        .set_permission("ben@example.com", 2, Some("Server Viewer"))
        .await
        .unwrap();
    gateway
        .set_permission("ben@example.com", 1, None)
        .await
        .unwrap();
    let ben = sim
        .users()
        .into_iter()
        .find(|u| u.email == "ben@example.com")
        .unwrap();
    assert_eq!(
        ben.servers,
        [GatewayPermission {
            server_id: 2,
            permission: "Server Viewer".into()
        }]
    );
    gateway.remove_user("ada@example.com").await.unwrap();
    assert_eq!(sim.users().len(), 1);
    assert_eq!(
        gateway.remove_user("ada@example.com").await,
        Err(GatewayError::NotFound)
    );

    let wrong = UsersGateway::new(url, SecretString::from("nope".to_string())).unwrap();
    let error = wrong.list_users().await.unwrap_err();
    assert_eq!(error, GatewayError::Unauthorized);
    assert!(!error.to_string().contains("nope"));
}

async fn gateway_app() -> TestApp {
    let app = TestApp::builder().users_gateway().spawn().await;
    for id in 1..=3 {
        app.simulator.add_server(ServerInfo::sample(
            id,
            &format!("server-{id}"),
            &[&format!("tok-{id}")],
        ));
    }
    app.simulator
        .put_user(user("ada@example.com", "Account Owner", &[]));
    app.simulator.put_user(user(
        "ben@example.com",
        "Member",
        &[(1, "Server Admin"), (2, "Server Viewer")],
    ));
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_also_brings_the_gateways_users() {
    let app = gateway_app().await;
    let ada = signed_in(&app, ADA).await;
    assert_eq!(ada.post("/api/inventory_sync_now", &[]).await.status(), 200);
    let users: Value = ada
        .post("/api/inventory_users", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(users["matching"], 2, "{users}");
    assert_eq!(
        users["users"][1]["permissions"].as_array().unwrap().len(),
        2
    );

    // Postmark changes; the next sync shows it in the users diff.
    app.simulator
        .put_user(user("ben@example.com", "Member", &[(1, "Server Admin")]));
    assert_eq!(ada.post("/api/inventory_sync_now", &[]).await.status(), 200);
    let syncs: Value = ada
        .post("/api/inventory_syncs", &[])
        .await
        .json()
        .await
        .unwrap();
    let latest = &syncs[0];
    assert_eq!(
        (latest["scope"].as_str(), latest["source"].as_str()),
        (Some("users"), Some("users gateway"))
    );
    assert_eq!(latest["removed"], 1, "{latest}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_or_invalid_gateway_keeps_the_previous_users() {
    let app = gateway_app().await;
    let ada = signed_in(&app, ADA).await;
    assert_eq!(ada.post("/api/inventory_sync_now", &[]).await.status(), 200);

    // A user on a server Postmark does not have: the list is refused as a whole.
    app.simulator
        .put_user(user("cy@example.com", "Member", &[(99, "Server Admin")]));
    assert_eq!(ada.post("/api/inventory_sync_now", &[]).await.status(), 200);
    let syncs: Value = ada
        .post("/api/inventory_syncs", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(syncs[0]["status"], "failed");
    assert!(
        syncs[0]["error"]
            .as_str()
            .unwrap()
            .contains("server 99 is not in the inventory"),
        "{}",
        syncs[0]
    );
    let users: Value = ada
        .post("/api/inventory_users", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(users["matching"], 2, "previous users intact");
}

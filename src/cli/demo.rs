//! `demo` and `simulator`: the application on sample data, and the demo's Postmark account in
//! a process of its own.

use std::{
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context as _;
use secrecy::SecretString;

use crate::{
    application::{Application, Jobs, Startup, Storage},
    audit::Actor,
    auth::service::AuthService,
    clock::SystemClock,
    config::{DatabaseConfig, RawConfig, ServerConfig},
    inventory::Trigger,
    postmark::simulator::Simulator,
    server,
    signing::SigningConfig,
    state::{AppState, RunMode},
};

/// The demo's users (also the documented sample of the import format).
const DEMO_USERS_CSV: &str = include_str!("../../docs/sample-users.csv");

/// The demo always runs on a fresh SQLite file on 127.0.0.1, whatever the environment says
/// about the database or the public URL, so it can never touch a real deployment.
pub(super) async fn run_demo(
    raw: &RawConfig,
    port: u16,
    data_dir: &Path,
    with_gateway: bool,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("could not create {}", data_dir.display()))?;
    let db_path = data_dir.join("demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", db_path.display()));
        if file.exists() {
            std::fs::remove_file(&file).with_context(|| {
                format!("could not remove the old demo file {}", file.display())
            })?;
        }
    }
    let db_config = DatabaseConfig {
        url: SecretString::from(format!("sqlite://{}", db_path.display())),
        max_connections: 5,
    };
    let listener = server::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    let bound = listener.local_addr()?;
    let public_url = format!("http://{bound}");
    let mut demo_raw = raw.clone();
    demo_raw.set("PUBLIC_URL", public_url.clone());
    demo_raw.set("BIND_ADDR", bound.to_string());
    let server_config: ServerConfig = demo_raw.server()?;

    // The demo's Postmark account lives in an in-process simulator, with a users gateway
    // holding about 40 users (the same people as docs/sample-users.csv).
    let simulator = demo_simulator("demo-account-token", "demo-gateway-token")?;
    // One reviewer's mailbox is closed, so the Notifications page shows a refused email and
    // the campaign dashboard an unreachable reviewer.
    simulator.deactivate_recipient("hiro.hughes@example.com");
    // And one server refuses every change, so the Revocations page shows a failed job.
    simulator.fault_on(
        format!(
            "PUT /servers/{}",
            crate::campaigns::demo::DEMO_FAILING_SERVER
        ),
        crate::postmark::simulator::Fault::ServerError,
        None,
    );
    // And the users gateway refuses one leaver's removal, so the Offboarding page shows a
    // failed removal past its deadline.
    if with_gateway {
        simulator.fault_on(
            format!(
                "DELETE /gateway/users/{}",
                crate::scim::demo::DEMO_STUCK_LEAVER
            ),
            crate::postmark::simulator::Fault::ServerError,
            None,
        );
    }
    let simulator_url = simulator.spawn(0).await?;
    // Review emails go out through the simulator's first server, whose Inbox the demo shows.
    let mail_token = simulator
        .server(crate::postmark::simulator::DEMO_MAIL_SERVER)
        .and_then(|s| s.api_tokens.first().cloned())
        .context("the demo account has no mail server")?;
    let auth = AuthService::development(&server_config.public_url)?;
    let app = Application::build(Startup {
        mode: RunMode::Demo,
        server: server_config,
        storage: Storage::Connect(db_config),
        auth,
        inventory: crate::config::InventoryConfig {
            snapshot_retention_days: crate::config::DEFAULT_SNAPSHOT_RETENTION_DAYS,
            api_url: simulator_url.clone(),
            account_token: Some(SecretString::from("demo-account-token".to_string())),
            sync_interval: None,
            webhook_host_allowlist: vec![
                "hooks.example.com".to_string(),
                "billing.example.com".to_string(),
            ],
            users_gateway: with_gateway
                .then(|| {
                    anyhow::Ok((
                        simulator_url.join("gateway/")?,
                        SecretString::from("demo-gateway-token".to_string()),
                    ))
                })
                .transpose()?,
        },
        campaigns: crate::config::CampaignConfig {
            // Demo pace: a stuck leaver is flagged two minutes after start, not a day.
            offboarding_deadline: raw
                .offboarding_deadline()?
                .unwrap_or(std::time::Duration::from_secs(120)),
            ..Default::default()
        },
        mail: Some(crate::config::MailConfig {
            api_url: simulator_url.clone(),
            server_token: SecretString::from(mail_token),
            from: "Access Review <access-review@example.com>".to_string(),
            stream: crate::config::DEFAULT_MAIL_STREAM.to_string(),
        }),
        clock: Arc::new(SystemClock),
        // The demo's key lives beside its database; the database is new each run, so the key
        // is registered again at start.
        signing: SigningConfig {
            key_file: data_dir.join("signing-key.pem"),
            key_pem: None,
            checkpoint_interval: Some(crate::config::DEFAULT_CHECKPOINT_INTERVAL),
        },
        jobs: Jobs::ALL,
        simulator: Some(simulator.clone()),
    })
    .await?
    // Demo pace: a failing revocation gives up after three quick tries instead of minutes.
    .with_revocation_settings(crate::revocations::worker::Settings {
        max_attempts: 3,
        base_delay: std::time::Duration::from_secs(1),
        ..Default::default()
    });

    println!();
    println!("  Postmark Access Review — DEMO MODE");
    println!(
        "  Sample data on a throwaway database: {}",
        db_path.display()
    );
    println!("  Sign-in goes through the built-in development identity provider:");
    println!("  pick Ada (admin), Aubrey (auditor), Rita or Manny (reviewers), or Petra");
    println!("  (the Postmark admin who gets the manual revocation tasks).");
    println!("  Listening on 127.0.0.1 only. Press Ctrl-C to stop.");
    println!();
    println!("  Open {public_url}");
    println!();

    // Sample data goes in before the background jobs start, so the campaign schedule's first
    // pass already sees the seeded campaigns.
    let state = app.state();
    sync(state).await?;
    if !with_gateway {
        // What a team without a gateway does: import the users export.
        let servers = crate::inventory::db::server_ids(&state.db).await?;
        let users = crate::inventory::users_csv::parse(DEMO_USERS_CSV.as_bytes(), &servers)
            .map_err(|rejected| {
                anyhow::anyhow!("demo users file is invalid: {:?}", rejected.errors)
            })?;
        crate::inventory::users::import(
            &state.db,
            state.clock.as_ref(),
            &Actor::system("demo"),
            Trigger::Demo,
            "docs/sample-users.csv",
            users,
        )
        .await?;
    }
    // Last quarter's review, carried out, proved by a sync and signed off: its revocation
    // runs here, before the rest of the sample data gives the worker other jobs.
    let signed_off = crate::campaigns::demo::last_quarter(
        &state.db,
        state.clock.as_ref(),
        &state.inventory.config.webhook_host_allowlist,
    )
    .await?;
    let worker = app.revocation_worker()?;
    while worker.run_once().await?.worked() > 0 {}
    sync(state).await?;
    // The rest of the demo is worth showing even if this fails: say why and go on.
    if let Err(error) = crate::campaigns::demo::sign_off_last_quarter(
        &state.db,
        state.clock.as_ref(),
        &state.signer,
        signed_off,
    )
    .await
    {
        tracing::warn!(
            error = format!("{error:#}"),
            "the demo's signed-off campaign is not signed off"
        );
    }
    crate::campaigns::demo::seed(
        &state.db,
        state.clock.as_ref(),
        state.auth.config(),
        &state.inventory.config.webhook_host_allowlist,
    )
    .await?;
    // The identity provider's push, after the campaigns were launched from the full
    // inventory: two leavers (removed by the worker once the app serves) and an orphan.
    crate::scim::demo::push(&state.db, state.clock.as_ref()).await?;
    // A first signed checkpoint, so the Audit page shows one and `audit verify` checks it.
    crate::audit::record_checkpoint(
        &state.db,
        state.clock.as_ref(),
        &state.signer,
        &Actor::system("demo"),
        crate::audit::Reason::Demo,
    )
    .await?;
    app.serve(listener).await
}

/// One inventory sync from the demo's simulated account.
async fn sync(state: &AppState) -> anyhow::Result<()> {
    state
        .inventory
        .sync(
            &state.db,
            state.clock.as_ref(),
            Trigger::Demo,
            &Actor::system("demo"),
            &|_| {},
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo sync failed: {e}"))?;
    Ok(())
}

/// The simulated Postmark account the demo and `simulator` share: the demo's servers, and a
/// users gateway holding about 40 users (the same people as docs/sample-users.csv).
fn demo_simulator(account_token: &str, gateway_token: &str) -> anyhow::Result<Simulator> {
    let simulator = Simulator::new(account_token);
    simulator.seed_demo_account();
    simulator.enable_gateway(gateway_token);
    let demo_servers = simulator.server_ids();
    let demo_users = crate::inventory::users_csv::parse(DEMO_USERS_CSV.as_bytes(), &demo_servers)
        .map_err(|rejected| {
        anyhow::anyhow!("demo users file is invalid: {:?}", rejected.errors)
    })?;
    for user in demo_users {
        simulator.put_user(crate::postmark::gateway::GatewayUser {
            email: user.email.into_string(),
            name: user.name,
            role: user.role,
            status: user.status,
            invited_at: user.invited_at,
            servers: user
                .permissions
                .into_iter()
                .map(
                    |(server_id, permission)| crate::postmark::gateway::GatewayPermission {
                        server_id,
                        permission,
                    },
                )
                .collect(),
        });
    }
    Ok(simulator)
}

/// `simulator`: the demo's Postmark account in its own process, so a test or an operator can
/// stop and restart `serve` (even with SIGKILL) while the account keeps its state.
pub(super) async fn run_simulator(port: u16) -> anyhow::Result<()> {
    // Fresh tokens each start: whoever can reach the port should still not be able to change
    // the simulated account without having read this process's output.
    let account_token = format!("sim-account-{}", uuid::Uuid::new_v4().simple());
    let gateway_token = format!("sim-gateway-{}", uuid::Uuid::new_v4().simple());
    let simulator = demo_simulator(&account_token, &gateway_token)?;
    let url = simulator
        .spawn(port)
        .await
        .with_context(|| format!("could not listen on 127.0.0.1:{port}"))?;
    let gateway = url.join("gateway/")?;
    let stopped = stop_signal()?;
    // Simulator tokens, printed on purpose: they open nothing but this process.
    println!("Postmark simulator listening on {url} (Ctrl-C to stop)");
    println!("Point `serve` at it with:");
    println!("  PAR_POSTMARK_API_URL={url}");
    println!("  PAR_POSTMARK_ACCOUNT_TOKEN={account_token}");
    println!("  PAR_POSTMARK_USERS_URL={gateway}");
    println!("  PAR_POSTMARK_USERS_TOKEN={gateway_token}");
    stopped.await;
    Ok(())
}

/// Ctrl-C or SIGTERM, listened for from the moment this returns: whoever reads the printed
/// settings may stop the process straight away, before a lazily registered handler would be.
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

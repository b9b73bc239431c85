//! Two `serve` processes on one PostgreSQL database behind one public URL, as behind a load
//! balancer: a session made by signing in on one works on the other; the scheduled sync runs
//! once per interval across both (the leader runs it); after the leader is killed with
//! SIGKILL the survivor takes over and runs the next ones.
//!
//! PostgreSQL only: SQLite serves one instance (README, *Several instances*).

use std::{
    fs::File,
    path::Path,
    process::{Child, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use postmark_access_review::{
    auth::dev_idp::{routes, DevIdp},
    clock::parse_timestamp,
    db::Backend,
    postmark::{simulator::Simulator, ServerInfo},
};

use crate::helpers::{backend_under_test, count, serve_command, TestDb, SIMULATOR_TOKEN};

const INTERVAL: Duration = Duration::from_secs(2);

struct Instance {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

fn start(
    db_url: &str,
    postmark: &url::Url,
    public: &url::Url,
    idp: &DevIdp,
    log: &Path,
) -> Instance {
    let (mut command, port) = serve_command(db_url, postmark);
    let child = command
        .env("PAR_PUBLIC_URL", public.as_str())
        .env("PAR_OIDC_ISSUER", format!("{}dev-idp", public))
        .env("PAR_OIDC_CLIENT_ID", "postmark-access-review-demo")
        .env("PAR_OIDC_CLIENT_SECRET", idp.client_secret())
        .env("PAR_ADMIN_EMAILS", "ada.admin@example.com")
        .env("PAR_SYNC_INTERVAL", "2s")
        // Only the servers: a users sync per interval would be a second row to tell apart.
        .env_remove("PAR_POSTMARK_USERS_URL")
        .env_remove("PAR_POSTMARK_USERS_TOKEN")
        .env("PAR_LOG_FORMAT", "json")
        .env("PAR_LOG_LEVEL", "warn,postmark_access_review::leader=info")
        .stdout(Stdio::null())
        .stderr(File::create(log).unwrap())
        .spawn()
        .unwrap();
    Instance {
        child,
        port,
        log: log.to_path_buf(),
    }
}

impl Instance {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let answer = reqwest::get(self.url("/readyz")).await;
            if answer.is_ok_and(|a| a.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "serve on {} never became ready",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether its log says it leads now (the last leadership line).
    fn leads(&self) -> bool {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|e| e["message"].as_str().map(str::to_string))
            .rfind(|m| m.contains("leading the scheduled work"))
            .is_some_and(|m| m == "leading the scheduled work")
    }
}

/// Start times of the scheduled server syncs, in order.
async fn scheduled_syncs(db: &postmark_access_review::db::Db) -> Vec<time::OffsetDateTime> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT started_at FROM syncs WHERE trigger_kind = 'schedule' AND scope = 'servers' \
         ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|(t,)| parse_timestamp(t).unwrap())
        .collect()
}

/// Signs Ada in on `on`, as a browser would; the client keeps the session cookie.
async fn sign_in(client: &reqwest::Client, on: &Instance, public: &url::Url) {
    let location = |r: &reqwest::Response| -> url::Url {
        let to = r.headers()["location"].to_str().unwrap();
        r.url().join(to).unwrap()
    };
    let login = client
        .get(on.url("/auth/login?next=/inventory"))
        .send()
        .await
        .unwrap();
    let authorize = location(&login);
    assert_eq!(
        authorize.port(),
        public.port(),
        "the provider at {authorize}"
    );
    let chooser = client.get(authorize.clone()).send().await.unwrap();
    assert_eq!(chooser.status(), 200);
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("person".into(), "0".into()));
    let chosen = client
        .post(public.join("/dev-idp/authorize").unwrap())
        .header("origin", public.origin().ascii_serialization())
        .form(&form)
        .send()
        .await
        .unwrap();
    // The load balancer would route the callback to either instance; it goes to `on`.
    let mut callback = location(&chosen);
    callback.set_port(Some(on.port)).unwrap();
    let done = client.get(callback).send().await.unwrap();
    assert!(done.status().is_redirection(), "sign-in: {}", done.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_sessions_and_run_the_schedule_once() {
    if backend_under_test() != Backend::Postgres {
        // Several instances need PostgreSQL (SQLite always leads, one instance).
        return;
    }
    let test_db = TestDb::fresh().await;
    let db = test_db.connect_migrated().await;
    let simulator = Simulator::new(SIMULATOR_TOKEN);
    for id in 1..=3 {
        simulator.add_server(ServerInfo::sample(
            id,
            &format!("s{id}"),
            &[&format!("t{id}")],
        ));
    }
    let postmark = simulator.spawn(0).await.unwrap();

    // The public address both instances are configured with; the identity provider answers
    // there (the instances are reached on their own ports, as a load balancer would).
    let front = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public: url::Url = format!("http://{}/", front.local_addr().unwrap())
        .parse()
        .unwrap();
    let idp = Arc::new(DevIdp::new(&public).unwrap().unmarked());
    let provider = axum::Router::new().merge(routes::router(Some(idp.clone())));
    tokio::spawn(async move { axum::serve(front, provider).await.unwrap() });

    let logs = tempfile::tempdir().unwrap();
    let mut a = start(
        &test_db.url(),
        &postmark,
        &public,
        &idp,
        &logs.path().join("a.log"),
    );
    let mut b = start(
        &test_db.url(),
        &postmark,
        &public,
        &idp,
        &logs.path().join("b.log"),
    );
    a.ready().await;
    b.ready().await;

    // Sign in on A; the session works on B.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    sign_in(&client, &a, &public).await;
    let on_b = client.get(b.url("/inventory")).send().await.unwrap();
    assert_eq!(on_b.status(), 200, "the session from A on B");
    assert!(on_b.text().await.unwrap().contains("Ada Admin"));

    // One leader; the schedule runs once per interval across both.
    tokio::time::sleep(INTERVAL * 4).await;
    assert!(a.leads() != b.leads(), "exactly one instance leads");
    let syncs = scheduled_syncs(&db).await;
    assert!(syncs.len() >= 2, "{} scheduled syncs", syncs.len());
    for pair in syncs.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= time::Duration::milliseconds(1500),
            "two scheduled syncs {gap} apart: {syncs:?}"
        );
    }

    // Kill the leader the hard way; the survivor takes over and syncs.
    let (leader, survivor) = if a.leads() {
        (&mut a, &b)
    } else {
        (&mut b, &a)
    };
    leader.child.kill().unwrap();
    leader.child.wait().unwrap();
    let before = count(
        &db,
        "SELECT COUNT(*) FROM syncs WHERE trigger_kind = 'schedule' AND scope = 'servers'",
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while count(
        &db,
        "SELECT COUNT(*) FROM syncs WHERE trigger_kind = 'schedule' AND scope = 'servers'",
    )
    .await
        < before + 2
    {
        assert!(
            Instant::now() < deadline,
            "the survivor never ran the schedule"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(survivor.leads(), "the survivor leads");
    for instance in [a, b] {
        let mut child = instance.child;
        let _ = child.kill();
        let _ = child.wait();
    }
}

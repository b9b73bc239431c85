//! The Postmark client against the in-repo simulator, including every injectable fault.

use std::time::Duration;

use postmark_access_review::postmark::{
    simulator::{Fault, Simulator},
    PostmarkClient, PostmarkConfig, PostmarkError, RetryPolicy, ServerInfo,
};
use secrecy::SecretString;

const ACCOUNT_TOKEN: &str = "account-token-for-tests";

async fn simulator_with(servers: i64) -> (Simulator, url::Url) {
    let sim = Simulator::new(ACCOUNT_TOKEN);
    for id in 1..=servers {
        sim.add_server(ServerInfo::sample(
            id,
            &format!("server-{id}"),
            &[&format!("token-{id}")],
        ));
    }
    let url = sim.spawn(0).await.unwrap();
    (sim, url)
}

fn client(url: &url::Url, token: &str, request_timeout: Duration) -> PostmarkClient {
    PostmarkClient::new(&PostmarkConfig {
        api_url: url.clone(),
        account_token: SecretString::from(token.to_string()),
        connect_timeout: Duration::from_secs(2),
        request_timeout,
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(1500),
        },
    })
    .unwrap()
    .with_page_size(4)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_every_server_across_pages() {
    let (sim, url) = simulator_with(10).await;
    let servers = client(&url, ACCOUNT_TOKEN, Duration::from_secs(5))
        .all_servers()
        .await
        .unwrap();
    assert_eq!(servers.len(), 10);
    assert_eq!(servers[9].name, "server-10");
    assert_eq!(sim.requests(), 3, "pages of 4, 4 and 2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_a_clear_error_without_the_token() {
    let (_sim, url) = simulator_with(1).await;
    let error = client(&url, "wrong-secret-token", Duration::from_secs(5))
        .all_servers()
        .await
        .unwrap_err();
    assert_eq!(error, PostmarkError::Unauthorized);
    assert!(!format!("{error} {error:?}").contains("wrong-secret-token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_server_errors_are_retried() {
    let (sim, url) = simulator_with(6).await;
    sim.push_fault(Fault::TooManyRequests {
        retry_after_secs: 1,
    });
    sim.push_fault(Fault::ServerError);
    let started = std::time::Instant::now();
    let servers = client(&url, ACCOUNT_TOKEN, Duration::from_secs(5))
        .all_servers()
        .await
        .unwrap();
    assert_eq!(servers.len(), 6);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(sim.requests(), 4, "two failures, then two pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_failures_end_in_a_readable_error() {
    let (sim, url) = simulator_with(2).await;
    for _ in 0..3 {
        sim.push_fault(Fault::ServerError);
    }
    let error = client(&url, ACCOUNT_TOKEN, Duration::from_secs(5))
        .all_servers()
        .await
        .unwrap_err();
    assert_eq!(error, PostmarkError::ServerError(500));
    assert_eq!(sim.requests(), 3, "max attempts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unprocessable_is_not_retried_and_carries_postmarks_message() {
    let (sim, url) = simulator_with(2).await;
    sim.push_fault(Fault::Unprocessable {
        code: 402,
        message: "Invalid JSON".to_string(),
    });
    let error = client(&url, ACCOUNT_TOKEN, Duration::from_secs(5))
        .all_servers()
        .await
        .unwrap_err();
    assert_eq!(
        error,
        PostmarkError::Rejected {
            code: 402,
            message: "Invalid JSON".to_string()
        }
    );
    assert_eq!(sim.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_and_short_pages_are_errors_not_partial_lists() {
    let (sim, url) = simulator_with(6).await;
    sim.push_fault(Fault::MalformedJson);
    let error = client(&url, ACCOUNT_TOKEN, Duration::from_secs(5))
        .all_servers()
        .await
        .unwrap_err();
    assert!(matches!(error, PostmarkError::Malformed(_)), "{error:?}");

    sim.push_fault(Fault::ShortPage);
    let error = client(&url, ACCOUNT_TOKEN, Duration::from_secs(5))
        .all_servers()
        .await
        .unwrap_err();
    assert_eq!(
        error,
        PostmarkError::Incomplete {
            got: 3,
            expected: 6
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_time_out_and_are_retried() {
    let (sim, url) = simulator_with(2).await;
    sim.push_fault(Fault::Slow(Duration::from_millis(800)));
    let servers = client(&url, ACCOUNT_TOKEN, Duration::from_millis(300))
        .all_servers()
        .await
        .unwrap();
    assert_eq!(servers.len(), 2, "the retry got through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_stats_use_the_server_token() {
    let (sim, url) = simulator_with(2).await;
    sim.set_sent(2, 1234);
    let c = client(&url, ACCOUNT_TOKEN, Duration::from_secs(5));
    let sent = c
        .outbound_sent(
            SecretString::from("token-2".to_string()),
            "2026-10-29",
            "2026-11-28",
        )
        .await
        .unwrap();
    assert_eq!(sent, 1234);
    let error = c
        .outbound_sent(
            SecretString::from("nope".to_string()),
            "2026-10-29",
            "2026-11-28",
        )
        .await
        .unwrap_err();
    assert_eq!(error, PostmarkError::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_longer_than_we_wait_is_reported_not_retried_early() {
    let (sim, url) = simulator_with(2).await;
    sim.push_fault(Fault::TooManyRequests {
        retry_after_secs: 60,
    });
    let error = client(&url, ACCOUNT_TOKEN, Duration::from_secs(5))
        .all_servers()
        .await
        .unwrap_err();
    assert_eq!(error, PostmarkError::RateLimited);
    assert_eq!(sim.requests(), 1);
}

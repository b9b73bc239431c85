//! Search and filter inputs are capped at the boundary (200 characters): a longer one is
//! refused with a message naming it before any row is read; 200 (even multi-byte) pass.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    auth::{signed_in, RITA},
    campaigns::{launched, send},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_searches_and_filters_are_refused_before_any_work() {
    let (app, ada, _) = launched().await;
    let rita = signed_in(&app, RITA).await;
    let long = "x".repeat(201);
    let fine = "é".repeat(200);

    let queue = send(
        &rita,
        "/api/reviews_queue",
        &json!({ "query": { "search": long } }),
    )
    .await;
    assert_eq!(queue.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(queue
        .text()
        .await
        .unwrap()
        .contains("Search is too long: at most 200 characters (got 201)."));
    let flag = send(
        &rita,
        "/api/reviews_queue",
        &json!({ "query": { "flag": long } }),
    )
    .await;
    assert_eq!(flag.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ok = send(
        &rita,
        "/api/reviews_queue",
        &json!({ "query": { "search": fine } }),
    )
    .await;
    assert_eq!(ok.status(), 200);

    let users = ada
        .post("/api/inventory_users", &[("search", long.as_str())])
        .await;
    assert_eq!(users.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(users.text().await.unwrap().contains("Search is too long"));
    let users = ada
        .post("/api/inventory_users", &[("search", fine.as_str())])
        .await;
    assert_eq!(users.status(), 200);

    let servers = send(
        &ada,
        "/api/inventory_servers",
        &json!({ "query": { "sort": long } }),
    )
    .await;
    assert_eq!(servers.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(servers.text().await.unwrap().contains("Sort is too long"));
}

//! Integration suite: the real router on a random port, a fresh database per test.
//!
//! Runs on SQLite by default; `PAR_TEST_DATABASE=postgres` runs the same tests on PostgreSQL
//! (`PAR_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

mod access_refused;
mod admin_home;
mod approval_links;
mod assets;
mod audit;
mod audit_search;
mod auth;
mod backup;
mod campaigns;
mod checkpoints;
mod cli;
mod contract;
mod crash;
mod exports;
mod gateway;
mod handover;
mod health;
mod helpers;
mod instances;
mod inventory;
mod inventory_lists;
mod mappings;
mod notifications;
mod offboarding;
mod orphans;
mod pages;
mod plain_http;
mod postmark;
mod queue_context;
mod queue_filters;
mod readme;
mod recommendations;
mod restart;
mod reviews;
mod revocations;
mod same_person;
mod schema;
mod scim;
mod search_limits;
mod security;
mod settings_page;
mod shutdown;
mod signing;
mod signoff;
mod snapshots;
mod timeouts;
mod times;
mod users;
mod webhook_credentials;

//! Postmark Access Review: quarterly user-access reviews of a Postmark account.
//!
//! The crate builds twice: with `ssr` into the server binary, with `hydrate` into the
//! WebAssembly module that makes the server-rendered pages interactive.

// Leptos views are nested types; the campaign dashboard is deeper than the default allows.
#![recursion_limit = "256"]

pub mod app;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod components;
pub mod error;
pub mod home;
pub mod inventory;
pub mod reviews;
pub mod settings_page;
pub mod urlenc;

#[cfg(feature = "ssr")]
pub mod application;
#[cfg(feature = "ssr")]
pub mod bench;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod postmark;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod telemetry;

/// Base name of the files under `pkg/` (`NAME.js`, `NAME_bg.wasm`, `NAME.css`).
pub const OUTPUT_NAME: &str = "postmark_access_review";

/// Browser entry point: attaches the client to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}

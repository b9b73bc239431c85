//! Postmark Access Review: quarterly user-access reviews of a Postmark account.
//!
//! The crate builds twice: with `ssr` into the server binary, with `hydrate` into the
//! WebAssembly module that makes the server-rendered pages interactive.
//!
//! # Layers
//!
//! Dependencies run one way, top to bottom of this list; no module imports one above it.
//!
//! 1. **Infrastructure**: [`config`], [`db`] (pool, migrations, write transactions, the
//!    PostgreSQL advisory locks), [`clock`], [`error`], [`telemetry`], and the small shared
//!    types [`email`] (an address parsed once), [`csv_file`] (upload checks), [`urlenc`].
//!    [`postmark`] is the outbound client and the in-repo simulator. [`signing`] holds the
//!    Ed25519 key (file or configuration) and the table of its public keys.
//! 2. **Domain**, each a folder with `mod.rs` (types), `db.rs` and friends (server only):
//!    [`audit`] (the hash chain), [`auth`] (OIDC, sessions, roles), [`inventory`] (servers,
//!    users, syncs), [`review_items`] (the items of every campaign: model, reader, lock,
//!    writers), [`campaigns`] (settings, assignment, launch, close), [`reviews`] (a
//!    reviewer's queue and decisions), [`approval_links`] (the `/r/{token}` links, stored
//!    hashed) and [`notifications`] (the email outbox and the worker that sends it).
//! 3. **State and handlers**: [`state`] (the `AppState` every handler gets: pool, config,
//!    clock, services, metrics), then each feature's server functions (`api.rs`, each starting
//!    with `auth::guard::require(Need::…)` and returning purpose-made view types) and axum
//!    routes (`auth::routes`: sign-in and out; [`export`]: the CSV evidence downloads, with the
//!    CSV writer the campaign sign-off shares).
//! 4. **Pages**: each feature's page files, and [`home`] (with [`admin_attention`]) /
//!    [`settings_page`]; widgets used by more than one page (the signed-in viewer and its role
//!    tests, progress bars, notices, the hand-on forms, CSV upload) live in [`components`].
//! 5. **Shell**: [`app`] (the HTML document, `<App/>`, routes) and [`lazy_routes`] (the
//!    pages whose code the browser fetches when first opened).
//! 6. **Process** (server only): [`server`] (router, security headers, metrics), [`cli`]
//!    (`serve`, `demo`, `migrate`, …) and [`bench`].
//!
//! A request starts in [`server`]: the router runs the security, session and rate-limit
//! layers, then either an axum route (sign-in, health, metrics) or Leptos, which renders a page
//! from [`app`] or runs a server function from some feature's `api.rs`.

// Leptos views are nested types; the campaign dashboard is deeper than the default allows.
#![recursion_limit = "256"]

pub mod admin_attention;
pub mod app;
pub mod approval_links;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod codec;
pub mod components;
pub mod csv_file;
pub mod email;
pub mod error;
pub mod fulfilment;
pub mod home;
pub mod inventory;
pub mod lazy_routes;
pub mod mappings;
pub mod notifications;
pub mod offboarding;
pub mod review_items;
pub mod reviews;
pub mod revocations;
pub mod scim;
pub mod search;
pub mod settings_overview;
pub mod settings_page;
pub mod signoff;
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
pub mod export;
#[cfg(feature = "ssr")]
pub mod leader;
#[cfg(feature = "ssr")]
pub mod people;
#[cfg(feature = "ssr")]
pub mod postmark;
#[cfg(feature = "ssr")]
pub mod reviewer_suggestions;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod signing;
#[cfg(feature = "ssr")]
pub mod sql;
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
    // What `leptos::mount::hydrate_lazy` does (it waits for the code of a lazily loaded page,
    // `lazy_routes`, before hydrating it), then marks the page interactive.
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        app::mark_hydrated();
    });
}

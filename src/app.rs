//! The HTML shell, the application component and its routes. The home page and the
//! reviewer's queue are in the main bundle; the other pages load their code when first opened
//! (`lazy_routes`).

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, Lazy, SsrMode,
};

use crate::{
    components::{
        shell::{DemoBanner, Footer, Protected, TopBar},
        status_pages::{ErrorPage, NotFound},
        viewer::ShellInfo,
    },
    home::Home,
    lazy_routes::{
        Audit, Campaign, Campaigns, Inbox, Inventory, InventoryServer, InventorySyncs,
        InventoryUser, InventoryUsers, Mappings, NewCampaign, Notifications, Offboarding,
        ReviewPerson, ReviewServer, Revocations, ScimTokens, Settings, Task, Tasks,
    },
    reviews::page::ReviewsPage,
};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // In the bundle's folder, which a release build names by its build id (server::assets).
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, crate::OUTPUT_NAME);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link id="leptos" rel="stylesheet" href=stylesheet />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Reads the [`ShellInfo`] the server put in context; during hydration the client gets the
/// same value from the serialized page, so both render identical markup.
fn shell_info() -> ShellInfo {
    let shared = SharedValue::new(|| {
        use_context::<ShellInfo>().unwrap_or_else(|| ShellInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            demo: false,
            viewer: None,
        })
    });
    shared.into_inner()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let info = shell_info();
    provide_context(info.clone());

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() {
                "Postmark Access Review".to_string()
            } else {
                format!("{page} · Postmark Access Review")
            }
        } />
        <Router>
            // `mark_hydrated` sets it to "true" once the page is interactive; the end-to-end
            // tests wait for that before clicking.
            <div class="app" data-hydrated="false">
                <a class="skip-link" href="#main" on:click=skip_to_main>
                    "Skip to content"
                </a>
                <noscript>
                    <p class="notice notice-warn noscript">
                        "This application needs JavaScript for its buttons and forms; with it off, pages can be read but not changed."
                    </p>
                </noscript>
                <Show when=move || info.demo>
                    <DemoBanner />
                </Show>
                <TopBar viewer=info.viewer.clone() />
                <main id="main" class="content" tabindex="-1">
                    <ErrorBoundary fallback=|_errors| view! { <ErrorPage /> }>
                        <Routes fallback=|| view! { <NotFound /> }>
                            <Route path=path!("/") view=Home />
                            <Route
                                path=path!("/inventory")
                                view={Lazy::<Inventory>::new()}
                            />
                            // Rendered whole before answering, so a missing server is a real 404.
                            <Route
                                path=path!("/inventory/servers/:id")
                                view={Lazy::<InventoryServer>::new()}
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("/inventory/users/:email")
                                view={Lazy::<InventoryUser>::new()}
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("/inventory/users")
                                view={Lazy::<InventoryUsers>::new()}
                            />
                            <Route
                                path=path!("/inventory/syncs")
                                view={Lazy::<InventorySyncs>::new()}
                            />
                            <Route
                                path=path!("/campaigns")
                                view={Lazy::<Campaigns>::new()}
                            />
                            <Route
                                path=path!("/campaigns/new")
                                view={Lazy::<NewCampaign>::new()}
                            />
                            <Route
                                path=path!("/campaigns/:id")
                                view={Lazy::<Campaign>::new()}
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("/reviews")
                                view=|| view! { <Protected><ReviewsPage /></Protected> }
                            />
                            <Route
                                path=path!("/reviews/person")
                                view={Lazy::<ReviewPerson>::new()}
                            />
                            <Route
                                path=path!("/reviews/server")
                                view={Lazy::<ReviewServer>::new()}
                            />
                            <Route
                                path=path!("/audit")
                                view={Lazy::<Audit>::new()}
                            />
                            <Route
                                path=path!("/notifications")
                                view={Lazy::<Notifications>::new()}
                            />
                            <Route
                                path=path!("/inbox")
                                view={Lazy::<Inbox>::new()}
                            />
                            <Route
                                path=path!("/revocations")
                                view={Lazy::<Revocations>::new()}
                            />
                            <Route
                                path=path!("/offboarding")
                                view={Lazy::<Offboarding>::new()}
                            />
                            <Route
                                path=path!("/tasks")
                                view={Lazy::<Tasks>::new()}
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("/tasks/:id")
                                view={Lazy::<Task>::new()}
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("/settings")
                                view={Lazy::<Settings>::new()}
                            />
                            <Route
                                path=path!("/settings/mappings")
                                view={Lazy::<Mappings>::new()}
                            />
                            <Route
                                path=path!("/settings/scim")
                                view={Lazy::<ScimTokens>::new()}
                            />
                        </Routes>
                    </ErrorBoundary>
                </main>
                <Footer version=info.version.clone() />
            </div>
        </Router>
    }
}

/// Marks the page interactive (`data-hydrated` on `.app`), once hydration is done: for a page
/// whose code loads lazily (`lazy_routes`), only after that code arrived and hydrated it. An
/// effect in `App` would run before that, while the route's code is still loading.
#[cfg(feature = "hydrate")]
pub fn mark_hydrated() {
    if let Ok(Some(app)) = document().query_selector(".app") {
        let _ = app.set_attribute("data-hydrated", "true");
    }
}

/// The skip link moves focus into `main`. After hydration the router handles `#main` as a
/// navigation and the browser's own focus move does not happen, so it is done here.
fn skip_to_main(event: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        let main = document()
            .get_element_by_id("main")
            .and_then(|main| main.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(main) = main {
            event.prevent_default();
            let _ = main.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = event;
}

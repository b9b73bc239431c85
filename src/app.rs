//! The HTML shell, the application component and its routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::{
    audit::page::AuditPage,
    campaigns::{
        detail::CampaignPage,
        pages::{CampaignsPage, NewCampaignPage},
    },
    components::{
        shell::{DemoBanner, Footer, Protected, StaffOnly, TopBar},
        status_pages::{ErrorPage, NotFound},
        viewer::ShellInfo,
    },
    fulfilment::page::{TaskPage, TasksPage},
    home::Home,
    inventory::{
        detail::{ServerPage, UserPage},
        pages::{InventoryPage, SyncsPage},
        users_page::UsersPage,
    },
    mappings::page::MappingsPage,
    notifications::page::{InboxPage, NotificationsPage},
    offboarding::page::OffboardingPage,
    reviews::{
        lookup::{ReviewPersonPage, ReviewServerPage},
        page::ReviewsPage,
    },
    revocations::page::RevocationsPage,
    scim::page::ScimTokensPage,
    settings_page::SettingsPage,
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
    // Effects run only in the browser, so this flips once the page is interactive; the
    // end-to-end tests wait for it before clicking.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() {
                "Postmark Access Review".to_string()
            } else {
                format!("{page} · Postmark Access Review")
            }
        } />
        <Router>
            <div class="app" data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
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
                                view=|| view! { <Protected><StaffOnly title="Inventory"><InventoryPage /></StaffOnly></Protected> }
                            />
                            // Rendered whole before answering, so a missing server is a real 404.
                            <Route
                                path=path!("/inventory/servers/:id")
                                view=|| view! { <Protected><StaffOnly title="Server"><ServerPage /></StaffOnly></Protected> }
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("/inventory/users/:email")
                                view=|| view! { <Protected><StaffOnly title="User"><UserPage /></StaffOnly></Protected> }
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("/inventory/users")
                                view=|| view! { <Protected><StaffOnly title="Users"><UsersPage /></StaffOnly></Protected> }
                            />
                            <Route
                                path=path!("/inventory/syncs")
                                view=|| view! { <Protected><StaffOnly title="Sync history"><SyncsPage /></StaffOnly></Protected> }
                            />
                            <Route
                                path=path!("/campaigns")
                                view=|| view! { <Protected><CampaignsPage /></Protected> }
                            />
                            <Route
                                path=path!("/campaigns/new")
                                view=|| view! { <Protected><NewCampaignPage /></Protected> }
                            />
                            <Route
                                path=path!("/campaigns/:id")
                                view=|| view! { <Protected><CampaignPage /></Protected> }
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("/reviews")
                                view=|| view! { <Protected><ReviewsPage /></Protected> }
                            />
                            <Route
                                path=path!("/reviews/person")
                                view=|| view! { <Protected><ReviewPersonPage /></Protected> }
                            />
                            <Route
                                path=path!("/reviews/server")
                                view=|| view! { <Protected><ReviewServerPage /></Protected> }
                            />
                            <Route
                                path=path!("/audit")
                                view=|| view! { <Protected><StaffOnly title="Audit"><AuditPage /></StaffOnly></Protected> }
                            />
                            <Route
                                path=path!("/notifications")
                                view=|| view! { <Protected><StaffOnly title="Notifications"><NotificationsPage /></StaffOnly></Protected> }
                            />
                            <Route
                                path=path!("/inbox")
                                view=|| view! { <Protected><InboxPage /></Protected> }
                            />
                            <Route
                                path=path!("/revocations")
                                view=|| view! { <Protected><StaffOnly title="Revocations"><RevocationsPage /></StaffOnly></Protected> }
                            />
                            <Route
                                path=path!("/offboarding")
                                view=|| view! { <Protected><StaffOnly title="Offboarding"><OffboardingPage /></StaffOnly></Protected> }
                            />
                            <Route
                                path=path!("/tasks")
                                view=|| view! { <Protected><TasksPage /></Protected> }
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("/tasks/:id")
                                view=|| view! { <Protected><TaskPage /></Protected> }
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("/settings")
                                view=|| view! { <Protected><SettingsPage /></Protected> }
                            />
                            <Route
                                path=path!("/settings/mappings")
                                view=|| view! { <Protected><StaffOnly title="Group mappings"><MappingsPage /></StaffOnly></Protected> }
                            />
                            <Route
                                path=path!("/settings/scim")
                                view=|| view! { <Protected><ScimTokensPage /></Protected> }
                            />
                        </Routes>
                    </ErrorBoundary>
                </main>
                <Footer version=info.version.clone() />
            </div>
        </Router>
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

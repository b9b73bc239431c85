//! The frame around every page: top bar with navigation, demo banner, footer.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::auth::{Role, Viewer};

/// Who a navigation entry is for: people are shown only what they can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Admins and auditors.
    Staff,
    /// Everyone who may be given items to decide: not an auditor who is only an auditor.
    Deciders,
}

impl Audience {
    pub fn includes(self, viewer: &Viewer) -> bool {
        let admin = viewer.has(Role::Admin);
        match self {
            Audience::Staff => admin || viewer.has(Role::Auditor),
            Audience::Deciders => admin || !viewer.has(Role::Auditor),
        }
    }
}

/// Primary navigation entries: label, path, audience.
pub const NAV: [(&str, &str, Audience); 5] = [
    ("Inventory", "/inventory", Audience::Staff),
    ("Campaigns", "/campaigns", Audience::Staff),
    ("My reviews", "/reviews", Audience::Deciders),
    ("Audit", "/audit", Audience::Staff),
    ("Settings", "/settings", Audience::Staff),
];

#[component]
pub fn TopBar(viewer: Option<Viewer>) -> impl IntoView {
    // On narrow screens the navigation folds behind a button; wide screens always show it.
    // Signed-out visitors get no section navigation: every section needs a sign-in.
    let open = RwSignal::new(false);
    let signed_in = viewer.is_some();
    // Manual revocations are for admins and the Postmark admins who carry them out.
    let fulfils = viewer.as_ref().is_some_and(Viewer::reads_tasks);
    // Leavers and emergency removals are for admins and auditors.
    let staff = viewer
        .as_ref()
        .is_some_and(|v| v.has(Role::Admin) || v.has(Role::Auditor));
    let entries: Vec<(&str, &str)> = NAV
        .into_iter()
        .filter(|(_, _, audience)| viewer.as_ref().is_some_and(|v| audience.includes(v)))
        .map(|(label, href, _)| (label, href))
        .collect();
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">
                    "PAR"
                </span>
                <span class="brand-name">"Postmark Access Review"</span>
            </A>
            <Show when=move || signed_in>
                <button
                    type="button"
                    class="menu-toggle"
                    aria-controls="primary-nav"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    {move || if open.get() { "Close menu" } else { "Menu" }}
                </button>
                <nav
                    id="primary-nav"
                    class="primary-nav"
                    class:open=move || open.get()
                    aria-label="Primary"
                >
                    <ul>
                        {entries
                            .clone()
                            .into_iter()
                            .map(|(label, href)| {
                                view! {
                                    <li>
                                        <A href=href on:click=move |_| open.set(false)>
                                            {label}
                                        </A>
                                    </li>
                                }
                            })
                            .collect_view()}
                        {staff.then(|| view! {
                            <li>
                                <A href="/offboarding" on:click=move |_| open.set(false)>
                                    "Offboarding"
                                </A>
                            </li>
                        })}
                        {fulfils.then(|| view! {
                            <li>
                                <A href="/tasks" on:click=move |_| open.set(false)>
                                    "Tasks"
                                </A>
                            </li>
                        })}
                    </ul>
                </nav>
            </Show>
            <Account viewer />
        </header>
    }
}

/// Wraps a protected page. The server already redirects anonymous requests; this covers a
/// client-side navigation after the session ended, by leaving for the sign-in page.
#[component]
pub fn Protected(children: ChildrenFn) -> impl IntoView {
    let signed_in = super::viewer::signed_in();
    move || {
        if signed_in {
            children().into_any()
        } else {
            #[cfg(feature = "hydrate")]
            {
                let location = window().location();
                let here = format!(
                    "{}{}",
                    location.pathname().unwrap_or_default(),
                    location.search().unwrap_or_default()
                );
                let _ = location.assign(&format!(
                    "/auth/login?next={}",
                    crate::urlenc::encode(&here, b"/")
                ));
            }
            view! { <p class="loading">"Taking you to sign in…"</p> }.into_any()
        }
    }
}

/// Wraps a page only admins and auditors read (the inventory, the audit log). Others are told
/// so at once, without the page asking the server for data it would refuse.
#[component]
pub fn StaffOnly(title: &'static str, children: ChildrenFn) -> impl IntoView {
    move || {
        if super::viewer::reads_campaigns() {
            children().into_any()
        } else {
            #[cfg(feature = "ssr")]
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::FORBIDDEN);
                crate::auth::guard::note_refusal("page for admins and auditors");
            }
            view! {
                <leptos_meta::Title text=title />
                <header class="page-header">
                    <h1>{title}</h1>
                </header>
                <div class="notice notice-warn" role="alert">
                    <p>"This page is for admins and auditors. Ask an administrator if you need access."</p>
                </div>
            }
            .into_any()
        }
    }
}

/// Who is signed in, with their role and a sign-out button; or a sign-in link.
#[component]
fn Account(viewer: Option<Viewer>) -> impl IntoView {
    match viewer {
        Some(viewer) => view! {
            <div class="account">
                <span class="account-name">{viewer.name.clone()}</span>
                <span class="role-badge">{viewer.role_label()}</span>
                // A plain form: signing out is a full POST that ends the server-side session.
                <form method="post" action="/auth/logout" class="signout">
                    <button type="submit" class="button-ghost">"Sign out"</button>
                </form>
            </div>
        }
        .into_any(),
        None => {
            let location = use_location();
            let href = move || {
                let here = format!("{}{}", location.pathname.get(), location.search.get());
                let next = if here == "/" {
                    String::new()
                } else {
                    format!("?next={}", crate::urlenc::encode(&here, b"/"))
                };
                format!("/auth/login{next}")
            };
            view! {
                <div class="account">
                    <a class="button-ghost" href=href rel="external">
                        "Sign in"
                    </a>
                </div>
            }
            .into_any()
        }
    }
}

#[component]
pub fn DemoBanner() -> impl IntoView {
    view! {
        <div class="demo-banner" role="status">
            <strong>"Demo mode."</strong>
            // Phones keep the banner to one line: the first screen is for the work.
            <span class="demo-detail">" Sample data on a throwaway database; nothing here touches a real Postmark account."</span>
            " Emails go to a simulated Postmark: "
            <A href="/inbox">"your inbox"</A>
            "."
        </div>
    }
}

#[component]
pub fn Footer(version: String) -> impl IntoView {
    view! {
        <footer class="footer">
            <span>"Postmark Access Review " {version}</span>
            <span class="footer-note">"Self-hosted. Every change is written to a hash-chained audit log."</span>
        </footer>
    }
}

//! The frame around every page: top bar with navigation, demo banner, footer.

use leptos::prelude::*;
use leptos_router::components::A;

/// Primary navigation entries: label and path.
pub const NAV: [(&str, &str); 5] = [
    ("Inventory", "/inventory"),
    ("Campaigns", "/campaigns"),
    ("My reviews", "/reviews"),
    ("Audit", "/audit"),
    ("Settings", "/settings"),
];

#[component]
pub fn TopBar() -> impl IntoView {
    // On narrow screens the navigation folds behind a button; wide screens always show it.
    let open = RwSignal::new(false);
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">
                    "PAR"
                </span>
                <span class="brand-name">"Postmark Access Review"</span>
            </A>
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
                    {NAV
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
                </ul>
            </nav>
        </header>
    }
}

#[component]
pub fn DemoBanner() -> impl IntoView {
    view! {
        <div class="demo-banner" role="status">
            <strong>"Demo mode."</strong>
            " Sample data on a throwaway database; nothing here touches a real Postmark account."
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

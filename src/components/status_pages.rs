//! Pages for "not found" and unexpected failures. Neither shows internal details.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <section class="status-page">
            <p class="status-code">"404"</p>
            <h1>"Page not found"</h1>
            <p>"The address may be mistyped, or the page may have moved."</p>
            <p>
                <A href="/">"Go to the start page"</A>
            </p>
        </section>
    }
}

#[component]
pub fn ErrorPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::INTERNAL_SERVER_ERROR);
    }
    view! {
        <Title text="Something went wrong" />
        <section class="status-page">
            <p class="status-code">"Error"</p>
            <h1>"Something went wrong"</h1>
            <p>
                "The problem has been logged. Reload the page to try again; if it keeps happening, "
                "tell your administrator the time it happened."
            </p>
            <p>
                <A href="/">"Go to the start page"</A>
            </p>
        </section>
    }
}

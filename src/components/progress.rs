//! A progress bar with its numbers, used by the campaign pages and the review queue.

use leptos::prelude::*;

/// `decided of items` with a progress bar.
#[component]
pub fn Progress(decided: i64, items: i64, #[prop(into)] label: String) -> impl IntoView {
    let percent = if items > 0 { decided * 100 / items } else { 0 };
    view! {
        <span class="progress">
            <progress max=items.max(1).to_string() value=decided.to_string() aria-label=label></progress>
            " "
            <span class="progress-text">{format!("{decided} of {items} ({percent}%)")}</span>
        </span>
    }
}

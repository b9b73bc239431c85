//! A list filter's drop-down: one query parameter, "Any" first, the value always the one in
//! the address (also after client-side navigation, when a `selected` attribute would not
//! change what the browser shows).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `<label>` with a `<select name=param>` of `options` (value, text) after "Any".
#[component]
pub fn FilterSelect(
    label: &'static str,
    param: &'static str,
    options: Vec<(String, String)>,
) -> impl IntoView {
    let query = use_query_map();
    view! {
        <label>
            {label} " "
            <select name=param prop:value=move || query.with(|q| q.get(param).unwrap_or_default())>
                <option value="">"Any"</option>
                {options.into_iter().map(|(value, text)| view! { <option value=value>{text}</option> }).collect_view()}
            </select>
        </label>
    }
}

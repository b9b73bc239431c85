//! List filters: the GET form every list page filters with, and its drop-down (one query
//! parameter, "Any" first, the value always the one in the address, also after client-side
//! navigation, when a `selected` attribute would not change what the browser shows).

use std::sync::Arc;

use leptos::{prelude::*, web_sys::FormData};
use leptos_router::{components::Form, hooks::use_query_map};

/// The router's GET `Form` for a list's filters: submitting it navigates on the client to
/// `action?name=value&…`. The router adds the pressed button's name and value to what it sends,
/// and an unnamed button would add an empty key (an address ending in `&=`); that pair is
/// dropped here, so each input's name is the only key.
#[component]
pub fn FilterForm(
    /// The list page's path (a campaign's dashboard has its id in it).
    #[prop(into)]
    action: String,
    /// Classes besides `filters`.
    #[prop(optional)]
    class: &'static str,
    /// The form's accessible name, when the page has more than one.
    #[prop(optional)]
    label: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let drop_unnamed: Arc<dyn Fn(&FormData)> = Arc::new(|data: &FormData| data.delete(""));
    let class = if class.is_empty() {
        "filters".to_string()
    } else {
        format!("filters {class}")
    };
    view! {
        <Form method="GET" action on_form_data=drop_unnamed attr:class=class attr:aria-label=label>
            {children()}
        </Form>
    }
}

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
                // `selected` for the server-rendered page (a reload), `prop:value` above after
                // client-side navigation, when the attribute would not change the shown value.
                {options.into_iter().map(|(value, text)| {
                    let chosen = value.clone();
                    view! {
                        <option value=value selected=move || query.with(|q| q.get(param).as_deref() == Some(chosen.as_str()))>{text}</option>
                    }
                }).collect_view()}
            </select>
        </label>
    }
}

//! A `<datalist>` of email addresses an input suggests (`list=id`): typing stays free, the
//! browser offers the known ones. Fed by [`crate::reviewer_suggestions`] for reviewer fields.

use leptos::prelude::*;

#[component]
pub fn EmailSuggestions(id: &'static str, emails: Vec<String>) -> impl IntoView {
    view! {
        <datalist id=id>
            {emails.into_iter().map(|email| view! { <option value=email></option> }).collect_view()}
        </datalist>
    }
}

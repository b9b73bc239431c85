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

/// The known people (see [`crate::reviews::api::handover_suggestions`]) as one `<datalist>`,
/// for every hand-on or owner field of a page. Fetched in the browser only: suggestions help
/// typing, which needs the client anyway, and no server-rendered node waits for them.
#[component]
pub fn KnownPeople(id: &'static str) -> impl IntoView {
    let people = LocalResource::new(crate::reviews::api::handover_suggestions);
    // Read only once the page is live: on the server a local resource never loads, and a
    // read inside a page's <Suspense> would hold the whole page back.
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    view! {
        <div class="known-people" hidden>
            {move || {
                mounted
                    .get()
                    .then(|| people.get().and_then(Result::ok))
                    .flatten()
                    .map(|emails| view! { <EmailSuggestions id emails /> })
            }}
        </div>
    }
}

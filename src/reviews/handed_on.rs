//! "Handed on by you" on My reviews: the undecided items the reviewer handed to someone else,
//! each with Take back, for an item handed on by mistake. Shown only when there are some.

use leptos::prelude::*;

use super::api::{my_handed_on, review_take_back};

#[component]
pub fn HandedOnList(
    /// The queue's reload counter: the list follows the queue (an item handed on there
    /// appears here).
    reload: RwSignal<u32>,
    /// Gets the message after an item came back; the queue then reloads, and this list too.
    changed: Callback<String>,
) -> impl IntoView {
    let items = Resource::new(move || reload.get(), |_| my_handed_on());
    let error = RwSignal::new(None::<String>);
    let take_back = move |(id, version, what): (i64, i64, String)| {
        leptos::task::spawn_local(async move {
            match review_take_back(id, version).await {
                Ok(_) => {
                    error.set(None);
                    changed.run(format!("{what} is back in your queue."));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let items = items.await.unwrap_or_default();
                (!items.is_empty()).then(|| view! {
                    <section class="handed-on" aria-labelledby="handed-on-heading">
                        <h2 id="handed-on-heading">"Handed on by you"</h2>
                        <p class="muted">"Still undecided: take one back if it went to the wrong person."</p>
                        {move || error.get().map(|e| view! { <p class="status-error" role="alert">{e}</p> })}
                        <ul class="plain handed-on-items">
                            {items.into_iter().map(|item| {
                                let label = format!("{}, {}", item.subject(), item.what());
                                let text = format!("{} — now with {} ({})", label, item.reviewer, item.campaign_name);
                                let this = (item.id, item.version, item.what());
                                view! {
                                    <li data-item-id=item.id.to_string()>
                                        <span>{text}</span> " "
                                        <button type="button" class="button-secondary take-back"
                                            aria-label=format!("Take back: {label}")
                                            on:click=move |_| take_back(this.clone())>"Take back"</button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Transition>
    }
}

//! Handing review items on: one item to another reviewer, or every undecided item of a
//! reviewer in a campaign. Used by the review queue and the campaign dashboard.

use leptos::prelude::*;

use crate::{
    error::AppError,
    reviews::api::{review_delegate, review_reassign},
};

/// Hands one item to another reviewer, with a reason. `done` gets the success message (the
/// list reloads, so the caller shows it); a refusal is shown here.
#[component]
pub fn ReassignForm(item_id: i64, done: Callback<String>) -> impl IntoView {
    let to = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        let (to, reason) = (to.get_untracked(), reason.get_untracked());
        leptos::task::spawn_local(async move {
            let outcome = review_reassign(item_id, to, reason).await;
            pending.set(false);
            match outcome {
                Ok(item) => done.run(format!("{} handed to {}.", item.what(), item.reviewer)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <details class="reassign">
            <summary>"Hand on…"</summary>
            <form class="reassign-form" on:submit=submit>
                <label>"To (email)" <input type="email" class="reassign-to" required prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev)) /></label>
                <label>"Reason" <input type="text" class="reassign-reason" required prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev)) /></label>
                <button type="submit" class="button-secondary" disabled=move || pending.get()>"Hand on"</button>
            </form>
            {move || error.get().map(|e| view! { <p class="status-error" role="alert">{e.to_string()}</p> })}
        </details>
    }
}

/// Hands every undecided item of a reviewer in a campaign to someone else. With `reviewers`
/// (admins) the source is chosen; without, it is the caller's own queue. `done` gets the
/// success message.
#[component]
pub fn DelegateForm(
    campaign_id: i64,
    reviewers: Vec<String>,
    done: Callback<String>,
) -> impl IntoView {
    let from = RwSignal::new(reviewers.first().cloned().unwrap_or_default());
    let to = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let choose = !reviewers.is_empty();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        let from = choose.then(|| from.get_untracked());
        let (to, reason) = (to.get_untracked(), reason.get_untracked());
        leptos::task::spawn_local(async move {
            let outcome = review_delegate(campaign_id, from, to.clone(), reason).await;
            pending.set(false);
            match outcome {
                Ok(n) => done.run(format!("{n} undecided items handed to {to}.")),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <form class="delegate-form settings-form" on:submit=submit>
            {choose.then(|| view! {
                <label>"From"
                    <select class="delegate-from" on:change=move |ev| from.set(event_target_value(&ev))>
                        {reviewers.into_iter().map(|r| view! { <option value=r.clone()>{r.clone()}</option> }).collect_view()}
                    </select>
                </label>
            })}
            <label>"To (email)" <input type="email" class="delegate-to" required prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev)) /></label>
            <label>"Reason" <input type="text" class="delegate-reason" required prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev)) /></label>
            <button type="submit" class="button-secondary" disabled=move || pending.get()>"Hand on every undecided item"</button>
        </form>
        {move || error.get().map(|e| view! { <p class="status-error" role="alert">{e.to_string()}</p> })}
    }
}

//! Handing review items on: one item to another reviewer, or every undecided item of a
//! reviewer in a campaign. Used by the review queue and the campaign dashboard. The address
//! field suggests known people (the page's one `<datalist>`, named by `suggestions`); an
//! address nobody here knows is asked about first and sent again once confirmed.

use leptos::prelude::*;

use crate::{
    error::AppError,
    reviews::api::{review_delegate, review_reassign},
};

/// What a hand-on form shows after a request: the question to confirm, or a refusal.
#[derive(Clone, Copy)]
struct Outcome {
    /// The server's question about an unknown address, while it waits for an answer.
    asking: RwSignal<Option<String>>,
    error: RwSignal<Option<AppError>>,
    pending: RwSignal<bool>,
}

impl Outcome {
    fn new() -> Self {
        Self {
            asking: RwSignal::new(None),
            error: RwSignal::new(None),
            pending: RwSignal::new(false),
        }
    }

    /// Marks a request on its way; false when one already is.
    fn start(&self) -> bool {
        if self.pending.get_untracked() {
            return false;
        }
        self.pending.set(true);
        self.error.set(None);
        true
    }

    fn refused(&self, error: AppError) {
        self.pending.set(false);
        match error {
            AppError::NeedsConfirmation(question) => self.asking.set(Some(question)),
            other => {
                self.asking.set(None);
                self.error.set(Some(other));
            }
        }
    }

    fn done(&self) {
        self.pending.set(false);
        self.asking.set(None);
    }

    /// Sends `request` (started with [`Outcome::start`]); on success `done` gets `message` of
    /// the answer, a refusal stays here.
    fn send<T: 'static>(
        self,
        request: impl std::future::Future<Output = Result<T, AppError>> + 'static,
        message: impl FnOnce(T) -> String + 'static,
        done: Callback<String>,
    ) {
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(answer) => {
                    self.done();
                    done.run(message(answer));
                }
                Err(e) => self.refused(e),
            }
        });
    }
}

/// The question about an unknown address with its two answers, then any refusal.
#[component]
fn Answers(outcome: Outcome, confirm: Callback<()>, #[prop(into)] yes: String) -> impl IntoView {
    view! {
        <div class="handover-answers">
        {move || outcome.asking.get().map(|question| {
            let yes = yes.clone();
            view! {
                <div class="confirm handover-confirm" role="group" aria-label="Confirm the address">
                    <p class="handover-question" role="alert">{question}</p>
                    <button type="button" class="button-secondary handover-confirm-yes" disabled=move || outcome.pending.get()
                        on:click=move |_| confirm.run(())>{yes}</button>
                    " "
                    <button type="button" class="button-secondary handover-confirm-no"
                        on:click=move |_| outcome.asking.set(None)>"Cancel"</button>
                </div>
            }
        })}
        {move || outcome.error.get().map(|e| view! { <p class="status-error" role="alert">{e.to_string()}</p> })}
        </div>
    }
}

/// Hands one item to another reviewer, with a reason. `done` gets the success message (the
/// list reloads, so the caller shows it); a refusal is shown here.
#[component]
pub fn ReassignForm(
    item_id: i64,
    /// The id of the page's `<datalist>` of known people, if it has one.
    suggestions: Option<&'static str>,
    done: Callback<String>,
) -> impl IntoView {
    // The form is drawn while it is open: a queue page has a hundred of these, and drawing
    // every form (and its state) on the server was over a quarter of a row's cost. `open`
    // follows the signal too, because a reloaded list redraws its rows in place and a reused,
    // still-open `<details>` would otherwise show an empty box.
    let opened = RwSignal::new(false);
    view! {
        <details class="reassign" prop:open=move || opened.get()
            on:toggle=move |ev| {
                let open = event_target::<leptos::web_sys::Element>(&ev).has_attribute("open");
                if open != opened.get_untracked() {
                    opened.set(open);
                }
            }>
            <summary>"Hand on…"</summary>
            <Show when=move || opened.get()>
                <ReassignFields item_id suggestions done />
            </Show>
        </details>
    }
}

/// The open hand-on form of [`ReassignForm`].
#[component]
fn ReassignFields(
    item_id: i64,
    suggestions: Option<&'static str>,
    done: Callback<String>,
) -> impl IntoView {
    let to = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let outcome = Outcome::new();
    let send = move |confirm: bool| {
        if !outcome.start() {
            return;
        }
        let (to, reason) = (to.get_untracked(), reason.get_untracked());
        outcome.send(
            review_reassign(item_id, to, reason, confirm),
            |item| format!("{} handed to {}.", item.what(), item.reviewer),
            done,
        );
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send(false);
    };
    view! {
        <form class="reassign-form" on:submit=submit>
            <label>"To (email)"
                <input type="email" class="reassign-to" required list=suggestions autocomplete="off"
                    prop:value=move || to.get()
                    on:input=move |ev| { outcome.asking.set(None); to.set(event_target_value(&ev)); } />
            </label>
            <label>"Reason" <input type="text" class="reassign-reason" required prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev)) /></label>
            <button type="submit" class="button-secondary" disabled=move || outcome.pending.get()>"Hand on"</button>
        </form>
        <Answers outcome confirm=Callback::new(move |()| send(true)) yes="Hand on anyway" />
    }
}

/// Hands every undecided item of a reviewer in a campaign to someone else. With `reviewers`
/// (admins) the source is chosen; without, it is the caller's own queue. `done` gets the
/// success message.
#[component]
pub fn DelegateForm(
    campaign_id: i64,
    reviewers: Vec<String>,
    /// The id of the page's `<datalist>` of known people, if it has one.
    suggestions: Option<&'static str>,
    done: Callback<String>,
) -> impl IntoView {
    let from = RwSignal::new(reviewers.first().cloned().unwrap_or_default());
    let to = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let outcome = Outcome::new();
    let choose = !reviewers.is_empty();
    let send = move |confirm: bool| {
        if !outcome.start() {
            return;
        }
        let from = choose.then(|| from.get_untracked());
        let (to, reason) = (to.get_untracked(), reason.get_untracked());
        outcome.send(
            review_delegate(campaign_id, from, to.clone(), reason, confirm),
            move |n| format!("{n} undecided items handed to {to}."),
            done,
        );
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send(false);
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
            <label>"To (email)"
                <input type="email" class="delegate-to" required list=suggestions autocomplete="off"
                    prop:value=move || to.get()
                    on:input=move |ev| { outcome.asking.set(None); to.set(event_target_value(&ev)); } />
            </label>
            <label>"Reason" <input type="text" class="delegate-reason" required prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev)) /></label>
            <button type="submit" class="button-secondary" disabled=move || outcome.pending.get()>"Hand on every undecided item"</button>
        </form>
        <Answers outcome confirm=Callback::new(move |()| send(true)) yes="Hand on anyway" />
    }
}

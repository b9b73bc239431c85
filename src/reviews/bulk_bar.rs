//! The queue's bulk bar: the selection count, approve / revoke the selected items, and accept
//! the recommendations of the selected items, each behind a confirmation naming the count.
//! The confirmation takes the focus when it opens, keeps it when the server refuses, and gives
//! it back to the button that opened it when cancelled.

use std::collections::HashSet;

use leptos::prelude::*;

use super::{
    api::{review_accept_recommended, review_decide_many},
    queue_state::{BulkChoice, QueueState},
};
use crate::review_items::Decision;

/// "1 item" / "3 items".
fn items(n: usize) -> String {
    format!("{n} item{}", if n == 1 { "" } else { "s" })
}

/// Closes the confirmation and puts the focus back on its button.
pub(super) fn cancel(state: QueueState) {
    let Some(choice) = state.confirming.get_untracked() else {
        return;
    };
    state.confirming.set(None);
    state.bulk_error.set(None);
    #[cfg(feature = "hydrate")]
    super::queue_state::focus(choice.trigger());
    #[cfg(not(feature = "hydrate"))]
    let _ = choice;
}

#[component]
pub(super) fn BulkBar(
    state: QueueState,
    /// Undecided items on this page.
    all_here: Vec<i64>,
    /// Undecided items on this page with a recommendation.
    recommended: Vec<i64>,
) -> impl IntoView {
    let all_for_change = all_here.clone();
    let none_here = all_here.is_empty();
    let confirming = state.confirming;
    let justification = state.bulk_justification;
    let count = move || state.selected.with(HashSet::len);
    // Kept in the page's state, not this component's: the bar is rebuilt on every reload while
    // the selection (which these closures follow) lives on.
    state.recommended.set(recommended);
    let to_accept = move || {
        state.selected.with(|s| {
            state.recommended.with(|r| {
                r.iter()
                    .copied()
                    .filter(|id| s.contains(id))
                    .collect::<Vec<i64>>()
            })
        })
    };
    let submit = move |_| {
        let Some(choice) = confirming.get_untracked() else {
            return;
        };
        if state.bulk_pending.get_untracked() {
            return;
        }
        state.bulk_pending.set(true);
        state.bulk_error.set(None);
        let ids: Vec<i64> = match choice {
            BulkChoice::Accept => to_accept(),
            BulkChoice::Decide(_) => state
                .selected
                .with_untracked(|s| s.iter().copied().collect()),
        };
        let text = justification.get_untracked();
        leptos::task::spawn_local(async move {
            let (result, done) = match choice {
                BulkChoice::Decide(decision) => (
                    review_decide_many(ids, decision, text).await,
                    decision.label(),
                ),
                BulkChoice::Accept => (
                    review_accept_recommended(ids).await,
                    "Decided as recommended",
                ),
            };
            state.bulk_pending.set(false);
            match result {
                Ok(n) => {
                    state.selected.set(HashSet::new());
                    confirming.set(None);
                    justification.set(String::new());
                    // `u` undoes one decision: not one item of this bulk, nor one made before it.
                    state.last.set(None);
                    // The list reloads: the keyboard's item (or the one now in its place) takes
                    // the focus, not the page.
                    state.refocus.set(true);
                    state.report(Ok(format!("{done}: {}.", items(n))));
                }
                // The refusal stays in the dialog, with the focus, so nothing is lost.
                Err(error) => {
                    state.bulk_error.set(Some(error.to_string()));
                    #[cfg(feature = "hydrate")]
                    super::queue_state::focus(match choice {
                        BulkChoice::Accept => "bulk-submit",
                        BulkChoice::Decide(_) => "bulk-justification",
                    });
                }
            }
        });
    };
    // The confirmation takes the focus when it opens, so keyboard users land in it.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let target = match confirming.get() {
            Some(BulkChoice::Decide(_)) => "bulk-justification",
            Some(BulkChoice::Accept) => "bulk-submit",
            None => return,
        };
        // On the next frame: the confirmation is in the document by then.
        request_animation_frame(move || super::queue_state::focus(target));
    });
    let open = move |choice: BulkChoice| {
        state.bulk_error.set(None);
        confirming.set(Some(choice));
    };
    view! {
        <div class="bulk-bar" role="group" aria-label="Bulk decisions" data-selected=move || count().to_string()>
            <label class="check">
                <input type="checkbox" class="select-all" disabled=none_here
                    prop:checked=move || !all_here.is_empty() && state.selected.with(|s| all_here.iter().all(|i| s.contains(i)))
                    on:change={
                        let all = all_for_change;
                        move |ev| {
                            let on = event_target_checked(&ev);
                            state.selected.update(|s| if on { s.extend(all.iter().copied()) } else { s.clear() });
                        }
                    } />
                "Select all undecided on this page"
            </label>
            <span class="selected-count" aria-live="polite">{move || format!("{} selected", count())}</span>
            <button type="button" id="bulk-approve" class="button-secondary bulk-approve" disabled=move || count() == 0
                on:click=move |_| open(BulkChoice::Decide(Decision::Approve))>"Approve selected…"</button>
            <button type="button" id="bulk-revoke" class="button-secondary bulk-revoke" disabled=move || count() == 0
                on:click=move |_| open(BulkChoice::Decide(Decision::Revoke))>"Revoke selected…"</button>
            {move || state.recommended.with(|r| !r.is_empty()).then(|| view! {
                <button type="button" class="button-link select-recommended"
                    on:click=move |_| state.selected.update(|s| state.recommended.with_untracked(|r| s.extend(r.iter().copied())))>
                    {move || format!("Select the {} recommended", state.recommended.with(Vec::len))}
                </button>
            })}
            <button type="button" id="bulk-accept" class="button-secondary bulk-accept" disabled=move || to_accept().is_empty()
                on:click=move |_| open(BulkChoice::Accept)>
                {move || format!("Accept recommendations ({})…", to_accept().len())}
            </button>
        </div>
        // Outside the sticky bar: an open confirmation never covers the items below it.
        {move || confirming.get().map(|choice| {
            let (question, button) = match choice {
                BulkChoice::Decide(Decision::Approve) => ("Approve", "Approve"),
                BulkChoice::Decide(_) => ("Revoke", "Revoke"),
                BulkChoice::Accept => ("Accept the recommendation for", "Accept for"),
            };
            let n = move || match choice {
                BulkChoice::Accept => to_accept().len(),
                BulkChoice::Decide(_) => count(),
            };
            let note = match choice {
                BulkChoice::Accept => "Each is recorded in your name, with its recommendation as the justification. Esc cancels.",
                BulkChoice::Decide(_) => "Each one is recorded in your name. Esc cancels.",
            };
            view! {
                <div class="confirm bulk-confirm" role="alertdialog"
                    aria-labelledby="bulk-confirm-question" aria-describedby="bulk-confirm-note">
                    <p>
                        <strong id="bulk-confirm-question">{move || format!("{question} {}?", items(n()))}</strong>
                        " "<span id="bulk-confirm-note">{note}</span>
                    </p>
                    {matches!(choice, BulkChoice::Decide(_)).then(|| view! {
                        <label>
                            "Justification"
                            <textarea id="bulk-justification" rows="2" class="bulk-justification" prop:value=move || justification.get()
                                on:input=move |ev| justification.set(event_target_value(&ev))></textarea>
                        </label>
                    })}
                    {move || state.bulk_error.get().map(|e| view! { <p class="status-error bulk-error" role="alert">{e}</p> })}
                    <button type="button" id="bulk-submit" class="button bulk-submit" disabled=move || state.bulk_pending.get() on:click=submit>
                        {move || format!("{button} {}", items(n()))}
                    </button>
                    " "
                    <button type="button" class="button-secondary bulk-cancel" on:click=move |_| cancel(state)>"Cancel"</button>
                </div>
            }
        })}
    }
}

//! The queue's single-key shortcuts: j/k move, a approve, r revoke, c comment, x select,
//! u undo the last decision. They act on the item that has the focus, are ignored while
//! typing, and can be turned off (WCAG 2.1.4); the choice is kept in this browser.

use leptos::prelude::*;

use super::queue_state::QueueState;

/// Where the browser keeps the choice.
#[cfg(feature = "hydrate")]
const STORAGE_KEY: &str = "par.shortcuts";

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// The switch, and the keys it turns on. Hidden on touch screens, which have no keys.
#[component]
pub(super) fn Shortcuts(state: QueueState) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        // Read after hydration, so the page first matches what the server rendered.
        Effect::new(move |_| {
            let off = storage()
                .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
                .is_some_and(|v| v == "off");
            state.shortcuts.set(!off);
        });
        install(state);
    }
    let on = state.shortcuts;
    view! {
        <div class="shortcuts muted">
            <label class="check">
                <input type="checkbox" class="shortcuts-toggle" prop:checked=move || on.get()
                    on:change=move |ev| {
                        let checked = event_target_checked(&ev);
                        on.set(checked);
                        #[cfg(feature = "hydrate")]
                        if let Some(s) = storage() {
                            let _ = s.set_item(STORAGE_KEY, if checked { "on" } else { "off" });
                        }
                    } />
                "Keyboard shortcuts"
            </label>
            <span hidden=move || !on.get()>
                "— " <kbd>"j"</kbd>" / "<kbd>"k"</kbd>" next / previous · "
                <kbd>"a"</kbd>" approve · "<kbd>"r"</kbd>" revoke · "<kbd>"c"</kbd>" comment · "
                <kbd>"x"</kbd>" select · "<kbd>"u"</kbd>" undo the last decision"
            </span>
        </div>
    }
}

/// The item holding the focus (the row or a control inside it), if any.
#[cfg(feature = "hydrate")]
fn focused_item() -> Option<i64> {
    document()
        .active_element()?
        .closest("[data-item-id]")
        .ok()
        .flatten()?
        .get_attribute("data-item-id")?
        .parse()
        .ok()
}

#[cfg(feature = "hydrate")]
fn install(state: QueueState) {
    use wasm_bindgen::JsCast;

    use super::queue_state::focus;
    use crate::review_items::Decision;
    let handle = window_event_listener(leptos::ev::keydown, move |event| {
        if event.ctrl_key() || event.meta_key() || event.alt_key() || event.repeat() {
            return;
        }
        if event.key() == "Escape" && state.confirming.get_untracked().is_some() {
            super::bulk_bar::cancel(state);
            return;
        }
        if !state.shortcuts.get_untracked() {
            return;
        }
        let typing = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing {
            if event.key() == "Escape" {
                if let Some(id) = state.active.get_untracked() {
                    focus(&format!("item-{id}"));
                }
            }
            return;
        }
        // The focused item is the one acted on: what the person sees highlighted.
        if let Some(id) = focused_item() {
            state.active.set(Some(id));
        }
        let active = state.active.get_untracked();
        match (event.key().as_str(), active) {
            ("j", _) => state.step(1),
            ("k", _) => state.step(-1),
            ("a", Some(id)) => state.decide(id, Decision::Approve),
            ("r", Some(id)) => state.decide(id, Decision::Revoke),
            ("u", _) => {
                let target = state
                    .last
                    .get_untracked()
                    .or_else(|| active.and_then(|id| state.decided_here(id)));
                state.undo(target);
            }
            ("x", Some(id)) => {
                let undecided = state
                    .order
                    .with_untracked(|o| o.iter().any(|(i, _, d)| *i == id && !d));
                if undecided {
                    state.selected.update(|s| {
                        if !s.remove(&id) {
                            s.insert(id);
                        }
                    });
                }
            }
            ("c", Some(id)) => focus(&format!("comment-{id}")),
            _ => return,
        }
        event.prevent_default();
    });
    on_cleanup(move || handle.remove());
}

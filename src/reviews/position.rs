//! Where the reviewer was on a queue page, kept in that page's own history entry: Back from a
//! person's or a server's page (or from the next page) returns to the same item at the same
//! scroll position. The router draws the page again on Back and would start at the top.
//!
//! The position is written as the reviewer scrolls and moves between items, and when a link on
//! the page is followed in the capture phase, so it lands in the queue's entry before the
//! router pushes the next page's. A queue reached any other way (the navigation, a new link)
//! has an entry without one and starts at the top.
//! A person's or server's page opened from the queue is marked so in its own entry, and its
//! "Back to My reviews" goes back in history there, to the marked queue page.

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};

/// The history state's key (beside whatever the router keeps there).
const KEY: &str = "queuePosition";

/// The router's state for a person's or server's page opened from the queue.
const FROM_QUEUE: &str = "from-queue";

/// The keyboard's item and the window's scroll offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Position {
    pub item: Option<i64>,
    pub y: f64,
}

/// The position kept in the current history entry, if there is one.
pub(super) fn recall() -> Option<Position> {
    let state = window().history().ok()?.state().ok()?;
    let kept = js_sys::Reflect::get(&state, &KEY.into())
        .ok()
        .filter(JsValue::is_object)?;
    let number = |name: &str| {
        js_sys::Reflect::get(&kept, &name.into())
            .ok()
            .and_then(|v| v.as_f64())
    };
    Some(Position {
        item: number("item").map(|id| id as i64),
        y: number("y")?,
    })
}

/// Writes the window's scroll offset and `item` into the current history entry.
fn remember(item: Option<i64>) {
    let Ok(history) = window().history() else {
        return;
    };
    let y = window().scroll_y().unwrap_or_default();
    // The router's own state for the entry is kept: the position is one more key on it.
    let state = history
        .state()
        .ok()
        .filter(JsValue::is_object)
        .unwrap_or_else(|| js_sys::Object::new().into());
    let kept = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&kept, &"y".into(), &y.into());
    if let Some(item) = item {
        let _ = js_sys::Reflect::set(&kept, &"item".into(), &(item as f64).into());
    }
    let _ = js_sys::Reflect::set(&state, &KEY.into(), &kept);
    let _ = history.replace_state(&state, "");
}

/// Keeps the position in the page's history entry while the page is shown: a quarter second
/// after the reviewer scrolls or moves to another item, and at once when a link is followed.
/// `resume` holds a position still to be restored: nothing is written before it is, so the
/// empty page drawn while the list loads cannot overwrite it.
pub(super) fn keep(active: RwSignal<Option<i64>>, resume: StoredValue<Option<Position>>) {
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let schedule = move || {
        if resume.try_with_value(Option::is_some) != Some(false) {
            return;
        }
        if let Some(handle) = timer.try_update_value(Option::take).flatten() {
            handle.clear();
        }
        // A write that comes due after the page moved on (a new query, Back) is dropped.
        let url = href();
        let write = move || {
            if href() == url {
                if let Some(item) = active.try_get_untracked() {
                    remember(item);
                }
            }
        };
        if let Ok(handle) = set_timeout_with_handle(write, Duration::from_millis(250)) {
            timer.set_value(Some(handle));
        }
    };
    let scrolled = window_event_listener(leptos::ev::scroll, move |_| schedule());
    Effect::new(move |_| {
        active.track();
        schedule();
    });

    let clicked = Closure::<dyn Fn(web_sys::Event)>::new(move |event: web_sys::Event| {
        let Some(link) = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("a[href]").ok().flatten())
            .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        else {
            return;
        };
        if link.href() == href() {
            // This page again (*My reviews* while on it): a new visit, from the top.
            active.set(None);
            return;
        }
        // A link under a group's heading is about the group: its first item is the place.
        let item = row_of(&link).or_else(|| first_row_of_group(&link));
        if item.is_some() {
            active.set(item);
        }
        remember(item.or_else(|| active.get_untracked()));
        // The router gives the next entry an anchor's `state` property as its state.
        if link.pathname().starts_with("/reviews/") {
            let _ = js_sys::Reflect::set(&link, &"state".into(), &FROM_QUEUE.into());
        }
    })
    .into_js_value();
    let _ = document().add_event_listener_with_callback_and_bool(
        "click",
        clicked.unchecked_ref(),
        true,
    );
    let clicked = send_wrapper::SendWrapper::new(clicked);
    on_cleanup(move || {
        scrolled.remove();
        if let Some(handle) = timer.try_update_value(Option::take).flatten() {
            handle.clear();
        }
        let _ = document().remove_event_listener_with_callback_and_bool(
            "click",
            clicked.unchecked_ref(),
            true,
        );
    });
}

fn href() -> String {
    window().location().href().unwrap_or_default()
}

/// The queue item a link is in.
fn row_of(link: &web_sys::Element) -> Option<i64> {
    item_id(&link.closest(".queue-item").ok()??)
}

/// The first item of the queue group a link is in (a link in the group's heading lines).
fn first_row_of_group(link: &web_sys::Element) -> Option<i64> {
    let group = link.closest(".queue-group").ok()??;
    item_id(&group.query_selector(".queue-item").ok()??)
}

fn item_id(row: &web_sys::Element) -> Option<i64> {
    row.get_attribute("data-item-id")?.parse().ok()
}

/// "Back to My reviews" on a page opened from the queue: back in history, to the queue as it
/// was left (a plain click only; the link works as a link otherwise).
pub(super) fn back_to_queue(event: web_sys::MouseEvent) {
    let plain = event.button() == 0
        && !(event.meta_key() || event.ctrl_key() || event.shift_key() || event.alt_key());
    let Ok(history) = window().history() else {
        return;
    };
    if plain && history.state().ok().and_then(|s| s.as_string()).as_deref() == Some(FROM_QUEUE) {
        event.prevent_default();
        let _ = history.back();
    }
}

/// Puts the reviewer back where they were: the item takes the focus without scrolling, then
/// the window scrolls to where it was.
pub(super) fn restore(position: Position) {
    if let Some(element) = position
        .item
        .and_then(|id| document().get_element_by_id(&format!("item-{id}")))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let options = web_sys::FocusOptions::new();
        options.set_prevent_scroll(true);
        let _ = element.focus_with_options(&options);
    }
    window().scroll_to_with_x_and_y(0.0, position.y);
}

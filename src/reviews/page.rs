//! "My reviews": the queue with grouping, filters, keyboard shortcuts, bulk decisions with
//! confirmation, undo, and handing items on.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    api::{my_queue, review_decide, review_decide_many, review_undo},
    filters::QueueFilters,
    handed_on::HandedOnList,
    Queue, QueueQuery,
};
use crate::{
    components::{
        handover::{DelegateForm, ReassignForm},
        notice::ErrorNotice,
        progress::Progress,
        suggestions::KnownPeople,
    },
    error::AppError,
    review_items::{DecidedVia, Decision, ItemKind, ItemView},
    revocations::panels::MyRevocations,
};

/// A message at the top of the queue: `(ok, text)`.
type Notice = RwSignal<Option<(bool, String)>>;

/// State shared by the rows, the keyboard and the bulk bar; it outlives reloads of the list.
#[derive(Clone, Copy)]
struct QueueState {
    reload: RwSignal<u32>,
    notice: Notice,
    /// Comment / justification typed per item.
    comments: RwSignal<HashMap<i64, String>>,
    selected: RwSignal<HashSet<i64>>,
    /// The item the keyboard acts on.
    active: RwSignal<Option<i64>>,
    /// Items on the page in order, with their version and whether they are decided.
    order: RwSignal<Vec<(i64, i64, bool)>>,
    /// Items with a request on its way: further keys and clicks on them are ignored.
    in_flight: RwSignal<HashSet<i64>>,
    /// The bulk confirmation (open for which decision) and its justification; kept here so a
    /// refused bulk decision leaves both as they were.
    confirming: RwSignal<Option<Decision>>,
    bulk_justification: RwSignal<String>,
    bulk_pending: RwSignal<bool>,
}

impl QueueState {
    fn refresh(&self) {
        self.reload.update(|n| *n += 1);
    }

    fn report(&self, result: Result<String, AppError>) {
        match result {
            Ok(message) => self.notice.set(Some((true, message))),
            Err(error) => self.notice.set(Some((false, error.to_string()))),
        }
        self.refresh();
    }

    /// Marks an item busy; false when a request for it is already on its way.
    fn start(&self, id: i64) -> bool {
        let mut fresh = false;
        self.in_flight.update(|f| fresh = f.insert(id));
        fresh
    }

    fn decide(&self, id: i64, decision: Decision) {
        let Some((_, version, false)) = self
            .order
            .with_untracked(|o| o.iter().find(|(i, _, _)| *i == id).copied())
        else {
            return;
        };
        if !self.start(id) {
            return;
        }
        let justification = self
            .comments
            .with_untracked(|c| c.get(&id).cloned())
            .unwrap_or_default();
        let state = *self;
        leptos::task::spawn_local(async move {
            let result = review_decide(id, decision, justification, version).await;
            state.in_flight.update(|f| {
                f.remove(&id);
            });
            if result.is_ok() {
                state.comments.update(|c| {
                    c.remove(&id);
                });
            }
            state.report(result.map(|item| {
                format!(
                    "{}: {}.",
                    item.what(),
                    item.decision.map_or("undecided", Decision::label)
                )
            }));
        });
    }

    fn undo(&self, id: i64) {
        let Some((_, version, true)) = self
            .order
            .with_untracked(|o| o.iter().find(|(i, _, _)| *i == id).copied())
        else {
            return;
        };
        if !self.start(id) {
            return;
        }
        let state = *self;
        leptos::task::spawn_local(async move {
            let result = review_undo(id, version).await;
            state.in_flight.update(|f| {
                f.remove(&id);
            });
            state.report(result.map(|item| format!("Decision on {} undone.", item.what())));
        });
    }

    #[cfg(feature = "hydrate")]
    fn step(&self, by: isize) {
        let order = self.order.get_untracked();
        if order.is_empty() {
            return;
        }
        let current = self
            .active
            .get_untracked()
            .and_then(|a| order.iter().position(|(i, _, _)| *i == a));
        let next = match current {
            None => 0,
            Some(i) => (i as isize + by).clamp(0, order.len() as isize - 1) as usize,
        };
        self.active.set(Some(order[next].0));
        focus(&format!("item-{}", order[next].0));
    }
}

/// Moves keyboard focus to an element.
#[cfg(feature = "hydrate")]
fn focus(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(element) = leptos::prelude::document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

fn query_from(q: &leptos_router::params::ParamsMap) -> QueueQuery {
    let text = |k: &str| q.get(k).filter(|v| !v.is_empty());
    QueueQuery {
        campaign: text("campaign").and_then(|c| c.parse().ok()),
        group: text("group"),
        status: text("status"),
        kind: text("kind"),
        flag: text("flag"),
        search: text("search"),
        page: text("page").and_then(|p| p.parse().ok()),
    }
}

#[component]
pub fn ReviewsPage() -> impl IntoView {
    let query = use_query_map();
    let state = QueueState {
        reload: RwSignal::new(0),
        notice: RwSignal::new(None),
        comments: RwSignal::new(HashMap::new()),
        selected: RwSignal::new(HashSet::new()),
        active: RwSignal::new(None),
        order: RwSignal::new(Vec::new()),
        in_flight: RwSignal::new(HashSet::new()),
        confirming: RwSignal::new(None),
        bulk_justification: RwSignal::new(String::new()),
        bulk_pending: RwSignal::new(false),
    };
    let queue = Resource::new(
        move || (query.with(query_from), state.reload.get()),
        |(query, _)| my_queue(query),
    );
    install_shortcuts(state);
    view! {
        <Title text="My reviews" />
        <header class="page-header">
            <h1>"My reviews"</h1>
            <p class="lede">"The accesses assigned to you in open campaigns: keep what is needed, revoke the rest."</p>
        </header>
        <QueueFilters />
        <p class="shortcuts muted">
            "Keyboard: " <kbd>"j"</kbd>" / "<kbd>"k"</kbd>" next / previous · "
            <kbd>"a"</kbd>" approve · "<kbd>"r"</kbd>" revoke · "<kbd>"c"</kbd>" comment · "
            <kbd>"x"</kbd>" select · "<kbd>"u"</kbd>" undo"
        </p>
        // One live region for the whole page, so screen readers announce every new message.
        <div class="queue-live" aria-live="polite" aria-atomic="true">
            {move || state.notice.get().map(|(ok, text)| view! {
                <div class=if ok { "notice notice-ok queue-notice" } else { "notice notice-error queue-notice" }>
                    <p>{text}</p>
                </div>
            })}
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading your queue…"</p> }>
            {move || Suspend::new(async move {
                match queue.await {
                    Ok(queue) => view! { <QueueView queue state /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="reviewers with a verified email" /> }.into_any(),
                }
            })}
        </Transition>
        <HandedOnList reload=state.reload changed=Callback::new(move |message: String| state.report(Ok(message))) />
        <KnownPeople id=SUGGESTIONS />
        <MyRevocations />
    }
}

/// The id of the page's one list of people to hand items on to (every row's field uses it).
const SUGGESTIONS: &str = "handover-suggestions";

/// j/k move, a approve, r revoke, c comment, x select, u undo; ignored while typing.
fn install_shortcuts(state: QueueState) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let handle = window_event_listener(leptos::ev::keydown, move |event| {
            if event.ctrl_key() || event.meta_key() || event.alt_key() || event.repeat() {
                return;
            }
            if event.key() == "Escape" && state.confirming.get_untracked().is_some() {
                state.confirming.set(None);
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
            let active = state.active.get_untracked();
            match (event.key().as_str(), active) {
                ("j", _) => state.step(1),
                ("k", _) => state.step(-1),
                ("a", Some(id)) => state.decide(id, Decision::Approve),
                ("r", Some(id)) => state.decide(id, Decision::Revoke),
                ("u", Some(id)) => state.undo(id),
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
    #[cfg(not(feature = "hydrate"))]
    let _ = state;
}

#[component]
fn QueueView(queue: Queue, state: QueueState) -> impl IntoView {
    let order: Vec<(i64, i64, bool)> = queue
        .groups
        .iter()
        .flat_map(|(_, items)| {
            items
                .iter()
                .map(|i| (i.id, i.version, i.decision.is_some()))
        })
        .collect();
    let undecided_here: Vec<i64> = order
        .iter()
        .filter(|(_, _, d)| !d)
        .map(|(i, _, _)| *i)
        .collect();
    // The keyboard's item stays where it was: when it left the page (decided under
    // "Undecided", handed on) the item now in its place takes over, and keeps the focus.
    let previous = state.order.get_untracked();
    let active = state.active.get_untracked();
    if active.is_some_and(|a| !order.iter().any(|(i, _, _)| *i == a)) {
        let position = previous
            .iter()
            .position(|(i, _, _)| Some(*i) == active)
            .unwrap_or(0);
        let next = order
            .get(position.min(order.len().saturating_sub(1)))
            .map(|(i, _, _)| *i);
        state.active.set(next);
    }
    state.order.set(order);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(id) = state.active.get_untracked() {
            focus(&format!("item-{id}"));
        }
    });
    // Selections of items no longer undecided on this page are dropped.
    state
        .selected
        .update(|s| s.retain(|id| undecided_here.contains(id)));
    if queue.total == 0 {
        return view! {
            <div class="empty-state" role="note">
                <p>"Nothing to review. When a campaign assigns you items, they appear here."</p>
            </div>
        }
        .into_any();
    }
    let query = use_query_map();
    let page_href = move |page: usize| {
        // Read once while rendering: the list is rebuilt whenever the query changes.
        let mut params: Vec<(String, String)> = query.with_untracked(|q| {
            ["campaign", "group", "status", "kind", "flag", "search"]
                .into_iter()
                .filter_map(|k| q.get(k).map(|v| (k.to_string(), v)))
                .collect()
        });
        params.push(("page".into(), page.to_string()));
        format!("/reviews?{}", crate::urlenc::query_string(&params))
    };
    let (page, pages) = (queue.page, queue.pages);
    let campaigns = queue.campaigns.clone();
    let modes: Vec<(i64, crate::revocations::Mode)> = campaigns
        .iter()
        .map(|c| (c.id, c.revocation_mode))
        .collect();
    // Under a person's heading the rows need not repeat who it is.
    let by_person = query.with_untracked(|q| q.get("group").as_deref() != Some("server"));
    let all_here = undecided_here.clone();
    view! {
        <section class="queue-progress" aria-label="Your progress">
            <Progress decided=queue.decided items=queue.total label="Your progress" />
            <ul class="plain">
                {campaigns.iter().map(|c| view! {
                    <li>
                        <a href=format!("/reviews?campaign={}", c.id)><strong>{c.name.clone()}</strong></a>
                        {format!(" — due {}. {} of {} decided.", c.due_on, c.decided, c.items)}
                        {c.revoke_needs_justification.then_some(" A revoke needs a justification.")}
                        {c.privileged_needs_justification.then_some(" Keeping an admin or owner access needs one too.")}
                    </li>
                }).collect_view()}
            </ul>
        </section>
        <BulkBar state all_here />
        <p class="count">{format!("{} items match. Page {page} of {pages}.", queue.matching)}</p>
        {queue.groups.into_iter().map(|(heading, items)| view! {
            <section class="queue-group">
                <h2 class="group-heading">{heading}</h2>
                <ul class="plain queue-items">
                    {items.into_iter().map(|item| {
                        let mode = modes.iter().find(|(c, _)| *c == item.campaign_id).map(|(_, m)| *m).unwrap_or_default();
                        view! { <ItemRow item state by_person mode /> }
                    }).collect_view()}
                </ul>
            </section>
        }).collect_view()}
        <nav class="pager" aria-label="Pages">
            {(page > 1).then(|| view! { <a href=page_href(page - 1)>"Previous page"</a> })}
            {(page < pages).then(|| view! { <a href=page_href(page + 1)>"Next page"</a> })}
        </nav>
        <details class="delegate">
            <summary>"Hand all my undecided items in a campaign to someone else"</summary>
            {campaigns.into_iter().map(|c| view! {
                <h3>{c.name.clone()}</h3>
                <DelegateForm campaign_id=c.id reviewers=Vec::new() suggestions=Some(SUGGESTIONS) done=Callback::new(move |message| state.report(Ok(message))) />
            }).collect_view()}
        </details>
    }
    .into_any()
}

/// Selection count and the bulk approve / revoke with a confirmation naming the count.
#[component]
fn BulkBar(state: QueueState, all_here: Vec<i64>) -> impl IntoView {
    let all_for_change = all_here.clone();
    let none_here = all_here.is_empty();
    let confirming = state.confirming;
    let justification = state.bulk_justification;
    let count = move || state.selected.with(HashSet::len);
    let submit = move |_| {
        let Some(decision) = confirming.get_untracked() else {
            return;
        };
        if state.bulk_pending.get_untracked() {
            return;
        }
        state.bulk_pending.set(true);
        let ids: Vec<i64> = state
            .selected
            .with_untracked(|s| s.iter().copied().collect());
        let text = justification.get_untracked();
        leptos::task::spawn_local(async move {
            let result = review_decide_many(ids, decision, text).await;
            state.bulk_pending.set(false);
            if result.is_ok() {
                state.selected.set(HashSet::new());
                confirming.set(None);
                justification.set(String::new());
            }
            state.report(result.map(|n| format!("{}: {n} items.", decision.label())));
        });
    };
    // The confirmation takes the focus when it opens, so keyboard users land in it.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if confirming.get().is_some() {
            focus("bulk-justification");
        }
    });
    view! {
        <div class="bulk-bar" role="group" aria-label="Bulk decisions">
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
            <button type="button" class="button-secondary bulk-approve" disabled=move || count() == 0
                on:click=move |_| confirming.set(Some(Decision::Approve))>"Approve selected…"</button>
            <button type="button" class="button-secondary bulk-revoke" disabled=move || count() == 0
                on:click=move |_| confirming.set(Some(Decision::Revoke))>"Revoke selected…"</button>
            {move || confirming.get().map(|decision| {
                let verb = if decision == Decision::Approve { "Approve" } else { "Revoke" };
                view! {
                    <div class="confirm bulk-confirm" role="alertdialog"
                        aria-labelledby="bulk-confirm-question" aria-describedby="bulk-confirm-note">
                        <p>
                            <strong id="bulk-confirm-question">{move || format!("{verb} {} items?", count())}</strong>
                            " "<span id="bulk-confirm-note">"Each one is recorded in your name. Esc cancels."</span>
                        </p>
                        <label>
                            "Justification"
                            <textarea id="bulk-justification" rows="2" class="bulk-justification" prop:value=move || justification.get()
                                on:input=move |ev| justification.set(event_target_value(&ev))></textarea>
                        </label>
                        <button type="button" class="button bulk-submit" disabled=move || state.bulk_pending.get() on:click=submit>
                            {move || format!("{verb} {} items", count())}
                        </button>
                        " "
                        <button type="button" class="button-secondary" on:click=move |_| confirming.set(None)>"Cancel"</button>
                    </div>
                }
            })}
        </div>
    }
}

#[component]
fn ItemRow(
    item: ItemView,
    state: QueueState,
    by_person: bool,
    mode: crate::revocations::Mode,
) -> impl IntoView {
    let id = item.id;
    let is_server = item.kind == ItemKind::Server;
    let revoke_means = crate::revocations::revoke_means(item.kind, &item.access, mode);
    let recommendation = item.recommendation().unwrap_or_default();
    let decided = item.decision.is_some();
    // Names the item for screen readers, where every row's buttons would sound the same.
    let label = format!("{}, {}", item.subject(), item.what());
    let is_active = move || state.active.get() == Some(id);
    let comment = move || {
        state
            .comments
            .with(|c| c.get(&id).cloned())
            .unwrap_or_default()
    };
    let status = match (item.decision, item.decided_via) {
        (None, _) => "Undecided".to_string(),
        (Some(d), Some(DecidedVia::Default)) => format!("{} (default outcome)", d.label()),
        (Some(d), _) => d.label().to_string(),
    };
    view! {
        <li id=format!("item-{id}") tabindex="0" data-item-id=id.to_string()
            class=move || format!("queue-item{}{}{}", if is_server { " queue-item-server" } else { "" }, if is_active() { " active" } else { "" }, if decided { " decided" } else { "" })
            on:focusin=move |_| state.active.set(Some(id))>
            <div class="item-main">
                <label class="check">
                    <input type="checkbox" class="select-item" disabled=decided
                        prop:checked=move || state.selected.with(|s| s.contains(&id))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            state.selected.update(|s| if on { s.insert(id); } else { s.remove(&id); });
                        } />
                    <span class="visually-hidden">{format!("Select {label}")}</span>
                </label>
                <div class="item-text">
                    {(!by_person || item.user_email.is_none()).then(|| view! { <strong class="item-subject">{item.subject()}</strong> })}
                    <span class="item-what">{item.what()}</span>
                    {item.privileged.then(|| view! { <span class="badge badge-bad">"Admin or owner access"</span> })}
                    {item.flags.iter().map(|f| view! { <span class="badge badge-warn">{f.clone()}</span> }).collect_view()}
                    <span class="badge badge-server" hidden=!is_server>"Server"</span>
                    <span class="recommendation" hidden=recommendation.is_empty()>{recommendation}</span>
                    <span class="revoke-means" hidden=decided>{revoke_means}</span>
                    <span class="muted item-campaign">{item.campaign_name.clone()}</span>
                </div>
                <span class="item-status">{status}</span>
            </div>
            <div class="item-actions">
                {if decided {
                    view! {
                        {item.justification.clone().map(|j| view! { <span class="muted">{j}</span> })}
                        <button type="button" class="button-secondary undo" on:click=move |_| state.undo(id)>"Undo"</button>
                    }.into_any()
                } else {
                    view! {
                        <label class="comment">
                            <span class="visually-hidden">"Comment or justification"</span>
                            <textarea id=format!("comment-{id}") rows="1" placeholder="Comment / justification"
                                prop:value=comment
                                on:input=move |ev| {
                                    let text = event_target_value(&ev);
                                    state.comments.update(|c| { c.insert(id, text); });
                                }></textarea>
                        </label>
                        <button type="button" class="button approve" aria-label=format!("Approve: {label}") on:click=move |_| state.decide(id, Decision::Approve)>"Approve"</button>
                        <button type="button" class="button-secondary revoke" aria-label=format!("Revoke: {label}") on:click=move |_| state.decide(id, Decision::Revoke)>"Revoke"</button>
                        <ReassignForm item_id=id suggestions=Some(SUGGESTIONS) done=Callback::new(move |message| state.report(Ok(message))) />
                    }.into_any()
                }}
            </div>
        </li>
    }
}

//! "My reviews": the queue with grouping, filters, keyboard shortcuts, bulk decisions with
//! confirmation, undo, and handing items on.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

use super::{
    api::{
        my_queue, review_decide, review_decide_many, review_delegate, review_reassign, review_undo,
    },
    Queue, QueueQuery,
};
use crate::{
    campaigns::{pages::Progress, Decision, ItemKind, ItemView},
    components::notice::ErrorNotice,
    error::AppError,
    inventory::{Flag, UserFlag},
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

    fn decide(&self, id: i64, decision: Decision) {
        let Some((_, version, _)) = self
            .order
            .with_untracked(|o| o.iter().find(|(i, _, _)| *i == id).copied())
        else {
            return;
        };
        let justification = self
            .comments
            .with_untracked(|c| c.get(&id).cloned())
            .unwrap_or_default();
        let state = *self;
        leptos::task::spawn_local(async move {
            let result =
                review_decide(id, decision.slug().to_string(), justification, version).await;
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
        let Some((_, version, _)) = self
            .order
            .with_untracked(|o| o.iter().find(|(i, _, _)| *i == id).copied())
        else {
            return;
        };
        let state = *self;
        leptos::task::spawn_local(async move {
            let result = review_undo(id, version).await;
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
    };
    let queue = Resource::new(
        move || (query.with(query_from), state.reload.get()),
        |(query, _)| my_queue(query),
    );
    install_shortcuts(state);
    let selected = move |key: &'static str, value: &'static str| {
        query.with(|q| q.get(key).unwrap_or_default() == value)
    };
    view! {
        <Title text="My reviews" />
        <header class="page-header">
            <h1>"My reviews"</h1>
            <p class="lede">"The accesses assigned to you in open campaigns: keep what is needed, revoke the rest."</p>
        </header>
        <Form method="GET" action="/reviews" attr:class="filters">
            <label>
                "Search "
                <input type="search" name="search" placeholder="Person, server or permission"
                    prop:value=move || query.with(|q| q.get("search").unwrap_or_default()) />
            </label>
            <label>
                "Group by "
                <select name="group">
                    <option value="person">"Person"</option>
                    <option value="server" selected=move || selected("group", "server")>"Server"</option>
                </select>
            </label>
            <label>
                "Show "
                <select name="status">
                    <option value="">"All items"</option>
                    <option value="undecided" selected=move || selected("status", "undecided")>"Undecided"</option>
                    <option value="decided" selected=move || selected("status", "decided")>"Decided"</option>
                </select>
            </label>
            <label>
                "Kind "
                <select name="kind">
                    <option value="">"Any"</option>
                    {ItemKind::ALL.into_iter().map(|k| view! {
                        <option value=k.slug() selected=move || selected("kind", k.slug())>{k.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Flag "
                <select name="flag">
                    <option value="">"Any"</option>
                    <option value="any" selected=move || selected("flag", "any")>"Any flag"</option>
                    {Flag::ALL.into_iter().map(|f| view! {
                        <option value=f.slug() selected=move || selected("flag", f.slug())>{f.label()}</option>
                    }).collect_view()}
                    {UserFlag::ALL.into_iter().map(|f| view! {
                        <option value=f.slug() selected=move || selected("flag", f.slug())>{f.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="button-secondary">"Apply"</button>
        </Form>
        <p class="shortcuts muted">
            "Keyboard: " <kbd>"j"</kbd>" / "<kbd>"k"</kbd>" next / previous · "
            <kbd>"a"</kbd>" approve · "<kbd>"r"</kbd>" revoke · "<kbd>"c"</kbd>" comment · "
            <kbd>"x"</kbd>" select · "<kbd>"u"</kbd>" undo"
        </p>
        {move || state.notice.get().map(|(ok, text)| if ok {
            view! { <div class="notice notice-ok queue-notice" role="status"><p>{text}</p></div> }.into_any()
        } else {
            view! { <div class="notice notice-error queue-notice" role="alert"><p>{text}</p></div> }.into_any()
        })}
        <Transition fallback=|| view! { <p class="loading">"Loading your queue…"</p> }>
            {move || Suspend::new(async move {
                match queue.await {
                    Ok(queue) => view! { <QueueView queue state /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="reviewers with a verified email" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// j/k move, a approve, r revoke, c comment, x select, u undo; ignored while typing.
fn install_shortcuts(state: QueueState) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let handle = window_event_listener(leptos::ev::keydown, move |event| {
            if event.ctrl_key() || event.meta_key() || event.alt_key() {
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
                ("x", Some(id)) => state.selected.update(|s| {
                    if !s.remove(&id) {
                        s.insert(id);
                    }
                }),
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
    state.order.set(order);
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
        let mut params: Vec<(String, String)> = query.with(|q| {
            ["campaign", "group", "status", "kind", "flag", "search"]
                .into_iter()
                .filter_map(|k| q.get(k).map(|v| (k.to_string(), v)))
                .collect()
        });
        params.push(("page".into(), page.to_string()));
        format!(
            "/reviews?{}",
            params
                .iter()
                .map(|(k, v)| format!("{k}={}", crate::urlenc::encode(v, b"")))
                .collect::<Vec<_>>()
                .join("&")
        )
    };
    let (page, pages) = (queue.page, queue.pages);
    let campaigns = queue.campaigns.clone();
    // Under a person's heading the rows need not repeat who it is.
    let by_person = query.with(|q| q.get("group").as_deref() != Some("server"));
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
                    {items.into_iter().map(|item| view! { <ItemRow item state by_person /> }).collect_view()}
                </ul>
            </section>
        }).collect_view()}
        <nav class="pager" aria-label="Pages">
            {(page > 1).then(|| view! { <a href=page_href(page - 1)>"Previous page"</a> })}
            {(page < pages).then(|| view! { <a href=page_href(page + 1)>"Next page"</a> })}
        </nav>
        <details class="delegate">
            <summary>"Hand my whole queue in a campaign to someone else"</summary>
            {campaigns.into_iter().map(|c| view! {
                <h3>{c.name.clone()}</h3>
                <DelegateForm campaign_id=c.id reviewers=Vec::new() done=Callback::new(move |()| state.refresh()) />
            }).collect_view()}
        </details>
    }
    .into_any()
}

/// Selection count and the bulk approve / revoke with a confirmation naming the count.
#[component]
fn BulkBar(state: QueueState, all_here: Vec<i64>) -> impl IntoView {
    let all_for_change = all_here.clone();
    let confirming = RwSignal::new(None::<Decision>);
    let justification = RwSignal::new(String::new());
    let count = move || state.selected.with(HashSet::len);
    let submit = move |_| {
        let Some(decision) = confirming.get_untracked() else {
            return;
        };
        let ids: Vec<i64> = state
            .selected
            .with_untracked(|s| s.iter().copied().collect());
        let text = justification.get_untracked();
        leptos::task::spawn_local(async move {
            let result = review_decide_many(ids, decision.slug().to_string(), text).await;
            if result.is_ok() {
                state.selected.set(HashSet::new());
                confirming.set(None);
                justification.set(String::new());
            }
            state.report(result.map(|n| format!("{}: {n} items.", decision.label())));
        });
    };
    view! {
        <div class="bulk-bar" role="group" aria-label="Bulk decisions">
            <label class="check">
                <input type="checkbox" class="select-all"
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
            <span class="selected-count">{move || format!("{} selected", count())}</span>
            <button type="button" class="button-secondary bulk-approve" disabled=move || count() == 0
                on:click=move |_| confirming.set(Some(Decision::Approve))>"Approve selected…"</button>
            <button type="button" class="button-secondary bulk-revoke" disabled=move || count() == 0
                on:click=move |_| confirming.set(Some(Decision::Revoke))>"Revoke selected…"</button>
        </div>
        {move || confirming.get().map(|decision| {
            let verb = if decision == Decision::Approve { "Approve" } else { "Revoke" };
            view! {
                <div class="confirm bulk-confirm" role="alertdialog" aria-label="Confirm bulk decision">
                    <p><strong>{format!("{verb} {} items?", count())}</strong> " Each one is recorded in your name."</p>
                    <label>
                        "Justification"
                        <textarea rows="2" class="bulk-justification" prop:value=move || justification.get()
                            on:input=move |ev| justification.set(event_target_value(&ev))></textarea>
                    </label>
                    <button type="button" class="button bulk-submit" on:click=submit>{format!("{verb} {} items", count())}</button>
                    " "
                    <button type="button" class="button-secondary" on:click=move |_| confirming.set(None)>"Cancel"</button>
                </div>
            }
        })}
    }
}

#[component]
fn ItemRow(item: ItemView, state: QueueState, by_person: bool) -> impl IntoView {
    let id = item.id;
    let decided = item.decision.is_some();
    let is_active = move || state.active.get() == Some(id);
    let comment = move || {
        state
            .comments
            .with(|c| c.get(&id).cloned())
            .unwrap_or_default()
    };
    let status = match (item.decision, item.decided_via.as_deref()) {
        (None, _) => "Undecided".to_string(),
        (Some(d), Some("default")) => format!("{} (default outcome)", d.label()),
        (Some(d), _) => d.label().to_string(),
    };
    view! {
        <li id=format!("item-{id}") tabindex="0" data-item-id=id.to_string()
            class=move || format!("queue-item{}{}", if is_active() { " active" } else { "" }, if decided { " decided" } else { "" })
            on:focusin=move |_| state.active.set(Some(id))>
            <div class="item-main">
                <label class="check">
                    <input type="checkbox" class="select-item" disabled=decided
                        prop:checked=move || state.selected.with(|s| s.contains(&id))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            state.selected.update(|s| if on { s.insert(id); } else { s.remove(&id); });
                        } />
                    <span class="visually-hidden">"Select"</span>
                </label>
                <div class="item-text">
                    {(!by_person || item.user_email.is_none()).then(|| view! { <strong class="item-subject">{item.subject()}</strong> })}
                    <span class="item-what">{item.what()}</span>
                    {item.privileged.then(|| view! { <span class="badge badge-bad">"Admin access"</span> })}
                    {item.flags.iter().map(|f| view! { <span class="badge badge-warn">{f.clone()}</span> }).collect_view()}
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
                        <button type="button" class="button approve" on:click=move |_| state.decide(id, Decision::Approve)>"Approve"</button>
                        <button type="button" class="button-secondary revoke" on:click=move |_| state.decide(id, Decision::Revoke)>"Revoke"</button>
                        <ReassignForm item_id=id done=Callback::new(move |()| state.refresh()) />
                    }.into_any()
                }}
            </div>
        </li>
    }
}

/// Hands one item to another reviewer, with a reason.
#[component]
pub fn ReassignForm(item_id: i64, done: Callback<()>) -> impl IntoView {
    let to = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<String, AppError>>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (to, reason) = (to.get_untracked(), reason.get_untracked());
        leptos::task::spawn_local(async move {
            let outcome = review_reassign(item_id, to, reason).await;
            let ok = outcome.is_ok();
            result.set(Some(
                outcome.map(|item| format!("Handed to {}.", item.reviewer)),
            ));
            if ok {
                done.run(());
            }
        });
    };
    view! {
        <details class="reassign">
            <summary>"Hand on…"</summary>
            <form class="reassign-form" on:submit=submit>
                <label>"To (email)" <input type="email" class="reassign-to" required prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev)) /></label>
                <label>"Reason" <input type="text" class="reassign-reason" required prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev)) /></label>
                <button type="submit" class="button-secondary">"Hand on"</button>
            </form>
            {move || result.get().map(|r| match r {
                Ok(text) => view! { <p class="status-ok" role="status">{text}</p> }.into_any(),
                Err(error) => view! { <p class="status-error" role="alert">{error.to_string()}</p> }.into_any(),
            })}
        </details>
    }
}

/// Hands every undecided item of a reviewer in a campaign to someone else. With `reviewers`
/// (admins) the source is chosen; without, it is the caller's own queue.
#[component]
pub fn DelegateForm(campaign_id: i64, reviewers: Vec<String>, done: Callback<()>) -> impl IntoView {
    let from = RwSignal::new(reviewers.first().cloned().unwrap_or_default());
    let to = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<String, AppError>>);
    let choose = !reviewers.is_empty();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let from = choose.then(|| from.get_untracked());
        let (to, reason) = (to.get_untracked(), reason.get_untracked());
        leptos::task::spawn_local(async move {
            let outcome = review_delegate(campaign_id, from, to.clone(), reason).await;
            let ok = outcome.is_ok();
            result.set(Some(outcome.map(|n| format!("{n} items handed to {to}."))));
            if ok {
                done.run(());
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
            <button type="submit" class="button-secondary">"Hand on every undecided item"</button>
        </form>
        {move || result.get().map(|r| match r {
            Ok(text) => view! { <p class="status-ok" role="status">{text}</p> }.into_any(),
            Err(error) => view! { <p class="status-error" role="alert">{error.to_string()}</p> }.into_any(),
        })}
    }
}

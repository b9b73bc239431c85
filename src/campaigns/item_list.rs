//! The dashboard's list of a campaign's items: filtered by reviewer, kind, decision and flag
//! from the address (so a filter survives reload and Back), paged on the server. Admins hand
//! an open campaign's undecided items on, and settle a closed campaign's flagged items one by
//! one or many at once with one justification; a closed campaign's revoke decisions show what
//! became of them.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};

use super::{
    api::{campaign_items, campaign_resolve_flag, campaign_resolve_flags},
    ItemsPage, ItemsQuery,
};
use crate::{
    components::{
        count::MatchCount,
        filter::{FilterForm, FilterSelect},
        handover::ReassignForm,
        notice::ErrorNotice,
    },
    inventory::{Flag, UserFlag},
    review_items::{DecidedVia, Decision, ItemKind, ItemView},
    revocations::{
        badges::FulfilmentBadges,
        status_api::{campaign_revocations, Fulfilment as ItemFulfilment},
    },
};

/// The query parameters the list reads, in the order links write them.
const PARAMS: [&str; 4] = ["reviewer", "kind", "decision", "flag"];

/// What the dashboard tells the list about its campaign.
#[derive(Clone)]
pub struct ListContext {
    pub campaign_id: i64,
    pub open: bool,
    pub admin: bool,
    pub reviewers: Vec<String>,
    /// `(undecided, decided revoke, flagged)` for the shortcuts above the filters.
    pub counts: (i64, i64, i64),
    /// A message about the last change; lives above the dashboard's reloads.
    pub notice: RwSignal<Option<(bool, String)>>,
    /// The id of the page's reviewer suggestions, for the hand-on fields.
    pub suggestions: Option<&'static str>,
    pub refresh: Callback<()>,
}

fn query_from(campaign: i64, q: &leptos_router::params::ParamsMap) -> ItemsQuery {
    let text = |k: &str| q.get(k).filter(|v| !v.is_empty());
    ItemsQuery {
        campaign,
        reviewer: text("reviewer"),
        kind: text("kind"),
        decision: text("decision"),
        flag: text("flag"),
        page: text("page").and_then(|p| p.parse().ok()),
    }
}

/// Moves keyboard focus to an element once the browser has drawn the change that shows it.
fn focus(id: &'static str) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(element) = document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

#[component]
pub fn ItemList(context: ListContext) -> impl IntoView {
    let id = context.campaign_id;
    let open = context.open;
    let query = use_query_map();
    // The list renders in the browser only (see the dashboard), so its data loads there.
    let items = LocalResource::new(move || campaign_items(query.with(|q| query_from(id, q))));
    // A closed campaign's revocations: each revoke decision shows what became of it.
    let revocations = LocalResource::new(move || async move {
        if open {
            None
        } else {
            campaign_revocations(id).await.ok()
        }
    });
    let (undecided, revoked, flagged) = context.counts;
    let base = format!("/campaigns/{id}");
    let decision_options = vec![
        ("undecided".to_string(), "Undecided".to_string()),
        ("approve".to_string(), Decision::Approve.label().to_string()),
        ("revoke".to_string(), Decision::Revoke.label().to_string()),
        ("flag".to_string(), Decision::Flag.label().to_string()),
    ];
    let mut flag_options = vec![("any".to_string(), "Any flag".to_string())];
    flag_options.extend(
        Flag::ALL
            .into_iter()
            .map(|f| (f.slug().to_string(), f.label().to_string())),
    );
    flag_options.extend(
        UserFlag::ALL
            .into_iter()
            .map(|f| (f.slug().to_string(), f.label().to_string())),
    );
    let notice = context.notice;
    let shortcuts = vec![
        (base.clone(), "All".to_string()),
        if open {
            (
                format!("{base}?decision=undecided"),
                format!("Undecided ({undecided})"),
            )
        } else {
            (
                format!("{base}?decision=flag"),
                format!("Flagged for admin ({flagged})"),
            )
        },
        (
            format!("{base}?decision=revoke"),
            format!("Decided revoke ({revoked})"),
        ),
    ];
    let reviewer_options: Vec<(String, String)> = context
        .reviewers
        .iter()
        .map(|r| (r.clone(), r.clone()))
        .collect();
    view! {
        <section aria-labelledby="items-heading" class="campaign-items">
            <h2 id="items-heading">"Items"</h2>
            <ul class="plain item-shortcuts" aria-label="Shortcuts">
                {shortcuts.into_iter().map(|(href, text)| view! { <li><A href=href>{text}</A></li> }).collect_view()}
            </ul>
            <FilterForm action=base.clone() label="Filter items">
                <FilterSelect label="Reviewer" param="reviewer" options=reviewer_options />
                <FilterSelect label="Kind" param="kind"
                    options=ItemKind::ALL.iter().map(|k| (k.slug().to_string(), k.label().to_string())).collect() />
                <FilterSelect label="Decision" param="decision" options=decision_options />
                <FilterSelect label="Flag" param="flag" options=flag_options />
                <button type="submit" class="button-secondary">"Apply"</button>
            </FilterForm>
            <div class="items-live" aria-live="polite" aria-atomic="true">
                {move || notice.get().map(|(ok, text)| view! {
                    <div class=if ok { "notice notice-ok items-notice" } else { "notice notice-error items-notice" }>
                        <p>{text}</p>
                    </div>
                })}
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading items…"</p> }>
                {
                    let context = context.clone();
                    let base = base.clone();
                    move || {
                        let context = context.clone();
                        let base = base.clone();
                        Suspend::new(async move {
                            let fulfilment: Option<HashMap<i64, ItemFulfilment>> = revocations
                                .await
                                .map(|rows| rows.into_iter().map(|f| (f.revocation.item_id, f)).collect());
                            match items.await {
                                Ok(page) => view! { <ItemsView page context fulfilment base /> }.into_any(),
                                Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                            }
                        })
                    }
                }
            </Transition>
        </section>
    }
}

#[component]
fn ItemsView(
    page: ItemsPage,
    context: ListContext,
    fulfilment: Option<HashMap<i64, ItemFulfilment>>,
    base: String,
) -> impl IntoView {
    let query = use_query_map();
    let page_href = move |to: usize| {
        // Read once while rendering: the list is rebuilt whenever the query changes.
        let mut params: Vec<(String, String)> = query.with_untracked(|q| {
            PARAMS
                .into_iter()
                .filter_map(|k| q.get(k).map(|v| (k.to_string(), v)))
                .collect()
        });
        params.push(("page".into(), to.to_string()));
        format!("{base}?{}", crate::urlenc::query_string(&params))
    };
    let (current, pages) = (page.page, page.pages);
    let settle = context.admin && !context.open;
    let flagged_here: Vec<i64> = page
        .items
        .iter()
        .filter(|i| i.decision == Some(Decision::Flag))
        .map(|i| i.id)
        .collect();
    let bulk = Bulk::new();
    view! {
        <MatchCount matching=page.matching one="item" many="items" page=current pages />
        {(settle && !flagged_here.is_empty()).then(|| view! {
            <SettleBar bulk campaign_id=context.campaign_id notice=context.notice refresh=context.refresh />
        })}
        <ItemTable items=page.items context=context.clone() fulfilment bulk flagged_here />
        <nav class="pager" aria-label="Pages of items">
            {(current > 1).then(|| view! { <A href=page_href(current - 1)>"Previous page"</A> })}
            {(current < pages).then(|| view! { <A href=page_href(current + 1)>"Next page"</A> })}
        </nav>
    }
}

/// The selection of flagged items and the state of their confirmation.
#[derive(Clone, Copy)]
struct Bulk {
    selected: RwSignal<HashSet<i64>>,
    confirming: RwSignal<Option<Decision>>,
    justification: RwSignal<String>,
    pending: RwSignal<bool>,
    error: RwSignal<Option<String>>,
}

impl Bulk {
    fn new() -> Self {
        Self {
            selected: RwSignal::new(HashSet::new()),
            confirming: RwSignal::new(None),
            justification: RwSignal::new(String::new()),
            pending: RwSignal::new(false),
            error: RwSignal::new(None),
        }
    }

    /// Closes the confirmation and gives the focus back to the button that opened it.
    fn cancel(&self) {
        let trigger = match self.confirming.get_untracked() {
            Some(Decision::Revoke) => "settle-revoke",
            _ => "settle-keep",
        };
        self.confirming.set(None);
        self.error.set(None);
        focus(trigger);
    }
}

/// Keep or revoke the selected flagged items, with a confirmation naming the count and one
/// justification. The confirmation takes the focus; Cancel and Esc give it back; a refusal
/// is shown in it and the focus stays there.
#[component]
fn SettleBar(
    bulk: Bulk,
    campaign_id: i64,
    notice: RwSignal<Option<(bool, String)>>,
    refresh: Callback<()>,
) -> impl IntoView {
    let count = move || bulk.selected.with(HashSet::len);
    // The confirmation takes the focus when it opens, so keyboard users land in it.
    let open = move |decision: Decision| {
        bulk.error.set(None);
        bulk.confirming.set(Some(decision));
        focus("settle-justification");
    };
    let submit = move |_| {
        let Some(decision) = bulk.confirming.get_untracked() else {
            return;
        };
        if bulk.pending.get_untracked() {
            return;
        }
        bulk.pending.set(true);
        let ids: Vec<i64> = bulk
            .selected
            .with_untracked(|s| s.iter().copied().collect());
        let text = bulk.justification.get_untracked();
        leptos::task::spawn_local(async move {
            let result = campaign_resolve_flags(campaign_id, ids, decision, text).await;
            bulk.pending.set(false);
            match result {
                Ok(n) => {
                    let verb = if decision == Decision::Approve {
                        "Kept"
                    } else {
                        "Revoked"
                    };
                    notice.set(Some((true, format!("{verb} {n} flagged items."))));
                    refresh.run(());
                }
                Err(error) => {
                    bulk.error.set(Some(error.to_string()));
                    focus("settle-submit");
                }
            }
        });
    };
    view! {
        <div class="bulk-bar settle-bar" role="group" aria-label="Settle flagged items">
            <span class="selected-count" aria-live="polite">{move || format!("{} selected", count())}</span>
            <button type="button" id="settle-keep" class="button-secondary settle-keep" disabled=move || count() == 0
                on:click=move |_| open(Decision::Approve)>"Keep selected…"</button>
            <button type="button" id="settle-revoke" class="button-secondary settle-revoke" disabled=move || count() == 0
                on:click=move |_| open(Decision::Revoke)>"Revoke selected…"</button>
            {move || bulk.confirming.get().map(|decision| {
                let verb = if decision == Decision::Approve { "Keep" } else { "Revoke" };
                view! {
                    <div class="confirm settle-confirm" role="alertdialog"
                        aria-labelledby="settle-question" aria-describedby="settle-note settle-error"
                        on:keydown=move |ev| if ev.key() == "Escape" { ev.prevent_default(); bulk.cancel(); }>
                        <p>
                            <strong id="settle-question">{move || format!("{verb} {} flagged items?", count())}</strong>
                            " "<span id="settle-note">"Each is recorded in your name with this justification. Esc cancels."</span>
                        </p>
                        <label>
                            "Justification"
                            <textarea id="settle-justification" rows="2" class="settle-justification" required
                                prop:value=move || bulk.justification.get()
                                on:input=move |ev| bulk.justification.set(event_target_value(&ev))></textarea>
                        </label>
                        <p id="settle-error" class="status-error" role="alert">{move || bulk.error.get()}</p>
                        // Not disabled while pending: a disabled button would drop the focus.
                        <button type="button" id="settle-submit" class="button settle-submit"
                            aria-disabled=move || bulk.pending.get().to_string() on:click=submit>
                            {move || format!("{verb} {} items", count())}
                        </button>
                        " "
                        <button type="button" class="button-secondary settle-cancel" on:click=move |_| bulk.cancel()>"Cancel"</button>
                    </div>
                }
            })}
        </div>
    }
}

#[component]
fn ItemTable(
    items: Vec<ItemView>,
    context: ListContext,
    /// A closed campaign's revocations by item id: adds what became of each.
    fulfilment: Option<HashMap<i64, ItemFulfilment>>,
    bulk: Bulk,
    flagged_here: Vec<i64>,
) -> impl IntoView {
    let with_fulfilment = fulfilment.is_some();
    let fulfilment = fulfilment.unwrap_or_default();
    let select = context.admin && !context.open && !flagged_here.is_empty();
    let reassign = context.admin && context.open;
    let refresh = context.refresh;
    let notice = context.notice;
    let suggestions = context.suggestions;
    let all = flagged_here.clone();
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label="Campaign items">
            <table class="data-table items-table">
                <thead>
                    <tr>
                        {select.then(|| view! {
                            <th scope="col">
                                <label class="check">
                                    <input type="checkbox" class="select-all-flagged"
                                        prop:checked=move || bulk.selected.with(|s| !all.is_empty() && all.iter().all(|i| s.contains(i)))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            bulk.selected.update(|s| if on { s.extend(flagged_here.iter().copied()) } else { s.clear() });
                                        } />
                                    <span class="visually-hidden">"Select every flagged item on this page"</span>
                                </label>
                            </th>
                        })}
                        <th scope="col">"Who or what"</th>
                        <th scope="col">"Access"</th>
                        <th scope="col">"Reviewer"</th>
                        <th scope="col">"Decision"</th>
                        {with_fulfilment.then(|| view! { <th scope="col">"Fulfilment and verification"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {items.into_iter().map(|item| {
                        let id = item.id;
                        let undecided = item.decision.is_none();
                        let flagged = item.decision == Some(Decision::Flag);
                        let done = fulfilment.get(&id).cloned();
                        let label = format!("{}, {}", item.subject(), item.what());
                        view! {
                            <tr data-item-id=id.to_string()>
                                {select.then(|| view! {
                                    <td>
                                        {flagged.then(|| view! {
                                            <label class="check">
                                                <input type="checkbox" class="select-flagged"
                                                    prop:checked=move || bulk.selected.with(|s| s.contains(&id))
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        bulk.selected.update(|s| if on { s.insert(id); } else { s.remove(&id); });
                                                    } />
                                                <span class="visually-hidden">{format!("Select {label}")}</span>
                                            </label>
                                        })}
                                    </td>
                                })}
                                <td>{item.subject()}</td>
                                <td>{item.what()} {item.flags.iter().map(|f| view! { <span class="badge badge-warn">{f.clone()}</span> }).collect_view()}</td>
                                <td>{item.reviewer.clone()}
                                    {(reassign && undecided).then(|| view! {
                                        <ReassignForm item_id=id suggestions
                                            done=Callback::new(move |message: String| { notice.set(Some((true, message))); refresh.run(()); }) />
                                    })}
                                </td>
                                <td>
                                    {match (item.decision, item.decided_via) {
                                        (None, _) => "Undecided".to_string(),
                                        (Some(d), Some(DecidedVia::Default)) => format!("{} (default outcome)", d.label()),
                                        (Some(d), _) => format!("{} by {}", d.label(), item.decided_by.clone().unwrap_or_default()),
                                    }}
                                    {item.justification.clone().map(|j| view! { <br /><span class="muted">{j}</span> })}
                                    {(context.admin && !context.open && flagged).then(|| view! { <ResolveForm item_id=id done=refresh /> })}
                                </td>
                                {with_fulfilment.then(|| view! {
                                    <td class="fulfilment">{match done {
                                        Some(f) => view! { <FulfilmentBadges row=f.revocation restored=f.restored /> }.into_any(),
                                        None => view! { <span class="muted">"—"</span> }.into_any(),
                                    }}</td>
                                })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// An admin keeps or revokes an item the default outcome flagged, with a justification.
#[component]
fn ResolveForm(item_id: i64, done: Callback<()>) -> impl IntoView {
    let justification = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let settle = move |decision: Decision| {
        let text = justification.get_untracked();
        leptos::task::spawn_local(async move {
            match campaign_resolve_flag(item_id, decision, text).await {
                Ok(_) => done.run(()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <div class="resolve-form">
            <label>
                <span class="visually-hidden">"Justification"</span>
                <input type="text" class="resolve-justification" placeholder="Justification"
                    prop:value=move || justification.get()
                    on:input=move |ev| justification.set(event_target_value(&ev)) />
            </label>
            <button type="button" class="button-secondary resolve-keep" on:click=move |_| settle(Decision::Approve)>"Keep"</button>
            <button type="button" class="button-secondary resolve-revoke" on:click=move |_| settle(Decision::Revoke)>"Revoke"</button>
            {move || error.get().map(|e| view! { <p class="status-error" role="alert">{e}</p> })}
        </div>
    }
}

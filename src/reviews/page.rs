//! "My reviews": the queue with grouping, filters, keyboard shortcuts, bulk decisions with
//! confirmation, undo, and handing items on.

use std::{collections::HashMap, sync::Arc};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    api::my_queue,
    bulk_bar::BulkBar,
    context::{PersonContext, PreviousDecision, ServerContext},
    filters::QueueFilters,
    handed_on::HandedOnList,
    item_row::{person_line, server_line, ItemRow, RowContext},
    keys::Shortcuts,
    queue_state::{QueueState, SUGGESTIONS},
    Queue, QueueQuery,
};
use crate::{
    components::{
        count::MatchCount, deferred::Deferred, handover::DelegateForm, markup::Markup,
        notice::ErrorNotice, progress::Progress, suggestions::KnownPeople,
    },
    revocations::panels::MyRevocations,
};

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
    let state = QueueState::new();
    #[cfg(feature = "hydrate")]
    super::position::keep(state.active, state.resume);
    let queue = Resource::new(
        move || (query.with(query_from), state.reload.get()),
        |(query, _)| my_queue(query),
    );
    view! {
        <Title text="My reviews" />
        <header class="page-header">
            <h1>"My reviews"</h1>
            <p class="lede lede-wide">"The accesses assigned to you in open campaigns: keep what is needed, revoke the rest."</p>
        </header>
        <QueueFilters />
        <Shortcuts state />
        // A toast fixed at the bottom of the window, so a decision far down the list is
        // confirmed where the person is; one live region for the page announces each message
        // (its Undo button stays outside it, so it is not read out as part of the message).
        <div class=move || match state.notice.with(|n| n.as_ref().map(|n| n.ok)) {
            Some(true) => "queue-toast notice notice-ok",
            Some(false) => "queue-toast notice notice-error",
            None => "queue-toast",
        }>
            <p class="queue-live queue-notice" aria-live="polite" aria-atomic="true">
                {move || state.notice.with(|n| n.as_ref().map(|n| n.text.clone()))}
            </p>
            {move || state.notice.with(|n| n.as_ref().and_then(|n| n.undo.clone())).map(|last| {
                let label = format!("Undo the decision on {}", last.what);
                view! {
                    <button type="button" class="button-link notice-undo" aria-label=label
                        on:click=move |_| state.undo(Some(last.clone()))>"Undo"</button>
                }
            })}
            {move || state.notice.with(Option::is_some).then(|| view! {
                <button type="button" class="button-link toast-close" aria-label="Dismiss the message"
                    on:click=move |_| state.notice.set(None)>"×"</button>
            })}
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading your queue…"</p> }>
            {move || Suspend::new(async move {
                match queue.await {
                    // Built once on the server, not once more for Leptos' walk of the
                    // loaded children (see `Deferred`).
                    Ok(queue) => Deferred::new(move || view! { <QueueView queue state /> }.into_any()).into_any(),
                    Err(error) => view! { <ErrorNotice error needs="reviewers with a verified email" /> }.into_any(),
                }
            })}
        </Transition>
        <HandedOnList reload=state.reload changed=Callback::new(move |message: String| state.report(Ok(message))) />
        <KnownPeople id=SUGGESTIONS />
        <MyRevocations />
    }
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
        // Back on this page: the item and the scroll position it was left at, once a visit.
        if let Some(position) = state.resume.try_update_value(Option::take).flatten() {
            let here = |id: &i64| {
                state
                    .order
                    .with_untracked(|o| o.iter().any(|(i, _, _)| i == id))
            };
            if let Some(id) = position.item.filter(here) {
                state.active.set(Some(id));
            }
            request_animation_frame(move || super::position::restore(position));
            return;
        }
        if !state.refocus.get_untracked() {
            return;
        }
        state.refocus.set(false);
        // On the next frame: the reloaded list is in the document by then.
        request_animation_frame(move || {
            if let Some(id) = state.active.get_untracked() {
                super::queue_state::focus(&format!("item-{id}"));
            }
        });
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
    let campaigns_for_rows = queue.campaigns.clone();
    // Looked up once per row: shared, not copied (a person's permissions can run long).
    let context = queue.context;
    let people: HashMap<String, Arc<PersonContext>> = context
        .people
        .into_iter()
        .map(|p| (p.email.clone(), Arc::new(p)))
        .collect();
    let servers: HashMap<i64, Arc<ServerContext>> = context
        .servers
        .into_iter()
        .map(|s| (s.id, Arc::new(s)))
        .collect();
    let mut previous: HashMap<i64, PreviousDecision> = context.previous.into_iter().collect();
    let recommended: Vec<i64> = queue
        .groups
        .iter()
        .flat_map(|(_, items)| items)
        .filter(|i| i.decision.is_none() && i.recommendation().is_some())
        .map(|i| i.id)
        .collect();
    // Under a person's heading the rows need not repeat who it is.
    let by_person = query.with_untracked(|q| q.get("group").as_deref() != Some("server"));
    // What the heading is about, said once under it (the rows leave it out).
    let group_context = |items: &[crate::review_items::ItemView]| {
        let first = items.first()?;
        let mut line = Markup::new();
        if by_person {
            person_line(&mut line, people.get(first.user_email.as_deref()?)?);
        } else {
            server_line(&mut line, servers.get(&first.server_id?)?);
        }
        Some(view! { <p class="group-context" inner_html=line.into_string()></p> })
    };
    let mut row_context = |item: &crate::review_items::ItemView| {
        let campaign = campaigns_for_rows.iter().find(|c| c.id == item.campaign_id);
        RowContext {
            person: item
                .user_email
                .as_ref()
                .and_then(|e| people.get(e))
                .cloned(),
            server: item.server_id.and_then(|id| servers.get(&id)).cloned(),
            previous: previous.remove(&item.id),
            revocation_mode: campaign.map(|c| c.revocation_mode).unwrap_or_default(),
            revoke_needs_why: campaign.is_some_and(|c| c.revoke_needs_justification),
            privileged_needs_why: campaign.is_some_and(|c| c.privileged_needs_justification),
        }
    };
    let all_here = undecided_here.clone();
    view! {
        <section class="queue-progress" aria-label="Your progress">
            <Progress decided=queue.decided items=queue.total label="Your progress" />
            <ul class="plain">
                {campaigns.iter().map(|c| view! {
                    <li>
                        <a href=format!("/reviews?campaign={}", c.id)><strong>{c.name.clone()}</strong></a>
                        {format!(" — due {}. {} of {} decided.", c.due_on, c.decided, c.items)}
                        // Each row says it too: phones leave it to the rows.
                        <span class="campaign-rules">
                            {c.revoke_needs_justification.then_some(" A revoke needs a justification.")}
                            {c.privileged_needs_justification.then_some(" Keeping an admin or owner access needs one too.")}
                        </span>
                    </li>
                }).collect_view()}
            </ul>
        </section>
        <BulkBar state all_here recommended />
        <MatchCount matching=queue.matching one="item" many="items" page pages />
        {queue.groups.into_iter().map(|(heading, items)| view! {
            <section class="queue-group">
                <h2 class="group-heading">{heading}</h2>
                {group_context(&items)}
                <ul class="plain queue-items">
                    {items.into_iter().map(|item| {
                        let row = row_context(&item);
                        view! { <ItemRow item state by_person row /> }
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

//! One item of the review queue: what it is, what the inventory says about the person and the
//! server, what the last campaign decided, the recommendation, what Revoke will do, and the
//! decision controls. A refused decision is said here, beside the item.

use std::sync::Arc;

use leptos::prelude::*;

use super::{
    context::{PersonContext, PreviousDecision, ServerContext},
    queue_state::QueueState,
};
use crate::{
    components::{handover::ReassignForm, markup::Markup},
    review_items::{DecidedVia, Decision, ItemKind, ItemView},
    urlenc::query_string,
};

/// What the row needs besides the item.
#[derive(Debug, Clone, Default)]
pub(super) struct RowContext {
    pub person: Option<Arc<PersonContext>>,
    pub server: Option<Arc<ServerContext>>,
    pub previous: Option<PreviousDecision>,
    pub revocation_mode: crate::revocations::Mode,
    /// The campaign's rules: a revoke needs a justification; keeping admin access does.
    pub revoke_needs_why: bool,
    pub privileged_needs_why: bool,
}

/// What the person must write before clicking, when the campaign's rules ask for it.
fn needs_why(item: &ItemView, row: &RowContext) -> Option<&'static str> {
    match (
        row.revoke_needs_why,
        row.privileged_needs_why && item.privileged,
    ) {
        (true, true) => Some("Approve or revoke needs a justification."),
        (true, false) => Some("Revoke needs a justification."),
        (false, true) => Some("Keeping this admin or owner access needs a justification."),
        (false, false) => None,
    }
}

/// The person's account role and other access, with a link to all of it.
pub(super) fn person_line(m: &mut Markup, p: &PersonContext) {
    let href = format!(
        "/reviews/person?{}",
        query_string(&[("email".into(), p.email.clone())])
    );
    m.open("span", "item-context person-context")
        .text(&p.summary())
        .text(" · ")
        .link(&href, &format!("{}'s access", p.name))
        .close("span");
}

/// The server's activity and owner, with a link to its page.
pub(super) fn server_line(m: &mut Markup, s: &ServerContext) {
    let owner = s
        .owner
        .as_deref()
        .map(|o| format!(" · owner {o}"))
        .unwrap_or_default();
    m.open("span", "item-context server-context")
        .text(&format!("{}: {}{owner} · ", s.name, s.activity()))
        .link(&format!("/reviews/server?id={}", s.id), "Server details")
        .close("span");
}

/// What the item is, what the inventory and the last campaign say about it, and what Revoke
/// will do: drawn once, as markup (see [`Markup`]).
fn description(item: &ItemView, row: &RowContext, by_person: bool) -> String {
    let is_server = item.kind == ItemKind::Server;
    let decided = item.decision.is_some();
    let mut m = Markup::new();
    if !by_person || item.user_email.is_none() {
        m.element("strong", "item-subject", &item.subject());
    }
    m.element("span", "item-what", &item.what());
    if item.privileged {
        m.element("span", "badge badge-bad", "Admin or owner access");
    }
    for flag in &item.flags {
        m.element("span", "badge badge-warn", flag);
    }
    if is_server {
        m.element("span", "badge badge-server", "Server");
    }
    if let Some(gone) = gone(item, row) {
        m.element("span", "item-context item-gone", gone);
    }
    // Grouped by person, the heading says who it is and what else they hold; grouped by
    // server, what the server is. The rows say the rest.
    if let Some(person) = row.person.as_deref().filter(|_| !by_person) {
        person_line(&mut m, person);
    }
    if let Some(server) = row
        .server
        .as_deref()
        .filter(|_| by_person && item.kind != ItemKind::AccountRole)
    {
        server_line(&mut m, server);
    }
    if let Some(previous) = &row.previous {
        m.element(
            "span",
            "item-context previous-decision",
            &previous.summary(),
        );
    }
    if let Some(recommendation) = item.recommendation() {
        m.element("span", "recommendation", recommendation.text);
    }
    if !decided {
        let means = crate::revocations::revoke_means(item.kind, &item.access, row.revocation_mode);
        m.element("span", "revoke-means", &means);
    }
    m.element("span", "muted item-campaign", &item.campaign_name);
    m.into_string()
}

/// What the last sync says is no longer there: the decision may already be moot.
fn gone(item: &ItemView, row: &RowContext) -> Option<&'static str> {
    match item.kind {
        ItemKind::Server => row
            .server
            .is_none()
            .then_some("The last sync no longer saw this server in Postmark."),
        _ if item.user_email.is_some() && row.person.is_none() => {
            Some("The last sync no longer saw this login in Postmark: the person may have left.")
        }
        ItemKind::ServerPermission => row
            .person
            .as_ref()
            .filter(|p| {
                !p.permissions
                    .iter()
                    .any(|(id, _, _)| Some(*id) == item.server_id)
            })
            .map(|_| "The last sync no longer saw this permission: it may already be removed."),
        _ => None,
    }
}

#[component]
pub(super) fn ItemRow(
    item: ItemView,
    state: QueueState,
    by_person: bool,
    row: RowContext,
) -> impl IntoView {
    let id = item.id;
    let is_server = item.kind == ItemKind::Server;
    let decided = item.decision.is_some();
    let hint = (!decided).then(|| needs_why(&item, &row)).flatten();
    // Names the item for screen readers, where every row's buttons would sound the same.
    let label = format!("{}, {}", item.subject(), item.what());
    let is_active = move || state.active.get() == Some(id);
    let error = move || state.errors.with(|e| e.get(&id).cloned());
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
    let described = format!("hint-{id} error-{id}");
    let description = description(&item, &row, by_person);
    view! {
        <li id=format!("item-{id}") tabindex="0" data-item-id=id.to_string()
            class=move || format!(
                "queue-item{}{}{}{}",
                if is_server { " queue-item-server" } else { "" },
                if is_active() { " active" } else { "" },
                if decided { " decided" } else { "" },
                if error().is_some() { " refused" } else { "" },
            )
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
                <div class="item-text" inner_html=description></div>
                <span class="item-status">{status}</span>
            </div>
            <div class="item-actions">
                {if decided {
                    let version = item.version;
                    view! {
                        {item.justification.clone().map(|j| view! { <span class="muted">{j}</span> })}
                        <button type="button" class="button-secondary undo" aria-label=format!("Undo: {label}")
                            on:click=move |_| state.undo(Some(super::queue_state::LastDecision { id, version, what: String::new() }))>"Undo"</button>
                    }.into_any()
                } else {
                    view! {
                        <label class="comment">
                            <span class="visually-hidden">"Comment or justification"</span>
                            <textarea id=format!("comment-{id}") rows="1"
                                placeholder=if hint.is_some() { "Justification" } else { "Comment / justification" }
                                aria-describedby=described.clone()
                                aria-invalid=move || error().is_some().then_some("true")
                                prop:value=comment
                                on:input=move |ev| {
                                    let text = event_target_value(&ev);
                                    state.comments.update(|c| { c.insert(id, text); });
                                }></textarea>
                        </label>
                        <button type="button" class="button approve" aria-label=format!("Approve: {label}") on:click=move |_| state.decide(id, Decision::Approve)>"Approve"</button>
                        <button type="button" class="button-secondary revoke" aria-label=format!("Revoke: {label}") on:click=move |_| state.decide(id, Decision::Revoke)>"Revoke"</button>
                        <ReassignForm item_id=id suggestions=Some(super::queue_state::SUGGESTIONS) done=Callback::new(move |message| state.report(Ok(message))) />
                        <span id=format!("hint-{id}") class="needs-why" hidden=hint.is_none()>{hint.unwrap_or_default()}</span>
                    }.into_any()
                }}
                <p id=format!("error-{id}") class="item-error status-error" role="alert" hidden=move || error().is_none()>
                    {error}
                </p>
            </div>
        </li>
    }
}

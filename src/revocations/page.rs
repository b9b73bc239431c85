//! "Revocations": every revoke decision on its way to Postmark, with its status, attempts and
//! last error; admins retry failed ones and cancel what should not run. The campaign
//! dashboard uses [`ApplyPanel`] and [`Fulfilment`] from here.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use super::{
    api::{
        revocation_attempts, revocations_list, RevocationAcknowledge, RevocationCancel,
        RevocationList, RevocationRetry, RevocationsApply,
    },
    badges::FulfilmentBadges,
    status_api::{revocations_restored, Restored},
    Action, Counts, Deleted, Excluded, RevocationView, Status, Verification,
};
use crate::{
    components::{
        filter::{FilterForm, FilterSelect},
        notice::ErrorNotice,
        time::Timestamp,
        viewer::is_admin,
    },
    review_items::ItemKind,
};

/// What the worker does for this row, in words.
fn what_happens(action: Option<Action>, kind: ItemKind) -> &'static str {
    match (action, kind) {
        (Some(Action::Quarantine), _) | (None, ItemKind::Server) => {
            "quarantine: SMTP off, webhooks cleared (API tokens keep working)"
        }
        (Some(Action::Delete), _) => "delete the server",
        (Some(Action::RemovePermission), _) | (None, ItemKind::ServerPermission) => {
            "remove the server permission (users gateway)"
        }
        (Some(Action::RemoveUser), _) => "remove the user from the account (users gateway)",
        (Some(Action::Demote), _) => "demote to the basic role (users gateway)",
        (Some(Action::Manual), _) => "by hand: a Postmark admin makes the change",
        (Some(Action::Invite), _) => "invite the user (group mapping, users gateway)",
        (Some(Action::Grant), _) => "grant the server permission (group mapping, users gateway)",
        (Some(Action::SetRole), _) => "set the account role (group mapping, users gateway)",
        (None, ItemKind::AccountRole) => "remove or demote the user (users gateway)",
    }
}

/// "1 revocation", "3 revocations".
fn count(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The server in words: its name when the campaign launched, and its id.
fn server_label(row: &RevocationView) -> Option<String> {
    row.server_id.map(|id| match &row.server_name {
        Some(name) => format!("{name} ({id})"),
        None => format!("server {id}"),
    })
}

/// Whose access (a person), or which server.
fn subject(row: &RevocationView) -> String {
    match (&row.user_email, server_label(row)) {
        (Some(email), _) => email.clone(),
        (None, Some(server)) => server,
        (None, None) => format!("item {}", row.item_id),
    }
}

/// What access, so two revocations of one person never read the same.
fn detail(row: &RevocationView) -> String {
    match (row.kind, server_label(row)) {
        (ItemKind::ServerPermission, Some(server)) => format!("{} on {server}", row.access),
        (ItemKind::AccountRole, _) => format!("{} (account role)", row.access),
        (ItemKind::Server, _) => "the server itself".to_string(),
        (_, None) => row.access.clone(),
    }
}

/// The pause banner: Postmark refused the credentials, so nothing runs until it accepts them.
fn paused_banner(paused: Option<(String, String)>) -> impl IntoView {
    paused.map(|(since, reason)| {
        view! {
            <div class="notice notice-error" role="alert">
                <p>
                    <strong>"Revocations are paused: Postmark rejected the account token. "</strong>
                    {format!("Since {since}: {reason}. They resume by themselves once Postmark accepts the token again; no attempt is used up meanwhile.")}
                </p>
            </div>
        }
    })
}

#[component]
pub fn RevocationsPage() -> impl IntoView {
    let query = use_query_map();
    let retry = ServerAction::<RevocationRetry>::new();
    let cancel = ServerAction::<RevocationCancel>::new();
    let acknowledge = ServerAction::<RevocationAcknowledge>::new();
    let actions = RowActions {
        retry,
        cancel,
        acknowledge,
    };
    // Jobs move on in the background: "Refresh" reads the list again.
    let reload = RwSignal::new(0u32);
    let list = Resource::new(
        move || {
            (
                query.with(|q| q.get("campaign").and_then(|c| c.parse::<i64>().ok())),
                query.with(|q| q.get("status").filter(|s| !s.is_empty())),
                query.with(|q| q.get("kind").filter(|s| !s.is_empty())),
                query.with(|q| q.get("verification").filter(|s| !s.is_empty())),
                retry.version().get()
                    + cancel.version().get()
                    + acknowledge.version().get()
                    + reload.get() as usize,
            )
        },
        |(campaign, status, kind, verification, _)| {
            revocations_list(campaign, status, kind, verification)
        },
    );
    // Restored servers' quarantines: their badge says so instead of waiting for a sync.
    let restored = Resource::new(move || reload.get(), |_| revocations_restored());
    let admin = is_admin();
    view! {
        <Title text="Revocations" />
        <header class="page-header">
            <h1>"Revocations"</h1>
            <p class="lede">"Every revoke decision of a closed campaign on its way to Postmark: what runs, what failed and why, what waits for a person."</p>
        </header>
        <p class="toolbar">
            <A href="/campaigns">"Campaigns"</A>
            <button type="button" class="button-secondary refresh" on:click=move |_| reload.update(|n| *n += 1)>
                "Refresh"
            </button>
        </p>
        <div class="queue-live" aria-live="polite">
            {move || retry.value().get().map(|r| outcome(r, "Queued to run again."))}
            {move || cancel.value().get().map(|r| outcome(r, "Cancelled."))}
            {move || acknowledge.value().get().map(|r| outcome(r, "Acknowledged: the access stays, with your reason on record."))}
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading revocations…"</p> }>
            {move || Suspend::new(async move {
                // Without the restored list the rows still show, as the jobs left them.
                let restored = restored.await.unwrap_or_default().into_iter().collect();
                match list.await {
                    Ok(list) => view! { <ListView list restored admin actions /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn outcome(result: Result<(), crate::error::AppError>, ok: &'static str) -> AnyView {
    match result {
        Ok(()) => view! { <div class="notice notice-ok"><p>{ok}</p></div> }.into_any(),
        Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
    }
}

/// What an admin can do to a row.
#[derive(Clone, Copy)]
struct RowActions {
    retry: ServerAction<RevocationRetry>,
    cancel: ServerAction<RevocationCancel>,
    acknowledge: ServerAction<RevocationAcknowledge>,
}

#[component]
fn ListView(
    list: RevocationList,
    restored: HashMap<i64, Restored>,
    admin: bool,
    actions: RowActions,
) -> impl IntoView {
    view! {
        {paused_banner(list.paused)}
        <FilterForm action="/revocations">
            <FilterSelect label="Campaign" param="campaign"
                options=list.campaigns.iter().map(|(id, name)| (id.to_string(), name.clone())).collect() />
            <FilterSelect label="Status" param="status"
                options=Status::ALL.iter().map(|s| (s.slug().to_string(), s.label().to_string())).collect() />
            <FilterSelect label="Kind" param="kind"
                options=ItemKind::ALL.iter().map(|k| (k.slug().to_string(), k.label().to_string())).collect() />
            <FilterSelect label="Verification" param="verification"
                options=Verification::ALL.iter().map(|v| (v.slug().to_string(), v.label().to_string())).collect() />
            <button type="submit" class="button-secondary">"Apply filters"</button>
        </FilterForm>
        <p class="count">{format!("{}.", count(list.rows.len() as i64, "revocation"))}</p>
        <div class="table-wrap" tabindex="0" role="region" aria-label="Revocations">
            <table class="data-table revocations-table">
                <thead>
                    <tr>
                        <th scope="col">"Access"</th>
                        <th scope="col">"Campaign"</th>
                        <th scope="col">"What happens"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Attempts"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.rows.into_iter().map(|row| {
                        let restored = restored.get(&row.id).cloned();
                        view! { <Row row restored admin actions /> }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Row(
    row: RevocationView,
    restored: Option<Restored>,
    admin: bool,
    actions: RowActions,
) -> impl IntoView {
    let RowActions {
        retry,
        cancel,
        acknowledge,
    } = actions;
    let id = row.id;
    // A signed-off campaign's rows are evidence: nothing to offer that would be refused.
    let admin = admin && !row.campaign_signed_off;
    let retryable = admin
        && (matches!(row.status, Status::Failed | Status::Manual)
            || (row.status == Status::Done && row.verification == Verification::NotEffective));
    let cancellable = admin
        && matches!(
            row.status,
            Status::Pending | Status::Failed | Status::Manual
        );
    let acknowledgeable =
        admin && row.status == Status::Failed && row.acknowledged_reason.is_none();
    let reason = RwSignal::new(String::new());
    let why_accepted = RwSignal::new(String::new());
    let shown = RwSignal::new(false);
    let attempts = Resource::new(
        move || shown.get(),
        move |open| async move {
            if open {
                revocation_attempts(id).await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
    let badges = view! { <FulfilmentBadges row=row.clone() restored /> };
    view! {
        <tr data-revocation-id=id.to_string()>
            <td><strong>{subject(&row)}</strong><br /><span class="muted">{detail(&row)}</span></td>
            <td><A href=format!("/campaigns/{}", row.campaign_id)>{row.campaign_name.clone()}</A></td>
            <td>
                {if row.status == Status::Manual || row.task_id.is_some() {
                    "by hand: a Postmark admin makes the change (see its task)"
                } else {
                    what_happens(row.action, row.kind)
                }}
            </td>
            <td>
                {badges}
                {row.last_error.clone().map(|e| view! { <br /><span class="muted last-error">{e}</span> })}
                {row.excluded_reason.clone().map(|e| view! { <br /><span class="muted">{format!("Excluded: {e}")}</span> })}
                {row.acknowledged_reason.clone().map(|e| view! { <br /><span class="muted acknowledged">{format!("Acknowledged: {e}")}</span> })}
                {row.campaign_signed_off.then(|| view! { <br /><span class="muted signed-off-note">"Campaign signed off: this revocation can no longer change."</span> })}
                {row.task_id.map(|task| view! { <br /><A href=format!("/tasks/{task}")>{format!("Task #{task}")}</A> })}
                {retryable.then(|| view! {
                    <br />
                    <button type="button" class="button-secondary retry" disabled=move || retry.pending().get()
                        on:click=move |_| { retry.dispatch(RevocationRetry { id }); }>"Retry"</button>
                })}
                {cancellable.then(|| view! {
                    <details class="cancel">
                        <summary>"Cancel…"</summary>
                        <label>"Reason" <input type="text" class="cancel-reason" prop:value=move || reason.get()
                            on:input=move |ev| reason.set(event_target_value(&ev)) /></label>
                        <button type="button" class="button-secondary" disabled=move || cancel.pending().get()
                            on:click=move |_| { cancel.dispatch(RevocationCancel { id, reason: reason.get_untracked() }); }>
                            "Cancel this revocation"
                        </button>
                    </details>
                })}
                {acknowledgeable.then(|| view! {
                    <details class="acknowledge">
                        <summary>"Accept as it is…"</summary>
                        <label>"Why the access may stay" <input type="text" class="acknowledge-reason" prop:value=move || why_accepted.get()
                            on:input=move |ev| why_accepted.set(event_target_value(&ev)) /></label>
                        <button type="button" class="button-secondary" disabled=move || acknowledge.pending().get()
                            on:click=move |_| { acknowledge.dispatch(RevocationAcknowledge { id, reason: why_accepted.get_untracked() }); }>
                            "Acknowledge the failure"
                        </button>
                    </details>
                })}
            </td>
            <td>
                <details on:toggle=move |_| shown.update(|s| *s = !*s)>
                    <summary>{count(row.attempts, "attempt")}</summary>
                    <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match attempts.await {
                                Ok(Some(list)) if list.is_empty() => view! { <p class="muted">"None yet."</p> }.into_any(),
                                Ok(Some(list)) => view! {
                                    <ul class="plain attempts">
                                        {list.into_iter().map(|a| view! {
                                            <li>
                                                <Timestamp at=a.at /> {format!(" · {} · {}", a.operation, a.outcome)}
                                                {a.http_status.map(|s| format!(" · HTTP {s}"))}
                                                {a.error_code.map(|c| format!(" · ErrorCode {c}"))}
                                                {a.message.map(|m| view! { <br /><span class="muted">{m}</span> })}
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any(),
                                Ok(None) => ().into_any(),
                                Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                            }
                        })}
                    </Suspense>
                </details>
            </td>
        </tr>
    }
}

/// A closed campaign's revocations at a glance, with a link to the list.
#[component]
pub fn Fulfilment(campaign_id: i64, counts: Counts) -> impl IntoView {
    let link = |status: &str| format!("/revocations?campaign={campaign_id}&status={status}");
    view! {
        <section aria-labelledby="fulfilment-heading" class="fulfilment">
            <h2 id="fulfilment-heading">"Revocations"</h2>
            <dl class="facts counts">
                <dt>"Waiting to be applied"</dt><dd class="count-waiting">{counts.to_revoke}</dd>
                <dt>"Queued or running"</dt><dd class="count-queued">{counts.pending + counts.running}</dd>
                <dt>"Done"</dt><dd class="count-done">{counts.done}</dd>
                <dt>"Failed"</dt><dd class="count-failed">{counts.failed}</dd>
                <dt>"Manual"</dt><dd class="count-manual">{counts.manual}</dd>
                <dt>"Excluded or cancelled"</dt><dd class="count-excluded">{counts.excluded + counts.cancelled}</dd>
                <dt>"Effective (proved by a sync)"</dt><dd class="count-effective">{counts.effective}</dd>
                <dt>"Not effective"</dt><dd class="count-not-effective">{counts.not_effective}</dd>
                <dt>"Drift (access came back)"</dt><dd class="count-drift">{counts.drift}</dd>
            </dl>
            {(counts.not_effective > 0).then(|| view! {
                <div class="notice notice-error not-effective" role="alert">
                    <p>
                        <strong>{format!("{} not effective: ", count(counts.not_effective, "revocation"))}</strong>
                        "the job said done, but the next sync still showed the access in Postmark. "
                        <A href=format!("/revocations?campaign={campaign_id}&verification=not_effective")>"See which, and retry"</A>
                    </p>
                </div>
            })}
            {(counts.drift > 0).then(|| view! {
                <div class="notice notice-error drift" role="alert">
                    <p>
                        <strong>{format!("Drift: access came back for {} ", count(counts.drift, "revocation"))}</strong>
                        "after a sync had proved them effective. "
                        <A href=link("done")>"See which"</A>
                    </p>
                </div>
            })}
            {(counts.failed > 0).then(|| view! {
                <div class=if counts.acknowledged == counts.failed { "notice notice-warn" } else { "notice notice-error" } role="note">
                    <p>
                        {format!("{} failed", count(counts.failed, "revocation"))}
                        {(counts.acknowledged > 0).then(|| format!(" ({} accepted as they are by an admin)", counts.acknowledged))}
                        ". "
                        <A href=link("failed")>{if counts.acknowledged == counts.failed { "See why" } else { "See why, and retry or accept" }}</A>
                    </p>
                </div>
            })}
            {(counts.manual > 0).then(|| view! {
                <div class="notice notice-warn" role="note">
                    <p>
                        {format!("{} waiting for a person: no API can carry them out. ", count(counts.manual, "revocation"))}
                        <A href="/tasks">"Fulfilment tasks"</A>
                    </p>
                </div>
            })}
            <p><A href=format!("/revocations?campaign={campaign_id}")>"Every revocation of this campaign"</A></p>
        </section>
    }
}

/// The to-revoke list of a closed campaign, applied by an admin: each item can be excluded
/// with a reason, and servers deleted instead of quarantined by typing their name.
#[component]
pub fn ApplyPanel(
    campaign_id: i64,
    rows: Vec<RevocationView>,
    changed: Callback<()>,
) -> impl IntoView {
    let apply = ServerAction::<RevocationsApply>::new();
    let excluded = RwSignal::new(std::collections::BTreeMap::<i64, String>::new());
    let deleted = RwSignal::new(std::collections::BTreeMap::<i64, String>::new());
    let confirming = RwSignal::new(false);
    let total = rows.len();
    let per_kind: Vec<(ItemKind, usize)> = ItemKind::ALL
        .into_iter()
        .map(|k| (k, rows.iter().filter(|r| r.kind == k).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    Effect::new(move |_| {
        if let Some(Ok(_)) = apply.value().get() {
            changed.run(());
        }
    });
    let submit = move |_| {
        let exclude = excluded.with_untracked(|e| {
            e.iter()
                .map(|(id, reason)| Excluded {
                    id: *id,
                    reason: reason.clone(),
                })
                .collect()
        });
        let delete = deleted.with_untracked(|d| {
            d.iter()
                .map(|(id, name)| Deleted {
                    id: *id,
                    confirm_name: name.clone(),
                })
                .collect()
        });
        apply.dispatch(RevocationsApply {
            campaign_id,
            exclude,
            delete,
        });
    };
    let running = move || total - excluded.with(|e| e.len());
    view! {
        <section aria-labelledby="apply-heading" class="apply-revocations">
            <h2 id="apply-heading">"Apply revocations"</h2>
            <p>
                {format!("{total} revoke decisions wait to be carried out: ")}
                {per_kind.iter().map(|(k, n)| format!("{} {n}", k.label())).collect::<Vec<_>>().join(" · ")}
                ". Exclude any that must not run, with a reason."
            </p>
            <p class="muted">"Servers are quarantined: SMTP off and every webhook cleared, the previous values kept. Postmark's API cannot disable a server's API tokens; delete the server when they must stop working."</p>
            <ul class="plain apply-list">
                {rows.into_iter().map(|row| {
                    let id = row.id;
                    let is_server = row.kind == ItemKind::Server;
                    view! {
                        <li class="apply-row" data-revocation-id=id.to_string()>
                            <strong>{subject(&row)}</strong>" "<span class="muted">{detail(&row)}</span>
                            <label class="check">
                                <input type="checkbox" class="exclude"
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        excluded.update(|e| if on { e.insert(id, String::new()); } else { e.remove(&id); });
                                    } />
                                "Exclude"
                            </label>
                            {move || excluded.with(|e| e.contains_key(&id)).then(|| view! {
                                <label>"Reason" <input type="text" class="exclude-reason" required
                                    on:input=move |ev| { let text = event_target_value(&ev); excluded.update(|e| { e.insert(id, text); }); } /></label>
                            })}
                            {is_server.then(|| view! {
                                <details class="delete-server">
                                    <summary>"Delete instead…"</summary>
                                    <label>"Type the server's name to delete it"
                                        <input type="text" class="delete-name"
                                            on:input=move |ev| {
                                                let text = event_target_value(&ev);
                                                deleted.update(|d| if text.trim().is_empty() { d.remove(&id); } else { d.insert(id, text); });
                                            } />
                                    </label>
                                </details>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <Show when=move || confirming.get()
                fallback=move || view! {
                    <button type="button" class="button" on:click=move |_| confirming.set(true)>"Apply…"</button>
                }>
                <div class="confirm" role="group" aria-label="Confirm apply">
                    <p>{move || format!("Carry out {} revocations against Postmark now? Each one is recorded in your name.", running())}</p>
                    <button type="button" class="button apply-submit" disabled=move || apply.pending().get() on:click=submit>"Apply revocations"</button>
                    " "
                    <button type="button" class="button-secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                </div>
            </Show>
            <div aria-live="polite">
                {move || apply.value().get().map(|result| match result {
                    Ok(n) => view! { <div class="notice notice-ok"><p>{format!("{n} revocations queued; the worker carries them out now.")}</p></div> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                })}
            </div>
        </section>
    }
}

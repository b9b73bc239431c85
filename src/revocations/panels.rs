//! Revocations on the pages that are about something else: the inventory's server page (with
//! restoring or deleting a quarantined server) and user page, and "My reviews".

use leptos::prelude::*;
use leptos_router::components::A;

use super::{
    badges::FulfilmentBadges,
    status_api::{
        my_revocations, server_revocations, user_revocations, Fulfilment, QuarantineView,
        RevocationDeleteServer, RevocationRestore,
    },
    RevocationView,
};
use crate::{components::notice::ErrorNotice, review_items::ItemKind};

/// The access a revocation took away, in words.
pub fn access_of(row: &RevocationView) -> String {
    match (row.kind, &row.user_email, row.server_id) {
        (ItemKind::Server, _, Some(server)) => format!("server {server}"),
        (ItemKind::ServerPermission, Some(user), Some(server)) => {
            format!("{user}: {} on server {server}", row.access)
        }
        (_, Some(user), _) => format!("{user}: {}", row.access),
        _ => row.access.clone(),
    }
}

/// The revocations of one server, with the quarantine panel when there is one. `name` is the
/// heading's server name, set to what Postmark answers once a restore succeeds (the inventory
/// itself changes at the next sync).
#[component]
pub fn ServerRevocationsPanel(
    server_id: i64,
    name: RwSignal<String>,
    admin: bool,
) -> impl IntoView {
    let restore = ServerAction::<RevocationRestore>::new();
    let delete = ServerAction::<RevocationDeleteServer>::new();
    let list = Resource::new(
        move || restore.version().get() + delete.version().get(),
        move |_| server_revocations(server_id),
    );
    Effect::new(move |_| {
        if let Some(Ok(restored)) = restore.value().get() {
            name.set(restored);
        }
    });
    view! {
        <div class="restore-live" aria-live="polite">
            {move || restore.value().get().map(|result| match result {
                Ok(restored) => view! {
                    <div class="notice notice-ok restored"><p>{format!("Restored in Postmark: the server is named \u{201c}{restored}\u{201d} again, with its SMTP API setting and webhook URLs. The inventory shows it at the next sync.")}</p></div>
                }.into_any(),
                Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
            })}
            {move || delete.value().get().map(|result| match result {
                Ok(()) => view! {
                    <div class="notice notice-ok"><p>"Deletion queued: the worker deletes the server in Postmark shortly; the Revocations page follows it."</p></div>
                }.into_any(),
                Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
            })}
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading revocations…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! {
                        {list.quarantine.map(|quarantine| view! { <QuarantinePanel quarantine admin restore delete /> })}
                        <RevocationsSection rows=list.rows empty="No campaign revoked this server or a permission on it." />
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The revocations of one user's access.
#[component]
pub fn UserRevocationsPanel(email: String) -> impl IntoView {
    let list = Resource::new(move || email.clone(), user_revocations);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading revocations…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(rows) => view! { <RevocationsSection rows empty="No campaign revoked this user's access." /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A quarantined server: what the quarantine changed, that its API tokens still work, and
/// (admins) restoring it or having it deleted.
#[component]
fn QuarantinePanel(
    quarantine: QuarantineView,
    admin: bool,
    restore: ServerAction<RevocationRestore>,
    delete: ServerAction<RevocationDeleteServer>,
) -> impl IntoView {
    let id = quarantine.revocation_id;
    let confirming = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let name = quarantine.name.clone();
    let signed_off = quarantine.campaign_signed_off;
    let when = quarantine
        .quarantined_at
        .as_deref()
        .map(|at| at.get(..10).unwrap_or(at).to_string())
        .unwrap_or_else(|| "an unknown date".to_string());
    view! {
        <section class="quarantine" aria-labelledby="quarantine-heading">
            <h3 id="quarantine-heading">
                "Quarantined by "
                <A href=format!("/campaigns/{}", quarantine.campaign_id)>{quarantine.campaign_name.clone()}</A>
                {format!(" on {when}")}
            </h3>
            <div class="table-wrap" tabindex="0" role="region" aria-label="What the quarantine changed">
                <table class="data-table quarantine-changes">
                    <thead><tr><th scope="col">"Setting"</th><th scope="col">"Before"</th><th scope="col">"Quarantined"</th></tr></thead>
                    <tbody>
                        {quarantine.changes.into_iter().map(|c| view! {
                            <tr><td>{c.setting}</td><td class="break">{c.before}</td><td>{c.quarantined}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="tokens-note">
                <strong>"Postmark's API cannot disable a server's API tokens: "</strong>
                "they still send email while the server is quarantined. Rotate or delete them in Postmark, or delete the server."
            </p>
            {admin.then(|| view! {
                <Show when=move || confirming.get()
                    fallback=move || view! {
                        <button type="button" class="button restore-open" on:click=move |_| confirming.set(true)>"Restore…"</button>
                    }>
                    <div class="confirm" role="group" aria-label="Confirm restore">
                        <p>"Put back the name, the SMTP API setting and the webhook URLs listed above in Postmark? The server sends and posts webhooks again; this is recorded in your name."</p>
                        <button type="button" class="button restore-submit" disabled=move || restore.pending().get()
                            on:click=move |_| { restore.dispatch(RevocationRestore { id }); }>"Restore server"</button>
                        " "
                        <button type="button" class="button-secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </div>
                </Show>
                {signed_off.then(|| view! {
                    <p class="muted signed-off-note">
                        "The campaign that quarantined it is signed off, so it can no longer ask the worker to delete the server. Restore it here if it is needed, or delete it in Postmark: the next sync records either."
                    </p>
                })}
                {(!signed_off).then(|| view! {
                <details class="delete-server">
                    <summary>"Delete server in Postmark…"</summary>
                    <p>"Deleting cannot be undone: the server, its messages and its API tokens are gone. The worker carries it out and the next sync proves it."</p>
                    <label>
                        {format!("Type the server's name (\u{201c}{name}\u{201d}) to delete it")}
                        <input type="text" class="delete-name" prop:value=move || typed.get()
                            on:input=move |ev| typed.set(event_target_value(&ev)) />
                    </label>
                    <button type="button" class="button-danger delete-submit" disabled=move || delete.pending().get()
                        on:click=move |_| { delete.dispatch(RevocationDeleteServer { id, confirm_name: typed.get_untracked() }); }>
                        "Delete server"
                    </button>
                </details>
                })}
            })}
        </section>
    }
}

/// Revocations as a table (access, campaign, fulfilment and verification), with an alert
/// first when access came back after a revocation had been proved.
#[component]
pub fn RevocationsSection(rows: Vec<Fulfilment>, empty: &'static str) -> impl IntoView {
    let drift: Vec<RevocationView> = rows
        .iter()
        .filter(|f| f.revocation.drift_at.is_some() && f.restored.is_none())
        .map(|f| f.revocation.clone())
        .collect();
    view! {
        <h3 id="revocations-heading">{format!("Revocations ({})", rows.len())}</h3>
        {(!drift.is_empty()).then(|| view! {
            <div class="notice notice-error drift" role="note">
                <p><strong>"Access came back after a revocation"</strong></p>
                <ul class="plain drift-list">
                    {drift.into_iter().map(|d| view! {
                        <li data-revocation-id=d.id.to_string()>
                            {format!("{}: revoked in campaign ", access_of(&d))}
                            <A href=format!("/campaigns/{}", d.campaign_id)>{d.campaign_name.clone()}</A>
                            " — access came back"
                            {d.drift_sync_id.map(|id| view! {
                                " in "<A href=format!("/inventory/syncs?sync={id}")>{format!("sync #{id}")}</A>
                            })}
                        </li>
                    }).collect_view()}
                </ul>
            </div>
        })}
        {if rows.is_empty() {
            view! { <p class="muted">{empty}</p> }.into_any()
        } else {
            view! { <FulfilmentTable rows label="Revocations" campaign_links=true /> }.into_any()
        }}
    }
}

#[component]
fn FulfilmentTable(
    rows: Vec<Fulfilment>,
    label: &'static str,
    /// Campaign pages are for admins and auditors; a reviewer sees the name only.
    campaign_links: bool,
) -> impl IntoView {
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label=label>
            <table class="data-table fulfilment-table">
                <thead><tr><th scope="col">"Access"</th><th scope="col">"Campaign"</th><th scope="col">"Fulfilment and verification"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|f| {
                        let badges = view! { <FulfilmentBadges row=f.revocation.clone() restored=f.restored /> };
                        let row = f.revocation;
                        view! {
                            <tr data-revocation-id=row.id.to_string()>
                                <td>{access_of(&row)}</td>
                                <td>{if campaign_links {
                                    view! { <A href=format!("/campaigns/{}", row.campaign_id)>{row.campaign_name.clone()}</A> }.into_any()
                                } else {
                                    row.campaign_name.clone().into_any()
                                }}</td>
                                <td>
                                    {badges}
                                    {row.excluded_reason.clone().map(|e| view! { <br /><span class="muted">{e}</span> })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// "My reviews": what became of the signed-in reviewer's revoke decisions in closed campaigns.
#[component]
pub fn MyRevocations() -> impl IntoView {
    let list = Resource::new(|| (), |()| my_revocations());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(rows) if rows.is_empty() => ().into_any(),
                    Ok(rows) => view! {
                        <section class="my-revocations" aria-labelledby="my-revocations-heading">
                            <h2 id="my-revocations-heading">"Your revoke decisions in closed campaigns"</h2>
                            <p class="muted">"Whether each one has been carried out in Postmark, and whether the next sync proved the access gone."</p>
                            <FulfilmentTable rows label="Your revoke decisions" campaign_links=false />
                        </section>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="reviewers" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

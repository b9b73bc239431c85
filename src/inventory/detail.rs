//! One server: its settings, API token fingerprints, activity, flags and who can reach it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

use super::{
    api::{inventory_server, inventory_user, SetServerOwner},
    pages::InventoryTabs,
    ServerDetail, UserDetail,
};
use crate::{
    components::{notice::ErrorNotice, suggestions::KnownPeople, viewer::is_admin},
    error::AppError,
    offboarding::page::{EmergencyRemoval, IdentityFacts},
    revocations::panels::{ServerRevocationsPanel, UserRevocationsPanel},
};

#[component]
pub fn ServerPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    // The server function is called here, not inside an async block, so it runs in this
    // page's context and can set the response status (403, 404).
    let detail = Resource::new(id, |id| inventory_server(id.unwrap_or(-1)));
    view! {
        <Title text="Server" />
        <header class="page-header">
            <h1>"Inventory"</h1>
        </header>
        <InventoryTabs />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <Detail detail /> }.into_any(),
                    Err(crate::error::AppError::NotFound) => view! {
                        <div class="notice notice-warn" role="alert">
                            <p>"No such server in the inventory. " <A href="/inventory">"All servers"</A></p>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Detail(detail: ServerDetail) -> impl IntoView {
    let server = detail.server;
    // Shown above and updated by the owner form when it saves.
    let owner = RwSignal::new(detail.owner.clone());
    // The inventory's name until an admin restores the server, then the one Postmark answered.
    let name = RwSignal::new(server.name.clone());
    view! {
        <section class="detail" aria-labelledby="server-heading">
            <h2 id="server-heading">{move || name.get()}</h2>
            <p>
                {server.flags.iter().map(|f| view! { <span class="badge badge-warn">{f.label()}</span> }).collect_view()}
            </p>
            <ServerRevocationsPanel server_id=server.postmark_id name admin=is_admin() />
            <dl class="facts">
                <dt>"Postmark ID"</dt>
                <dd>{server.postmark_id}</dd>
                <dt>"Owner"</dt>
                <dd class="owner">{move || owner.get().unwrap_or_else(|| "(none)".to_string())}</dd>
                <dt>"Sent in the last 30 days"</dt>
                <dd>{server.sent_30d.map_or("unknown".to_string(), |n| n.to_string())}</dd>
                <dt>"API tokens"</dt>
                <dd>
                    {format!("{} (fingerprints: {})", server.token_count, detail.token_fingerprints.join(", "))}
                </dd>
                <dt>"First seen"</dt>
                <dd>{detail.first_seen}</dd>
                <dt>"Last seen"</dt>
                <dd>{detail.last_seen}</dd>
                {detail.server_link.map(|link| {
                    let href = link.clone();
                    view! {
                        <dt>"In Postmark"</dt>
                        <dd><a href=href rel="external noopener noreferrer">{link}</a></dd>
                    }
                })}
            </dl>
            <Show when=is_admin>
                <OwnerForm postmark_id=server.postmark_id owner />
            </Show>
            <h3>"Settings"</h3>
            <dl class="facts">
                {detail.settings.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
            </dl>
            <h3>{format!("People with access ({})", detail.users.len())}</h3>
            {if detail.users.is_empty() {
                view! { <p class="muted">"Nobody has a permission on this server (account admins and the owner reach every server)."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Permissions">
                        <table class="data-table">
                            <thead><tr><th scope="col">"User"</th><th scope="col">"Permission"</th></tr></thead>
                            <tbody>
                                {detail.users.into_iter().map(|(email, name, permission)| view! {
                                    <tr><td><strong>{name}</strong><br /><span class="muted">{email}</span></td><td>{permission}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let email = move || params.with(|p| p.get("email").unwrap_or_default());
    let detail = Resource::new(email, inventory_user);
    view! {
        <Title text="User" />
        <header class="page-header">
            <h1>"Inventory"</h1>
        </header>
        <InventoryTabs />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <User detail /> }.into_any(),
                    Err(crate::error::AppError::NotFound) => view! {
                        <div class="notice notice-warn" role="alert">
                            <p>"No such user in the inventory. " <A href="/inventory/users">"All users"</A></p>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn User(detail: UserDetail) -> impl IntoView {
    let user = detail.user;
    view! {
        <section class="detail" aria-labelledby="user-heading">
            <h2 id="user-heading">{user.name.clone()}</h2>
            <p>{user.flags.iter().map(|f| view! { <span class="badge badge-warn">{f.label()}</span> }).collect_view()}</p>
            <dl class="facts">
                <dt>"Email"</dt>
                <dd>{user.email.clone()}</dd>
                <dt>"Role"</dt>
                <dd>{user.role.clone()}</dd>
                <dt>"Status"</dt>
                <dd>{user.status.clone()}{user.invited_at.clone().map(|d| format!(" (invited {d})"))}</dd>
                <dt>"First seen"</dt>
                <dd>{user.first_seen.clone()}</dd>
                <dt>"Last seen"</dt>
                <dd>{user.last_seen.clone()}</dd>
            </dl>
            <h3>{format!("Server permissions ({})", user.permissions.len())}</h3>
            {if user.permissions.is_empty() {
                view! { <p class="muted">"None on individual servers."</p> }.into_any()
            } else {
                view! { <ul>{user.permissions.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul> }.into_any()
            }}
            <IdentityFacts email=user.email.clone() />
            <UserRevocationsPanel email=user.email.clone() />
            <EmergencyRemoval email=user.email.clone() />
            <h3>"History"</h3>
            <ul class="changes">
                {detail.history.into_iter().map(|(sync_id, at, c)| view! {
                    <li class=format!("change change-{}", c.change)>
                        <A href=format!("/inventory/syncs?sync={sync_id}")>{format!("#{sync_id}")}</A>
                        {format!(" {} ", at.get(..10).unwrap_or_default())}
                        <span class="badge">{c.change.clone()}</span>
                        {format!(" {} {}", c.kind, c.name)}
                        {(!c.fields.is_empty()).then(|| view! {
                            <ul>{c.fields.into_iter().map(|f| view! { <li><code>{f}</code></li> }).collect_view()}</ul>
                        })}
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// Sets who answers for the server (admins); an empty field clears it. The field suggests
/// known people; an address nobody here knows is asked about, and saved once confirmed.
#[component]
fn OwnerForm(postmark_id: i64, owner: RwSignal<Option<String>>) -> impl IntoView {
    let action = ServerAction::<SetServerOwner>::new();
    let current = owner.get_untracked().unwrap_or_default();
    // What the field holds when the save succeeds is what the server stored (it lower-cases).
    let typed = RwSignal::new(current.clone());
    // The question about an unknown address, until the field changes or it is answered.
    let asking = RwSignal::new(None::<String>);
    Effect::new(move |_| match action.value().get() {
        Some(Ok(())) => {
            asking.set(None);
            let saved = typed.get_untracked().trim().to_lowercase();
            owner.set((!saved.is_empty()).then_some(saved));
        }
        Some(Err(AppError::NeedsConfirmation(question))) => asking.set(Some(question)),
        _ => asking.set(None),
    });
    view! {
        <ActionForm action attr:class="settings-form owner-form">
            <input type="hidden" name="postmark_id" value=postmark_id.to_string() />
            <label>
                "Owner's email"
                <input type="email" name="email" value=current list="owner-suggestions" autocomplete="off"
                    on:input=move |ev| { asking.set(None); typed.set(event_target_value(&ev)); } />
            </label>
            <button type="submit" class="button-secondary">"Set owner"</button>
            {move || asking.get().map(|question| view! {
                <div class="confirm owner-confirm" role="group" aria-label="Confirm the address">
                    <input type="hidden" name="confirm" value="true" />
                    <p class="owner-question" role="alert">{question}</p>
                    <button type="submit" class="button-secondary owner-confirm-yes">"Set owner anyway"</button>
                    " "
                    <button type="button" class="button-secondary owner-confirm-no" on:click=move |_| asking.set(None)>"Cancel"</button>
                </div>
            })}
        </ActionForm>
        <KnownPeople id="owner-suggestions" />
        {move || action.value().get().map(|result| match result {
            Ok(()) => view! { <p class="status-ok" role="status">"Owner saved."</p> }.into_any(),
            Err(AppError::NeedsConfirmation(_)) => ().into_any(),
            Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
        })}
    }
}

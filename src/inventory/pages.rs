//! Inventory pages: servers with search, filters, sorting and paging; the sync history with
//! what each sync changed.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use super::{
    api::{inventory_servers, inventory_sync_changes, inventory_syncs, SyncNow},
    Flag, ServerList, ServerQuery, ServerView, SyncScope, SyncStatus, SyncView,
};
use crate::components::{
    count::MatchCount, exports::ExportLinks, filter::FilterForm, notice::ErrorNotice,
    time::Timestamp, viewer::is_admin,
};

#[component]
pub(crate) fn InventoryTabs() -> impl IntoView {
    // `exact`: /inventory must not count as current on /inventory/syncs.
    view! {
        <nav class="tabs" aria-label="Inventory">
            <A href="/inventory" exact=true>"Servers"</A>
            <A href="/inventory/users" exact=true>"Users"</A>
            <A href="/inventory/syncs" exact=true>"Sync history"</A>
        </nav>
        <ExportLinks links=vec![
            ("Users and permissions", "/exports/inventory-users.csv".to_string()),
            ("Servers", "/exports/inventory-servers.csv".to_string()),
        ] />
    }
}

/// "Sync now", for admins; `done` runs after each finished sync.
#[component]
fn SyncButton(done: Callback<()>) -> impl IntoView {
    let action = ServerAction::<SyncNow>::new();
    Effect::new(move |_| {
        if action.value().get().is_some() {
            done.run(());
        }
    });
    view! {
        <div class="toolbar">
            <button
                type="button"
                class="button"
                on:click=move |_| {
                    action.dispatch(SyncNow {});
                }
                disabled=move || action.pending().get()
            >
                {move || if action.pending().get() { "Syncing…" } else { "Sync now" }}
            </button>
            <span class="sync-result" aria-live="polite">
                {move || action.value().get().map(|result| match result {
                    Ok(sync) if sync.status == SyncStatus::Succeeded => view! {
                        <span class="status-ok">{format!("Sync #{} done: {} servers", sync.id, sync.servers.unwrap_or(0))}</span>
                    }.into_any(),
                    Ok(sync) => view! {
                        <span class="status-bad">{format!("Sync #{} failed: {}", sync.id, sync.error.unwrap_or_default())}</span>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                })}
            </span>
        </div>
    }
}

/// The last sync in one line, its time as a [`Timestamp`].
fn sync_summary(sync: SyncView) -> AnyView {
    match sync.status {
        SyncStatus::Succeeded => {
            let at = sync.finished_at.unwrap_or(sync.started_at);
            let counts = format!(
                ": {} servers ({} added, {} removed, {} changed).",
                sync.servers.unwrap_or(0),
                sync.added.unwrap_or(0),
                sync.removed.unwrap_or(0),
                sync.changed.unwrap_or(0),
            );
            view! { {format!("Last sync #{} at ", sync.id)} <Timestamp at /> {counts} }.into_any()
        }
        SyncStatus::Failed => format!(
            "Last sync #{} failed: {}. The inventory below is from the sync before it.",
            sync.id,
            sync.error.as_deref().unwrap_or("unknown reason")
        )
        .into_any(),
        SyncStatus::Running => format!("Sync #{} is running.", sync.id).into_any(),
    }
}

#[component]
pub fn InventoryPage() -> impl IntoView {
    let query = use_query_map();
    let server_query = move || {
        query.with(|q| ServerQuery {
            search: q.get("search"),
            flag: q.get("flag"),
            sort: q.get("sort"),
            page: q.get("page").and_then(|p| p.parse().ok()),
        })
    };
    let list = Resource::new(server_query, inventory_servers);
    let admin = is_admin();

    view! {
        <Title text="Inventory" />
        <header class="page-header">
            <h1>"Inventory"</h1>
            <p class="lede">
                "Postmark servers as the last sync saw them, with their settings, API token count and activity."
            </p>
        </header>
        <InventoryTabs />
        <Show when=move || admin>
            <SyncButton done=Callback::new(move |()| list.refetch()) />
        </Show>
        <FilterForm action="/inventory">
            <label>
                "Search "
                <input type="search" name="search" placeholder="Name or ID"
                    prop:value=move || query.with(|q| q.get("search").unwrap_or_default()) />
            </label>
            <label>
                "Flag "
                <select name="flag" prop:value=move || query.with(|q| q.get("flag").unwrap_or_default())>
                    <option value="">"Any"</option>
                    {Flag::ALL.into_iter().map(|f| {
                        let selected = move || query.with(|q| q.get("flag").as_deref() == Some(f.slug()));
                        view! { <option value=f.slug() selected=selected>{f.label()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Sort "
                <select name="sort" prop:value=move || query.with(|q| q.get("sort").unwrap_or_else(|| "name".to_string()))>
                    {[("name", "Name"), ("id", "ID"), ("sent", "Fewest sends"), ("tokens", "Most tokens")]
                        .into_iter()
                        .map(|(value, label)| {
                            let selected = move || query.with(|q| q.get("sort").as_deref().unwrap_or("name") == value);
                            view! { <option value=value selected=selected>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="submit" class="button-secondary">"Apply"</button>
        </FilterForm>
        <Suspense fallback=|| view! { <p class="loading">"Loading servers…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <ServerTable list /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ServerTable(list: ServerList) -> impl IntoView {
    let query = use_query_map();
    // Read once while rendering: the table is rebuilt whenever the query changes.
    let page_href = move |page: usize| {
        query.with_untracked(|q| {
            let mut params = url_params(q);
            params.retain(|(k, _)| k != "page");
            params.push(("page".to_string(), page.to_string()));
            format!("/inventory?{}", crate::urlenc::query_string(&params))
        })
    };
    let status = match (list.last_sync, list.connected) {
        (Some(sync), _) => sync_summary(sync),
        (None, true) => "No sync has run yet.".into_any(),
        (None, false) => {
            "Not connected to Postmark: set PAR_POSTMARK_ACCOUNT_TOKEN to sync servers.".into_any()
        }
    };
    let (page, pages) = (list.page, list.pages);
    view! {
        <p class="count">{status}</p>
        <MatchCount matching=list.matching one="server" many="servers" page pages />
        <div class="table-wrap" tabindex="0" role="region" aria-label="Servers">
            <table class="data-table servers-table">
                <thead>
                    <tr>
                        <th scope="col">"Server"</th>
                        <th scope="col">"ID"</th>
                        <th scope="col">"SMTP"</th>
                        <th scope="col">"Webhook hosts"</th>
                        <th scope="col" class="num">"API tokens"</th>
                        <th scope="col" class="num">"Sent (30 days)"</th>
                        <th scope="col">"Flags"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.servers.into_iter().map(|s| view! { <ServerRow server=s /> }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {(page > 1).then(|| view! { <A href=page_href(page - 1)>"Previous page"</A> })}
            {(page < pages).then(|| view! { <A href=page_href(page + 1)>"Next page"</A> })}
        </nav>
    }
}

#[component]
fn ServerRow(server: ServerView) -> impl IntoView {
    view! {
        <tr>
            <td><A href=format!("/inventory/servers/{}", server.postmark_id)>{server.name}</A></td>
            <td class="num">{server.postmark_id}</td>
            <td>{if server.smtp_api_activated { "On" } else { "Off" }}</td>
            <td>{if server.webhook_hosts.is_empty() { "—".to_string() } else { server.webhook_hosts.join(", ") }}</td>
            <td class="num">{server.token_count}</td>
            <td class="num">{server.sent_30d.map_or("unknown".to_string(), |n| n.to_string())}</td>
            <td>
                {server.flags.into_iter().map(|f| view! { <span class="badge badge-warn">{f.label()}</span> }).collect_view()}
            </td>
        </tr>
    }
}

fn url_params(q: &leptos_router::params::ParamsMap) -> Vec<(String, String)> {
    ["search", "flag", "sort", "page"]
        .into_iter()
        .filter_map(|k| q.get(k).map(|v| (k.to_string(), v)))
        .collect()
}

#[component]
pub fn SyncsPage() -> impl IntoView {
    let syncs = Resource::new(|| (), |()| inventory_syncs());
    let query = use_query_map();
    let selected = move || query.with(|q| q.get("sync").and_then(|s| s.parse::<i64>().ok()));
    let changes = Resource::new(selected, |id| async move {
        match id {
            Some(id) => inventory_sync_changes(id).await.map(Some),
            None => Ok(None),
        }
    });
    let admin = is_admin();
    view! {
        <Title text="Sync history" />
        <header class="page-header">
            <h1>"Inventory"</h1>
            <p class="lede">"Every sync, what it found and what changed since the one before."</p>
        </header>
        <InventoryTabs />
        <Show when=move || admin>
            <SyncButton done=Callback::new(move |()| syncs.refetch()) />
        </Show>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match syncs.await {
                    Ok(list) if list.is_empty() => view! { <div class="empty-state"><p>"No sync has run yet."</p></div> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap" tabindex="0" role="region" aria-label="Syncs">
                            <table class="data-table syncs-table">
                                <thead>
                                    <tr>
                                        <th scope="col">"Sync"</th>
                                        <th scope="col">"Started"</th>
                                        <th scope="col">"What"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col" class="num">"Servers found"</th>
                                        <th scope="col" class="num">"Added"</th>
                                        <th scope="col" class="num">"Removed"</th>
                                        <th scope="col" class="num">"Changed"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|s| {
                                        let num = |n: Option<i64>| n.map_or("—".to_string(), |n| n.to_string());
                                        view! {
                                            <tr>
                                                <td><A href=format!("/inventory/syncs?sync={}", s.id)>{format!("#{}", s.id)}</A></td>
                                                <td class="nowrap"><Timestamp at=s.started_at.clone() /></td>
                                                <td>
                                                    {if s.scope == SyncScope::Users { "Users: " } else { "Servers: " }}
                                                    {s.trigger.slug()}
                                                    {s.source.clone().map(|src| format!(" ({src})"))}
                                                </td>
                                                <td>
                                                    <span class=if s.status == SyncStatus::Failed { "badge badge-bad" } else { "badge" }>{s.status.slug()}</span>
                                                    {s.error.clone().map(|e| view! { <div class="sync-error">{e}</div> })}
                                                </td>
                                                <td class="num">{num(s.servers)}</td>
                                                <td class="num">{num(s.added)}</td>
                                                <td class="num">{num(s.removed)}</td>
                                                <td class="num">{num(s.changed)}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match changes.await {
                    Ok(Some(list)) => view! {
                        <section aria-labelledby="changes-heading">
                            <h2 id="changes-heading">{format!("Changes in sync #{}", selected().unwrap_or_default())}</h2>
                            {if list.is_empty() {
                                view! { <p>"Nothing changed."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="changes">
                                        {list.into_iter().map(|c| view! {
                                            <li class=format!("change change-{}", c.change)>
                                                <span class="badge">{c.change.clone()}</span>
                                                {format!(" {} {} ({})", c.kind, c.name, c.key)}
                                                {(!c.fields.is_empty()).then(|| view! {
                                                    <ul>{c.fields.into_iter().map(|f| view! { <li><code>{f}</code></li> }).collect_view()}</ul>
                                                })}
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </section>
                    }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

//! The users page: Postmark users with their per-server permissions, and the CSV import.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use super::{
    api::{inventory_users, ImportUsers},
    pages::InventoryTabs,
    ImportResult, UserFlag, UserList,
};
use crate::{
    components::{
        count::MatchCount,
        csv_upload::{CsvFileForm, RowErrors},
        filter::FilterForm,
        notice::ErrorNotice,
        viewer::is_admin,
    },
    error::AppError,
};

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        query.with(|q| {
            (
                q.get("search"),
                q.get("flag"),
                q.get("status"),
                q.get("sort"),
                q.get("page").and_then(|p| p.parse::<usize>().ok()),
            )
        })
    };
    let list = Resource::new(params, |(search, flag, status, sort, page)| {
        inventory_users(search, flag, status, sort, page)
    });
    let selected = move |key: &'static str, value: &'static str| {
        query.with(|q| q.get(key).unwrap_or_default() == value)
    };
    let admin = is_admin();
    view! {
        <Title text="Users" />
        <header class="page-header">
            <h1>"Inventory"</h1>
            <p class="lede">
                "Postmark users and their per-server permissions. Postmark has no user API: the list comes from a CSV export of the account's Users page, or from your users gateway."
            </p>
        </header>
        <InventoryTabs />
        <Show when=move || admin>
            <ImportForm done=Callback::new(move |()| list.refetch()) />
        </Show>
        <FilterForm action="/inventory/users">
            <label>
                "Search "
                <input type="search" name="search" placeholder="Email or name"
                    prop:value=move || query.with(|q| q.get("search").unwrap_or_default()) />
            </label>
            <label>
                "Status "
                <select name="status" prop:value=move || query.with(|q| q.get("status").unwrap_or_default())>
                    <option value="">"Any"</option>
                    <option value="active" selected=move || selected("status", "active")>"Active"</option>
                    <option value="pending" selected=move || selected("status", "pending")>"Pending invitation"</option>
                </select>
            </label>
            <label>
                "Flag "
                <select name="flag" prop:value=move || query.with(|q| q.get("flag").unwrap_or_default())>
                    <option value="">"Any"</option>
                    {UserFlag::ALL.into_iter().map(|f| view! {
                        <option value=f.slug() selected=move || selected("flag", f.slug())>{f.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Sort "
                <select name="sort" prop:value=move || query.with(|q| q.get("sort").unwrap_or_else(|| "email".to_string()))>
                    <option value="email">"Email"</option>
                    <option value="name" selected=move || selected("sort", "name")>"Name"</option>
                    <option value="servers" selected=move || selected("sort", "servers")>"Most servers"</option>
                </select>
            </label>
            <button type="submit" class="button-secondary">"Apply"</button>
        </FilterForm>
        <Suspense fallback=|| view! { <p class="loading">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <UserTable list /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The CSV import: the file is read in the browser and sent to the import function.
#[component]
fn ImportForm(done: Callback<()>) -> impl IntoView {
    let action = ServerAction::<ImportUsers>::new();
    Effect::new(move |_| {
        if let Some(Ok(ImportResult::Imported { .. })) = action.value().get() {
            done.run(());
        }
    });
    view! {
        <CsvFileForm
            label="Import users (CSV)"
            submit="Import"
            pending=action.pending()
            on_file=Callback::new(move |(file_name, csv)| {
                action.dispatch(ImportUsers { file_name, csv });
            })
        />
        {move || action.value().get().map(import_result_view)}
    }
}

fn import_result_view(result: Result<ImportResult, AppError>) -> AnyView {
    match result {
        Ok(ImportResult::Imported { sync_id, users, added, removed, changed }) => view! {
            <div class="notice notice-ok" role="status">
                <p>
                    {format!("Imported {users} users: {added} added, {removed} removed, {changed} changed. ")}
                    <A href=format!("/inventory/syncs?sync={sync_id}")>"See what changed"</A>
                </p>
            </div>
        }
        .into_any(),
        Ok(ImportResult::Rejected { errors, more }) => {
            view! { <RowErrors errors more /> }.into_any()
        }
        Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
    }
}

#[component]
fn UserTable(list: UserList) -> impl IntoView {
    let query = use_query_map();
    let page_href = move |page: usize| {
        let search = query.with(|q| q.get("search").unwrap_or_default());
        format!(
            "/inventory/users?search={}&page={page}",
            crate::urlenc::encode(&search, b"")
        )
    };
    let (page, pages) = (list.page, list.pages);
    if list.matching == 0 {
        let searched = query.with(|q| {
            ["search", "flag", "status"]
                .iter()
                .any(|k| q.get(k).is_some_and(|s| !s.trim().is_empty()))
        });
        let message = if searched {
            "No user matches this search or filter."
        } else {
            "No users yet. An admin imports them from a CSV file, or a sync brings them from the users gateway."
        };
        return view! { <div class="empty-state"><p>{message}</p></div> }.into_any();
    }
    view! {
        <MatchCount matching=list.matching one="user" many="users" page pages />
        <div class="table-wrap" tabindex="0" role="region" aria-label="Users">
            <table class="data-table users-table">
                <thead>
                    <tr>
                        <th scope="col">"User"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Servers and permission"</th>
                        <th scope="col">"First seen"</th>
                        <th scope="col">"Last seen"</th>
                        <th scope="col">"Flags"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.users.into_iter().map(|u| view! {
                        <tr>
                            <td>
                                <A href=format!("/inventory/users/{}", crate::urlenc::encode(&u.email, b"@+"))>
                                    <strong>{u.name}</strong>
                                </A>
                                <br />
                                <span class="muted">{u.email}</span>
                            </td>
                            <td>{u.role}</td>
                            <td>{u.status}{u.invited_at.map(|d| format!(" (invited {d})"))}</td>
                            <td>
                                {if u.permissions.is_empty() {
                                    view! { <span class="muted">"—"</span> }.into_any()
                                } else {
                                    view! { <ul class="plain">{u.permissions.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul> }.into_any()
                                }}
                            </td>
                            <td class="nowrap">{u.first_seen.get(..10).unwrap_or_default().to_string()}</td>
                            <td class="nowrap">{u.last_seen.get(..10).unwrap_or_default().to_string()}</td>
                            <td>{u.flags.into_iter().map(|f| view! { <span class="badge badge-warn">{f.label()}</span> }).collect_view()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {(page > 1).then(|| view! { <A href=page_href(page - 1)>"Previous page"</A> })}
            {(page < pages).then(|| view! { <A href=page_href(page + 1)>"Next page"</A> })}
        </nav>
    }
    .into_any()
}

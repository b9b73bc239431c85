//! The campaigns list, the manager mapping and the "new campaign" form.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::{
    api::{campaign_defaults, campaigns_list, managers_list, CampaignCreate, ManagersImport},
    form::CampaignFields,
    CampaignView, MappingResult, Status,
};
use crate::components::{
    csv_upload::{CsvFileForm, RowErrors},
    notice::ErrorNotice,
    progress::Progress,
    viewer::{is_admin, reads_campaigns},
};

pub fn status_badge(status: Status, signed_off: bool) -> impl IntoView {
    let class = match status {
        Status::Active => "badge badge-ok",
        Status::Draft | Status::Template => "badge",
        Status::Closed => "badge badge-muted",
    };
    let label = if signed_off {
        "Signed off"
    } else {
        status.label()
    };
    view! { <span class=class>{label}</span> }
}

/// What reviewers see on the admins' campaign pages.
#[component]
pub fn ForReviewers() -> impl IntoView {
    view! {
        <div class="notice notice-warn" role="note">
            <p>
                "Campaigns are run by admins and read by auditors. The items assigned to you are under "
                <A href="/reviews">"My reviews"</A>"."
            </p>
        </div>
    }
}

#[component]
pub fn CampaignsPage() -> impl IntoView {
    let header = view! {
        <Title text="Campaigns" />
        <header class="page-header">
            <h1>"Campaigns"</h1>
            <p class="lede">"Review campaigns: scope, reviewers, progress and close."</p>
        </header>
    };
    if !reads_campaigns() {
        return view! { {header} <ForReviewers /> }.into_any();
    }
    let list = Resource::new(|| (), |()| campaigns_list());
    let admin = is_admin();
    view! {
        {header}
        <p class="toolbar">
            <Show when=move || admin>
                <A href="/campaigns/new" attr:class="button">"New campaign"</A>
            </Show>
            <A href="/notifications">"Notifications"</A>
            <A href="/revocations">"Revocations"</A>
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading campaigns…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty-state" role="note">
                            <p>"No campaigns yet. An administrator creates one once the inventory is in place."</p>
                        </div>
                    }.into_any(),
                    Ok(list) => view! { <CampaignTable list /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Suspense>
        <ManagerMapping admin />
    }
    .into_any()
}

#[component]
fn CampaignTable(list: Vec<CampaignView>) -> impl IntoView {
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label="Campaigns">
            <table class="data-table campaigns-table">
                <thead>
                    <tr>
                        <th scope="col">"Campaign"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Starts"</th>
                        <th scope="col">"Due"</th>
                        <th scope="col">"Progress"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|c| {
                        let label = format!("Progress of {}", c.name);
                        view! {
                        <tr>
                            <td><A href=format!("/campaigns/{}", c.id)><strong>{c.name.clone()}</strong></A></td>
                            <td>{status_badge(c.status, c.signed_off_at.is_some())}</td>
                            <td class="nowrap">{c.starts_on.clone()}</td>
                            <td class="nowrap">{c.due_on.clone()}</td>
                            <td>
                                {match c.status {
                                    Status::Active | Status::Closed => view! {
                                        <Progress decided=c.decided items=c.items label=label.clone() />
                                    }.into_any(),
                                    Status::Template => view! {
                                        <span class="muted">{format!("Next draft on {}", c.next_run_on.clone().unwrap_or_default())}</span>
                                    }.into_any(),
                                    Status::Draft => view! { <span class="muted">"Not launched"</span> }.into_any(),
                                }}
                            </td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The manager mapping: its size, and the CSV import for admins.
#[component]
fn ManagerMapping(admin: bool) -> impl IntoView {
    let import = ServerAction::<ManagersImport>::new();
    let mapping = Resource::new(move || import.version().get(), |_| managers_list());
    view! {
        <section aria-labelledby="managers-heading" class="managers">
            <h2 id="managers-heading">"Manager mapping"</h2>
            <p class="muted">
                "A CSV file with the columns user_email and manager_email: items about a user go to their manager first. An import replaces the whole mapping."
            </p>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match mapping.await {
                        Ok(pairs) if pairs.is_empty() => view! { <p>"No mapping imported."</p> }.into_any(),
                        Ok(pairs) => view! {
                            <details>
                                <summary>{format!("{} people have a manager.", pairs.len())}</summary>
                                <ul class="plain mapping-list">
                                    {pairs.into_iter().map(|(user, manager)| view! { <li>{user}" → "{manager}</li> }).collect_view()}
                                </ul>
                            </details>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                    }
                })}
            </Suspense>
            <Show when=move || admin>
                <CsvFileForm
                    label="Import manager mapping (CSV)"
                    submit="Import mapping"
                    pending=import.pending()
                    on_file=Callback::new(move |(file_name, csv)| {
                        import.dispatch(ManagersImport { file_name, csv });
                    })
                />
            </Show>
            {move || import.value().get().map(|result| match result {
                Ok(MappingResult::Imported { rows, added, removed, changed, not_in_inventory }) => view! {
                    <div class="notice notice-ok" role="status">
                        <p>{format!(
                            "Imported {rows} rows: {added} added, {removed} removed, {changed} changed.{}",
                            if not_in_inventory > 0 {
                                format!(" {not_in_inventory} name people who are not Postmark users; they are kept for later.")
                            } else {
                                String::new()
                            }
                        )}</p>
                    </div>
                }.into_any(),
                Ok(MappingResult::Rejected { errors, more }) => view! { <RowErrors errors more /> }.into_any(),
                Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
            })}
        </section>
    }
}

#[component]
pub fn NewCampaignPage() -> impl IntoView {
    let defaults = Resource::new(|| (), |()| campaign_defaults());
    let create = ServerAction::<CampaignCreate>::new();
    view! {
        <Title text="New campaign" />
        <header class="page-header">
            <h1>"New campaign"</h1>
            <p class="lede">"Saved as a draft: preview who reviews what before launching it."</p>
        </header>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match defaults.await {
                    Ok(input) => view! {
                        <ActionForm action=create attr:class="campaign-form">
                            <CampaignFields input />
                            <button type="submit" class="button">"Save draft"</button>
                        </ActionForm>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                }
            })}
        </Suspense>
        {move || create.value().get().and_then(|result| result.err()).map(|error| view! {
            <ErrorNotice error needs="admins" />
        })}
    }
}

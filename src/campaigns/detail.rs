//! One campaign: a draft's settings, preview and launch; a launched campaign's dashboard and
//! close.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

use super::{
    api::{
        campaign_close, campaign_dashboard, campaign_get, campaign_launch, campaign_preview,
        campaign_remind, CampaignUpdate,
    },
    form::CampaignFields,
    item_list::{ItemList, ListContext},
    pages::{status_badge, ForReviewers},
    CampaignView, Dashboard, Preview, Status,
};
use crate::{
    components::{
        exports::ExportLinks,
        focus::focus_next_frame,
        handover::DelegateForm,
        notice::ErrorNotice,
        progress::Progress,
        suggestions::KnownPeople,
        time::Timestamp,
        viewer::{is_admin, reads_campaigns},
    },
    error::AppError,
    revocations::{
        page::{ApplyPanel, Fulfilment},
        Mode,
    },
    signoff::panel::SignoffPanel,
};

#[component]
pub fn CampaignPage() -> impl IntoView {
    if !reads_campaigns() {
        return view! {
            <Title text="Campaign" />
            <ForReviewers />
        }
        .into_any();
    }
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let reload = RwSignal::new(0u32);
    let campaign = Resource::new(
        move || (id(), reload.get()),
        |(id, _)| campaign_get(id.unwrap_or(-1)),
    );
    let changed = Callback::new(move |()| reload.update(|n| *n += 1));
    view! {
        <Title text="Campaign" />
        <p class="breadcrumb"><A href="/campaigns">"All campaigns"</A></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match campaign.await {
                    Ok(campaign) => view! { <Campaign campaign changed /> }.into_any(),
                    Err(AppError::NotFound) => view! {
                        <div class="notice notice-warn" role="alert"><p>"No such campaign."</p></div>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn Campaign(campaign: CampaignView, changed: Callback<()>) -> impl IntoView {
    let status = campaign.status;
    view! {
        <Title text=campaign.name.clone() />
        <header class="page-header">
            <h1>{campaign.name.clone()} " " {status_badge(status, campaign.signed_off_at.is_some())}</h1>
            <p class="lede">{campaign.description.clone()}</p>
            <p class="muted">
                {format!("From {} to {}. Undecided items at close: {}. Revocations run {}.", campaign.starts_on, campaign.due_on, campaign.default_outcome.label().to_lowercase(),
                    if campaign.revocation_mode == Mode::AtClose { "automatically at close" } else { "after an admin applies them" })}
                {campaign.closed_at.clone().map(|at| view! { " Closed " <Timestamp at /> {format!(" by {}.", campaign.closed_by.clone().unwrap_or_default())} })}
            </p>
        </header>
        {match status {
            Status::Draft | Status::Template => view! { <DraftView campaign changed /> }.into_any(),
            Status::Active | Status::Closed => view! {
                {(status == Status::Closed).then(|| view! { <SignoffPanel campaign_id=campaign.id changed /> })}
                <ExportLinks links=vec![
                    ("Decisions", format!("/exports/campaigns/{}/decisions.csv", campaign.id)),
                    ("Population at launch", format!("/exports/campaigns/{}/population.csv", campaign.id)),
                ] />
                <DashboardView id=campaign.id changed />
            }.into_any(),
        }}
    }
}

#[component]
fn DraftView(campaign: CampaignView, changed: Callback<()>) -> impl IntoView {
    let admin = is_admin();
    let id = campaign.id;
    let update = ServerAction::<CampaignUpdate>::new();
    let preview = Resource::new(
        move || update.version().get(),
        move |_| campaign_preview(id),
    );
    // Saved settings show in the heading too: reload the campaign.
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            changed.run(());
        }
    });
    let template = campaign.status == Status::Template;
    let input = campaign.input();
    view! {
        {template.then(|| view! {
            <div class="notice" role="note">
                <p>{format!(
                    "A recurring template: on {} it creates a draft for that quarter, then every three months.",
                    campaign.next_run_on.clone().unwrap_or_default()
                )}</p>
            </div>
        })}
        <section aria-labelledby="preview-heading">
            <h2 id="preview-heading">"Preview"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Working out who reviews what…"</p> }>
                {move || Suspend::new(async move {
                    match preview.await {
                        Ok(preview) => view! { <PreviewView preview admin=admin && !template changed /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        {admin.then(|| view! {
            <section aria-labelledby="settings-heading">
                <h2 id="settings-heading">"Settings"</h2>
                <ActionForm action=update attr:class="campaign-form">
                    <input type="hidden" name="id" value=id.to_string() />
                    <CampaignFields input=input.clone() editing=true />
                    <button type="submit" class="button-secondary">"Save changes"</button>
                </ActionForm>
                {move || update.value().get().map(|result| match result {
                    Ok(()) => view! { <p class="status-ok" role="status">"Saved. The preview above is up to date."</p> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                })}
            </section>
        })}
    }
}

#[component]
fn PreviewView(preview: Preview, admin: bool, changed: Callback<()>) -> impl IntoView {
    let id = preview.campaign.id;
    let launch = Action::new(move |(): &()| campaign_launch(id));
    let confirming = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(_)) = launch.value().get() {
            changed.run(());
        }
    });
    let blocked = !preview.unassigned.is_empty() || preview.items == 0;
    let summary = format!(
        "{} items for {} reviewers.",
        preview.items,
        preview.reviewers.len()
    );
    view! {
        {(!preview.auditor_reviewers.is_empty()).then(|| view! {
            <div class="notice notice-warn auditor-reviewers" role="note">
                <p>{format!(
                    "{} would review items but {} an auditor: auditors only read, so those items would never be decided. Change the reviewer rules.",
                    preview.auditor_reviewers.join(", "),
                    if preview.auditor_reviewers.len() == 1 { "is" } else { "are each" }
                )}</p>
            </div>
        })}
        {preview.stale_warning.clone().map(|w| view! {
            <div class="notice notice-warn stale-warning" role="alert"><p>{w}</p></div>
        })}
        <p class="preview-summary"><strong>{summary.clone()}</strong>
            {(preview.self_review_rerouted > 0).then(|| format!(
                " {} items would have gone to the person whose access it is; they go to the fallback reviewer.",
                preview.self_review_rerouted
            ))}
        </p>
        <div class="table-wrap" tabindex="0" role="region" aria-label="Preview">
            <table class="data-table preview-table">
                <thead>
                    <tr><th scope="col">"Reviewer"</th><th scope="col">"Items"</th><th scope="col">"By kind"</th></tr>
                </thead>
                <tbody>
                    {preview.reviewers.into_iter().map(|r| view! {
                        <tr>
                            <td>{r.reviewer}</td>
                            <td>{r.items}</td>
                            <td>{r.kinds.iter().map(|(k, n, _)| format!("{}: {n}", k.label())).collect::<Vec<_>>().join(" · ")}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <p class="muted">
            {preview.by_kind.iter().map(|(k, n)| format!("{}: {n}", k.label())).collect::<Vec<_>>().join(" · ")}
        </p>
        {(!preview.unassigned.is_empty()).then(|| view! {
            <div class="notice notice-error unassigned" role="alert">
                <p><strong>{format!("{} items have no reviewer. Change the reviewer rules before launching.", preview.unassigned.len())}</strong></p>
                <ul>
                    {preview.unassigned.into_iter().map(|u| view! { <li>{u.subject}": "{u.reason}</li> }).collect_view()}
                </ul>
            </div>
        })}
        {admin.then(|| view! {
            <div class="launch">
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button type="button" id="launch-open" class="button" disabled=blocked
                            on:click=move |_| { confirming.set(true); focus_next_frame("launch-confirm"); }>
                            "Launch…"
                        </button>
                    }
                >
                    <div class="confirm" role="group" aria-label="Confirm launch">
                        <p>{format!("Launch now? {summary} Reviewers can start at once; the settings can no longer change.")}</p>
                        <button type="button" id="launch-confirm" class="button" disabled=move || launch.pending().get()
                            on:click=move |_| { launch.dispatch(()); }>
                            "Launch campaign"
                        </button>
                        " "
                        <button type="button" class="button-secondary"
                            on:click=move |_| { confirming.set(false); focus_next_frame("launch-open"); }>"Cancel"</button>
                    </div>
                </Show>
                {move || launch.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error needs="admins" /> })}
            </div>
        })}
    }
}

#[component]
fn DashboardView(id: i64, changed: Callback<()>) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let dashboard = Resource::new(move || reload.get(), move |_| campaign_dashboard(id));
    let refresh = Callback::new(move |()| reload.update(|n| *n += 1));
    // Outlives the reloads a change causes, so its message stays on screen.
    let notice = RwSignal::new(None);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading progress…"</p> }>
            {move || Suspend::new(async move {
                match dashboard.await {
                    Ok(dashboard) => view! { <DashboardBody dashboard refresh changed notice /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DashboardBody(
    dashboard: Dashboard,
    refresh: Callback<()>,
    changed: Callback<()>,
    notice: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let admin = is_admin();
    let campaign = dashboard.campaign.clone();
    let open = campaign.status == Status::Active;
    let id = campaign.id;
    let close = Action::new(move |(): &()| campaign_close(id));
    let confirming = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(_)) = close.value().get() {
            changed.run(());
        }
    });
    let total = dashboard.approved + dashboard.revoked + dashboard.flagged + dashboard.undecided;
    // People's decisions only: a campaign closed with nobody deciding is not "100%".
    let decided = dashboard.by_reviewers + dashboard.by_admins;
    let decided_by = format!(
        "Decided by reviewers: {}; by admins: {}; by the default outcome at close: {}.",
        dashboard.by_reviewers, dashboard.by_admins, dashboard.by_default
    );
    let reviewers: Vec<String> = dashboard
        .reviewers
        .iter()
        .map(|r| r.reviewer.clone())
        .collect();
    let context = ListContext {
        campaign_id: id,
        open,
        admin,
        reviewers: reviewers.clone(),
        counts: (dashboard.undecided, dashboard.revoked, dashboard.flagged),
        notice,
        suggestions: (admin && open).then_some(SUGGESTIONS),
        refresh,
    };
    // The item list renders in the browser once the page is live: inside the dashboard's own
    // loading its filter form did not hydrate from the server's HTML (a reload broke the page).
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let undecided = dashboard.undecided;
    let outcome = campaign.default_outcome.label().to_lowercase();
    view! {
        <section aria-labelledby="progress-heading" class="dashboard">
            <h2 id="progress-heading">"Progress"</h2>
            <p class="big-progress"><Progress decided items=total label="Decided by people" /></p>
            <p class="decided-by">{decided_by}</p>
            <dl class="facts counts">
                <dt>"Approved"</dt><dd class="count-approved">{dashboard.approved}</dd>
                <dt>"To revoke"</dt><dd class="count-revoked">{dashboard.revoked}</dd>
                <dt>"Flagged for admin"</dt><dd class="count-flagged">{dashboard.flagged}</dd>
                <dt>"Undecided"</dt><dd class="count-undecided">{dashboard.undecided}</dd>
                {(campaign.status == Status::Closed).then(|| view! {
                    <dt>"Decided revoke"</dt><dd class="count-to-revoke">{dashboard.to_revoke}</dd>
                })}
            </dl>
            {(!dashboard.overdue.is_empty()).then(|| view! {
                <div class="notice notice-warn overdue" role="note">
                    <p><strong>"Overdue reviewers: "</strong>{dashboard.overdue.join(", ")}</p>
                    {admin.then(|| view! { <RemindButton id reviewer=None label="Remind every overdue reviewer" /> })}
                </div>
            })}
            {(!dashboard.unreachable.is_empty()).then(|| view! {
                <div class="notice notice-error unreachable" role="note">
                    <p>
                        <strong>"Unreachable by email: "</strong>{dashboard.unreachable.join(", ")}
                        ". Postmark refused their address; tell them another way, or hand their items on. "
                        <A href=format!("/notifications?campaign={}", campaign.id)>"Notifications"</A>
                    </p>
                </div>
            })}
            <p><A href=format!("/notifications?campaign={}", campaign.id)>"Emails sent for this campaign"</A></p>
            <h3>"By reviewer"</h3>
            <div class="table-wrap" tabindex="0" role="region" aria-label="Progress by reviewer">
                <table class="data-table reviewer-progress">
                    <thead><tr><th scope="col">"Reviewer"</th><th scope="col">"Decided"</th><th scope="col">"By kind"</th></tr></thead>
                    <tbody>
                        {dashboard.reviewers.into_iter().map(|r| view! {
                            <tr data-reviewer=r.reviewer.clone()>
                                <td>
                                    {r.reviewer.clone()}
                                    {(admin && open && r.decided < r.items).then(|| view! {
                                        <br /><RemindButton id reviewer=Some(r.reviewer.clone()) label="Remind now" />
                                    })}
                                </td>
                                <td><Progress decided=r.decided items=r.items label=format!("Progress of {}", r.reviewer) /></td>
                                <td>{r.kinds.iter().map(|(k, n, d)| format!("{}: {d}/{n}", k.label())).collect::<Vec<_>>().join(" · ")}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <h3>"By kind"</h3>
            <ul class="plain kind-progress">
                {dashboard.by_kind.into_iter().map(|(k, n, d)| view! {
                    <li>{k.label()}" " <Progress decided=d items=n label=format!("Progress of {}", k.label()) /></li>
                }).collect_view()}
            </ul>
        </section>
        {(admin && open).then(|| view! {
            <section aria-labelledby="close-heading" class="close-campaign">
                <h2 id="close-heading">"Close"</h2>
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button type="button" id="close-open" class="button"
                            on:click=move |_| { confirming.set(true); focus_next_frame("close-confirm"); }>"Close campaign…"</button>
                    }
                >
                    <div class="confirm" role="group" aria-label="Confirm close">
                        <p>{format!("Close now? {undecided} undecided items get the default outcome ({outcome}), every decision becomes final, and revoke decisions are queued for revocation.")}</p>
                        <button type="button" id="close-confirm" class="button" disabled=move || close.pending().get() on:click=move |_| { close.dispatch(()); }>"Close campaign"</button>
                        " "
                        <button type="button" class="button-secondary"
                            on:click=move |_| { confirming.set(false); focus_next_frame("close-open"); }>"Cancel"</button>
                    </div>
                </Show>
                {move || close.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error needs="admins" /> })}
            </section>
            <section aria-labelledby="delegate-heading">
                <h2 id="delegate-heading">"Hand a reviewer's queue on"</h2>
                <DelegateForm campaign_id=id reviewers suggestions=Some(SUGGESTIONS)
                    done=Callback::new(move |message: String| { notice.set(Some((true, message))); refresh.run(()); }) />
            </section>
            <KnownPeople id=SUGGESTIONS />
        })}
        {(!open).then(|| {
            let counts = dashboard.revocations.clone();
            let to_apply = dashboard.to_apply.clone();
            view! {
                <Fulfilment campaign_id=id counts />
                {(admin && !to_apply.is_empty()).then(|| view! {
                    <ApplyPanel campaign_id=id rows=to_apply changed=refresh />
                })}
            }
        })}
        {move || mounted.get().then(|| view! { <ItemList context=context.clone() /> })}
    }
}

/// The id of the dashboard's one list of people to hand items on to (rows share it).
const SUGGESTIONS: &str = "handover-suggestions";

/// Queues a reminder now: to one reviewer, or to every overdue one (`reviewer: None`).
#[component]
fn RemindButton(id: i64, reviewer: Option<String>, #[prop(into)] label: String) -> impl IntoView {
    let remind =
        Action::new(move |reviewer: &Option<String>| campaign_remind(id, reviewer.clone()));
    view! {
        <button type="button" class="button-secondary remind" disabled=move || remind.pending().get()
            on:click=move |_| { remind.dispatch(reviewer.clone()); }>
            {label}
        </button>
        " "
        <span class="remind-result" aria-live="polite">
            {move || remind.value().get().map(|result| match result {
                Ok(1) => view! { <span class="status-ok">"Reminder queued."</span> }.into_any(),
                Ok(n) => view! { <span class="status-ok">{format!("{n} reminders queued.")}</span> }.into_any(),
                Err(error) => view! { <span class="status-error">{error.to_string()}</span> }.into_any(),
            })}
        </span>
    }
}

//! "Offboarding": leavers and emergency removals with the state of each removal and the
//! deadline, and orphaned accounts. The user page uses [`IdentityFacts`] and
//! [`EmergencyRemoval`] from here.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::{
    api::{offboarding_login, offboarding_overview, offboarding_plan, OffboardingRemove},
    elapsed, Case, Origin, Orphan, Overview, Progress, Standing,
};
use crate::{
    components::{notice::ErrorNotice, time::Timestamp, viewer::is_admin},
    revocations::api::RevocationRetry,
};

#[component]
pub fn OffboardingPage() -> impl IntoView {
    // Removals move on in the background: "Refresh" reads the page again.
    let reload = RwSignal::new(0u32);
    let retry = ServerAction::<RevocationRetry>::new();
    let overview = Resource::new(
        move || (reload.get(), retry.version().get()),
        |_| offboarding_overview(),
    );
    view! {
        <Title text="Offboarding" />
        <header class="page-header">
            <h1>"Offboarding"</h1>
            <p class="lede">"People your identity provider deactivated or deleted, and emergency removals. Each Postmark login is removed at once through the users gateway (or by a person, through a task), and the next users sync proves it."</p>
        </header>
        <p class="toolbar">
            <A href="/inventory/users">"Users"</A>
            <button type="button" class="button-secondary refresh" on:click=move |_| reload.update(|n| *n += 1)>
                "Refresh"
            </button>
        </p>
        <div aria-live="polite">
            {move || retry.value().get().map(|result| match result {
                Ok(()) => view! { <div class="notice notice-ok"><p>"Queued to run again."</p></div> }.into_any(),
                Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
            })}
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <OverviewView overview retry /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn OverviewView(overview: Overview, retry: ServerAction<RevocationRetry>) -> impl IntoView {
    let deadline = overview.deadline.clone();
    let overdue = overview.cases.iter().filter(|c| c.overdue).count();
    view! {
        {(!overview.has_provider).then(|| view! {
            <div class="notice">
                <p>"No identity provider has pushed anyone yet, so leavers are not noticed by themselves. "
                    <A href="/settings/scim">"Connect one (SCIM provisioning)"</A>
                    ". Emergency removal works without one: open a user and choose \u{201c}Remove all access now\u{201d}."
                </p>
            </div>
        })}
        <section aria-labelledby="removals-heading">
            <h2 id="removals-heading">"Removals"</h2>
            <p class="muted">{format!("A removal not proved by a sync within {deadline} of the person leaving is flagged (PAR_OFFBOARDING_DEADLINE).")}</p>
            {(overdue > 0).then(|| view! {
                <div class="notice notice-warn offboarding-overdue" role="alert">
                    <p>{format!("{overdue} past the {deadline} deadline: see the flagged rows.")}</p>
                </div>
            })}
            {if overview.cases.is_empty() {
                view! { <p class="empty">"Nobody has left, and nobody was removed in an emergency."</p> }.into_any()
            } else {
                view! { <CasesTable cases=overview.cases deadline=deadline.clone() retry=Some(retry) /> }.into_any()
            }}
        </section>
        <section aria-labelledby="orphans-heading">
            <h2 id="orphans-heading">"Orphaned accounts"</h2>
            <p class="muted">"Postmark logins that no active person at a connected identity provider claims (matched by email)."</p>
            {if overview.orphans.is_empty() {
                view! { <p class="empty">"None."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="data-table orphans stack-narrow">
                            <thead>
                                <tr>
                                    <th scope="col">"Login"</th>
                                    <th scope="col">"Role"</th>
                                    <th scope="col">"At the identity provider"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {overview.orphans.into_iter().map(|orphan| view! { <OrphanRow orphan /> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

fn progress_badge(progress: Progress) -> &'static str {
    match progress {
        Progress::Verified => "badge badge-ok",
        Progress::Failed => "badge badge-bad",
        Progress::NeedsPerson => "badge badge-warn",
        _ => "badge",
    }
}

/// Removals, one row each (the Offboarding page, and a user's page without `retry`).
#[component]
fn CasesTable(
    cases: Vec<Case>,
    deadline: String,
    retry: Option<ServerAction<RevocationRetry>>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="data-table offboarding-cases stack-narrow">
                <thead>
                    <tr>
                        <th scope="col">"Person"</th>
                        <th scope="col">"Why"</th>
                        <th scope="col">"Since"</th>
                        <th scope="col">"State"</th>
                    </tr>
                </thead>
                <tbody>
                    {cases.into_iter().map(|case| view! { <CaseRow case deadline=deadline.clone() retry /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Who the row is about: a link to their user page while the inventory lists them.
fn person_cell(case: &Case) -> impl IntoView {
    let shown = case.name.clone().unwrap_or_else(|| case.email.clone());
    let email = (shown != case.email).then(|| case.email.clone());
    let link = case
        .in_inventory
        .then(|| format!("/inventory/users/{}", case.email));
    view! {
        {match link {
            Some(href) => view! { <A href=href>{shown}</A> }.into_any(),
            None => view! { <span>{shown}</span> }.into_any(),
        }}
        {email.map(|e| view! { <br /><span class="muted">{e}</span> })}
    }
}

/// One removal; `retry` (admins on the Offboarding page) offers "Retry" on a failed one.
#[component]
fn CaseRow(
    case: Case,
    deadline: String,
    retry: Option<ServerAction<RevocationRetry>>,
) -> impl IntoView {
    let time = if case.progress == Progress::Verified {
        format!("done in {}", elapsed(case.minutes))
    } else {
        format!("{} ago", elapsed(case.minutes))
    };
    let id = case.id;
    let retry = retry.filter(|_| is_admin() && case.progress == Progress::Failed);
    let why_by = (case.origin == Origin::Emergency).then(|| format!("by {}", case.started_by));
    view! {
        <tr data-revocation-id=case.id.to_string() class:overdue=case.overdue>
            <td data-label="Person">{person_cell(&case)}</td>
            <td data-label="Why" class="break">
                {case.origin.label()}
                <br /><span class="muted">{case.reason.clone()}</span>
                {why_by.map(|by| view! { <br /><span class="muted">{by}</span> })}
            </td>
            <td data-label="Since">
                <Timestamp at=case.since.clone() />
                <br /><span class="muted">{time}</span>
            </td>
            <td data-label="State" class="break">
                <span class=progress_badge(case.progress)>{case.progress.label()}</span>
                {case.overdue.then(|| view! {
                    <span class="badge badge-bad deadline-flag">{format!("Past the {deadline} deadline")}</span>
                })}
                {case.last_error.clone().map(|e| view! { <br /><span class="muted">{e}</span> })}
                {case.task_id.map(|t| view! { <br /><A href=format!("/tasks/{t}")>{format!("Task #{t}")}</A> })}
                {(case.progress == Progress::Failed).then(|| view! {
                    <br /><span class="muted">"The access is still there: retry, or remove the login by hand in Postmark; the next users sync proves it either way."</span>
                })}
                {retry.map(|retry| view! {
                    <br />
                    <button type="button" class="button-secondary retry-removal" disabled=move || retry.pending().get()
                        on:click=move |_| { retry.dispatch(RevocationRetry { id }); }>
                        "Retry"
                    </button>
                })}
                <br /><span class="muted">{format!("Revocation #{}", case.id)}</span>
            </td>
        </tr>
    }
}

#[component]
fn OrphanRow(orphan: Orphan) -> impl IntoView {
    view! {
        <tr>
            <td data-label="Login">
                <A href=format!("/inventory/users/{}", orphan.email)>{orphan.name.clone()}</A>
                <br /><span class="muted">{orphan.email.clone()}</span>
            </td>
            <td data-label="Role">{orphan.role.clone()}</td>
            <td data-label="At the identity provider">{orphan.standing.describe()}</td>
        </tr>
    }
}

/// The login's standing with the identity providers, for the user page.
#[component]
pub fn IdentityFacts(email: String) -> impl IntoView {
    let login = Resource::new(move || email.clone(), offboarding_login);
    view! {
        <h3>"Identity provider"</h3>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match login.await {
                    Ok(login) => {
                        let standing = login.standing;
                        let deadline = login.deadline;
                        let orphaned = standing.is_orphaned();
                        let label = match &standing {
                            Standing::Left { .. } => Some("Orphaned: the person left"),
                            Standing::Unknown => Some("Orphaned: unknown at the provider"),
                            _ => None,
                        };
                        view! {
                            <p class="identity-standing">
                                {label.map(|l| view! { <span class="badge badge-warn">{l}</span>" " })}
                                {standing.describe()}
                                {orphaned.then(|| view! { " " <A href="/offboarding">"Offboarding"</A> })}
                            </p>
                            {(!login.groups.is_empty() || login.last_change.is_some()).then(|| view! {
                                <dl class="facts identity-groups">
                                    <dt>"Groups at the provider"</dt>
                                    <dd>{if login.groups.is_empty() { "None".to_string() } else { login.groups.join(", ") }}</dd>
                                    <dt>"Last change"</dt>
                                    <dd>{login.last_change.clone().map(|at| view! { <Timestamp at /> })}</dd>
                                </dl>
                            })}
                            {(!login.cases.is_empty()).then(|| view! {
                                <h3>{format!("Removals outside campaigns ({})", login.cases.len())}</h3>
                                <CasesTable cases=login.cases deadline=deadline.clone() retry=None />
                            })}
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// "Remove all access now…": the plan, a reason, and the confirmation (admins).
#[component]
pub fn EmergencyRemoval(email: String) -> impl IntoView {
    if !is_admin() {
        return ().into_any();
    }
    let open = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let remove = ServerAction::<OffboardingRemove>::new();
    let plan_email = email.clone();
    let plan = Resource::new(
        move || open.get().then(|| plan_email.clone()),
        |email| async move {
            match email {
                Some(email) => offboarding_plan(email).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let reason_ref = NodeRef::<leptos::html::Textarea>::new();
    // Once started, the plan closes: what remains is the confirmation and its link.
    Effect::new(move |_| {
        if let Some(Ok(_)) = remove.value().get() {
            open.set(false);
            reason.set(String::new());
        }
    });
    view! {
        <section class="emergency-removal" aria-labelledby="emergency-heading">
            <h3 id="emergency-heading">"Emergency removal"</h3>
            {move || (!open.get()).then(|| view! {
                <button type="button" class="button-danger" on:click=move |_| open.set(true)>
                    "Remove all access now…"
                </button>
            })}
            {move || open.get().then(|| {
                let email = email.clone();
                view! {
                    <Suspense fallback=|| view! { <p class="loading">"Working out what will happen…"</p> }>
                        {move || {
                            let email = email.clone();
                            Suspend::new(async move {
                                match plan.await {
                                    Ok(Some(plan)) => view! {
                                        <div class="removal-plan">
                                            <p>{format!("What happens to {} ({}, {}):", plan.name, plan.email, plan.role)}</p>
                                            <ul class="plan-steps">
                                                {plan.steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}
                                            </ul>
                                            {(!plan.permissions.is_empty()).then(|| view! {
                                                <p>{format!("Server permissions that go with it ({}):", plan.permissions.len())}</p>
                                                <ul>{plan.permissions.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                                            })}
                                            {plan.open_case.map(|id| view! {
                                                <p class="notice notice-warn">{format!("A removal is already under way (revocation {id}).")}</p>
                                            })}
                                        </div>
                                        <label class="stacked">
                                            "Why (kept in the audit log)"
                                            <textarea node_ref=reason_ref class="removal-reason" rows="2" maxlength="500" prop:value=move || reason.get()
                                                on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                                        </label>
                                        <p class="actions">
                                            <button type="button" class="button-danger confirm-removal" disabled=move || remove.pending().get()
                                                on:click={
                                                    let email = email.clone();
                                                    move |_| { remove.dispatch(OffboardingRemove { email: email.clone(), reason: reason.get_untracked() }); }
                                                }>
                                                "Remove all access now"
                                            </button>
                                            " "
                                            <button type="button" class="button-secondary" on:click=move |_| { open.set(false); remove.value().set(None); }>"Keep it"</button>
                                        </p>
                                    }.into_any(),
                                    Ok(None) => ().into_any(),
                                    Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                                }
                            })
                        }}
                    </Suspense>
                }
            })}
            <div aria-live="polite">
                {move || remove.value().get().map(|result| match result {
                    Ok(id) => view! {
                        <div class="notice notice-ok removal-started">
                            <p>{format!("Removal started (revocation {id}). ")}<A href="/offboarding">"Follow it on the Offboarding page"</A></p>
                        </div>
                    }.into_any(),
                    Err(error) => {
                        if let Some(field) = reason_ref.get_untracked() {
                            let _ = field.focus();
                        }
                        view! { <ErrorNotice error needs="admins" /> }.into_any()
                    }
                })}
            </div>
        </section>
    }
    .into_any()
}

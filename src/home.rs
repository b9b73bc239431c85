//! The start page: what a review is, for a visitor; what waits, for a signed-in person.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    admin_attention::NeedsAnAdmin,
    auth::{Role, Viewer},
    components::{notice::ErrorNotice, shell::Audience, viewer::viewer},
    reviews::{api::my_open_reviews, QueueCampaign},
};

/// The review cycle, in the order it happens.
const STEPS: [(&str, &str); 5] = [
    (
        "Inventory",
        "Servers come from Postmark's Account API; users and their per-server permissions from a \
         CSV import or your users gateway. Every sync is a snapshot with a diff.",
    ),
    (
        "Campaign",
        "An administrator scopes a review and launches it. Each manager or server owner gets a \
         link to their own queue.",
    ),
    (
        "Decisions",
        "Reviewers approve or revoke each access, with a justification where it matters. Nobody \
         reviews their own access.",
    ),
    (
        "Revocation",
        "Revocations are carried out against Postmark by a durable worker, or as verified manual \
         tasks, and a later sync proves they took effect.",
    ),
    (
        "Evidence",
        "Every step lands in a hash-chained audit log; the signed-off campaign carries a signature \
         an auditor can verify offline.",
    ),
];

#[component]
pub fn Home() -> impl IntoView {
    match viewer() {
        Some(viewer) => view! { <Welcome viewer /> }.into_any(),
        None => view! { <Landing /> }.into_any(),
    }
}

/// The start page of a signed-in person: what waits for their decision first, then the
/// sections they may open.
#[component]
fn Welcome(viewer: Viewer) -> impl IntoView {
    let first = viewer
        .name
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    let fulfils = viewer.reads_tasks();
    let staff = Audience::Staff.includes(&viewer);
    // Auditors only read: no queue of their own to point at.
    let decides = Audience::Deciders.includes(&viewer);
    let admin = viewer.has(Role::Admin);
    let reviews = Resource::new(|| (), |_| my_open_reviews());
    view! {
        <Title text="" />
        <section class="hero">
            <h1>{format!("Welcome, {first}")}</h1>
            <p class="lede">
                {format!("You are signed in as {} ({}).", viewer.email, viewer.role_label())}
            </p>
        </section>
        {decides.then(|| view! {
        <section aria-labelledby="waiting-heading" class="waiting">
            <h2 id="waiting-heading">"Waiting for your decision"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match reviews.await {
                        Ok(campaigns) => waiting(campaigns).into_any(),
                        Err(error) => view! { <ErrorNotice error needs="" /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        })}
        {admin.then(|| view! { <NeedsAnAdmin /> })}
        <ul class="tiles">
            {decides.then(|| view! {
                <li><A href="/reviews"><strong>"My reviews"</strong><span>"Accesses waiting for your decision"</span></A></li>
            })}
            {staff.then(|| view! {
                <li><A href="/campaigns"><strong>"Campaigns"</strong><span>"Review campaigns and their progress"</span></A></li>
                <li><A href="/inventory"><strong>"Inventory"</strong><span>"Postmark users, permissions and servers"</span></A></li>
                <li><A href="/audit"><strong>"Audit"</strong><span>"The hash-chained log of every change"</span></A></li>
            })}
            {fulfils.then(|| view! {
                <li><A href="/tasks"><strong>"Tasks"</strong><span>"Revocations to make by hand in Postmark"</span></A></li>
            })}
        </ul>
    }
}

/// Each open campaign with undecided items: how many are left, the due date, a way in.
fn waiting(campaigns: Vec<QueueCampaign>) -> impl IntoView {
    let open: Vec<QueueCampaign> = campaigns
        .into_iter()
        .filter(|c| c.decided < c.items)
        .collect();
    if open.is_empty() {
        return view! { <p class="empty-state">"Nothing waits for your decision."</p> }.into_any();
    }
    view! {
        <ul class="waiting-list">
            {open.into_iter().map(|c| {
                let left = c.items - c.decided;
                let href = format!("/reviews?campaign={}", c.id);
                let label = format!("Start reviewing {}", c.name);
                view! {
                    <li class="waiting-campaign">
                        <div>
                            <strong>{c.name.clone()}</strong>
                            <span class="muted">
                                {format!(" {left} of {} undecided, due {}", c.items, c.due_on)}
                            </span>
                        </div>
                        <A href=href attr:class="button" attr:aria-label=label>"Start"</A>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// The start page a signed-out visitor sees.
#[component]
fn Landing() -> impl IntoView {
    view! {
        <Title text="" />
        <section class="hero">
            <h1>"Quarterly access reviews for your Postmark account"</h1>
            <p class="lede">
                "Who can send as your company, read your message streams or change your webhooks? "
                "Postmark has no user API and no SCIM, so reviewing that access usually means "
                "spreadsheets. This tool runs the review end to end and keeps evidence an auditor trusts."
            </p>
            <p>
                <a class="button" href="/auth/login" rel="external">
                    "Sign in with your company account"
                </a>
            </p>
        </section>
        <section aria-labelledby="how-heading">
            <h2 id="how-heading">"How a review works"</h2>
            <ol class="steps">
                {STEPS
                    .into_iter()
                    .map(|(title, text)| {
                        view! {
                            <li class="step">
                                <h3>{title}</h3>
                                <p>{text}</p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
        <section class="roles" aria-labelledby="roles-heading">
            <h2 id="roles-heading">"Who uses it"</h2>
            <dl>
                <dt>"Administrators"</dt>
                <dd>"connect Postmark, sync the inventory, launch and close campaigns, sign them off."</dd>
                <dt>"Reviewers"</dt>
                <dd>"managers and server owners who approve or revoke the access assigned to them."</dd>
                <dt>"Auditors"</dt>
                <dd>"read campaigns and the audit log, and verify sign-offs offline."</dd>
            </dl>
        </section>
    }
}

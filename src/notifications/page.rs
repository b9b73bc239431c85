//! "Notifications": every email the application queued, with its status, attempts and last
//! error, and a preview with the link's token left out; admins resend. In the demo, "Inbox"
//! shows what the simulated Postmark received for the signed-in person.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use super::{
    api::{demo_inbox, notifications_list, NotificationResend, NotificationWithdrawLink, Outbox},
    NotificationView, Status,
};
use crate::components::{
    filter::{FilterForm, FilterSelect},
    notice::ErrorNotice,
    time::Timestamp,
    viewer::is_admin,
};

fn status_badge(n: &NotificationView) -> impl IntoView {
    let (class, text) = match (n.status, n.permanent) {
        (Status::Sent, _) => ("badge badge-ok", "Sent".to_string()),
        (Status::Failed, true) => ("badge badge-bad", "Unreachable".to_string()),
        (Status::Failed, false) => ("badge badge-bad", "Failed".to_string()),
        (Status::Skipped, _) => ("badge badge-muted", "Not sent".to_string()),
        (Status::Queued | Status::Sending, _) if n.attempts > 0 => (
            "badge badge-warn",
            format!("Retrying ({} tries)", n.attempts),
        ),
        (Status::Queued | Status::Sending, _) => ("badge", "Queued".to_string()),
    };
    view! { <span class=class>{text}</span> }
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let query = use_query_map();
    let resend = ServerAction::<NotificationResend>::new();
    let withdraw = ServerAction::<NotificationWithdrawLink>::new();
    let list = Resource::new(
        move || {
            (
                query.with(|q| q.get("campaign").and_then(|c| c.parse::<i64>().ok())),
                query.with(|q| q.get("status").filter(|s| !s.is_empty())),
                resend.version().get() + withdraw.version().get(),
            )
        },
        |(campaign, status, _)| notifications_list(campaign, status),
    );
    let admin = is_admin();
    view! {
        <Title text="Notifications" />
        <header class="page-header">
            <h1>"Notifications"</h1>
            <p class="lede">"Every email sent to reviewers: review requests at launch, hand-overs, reminders. Links in them are not shown here: only the recipient's email holds one."</p>
        </header>
        <p><A href="/campaigns">"Campaigns"</A>" · "<A href="/inbox">"Inbox (demo)"</A></p>
        <div class="queue-live" aria-live="polite">
            {move || resend.value().get().map(|result| match result {
                Ok(()) => view! { <div class="notice notice-ok"><p>"A new email is queued; sending it replaces the reviewer's link."</p></div> }.into_any(),
                Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
            })}
            {move || withdraw.value().get().map(|result| match result {
                Ok(n) => view! { <div class="notice notice-ok"><p>{format!("{n} links withdrawn: they now open a page saying so.")}</p></div> }.into_any(),
                Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
            })}
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading notifications…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(outbox) => view! { <OutboxView outbox admin resend withdraw /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn OutboxView(
    outbox: Outbox,
    admin: bool,
    resend: ServerAction<NotificationResend>,
    withdraw: ServerAction<NotificationWithdrawLink>,
) -> impl IntoView {
    view! {
        {(!outbox.mail_enabled).then(|| view! {
            <div class="notice notice-warn" role="note">
                <p>"Mail is off: no Postmark server token is configured (PAR_POSTMARK_SERVER_TOKEN), so emails wait in the queue below until one is."</p>
            </div>
        })}
        <FilterForm action="/notifications">
            <FilterSelect label="Campaign" param="campaign"
                options=outbox.campaigns.iter().map(|(id, name)| (id.to_string(), name.clone())).collect() />
            <FilterSelect label="Status" param="status"
                options=Status::ALL.iter().map(|s| (s.slug().to_string(), s.label().to_string())).collect() />
            <button type="submit" class="button-secondary">"Apply"</button>
        </FilterForm>
        <p class="count">{format!("{} emails (newest first).", outbox.notifications.len())}</p>
        <div class="table-wrap" tabindex="0" role="region" aria-label="Notifications">
            <table class="data-table notifications-table">
                <thead>
                    <tr>
                        <th scope="col">"Queued"</th>
                        <th scope="col">"To"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Campaign"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Email"</th>
                    </tr>
                </thead>
                <tbody>
                    {outbox.notifications.into_iter().map(|n| {
                        let id = n.id;
                        let resendable = admin
                            && n.campaign_id.is_some()
                            && n.kind.has_link()
                            && n.status != Status::Skipped;
                        view! {
                            <tr data-notification-id=id.to_string()>
                                <td class="nowrap"><Timestamp at=n.created_at.clone() /></td>
                                <td>{n.recipient.clone()}</td>
                                <td>{n.kind.label()}</td>
                                <td>{n.campaign_name.clone().unwrap_or_default()}</td>
                                <td>
                                    {status_badge(&n)}
                                    <br /><span class="muted">{format!("{} attempts", n.attempts)}</span>
                                    {n.sent_at.clone().map(|at| view! { <br /><span class="muted">"Sent " <Timestamp at /></span> })}
                                    {n.last_error.clone().map(|e| view! { <br /><span class="muted">{e}</span> })}
                                    {resendable.then(|| view! {
                                        <br />
                                        <button type="button" class="button-secondary resend"
                                            disabled=move || resend.pending().get()
                                            on:click=move |_| { resend.dispatch(NotificationResend { id }); }>
                                            "Resend"
                                        </button>
                                        " "
                                        <button type="button" class="button-secondary withdraw"
                                            disabled=move || withdraw.pending().get()
                                            on:click=move |_| { withdraw.dispatch(NotificationWithdrawLink { id }); }>
                                            "Withdraw link"
                                        </button>
                                    })}
                                </td>
                                <td>
                                    {n.preview.clone().map(|p| view! {
                                        <details><summary>"Preview"</summary><pre class="email-preview">{p}</pre></details>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The link in an email's text, if it has one, and what to call its button: a review link,
/// or a fulfilment task's page.
fn email_link(text: &str) -> Option<(String, &'static str)> {
    text.split_whitespace()
        .filter(|word| word.starts_with("http"))
        .find_map(|word| {
            let label = if word.contains("/r/") {
                "Open the review link"
            } else if word.contains("/tasks/") {
                "Open the task"
            } else {
                return None;
            };
            Some((
                word.trim_end_matches(['.', ',', ')', '>']).to_string(),
                label,
            ))
        })
}

/// The demo's inbox: emails the simulated Postmark received for the signed-in person, with
/// their links, so a demo person can follow their own.
#[component]
pub fn InboxPage() -> impl IntoView {
    let emails = Resource::new(|| (), |()| demo_inbox());
    view! {
        <Title text="Inbox" />
        <header class="page-header">
            <h1>"Inbox"</h1>
            <p class="lede">"Demo only: the emails the simulated Postmark received for you. In a real deployment they arrive in your mailbox."</p>
        </header>
        <Suspense fallback=|| view! { <p class="loading">"Loading your emails…"</p> }>
            {move || Suspend::new(async move {
                match emails.await {
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty-state"><p>"No emails for you yet."</p></div>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="plain inbox">
                            {list.into_iter().map(|email| {
                                let link = email_link(&email.text);
                                view! {
                                    <li class="inbox-email">
                                        <h2>{email.subject}</h2>
                                        {link.map(|(href, label)| view! {
                                            <p><a class="inbox-link button" href=href rel="external">{label}</a></p>
                                        })}
                                        <pre class="email-text">{email.text}</pre>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="the demo" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

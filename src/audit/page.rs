//! The audit page: the log, newest first, and a button that verifies the chain.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    api::{audit_events, AuditEventView, ChainStatus, VerifyChain},
    signing_page::SigningPanel,
};
use crate::{
    components::{exports::AuditExportForm, notice::ErrorNotice},
    error::AppError,
};

#[component]
pub fn AuditPage() -> impl IntoView {
    let before = RwSignal::new(None::<i64>);
    let page = Resource::new(move || before.get(), audit_events);
    let verify = ServerAction::<VerifyChain>::new();

    view! {
        <Title text="Audit" />
        <header class="page-header">
            <h1>"Audit"</h1>
            <p class="lede">
                "Every change, in order, in a hash-chained log. Each event's hash covers its content and the hash before it, so an edited, removed or reordered event breaks the chain."
            </p>
        </header>
        <div class="toolbar">
            <button
                type="button"
                class="button"
                on:click=move |_| {
                    verify.dispatch(VerifyChain {});
                }
                disabled=move || verify.pending().get()
            >
                {move || if verify.pending().get() { "Verifying…" } else { "Verify chain" }}
            </button>
            <div class="verify-result" aria-live="polite">
                {move || verify.value().get().map(chain_status_view)}
            </div>
        </div>
        <SigningPanel />
        <h2>"Events"</h2>
        <AuditExportForm />
        <Suspense fallback=|| view! { <p class="loading">"Loading the audit log…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(log) => {
                        let older = log.older;
                        let newest_shown = before.get().is_some();
                        view! {
                            <p class="count">{format!("{} in the log", events_label(log.total))}</p>
                            <EventTable events=log.events />
                            <nav class="pager" aria-label="Audit log pages">
                                <Show when=move || newest_shown>
                                    <button type="button" class="button-secondary" on:click=move |_| before.set(None)>
                                        "Newest events"
                                    </button>
                                </Show>
                                {older.map(|seq| view! {
                                    <button type="button" class="button-secondary" on:click=move |_| before.set(Some(seq))>
                                        "Older events"
                                    </button>
                                })}
                            </nav>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn chain_status_view(result: Result<ChainStatus, AppError>) -> AnyView {
    match result {
        Ok(status) if status.intact => view! {
            <p class="status-ok">
                {format!(
                    "Chain intact: {}, agreeing with {} signed checkpoint(s). Head {}",
                    events_label(i64::try_from(status.events).unwrap_or(i64::MAX)),
                    status.checkpoints,
                    status.head.as_deref().unwrap_or("(empty log)"),
                )}
            </p>
        }
        .into_any(),
        Ok(status) => view! {
            <p class="status-bad">
                {format!("Chain BROKEN: {}", status.problem.unwrap_or_default())}
            </p>
        }
        .into_any(),
        Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
    }
}

#[component]
fn EventTable(events: Vec<AuditEventView>) -> impl IntoView {
    if events.is_empty() {
        return view! { <div class="empty-state"><p>"No events yet."</p></div> }.into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label="Audit events">
            <table class="data-table audit-table">
                <thead>
                    <tr>
                        <th scope="col">"#"</th>
                        <th scope="col">"Time (UTC)"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Subject"</th>
                        <th scope="col">"Details"</th>
                        <th scope="col">"Hash"</th>
                    </tr>
                </thead>
                <tbody>
                    {events
                        .into_iter()
                        .map(|e| {
                            let short = e.hash.chars().take(12).collect::<String>();
                            view! {
                                <tr>
                                    <td class="num">{e.seq}</td>
                                    <td class="nowrap">{e.occurred_at}</td>
                                    <td>{e.actor}</td>
                                    <td><code>{e.action}</code></td>
                                    <td>{e.subject}</td>
                                    <td><code class="details">{e.details}</code></td>
                                    <td><code title=e.hash>{short}</code></td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

fn events_label(n: i64) -> String {
    if n == 1 {
        "1 event".to_string()
    } else {
        format!("{n} events")
    }
}

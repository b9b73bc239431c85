//! The audit page: the log, newest first, searched and paged through the address (so a
//! filtered view can be linked and the back button works), and a button that verifies the
//! chain.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use super::{
    api::{audit_actions, audit_events, ChainStatus, VerifyChain},
    details::EventDetails,
    search::{AuditEventView, AuditLogPage, AuditQuery, Matching, MAX_INPUT},
    signing_page::SigningPanel,
};
use crate::{
    components::{
        exports::AuditExportForm, filter::FilterForm, notice::ErrorNotice, time::Timestamp,
    },
    error::AppError,
};

#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|q| AuditQuery::from_params(|name| q.get(name))));
    let page = Resource::new(move || query.get(), audit_events);
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
        <h2 id="events-heading">"Events"</h2>
        <SearchForm />
        // One region for the whole life of the page, so screen readers announce each new count.
        <p class="count" role="status" aria-live="polite">
            <Transition fallback=|| "Loading the audit log…">
                {move || Suspend::new(async move {
                    page.await.ok().map(|log| count_text(&log))
                })}
            </Transition>
        </p>
        <EventsResult page query />
        <h3>"Download as CSV"</h3>
        <AuditExportForm />
    }
}

/// The filter form: a GET form the router turns into a new address, dropping the page.
#[component]
fn SearchForm() -> impl IntoView {
    let params = use_query_map();
    let value = move |name: &'static str| move || params.with(|q| q.get(name).unwrap_or_default());
    let actions = Resource::new(|| (), |()| audit_actions());
    let max = MAX_INPUT.to_string();
    view! {
        <FilterForm action="/audit" class="audit-filters" label="Search the audit log">
            <label>
                "Actor "
                <input type="search" name="actor" id="audit-actor" maxlength=max.clone()
                    placeholder="email or system:…" prop:value=value("actor") />
            </label>
            <label>
                "Action "
                <input type="text" name="action" id="audit-action" list="audit-actions" maxlength=max.clone()
                    placeholder="exact, or prefix like campaign." prop:value=value("action") />
            </label>
            <datalist id="audit-actions">
                <Transition>
                    {move || Suspend::new(async move {
                        actions.await.unwrap_or_default().into_iter()
                            .map(|a| view! { <option value=a.clone()></option> })
                            .collect_view()
                    })}
                </Transition>
            </datalist>
            <label>
                "Subject "
                <input type="text" name="subject" id="audit-subject" maxlength=max.clone()
                    placeholder="campaign:12 or campaign:*" prop:value=value("subject") />
            </label>
            <label>
                "From (UTC) "
                <input type="date" name="from" id="audit-from" prop:value=value("from") />
            </label>
            <label>
                "To (UTC, inclusive) "
                <input type="date" name="to" id="audit-to" prop:value=value("to") />
            </label>
            <label>
                "Search "
                <input type="search" name="q" id="audit-q" maxlength=max
                    placeholder="action, subject or actor" prop:value=value("q") />
            </label>
            <button type="submit" class="button-secondary">"Apply"</button>
            <A href="/audit" attr:class="clear-filters">"Clear"</A>
        </FilterForm>
    }
}

/// The table and the pager; a refused filter is explained next to the form while the last
/// good result stays in place.
#[component]
fn EventsResult(
    page: Resource<Result<AuditLogPage, AppError>>,
    query: Memo<AuditQuery>,
) -> impl IntoView {
    let shown = StoredValue::new(None::<(AuditLogPage, AuditQuery)>);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading the audit log…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(log) => {
                        let filters = query.get_untracked();
                        shown.set_value(Some((log.clone(), filters.clone())));
                        view! { <EventTable log filters /> }.into_any()
                    }
                    Err(AppError::Validation(message)) => {
                        let previous = shown
                            .get_value()
                            .map(|(log, filters)| view! { <EventTable log filters /> });
                        view! {
                            <div class="notice notice-error" role="alert">
                                <p>{message}</p>
                            </div>
                            {previous}
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn count_text(log: &AuditLogPage) -> String {
    let total = events_label(log.total);
    match log.matching {
        None => format!("{total} in the log, newest first."),
        Some(Matching::Exactly(n)) => {
            format!("{} matching, of {total} in the log.", events_label(n))
        }
        Some(Matching::AtLeast(n)) => format!("More than {n} events match, of {total} in the log."),
        Some(Matching::Unknown) => {
            format!("Matching events, newest first (not counted), of {total} in the log.")
        }
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
fn EventTable(log: AuditLogPage, filters: AuditQuery) -> impl IntoView {
    let pager = view! {
        <nav class="pager" aria-label="Audit log pages">
            {(!log.newest).then(|| view! { <A href=filters.href(None)>"Newest"</A> })}
            {log.newer.map(|seq| view! { <A href=filters.href(Some(("after", seq)))>"Newer"</A> })}
            {log.older.map(|seq| view! { <A href=filters.href(Some(("before", seq)))>"Older"</A> })}
        </nav>
    };
    if log.events.is_empty() {
        let text = if log.matching.is_some() {
            "No events match."
        } else {
            "No events yet."
        };
        return view! { <div class="empty-state"><p>{text}</p></div> {pager} }.into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-labelledby="events-heading">
            <table class="data-table audit-table stack-narrow">
                <thead>
                    <tr>
                        <th scope="col">"#"</th>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Subject"</th>
                        <th scope="col">"Details"</th>
                        <th scope="col">"Hash"</th>
                    </tr>
                </thead>
                <tbody>
                    {log.events.into_iter().map(|e| view! { <EventRow event=e /> }).collect_view()}
                </tbody>
            </table>
        </div>
        {pager}
    }
    .into_any()
}

#[component]
fn EventRow(event: AuditEventView) -> impl IntoView {
    let short: String = event.hash.chars().take(12).collect();
    view! {
        <tr data-seq=event.seq.to_string()>
            <td class="num" data-label="#">{event.seq}</td>
            <td class="time" data-label="Time"><Timestamp at=event.occurred_at /></td>
            <td class="actor" data-label="Actor">{event.actor}</td>
            <td data-label="Action"><code>{event.action}</code></td>
            <td class="subject" data-label="Subject">{event.subject}</td>
            <td class="details-cell" data-label="Details"><EventDetails details=event.details /></td>
            <td data-label="Hash"><code class="hash" title=event.hash>{short}</code></td>
        </tr>
    }
}

fn events_label(n: i64) -> String {
    if n == 1 {
        "1 event".to_string()
    } else {
        format!("{n} events")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_say_how_exact_they_are() {
        let log = |matching| AuditLogPage {
            events: Vec::new(),
            older: None,
            newer: None,
            newest: true,
            total: 1234,
            matching,
        };
        assert_eq!(
            count_text(&log(None)),
            "1234 events in the log, newest first."
        );
        assert_eq!(
            count_text(&log(Some(Matching::Exactly(1)))),
            "1 event matching, of 1234 events in the log."
        );
        assert_eq!(
            count_text(&log(Some(Matching::AtLeast(1000)))),
            "More than 1000 events match, of 1234 events in the log."
        );
    }
}

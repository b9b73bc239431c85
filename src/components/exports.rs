//! Download links for the CSV evidence exports (`/exports/…`), shown to admins and auditors
//! only; the routes refuse everyone else anyway.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::viewer::reads_campaigns;

/// "Download CSV: label · label": plain links with `download`, so the browser saves the file
/// instead of the client-side router trying to render it.
#[component]
pub fn ExportLinks(links: Vec<(&'static str, String)>) -> impl IntoView {
    reads_campaigns().then(|| {
        view! {
            <p class="export-links">
                "Download CSV: "
                {links
                    .into_iter()
                    .enumerate()
                    .map(|(i, (label, href))| {
                        view! {
                            {(i > 0).then_some(" · ")}
                            <a href=href download="" rel="external">{label}</a>
                        }
                    })
                    .collect_view()}
            </p>
        }
    })
}

/// The audit log export with a time range and an action: a plain GET form (not the router's
/// `Form`), so submitting it downloads the file. It starts from the Audit page's filters
/// (`from`, `to`, and `action` when exact: the export takes no prefix).
#[component]
pub fn AuditExportForm() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &'static str| query.with(|q| q.get(name).unwrap_or_default());
    let action = move || Some(param("action")).filter(|a| !a.ends_with(['.', '*']));
    reads_campaigns().then(|| {
        view! {
            <form method="get" action="/exports/audit.csv" class="filters export-form">
                <label>"From " <input type="date" name="from" prop:value=move || param("from") /></label>
                <label>"To (inclusive) " <input type="date" name="to" prop:value=move || param("to") /></label>
                <label>"Action " <input type="text" name="action" placeholder="e.g. review.decided" size="18"
                    prop:value=move || action().unwrap_or_default() /></label>
                <button type="submit" class="button-secondary">"Download CSV"</button>
            </form>
        }
    })
}

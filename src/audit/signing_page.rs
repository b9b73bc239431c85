//! The signing part of the audit page: the current public key, its fingerprint and download,
//! the latest signed checkpoints, and (for admins) a button that signs one now.

use leptos::prelude::*;

use super::api::{audit_signing, CheckpointView, RecordCheckpointNow};
use crate::components::{notice::ErrorNotice, time::Timestamp, viewer::is_admin};

#[component]
pub fn SigningPanel() -> impl IntoView {
    let record = ServerAction::<RecordCheckpointNow>::new();
    // Refetch after each recorded checkpoint.
    let signing = Resource::new(move || record.version().get(), |_| audit_signing());
    let admin = is_admin();

    view! {
        <section class="signing" aria-labelledby="signing-heading">
            <h2 id="signing-heading">"Signing key and checkpoints"</h2>
            <p class="lede">
                "A checkpoint signs the number of events and the hash of the last one. Keep copies outside this server: "
                <code>"audit verify --checkpoint FILE"</code>
                " then shows whether events were removed or the chain rewritten since."
            </p>
            <Show when=move || admin>
                <div class="toolbar">
                    <button
                        type="button"
                        class="button"
                        on:click=move |_| {
                            record.dispatch(RecordCheckpointNow {});
                        }
                        disabled=move || record.pending().get()
                    >
                        {move || if record.pending().get() { "Signing…" } else { "Record checkpoint" }}
                    </button>
                    <div aria-live="polite">
                        {move || record.value().get().and_then(Result::err).map(|error| view! {
                            <ErrorNotice error needs="admins" />
                        })}
                    </div>
                </div>
            </Show>
            <Suspense fallback=|| view! { <p class="loading">"Loading the signing key…"</p> }>
                {move || Suspend::new(async move {
                    match signing.await {
                        Ok(view) => view! {
                            <dl class="facts">
                                <dt>"Key fingerprint (SHA-256 of the raw public key)"</dt>
                                <dd><code>{view.fingerprint}</code></dd>
                                <dt>"Public key"</dt>
                                <dd>
                                    <pre class="pem">{view.public_key_pem}</pre>
                                    <a href="/audit/public-key.pem" rel="external" download>"Download public key (PEM)"</a>
                                </dd>
                            </dl>
                            <CheckpointTable checkpoints=view.checkpoints />
                        }
                        .into_any(),
                        Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn CheckpointTable(checkpoints: Vec<CheckpointView>) -> impl IntoView {
    if checkpoints.is_empty() {
        return view! { <div class="empty-state"><p>"No checkpoints yet."</p></div> }.into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label="Signed checkpoints">
            <table class="data-table">
                <thead>
                    <tr>
                        <th scope="col">"#"</th>
                        <th scope="col">"Signed"</th>
                        <th scope="col">"Why"</th>
                        <th scope="col">"Checkpoint"</th>
                        <th scope="col">"Download"</th>
                    </tr>
                </thead>
                <tbody>
                    {checkpoints
                        .into_iter()
                        .map(|c| {
                            let href = format!("/audit/checkpoints/{}", c.id);
                            view! {
                                <tr>
                                    <td class="num">{c.id}</td>
                                    <td class="nowrap"><Timestamp at=c.created_at /></td>
                                    <td>{c.reason}</td>
                                    <td><code class="details" title=c.signature>{c.line}</code></td>
                                    <td><a href=href rel="external" download>"checkpoint.txt"</a></td>
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

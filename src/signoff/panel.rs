//! The "Sign-off" section of a closed campaign's page: the signed statement with a
//! "Verified" badge computed from the stored signatures when the page loads, the evidence
//! downloads, or what still blocks the sign-off and, for admins, the form.

use leptos::prelude::*;

use super::{
    api::{campaign_sign_off, campaign_signoff},
    SignatureCheck, SignoffState, SignoffView, STATEMENT_MAX,
};
use crate::components::{notice::ErrorNotice, time::Timestamp, viewer::is_admin};

#[component]
pub fn SignoffPanel(campaign_id: i64, changed: Callback<()>) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let state = Resource::new(move || reload.get(), move |_| campaign_signoff(campaign_id));
    // Set by a sign-off made here: the result takes the focus the form had.
    let just_signed = RwSignal::new(false);
    let signed = Callback::new(move |()| {
        just_signed.set(true);
        reload.update(|n| *n += 1);
        changed.run(());
    });
    view! {
        <section aria-labelledby="signoff-heading" class="signoff">
            <h2 id="signoff-heading">"Sign-off"</h2>
            <Transition fallback=|| view! { <p class="loading">"Checking the sign-off…"</p> }>
                {move || Suspend::new(async move {
                    match state.await {
                        Ok(state) => view! { <SignoffBody state signed just_signed=just_signed.get_untracked() /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error needs="admins and auditors" /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SignoffBody(state: SignoffState, signed: Callback<()>, just_signed: bool) -> impl IntoView {
    let id = state.campaign_id;
    match state.signed {
        Some(view) => view! { <Signed id view focus=just_signed /> }.into_any(),
        None if state.blockers.is_empty() => view! {
            <p>"Every decision is carried out or settled: the campaign can be signed off."</p>
            {is_admin().then(|| view! { <SignOffForm id signed /> })}
        }
        .into_any(),
        None => view! {
            <p>"Not ready to sign off:"</p>
            <ul class="signoff-blockers">
                {state.blockers.into_iter().map(|b| view! {
                    <li>
                        {b.text}
                        {b.action.map(|(label, href)| view! { " " <a href=href>{label}</a> })}
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any(),
    }
}

/// `badge` text and class for the signature check.
pub fn check_badge(check: &SignatureCheck) -> impl IntoView {
    match check {
        SignatureCheck::Verified => view! {
            <span class="badge badge-ok signoff-verified" title="The stored report and manifest match their Ed25519 signatures">"Verified"</span>
        }
        .into_any(),
        SignatureCheck::Broken(problem) => view! {
            <span class="badge badge-bad signoff-broken">"Signature does not verify"</span>
            " "
            <span class="status-error">{problem.clone()}</span>
        }
        .into_any(),
    }
}

#[component]
fn Signed(id: i64, view: SignoffView, focus: bool) -> impl IntoView {
    let base = format!("/exports/campaigns/{id}");
    let status = NodeRef::<leptos::html::P>::new();
    Effect::new(move |_| {
        if let (true, Some(node)) = (focus, status.get()) {
            let _ = node.focus();
        }
    });
    view! {
        <p class="signoff-status" tabindex="-1" node_ref=status>
            {check_badge(&view.check)}
            " "
            "Signed off " <Timestamp at=view.signed_at.clone() /> {format!(" by {}.", view.signed_by)}
        </p>
        <blockquote class="signoff-statement">{view.statement.clone()}</blockquote>
        <dl class="facts">
            <dt>"Report SHA-256"</dt>
            <dd><code class="hash">{view.report_sha256.clone()}</code></dd>
            <dt>"Signing key"</dt>
            <dd><code class="hash">{view.key_fingerprint.clone()}</code></dd>
        </dl>
        <p class="export-links">
            <a class="button" href=format!("{base}/evidence.zip") download="" rel="external">"Download evidence bundle (zip)"</a>
            " "
            <a href=format!("{base}/decisions.csv") download="" rel="external">"Signed report (CSV)"</a>
            " · "
            <a href=format!("{base}/decisions.csv.sig") download="" rel="external">"Its signature"</a>
            " · "
            <a href=format!("{base}/signoff.json") download="" rel="external">"Manifest (JSON)"</a>
            " · "
            <a href=format!("/audit/checkpoints/{}", view.checkpoint_id) download="" rel="external">"Checkpoint at sign-off"</a>
        </p>
    }
}

#[component]
fn SignOffForm(id: i64, signed: Callback<()>) -> impl IntoView {
    let statement = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = statement.get_untracked();
        pending.set(true);
        leptos::task::spawn_local(async move {
            match campaign_sign_off(id, text).await {
                Ok(_) => signed.run(()),
                Err(e) => error.set(Some(e.to_string())),
            }
            pending.set(false);
        });
    };
    view! {
        <form class="signoff-form" on:submit=submit>
            <label for="signoff-statement">"Statement"</label>
            <p class="hint" id="signoff-statement-hint">
                "What you confirm, in your words, e.g. \"Every decision was made by the assigned reviewer and carried out as recorded.\" The report, this statement and your name are signed; afterwards the campaign can no longer change."
            </p>
            <textarea id="signoff-statement" rows="3" maxlength=STATEMENT_MAX.to_string()
                aria-describedby="signoff-statement-hint"
                aria-invalid=move || error.get().is_some().to_string()
                prop:value=move || statement.get()
                on:input=move |ev| statement.set(event_target_value(&ev))></textarea>
            {move || error.get().map(|e| view! { <p class="status-error" role="alert">{e}</p> })}
            <button type="submit" class="button" disabled=move || pending.get()>
                {move || if pending.get() { "Signing…" } else { "Sign off campaign" }}
            </button>
        </form>
    }
}

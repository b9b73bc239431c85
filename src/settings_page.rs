//! The settings page: the Postmark connection, the users gateway, server owners and review
//! defaults (read-only, see [`crate::settings_overview`]), the webhook allowlist, SCIM and the
//! people who have signed in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    auth::page::PeopleSection,
    components::{markup::escape, notice::ErrorNotice, viewer::is_admin},
    inventory::api::{webhook_allowlist, SetWebhookAllowlist},
};

/// The webhook host allowlist, editable by admins; every change is an audit event.
#[component]
fn AllowlistSection() -> impl IntoView {
    let save = ServerAction::<SetWebhookAllowlist>::new();
    let current = Resource::new(move || save.version().get(), |_| webhook_allowlist());
    view! {
        <section aria-labelledby="allowlist-heading">
            <h2 id="allowlist-heading">"Webhook host allowlist"</h2>
            <p class="muted">
                "Servers whose webhooks post to any other host are flagged in the inventory. One host per line or comma-separated."
            </p>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match current.await {
                        Ok(hosts) => view! {
                            <ActionForm action=save attr:class="settings-form">
                                <label>
                                    "Hosts"
                                    // Leptos does not escape a textarea's text when it renders on
                                    // the server; the allowlist is whatever the operator wrote.
                                    <textarea name="hosts" rows="4">{escape(&hosts.join("\n")).into_owned()}</textarea>
                                </label>
                                <button type="submit" class="button">"Save allowlist"</button>
                            </ActionForm>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                    }
                })}
            </Suspense>
            {move || save.value().get().map(|result| match result {
                Ok(hosts) => view! { <p class="status-ok" role="status">{format!("Saved: {} hosts.", hosts.len())}</p> }.into_any(),
                Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
            })}
        </section>
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let is_admin = is_admin();
    view! {
        <Title text="Settings" />
        <header class="page-header">
            <h1>"Settings"</h1>
            <p class="lede">
                "The Postmark connection, the users gateway, server owners and review defaults. Deployment settings come from PAR_* environment variables and the optional config file (see the README)."
            </p>
        </header>
        {if is_admin {
            view! {
                <crate::settings_overview::OverviewSections />
                <AllowlistSection />
                <section aria-labelledby="scim-heading">
                    <h2 id="scim-heading">"SCIM provisioning"</h2>
                    <p>
                        "Identity providers push people and groups here over SCIM 2.0, each with a token of its own: "
                        <A href="/settings/scim">"Manage SCIM tokens"</A>
                    </p>
                    <p>
                        "A provider's groups can grant Postmark access, with a preview of who gains and loses: "
                        <A href="/settings/mappings">"Group mappings"</A>
                    </p>
                </section>
                <PeopleSection />
            }
            .into_any()
        } else {
            view! {
                <div class="notice notice-warn" role="note">
                    <p>"Settings are managed by admins."</p>
                </div>
                // Auditors read the connection and the review defaults: they are evidence.
                {crate::components::viewer::reads_campaigns().then(|| view! {
                    <crate::settings_overview::OverviewSections />
                    <p>
                        "Which identity-provider groups grant Postmark access, and the jobs they started: "
                        <A href="/settings/mappings">"Group mappings"</A>
                    </p>
                })}
            }
            .into_any()
        }}
    }
}

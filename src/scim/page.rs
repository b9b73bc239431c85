//! Settings → SCIM provisioning: admins create a token per identity provider (shown once,
//! with the base URL to paste into the provider), see every token's use, and revoke them.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::{
    api::{scim_tokens, CreateScimToken, RevokeScimToken},
    NewToken, TokenView,
};
use crate::components::{notice::ErrorNotice, time::Timestamp, viewer::is_admin};

/// The token just created, with what to paste where. Shown once: the server keeps only a hash.
#[component]
fn NewTokenNotice(new: NewToken) -> impl IntoView {
    view! {
        <div class="notice notice-ok new-token">
            <p>
                <strong>{format!("Token for {} created.", new.provider)}</strong>
                " Copy it now: it is shown only once and cannot be recovered. Paste both values into the provider's provisioning settings."
            </p>
            <dl class="facts">
                <dt>"Base URL (Entra ID: Tenant URL)"</dt>
                <dd><code class="scim-base-url">{new.base_url}</code></dd>
                <dt>"Token (Entra ID: Secret Token; Okta: Bearer)"</dt>
                <dd><code class="scim-token">{new.token}</code></dd>
            </dl>
        </div>
    }
}

/// One token's row: its use, and a revoke button that asks first.
#[component]
fn TokenRow(token: TokenView, revoke: ServerAction<RevokeScimToken>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let id = token.id;
    let label = format!("{} ({}…)", token.provider, token.prefix);
    let status = match (token.revoked_at.clone(), &token.revoked_by) {
        (Some(at), by) => {
            let by = by.as_deref().map(|b| format!(" by {b}"));
            view! { "Revoked " <Timestamp at /> {by} }.into_any()
        }
        (None, _) => "Active".into_any(),
    };
    let active = token.revoked_at.is_none();
    let open_label = format!("Revoke the token {label}");
    let prompt = format!(
        "Revoke {label}? The provider's requests with this token are refused from now on; this cannot be undone."
    );
    view! {
        <tr data-token-id=id.to_string()>
            <td>{token.provider.clone()}</td>
            <td><code>{format!("{}…", token.prefix)}</code></td>
            <td class="nowrap"><Timestamp at=token.created_at.clone() /><br /><span class="muted">{token.created_by.clone()}</span></td>
            <td class="nowrap">{match token.last_used_at.clone() { Some(at) => view! { <Timestamp at /> }.into_any(), None => "Never".into_any() }}</td>
            <td class="token-status">{status}</td>
            <td>
                {active.then(|| view! {
                    <Show when=move || confirming.get()
                        fallback=move || view! {
                            <button type="button" class="button-secondary revoke-open"
                                aria-label=open_label.clone()
                                on:click=move |_| confirming.set(true)>"Revoke…"</button>
                        }>
                        <div class="confirm" role="group" aria-label="Confirm revocation">
                            <p>{prompt.clone()}</p>
                            <button type="button" class="button-danger revoke-submit" disabled=move || revoke.pending().get()
                                on:click=move |_| { revoke.dispatch(RevokeScimToken { id }); }>"Revoke token"</button>
                            " "
                            <button type="button" class="button-secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        </div>
                    </Show>
                })}
            </td>
        </tr>
    }
}

#[component]
fn TokensSection() -> impl IntoView {
    let create = ServerAction::<CreateScimToken>::new();
    let revoke = ServerAction::<RevokeScimToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| scim_tokens(),
    );
    view! {
        <section aria-labelledby="new-token-heading">
            <h2 id="new-token-heading">"New token"</h2>
            <p class="muted">
                "One token per identity provider; a second token for the same name rotates it (revoke the old one once the provider uses the new one)."
            </p>
            <ActionForm action=create attr:class="settings-form">
                <label>
                    "Identity provider"
                    <input type="text" name="provider" required maxlength="100" autocomplete="off" placeholder="Entra ID" />
                </label>
                <button type="submit" class="button">"Create token"</button>
            </ActionForm>
            <div class="action-result" aria-live="polite">
                {move || create.value().get().map(|result| match result {
                    Ok(new) => view! { <NewTokenNotice new /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                })}
            </div>
        </section>
        <section aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"Tokens"</h2>
            <div class="action-result" aria-live="polite">
                {move || revoke.value().get().map(|result| match result {
                    Ok(token) => view! {
                        <p class="status-ok">{format!("Token {}… of {} revoked.", token.prefix, token.provider)}</p>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                })}
            </div>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(page) if page.tokens.is_empty() => view! {
                            <p class="scim-base">"Base URL: " <code>{page.base_url}</code></p>
                            <p class="muted">"No tokens yet."</p>
                        }.into_any(),
                        Ok(page) => view! {
                            <p class="scim-base">"Base URL: " <code>{page.base_url}</code></p>
                            <div class="table-wrap" tabindex="0" role="region" aria-label="SCIM tokens">
                                <table class="data-table scim-tokens">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Provider"</th>
                                            <th scope="col">"Token"</th>
                                            <th scope="col">"Created"</th>
                                            <th scope="col">"Last used"</th>
                                            <th scope="col">"Status"</th>
                                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {page.tokens.into_iter().map(|token| view! { <TokenRow token revoke /> }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn ScimTokensPage() -> impl IntoView {
    view! {
        <Title text="SCIM provisioning" />
        <header class="page-header">
            <p class="breadcrumb"><A href="/settings">"Settings"</A></p>
            <h1>"SCIM provisioning"</h1>
            <p class="lede">
                "Identity providers such as Entra ID and Okta push people and groups to this application over SCIM 2.0, so leavers are known at once. Each provider calls with a bearer token of its own and sees only its own users and groups."
            </p>
        </header>
        {if is_admin() {
            view! { <TokensSection /> }.into_any()
        } else {
            view! {
                <div class="notice notice-warn" role="note">
                    <p>"SCIM tokens are managed by admins."</p>
                </div>
            }
            .into_any()
        }}
    }
}

//! The campaign settings form, shared by "new campaign" and "edit draft". Field names follow
//! the server functions' `input` argument (`input[name]`, …). Servers and roles are picked
//! from the inventory ([`super::scope_pick`]); the reviewer fields suggest known reviewers.

use leptos::prelude::*;

use super::{
    api::campaign_form_options,
    scope_pick::{role_choices, server_choices, PickList},
    CampaignInput, DefaultOutcome,
};
use crate::{
    components::{notice::ErrorNotice, suggestions::EmailSuggestions},
    review_items::ItemKind,
};

/// The `<datalist>` the reviewer fields suggest from.
const REVIEWERS_LIST: &str = "known-reviewers";

fn checked(value: &Option<String>) -> bool {
    value.is_some()
}

/// The fields of a [`CampaignInput`], filled with `input`.
#[component]
pub fn CampaignFields(input: CampaignInput, #[prop(optional)] editing: bool) -> impl IntoView {
    let kinds = [
        (
            ItemKind::AccountRole,
            "kind_account_role",
            checked(&input.kind_account_role),
        ),
        (
            ItemKind::ServerPermission,
            "kind_server_permission",
            checked(&input.kind_server_permission),
        ),
        (ItemKind::Server, "kind_server", checked(&input.kind_server)),
    ];
    let outcome = input.default_outcome.clone();
    let options = Resource::new(|| (), |()| campaign_form_options());
    let (saved_servers, saved_roles) = (input.server_ids.clone(), input.roles.clone());
    view! {
        <fieldset>
            <legend>"Campaign"</legend>
            <label>
                "Name"
                <input type="text" name="input[name]" required maxlength="200" value=input.name.clone() />
            </label>
            <label>
                "Description"
                // An input, not a textarea: Leptos does not escape a textarea's text when it
                // renders on the server, and the description is free text.
                <input type="text" name="input[description]" maxlength="4000" value=input.description.clone() />
            </label>
            <div class="form-row">
                <label>
                    "Starts on"
                    <input type="date" name="input[starts_on]" required value=input.starts_on.clone() />
                </label>
                <label>
                    "Due on"
                    <input type="date" name="input[due_on]" required value=input.due_on.clone() />
                </label>
            </div>
        </fieldset>
        <fieldset>
            <legend>"Scope"</legend>
            <div class="checks">
                {kinds.into_iter().map(|(kind, field, on)| view! {
                    <label class="check">
                        <input type="checkbox" name=format!("input[{field}]") checked=on />
                        {kind.label()}
                    </label>
                }).collect_view()}
            </div>
            <Suspense fallback=|| view! { <p class="loading">"Loading the inventory…"</p> }>
                {move || {
                    let (saved_servers, saved_roles) = (saved_servers.clone(), saved_roles.clone());
                    Suspend::new(async move {
                        match options.await {
                            Ok(options) => view! {
                                <PickList field="server_ids" legend="Servers" searchable=true
                                    none_means="Check the servers to review; none checked: every server in the inventory at launch."
                                    choices=server_choices(&options.servers, &saved_servers) />
                                <PickList field="roles" legend="Account roles"
                                    none_means="Check the account roles to review; none checked: every role."
                                    choices=role_choices(&options.roles, &saved_roles) />
                                <EmailSuggestions id=REVIEWERS_LIST emails=options.reviewers />
                            }.into_any(),
                            Err(error) => view! { <ErrorNotice error needs="admins" /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </fieldset>
        <fieldset>
            <legend>"Reviewers"</legend>
            <p class="muted">
                "Each item goes to the first that applies: the user's manager (manager mapping), the server's owner, the fixed reviewer, then the fallback reviewer. Nobody reviews their own access: such items go to the fallback reviewer."
            </p>
            <label class="check">
                <input type="checkbox" name="input[use_manager_mapping]" checked=checked(&input.use_manager_mapping) />
                "Use the manager mapping"
            </label>
            <label class="check">
                <input type="checkbox" name="input[use_server_owners]" checked=checked(&input.use_server_owners) />
                "Use server owners"
            </label>
            <label>
                "Fixed reviewer (email, optional; known reviewers are suggested)"
                <input type="email" name="input[fixed_reviewer]" list=REVIEWERS_LIST autocomplete="off" value=input.fixed_reviewer.clone() />
            </label>
            <label>
                "Fallback reviewer (email; known reviewers are suggested)"
                <input type="email" name="input[fallback_reviewer]" list=REVIEWERS_LIST autocomplete="off" required value=input.fallback_reviewer.clone() />
            </label>
        </fieldset>
        <fieldset>
            <legend>"Decisions"</legend>
            <label>
                "Undecided items at close"
                <select name="input[default_outcome]">
                    {DefaultOutcome::ALL.into_iter().map(|o| view! {
                        <option value=o.slug() selected=outcome == o.slug()>{o.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="check">
                <input type="checkbox" name="input[revoke_needs_justification]" checked=checked(&input.revoke_needs_justification) />
                "A revoke needs a justification"
            </label>
            <label class="check">
                <input type="checkbox" name="input[privileged_needs_justification]" checked=checked(&input.privileged_needs_justification) />
                "Keeping an admin or owner access needs a justification"
            </label>
            <label>
                "Revocations run"
                <select name="input[revocation_mode]">
                    <option value="apply" selected=input.revocation_mode != "at_close">"After an admin applies them (reviewing the list first)"</option>
                    <option value="at_close" selected=input.revocation_mode == "at_close">"Automatically when the campaign closes"</option>
                </select>
            </label>
            <label>
                "Remind reviewers with undecided items, days before the due date"
                <input type="text" name="input[reminder_days]" value=input.reminder_days.clone()
                    placeholder="7, 1" inputmode="numeric" />
            </label>
            {(!editing).then(|| view! {
                <label class="check">
                    <input type="checkbox" name="input[recurring]" checked=checked(&input.recurring) />
                    "Recurring: save as a template that creates a draft every quarter from the start date"
                </label>
            })}
            {(editing && input.recurring.is_some()).then(|| view! {
                <input type="hidden" name="input[recurring]" value="on" />
            })}
        </fieldset>
    }
}

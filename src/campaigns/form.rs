//! The campaign settings form, shared by "new campaign" and "edit draft". Field names follow
//! the server functions' `input` argument (`input[name]`, …).

use leptos::prelude::*;

use super::{CampaignInput, DefaultOutcome};
use crate::review_items::ItemKind;

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
            <label>
                "Only these servers (Postmark ids, comma-separated; empty: all servers)"
                <input type="text" name="input[server_ids]" value=input.server_ids.clone() placeholder="10001, 10004" />
            </label>
            <label>
                "Only these account roles (comma-separated; empty: all roles)"
                <input type="text" name="input[roles]" value=input.roles.clone() placeholder="Account Admin, Account Owner" />
            </label>
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
                "Fixed reviewer (email, optional)"
                <input type="email" name="input[fixed_reviewer]" value=input.fixed_reviewer.clone() />
            </label>
            <label>
                "Fallback reviewer (email)"
                <input type="email" name="input[fallback_reviewer]" required value=input.fallback_reviewer.clone() />
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

/// Defaults for a new campaign starting `today`: everything in scope, two weeks to decide.
pub fn new_input(today: &str, due: &str, fallback: &str) -> CampaignInput {
    let on = Some("on".to_string());
    CampaignInput {
        name: String::new(),
        description: String::new(),
        kind_account_role: on.clone(),
        kind_server_permission: on.clone(),
        kind_server: on.clone(),
        server_ids: String::new(),
        roles: String::new(),
        starts_on: today.to_string(),
        due_on: due.to_string(),
        default_outcome: DefaultOutcome::Flag.slug().to_string(),
        revoke_needs_justification: on.clone(),
        privileged_needs_justification: on.clone(),
        use_manager_mapping: on.clone(),
        use_server_owners: on,
        fixed_reviewer: String::new(),
        fallback_reviewer: fallback.to_string(),
        recurring: None,
        reminder_days: "7, 1".to_string(),
        revocation_mode: crate::revocations::Mode::Apply.slug().to_string(),
    }
}

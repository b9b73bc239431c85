//! The campaign form's scope pickers: servers from the current inventory (with a search box
//! that filters the list in the browser) and account roles, as checkboxes. Each checked box
//! posts one value (`input[server_ids][]`, `input[roles][]`), so the form works without
//! JavaScript; none checked means every server or every role.

use leptos::prelude::*;

/// A choice of the list: what is posted, what is shown, the detail beside it, and whether the
/// draft has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub detail: String,
    pub checked: bool,
}

/// The inventory's servers, the draft's saved ones checked. A saved server the inventory no
/// longer holds stays listed (checked) so saving names it rather than dropping it.
pub fn server_choices(servers: &[(i64, String)], saved: &[String]) -> Vec<Choice> {
    let is_saved = |value: &str| saved.iter().any(|s| s.trim() == value);
    let mut choices: Vec<Choice> = servers
        .iter()
        .map(|(id, name)| Choice {
            value: id.to_string(),
            label: name.clone(),
            detail: format!("#{id}"),
            checked: is_saved(&id.to_string()),
        })
        .collect();
    for value in saved {
        if !choices.iter().any(|c| c.value == value.trim()) {
            choices.push(Choice {
                value: value.trim().to_string(),
                label: format!("Server {}", value.trim()),
                detail: "not in the inventory".to_string(),
                checked: true,
            });
        }
    }
    choices
}

/// Known account roles, the draft's saved ones checked (an unknown saved one listed, checked).
pub fn role_choices(roles: &[String], saved: &[String]) -> Vec<Choice> {
    let is_saved = |role: &str| saved.iter().any(|s| s.trim().eq_ignore_ascii_case(role));
    let mut choices: Vec<Choice> = roles
        .iter()
        .map(|role| Choice {
            value: role.clone(),
            label: role.clone(),
            detail: String::new(),
            checked: is_saved(role),
        })
        .collect();
    for role in saved {
        if !roles.iter().any(|r| r.eq_ignore_ascii_case(role.trim())) {
            choices.push(Choice {
                value: role.trim().to_string(),
                label: role.trim().to_string(),
                detail: "unknown role".to_string(),
                checked: true,
            });
        }
    }
    choices
}

/// Whether a choice matches the search `query` (any case, name or id).
fn matches(choice: &Choice, query: &str) -> bool {
    let query = query.trim().to_lowercase();
    query.is_empty()
        || choice.label.to_lowercase().contains(&query)
        || choice.value.contains(&query)
}

/// A checkbox list in a fieldset. With `searchable`, a search box above it hides the choices
/// that do not match (hidden boxes still post when checked).
#[component]
pub fn PickList(
    /// `server_ids` or `roles`: the field `input[{field}][]`.
    field: &'static str,
    legend: &'static str,
    /// What no box checked means.
    none_means: &'static str,
    choices: Vec<Choice>,
    #[prop(optional)] searchable: bool,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let total = choices.len();
    let list_id = format!("pick-{field}");
    let hint_id = format!("pick-{field}-hint");
    let described_by = hint_id.clone();
    let controls = list_id.clone();
    let labels: Vec<Choice> = choices.clone();
    let shown = move || {
        let q = query.get();
        labels.iter().filter(|c| matches(c, &q)).count()
    };
    let name = format!("input[{field}][]");
    view! {
        <fieldset class="pick" aria-describedby=described_by>
            <legend>{legend}</legend>
            <p class="muted" id=hint_id>{none_means}</p>
            {searchable.then(|| view! {
                <label class="pick-search">
                    {format!("Search {}", legend.to_lowercase())}
                    <input type="search" autocomplete="off" aria-controls=controls.clone()
                        placeholder="Name or id"
                        prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev))
                        // Enter filters; it does not submit the campaign.
                        on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); } />
                </label>
                <p class="muted pick-count" aria-live="polite">
                    {move || if query.get().trim().is_empty() {
                        format!("{total} in the inventory")
                    } else {
                        format!("{} of {total} shown", shown())
                    }}
                </p>
            })}
            {(total == 0).then(|| view! { <p class="muted">"Nothing in the inventory yet."</p> })}
            <ul class="pick-list" id=list_id>
                {choices.into_iter().map(|choice| {
                    let hidden = {
                        let choice = choice.clone();
                        move || !matches(&choice, &query.get())
                    };
                    view! {
                        <li hidden=hidden>
                            <label class="check">
                                <input type="checkbox" name=name.clone() value=choice.value.clone() checked=choice.checked />
                                <span>{choice.label.clone()}</span>
                                {(!choice.detail.is_empty()).then(|| view! { <span class="muted">{choice.detail.clone()}</span> })}
                            </label>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_choices_are_checked_and_unknown_ones_kept() {
        let servers = vec![(1, "Billing".to_string()), (2, "Mail".to_string())];
        let choices = server_choices(&servers, &["2".to_string(), "9".to_string()]);
        let checked: Vec<&str> = choices
            .iter()
            .filter(|c| c.checked)
            .map(|c| c.value.as_str())
            .collect();
        assert_eq!(checked, ["2", "9"]);
        assert_eq!(choices[2].detail, "not in the inventory");
        let roles = role_choices(
            &["Account Admin".to_string()],
            &["account admin".to_string()],
        );
        assert!(roles[0].checked);
        assert_eq!(roles.len(), 1);
    }

    #[test]
    fn search_matches_name_or_id_in_any_case() {
        let choice = &server_choices(&[(10001, "Billing".to_string())], &[])[0];
        assert!(matches(choice, "bill"));
        assert!(matches(choice, "1000"));
        assert!(matches(choice, " "));
        assert!(!matches(choice, "mail"));
    }
}

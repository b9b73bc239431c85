//! Checking a campaign form against the inventory: what an admin entered becomes
//! [`Settings`], or one message naming every problem (an unknown server or role among them)
//! and nothing is saved.

use std::collections::HashSet;

use super::{
    db::{format_date, parse_date, Settings},
    CampaignInput, DefaultOutcome,
};
use crate::{db::Db, email::Email, error::AppError, review_items::ItemKind, revocations::Mode};

/// Account roles Postmark accounts show (see DESIGN: Account Owner, Account Admin, and the
/// Technical, Billing and basic roles of newer accounts), offered even when nobody holds them.
pub fn postmark_roles() -> impl Iterator<Item = &'static str> {
    std::iter::once(crate::revocations::ACCOUNT_OWNER)
        .chain(crate::mappings::ROLES)
        .chain(["Teammate"])
}

/// What a campaign may be limited to: the servers of the current inventory and the account
/// roles Postmark or the inventory knows.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub servers: HashSet<i64>,
    /// Postmark's roles first, then the inventory's others, by name; no two equal in case.
    pub roles: Vec<String>,
}

impl Known {
    pub async fn load(db: &Db) -> Result<Self, sqlx::Error> {
        let servers = crate::inventory::db::server_ids(db).await?;
        let held = crate::inventory::db::account_roles(db).await?;
        Ok(Self::new(servers, held))
    }

    /// `held`: the roles users of the inventory hold.
    pub fn new(servers: HashSet<i64>, held: Vec<String>) -> Self {
        let mut roles: Vec<String> = postmark_roles().map(str::to_string).collect();
        let mut others: Vec<String> = Vec::new();
        for role in held {
            let role = role.trim();
            let seen = |list: &[String]| list.iter().any(|r| r.eq_ignore_ascii_case(role));
            if !role.is_empty() && !seen(&roles) && !seen(&others) {
                others.push(role.to_string());
            }
        }
        others.sort_by_key(|r| r.to_lowercase());
        roles.extend(others);
        Self { servers, roles }
    }

    /// The known spelling of `role`, compared without regard to case or surrounding spaces.
    pub fn role(&self, role: &str) -> Option<&str> {
        let role = role.trim();
        self.roles
            .iter()
            .find(|r| r.eq_ignore_ascii_case(role))
            .map(String::as_str)
    }
}

/// A value as a message quotes it: without control characters, at most 100 characters.
fn shown(value: &str) -> String {
    value
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect()
}

/// Longest name and description accepted.
const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 4000;

/// Checks a form; every problem is named in one message.
pub fn validate(input: &CampaignInput, known: &Known) -> Result<Settings, AppError> {
    let mut problems: Vec<String> = Vec::new();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        problems.push("give the campaign a name".into());
    } else if name.chars().count() > MAX_NAME {
        problems.push(format!("the name is longer than {MAX_NAME} characters"));
    }
    let description = input.description.trim().to_string();
    if description.chars().count() > MAX_DESCRIPTION {
        problems.push(format!(
            "the description is longer than {MAX_DESCRIPTION} characters"
        ));
    }
    let kinds: Vec<ItemKind> = [
        (ItemKind::AccountRole, &input.kind_account_role),
        (ItemKind::ServerPermission, &input.kind_server_permission),
        (ItemKind::Server, &input.kind_server),
    ]
    .into_iter()
    .filter(|(_, on)| on.is_some())
    .map(|(kind, _)| kind)
    .collect();
    if kinds.is_empty() {
        problems.push("choose at least one kind of item to review".into());
    }
    let mut server_ids = Vec::new();
    for part in input
        .server_ids
        .iter()
        .flat_map(|value| value.split_whitespace())
    {
        match part.parse::<i64>() {
            Ok(id) if known.servers.contains(&id) => {
                if !server_ids.contains(&id) {
                    server_ids.push(id);
                }
            }
            Ok(id) => problems.push(format!("server {id} is not in the inventory")),
            Err(_) => problems.push(format!("`{}` is not a server id", shown(part))),
        }
    }
    server_ids.sort_unstable();
    let mut roles: Vec<String> = Vec::new();
    for role in &input.roles {
        match known.role(role) {
            Some(known) => {
                if !roles.iter().any(|r| r == known) {
                    roles.push(known.to_string());
                }
            }
            None => problems.push(format!(
                "`{}` is not an account role Postmark or the inventory knows",
                shown(role)
            )),
        }
    }
    let starts = parse_date(&input.starts_on);
    let due = parse_date(&input.due_on);
    if starts.is_none() {
        problems.push("the start date must be a date (YYYY-MM-DD)".into());
    }
    if due.is_none() {
        problems.push("the due date must be a date (YYYY-MM-DD)".into());
    }
    for (date, what) in [(starts, "start"), (due, "due")] {
        if date.is_some_and(|d| !(2000..=2100).contains(&d.year())) {
            problems.push(format!("the {what} date must be between 2000 and 2100"));
        }
    }
    if let (Some(starts), Some(due)) = (starts, due) {
        if due < starts {
            problems.push("the due date is before the start date".into());
        }
    }
    let reminder_days = reminder_days(&input.reminder_days, &mut problems);
    if let (Some(starts), Some(due), Some(longest)) = (starts, due, reminder_days.first()) {
        // A reminder as long before the due date as the campaign lasts would arrive with the
        // review request itself (and replace its link).
        let length = (due - starts).whole_days();
        if *longest >= length {
            problems.push(format!(
                "reminders must come after the start: this campaign lasts {length} days, so \
                 remind at most {} days before the due date",
                (length - 1).max(0)
            ));
        }
    }
    let default_outcome = DefaultOutcome::from_slug(input.default_outcome.trim());
    if default_outcome.is_none() {
        problems.push("choose what happens to undecided items (keep, revoke or flag)".into());
    }
    let email = |text: &str, what: &str, problems: &mut Vec<String>| {
        if text.trim().is_empty() {
            return None;
        }
        match Email::parse(text) {
            Ok(email) => Some(email.into_string()),
            Err(_) => {
                let shown = text.trim().to_lowercase();
                problems.push(format!("the {what} `{shown}` is not an email address"));
                None
            }
        }
    };
    let fixed_reviewer = email(&input.fixed_reviewer, "fixed reviewer", &mut problems);
    let fallback_reviewer = email(&input.fallback_reviewer, "fallback reviewer", &mut problems);
    if fallback_reviewer.is_none() && input.fallback_reviewer.trim().is_empty() {
        problems.push(
            "name a fallback reviewer: they get every item the other rules leave, and items \
             people would review themselves"
                .into(),
        );
    }
    let revocation_mode = match input.revocation_mode.trim() {
        "" => Some(Mode::Apply),
        slug => Mode::from_slug(slug),
    };
    if revocation_mode.is_none() {
        problems
            .push("choose when revocations run (after an admin applies them, or at close)".into());
    }
    match (
        default_outcome,
        fallback_reviewer,
        (starts, due),
        revocation_mode,
        problems.is_empty(),
    ) {
        (
            Some(default_outcome),
            Some(fallback_reviewer),
            (Some(starts), Some(due)),
            Some(revocation_mode),
            true,
        ) => Ok(Settings {
            name,
            description,
            kinds,
            server_ids,
            roles,
            starts_on: format_date(starts),
            due_on: format_date(due),
            default_outcome,
            revoke_needs_justification: input.revoke_needs_justification.is_some(),
            privileged_needs_justification: input.privileged_needs_justification.is_some(),
            use_manager_mapping: input.use_manager_mapping.is_some(),
            use_server_owners: input.use_server_owners.is_some(),
            fixed_reviewer,
            fallback_reviewer,
            recurring: input.recurring.is_some(),
            reminder_days,
            revocation_mode,
        }),
        _ => Err(AppError::Validation(format!(
            "The campaign was not saved: {}.",
            problems.join("; ")
        ))),
    }
}

/// Most reminders a campaign sends before its due date.
const MAX_REMINDERS: usize = 5;

/// `7, 1` → `[7, 1]`: whole days before the due date, 1 to 90, largest first.
fn reminder_days(text: &str, problems: &mut Vec<String>) -> Vec<i64> {
    let mut days = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<i64>() {
            Ok(day @ 1..=90) => days.push(day),
            _ => {
                problems.push(format!(
                    "reminders are whole days before the due date, 1 to 90 (`{part}` is not)"
                ));
                return Vec::new();
            }
        }
    }
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();
    if days.len() > MAX_REMINDERS {
        problems.push(format!("at most {MAX_REMINDERS} reminders"));
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> CampaignInput {
        CampaignInput {
            name: " Q4 review ".into(),
            kind_account_role: Some("on".into()),
            server_ids: vec!["2".into(), "1 2".into()],
            roles: vec!["Account Admin".into(), "account admin ".into()],
            starts_on: "2026-12-01".into(),
            due_on: "2026-12-15".into(),
            default_outcome: "flag".into(),
            fallback_reviewer: "Ada@Example.com".into(),
            ..CampaignInput::default()
        }
    }

    fn known(servers: &[i64]) -> Known {
        Known::new(
            servers.iter().copied().collect(),
            vec!["Support Lead".into()],
        )
    }

    #[test]
    fn good_input_is_normalised() {
        let settings = validate(&input(), &known(&[1, 2])).unwrap();
        assert_eq!(settings.name, "Q4 review");
        assert_eq!(settings.server_ids, [1, 2]);
        assert_eq!(settings.roles, ["Account Admin"]);
        assert_eq!(settings.fallback_reviewer, "ada@example.com");
        assert_eq!(settings.kinds, [ItemKind::AccountRole]);
    }

    #[test]
    fn every_problem_is_named() {
        let bad = CampaignInput {
            name: String::new(),
            kind_account_role: None,
            server_ids: vec!["3".into(), "x".into()],
            roles: vec!["Account Admin".into(), "Acount Admin".into()],
            due_on: "2026-11-01".into(),
            default_outcome: "maybe".into(),
            fallback_reviewer: String::new(),
            fixed_reviewer: "not-an-email".into(),
            ..input()
        };
        let message = validate(&bad, &known(&[1])).unwrap_err().to_string();
        for expected in [
            "name",
            "at least one kind",
            "server 3 is not in the inventory",
            "`x` is not a server id",
            "`Acount Admin` is not an account role",
            "due date is before",
            "undecided items",
            "`not-an-email`",
            "fallback reviewer",
        ] {
            assert!(message.contains(expected), "{expected}: {message}");
        }
    }

    #[test]
    fn roles_take_their_known_spelling() {
        let known = known(&[1, 2]);
        assert_eq!(known.role(" billing "), Some("Billing"));
        assert_eq!(known.role("SUPPORT LEAD"), Some("Support Lead"));
        assert_eq!(known.role("Auditor"), None);
        assert_eq!(
            known.roles.first().map(String::as_str),
            Some("Account Owner")
        );
        let with = CampaignInput {
            roles: vec!["support lead".into()],
            ..input()
        };
        assert_eq!(validate(&with, &known).unwrap().roles, ["Support Lead"]);
    }
}

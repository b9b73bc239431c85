//! The demo's campaign data: a manager mapping, server owners, an open campaign for Rita and
//! Manny to work through, and a recurring template for next quarter.

use super::{
    db::{create, format_date, validate},
    lifecycle::launch,
    managers, CampaignInput,
};
use crate::{audit::Actor, clock::Clock, db::Db, inventory::settings::set_owner};

/// The demo's manager mapping (also the documented sample of the format).
const MANAGERS_CSV: &str = include_str!("../../docs/sample-managers.csv");

fn input(name: &str, starts: time::Date, due: time::Date, recurring: bool) -> CampaignInput {
    let on = Some("on".to_string());
    CampaignInput {
        name: name.to_string(),
        description: "Every Postmark login, server permission and server: keep what is needed, \
                      revoke the rest."
            .to_string(),
        kind_account_role: on.clone(),
        kind_server_permission: on.clone(),
        kind_server: on.clone(),
        starts_on: format_date(starts),
        due_on: format_date(due),
        default_outcome: "flag".to_string(),
        revoke_needs_justification: on.clone(),
        privileged_needs_justification: on.clone(),
        use_manager_mapping: on.clone(),
        use_server_owners: on.clone(),
        fallback_reviewer: "ada.admin@example.com".to_string(),
        recurring: recurring.then_some("on".to_string()),
        reminder_days: "7, 1".to_string(),
        ..CampaignInput::default()
    }
}

/// Seeds the demo database after the first sync.
pub async fn seed(db: &Db, clock: &dyn Clock, allowlist: &[String]) -> anyhow::Result<()> {
    let actor = Actor::system("demo");
    let mapping = managers::parse(MANAGERS_CSV.as_bytes()).map_err(|rejected| {
        anyhow::anyhow!("demo managers file is invalid: {:?}", rejected.errors)
    })?;
    managers::import(db, clock, &actor, "docs/sample-managers.csv", mapping).await?;
    for (server, owner) in [
        (10001, "rita.reviewer@example.com"),
        (10002, "manny.manager@example.com"),
        (10003, "rita.reviewer@example.com"),
        (10004, "manny.manager@example.com"),
    ] {
        set_owner(db, clock, &actor, server, owner).await?;
    }
    let known = crate::inventory::db::server_ids(db).await?;
    let today = clock.now().date();
    let open = validate(
        &input(
            &format!(
                "{} Q{} access review",
                today.year(),
                (u8::from(today.month()) - 1) / 3 + 1
            ),
            today,
            today + time::Duration::days(14),
            false,
        ),
        &known,
    )?;
    let id = create(db, clock, &actor, "demo", &open).await?;
    launch(db, clock, &actor, "demo", id, allowlist).await?;
    let next_quarter = super::schedule::add_months(
        time::Date::from_calendar_date(
            today.year(),
            time::Month::try_from(((u8::from(today.month()) - 1) / 3) * 3 + 1)?,
            1,
        )?,
        3,
    );
    let template = validate(
        &input(
            "Quarterly access review",
            next_quarter,
            next_quarter + time::Duration::days(14),
            true,
        ),
        &known,
    )?;
    create(db, clock, &actor, "demo", &template).await?;
    Ok(())
}

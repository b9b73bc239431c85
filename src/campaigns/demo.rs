//! The demo's campaign data: a manager mapping, server owners, an open campaign for Rita and
//! Manny to work through, a recurring template for next quarter, and last quarter's review,
//! carried out and signed off.

use super::{
    db::{create, format_date},
    lifecycle::launch,
    managers,
    validate::{validate, Known},
    CampaignInput,
};
use crate::{
    audit::Actor,
    clock::Clock,
    db::Db,
    inventory::settings::set_owner,
    review_items::{Decision, ItemKind},
};

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
pub async fn seed(
    db: &Db,
    clock: &dyn Clock,
    auth: &crate::config::AuthConfig,
    allowlist: &[String],
) -> anyhow::Result<()> {
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
        // The demo's own people: known once the mapping above is in, confirmed regardless.
        set_owner(db, clock, &actor, auth, server, owner, true).await?;
    }
    let known = Known::load(db).await?;
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
    closed_campaign(db, clock, allowlist, &known).await
}

/// The servers the demo's closed campaign revokes: one is quarantined (Marketing newsletters),
/// the other's changes fail in the simulator (Password resets) so a failed job shows; and the
/// people whose permissions on them it removes. The Account Owner's access, revoked too, is a
/// manual task: no API changes the owner.
const DEMO_QUARANTINED: i64 = 10_003;
pub const DEMO_FAILING_SERVER: i64 = 10_004;
const DEMO_REVOKED: [&str; 4] = [
    "noah.nakamura@example.com",
    "sam.silva@example.com",
    "dana.dubois@example.com",
    "kofi.kim@example.com",
];

/// Last month's review of two servers, decided and closed, its revocations carried out at
/// close: after start-up the worker quarantines a server and removes permissions through the
/// users gateway, so the Revocations page and the dashboard have something to show.
async fn closed_campaign(
    db: &Db,
    clock: &dyn Clock,
    allowlist: &[String],
    known: &Known,
) -> anyhow::Result<()> {
    let actor = Actor::system("demo");
    let today = clock.now().date();
    let mut settings = input(
        "Payments servers review",
        today - time::Duration::days(30),
        today - time::Duration::days(16),
        false,
    );
    settings.server_ids = vec!["10003".to_string(), "10004".to_string()];
    settings.roles = vec!["Account Owner".to_string()];
    settings.default_outcome = "keep".to_string();
    settings.revocation_mode = crate::revocations::Mode::AtClose.slug().to_string();
    settings.reminder_days = String::new();
    let settings = validate(&settings, known)?;
    let id = create(db, clock, &actor, "demo", &settings).await?;
    launch(db, clock, &actor, "demo", id, allowlist).await?;
    let items = crate::review_items::db::items_where(db, "i.campaign_id = $1", id, None).await?;
    for item in items {
        let revoke = match (item.kind, &item.user_email) {
            (ItemKind::Server, _) => {
                item.server_id == Some(DEMO_QUARANTINED)
                    || item.server_id == Some(DEMO_FAILING_SERVER)
            }
            (ItemKind::AccountRole, _) => item.access == "Account Owner",
            (_, Some(email)) => DEMO_REVOKED.contains(&email.as_str()),
            (_, None) => false,
        };
        let (decision, why) = if revoke {
            (Decision::Revoke, "No longer works on payments")
        } else {
            (Decision::Approve, "Still needed")
        };
        crate::reviews::db::decide(
            db,
            clock,
            &actor,
            &item.reviewer,
            item.id,
            decision,
            why,
            item.version,
        )
        .await?;
    }
    super::lifecycle::close(db, clock, &actor, "demo", id, false).await?;
    Ok(())
}

/// The server last quarter's review quarantined: a retired app's server, no sends.
pub const DEMO_SIGNED_OFF_SERVER: i64 = 10_007;

/// The start of the quarter before the one `today` is in.
fn last_quarter_start(today: time::Date) -> anyhow::Result<time::Date> {
    let quarter = (u8::from(today.month()) - 1) / 3;
    let (year, first_month) = match quarter {
        0 => (today.year() - 1, 10),
        q => (today.year(), (q - 1) * 3 + 1),
    };
    Ok(time::Date::from_calendar_date(
        year,
        time::Month::try_from(first_month)?,
        1,
    )?)
}

/// Last quarter's review of a legacy server: Rita decided it, the server with no sends is
/// revoked (a quarantine through the Account API, so it runs with or without a users
/// gateway), and the campaign is closed. The caller runs its revocation, syncs, and signs it
/// off ([`sign_off_last_quarter`]). Returns the campaign's id.
pub async fn last_quarter(db: &Db, clock: &dyn Clock, allowlist: &[String]) -> anyhow::Result<i64> {
    let actor = Actor::system("demo");
    let known = Known::load(db).await?;
    let starts = last_quarter_start(clock.now().date())?;
    let mut settings = input(
        &format!(
            "{} Q{} legacy servers review",
            starts.year(),
            (u8::from(starts.month()) - 1) / 3 + 1
        ),
        starts,
        starts + time::Duration::days(14),
        false,
    );
    settings.description = "Servers of retired applications, and who can reach them.".to_string();
    settings.kind_account_role = None;
    settings.server_ids = vec![DEMO_SIGNED_OFF_SERVER.to_string()];
    settings.default_outcome = "keep".to_string();
    settings.use_manager_mapping = None;
    settings.use_server_owners = None;
    settings.fallback_reviewer = "rita.reviewer@example.com".to_string();
    settings.revocation_mode = crate::revocations::Mode::AtClose.slug().to_string();
    settings.reminder_days = String::new();
    let settings = validate(&settings, &known)?;
    let id = create(db, clock, &actor, "demo", &settings).await?;
    launch(db, clock, &actor, "demo", id, allowlist).await?;
    let items = crate::review_items::db::items_where(db, "i.campaign_id = $1", id, None).await?;
    for item in items {
        let (decision, why) = if item.kind == ItemKind::Server {
            (
                Decision::Revoke,
                "The 2019 app was retired in the summer; no sends in 30 days",
            )
        } else {
            (Decision::Approve, "Still on the platform team")
        };
        crate::reviews::db::decide(
            db,
            clock,
            &actor,
            &item.reviewer,
            item.id,
            decision,
            why,
            item.version,
        )
        .await?;
    }
    super::lifecycle::close(db, clock, &actor, "demo", id, false).await?;
    Ok(id)
}

/// Ada's sign-off of last quarter's review, once its revocation ran and a sync proved it.
pub async fn sign_off_last_quarter(
    db: &Db,
    clock: &dyn Clock,
    signer: &crate::signing::Signer,
    id: i64,
) -> anyhow::Result<()> {
    crate::signoff::db::sign_off(
        db,
        clock,
        signer,
        &Actor::system("demo"),
        "ada.admin@example.com",
        id,
        "Every item was decided by its reviewer; the revoked server was quarantined and the \
         next sync confirmed it. Reviewed and signed off for the Q3 audit.",
    )
    .await
    .map_err(|error| anyhow::anyhow!("demo sign-off failed: {error}"))?;
    Ok(())
}

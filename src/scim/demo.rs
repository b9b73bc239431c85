//! The demo's identity provider: at start, "Okta (demo)" pushes a person for every Postmark
//! login but one (that login is the orphaned account), then deactivates two leavers. One
//! leaver's removal goes through and a sync proves it; the gateway refuses the other's (the
//! demo's simulator is told to), so the Offboarding page shows a failed removal flagged past
//! the deadline. A group, "postmark-payments-admins", is mapped to Server Admin on the last
//! two servers: its joiner (no login yet) is invited and granted, its other member granted.
//!
//! The push calls the same functions the `/scim/v2` handlers call, as a provider with no
//! token: it is not an HTTP client, and the SCIM page keeps showing "No tokens yet".

use serde_json::json;

use super::tokens::Provider;
use crate::{
    clock::{format_timestamp, Clock},
    db::Db,
};

pub const DEMO_PROVIDER: &str = "Okta (demo)";
/// Deactivated; removed by the users gateway and proved by the sync that follows.
pub const DEMO_LEAVER: &str = "elena.evans@example.com";
/// Deactivated; the gateway refuses the removal, so it fails and is flagged.
pub const DEMO_STUCK_LEAVER: &str = "jonas.jensen@example.com";
/// Never pushed: a Postmark login nobody at the provider knows.
pub const DEMO_ORPHAN: &str = "zoe.zimmer@example.com";
/// A group mapped to Server Admin on the last two servers.
pub const DEMO_GROUP: &str = "postmark-payments-admins";
/// A joiner in that group with no Postmark login yet: invited, then granted.
pub const DEMO_JOINER: &str = "nadia.novak@example.com";

/// The body a provider would POST for this person, read as the handler reads it.
fn person(email: &str, name: &str) -> anyhow::Result<super::resource::Doc> {
    let (given, family) = name.split_once(' ').unwrap_or((name, ""));
    let body = json!({
        "schemas": [super::schema::USER],
        "userName": email,
        "name": { "givenName": given, "familyName": family, "formatted": name },
        "displayName": name,
        "emails": [{ "value": email, "type": "work", "primary": true }],
        "active": true,
    });
    super::resource::from_body(body, &super::schema::USERS)
        .map_err(|e| anyhow::anyhow!("demo SCIM person {email}: {e:?}"))
}

/// Pushes the demo's people and deactivates its two leavers.
pub async fn push(db: &Db, clock: &dyn Clock) -> anyhow::Result<()> {
    let now = format_timestamp(clock.now());
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO scim_providers (name, name_key, created_at, created_by) \
         VALUES ($1, $2, $3, 'demo') RETURNING id",
    )
    .bind(DEMO_PROVIDER)
    .bind(DEMO_PROVIDER.to_lowercase())
    .bind(&now)
    .fetch_one(db.pool())
    .await?;
    let provider = Provider {
        id,
        name: DEMO_PROVIDER.to_string(),
        token_id: 0,
    };
    let logins: Vec<(String, String)> =
        sqlx::query_as("SELECT email, name FROM postmark_users ORDER BY email")
            .fetch_all(db.pool())
            .await?;
    let mut leavers = Vec::new();
    for (email, name) in logins.iter().filter(|(email, _)| email != DEMO_ORPHAN) {
        let user = super::users::create(db, clock, &provider, person(email, name)?)
            .await
            .map_err(|e| anyhow::anyhow!("demo SCIM push of {email}: {e:?}"))?;
        if [DEMO_LEAVER, DEMO_STUCK_LEAVER].contains(&email.as_str()) {
            leavers.push(user.id);
        }
    }
    let joiner = super::users::create(db, clock, &provider, person(DEMO_JOINER, "Nadia Novak")?)
        .await
        .map_err(|e| anyhow::anyhow!("demo SCIM push of {DEMO_JOINER}: {e:?}"))?;
    map_group(db, clock, &provider, &joiner.id).await?;
    for id in leavers {
        super::users::update(db, clock, &provider, &id, |doc| {
            let mut doc = doc.clone();
            doc.insert("active".into(), json!(false));
            Ok(doc)
        })
        .await
        .map_err(|e| anyhow::anyhow!("demo SCIM deactivation: {e:?}"))?;
    }
    Ok(())
}

/// The payments group (the joiner and one existing login without the access: the last in
/// order, so the queues' first items, which the demo's walkthroughs approve, stay as they
/// were), then its mapping, saved as an admin would: the jobs it starts run once the app
/// serves.
async fn map_group(
    db: &Db,
    clock: &dyn Clock,
    provider: &Provider,
    joiner: &str,
) -> anyhow::Result<()> {
    let mover: Option<(String,)> = sqlx::query_as(
        "SELECT u.id FROM scim_users u JOIN postmark_users p ON p.email = u.user_name_key \
         WHERE p.role = 'Server Access' AND p.email NOT IN ($1, $2, $3) \
         ORDER BY p.email DESC LIMIT 1",
    )
    .bind(DEMO_LEAVER)
    .bind(DEMO_STUCK_LEAVER)
    .bind(DEMO_ORPHAN)
    .fetch_optional(db.pool())
    .await?;
    let mut members = vec![json!({ "value": joiner })];
    members.extend(mover.map(|(id,)| json!({ "value": id })));
    let body = json!({
        "schemas": [super::schema::GROUP],
        "displayName": DEMO_GROUP,
        "members": members,
    });
    let doc = super::resource::from_body(body, &super::schema::GROUPS)
        .map_err(|e| anyhow::anyhow!("demo SCIM group: {e:?}"))?;
    super::groups::create(db, clock, provider, &doc)
        .await
        .map_err(|e| anyhow::anyhow!("demo SCIM group: {e:?}"))?;
    let servers: Vec<(i64,)> =
        sqlx::query_as("SELECT postmark_id FROM servers ORDER BY postmark_id DESC LIMIT 2")
            .fetch_all(db.pool())
            .await?;
    let form = crate::mappings::MappingForm {
        id: None,
        group: DEMO_GROUP.to_string(),
        role: String::new(),
        permission: "Server Admin".to_string(),
        servers: servers.into_iter().map(|(id,)| id).collect(),
    };
    let actor = crate::audit::Actor::system("demo");
    crate::mappings::db::save(db, clock, &actor, "demo", &form)
        .await
        .map_err(|e| anyhow::anyhow!("demo group mapping: {e}"))?;
    Ok(())
}

//! SCIM users in the database, and their audit events.
//!
//! The attributes offboarding reads (userName, externalId, active, names, emails) have columns
//! of their own; every other accepted attribute is kept as JSON in `attributes`. A deleted user
//! stays as a tombstone (`deleted_at`), invisible to SCIM.

use serde_json::{json, Map, Value};

use super::{
    error::{ScimError, ScimType},
    filter::Filter,
    filter_sql,
    resource::Doc,
    schema,
    tokens::Provider,
};
use crate::{
    audit::{self, Event},
    clock::{format_timestamp, Clock},
    db::{Backend, Db, Tx},
};

/// A live user as stored.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub id: String,
    pub doc: Doc,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl StoredUser {
    pub fn user_name(&self) -> &str {
        self.doc
            .get("userName")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    fn active(&self) -> bool {
        active(&self.doc)
    }

    /// The SCIM representation.
    pub fn render(&self, base: &str) -> Value {
        let mut schemas = vec![json!(schema::USER)];
        if self.doc.contains_key(schema::ENTERPRISE_USER) {
            schemas.push(json!(schema::ENTERPRISE_USER));
        }
        let mut out = Map::new();
        out.insert("schemas".into(), Value::Array(schemas));
        out.insert("id".into(), json!(self.id));
        out.extend(self.doc.clone());
        out.insert(
            "meta".into(),
            json!({
                "resourceType": "User",
                "created": self.created_at,
                "lastModified": self.updated_at,
                "location": format!("{base}/Users/{}", self.id),
                "version": format!("W/\"{}\"", self.version),
            }),
        );
        Value::Object(out)
    }
}

/// `active` is true unless the provider said otherwise.
fn active(doc: &Doc) -> bool {
    doc.get("active").and_then(Value::as_bool).unwrap_or(true)
}

type UserRow = (
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    i64,
    String,
    String,
);

// The Any driver cannot decode SQLite's BOOLEAN: read it as a number.
const COLUMNS: &str = "u.id, u.user_name, u.external_id, \
     CAST(CASE WHEN u.active THEN 1 ELSE 0 END AS BIGINT), u.display_name, \
     u.given_name, u.family_name, u.formatted_name, u.emails, u.attributes, u.version, \
     u.created_at, u.updated_at";

fn from_row(row: UserRow) -> Result<StoredUser, ScimError> {
    let (
        id,
        user_name,
        external_id,
        active,
        display_name,
        given,
        family,
        formatted,
        emails,
        attributes,
        version,
        created_at,
        updated_at,
    ) = row;
    let parse = |text: &str, what: &str| {
        serde_json::from_str::<Value>(text)
            .map_err(|e| ScimError::internal(anyhow::anyhow!("scim user {id}: bad {what}: {e}")))
    };
    let Value::Object(mut doc) = parse(&attributes, "attributes")? else {
        return Err(ScimError::internal(anyhow::anyhow!(
            "scim user {id}: attributes are not an object"
        )));
    };
    let mut name = match doc.remove("name") {
        Some(Value::Object(name)) => name,
        _ => Map::new(),
    };
    for (key, value) in [
        ("givenName", given),
        ("familyName", family),
        ("formatted", formatted),
    ] {
        if let Some(value) = value {
            name.insert(key.into(), json!(value));
        }
    }
    doc.insert("userName".into(), json!(user_name));
    if let Some(external_id) = external_id {
        doc.insert("externalId".into(), json!(external_id));
    }
    doc.insert("active".into(), json!(active != 0));
    if let Some(display_name) = display_name {
        doc.insert("displayName".into(), json!(display_name));
    }
    if !name.is_empty() {
        doc.insert("name".into(), Value::Object(name));
    }
    let emails = parse(&emails, "emails")?;
    if emails.as_array().is_some_and(|e| !e.is_empty()) {
        doc.insert("emails".into(), emails);
    }
    Ok(StoredUser {
        id,
        doc,
        version,
        created_at,
        updated_at,
    })
}

/// A document as column values.
struct Columns {
    user_name: String,
    external_id: Option<String>,
    active: bool,
    display_name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    formatted_name: Option<String>,
    emails: Value,
    attributes: Value,
}

fn columns(doc: &Doc) -> Columns {
    let text = |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_string));
    let mut rest = doc.clone();
    let mut name = match rest.remove("name") {
        Some(Value::Object(name)) => name,
        _ => Map::new(),
    };
    let columns = Columns {
        user_name: text(rest.remove("userName")).unwrap_or_default(),
        external_id: text(rest.remove("externalId")),
        active: rest
            .remove("active")
            .and_then(|v| v.as_bool())
            .unwrap_or(true),
        display_name: text(rest.remove("displayName")),
        given_name: text(name.remove("givenName")),
        family_name: text(name.remove("familyName")),
        formatted_name: text(name.remove("formatted")),
        emails: rest.remove("emails").unwrap_or_else(|| json!([])),
        attributes: Value::Null,
    };
    if !name.is_empty() {
        rest.insert("name".into(), Value::Object(name));
    }
    Columns {
        attributes: Value::Object(rest),
        ..columns
    }
}

fn lock(tx: &Tx) -> &'static str {
    match tx.backend() {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}

fn audit_base(provider: &Provider, user_name: &str) -> Map<String, Value> {
    Map::from_iter([
        ("provider".to_string(), json!(provider.name)),
        ("provider_id".to_string(), json!(provider.id)),
        ("userName".to_string(), json!(user_name)),
    ])
}

async fn record(
    tx: &mut Tx,
    clock: &dyn Clock,
    provider: &Provider,
    action: &str,
    id: &str,
    details: Map<String, Value>,
) -> Result<(), ScimError> {
    audit::record(
        tx,
        clock,
        &provider.actor(),
        &Event::new(action, format!("scim_user:{id}")).details(Value::Object(details)),
    )
    .await?;
    Ok(())
}

async fn check_unique(
    tx: &mut Tx,
    provider: &Provider,
    user_name: &str,
    except: Option<&str>,
) -> Result<(), ScimError> {
    let taken: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM scim_users WHERE provider_id = $1 AND user_name_key = $2 \
         AND deleted_at IS NULL AND id <> $3",
    )
    .bind(provider.id)
    .bind(user_name.to_lowercase())
    .bind(except.unwrap_or(""))
    .fetch_optional(&mut **tx)
    .await?;
    match taken {
        Some(_) => Err(uniqueness(user_name)),
        None => Ok(()),
    }
}

fn uniqueness(user_name: &str) -> ScimError {
    ScimError::new(
        http::StatusCode::CONFLICT,
        Some(ScimType::Uniqueness),
        format!("a user with userName `{user_name}` already exists"),
    )
}

/// A unique index refusing the write (two creates racing on PostgreSQL) is a 409 as well.
fn unique_or(error: sqlx::Error, user_name: &str) -> ScimError {
    match error.as_database_error() {
        Some(db) if db.is_unique_violation() => uniqueness(user_name),
        _ => ScimError::from(error),
    }
}

async fn write_emails(tx: &mut Tx, id: &str, emails: &Value) -> Result<(), ScimError> {
    sqlx::query("DELETE FROM scim_user_emails WHERE user_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let mut seen = Vec::new();
    for email in emails.as_array().into_iter().flatten() {
        let Some(value) = email.get("value").and_then(Value::as_str) else {
            continue;
        };
        let key = value.to_lowercase();
        if seen.contains(&key) {
            continue;
        }
        sqlx::query(
            "INSERT INTO scim_user_emails (user_id, value_key, type_key, is_primary) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(&key)
        .bind(
            email
                .get("type")
                .and_then(Value::as_str)
                .map(str::to_lowercase),
        )
        .bind(
            email
                .get("primary")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        )
        .execute(&mut **tx)
        .await?;
        seen.push(key);
    }
    Ok(())
}

/// Starts (or cancels) offboarding in the transaction of the change that calls for it, so a
/// leaver is never recorded without their removal.
async fn offboard(tx: &mut Tx, clock: &dyn Clock) -> Result<(), ScimError> {
    crate::offboarding::db::reconcile(tx, clock).await?;
    Ok(())
}

pub async fn create(
    db: &Db,
    clock: &dyn Clock,
    provider: &Provider,
    doc: Doc,
) -> Result<StoredUser, ScimError> {
    let c = columns(&doc);
    let mut tx = db.begin().await?;
    check_unique(&mut tx, provider, &c.user_name, None).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = format_timestamp(clock.now());
    sqlx::query(
        "INSERT INTO scim_users (id, provider_id, user_name, user_name_key, external_id, active, \
         display_name, given_name, family_name, formatted_name, emails, attributes, version, \
         created_at, updated_at, deactivated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $13, $14)",
    )
    .bind(&id)
    .bind(provider.id)
    .bind(&c.user_name)
    .bind(c.user_name.to_lowercase())
    .bind(&c.external_id)
    .bind(c.active)
    .bind(&c.display_name)
    .bind(&c.given_name)
    .bind(&c.family_name)
    .bind(&c.formatted_name)
    .bind(c.emails.to_string())
    .bind(c.attributes.to_string())
    .bind(&now)
    .bind((!c.active).then(|| now.clone()))
    .execute(&mut *tx)
    .await
    .map_err(|e| unique_or(e, &c.user_name))?;
    write_emails(&mut tx, &id, &c.emails).await?;
    let mut details = audit_base(provider, &c.user_name);
    details.insert("attributes".into(), Value::Object(doc.clone()));
    record(&mut tx, clock, provider, "scim.user_created", &id, details).await?;
    // A person created inactive may be a leaver with a Postmark login.
    offboard(&mut tx, clock).await?;
    tx.commit().await?;
    Ok(StoredUser {
        id,
        doc,
        version: 1,
        created_at: now.clone(),
        updated_at: now,
    })
}

async fn load(tx: &mut Tx, provider: &Provider, id: &str) -> Result<StoredUser, ScimError> {
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM scim_users u \
         WHERE u.id = $1 AND u.provider_id = $2 AND u.deleted_at IS NULL{}",
        lock(tx)
    ))
    .bind(id)
    .bind(provider.id)
    .fetch_optional(&mut **tx)
    .await?;
    from_row(row.ok_or_else(|| ScimError::not_found("user"))?)
}

/// A live user of `provider`.
pub async fn get(db: &Db, provider: &Provider, id: &str) -> Result<StoredUser, ScimError> {
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM scim_users u \
         WHERE u.id = $1 AND u.provider_id = $2 AND u.deleted_at IS NULL"
    ))
    .bind(id)
    .bind(provider.id)
    .fetch_optional(db.pool())
    .await?;
    from_row(row.ok_or_else(|| ScimError::not_found("user"))?)
}

/// Top-level attributes whose values differ, with both values.
pub fn changes(before: &Doc, after: &Doc) -> Map<String, Value> {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| {
            (
                k.clone(),
                json!({"before": before.get(k), "after": after.get(k)}),
            )
        })
        .collect()
}

/// Replaces a user's attributes with what `change` makes of them (PUT, PATCH). Nothing is
/// written, and no event recorded, when the result equals what is stored.
pub async fn update(
    db: &Db,
    clock: &dyn Clock,
    provider: &Provider,
    id: &str,
    change: impl FnOnce(&Doc) -> Result<Doc, ScimError>,
) -> Result<StoredUser, ScimError> {
    let mut tx = db.begin().await?;
    let old = load(&mut tx, provider, id).await?;
    let mappings_before = crate::mappings::db::before_change(&mut tx).await?;
    let mut doc = change(&old.doc)?;
    // Stored users always show `active`; a PUT without it keeps the user active.
    if !doc.contains_key("active") {
        doc.insert("active".into(), json!(true));
    }
    let diff = changes(&old.doc, &doc);
    if diff.is_empty() {
        tx.rollback().await?;
        return Ok(old);
    }
    let c = columns(&doc);
    check_unique(&mut tx, provider, &c.user_name, Some(id)).await?;
    let now = format_timestamp(clock.now());
    let (was, is) = (old.active(), c.active);
    // Deactivation time: set when active goes false, cleared when the user comes back.
    let deactivated = match (was, is) {
        (true, false) => "$13",
        (false, true) => "NULL",
        _ => "deactivated_at",
    };
    sqlx::query(&format!(
        "UPDATE scim_users SET user_name = $1, user_name_key = $2, external_id = $3, \
         active = $4, display_name = $5, given_name = $6, family_name = $7, \
         formatted_name = $8, emails = $9, attributes = $10, version = version + 1, \
         updated_at = $13, deactivated_at = {deactivated} WHERE id = $11 AND provider_id = $12"
    ))
    .bind(&c.user_name)
    .bind(c.user_name.to_lowercase())
    .bind(&c.external_id)
    .bind(c.active)
    .bind(&c.display_name)
    .bind(&c.given_name)
    .bind(&c.family_name)
    .bind(&c.formatted_name)
    .bind(c.emails.to_string())
    .bind(c.attributes.to_string())
    .bind(id)
    .bind(provider.id)
    .bind(&now)
    .execute(&mut *tx)
    .await
    .map_err(|e| unique_or(e, &c.user_name))?;
    if diff.contains_key("emails") {
        write_emails(&mut tx, id, &c.emails).await?;
    }
    let action = match (was, is) {
        (true, false) => "scim.user_deactivated",
        (false, true) => "scim.user_reactivated",
        _ => "scim.user_updated",
    };
    let mut details = audit_base(provider, &c.user_name);
    details.insert("changes".into(), Value::Object(diff));
    record(&mut tx, clock, provider, action, id, details).await?;
    // A deactivation (or new emails) may make a leaver; a reactivation may save one.
    offboard(&mut tx, clock).await?;
    // Someone back (or with a new email) gets what their groups map to; what a leaver loses
    // is offboarding's, above.
    let actor = provider.actor();
    crate::mappings::db::after_change(&mut tx, clock, &actor, mappings_before, false).await?;
    tx.commit().await?;
    Ok(StoredUser {
        id: old.id,
        doc,
        version: old.version + 1,
        created_at: old.created_at,
        updated_at: now,
    })
}

/// Deletes a user: the row stays as a tombstone (deactivated, out of every group) so
/// offboarding knows who left; SCIM no longer finds it.
pub async fn delete(
    db: &Db,
    clock: &dyn Clock,
    provider: &Provider,
    id: &str,
) -> Result<(), ScimError> {
    let mut tx = db.begin().await?;
    let user = load(&mut tx, provider, id).await?;
    let groups: Vec<(String, String)> = sqlx::query_as(
        "SELECT g.id, g.display_name FROM scim_group_members m \
         JOIN scim_groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.display_name",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM scim_group_members WHERE user_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let now = format_timestamp(clock.now());
    sqlx::query(
        "UPDATE scim_users SET deleted_at = $1, updated_at = $1, active = $2, \
         version = version + 1, deactivated_at = COALESCE(deactivated_at, $1) WHERE id = $3",
    )
    .bind(&now)
    .bind(false)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let mut details = audit_base(provider, user.user_name());
    details.insert("was_active".into(), json!(user.active()));
    details.insert(
        "left_groups".into(),
        json!(groups
            .into_iter()
            .map(|(id, name)| json!({"id": id, "displayName": name}))
            .collect::<Vec<_>>()),
    );
    record(&mut tx, clock, provider, "scim.user_deleted", id, details).await?;
    offboard(&mut tx, clock).await?;
    tx.commit().await?;
    Ok(())
}

/// One page of the provider's live users matching `filter`, oldest first, and how many match.
pub async fn list(
    db: &Db,
    provider: &Provider,
    filter: Option<&Filter>,
    offset: i64,
    count: i64,
) -> Result<(i64, Vec<StoredUser>), ScimError> {
    let condition = match filter {
        Some(f) => Some(filter_sql::compile(f, &filter_sql::USERS, db.backend(), 2)?),
        None => None,
    };
    let (clause, params) = match &condition {
        Some(c) => (format!(" AND {}", c.clause), c.params.clone()),
        None => (String::new(), Vec::new()),
    };
    let base =
        format!("FROM scim_users u WHERE u.provider_id = $1 AND u.deleted_at IS NULL{clause}");
    let count_sql = format!("SELECT COUNT(*) {base}");
    let mut query = sqlx::query_as::<_, (i64,)>(&count_sql).bind(provider.id);
    for p in &params {
        query = filter_sql::bind(query, p);
    }
    let (total,) = query.fetch_one(db.pool()).await?;
    if count == 0 || offset >= total {
        return Ok((total, Vec::new()));
    }
    let n = params.len() + 2;
    let sql = format!(
        "SELECT {COLUMNS} {base} ORDER BY u.created_at, u.id LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let mut query = sqlx::query_as::<_, UserRow>(&sql).bind(provider.id);
    for p in &params {
        query = filter_sql::bind(query, p);
    }
    let rows = query.bind(count).bind(offset).fetch_all(db.pool()).await?;
    let users = rows
        .into_iter()
        .map(from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((total, users))
}

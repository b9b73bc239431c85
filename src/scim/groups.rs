//! SCIM groups and their members in the database, and their audit events. Members are users
//! of the same provider; a group never contains another group.

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Map, Value};

use super::{
    error::ScimError, filter::Filter, filter_sql, resource::Doc, schema, tokens::Provider,
};
use crate::{
    audit::{self, Event},
    clock::{format_timestamp, Clock},
    db::{Backend, Db, Tx},
};

/// Member ids checked per query.
const CHUNK: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub user_name: String,
    pub display: String,
}

#[derive(Debug, Clone)]
pub struct StoredGroup {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<Member>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl StoredGroup {
    /// The writable attributes, as PATCH sees them.
    pub fn doc(&self) -> Doc {
        let mut doc = Map::new();
        doc.insert("displayName".into(), json!(self.display_name));
        if let Some(external_id) = &self.external_id {
            doc.insert("externalId".into(), json!(external_id));
        }
        if !self.members.is_empty() {
            doc.insert(
                "members".into(),
                Value::Array(
                    self.members
                        .iter()
                        .map(|m| json!({"value": m.id}))
                        .collect(),
                ),
            );
        }
        doc
    }

    /// The SCIM representation; `members` left out when not wanted (they can be many).
    pub fn render(&self, base: &str, with_members: bool) -> Value {
        let mut out = json!({
            "schemas": [schema::GROUP],
            "id": self.id,
            "displayName": self.display_name,
            "meta": {
                "resourceType": "Group",
                "created": self.created_at,
                "lastModified": self.updated_at,
                "location": format!("{base}/Groups/{}", self.id),
                "version": format!("W/\"{}\"", self.version),
            },
        });
        if let Some(external_id) = &self.external_id {
            out["externalId"] = json!(external_id);
        }
        if with_members {
            out["members"] = Value::Array(
                self.members
                    .iter()
                    .map(|m| {
                        json!({
                            "value": m.id,
                            "display": m.display,
                            "type": "User",
                            "$ref": format!("{base}/Users/{}", m.id),
                        })
                    })
                    .collect(),
            );
        }
        out
    }
}

/// What a document asks for, in columns: the name, the external id and member ids.
struct Wanted {
    display_name: String,
    external_id: Option<String>,
    members: Vec<String>,
}

fn wanted(doc: &Doc) -> Result<Wanted, ScimError> {
    let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_string);
    let mut members = Vec::new();
    for member in doc
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if member
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.eq_ignore_ascii_case("User"))
        {
            return Err(ScimError::value(
                "only users can be members: groups do not nest here",
            ));
        }
        let id = member
            .get("value")
            .and_then(Value::as_str)
            .ok_or_else(|| ScimError::value("each member needs a `value`: the user's id"))?;
        if !members.iter().any(|m| m == id) {
            members.push(id.to_string());
        }
    }
    Ok(Wanted {
        display_name: text("displayName").unwrap_or_default(),
        external_id: text("externalId"),
        members,
    })
}

/// The live users of `provider` among `ids`, by id.
async fn users(
    tx: &mut Tx,
    provider: &Provider,
    ids: &[String],
) -> Result<HashMap<String, Member>, ScimError> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT id, user_name, COALESCE(display_name, user_name) FROM scim_users \
             WHERE provider_id = $1 AND deleted_at IS NULL AND id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as::<_, (String, String, String)>(&sql).bind(provider.id);
        for id in chunk {
            query = query.bind(id.clone());
        }
        for (id, user_name, display) in query.fetch_all(&mut **tx).await? {
            found.insert(
                id.clone(),
                Member {
                    id,
                    user_name,
                    display,
                },
            );
        }
    }
    Ok(found)
}

/// The members `ids` as users, or 400 naming one that is not a user of this provider.
async fn members(
    tx: &mut Tx,
    provider: &Provider,
    ids: &[String],
) -> Result<Vec<Member>, ScimError> {
    let mut found = users(tx, provider, ids).await?;
    ids.iter()
        .map(|id| {
            found.remove(id).ok_or_else(|| {
                ScimError::value(format!("member `{id}` is not a user of this provider"))
            })
        })
        .collect()
}

fn audit_members(members: &[&Member]) -> Value {
    Value::Array(
        members
            .iter()
            .map(|m| json!({"id": m.id, "userName": m.user_name}))
            .collect(),
    )
}

async fn record(
    tx: &mut Tx,
    clock: &dyn Clock,
    provider: &Provider,
    action: &str,
    id: &str,
    display_name: &str,
    more: Value,
) -> Result<(), ScimError> {
    let mut details = json!({
        "provider": provider.name,
        "provider_id": provider.id,
        "displayName": display_name,
    });
    if let (Some(details), Value::Object(more)) = (details.as_object_mut(), more) {
        details.extend(more);
    }
    audit::record(
        tx,
        clock,
        &provider.actor(),
        &Event::new(action, format!("scim_group:{id}")).details(details),
    )
    .await?;
    Ok(())
}

/// Joiners and movers: what the group mappings now give or no longer give, as jobs in the
/// change's own transaction (a membership is never recorded without its jobs).
async fn mapped(
    tx: &mut Tx,
    clock: &dyn Clock,
    provider: &Provider,
    before: Option<crate::mappings::entitle::Entitlements>,
) -> Result<(), ScimError> {
    crate::mappings::db::after_change(tx, clock, &provider.actor(), before, true).await?;
    Ok(())
}

async fn insert_members(
    tx: &mut Tx,
    group: &str,
    members: &[&Member],
    now: &str,
) -> Result<(), ScimError> {
    for m in members {
        sqlx::query(
            "INSERT INTO scim_group_members (group_id, user_id, added_at) VALUES ($1, $2, $3)",
        )
        .bind(group)
        .bind(&m.id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub async fn create(
    db: &Db,
    clock: &dyn Clock,
    provider: &Provider,
    doc: &Doc,
) -> Result<StoredGroup, ScimError> {
    let w = wanted(doc)?;
    let mut tx = db.begin().await?;
    let mappings_before = crate::mappings::db::before_change(&mut tx).await?;
    let members = members(&mut tx, provider, &w.members).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = format_timestamp(clock.now());
    sqlx::query(
        "INSERT INTO scim_groups (id, provider_id, display_name, display_name_key, external_id, \
         version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $6)",
    )
    .bind(&id)
    .bind(provider.id)
    .bind(&w.display_name)
    .bind(w.display_name.to_lowercase())
    .bind(&w.external_id)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    let all: Vec<&Member> = members.iter().collect();
    insert_members(&mut tx, &id, &all, &now).await?;
    record(
        &mut tx,
        clock,
        provider,
        "scim.group_created",
        &id,
        &w.display_name,
        json!({"externalId": w.external_id, "members": audit_members(&all)}),
    )
    .await?;
    mapped(&mut tx, clock, provider, mappings_before).await?;
    tx.commit().await?;
    Ok(StoredGroup {
        id,
        display_name: w.display_name,
        external_id: w.external_id,
        members,
        version: 1,
        created_at: now.clone(),
        updated_at: now,
    })
}

type GroupRow = (String, String, Option<String>, i64, String, String);

const COLUMNS: &str = "g.id, g.display_name, g.external_id, g.version, g.created_at, g.updated_at";

async fn load_members<'c, E>(executor: E, group: &str) -> Result<Vec<Member>, ScimError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT u.id, u.user_name, COALESCE(u.display_name, u.user_name) \
         FROM scim_group_members m JOIN scim_users u ON u.id = m.user_id \
         WHERE m.group_id = $1 ORDER BY m.added_at, u.id",
    )
    .bind(group)
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, user_name, display)| Member {
            id,
            user_name,
            display,
        })
        .collect())
}

fn from_row(row: GroupRow, members: Vec<Member>) -> StoredGroup {
    let (id, display_name, external_id, version, created_at, updated_at) = row;
    StoredGroup {
        id,
        display_name,
        external_id,
        members,
        version,
        created_at,
        updated_at,
    }
}

/// A group of `provider`, with its members when asked.
pub async fn get(
    db: &Db,
    provider: &Provider,
    id: &str,
    with_members: bool,
) -> Result<StoredGroup, ScimError> {
    let row: Option<GroupRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM scim_groups g WHERE g.id = $1 AND g.provider_id = $2"
    ))
    .bind(id)
    .bind(provider.id)
    .fetch_optional(db.pool())
    .await?;
    let row = row.ok_or_else(|| ScimError::not_found("group"))?;
    let members = if with_members {
        load_members(db.pool(), id).await?
    } else {
        Vec::new()
    };
    Ok(from_row(row, members))
}

async fn load(tx: &mut Tx, provider: &Provider, id: &str) -> Result<StoredGroup, ScimError> {
    let lock = match tx.backend() {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let row: Option<GroupRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM scim_groups g WHERE g.id = $1 AND g.provider_id = $2{lock}"
    ))
    .bind(id)
    .bind(provider.id)
    .fetch_optional(&mut **tx)
    .await?;
    let row = row.ok_or_else(|| ScimError::not_found("group"))?;
    let members = load_members(&mut **tx, id).await?;
    Ok(from_row(row, members))
}

/// Replaces a group's attributes with what `change` makes of them (PUT, PATCH): members
/// added and removed are one event, a new name or external id another; nothing is written
/// when nothing changes.
pub async fn update(
    db: &Db,
    clock: &dyn Clock,
    provider: &Provider,
    id: &str,
    change: impl FnOnce(&Doc) -> Result<Doc, ScimError>,
) -> Result<StoredGroup, ScimError> {
    let mut tx = db.begin().await?;
    let old = load(&mut tx, provider, id).await?;
    let mappings_before = crate::mappings::db::before_change(&mut tx).await?;
    let w = wanted(&change(&old.doc())?)?;
    let before: BTreeSet<&str> = old.members.iter().map(|m| m.id.as_str()).collect();
    let after: BTreeSet<&str> = w.members.iter().map(String::as_str).collect();
    let added_ids: Vec<String> = w
        .members
        .iter()
        .filter(|m| !before.contains(m.as_str()))
        .cloned()
        .collect();
    let added = members(&mut tx, provider, &added_ids).await?;
    let removed: Vec<&Member> = old
        .members
        .iter()
        .filter(|m| !after.contains(m.id.as_str()))
        .collect();
    let renamed = w.display_name != old.display_name || w.external_id != old.external_id;
    if !renamed && added.is_empty() && removed.is_empty() {
        tx.rollback().await?;
        return Ok(old);
    }
    let now = format_timestamp(clock.now());
    sqlx::query(
        "UPDATE scim_groups SET display_name = $1, display_name_key = $2, external_id = $3, \
         version = version + 1, updated_at = $4 WHERE id = $5",
    )
    .bind(&w.display_name)
    .bind(w.display_name.to_lowercase())
    .bind(&w.external_id)
    .bind(&now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if renamed {
        let mut changes = Map::new();
        if w.display_name != old.display_name {
            changes.insert(
                "displayName".into(),
                json!({"before": old.display_name, "after": w.display_name}),
            );
        }
        if w.external_id != old.external_id {
            changes.insert(
                "externalId".into(),
                json!({"before": old.external_id, "after": w.external_id}),
            );
        }
        record(
            &mut tx,
            clock,
            provider,
            "scim.group_updated",
            id,
            &w.display_name,
            json!({ "changes": changes }),
        )
        .await?;
    }
    if !added.is_empty() || !removed.is_empty() {
        for m in &removed {
            sqlx::query("DELETE FROM scim_group_members WHERE group_id = $1 AND user_id = $2")
                .bind(id)
                .bind(&m.id)
                .execute(&mut *tx)
                .await?;
        }
        let added_refs: Vec<&Member> = added.iter().collect();
        insert_members(&mut tx, id, &added_refs, &now).await?;
        record(
            &mut tx,
            clock,
            provider,
            "scim.group_members_changed",
            id,
            &w.display_name,
            json!({"added": audit_members(&added_refs), "removed": audit_members(&removed)}),
        )
        .await?;
    }
    let members = load_members(&mut *tx, id).await?;
    mapped(&mut tx, clock, provider, mappings_before).await?;
    tx.commit().await?;
    Ok(StoredGroup {
        id: old.id,
        display_name: w.display_name,
        external_id: w.external_id,
        members,
        version: old.version + 1,
        created_at: old.created_at,
        updated_at: now,
    })
}

/// Deletes a group and its memberships; the event lists who was in it.
pub async fn delete(
    db: &Db,
    clock: &dyn Clock,
    provider: &Provider,
    id: &str,
) -> Result<(), ScimError> {
    let mut tx = db.begin().await?;
    let group = load(&mut tx, provider, id).await?;
    let mappings_before = crate::mappings::db::before_change(&mut tx).await?;
    sqlx::query("DELETE FROM scim_group_members WHERE group_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM scim_groups WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let members: Vec<&Member> = group.members.iter().collect();
    record(
        &mut tx,
        clock,
        provider,
        "scim.group_deleted",
        id,
        &group.display_name,
        json!({"externalId": group.external_id, "members": audit_members(&members)}),
    )
    .await?;
    mapped(&mut tx, clock, provider, mappings_before).await?;
    tx.commit().await?;
    Ok(())
}

/// One page of the provider's groups matching `filter`, oldest first, and how many match.
pub async fn list(
    db: &Db,
    provider: &Provider,
    filter: Option<&Filter>,
    offset: i64,
    count: i64,
    with_members: bool,
) -> Result<(i64, Vec<StoredGroup>), ScimError> {
    let condition = match filter {
        Some(f) => Some(filter_sql::compile(
            f,
            &filter_sql::GROUPS,
            db.backend(),
            2,
        )?),
        None => None,
    };
    let (clause, params) = match &condition {
        Some(c) => (format!(" AND {}", c.clause), c.params.clone()),
        None => (String::new(), Vec::new()),
    };
    let base = format!("FROM scim_groups g WHERE g.provider_id = $1{clause}");
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
        "SELECT {COLUMNS} {base} ORDER BY g.created_at, g.id LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let mut query = sqlx::query_as::<_, GroupRow>(&sql).bind(provider.id);
    for p in &params {
        query = filter_sql::bind(query, p);
    }
    let rows = query.bind(count).bind(offset).fetch_all(db.pool()).await?;
    let mut groups = Vec::with_capacity(rows.len());
    for row in rows {
        let members = if with_members {
            load_members(db.pool(), &row.0).await?
        } else {
            Vec::new()
        };
        groups.push(from_row(row, members));
    }
    Ok((total, groups))
}

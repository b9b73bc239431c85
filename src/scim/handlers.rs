//! SCIM request handlers: query parameters and bodies in, SCIM JSON out. Storage and audit
//! live in `users` and `groups`.

use axum::{
    extract::{Path, RawQuery, State},
    http::{header, HeaderValue, StatusCode},
    response::Response,
    Extension,
};
use serde_json::Value;

use super::{
    discovery::{self, MAX_RESULTS},
    error::{scim_response, ScimError},
    extract::{ScimJson, ScimState},
    filter::{self, Filter},
    groups, patch, resource, schema,
    tokens::Provider,
    users,
};

type Answer = Result<Response, ScimError>;

fn ok(body: &Value) -> Answer {
    Ok(scim_response(StatusCode::OK, body))
}

fn created(body: &Value) -> Answer {
    let mut response = scim_response(StatusCode::CREATED, body);
    if let Some(location) = body["meta"]["location"]
        .as_str()
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

fn no_content() -> Answer {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.9), at the level of top-level attributes:
/// `name.givenName` keeps or drops all of `name`.
#[derive(Debug, Default)]
struct Projection {
    attributes: Vec<String>,
    excluded: Vec<String>,
}

impl Projection {
    fn top_level(name: &str) -> String {
        let name = name.trim();
        for urn in [schema::ENTERPRISE_USER, schema::USER, schema::GROUP] {
            if name
                .get(..urn.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(urn))
            {
                let rest = name[urn.len()..].trim_start_matches(':');
                if urn == schema::ENTERPRISE_USER {
                    return urn.to_ascii_lowercase();
                }
                return rest
                    .split('.')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
            }
        }
        name.split('.')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    fn parse(list: &str) -> Vec<String> {
        list.split(',')
            .map(Self::top_level)
            .filter(|n| !n.is_empty())
            .collect()
    }

    fn keeps(&self, key: &str) -> bool {
        let key = key.to_ascii_lowercase();
        if key == "schemas" || key == "id" {
            return true;
        }
        if !self.attributes.is_empty() {
            return self.attributes.contains(&key);
        }
        !self.excluded.contains(&key)
    }

    fn apply(&self, mut value: Value) -> Value {
        if let Value::Object(map) = &mut value {
            map.retain(|k, _| self.keeps(k));
        }
        value
    }
}

/// The query of a list request.
#[derive(Debug)]
struct ListQuery {
    filter: Option<Filter>,
    start_index: i64,
    count: i64,
    projection: Projection,
}

fn parse_query(raw: Option<&str>) -> Result<ListQuery, ScimError> {
    let mut query = ListQuery {
        filter: None,
        start_index: 1,
        count: MAX_RESULTS,
        projection: Projection::default(),
    };
    let number = |name: &str, value: &str| {
        value
            .trim()
            .parse::<i64>()
            .map_err(|_| ScimError::value(format!("`{name}` must be an integer, not `{value}`")))
    };
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "filter" => query.filter = Some(filter::parse(&value)?),
            // RFC 7644 §3.4.2.4: below 1 means 1; a negative count means 0.
            "startIndex" => query.start_index = number("startIndex", &value)?.max(1),
            "count" => query.count = number("count", &value)?.clamp(0, MAX_RESULTS),
            "attributes" => query.projection.attributes = Projection::parse(&value),
            "excludedAttributes" => query.projection.excluded = Projection::parse(&value),
            "sortBy" | "sortOrder" => {
                return Err(ScimError::value(
                    "sorting is not supported (see /ServiceProviderConfig)",
                ))
            }
            _ => {}
        }
    }
    Ok(query)
}

fn projection(raw: Option<&str>) -> Result<Projection, ScimError> {
    let query = parse_query(raw)?;
    if query.filter.is_some() {
        return Err(ScimError::filter(
            "filters apply to lists, not to a single resource",
        ));
    }
    Ok(query.projection)
}

pub async fn service_provider_config(State(s): State<ScimState>) -> Answer {
    ok(&discovery::service_provider_config(&s.base))
}

pub async fn resource_types(State(s): State<ScimState>) -> Answer {
    ok(&discovery::resource_types(&s.base))
}

pub async fn resource_type(State(s): State<ScimState>, Path(name): Path<String>) -> Answer {
    ok(&discovery::one_resource_type(&name, &s.base)?)
}

pub async fn schemas(State(s): State<ScimState>) -> Answer {
    ok(&discovery::schemas(&s.base))
}

pub async fn schema(State(s): State<ScimState>, Path(id): Path<String>) -> Answer {
    ok(&discovery::one_schema(&id, &s.base)?)
}

pub async fn list_users(
    State(s): State<ScimState>,
    Extension(provider): Extension<Provider>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let q = parse_query(raw.as_deref())?;
    let (total, found) = users::list(
        &s.db,
        &provider,
        q.filter.as_ref(),
        q.start_index - 1,
        q.count,
    )
    .await?;
    let resources = found
        .iter()
        .map(|u| q.projection.apply(u.render(&s.base)))
        .collect();
    ok(&discovery::list_response(resources, total, q.start_index))
}

pub async fn create_user(
    State(s): State<ScimState>,
    Extension(provider): Extension<Provider>,
    ScimJson(body): ScimJson,
) -> Answer {
    let doc = resource::from_body(body, &schema::USERS)?;
    let user = users::create(&s.db, s.clock.as_ref(), &provider, doc).await?;
    created(&user.render(&s.base))
}

pub async fn get_user(
    State(s): State<ScimState>,
    Extension(provider): Extension<Provider>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let projection = projection(raw.as_deref())?;
    let user = users::get(&s.db, &provider, &id).await?;
    ok(&projection.apply(user.render(&s.base)))
}

pub async fn replace_user(
    State(s): State<ScimState>,
    Extension(provider): Extension<Provider>,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> Answer {
    let doc = resource::from_body(body, &schema::USERS)?;
    let user = users::update(&s.db, s.clock.as_ref(), &provider, &id, |_| Ok(doc)).await?;
    ok(&user.render(&s.base))
}

pub async fn patch_user(
    State(s): State<ScimState>,
    Extension(provider): Extension<Provider>,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> Answer {
    let operations = patch::parse(body)?;
    let user = users::update(&s.db, s.clock.as_ref(), &provider, &id, |doc| {
        patch::apply(doc, &operations, &schema::USERS)
    })
    .await?;
    ok(&user.render(&s.base))
}

/// 204; a user already deleted is 404 (RFC 7644 §3.6), which providers treat as done.
pub async fn delete_user(
    State(s): State<ScimState>,
    Extension(provider): Extension<Provider>,
    Path(id): Path<String>,
) -> Answer {
    users::delete(&s.db, s.clock.as_ref(), &provider, &id).await?;
    no_content()
}

pub async fn list_groups(
    State(s): State<ScimState>,
    Extension(provider): Extension<Provider>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let q = parse_query(raw.as_deref())?;
    let with_members = q.projection.keeps("members");
    let (total, found) = groups::list(
        &s.db,
        &provider,
        q.filter.as_ref(),
        q.start_index - 1,
        q.count,
        with_members,
    )
    .await?;
    let resources = found
        .iter()
        .map(|g| q.projection.apply(g.render(&s.base, with_members)))
        .collect();
    ok(&discovery::list_response(resources, total, q.start_index))
}

pub async fn create_group(
    State(s): State<ScimState>,
    Extension(provider): Extension<Provider>,
    ScimJson(body): ScimJson,
) -> Answer {
    let doc = resource::from_body(body, &schema::GROUPS)?;
    let group = groups::create(&s.db, s.clock.as_ref(), &provider, &doc).await?;
    created(&group.render(&s.base, true))
}

pub async fn get_group(
    State(s): State<ScimState>,
    Extension(provider): Extension<Provider>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let projection = projection(raw.as_deref())?;
    let with_members = projection.keeps("members");
    let group = groups::get(&s.db, &provider, &id, with_members).await?;
    ok(&projection.apply(group.render(&s.base, with_members)))
}

pub async fn replace_group(
    State(s): State<ScimState>,
    Extension(provider): Extension<Provider>,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> Answer {
    let doc = resource::from_body(body, &schema::GROUPS)?;
    let group = groups::update(&s.db, s.clock.as_ref(), &provider, &id, |_| Ok(doc)).await?;
    ok(&group.render(&s.base, true))
}

pub async fn patch_group(
    State(s): State<ScimState>,
    Extension(provider): Extension<Provider>,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> Answer {
    let operations = patch::parse(body)?;
    let group = groups::update(&s.db, s.clock.as_ref(), &provider, &id, |doc| {
        patch::apply(doc, &operations, &schema::GROUPS)
    })
    .await?;
    ok(&group.render(&s.base, true))
}

pub async fn delete_group(
    State(s): State<ScimState>,
    Extension(provider): Extension<Provider>,
    Path(id): Path<String>,
) -> Answer {
    groups::delete(&s.db, s.clock.as_ref(), &provider, &id).await?;
    no_content()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_queries_are_read_and_bounded() {
        let q = parse_query(Some(
            "startIndex=0&count=5000&filter=userName%20eq%20%22a%22",
        ))
        .unwrap();
        assert_eq!((q.start_index, q.count), (1, MAX_RESULTS));
        assert!(q.filter.is_some());
        let q = parse_query(Some("count=-3")).unwrap();
        assert_eq!(q.count, 0);
        assert!(parse_query(Some("count=ten")).is_err());
        assert!(parse_query(Some("sortBy=userName")).is_err());
        assert!(parse_query(Some("filter=userName%20eq")).is_err());
    }

    #[test]
    fn projections_keep_id_and_schemas() {
        let p = Projection {
            attributes: Projection::parse(
                "userName,urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
            ),
            excluded: Vec::new(),
        };
        let v = p.apply(serde_json::json!({"schemas": [], "id": "1", "userName": "a", "name": {}, "active": true}));
        assert_eq!(
            v,
            serde_json::json!({"schemas": [], "id": "1", "userName": "a", "name": {}})
        );
        let p = Projection {
            attributes: Vec::new(),
            excluded: Projection::parse("members"),
        };
        assert!(!p.keeps("members"));
        assert!(p.keeps("displayName"));
    }
}

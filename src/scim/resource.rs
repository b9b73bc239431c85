//! Reading a resource body (POST, PUT, and the document a PATCH produces) against its schema:
//! attribute names in their canonical spelling, types checked, unknown attributes refused.
//!
//! The result, a [`Doc`], holds the attributes a client may write: no `id`, `meta`,
//! `schemas` or read-only attributes (those are ignored on input, RFC 7643 §2.2), and never a
//! password. Extension attributes sit under their schema URN, as on the wire.

use serde_json::{Map, Value};

use super::{
    error::ScimError,
    schema::{self, Attr, Mutability, ResourceType, Type},
};

/// A resource's writable attributes, canonical names as keys.
pub type Doc = Map<String, Value>;

/// Longest string value accepted, in characters.
const MAX_STRING: usize = 2048;
/// Most values of one multi-valued attribute (besides group members).
const MAX_VALUES: usize = 100;

/// Reads a POST or PUT body: `schemas` must name the core schema and only known ones.
pub fn from_body(body: Value, rt: &'static ResourceType) -> Result<Doc, ScimError> {
    let Value::Object(map) = body else {
        return Err(ScimError::syntax("the body must be a JSON object"));
    };
    check_schemas(&map, rt)?;
    let mut doc = Doc::new();
    for (key, value) in map {
        if ["schemas", "id", "meta"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(&key))
        {
            continue;
        }
        if let Some(extension) = rt
            .extensions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(&key))
        {
            let Value::Object(inner) = value else {
                return Err(ScimError::value(format!("`{key}` must be an object")));
            };
            for (name, value) in inner {
                let attr = schema::find(extension.attrs, &name).ok_or_else(|| unknown(&name))?;
                set(&mut doc, Some(extension.id), attr, value)?;
            }
            continue;
        }
        let (schema, rest) = rt.split_urn(&key);
        let attr = schema::find(schema.attrs, rest).ok_or_else(|| unknown(&key))?;
        let uri = (schema.id != rt.core.id).then_some(schema.id);
        set(&mut doc, uri, attr, value)?;
    }
    check(&doc, rt)?;
    Ok(doc)
}

fn unknown(name: &str) -> ScimError {
    ScimError::value(format!("unknown attribute `{name}`"))
}

fn check_schemas(map: &Map<String, Value>, rt: &'static ResourceType) -> Result<(), ScimError> {
    let schemas = map
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .map(|(_, v)| v);
    let Some(Value::Array(schemas)) = schemas else {
        return Err(ScimError::value(format!(
            "`schemas` must be an array naming {}",
            rt.core.id
        )));
    };
    let mut core = false;
    for s in schemas {
        let urn = s
            .as_str()
            .ok_or_else(|| ScimError::value("`schemas` must hold strings"))?;
        let known = rt
            .schema(urn)
            .ok_or_else(|| ScimError::value(format!("unknown schema `{urn}`")))?;
        core |= known.id == rt.core.id;
    }
    if core {
        Ok(())
    } else {
        Err(ScimError::value(format!(
            "`schemas` must include {}",
            rt.core.id
        )))
    }
}

/// Writes `value` for `attr` into `doc` (under `uri` for an extension), replacing what was
/// there; read-only and write-only attributes are dropped.
pub fn set(
    doc: &mut Doc,
    uri: Option<&'static str>,
    attr: &'static Attr,
    value: Value,
) -> Result<(), ScimError> {
    if matches!(
        attr.mutability,
        Mutability::ReadOnly | Mutability::WriteOnly
    ) {
        return Ok(());
    }
    let value = normalize(attr, value)?;
    let target = match uri {
        None => &mut *doc,
        Some(uri) => {
            let entry = doc
                .entry(uri.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            match entry {
                Value::Object(inner) => inner,
                _ => return Err(ScimError::value(format!("`{uri}` must be an object"))),
            }
        }
    };
    match value {
        Some(value) => {
            target.insert(attr.name.to_string(), value);
        }
        None => {
            target.remove(attr.name);
        }
    }
    if let Some(uri) = uri {
        if doc
            .get(uri)
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
        {
            doc.remove(uri);
        }
    }
    Ok(())
}

/// Checks and canonicalises a value for `attr`; `None` means unassigned (null, "", [], {}).
pub fn normalize(attr: &Attr, value: Value) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if !attr.multi {
        return single(attr, value);
    }
    let items = match value {
        Value::Array(items) => items,
        // One value where a list belongs: read it as a list of one.
        other => vec![other],
    };
    if attr.name != "members" && items.len() > MAX_VALUES {
        return Err(ScimError::value(format!(
            "`{}` holds more than {MAX_VALUES} values",
            attr.name
        )));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(item) = single(attr, item)? {
            if !out.contains(&item) {
                out.push(item);
            }
        }
    }
    let primaries = out
        .iter()
        .filter(|v| v.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(ScimError::value(format!(
            "`{}` has more than one primary value",
            attr.name
        )));
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

fn single(attr: &Attr, value: Value) -> Result<Option<Value>, ScimError> {
    match (attr.ty, value) {
        (_, Value::Null) => Ok(None),
        (Type::String | Type::Reference, Value::String(s)) => {
            if s.chars().count() > MAX_STRING {
                return Err(ScimError::value(format!(
                    "`{}` is longer than {MAX_STRING} characters",
                    attr.name
                )));
            }
            if s.chars().any(|c| c.is_control()) {
                return Err(ScimError::value(format!(
                    "`{}` contains control characters",
                    attr.name
                )));
            }
            Ok((!s.is_empty()).then_some(Value::String(s)))
        }
        (Type::Boolean, Value::Bool(b)) => Ok(Some(Value::Bool(b))),
        // Entra ID sends booleans as "True" and "False" in PATCH values.
        (Type::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(Some(Value::Bool(true)))
        }
        (Type::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(Some(Value::Bool(false)))
        }
        (Type::Complex, Value::Object(map)) => {
            let mut out = Map::new();
            for (name, value) in map {
                let sub = attr.sub_attr(&name).ok_or_else(|| {
                    ScimError::value(format!("unknown attribute `{}.{name}`", attr.name))
                })?;
                if sub.mutability == Mutability::ReadOnly {
                    continue;
                }
                if let Some(value) = single(sub, value)? {
                    out.insert(sub.name.to_string(), value);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
        // Entra ID sends a manager (and some providers a member) as its id alone.
        (Type::Complex, Value::String(s)) if attr.sub_attr("value").is_some() => {
            single(attr, serde_json::json!({ "value": s }))
        }
        (ty, other) => Err(ScimError::value(format!(
            "`{}` must be a {}, not {}",
            attr.name,
            ty.name(),
            json_kind(&other)
        ))),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Required attributes are present (after a PATCH too).
pub fn check(doc: &Doc, rt: &'static ResourceType) -> Result<(), ScimError> {
    for attr in rt.core.attrs.iter().filter(|a| a.required) {
        if !doc.contains_key(attr.name) {
            return Err(ScimError::value(format!("`{}` is required", attr.name)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::{error::ScimType, schema::USERS};
    use serde_json::json;

    #[test]
    fn bodies_are_canonicalised() {
        let doc = from_body(
            json!({
                "schemas": [schema::USER, schema::ENTERPRISE_USER],
                "id": "ignored",
                "USERNAME": "ada@example.com",
                "Active": "True",
                "password": "never stored",
                "name": {"GivenName": "Ada", "familyName": ""},
                "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
                schema::ENTERPRISE_USER: {"department": "Ops", "manager": "boss-id"},
            }),
            &USERS,
        )
        .unwrap();
        assert_eq!(
            Value::Object(doc),
            json!({
                "userName": "ada@example.com",
                "active": true,
                "name": {"givenName": "Ada"},
                "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
                schema::ENTERPRISE_USER: {"department": "Ops", "manager": {"value": "boss-id"}},
            })
        );
    }

    #[test]
    fn bad_bodies_name_the_problem() {
        let cases = [
            (json!([]), ScimType::InvalidSyntax),
            (json!({"userName": "a"}), ScimType::InvalidValue),
            (
                json!({"schemas": ["urn:x"], "userName": "a"}),
                ScimType::InvalidValue,
            ),
            (
                json!({"schemas": [schema::USER], "userName": "a", "shoeSize": 4}),
                ScimType::InvalidValue,
            ),
            (
                json!({"schemas": [schema::USER], "userName": "a", "name": {"nick": "x"}}),
                ScimType::InvalidValue,
            ),
            (
                json!({"schemas": [schema::USER], "userName": 4}),
                ScimType::InvalidValue,
            ),
            (
                json!({"schemas": [schema::USER], "active": true}),
                ScimType::InvalidValue,
            ),
            (
                json!({"schemas": [schema::USER], "userName": "a", "emails": [
                    {"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]}),
                ScimType::InvalidValue,
            ),
        ];
        for (body, expected) in cases {
            let error = from_body(body.clone(), &USERS).unwrap_err();
            assert_eq!(error.scim_type, Some(expected), "{body}");
        }
    }
}

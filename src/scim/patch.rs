//! PATCH (RFC 7644 §3.5.2) applied to a resource's [`Doc`], including the forms identity
//! providers send in practice:
//!
//! * Okta deactivates with `{"op":"replace","value":{"active":false}}` (no path);
//! * Entra ID capitalises ops (`"Replace"`), sends booleans as `"False"`, and sets
//!   `emails[type eq "work"].value` with `add` or `replace` whether or not a work email exists
//!   (a filter of `eq` comparisons that matches nothing creates the value it describes);
//! * members leave either as `members[value eq "id"]` or as `"path":"members"` with a list of
//!   `{"value": "id"}`.
//!
//! Applying the same operations twice gives the same document (values are never duplicated,
//! and removing what is not there is no error), so a re-delivered request changes nothing.

use serde_json::{Map, Value};

use super::{
    error::{ScimError, ScimType},
    filter::{self, Filter, Literal, Op},
    path::{target, Target},
    resource::{self, Doc},
    schema::{self, Attr, ResourceType},
};

/// Most operations in one request.
const MAX_OPERATIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Add,
    Replace,
    Remove,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub kind: Kind,
    pub path: Option<String>,
    pub value: Option<Value>,
}

/// Reads a PatchOp message.
pub fn parse(body: Value) -> Result<Vec<Operation>, ScimError> {
    let Value::Object(map) = body else {
        return Err(ScimError::syntax("the body must be a JSON object"));
    };
    let field = |name: &str| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let names_patch_op = field("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|v| v.as_str() == Some(schema::PATCH_OP)));
    if !names_patch_op {
        return Err(ScimError::value(format!(
            "`schemas` must be [\"{}\"]",
            schema::PATCH_OP
        )));
    }
    let Some(Value::Array(operations)) = field("Operations") else {
        return Err(ScimError::syntax("`Operations` must be an array"));
    };
    if operations.is_empty() || operations.len() > MAX_OPERATIONS {
        return Err(ScimError::value(format!(
            "`Operations` must hold 1 to {MAX_OPERATIONS} operations"
        )));
    }
    operations.iter().map(operation).collect()
}

fn operation(value: &Value) -> Result<Operation, ScimError> {
    let Value::Object(map) = value else {
        return Err(ScimError::syntax("each operation must be an object"));
    };
    let mut kind = None;
    let mut path = None;
    let mut op_value = None;
    for (key, value) in map {
        match key.to_ascii_lowercase().as_str() {
            "op" => {
                kind = match value.as_str().map(str::to_ascii_lowercase).as_deref() {
                    Some("add") => Some(Kind::Add),
                    Some("replace") => Some(Kind::Replace),
                    Some("remove") => Some(Kind::Remove),
                    _ => {
                        return Err(ScimError::value(
                            "`op` must be \"add\", \"replace\" or \"remove\"",
                        ))
                    }
                }
            }
            "path" => match value {
                Value::String(p) if !p.trim().is_empty() => path = Some(p.trim().to_string()),
                Value::String(_) | Value::Null => {}
                _ => return Err(ScimError::path("`path` must be a string")),
            },
            "value" => op_value = Some(value.clone()),
            _ => {
                return Err(ScimError::syntax(format!(
                    "unknown member `{key}` in an operation"
                )))
            }
        }
    }
    let kind = kind.ok_or_else(|| ScimError::syntax("an operation lacks `op`"))?;
    if kind != Kind::Remove && op_value.is_none() {
        return Err(ScimError::value("`add` and `replace` need a `value`"));
    }
    Ok(Operation {
        kind,
        path,
        value: op_value,
    })
}

/// Applies `operations` in order; the result is checked against the schema as a whole.
pub fn apply(
    doc: &Doc,
    operations: &[Operation],
    rt: &'static ResourceType,
) -> Result<Doc, ScimError> {
    let mut doc = doc.clone();
    for op in operations {
        apply_one(&mut doc, op, rt)?;
    }
    let mut body = doc.clone();
    body.insert(
        "schemas".to_string(),
        Value::Array(vec![Value::String(rt.core.id.to_string())]),
    );
    resource::from_body(Value::Object(body), rt)
}

fn apply_one(doc: &mut Doc, op: &Operation, rt: &'static ResourceType) -> Result<(), ScimError> {
    let value = op.value.clone().unwrap_or(Value::Null);
    let Some(path) = &op.path else {
        if op.kind == Kind::Remove {
            return Err(ScimError::bad(
                ScimType::NoTarget,
                "`remove` needs a `path`",
            ));
        }
        let Value::Object(attributes) = value else {
            return Err(ScimError::value(
                "without a `path`, `value` must be an object of attributes",
            ));
        };
        for (key, value) in attributes {
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
                    let t = target(&format!("{}:{name}", extension.id), rt)?;
                    change(doc, op.kind, &t, value)?;
                }
                continue;
            }
            change(doc, op.kind, &target(&key, rt)?, value)?;
        }
        return Ok(());
    };
    change(doc, op.kind, &target(path, rt)?, value)
}

/// The object holding `target`'s attribute (the document or an extension's object).
fn holder<'d>(doc: &'d mut Doc, uri: Option<&'static str>) -> Result<&'d mut Doc, ScimError> {
    match uri {
        None => Ok(doc),
        Some(uri) => match doc
            .entry(uri.to_string())
            .or_insert_with(|| Value::Object(Map::new()))
        {
            Value::Object(inner) => Ok(inner),
            _ => Err(ScimError::value(format!("`{uri}` must be an object"))),
        },
    }
}

fn change(doc: &mut Doc, kind: Kind, t: &Target, value: Value) -> Result<(), ScimError> {
    let attr = t.attr;
    let holder = holder(doc, t.uri)?;
    let current = holder.remove(attr.name);
    let updated = match (&t.filter, t.sub) {
        (None, None) => whole(attr, kind, current, value)?,
        (None, Some(sub)) => {
            // A sub-attribute of a single complex attribute, e.g. name.givenName.
            let mut object = match current {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            };
            match kind {
                Kind::Remove => {
                    object.remove(sub.name);
                }
                Kind::Add | Kind::Replace => match resource::normalize(sub, value)? {
                    Some(v) => {
                        object.insert(sub.name.to_string(), v);
                    }
                    None => {
                        object.remove(sub.name);
                    }
                },
            }
            (!object.is_empty()).then_some(Value::Object(object))
        }
        (Some(filter), sub) => filtered(attr, kind, filter, sub, current, value)?,
    };
    if let Some(updated) = updated {
        holder.insert(attr.name.to_string(), updated);
    }
    if let Some(uri) = t.uri {
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

/// The key that identifies a value of a multi-valued attribute: its `value` when it has one.
fn identity(item: &Value) -> &Value {
    item.get("value").unwrap_or(item)
}

/// An operation on a whole attribute.
fn whole(
    attr: &'static Attr,
    kind: Kind,
    current: Option<Value>,
    value: Value,
) -> Result<Option<Value>, ScimError> {
    match kind {
        Kind::Replace if attr.multi => resource::normalize(attr, value),
        Kind::Add if attr.multi => {
            let mut items = match current {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            };
            let Some(Value::Array(added)) = resource::normalize(attr, value)? else {
                return Ok((!items.is_empty()).then_some(Value::Array(items)));
            };
            for new in added {
                if new.get("primary") == Some(&Value::Bool(true)) {
                    for item in &mut items {
                        if let Some(object) = item.as_object_mut() {
                            object.remove("primary");
                        }
                    }
                }
                match items.iter_mut().find(|i| identity(i) == identity(&new)) {
                    Some(existing) => *existing = new,
                    None => items.push(new),
                }
            }
            Ok(Some(Value::Array(items)))
        }
        Kind::Remove if attr.multi && !value.is_null() => {
            // `"path":"members","value":[{"value":"id"}]` removes just those values.
            let Some(Value::Array(gone)) = resource::normalize(attr, value)? else {
                return Ok(current);
            };
            let items: Vec<Value> = match current {
                Some(Value::Array(items)) => items
                    .into_iter()
                    .filter(|i| !gone.iter().any(|g| identity(g) == identity(i)))
                    .collect(),
                _ => Vec::new(),
            };
            Ok((!items.is_empty()).then_some(Value::Array(items)))
        }
        Kind::Remove => Ok(None),
        Kind::Add | Kind::Replace if !attr.sub.is_empty() => {
            // A single complex attribute: the given sub-attributes replace theirs, the others
            // stay (RFC 7644 §3.5.2.3).
            let mut object = match current {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            };
            match resource::normalize(attr, value)? {
                Some(Value::Object(given)) => object.extend(given),
                _ if kind == Kind::Replace => object.clear(),
                _ => {}
            }
            Ok((!object.is_empty()).then_some(Value::Object(object)))
        }
        Kind::Add | Kind::Replace => resource::normalize(attr, value),
    }
}

/// An operation on the values of a multi-valued attribute that match `filter`.
fn filtered(
    attr: &'static Attr,
    kind: Kind,
    filter: &Filter,
    sub: Option<&'static Attr>,
    current: Option<Value>,
    value: Value,
) -> Result<Option<Value>, ScimError> {
    let mut items = match current {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let mut matched = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if filter::matches(filter, attr, item)? {
            matched.push(i);
        }
    }
    match kind {
        Kind::Remove => match sub {
            None => {
                let mut i = 0;
                items.retain(|_| {
                    let keep = !matched.contains(&i);
                    i += 1;
                    keep
                });
            }
            Some(sub) => {
                for &i in &matched {
                    if let Some(object) = items[i].as_object_mut() {
                        object.remove(sub.name);
                    }
                }
                items.retain(|i| i.as_object().is_none_or(|o| !o.is_empty()));
            }
        },
        Kind::Add | Kind::Replace => {
            let given: Map<String, Value> = match sub {
                Some(sub) => match resource::normalize(sub, value)? {
                    Some(v) => Map::from_iter([(sub.name.to_string(), v)]),
                    None => Map::new(),
                },
                None => match resource::normalize(&single_of(attr), value)? {
                    Some(Value::Object(map)) => map,
                    _ => Map::new(),
                },
            };
            if matched.is_empty() {
                let Some(mut created) = equalities(filter) else {
                    return Err(ScimError::bad(
                        ScimType::NoTarget,
                        format!("no value of `{}` matches the filter", attr.name),
                    ));
                };
                created.extend(given);
                let created = resource::normalize(&single_of(attr), Value::Object(created))?;
                items.extend(created);
            } else {
                for &i in &matched {
                    if let Some(object) = items[i].as_object_mut() {
                        for (k, v) in &given {
                            object.insert(k.clone(), v.clone());
                        }
                        if let (Some(sub), true) = (sub, given.is_empty()) {
                            object.remove(sub.name);
                        }
                    }
                }
            }
        }
    }
    Ok((!items.is_empty()).then_some(Value::Array(items)))
}

/// The single-valued twin of a multi-valued complex attribute, to read one of its values.
fn single_of(attr: &'static Attr) -> Attr {
    Attr {
        name: attr.name,
        ty: attr.ty,
        multi: false,
        required: false,
        case_exact: attr.case_exact,
        mutability: attr.mutability,
        unique: attr.unique,
        canonical: attr.canonical,
        sub: attr.sub,
        description: attr.description,
    }
}

/// `type eq "work" and primary eq true` as the value it describes; `None` for any other filter.
fn equalities(filter: &Filter) -> Option<Map<String, Value>> {
    match filter {
        Filter::Compare(r, Op::Eq, literal) if r.uri.is_none() && r.sub.is_none() => {
            let value = match literal {
                Literal::Str(s) => Value::String(s.clone()),
                Literal::Bool(b) => Value::Bool(*b),
                _ => return None,
            };
            Some(Map::from_iter([(r.name.clone(), value)]))
        }
        Filter::And(a, b) => {
            let mut map = equalities(a)?;
            map.extend(equalities(b)?);
            Some(map)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{GROUPS, USERS};
    use serde_json::json;

    fn doc(value: Value) -> Doc {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn ops(operations: Value) -> Vec<Operation> {
        parse(json!({"schemas": [schema::PATCH_OP], "Operations": operations})).unwrap()
    }

    fn patched(start: Value, operations: Value) -> Result<Value, ScimError> {
        apply(&doc(start), &ops(operations), &USERS).map(Value::Object)
    }

    #[test]
    fn okta_and_entra_deactivate() {
        let ada = json!({"userName": "ada", "active": true});
        let okta = json!([{"op": "replace", "value": {"active": false}}]);
        assert_eq!(patched(ada.clone(), okta).unwrap()["active"], false);
        let entra = json!([{"op": "Replace", "path": "active", "value": "False"}]);
        assert_eq!(patched(ada, entra).unwrap()["active"], false);
    }

    #[test]
    fn entra_sets_the_work_email_whether_or_not_there_is_one() {
        let ada = json!({"userName": "ada"});
        let set = json!([
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "ada@example.com"},
            {"op": "Replace", "path": "name.givenName", "value": "Ada"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m-1"},
        ]);
        let once = patched(ada, set.clone()).unwrap();
        assert_eq!(
            once,
            json!({
                "userName": "ada",
                "emails": [{"type": "work", "value": "ada@example.com"}],
                "name": {"givenName": "Ada"},
                schema::ENTERPRISE_USER: {"manager": {"value": "m-1"}},
            })
        );
        assert_eq!(patched(once.clone(), set).unwrap(), once, "idempotent");
        let changed = patched(
            once,
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@x.org"}]),
        )
        .unwrap();
        assert_eq!(
            changed["emails"],
            json!([{"type": "work", "value": "a@x.org"}])
        );
    }

    #[test]
    fn members_come_and_go_in_both_remove_forms() {
        let group = doc(json!({"displayName": "Ops", "members": [{"value": "a"}]}));
        let add = ops(
            json!([{"op": "add", "path": "members", "value": [{"value": "b"}, {"value": "a"}]}]),
        );
        let two = apply(&group, &add, &GROUPS).unwrap();
        assert_eq!(two["members"], json!([{"value": "a"}, {"value": "b"}]));
        assert_eq!(apply(&two, &add, &GROUPS).unwrap(), two, "idempotent");
        let by_filter = ops(json!([{"op": "remove", "path": "members[value eq \"a\"]"}]));
        let by_value = ops(json!([{"op": "remove", "path": "members", "value": [{"value": "a"}]}]));
        let expected = json!([{"value": "b"}]);
        assert_eq!(
            apply(&two, &by_filter, &GROUPS).unwrap()["members"],
            expected
        );
        assert_eq!(
            apply(&two, &by_value, &GROUPS).unwrap()["members"],
            expected
        );
        let none = ops(json!([{"op": "remove", "path": "members"}]));
        assert!(apply(&two, &none, &GROUPS)
            .unwrap()
            .get("members")
            .is_none());
    }

    #[test]
    fn bad_operations_are_refused_with_their_type() {
        let ada = json!({"userName": "ada"});
        let cases = [
            (json!([{"op": "remove"}]), ScimType::NoTarget),
            (
                json!([{"op": "replace", "path": "shoeSize", "value": 4}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "name.nick", "value": "x"}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "id", "value": "x"}]),
                ScimType::Mutability,
            ),
            (
                json!([{"op": "replace", "path": "active", "value": "maybe"}]),
                ScimType::InvalidValue,
            ),
            (
                json!([{"op": "remove", "path": "userName"}]),
                ScimType::InvalidValue,
            ),
            (
                json!([{"op": "replace", "value": {"shoeSize": 4}}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "emails[value co \"x\"].type", "value": "home"}]),
                ScimType::NoTarget,
            ),
            (
                json!([{"op": "replace", "path": "emails[type eq ]", "value": "x"}]),
                ScimType::InvalidPath,
            ),
        ];
        for (operations, expected) in cases {
            let error = patched(ada.clone(), operations.clone()).unwrap_err();
            assert_eq!(error.scim_type, Some(expected), "{operations}");
        }
        assert!(parse(json!({"Operations": []})).is_err());
        assert!(
            parse(json!({"schemas": [schema::PATCH_OP], "Operations": [{"op": "move"}]})).is_err()
        );
    }
}

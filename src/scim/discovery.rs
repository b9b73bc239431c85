//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` (RFC 7644 §4), built from the
//! same schema description that checks requests, so they cannot disagree.

use serde_json::{json, Value};

use super::{
    error::ScimError,
    schema::{self, Attr, Mutability, ResourceType, Schema, Type},
};

/// Largest page a list returns (`count` above it is lowered).
pub const MAX_RESULTS: i64 = 200;

/// A ListResponse (RFC 7644 §3.4.2).
pub fn list_response(resources: Vec<Value>, total: i64, start_index: i64) -> Value {
    json!({
        "schemas": [schema::LIST_RESPONSE],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "startIndex": start_index,
        "Resources": resources,
    })
}

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [schema::SERVICE_PROVIDER_CONFIG],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A bearer token per identity provider, created by an admin under Settings → SCIM provisioning.",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

fn resource_type(rt: &ResourceType, base: &str) -> Value {
    json!({
        "schemas": [schema::RESOURCE_TYPE],
        "id": rt.name,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.core.id,
        "schemaExtensions": rt.extensions.iter()
            .map(|s| json!({"schema": s.id, "required": false}))
            .collect::<Vec<_>>(),
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/{}", rt.name),
        },
    })
}

pub fn resource_types(base: &str) -> Value {
    let types = [&schema::USERS, &schema::GROUPS].map(|rt| resource_type(rt, base));
    list_response(types.to_vec(), 2, 1)
}

pub fn one_resource_type(name: &str, base: &str) -> Result<Value, ScimError> {
    [&schema::USERS, &schema::GROUPS]
        .into_iter()
        .find(|rt| rt.name.eq_ignore_ascii_case(name))
        .map(|rt| resource_type(rt, base))
        .ok_or_else(|| ScimError::not_found("resource type"))
}

fn attribute(attr: &Attr) -> Value {
    let returned = match attr.mutability {
        Mutability::WriteOnly => "never",
        _ => "default",
    };
    let mut out = json!({
        "name": attr.name,
        "type": attr.ty.name(),
        "multiValued": attr.multi,
        "description": attr.description,
        "required": attr.required,
        "caseExact": attr.case_exact,
        "mutability": attr.mutability.name(),
        "returned": returned,
        "uniqueness": if attr.unique { "server" } else { "none" },
    });
    if !attr.canonical.is_empty() {
        out["canonicalValues"] = json!(attr.canonical);
    }
    if attr.ty == Type::Reference {
        out["referenceTypes"] = if attr.name == "profileUrl" {
            json!(["external"])
        } else {
            json!(["User"])
        };
    }
    if attr.ty == Type::Complex {
        out["subAttributes"] = Value::Array(attr.sub.iter().map(attribute).collect());
    }
    out
}

fn schema_doc(schema: &Schema, base: &str) -> Value {
    json!({
        "schemas": [schema::SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attrs.iter().map(attribute).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base}/Schemas/{}", schema.id),
        },
    })
}

pub fn schemas(base: &str) -> Value {
    let all = schema::all().map(|s| schema_doc(s, base));
    list_response(all.to_vec(), 3, 1)
}

pub fn one_schema(id: &str, base: &str) -> Result<Value, ScimError> {
    schema::all()
        .into_iter()
        .find(|s| s.id.eq_ignore_ascii_case(id))
        .map(|s| schema_doc(s, base))
        .ok_or_else(|| ScimError::not_found("schema"))
}

//! PATCH paths (RFC 7644 §3.5.2): `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`,
//! each optionally behind a schema URN (`urn:…:enterprise:2.0:User:manager`), resolved
//! against the resource's schemas with names in any case.

use super::{
    error::{ScimError, ScimType},
    filter::{self, Filter},
    schema::{self, Attr, Mutability, ResourceType},
};

/// Where an operation points.
#[derive(Debug)]
pub struct Target {
    /// The extension's URN, `None` for the core schema.
    pub uri: Option<&'static str>,
    pub attr: &'static Attr,
    pub filter: Option<Filter>,
    pub sub: Option<&'static Attr>,
}

pub fn target(path: &str, rt: &'static ResourceType) -> Result<Target, ScimError> {
    let (schema, rest) = rt.split_urn(path);
    let (name, filter, sub) = match rest.find('[') {
        Some(open) => {
            let close = rest
                .rfind(']')
                .filter(|&c| c > open)
                .ok_or_else(|| ScimError::path(format!("`{path}`: `[` is not closed")))?;
            let after = &rest[close + 1..];
            let sub = match after.strip_prefix('.') {
                Some(sub) => Some(sub),
                None if after.is_empty() => None,
                None => return Err(ScimError::path(format!("`{path}` is not a valid path"))),
            };
            let filter = filter::parse_value_filter(&rest[open + 1..close])?;
            (&rest[..open], Some(filter), sub)
        }
        None => match rest.split_once('.') {
            Some((name, sub)) => (name, None, Some(sub)),
            None => (rest, None, None),
        },
    };
    if ["id", "meta", "schemas"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
    {
        return Err(ScimError::bad(
            ScimType::Mutability,
            format!("`{name}` is read-only"),
        ));
    }
    let attr = schema::find(schema.attrs, name)
        .ok_or_else(|| ScimError::path(format!("unknown attribute `{name}` in `{path}`")))?;
    if matches!(attr.mutability, Mutability::ReadOnly) {
        return Err(ScimError::bad(
            ScimType::Mutability,
            format!("`{}` is read-only", attr.name),
        ));
    }
    let sub = match sub {
        Some(sub) => {
            let found = attr.sub_attr(sub).ok_or_else(|| {
                ScimError::path(format!("`{}` has no sub-attribute `{sub}`", attr.name))
            })?;
            if found.mutability == Mutability::ReadOnly {
                return Err(ScimError::bad(
                    ScimType::Mutability,
                    format!("`{}.{}` is read-only", attr.name, found.name),
                ));
            }
            Some(found)
        }
        None => None,
    };
    let multi_complex = attr.multi && !attr.sub.is_empty();
    if filter.is_some() && !multi_complex {
        return Err(ScimError::path(format!(
            "`{}` is not multi-valued: it takes no filter",
            attr.name
        )));
    }
    if sub.is_some() && filter.is_none() && attr.multi {
        return Err(ScimError::path(format!(
            "`{path}`: pick the values with a filter, e.g. {}[type eq \"work\"].value",
            attr.name
        )));
    }
    let uri = (schema.id != rt.core.id).then_some(schema.id);
    Ok(Target {
        uri,
        attr,
        filter,
        sub,
    })
}

//! A parsed filter as a SQL condition over `scim_users u` or `scim_groups g`, with bound
//! parameters. Only the attributes listed here can be filtered on; any other is refused with
//! `invalidFilter`, never ignored.
//!
//! Case-insensitive attributes are compared through columns lower-cased when written
//! (`user_name_key`, …) against a lower-cased value, so both engines fold case the same way.
//! Every comparison is written to be false, never NULL, for an unassigned value, so `not (…)`
//! behaves.

use super::{
    error::ScimError,
    filter::{unsupported, AttrRef, Filter, Literal, Op},
    schema,
};
use crate::db::Backend;

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Compared as stored.
    Exact,
    /// Stored lower-cased; the value is lower-cased too.
    Folded,
    Bool,
}

#[derive(Debug)]
struct Column {
    name: &'static str,
    expr: &'static str,
    kind: Kind,
}

/// A multi-valued attribute kept in a table of its own.
#[derive(Debug)]
struct Multi {
    name: &'static str,
    /// `table alias WHERE join condition`.
    from: &'static str,
    subs: &'static [Column],
}

/// What a filter can reach for one resource type.
#[derive(Debug)]
pub struct Target {
    core: &'static str,
    columns: &'static [Column],
    multis: &'static [Multi],
}

pub static USERS: Target = Target {
    core: schema::USER,
    columns: &[
        Column {
            name: "id",
            expr: "u.id",
            kind: Kind::Exact,
        },
        Column {
            name: "userName",
            expr: "u.user_name_key",
            kind: Kind::Folded,
        },
        Column {
            name: "externalId",
            expr: "u.external_id",
            kind: Kind::Exact,
        },
        Column {
            name: "active",
            expr: "u.active",
            kind: Kind::Bool,
        },
    ],
    multis: &[Multi {
        name: "emails",
        from: "scim_user_emails e WHERE e.user_id = u.id",
        subs: &[
            Column {
                name: "value",
                expr: "e.value_key",
                kind: Kind::Folded,
            },
            Column {
                name: "type",
                expr: "e.type_key",
                kind: Kind::Folded,
            },
            Column {
                name: "primary",
                expr: "e.is_primary",
                kind: Kind::Bool,
            },
        ],
    }],
};

pub static GROUPS: Target = Target {
    core: schema::GROUP,
    columns: &[
        Column {
            name: "id",
            expr: "g.id",
            kind: Kind::Exact,
        },
        Column {
            name: "displayName",
            expr: "g.display_name_key",
            kind: Kind::Folded,
        },
        Column {
            name: "externalId",
            expr: "g.external_id",
            kind: Kind::Exact,
        },
    ],
    multis: &[Multi {
        name: "members",
        from: "scim_group_members m WHERE m.group_id = g.id",
        subs: &[Column {
            name: "value",
            expr: "m.user_id",
            kind: Kind::Exact,
        }],
    }],
};

/// Binds one parameter of a compiled condition.
pub fn bind<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    param: &Param,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    match param {
        Param::Text(text) => query.bind(text.clone()),
        Param::Int(n) => query.bind(*n),
        Param::Bool(b) => query.bind(*b),
    }
}

/// A compiled condition: `clause` uses placeholders from `$first` on, bound to `params`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub clause: String,
    pub params: Vec<Param>,
}

struct Compiler {
    backend: Backend,
    next: usize,
    params: Vec<Param>,
}

enum Resolved<'t> {
    Column(&'t Column),
    /// A sub-attribute of a multi-valued attribute (`emails` alone means `emails.value`).
    Within(&'t Multi, &'t Column),
}

/// Compiles `filter` for `target`; placeholders start at `$first`.
pub fn compile(
    filter: &Filter,
    target: &'static Target,
    backend: Backend,
    first: usize,
) -> Result<Condition, ScimError> {
    let mut compiler = Compiler {
        backend,
        next: first,
        params: Vec::new(),
    };
    let clause = compiler.filter(filter, target, None)?;
    Ok(Condition {
        clause,
        params: compiler.params,
    })
}

impl Compiler {
    fn bind(&mut self, param: Param) -> String {
        self.params.push(param);
        let placeholder = format!("${}", self.next);
        self.next += 1;
        placeholder
    }

    fn filter(
        &mut self,
        filter: &Filter,
        target: &'static Target,
        within: Option<&'static Multi>,
    ) -> Result<String, ScimError> {
        Ok(match filter {
            Filter::And(a, b) => format!(
                "({} AND {})",
                self.filter(a, target, within)?,
                self.filter(b, target, within)?
            ),
            Filter::Or(a, b) => format!(
                "({} OR {})",
                self.filter(a, target, within)?,
                self.filter(b, target, within)?
            ),
            Filter::Not(inner) => format!("(NOT {})", self.filter(inner, target, within)?),
            Filter::Present(r) => match resolve(r, target, within)? {
                Resolved::Column(c) => format!("({} IS NOT NULL)", c.expr),
                Resolved::Within(m, c) => wrap(m, within, format!("{} IS NOT NULL", c.expr)),
            },
            Filter::Compare(r, op, literal) => match resolve(r, target, within)? {
                Resolved::Column(c) => self.compare(c, *op, literal, r)?,
                Resolved::Within(m, c) => {
                    let condition = self.compare(c, *op, literal, r)?;
                    wrap(m, within, condition)
                }
            },
            Filter::Value(r, inner) => {
                if within.is_some() || r.sub.is_some() {
                    return Err(ScimError::filter("a value filter cannot contain another"));
                }
                let multi = multi_of(r, target)?;
                let condition = self.filter(inner, target, Some(multi))?;
                format!("EXISTS (SELECT 1 FROM {} AND {condition})", multi.from)
            }
        })
    }

    fn compare(
        &mut self,
        column: &Column,
        op: Op,
        literal: &Literal,
        r: &AttrRef,
    ) -> Result<String, ScimError> {
        let expr = column.expr;
        if column.kind == Kind::Bool {
            let Literal::Bool(value) = literal else {
                return Err(ScimError::filter(format!(
                    "`{r}` is a boolean: compare it with true or false"
                )));
            };
            let p = self.bind(Param::Bool(*value));
            return match op {
                Op::Eq => Ok(format!("({expr} = {p})")),
                Op::Ne => Ok(format!("({expr} <> {p})")),
                other => Err(unsupported(other)),
            };
        }
        let value = match literal {
            Literal::Str(s) if column.kind == Kind::Folded => s.to_lowercase(),
            Literal::Str(s) => s.clone(),
            Literal::Null if op == Op::Eq => return Ok(format!("({expr} IS NULL)")),
            Literal::Null if op == Op::Ne => return Ok(format!("({expr} IS NOT NULL)")),
            _ => {
                return Err(ScimError::filter(format!(
                    "`{r}` is a string: compare it with a quoted value"
                )))
            }
        };
        let length = i64::try_from(value.chars().count()).unwrap_or(i64::MAX);
        Ok(match op {
            Op::Eq => {
                let p = self.bind(Param::Text(value));
                format!("({expr} IS NOT NULL AND {expr} = {p})")
            }
            Op::Ne => {
                let p = self.bind(Param::Text(value));
                format!("({expr} IS NULL OR {expr} <> {p})")
            }
            Op::Co => {
                let p = self.bind(Param::Text(value));
                // LIKE folds ASCII case on SQLite only, so search the text itself.
                let position = match self.backend {
                    Backend::Sqlite => format!("instr({expr}, {p})"),
                    Backend::Postgres => format!("strpos({expr}, {p})"),
                };
                format!("({expr} IS NOT NULL AND {position} > 0)")
            }
            Op::Sw => {
                let n = self.bind(Param::Int(length));
                let p = self.bind(Param::Text(value));
                format!("({expr} IS NOT NULL AND substr({expr}, 1, CAST({n} AS INTEGER)) = {p})")
            }
            Op::Ew => {
                let n1 = self.bind(Param::Int(length));
                let n2 = self.bind(Param::Int(length));
                let p = self.bind(Param::Text(value));
                format!(
                    "({expr} IS NOT NULL AND length({expr}) >= CAST({n1} AS INTEGER) \
                     AND substr({expr}, length({expr}) - CAST({n2} AS INTEGER) + 1) = {p})"
                )
            }
            other => return Err(unsupported(other)),
        })
    }
}

/// A condition on a sub-attribute: inside `attr[…]` it applies to the row at hand, outside it
/// asks whether some value matches.
fn wrap(multi: &Multi, within: Option<&Multi>, condition: String) -> String {
    if within.is_some() {
        condition
    } else {
        format!("EXISTS (SELECT 1 FROM {} AND {condition})", multi.from)
    }
}

fn check_uri(r: &AttrRef, target: &Target) -> Result<(), ScimError> {
    match &r.uri {
        Some(uri) if !uri.eq_ignore_ascii_case(target.core) => Err(ScimError::filter(format!(
            "filtering on `{r}` is not supported"
        ))),
        _ => Ok(()),
    }
}

fn multi_of(r: &AttrRef, target: &'static Target) -> Result<&'static Multi, ScimError> {
    check_uri(r, target)?;
    target
        .multis
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(&r.name))
        .ok_or_else(|| unknown(r, target))
}

fn resolve(
    r: &AttrRef,
    target: &'static Target,
    within: Option<&'static Multi>,
) -> Result<Resolved<'static>, ScimError> {
    if let Some(multi) = within {
        if r.uri.is_some() || r.sub.is_some() {
            return Err(ScimError::filter(format!(
                "`{r}` is not a sub-attribute of `{}`",
                multi.name
            )));
        }
        return sub(multi, &r.name, r).map(|c| Resolved::Within(multi, c));
    }
    check_uri(r, target)?;
    if r.sub.is_none() {
        if let Some(column) = target
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&r.name))
        {
            return Ok(Resolved::Column(column));
        }
    }
    let multi = multi_of(r, target)?;
    let column = sub(multi, r.sub.as_deref().unwrap_or("value"), r)?;
    Ok(Resolved::Within(multi, column))
}

fn sub(multi: &'static Multi, name: &str, r: &AttrRef) -> Result<&'static Column, ScimError> {
    multi
        .subs
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            ScimError::filter(format!(
                "filtering on `{r}` is not supported (on {}: {})",
                multi.name,
                multi
                    .subs
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

fn unknown(r: &AttrRef, target: &Target) -> ScimError {
    let names: Vec<&str> = target
        .columns
        .iter()
        .map(|c| c.name)
        .chain(target.multis.iter().map(|m| m.name))
        .collect();
    ScimError::filter(format!(
        "filtering on `{r}` is not supported (supported: {})",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::parse;

    fn sql(filter: &str, target: &'static Target) -> Result<Condition, ScimError> {
        compile(&parse(filter).unwrap(), target, Backend::Sqlite, 2)
    }

    #[test]
    fn user_filters_compile_with_folded_values() {
        let c = sql(r#"userName eq "Ada@Example.com""#, &USERS).unwrap();
        assert_eq!(
            c.clause,
            "(u.user_name_key IS NOT NULL AND u.user_name_key = $2)"
        );
        assert_eq!(c.params, vec![Param::Text("ada@example.com".into())]);

        let c = sql(r#"emails co "EXAMPLE" and active eq true"#, &USERS).unwrap();
        assert_eq!(
            c.clause,
            "(EXISTS (SELECT 1 FROM scim_user_emails e WHERE e.user_id = u.id AND \
             (e.value_key IS NOT NULL AND instr(e.value_key, $2) > 0)) AND (u.active = $3))"
        );
        assert_eq!(
            c.params,
            vec![Param::Text("example".into()), Param::Bool(true)]
        );

        let c = sql(r#"emails[type eq "work" and value sw "a"]"#, &USERS).unwrap();
        assert!(c
            .clause
            .starts_with("EXISTS (SELECT 1 FROM scim_user_emails e"));
        assert_eq!(c.params.len(), 3);

        let c = sql(r#"externalId sw "Ab""#, &USERS).unwrap();
        assert_eq!(c.params, vec![Param::Int(2), Param::Text("Ab".into())]);
    }

    #[test]
    fn group_filters_reach_members() {
        let c = sql(r#"members[value eq "x"]"#, &GROUPS).unwrap();
        assert_eq!(
            c.clause,
            "EXISTS (SELECT 1 FROM scim_group_members m WHERE m.group_id = g.id AND \
             (m.user_id IS NOT NULL AND m.user_id = $2))"
        );
        assert!(sql(r#"displayName eq "Admins""#, &GROUPS).is_ok());
    }

    #[test]
    fn unsupported_attributes_and_operators_are_refused() {
        for bad in [
            r#"title eq "x""#,
            r#"name.givenName eq "x""#,
            r#"emails.display eq "x""#,
            r#"userName gt "x""#,
            r#"active co "x""#,
            r#"userName eq true"#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x""#,
        ] {
            assert!(sql(bad, &USERS).is_err(), "{bad}");
        }
        assert!(sql(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x""#,
            &USERS
        )
        .is_ok());
    }
}

//! SCIM filter expressions (RFC 7644 §3.4.2.2): a parser into [`Filter`], and the evaluation
//! of a value filter (`emails[type eq "work"]`) against one element in memory. List queries
//! compile the same tree to SQL (see `filter_sql`).

use serde_json::Value;

use super::{error::ScimError, schema::Attr, schema::Type};

/// Longest filter accepted, in bytes; real providers send a few dozen.
const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses, brackets and `not`.
const MAX_DEPTH: usize = 16;

/// An attribute as written in a filter: `[urn:…:]name[.sub]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrRef {
    pub uri: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl std::fmt::Display for AttrRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Co => "co",
            Op::Sw => "sw",
            Op::Ew => "ew",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Bool(bool),
    Null,
    Number(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(AttrRef),
    Compare(AttrRef, Op, Literal),
    /// `attr[filter]`: some value of the multi-valued `attr` matches `filter`.
    Value(AttrRef, Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Word(String),
    Str(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, ScimError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                });
            }
            '"' => {
                chars.next();
                let mut escaped = false;
                let mut end = None;
                for (i, c) in chars.by_ref() {
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => {
                            end = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let end = end.ok_or_else(|| ScimError::filter("a string is not closed"))?;
                let value: String = serde_json::from_str(&text[start..=end])
                    .map_err(|_| ScimError::filter("a string has an invalid escape"))?;
                tokens.push(Token::Str(value));
            }
            _ => {
                let mut end = text.len();
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"') {
                        end = i;
                        break;
                    }
                    chars.next();
                }
                tokens.push(Token::Word(text[start..end].to_string()));
            }
        }
    }
    Ok(tokens)
}

/// Parses `[urn:…:]name[.sub]`; names are ALPHA *(ALPHA / DIGIT / "-" / "_"), or `$ref`.
pub fn parse_attr_ref(word: &str) -> Result<AttrRef, ScimError> {
    let (uri, rest) = if word
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
    {
        match word.rfind(':') {
            Some(i) => (Some(word[..i].to_string()), &word[i + 1..]),
            None => (None, word),
        }
    } else {
        (None, word)
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    let valid = |n: &str| {
        n == "$ref"
            || (n.starts_with(|c: char| c.is_ascii_alphabetic())
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    };
    if !valid(name) || !sub.is_none_or(valid) {
        return Err(ScimError::filter(format!(
            "`{word}` is not an attribute name"
        )));
    }
    Ok(AttrRef {
        uri,
        name: name.to_string(),
        sub: sub.map(str::to_string),
    })
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect(&mut self, token: Token, what: &str) -> Result<(), ScimError> {
        if self.next() == Some(token) {
            Ok(())
        } else {
            Err(ScimError::filter(format!("expected {what}")))
        }
    }

    fn nest(&mut self) -> Result<(), ScimError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ScimError::filter("the filter is nested too deeply"));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.next();
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.factor()?;
        while self.keyword("and") {
            self.next();
            left = Filter::And(Box::new(left), Box::new(self.factor()?));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Filter, ScimError> {
        if self.keyword("not") && self.tokens.get(self.at + 1) == Some(&Token::Open) {
            self.at += 2;
            self.nest()?;
            let inner = self.or()?;
            self.expect(Token::Close, "`)` after `not (`")?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner)));
        }
        match self.next() {
            Some(Token::Open) => {
                self.nest()?;
                let inner = self.or()?;
                self.expect(Token::Close, "`)`")?;
                self.depth -= 1;
                Ok(inner)
            }
            Some(Token::Word(word)) => {
                let attr = parse_attr_ref(&word)?;
                match self.next() {
                    Some(Token::OpenBracket) => {
                        self.nest()?;
                        let inner = self.or()?;
                        self.expect(Token::CloseBracket, "`]`")?;
                        self.depth -= 1;
                        Ok(Filter::Value(attr, Box::new(inner)))
                    }
                    Some(Token::Word(op)) if op.eq_ignore_ascii_case("pr") => {
                        Ok(Filter::Present(attr))
                    }
                    Some(Token::Word(op)) => {
                        let op = Op::parse(&op).ok_or_else(|| {
                            ScimError::filter(format!("`{op}` is not a filter operator"))
                        })?;
                        let value = match self.next() {
                            Some(Token::Str(s)) => Literal::Str(s),
                            Some(Token::Word(w)) => literal(&w)?,
                            _ => {
                                return Err(ScimError::filter(format!(
                                    "`{attr} {}` needs a value",
                                    op.name()
                                )))
                            }
                        };
                        Ok(Filter::Compare(attr, op, value))
                    }
                    _ => Err(ScimError::filter(format!(
                        "expected an operator after `{attr}`"
                    ))),
                }
            }
            _ => Err(ScimError::filter("expected an attribute or `(`")),
        }
    }
}

fn literal(word: &str) -> Result<Literal, ScimError> {
    match word.to_ascii_lowercase().as_str() {
        "true" => Ok(Literal::Bool(true)),
        "false" => Ok(Literal::Bool(false)),
        "null" => Ok(Literal::Null),
        _ if serde_json::from_str::<serde_json::Number>(word).is_ok() => {
            Ok(Literal::Number(word.to_string()))
        }
        _ => Err(ScimError::filter(format!(
            "`{word}` is not a value (strings need double quotes)"
        ))),
    }
}

/// Parses a whole filter.
pub fn parse(text: &str) -> Result<Filter, ScimError> {
    if text.len() > MAX_FILTER_LEN {
        return Err(ScimError::filter("the filter is too long"));
    }
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err(ScimError::filter("the filter is empty"));
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    let filter = parser.or()?;
    if parser.at < parser.tokens.len() {
        return Err(ScimError::filter(
            "unexpected text after the end of the filter",
        ));
    }
    Ok(filter)
}

/// Parses the filter inside `attr[…]` of a PATCH path.
pub fn parse_value_filter(text: &str) -> Result<Filter, ScimError> {
    let filter = parse(text).map_err(|e| ScimError::path(e.detail))?;
    if contains_value_path(&filter) {
        return Err(ScimError::path("a value filter cannot contain another"));
    }
    Ok(filter)
}

fn contains_value_path(filter: &Filter) -> bool {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => contains_value_path(a) || contains_value_path(b),
        Filter::Not(inner) => contains_value_path(inner),
        Filter::Value(..) => true,
        Filter::Present(_) | Filter::Compare(..) => false,
    }
}

/// The operators this service evaluates; the rest are refused rather than ignored.
pub fn unsupported(op: Op) -> ScimError {
    ScimError::filter(format!(
        "the operator `{}` is not supported (supported: eq, ne, co, sw, ew, pr)",
        op.name()
    ))
}

/// `actual op expected` for strings, folding case unless the attribute is case-exact.
pub fn compare_text(
    op: Op,
    actual: &str,
    expected: &str,
    case_exact: bool,
) -> Result<bool, ScimError> {
    let (actual, expected) = if case_exact {
        (actual.to_string(), expected.to_string())
    } else {
        (actual.to_lowercase(), expected.to_lowercase())
    };
    Ok(match op {
        Op::Eq => actual == expected,
        Op::Ne => actual != expected,
        Op::Co => actual.contains(&expected),
        Op::Sw => actual.starts_with(&expected),
        Op::Ew => actual.ends_with(&expected),
        other => return Err(unsupported(other)),
    })
}

/// Whether `element`, one value of the multi-valued complex `attr`, matches `filter`.
pub fn matches(filter: &Filter, attr: &'static Attr, element: &Value) -> Result<bool, ScimError> {
    match filter {
        Filter::And(a, b) => Ok(matches(a, attr, element)? && matches(b, attr, element)?),
        Filter::Or(a, b) => Ok(matches(a, attr, element)? || matches(b, attr, element)?),
        Filter::Not(inner) => Ok(!matches(inner, attr, element)?),
        Filter::Value(..) => Err(ScimError::path("a value filter cannot contain another")),
        Filter::Present(r) => {
            let sub = sub_of(attr, r)?;
            Ok(element
                .get(sub.name)
                .is_some_and(|v| !v.is_null() && v.as_str() != Some("")))
        }
        Filter::Compare(r, op, literal) => {
            let sub = sub_of(attr, r)?;
            let actual = element.get(sub.name).filter(|v| !v.is_null());
            match (sub.ty, literal) {
                (Type::Boolean, Literal::Bool(expected)) => {
                    let actual = actual.and_then(Value::as_bool);
                    match op {
                        Op::Eq => Ok(actual == Some(*expected)),
                        Op::Ne => Ok(actual != Some(*expected)),
                        other => Err(unsupported(*other)),
                    }
                }
                (Type::String | Type::Reference, Literal::Str(expected)) => {
                    match actual.and_then(Value::as_str) {
                        Some(actual) => compare_text(*op, actual, expected, sub.case_exact),
                        // An unassigned value equals nothing and differs from everything.
                        None => match op {
                            Op::Ne => Ok(true),
                            Op::Eq | Op::Co | Op::Sw | Op::Ew => Ok(false),
                            other => Err(unsupported(*other)),
                        },
                    }
                }
                _ => Err(ScimError::path(format!(
                    "`{r}` is a {} and cannot be compared with that value",
                    sub.ty.name()
                ))),
            }
        }
    }
}

fn sub_of(attr: &'static Attr, r: &AttrRef) -> Result<&'static Attr, ScimError> {
    if r.uri.is_some() || r.sub.is_some() {
        return Err(ScimError::path(format!(
            "`{r}` is not a sub-attribute of `{}`",
            attr.name
        )));
    }
    attr.sub_attr(&r.name).ok_or_else(|| {
        ScimError::path(format!("`{}` has no sub-attribute `{}`", attr.name, r.name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{find, USER_SCHEMA};
    use serde_json::json;

    fn attr(name: &str) -> AttrRef {
        parse_attr_ref(name).unwrap()
    }

    #[test]
    fn parses_comparisons_with_precedence() {
        let f = parse(r#"userName eq "a" or emails co "x" and not (active eq false)"#).unwrap();
        assert_eq!(
            f,
            Filter::Or(
                Box::new(Filter::Compare(
                    attr("userName"),
                    Op::Eq,
                    Literal::Str("a".into())
                )),
                Box::new(Filter::And(
                    Box::new(Filter::Compare(
                        attr("emails"),
                        Op::Co,
                        Literal::Str("x".into())
                    )),
                    Box::new(Filter::Not(Box::new(Filter::Compare(
                        attr("active"),
                        Op::Eq,
                        Literal::Bool(false)
                    ))))
                ))
            )
        );
    }

    #[test]
    fn parses_value_paths_urns_and_escapes() {
        let f = parse(r#"emails[type eq "work" and value co "@x"]"#).unwrap();
        assert!(matches!(f, Filter::Value(ref a, _) if a.name == "emails"));
        let f = parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName SW "Al\"x""#)
            .unwrap();
        assert_eq!(
            f,
            Filter::Compare(
                AttrRef {
                    uri: Some("urn:ietf:params:scim:schemas:core:2.0:User".into()),
                    name: "name".into(),
                    sub: Some("givenName".into())
                },
                Op::Sw,
                Literal::Str("Al\"x".into())
            )
        );
        assert_eq!(parse("title pr").unwrap(), Filter::Present(attr("title")));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let deep = "(".repeat(40);
        for bad in [
            "",
            "userName",
            r#"userName xx "a""#,
            r#"userName eq a"#,
            r#"userName eq "a"#,
            r#"(userName eq "a""#,
            r#"userName eq "a" extra"#,
            r#"user%Name eq "a""#,
            deep.as_str(),
        ] {
            let error = parse(bad).unwrap_err();
            assert_eq!(
                error.scim_type,
                Some(crate::scim::error::ScimType::InvalidFilter),
                "{bad}"
            );
        }
    }

    #[test]
    fn value_filters_match_elements() {
        let emails = find(USER_SCHEMA.attrs, "emails").unwrap();
        let work = json!({"value": "Ada@Example.com", "type": "work", "primary": true});
        let f = parse(r#"type eq "WORK" and value ew "example.com""#).unwrap();
        assert!(matches(&f, emails, &work).unwrap());
        let f = parse("primary eq false").unwrap();
        assert!(!matches(&f, emails, &work).unwrap());
        let f = parse(r#"display ne "x""#).unwrap();
        assert!(matches(&f, emails, &work).unwrap());
        assert!(matches(&parse(r#"nope eq "x""#).unwrap(), emails, &work).is_err());
        assert!(matches(&parse(r#"value gt "a""#).unwrap(), emails, &work).is_err());
    }
}

//! An email address, parsed once at the boundary: trimmed, lower-cased and checked. People are
//! matched by email everywhere (a Postmark login, an OIDC account, a manager in the mapping),
//! so every comparison goes through this type instead of ad-hoc `to_lowercase` calls.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A valid, lower-cased email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Why a text is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an email address")]
pub struct NotAnEmail(pub String);

impl Email {
    /// Longest address accepted (RFC 5321's path limit).
    pub const MAX_LEN: usize = 254;

    pub fn parse(text: &str) -> Result<Self, NotAnEmail> {
        let email = text.trim().to_lowercase();
        let valid = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        }) && !email.contains(char::is_whitespace)
            && !email.chars().any(char::is_control)
            && email.len() <= Self::MAX_LEN;
        if valid {
            Ok(Self(email))
        } else {
            Err(NotAnEmail(text.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The same person: emails are compared lower-cased, whatever case a source used.
    pub fn is(&self, other: &str) -> bool {
        self.0 == other.trim().to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Email {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Email {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Email {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl TryFrom<String> for Email {
    type Error = NotAnEmail;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

impl std::str::FromStr for Email {
    type Err = NotAnEmail;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

// Stored as text. Reading checks the value again: a row holding something else is an error
// (naming the column), never a silently different person.
#[cfg(feature = "ssr")]
impl<DB: sqlx::Database> sqlx::Type<DB> for Email
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

#[cfg(feature = "ssr")]
impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for Email
where
    String: sqlx::Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        self.0.encode_by_ref(buf)
    }
}

#[cfg(feature = "ssr")]
impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for Email
where
    String: sqlx::Decode<'r, DB>,
{
    fn decode(
        value: <DB as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <String as sqlx::Decode<'r, DB>>::decode(value)?;
        Ok(Self::parse(&text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_trimmed_and_lower_cased() {
        let email = Email::parse("  Ada.Admin@Example.COM ").map(Email::into_string);
        assert_eq!(email, Ok("ada.admin@example.com".to_string()));
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@.example.com",
            "ada@example.com.",
            "ada@b@example.com",
            "ada lovelace@example.com",
            "ada\u{7}@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn serde_checks_on_the_way_in() {
        let ok: Result<Email, _> = serde_json::from_str("\"Rita@Example.com\"");
        assert_eq!(
            ok.map(Email::into_string).ok().as_deref(),
            Some("rita@example.com")
        );
        assert!(serde_json::from_str::<Email>("\"nobody\"").is_err());
    }
}

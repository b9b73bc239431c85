//! Parsers for configuration values: each turns one key's text into its type, or says what is
//! wrong with it in words the startup error shows.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::KEYS;
use crate::email::Email;

pub(super) fn parse_bool(value: &str) -> Result<bool, String> {
    match value {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!("expected true or false, got `{value}`")),
    }
}

/// `8h`, `30m`, `90s`, `2d` or a number of seconds.
pub(super) fn parse_duration(value: &str) -> Result<Duration, String> {
    let (number, unit) = value
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| value.split_at(i))
        .unwrap_or((value, "s"));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("expected a duration such as 8h, 30m or 90s, got `{value}`"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("unknown unit in `{value}`: use s, m, h or d")),
    };
    if seconds == 0 {
        return Err("must be longer than zero".to_string());
    }
    Ok(Duration::from_secs(seconds))
}

pub(super) fn parse_email_list(value: &str) -> Result<Vec<Email>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| Email::parse(e).map_err(|_| format!("`{e}` is not an email address")))
        .collect()
}

/// `PAR_EMAIL_ALIASES`: groups of emails that are one person, groups separated by `;`, emails
/// in a group by `,`; each group names at least two emails, and no email is in two groups.
pub(super) fn parse_alias_groups(value: &str) -> Result<Vec<Vec<String>>, String> {
    let mut seen = std::collections::HashSet::new();
    let mut groups = Vec::new();
    for group in value.split(';').map(str::trim).filter(|g| !g.is_empty()) {
        let emails: Vec<String> = parse_email_list(group)?
            .into_iter()
            .map(Email::into_string)
            .collect();
        if emails.len() < 2 {
            return Err(format!(
                "`{group}` names one email; a group names two or more"
            ));
        }
        for email in &emails {
            if !seen.insert(email.clone()) {
                return Err(format!("`{email}` is in two groups"));
            }
        }
        groups.push(emails);
    }
    Ok(groups)
}

/// Issuer URLs must be https, except on the loopback interface (local test providers).
pub(super) fn parse_issuer(value: &str) -> Result<String, String> {
    let url = Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err("must be an https:// URL".to_string()),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not contain a query or fragment".to_string());
    }
    Ok(value.to_string())
}

pub(super) fn known_key(name: &str) -> Option<&'static str> {
    KEYS.iter().map(|(k, _)| *k).find(|k| *k == name)
}

pub(super) fn parse_in_range<T>(value: &str, min: T, max: T) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let n: T = value
        .parse()
        .map_err(|_| format!("expected a whole number, got `{value}`"))?;
    if n < min || n > max {
        return Err(format!("must be between {min} and {max}, got {n}"));
    }
    Ok(n)
}

pub(super) fn parse_database_url(value: &str) -> Result<SecretString, String> {
    // Never echo the value: it may carry a password.
    let valid = if value.starts_with("postgres://") || value.starts_with("postgresql://") {
        // The driver's own parser decides; its message is not repeated, as it may quote the URL.
        <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(value).is_ok()
    } else if value.starts_with("sqlite:") {
        <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(value).is_ok()
    } else {
        return Err("expected a URL starting with sqlite: or postgres://".to_string());
    };
    if valid {
        Ok(SecretString::from(value.to_string()))
    } else {
        Err(
            "the URL could not be parsed (the value is not shown: it may hold a password)"
                .to_string(),
        )
    }
}

pub(super) fn parse_public_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".to_string());
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err("must be a plain http(s)://host[:port] address".to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".to_string());
    }
    // Routes are mounted at the root; a path prefix would silently break every link.
    if url.path() != "/" {
        return Err(
            "must not have a path: serve the application at the root of a host".to_string(),
        );
    }
    Ok(url)
}

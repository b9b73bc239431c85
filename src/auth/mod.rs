//! Who is signed in and what they may do.
//!
//! Sign-in is OpenID Connect (authorization code + PKCE) against the company's provider;
//! sessions live in the database; roles come from configuration and an optional groups claim.
//! Every server function and protected route calls [`guard::require`] first.

pub mod api;
pub mod page;

#[cfg(feature = "ssr")]
pub mod dev_idp;
#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod oidc;
#[cfg(feature = "ssr")]
pub mod people;
#[cfg(feature = "ssr")]
pub mod rate_limit;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod session;

use serde::{Deserialize, Serialize};

/// A role granted by configuration or group membership. Reviewers need no role: anyone with
/// assigned review items is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Auditor,
    /// Listed in `PAR_FULFILMENT_EMAILS`: carries out the revocations no API can (a Postmark
    /// account admin), on the fulfilment task pages.
    Fulfilment,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Auditor => "Auditor",
            Role::Fulfilment => "Fulfilment",
        }
    }
}

/// The signed-in person as the pages see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub person_id: i64,
    pub name: String,
    pub email: String,
    pub roles: Vec<Role>,
}

impl Viewer {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Label for the top bar: the strongest role, or "Reviewer".
    /// Whether the fulfilment tasks are theirs to read: admins and the people on the
    /// fulfilment list act on them, auditors read them.
    pub fn reads_tasks(&self) -> bool {
        [Role::Admin, Role::Auditor, Role::Fulfilment]
            .iter()
            .any(|role| self.roles.contains(role))
    }

    pub fn role_label(&self) -> &'static str {
        self.roles.iter().min().map_or("Reviewer", |r| r.label())
    }
}

/// A row of the people list shown to admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonSummary {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub first_sign_in_at: String,
    pub last_sign_in_at: String,
}

/// Paths that need a signed-in person; anonymous visitors are sent to sign in first.
pub const PROTECTED_PREFIXES: [&str; 8] = [
    "/inventory",
    "/campaigns",
    "/reviews",
    "/audit",
    "/settings",
    "/notifications",
    "/inbox",
    "/revocations",
];

/// Whether `path` is one of the protected sections (or below one).
pub fn is_protected(path: &str) -> bool {
    PROTECTED_PREFIXES.iter().any(|prefix| {
        path == *prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Accepts only same-origin relative paths for the post-sign-in redirect: `/x`, not `//x`,
/// `/\x`, `https://x` or anything with control characters.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 2048;
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_same_origin() {
        assert_eq!(safe_next("/campaigns?x=1"), Some("/campaigns?x=1"));
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/ok\\..",
            "evil",
            "",
            "/\nx",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn protected_paths() {
        assert!(is_protected("/audit"));
        assert!(is_protected("/campaigns/12"));
        assert!(!is_protected("/auditx"));
        assert!(!is_protected("/"));
    }
}

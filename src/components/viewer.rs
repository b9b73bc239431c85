//! The signed-in person as the pages see them, and the role tests pages use to decide what to
//! show. The server puts a [`ShellInfo`] in context for every render; the client reads the
//! same value back during hydration. The server functions enforce the rules: these tests only
//! spare people a request the server would refuse.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::auth::{Role, Viewer};

/// Facts about this instance the shell shows on every page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellInfo {
    pub version: String,
    pub demo: bool,
    /// The signed-in person, if any.
    pub viewer: Option<Viewer>,
}

/// The signed-in person, if any.
pub fn viewer() -> Option<Viewer> {
    use_context::<ShellInfo>().and_then(|info| info.viewer)
}

pub fn signed_in() -> bool {
    viewer().is_some()
}

pub fn is_admin() -> bool {
    viewer().is_some_and(|v| v.has(Role::Admin))
}

/// Admins and auditors read campaigns, the inventory and the audit log.
pub fn reads_campaigns() -> bool {
    viewer().is_some_and(|v| v.has(Role::Admin) || v.has(Role::Auditor))
}

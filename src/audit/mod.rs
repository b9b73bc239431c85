//! The audit log: one append-only, hash-chained table written inside the same transaction as
//! the change it records.
//!
//! * [`record`] appends an event; callers pass the open [`Tx`](crate::db::Tx).
//! * [`verify`] walks the chain and names the first event that does not hold; [`verify_all`]
//!   also checks it against the signed [`checkpoint`]s, which catch a removed tail or a chain
//!   rewritten with every hash recomputed.
//! * [`search`] checks the Audit page's filters; `search_db` reads a page of matching events.
//! * [`chain`] holds the canonical encoding and hash, documented in the README so an auditor can
//!   recompute them without this program.

pub mod api;
#[cfg(feature = "ssr")]
pub mod chain;
#[cfg(feature = "ssr")]
pub mod checkpoint;
mod details;
pub mod page;
#[cfg(feature = "ssr")]
pub mod routes;
pub mod search;
#[cfg(feature = "ssr")]
pub mod search_db;
#[cfg(feature = "ssr")]
mod search_sql;
mod signing_page;
#[cfg(feature = "ssr")]
mod verify;
#[cfg(feature = "ssr")]
pub mod verify_checkpoints;
#[cfg(feature = "ssr")]
mod writer;

#[cfg(feature = "ssr")]
pub use checkpoint::{record_checkpoint, Checkpoint, Reason};
#[cfg(feature = "ssr")]
pub use verify::{verify, ChainBreak, ChainReport};
#[cfg(feature = "ssr")]
pub use verify_checkpoints::{verify_all, Broken, FullReport};
#[cfg(feature = "ssr")]
pub use writer::{record, Recorded};

#[cfg(feature = "ssr")]
use serde_json::Value;

/// Who caused an event.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in person, identified by their OpenID Connect issuer and subject.
    Person {
        issuer: String,
        subject: String,
        email: String,
    },
    /// The application itself (scheduler, command line, worker), named by component.
    System { component: String },
}

#[cfg(feature = "ssr")]
impl Actor {
    pub fn system(component: impl Into<String>) -> Self {
        Actor::System {
            component: component.into(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Actor::Person { .. } => "person",
            Actor::System { .. } => "system",
        }
    }
}

/// What happened: an action on a subject, with details as a JSON object.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct Event {
    action: String,
    subject: String,
    details: Value,
}

#[cfg(feature = "ssr")]
impl Event {
    /// `action` is dotted (`campaign.launched`); `subject` names the thing (`campaign:12`).
    pub fn new(action: impl Into<String>, subject: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            subject: subject.into(),
            details: Value::Object(Default::default()),
        }
    }

    /// Details must be a JSON object; anything else is wrapped as `{"value": …}`.
    ///
    /// Fractional numbers are stored as strings: their textual form differs between JSON
    /// libraries, and the hash must be recomputable with any of them (see the README).
    pub fn details(mut self, details: Value) -> Self {
        let details = without_floats(details);
        self.details = match details {
            Value::Object(_) => details,
            other => serde_json::json!({ "value": other }),
        };
        self
    }
}

#[cfg(feature = "ssr")]
fn without_floats(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => Value::String(n.to_string()),
        Value::Array(items) => Value::Array(items.into_iter().map(without_floats).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, without_floats(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The genesis `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

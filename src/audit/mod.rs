//! The audit log: one append-only, hash-chained table written inside the same transaction as
//! the change it records.
//!
//! * [`record`] appends an event; callers pass the open [`Tx`](crate::db::Tx).
//! * [`verify`] walks the chain and names the first event that does not hold.
//! * [`chain`] holds the canonical encoding and hash, documented in the README so an auditor can
//!   recompute them without this program.

pub mod chain;
mod verify;
mod writer;

pub use verify::{verify, ChainBreak, ChainReport};
pub use writer::{record, Recorded};

use serde_json::Value;

/// Who caused an event.
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
#[derive(Debug, Clone)]
pub struct Event {
    pub action: String,
    pub subject: String,
    pub details: Value,
}

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
    pub fn details(mut self, details: Value) -> Self {
        self.details = match details {
            Value::Object(_) => details,
            other => serde_json::json!({ "value": other }),
        };
        self
    }
}

/// The genesis `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

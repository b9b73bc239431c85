//! `POST /email`: the simulator's Email API, with Postmark's checks, a per-recipient inactive
//! list (422 with `ErrorCode` 406) and an inbox per recipient for tests and the demo.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

use super::{postmark_error, Simulator};

/// One email the simulator accepted, as its recipient would read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedEmail {
    pub message_id: String,
    /// Id of the server whose token sent it.
    pub server_id: i64,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub tag: String,
    pub message_stream: String,
    /// `Metadata` as sent.
    pub metadata: Value,
}

/// Fields of `SendEmailRequest` in `server-api.yaml`, plus `Metadata` and `MessageStream`,
/// which Postmark documents for this endpoint although that copy of the description predates
/// them. Anything else is refused, as Postmark refuses JSON it cannot read.
const FIELDS: [&str; 15] = [
    "From",
    "To",
    "Cc",
    "Bcc",
    "Subject",
    "Tag",
    "HtmlBody",
    "TextBody",
    "ReplyTo",
    "TrackOpens",
    "TrackLinks",
    "Headers",
    "Attachments",
    "Metadata",
    "MessageStream",
];

impl Simulator {
    /// Emails accepted by `POST /email`: the sending server and the request body.
    pub fn sent_emails(&self) -> Vec<(i64, Value)> {
        self.inner
            .sent_emails
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|e| (e.server_id, e.body.clone()))
            .collect()
    }

    /// The emails `recipient` received (compared case-insensitively), oldest first.
    pub fn inbox(&self, recipient: &str) -> Vec<ReceivedEmail> {
        let wanted = recipient.trim().to_lowercase();
        self.inner
            .sent_emails
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|e| {
                e.body["To"]
                    .as_str()
                    .is_some_and(|to| to.split(',').any(|a| a.trim().to_lowercase() == wanted))
            })
            .map(received)
            .collect()
    }

    /// From now on, sending to `recipient` answers 422 with `ErrorCode` 406, as Postmark does
    /// for an address that hard-bounced or complained.
    pub fn deactivate_recipient(&self, recipient: &str) {
        self.inner
            .inactive_recipients
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(recipient.trim().to_lowercase());
    }

    fn inactive(&self, to: &str) -> bool {
        let inactive = self
            .inner
            .inactive_recipients
            .read()
            .unwrap_or_else(|p| p.into_inner());
        to.split(',')
            .any(|a| inactive.contains(&a.trim().to_lowercase()))
    }
}

/// What the simulator keeps of an accepted email.
#[derive(Debug, Clone)]
pub(super) struct StoredEmail {
    server_id: i64,
    message_id: String,
    body: Value,
}

fn received(stored: &StoredEmail) -> ReceivedEmail {
    let text = |key: &str| stored.body[key].as_str().unwrap_or_default().to_string();
    ReceivedEmail {
        message_id: stored.message_id.clone(),
        server_id: stored.server_id,
        from: text("From"),
        to: text("To"),
        subject: text("Subject"),
        text_body: text("TextBody"),
        html_body: text("HtmlBody"),
        tag: text("Tag"),
        message_stream: text("MessageStream"),
        metadata: stored.body["Metadata"].clone(),
    }
}

/// `POST /email` with a server token: Postmark requires `From`, `To` and a body.
pub(super) async fn send_email(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let token = headers
        .get("X-Postmark-Server-Token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let server = sim
        .inner
        .servers
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|s| s.api_tokens.contains(&token))
        .map(|s| s.id);
    let Some(server_id) = server else {
        return postmark_error(
            StatusCode::UNAUTHORIZED,
            10,
            "No Server API token or an incorrect Server API token was provided.",
        );
    };
    if let Err(response) = sim.before().await {
        return response;
    }
    let Some(fields) = body.as_object() else {
        return postmark_error(StatusCode::UNPROCESSABLE_ENTITY, 402, "Invalid JSON.");
    };
    if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return postmark_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            402,
            &format!("Invalid JSON: unknown field {unknown}."),
        );
    }
    let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default();
    if text("From").is_empty() || text("To").is_empty() {
        return postmark_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            300,
            "Invalid email request: From and To are required.",
        );
    }
    if text("HtmlBody").is_empty() && text("TextBody").is_empty() {
        return postmark_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            300,
            "Provide either email TextBody or HtmlBody or both.",
        );
    }
    if text("To").split(',').count() > 50 {
        return postmark_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            300,
            "Invalid email request: more than 50 recipients.",
        );
    }
    let metadata_is_flat = body.get("Metadata").is_none_or(|m| {
        m.as_object()
            .is_some_and(|m| m.values().all(Value::is_string))
    });
    if !metadata_is_flat {
        return postmark_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            300,
            "Invalid email request: Metadata values must be strings.",
        );
    }
    if sim.inactive(text("To")) {
        return postmark_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            406,
            "You tried to send to recipient(s) that have been marked as inactive.",
        );
    }
    let to = text("To").to_string();
    let message_id = {
        let mut sent = sim
            .inner
            .sent_emails
            .write()
            .unwrap_or_else(|p| p.into_inner());
        let message_id = format!("00000000-0000-4000-8000-{:012}", sent.len() + 1);
        sent.push(StoredEmail {
            server_id,
            message_id: message_id.clone(),
            body,
        });
        message_id
    };
    // Fields as `SendEmailResponse` in server-api.yaml.
    Json(json!({
        "To": to,
        "SubmittedAt": "2026-11-28T09:00:00.0000000Z",
        "MessageID": message_id,
        "ErrorCode": 0,
        "Message": "OK",
    }))
    .into_response()
}

//! Sending one email through Postmark's Email API (`POST /email` with the server token), with
//! the `postmark` crate's request type carried by our [`Transport`].
//!
//! The transport makes exactly one attempt here: the notification outbox owns retries, so that
//! every attempt is counted in the database, waits survive a restart, and a worker never sits
//! on a lease while sleeping.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use ::postmark::{
    api::{email::SendEmailRequest, Body},
    Query as _,
};
use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response, StatusCode};

use super::{PostmarkError, RetryPolicy, Token, Transport, TransportError};
use crate::config::MailConfig;

/// Postmark's `ErrorCode` for a recipient marked inactive (hard bounce, spam complaint, or
/// manual suppression): sending again will not help.
pub const INACTIVE_RECIPIENT: i64 = 406;
/// Postmark's `ErrorCode` for an invalid email request, e.g. a malformed recipient address.
pub const INVALID_EMAIL: i64 = 300;

/// One email, rendered.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// Postmark's `Tag`: the notification kind.
    pub tag: String,
    pub metadata: HashMap<String, String>,
}

impl std::fmt::Debug for OutgoingEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The bodies hold an approval link's raw token: never print them.
        f.debug_struct("OutgoingEmail")
            .field("to", &self.to)
            .field("tag", &self.tag)
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

/// Why Postmark did not take an email.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 422: Postmark will answer the same to the same request. `permanent` when the recipient
    /// itself is the problem (inactive or invalid address).
    #[error("{0}")]
    Rejected(PostmarkError, bool),
    /// Worth trying again later (throttling, server errors, network, a refused token that an
    /// operator may fix), after at least `retry_after` when Postmark said so.
    #[error("{error}")]
    Retry {
        error: PostmarkError,
        retry_after: Option<Duration>,
    },
}

/// Sends emails from one configured sender and message stream.
#[derive(Debug, Clone)]
pub struct EmailSender {
    transport: Transport,
    from: String,
    stream: String,
}

impl EmailSender {
    pub fn new(config: &MailConfig) -> anyhow::Result<Self> {
        let transport = Transport::new(
            config.api_url.clone(),
            Token::Server(config.server_token.clone()),
            Duration::from_secs(5),
            Duration::from_secs(30),
            RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            },
        )?;
        Ok(Self {
            transport,
            from: config.from.clone(),
            stream: config.stream.clone(),
        })
    }

    /// The request body exactly as it goes to Postmark (also checked against the published
    /// API description by the contract test).
    pub fn request(&self, email: &OutgoingEmail) -> SendEmailRequest {
        SendEmailRequest::builder()
            .from(self.from.clone())
            .to(email.to.clone())
            .subject(email.subject.clone())
            .body(Body::HtmlAndText {
                html: email.html_body.clone(),
                text: email.text_body.clone(),
            })
            .tag(email.tag.clone())
            .metadata(email.metadata.clone())
            .message_stream(self.stream.clone())
            .build()
    }

    /// Sends one email; returns Postmark's `MessageID`.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        let client = RetryAfterCapture {
            transport: &self.transport,
            retry_after: Mutex::new(None),
        };
        let outcome = self.request(email).execute(&client).await;
        let retry_after = *client
            .retry_after
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match outcome {
            Ok(response) => Ok(response.message_id.unwrap_or_default()),
            Err(error) => {
                let error = PostmarkError::from(error);
                match &error {
                    PostmarkError::Rejected { code, .. } => {
                        let permanent = matches!(*code, INACTIVE_RECIPIENT | INVALID_EMAIL);
                        Err(SendError::Rejected(error, permanent))
                    }
                    // A 200 whose body we cannot read: Postmark took the email. Sending again
                    // would deliver it twice, so it counts as sent without a MessageID.
                    PostmarkError::Malformed(_) => Ok(String::new()),
                    _ => Err(SendError::Retry { error, retry_after }),
                }
            }
        }
    }
}

/// Our transport, remembering the `Retry-After` of the answer: the crate's error type keeps
/// status, code and message but drops the headers.
struct RetryAfterCapture<'a> {
    transport: &'a Transport,
    retry_after: Mutex<Option<Duration>>,
}

#[async_trait]
impl ::postmark::Client for RetryAfterCapture<'_> {
    type Error = TransportError;

    async fn execute(&self, req: Request<Bytes>) -> Result<Response<Bytes>, Self::Error> {
        let response = ::postmark::Client::execute(self.transport, req).await?;
        if response.status() == StatusCode::TOO_MANY_REQUESTS || response.status().is_server_error()
        {
            *self
                .retry_after
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) =
                super::transport::retry_after(&response);
        }
        Ok(response)
    }
}

//! The worker that empties the outbox: claim due rows under a lease, mint their links, send
//! through Postmark, record the outcome.
//!
//! Exactly once across restarts: a row is sent only by the worker whose claim committed, and
//! marked sent right after Postmark accepts it. A worker that stops after claiming and before
//! sending leaves a lease that runs out; the row is then claimed again (with a fresh link; the
//! unsent one is rotated away) and sent once. The one window left is at-least-once: a crash
//! after Postmark accepted the email and before the `sent` mark commits, or a network failure
//! that hides Postmark's answer, sends that email again when the lease runs out. Postmark's
//! Email API has no idempotency key to close that window.

use std::{collections::HashMap, sync::Arc, time::Duration};

use anyhow::Context as _;
use rand::Rng as _;
use serde_json::Value;
use time::{macros::format_description, Date};
use url::Url;

use super::{
    db::{self, Due, Outcome},
    render, Kind,
};
use crate::{
    approval_links,
    audit::{self, Actor, Event},
    clock::{format_timestamp, Clock},
    config::MailConfig,
    db::Db,
    email::Email,
    postmark::email::{EmailSender, OutgoingEmail, SendError},
};

/// How the worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Rows claimed per pass.
    pub batch: i64,
    /// How long a claim holds a row; longer than a send can take (the request timeout is 30 s).
    pub lease: Duration,
    /// Attempts before a row fails for good.
    pub max_attempts: i64,
    /// First wait after a failed attempt; doubles per attempt up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Time between passes of the spawned loop.
    pub poll_every: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            batch: 20,
            lease: Duration::from_secs(300),
            max_attempts: 6,
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(3600),
            poll_every: Duration::from_secs(1),
        }
    }
}

/// Why a row is not sent: a problem with the row itself (it fails), or nothing left to send
/// for (it is skipped).
enum Unsendable {
    Fail(String),
    Skip(String),
}

/// A row claimed for sending. Holds the rendered email, and so the raw token: it lives in
/// memory only, for the one request to Postmark.
#[derive(Debug)]
pub struct Claimed {
    pub id: i64,
    attempts: i64,
    lease_until: String,
    email: OutgoingEmail,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// The outbox worker.
#[derive(Debug, Clone)]
pub struct Worker {
    db: Db,
    clock: Arc<dyn Clock>,
    sender: Option<EmailSender>,
    public_url: Url,
    grace_days: u32,
    settings: Settings,
}

impl Worker {
    /// `mail: None` leaves every row queued (mail is off).
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        mail: Option<&MailConfig>,
        public_url: Url,
        grace_days: u32,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            clock,
            sender: mail.map(EmailSender::new).transpose()?,
            public_url,
            grace_days,
            settings: Settings::default(),
        })
    }

    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    pub fn mail_enabled(&self) -> bool {
        self.sender.is_some()
    }

    /// Runs passes every `poll_every` until the process stops; without mail, says so once
    /// and leaves the queue alone.
    pub fn spawn(self) {
        if !self.mail_enabled() {
            tracing::info!("mail is off (no PAR_POSTMARK_SERVER_TOKEN): notifications stay queued");
            return;
        }
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(self.settings.poll_every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = self.run_once().await {
                    tracing::error!(error = format!("{error:#}"), "notification pass failed");
                }
            }
        });
    }

    /// One pass: claims what is due and sends it. Tests call this directly.
    pub async fn run_once(&self) -> anyhow::Result<Report> {
        let mut report = Report::default();
        if !self.mail_enabled() {
            return Ok(report);
        }
        for claimed in self.claim().await? {
            match self.deliver(claimed).await? {
                Some(Outcome::Sent { .. }) => report.sent += 1,
                Some(Outcome::Retry { .. }) => report.retried += 1,
                Some(Outcome::Failed { .. }) => report.failed += 1,
                None => {}
            }
        }
        Ok(report)
    }

    /// Claims due rows in one transaction: each gets its link (minted in the same transaction
    /// that records the attempt, so a link exists only for an attempt that happened), its
    /// preview and a lease. Rows whose data cannot be rendered fail here.
    pub async fn claim(&self) -> anyhow::Result<Vec<Claimed>> {
        let now = self.clock.now();
        let lease_until = format_timestamp(now + self.settings.lease);
        let mut tx = self.db.begin().await?;
        let due = db::due(&mut tx, &format_timestamp(now), self.settings.batch).await?;
        let mut claimed = Vec::with_capacity(due.len());
        for row in due {
            match self.prepare(&mut tx, &row).await? {
                Ok((email, preview)) => {
                    db::record_attempt(&mut tx, row.id, &lease_until, &preview).await?;
                    claimed.push(Claimed {
                        id: row.id,
                        attempts: row.attempts + 1,
                        lease_until: lease_until.clone(),
                        email,
                    });
                }
                Err(Unsendable::Skip(why)) => {
                    tracing::info!(notification.id = row.id, why, "notification not sent");
                    db::skip(&mut tx, self.clock.as_ref(), row.id, &why).await?;
                    let event =
                        Event::new("notification.skipped", format!("notification:{}", row.id))
                            .details(serde_json::json!({
                                "kind": row.kind.slug(), "recipient": row.recipient,
                                "campaign_id": row.campaign_id, "reason": why,
                            }));
                    let actor = Actor::system("notifications");
                    audit::record(&mut tx, self.clock.as_ref(), &actor, &event).await?;
                }
                Err(Unsendable::Fail(problem)) => {
                    tracing::warn!(
                        notification.id = row.id,
                        problem,
                        "notification cannot be sent"
                    );
                    db::fail(&mut tx, self.clock.as_ref(), row.id, &problem, false).await?;
                    let event = Event::new(
                        "notification.failed",
                        format!("notification:{}", row.id),
                    )
                    .details(serde_json::json!({
                        "kind": row.kind.slug(), "recipient": row.recipient,
                        "campaign_id": row.campaign_id, "error": problem, "permanent": false,
                    }));
                    audit::record(
                        &mut tx,
                        self.clock.as_ref(),
                        &Actor::system("notifications"),
                        &event,
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Mints the link (when the kind has one) and renders. The inner `Err` is a problem with
    /// the row itself, which no retry fixes.
    async fn prepare(
        &self,
        tx: &mut crate::db::Tx,
        row: &Due,
    ) -> anyhow::Result<Result<(OutgoingEmail, String), Unsendable>> {
        let Ok(recipient) = Email::parse(&row.recipient) else {
            return Ok(Err(Unsendable::Fail(format!(
                "{:?} is not an email address",
                row.recipient
            ))));
        };
        let token = if row.kind.has_link() {
            let Some(campaign_id) = row.campaign_id else {
                return Ok(Err(Unsendable::Fail(
                    "an approval link needs a campaign".to_string(),
                )));
            };
            let Some((due_on, status)) = db::campaign_due_on(tx, campaign_id).await? else {
                return Ok(Err(Unsendable::Fail(format!(
                    "campaign {campaign_id} does not exist"
                ))));
            };
            // Nobody is asked to review a campaign that closed before the email went out.
            if status != "active" {
                return Ok(Err(Unsendable::Skip(
                    "the campaign closed before this email went out".to_string(),
                )));
            }
            let Ok(expires_at) = link_expiry(&due_on, self.grace_days) else {
                return Ok(Err(Unsendable::Fail(format!(
                    "campaign {campaign_id} has an unreadable due date"
                ))));
            };
            let token = approval_links::db::mint(
                tx,
                self.clock.as_ref(),
                &recipient,
                campaign_id,
                expires_at,
                Some(row.id),
            )
            .await?;
            Some(token)
        } else {
            None
        };
        let url = match (&token, row.kind) {
            (Some(token), _) => Some(self.link_url(token)?),
            (None, Kind::FulfilmentTask) => {
                let Some(task_id) = row.data.get("task_id").and_then(Value::as_i64) else {
                    return Ok(Err(Unsendable::Fail(
                        "template data for fulfilment_task lacks task_id".to_string(),
                    )));
                };
                Some(self.page_url(&format!("tasks/{task_id}"))?)
            }
            (None, _) => None,
        };
        let rendered = match render::render(row.kind, &row.data, recipient.as_str(), url.as_deref())
        {
            Ok(rendered) => rendered,
            Err(missing) => return Ok(Err(Unsendable::Fail(missing.to_string()))),
        };
        let preview = match &token {
            Some(token) => rendered.text.replace(token.as_str(), "[link]"),
            None => rendered.text.clone(),
        };
        let mut metadata = HashMap::from([("notification_id".to_string(), row.id.to_string())]);
        if let Some(campaign_id) = row.campaign_id {
            metadata.insert("campaign_id".to_string(), campaign_id.to_string());
        }
        Ok(Ok((
            OutgoingEmail {
                to: recipient.into_string(),
                subject: rendered.subject,
                text_body: rendered.text,
                html_body: rendered.html,
                tag: row.kind.slug().to_string(),
                metadata,
            },
            preview,
        )))
    }

    fn link_url(&self, token: &str) -> anyhow::Result<String> {
        self.page_url(&format!("r/{token}"))
    }

    /// A page of this app, for a link in an email.
    fn page_url(&self, path: &str) -> anyhow::Result<String> {
        Ok(self
            .public_url
            .join(path)
            .context("the public URL cannot carry a link")?
            .to_string())
    }

    /// Sends one claimed row and records the outcome; `None` when the lease was lost meanwhile.
    #[tracing::instrument(skip_all, fields(notification.id = claimed.id, attempt = claimed.attempts))]
    pub async fn deliver(&self, claimed: Claimed) -> anyhow::Result<Option<Outcome>> {
        let Some(sender) = &self.sender else {
            return Ok(None);
        };
        let outcome = match sender.send(&claimed.email).await {
            Ok(message_id) => Outcome::Sent { message_id },
            Err(SendError::Rejected(error, permanent)) => Outcome::Failed {
                error: error.to_string(),
                permanent,
            },
            Err(SendError::Retry { error, .. })
                if claimed.attempts >= self.settings.max_attempts =>
            {
                Outcome::Failed {
                    error: format!("{error} (gave up after {} attempts)", claimed.attempts),
                    permanent: false,
                }
            }
            Err(SendError::Retry { error, retry_after }) => {
                let wait = self.backoff(claimed.attempts, retry_after);
                Outcome::Retry {
                    at: format_timestamp(self.clock.now() + wait),
                    error: error.to_string(),
                }
            }
        };
        // Between Postmark's answer and this commit lies the at-least-once window (see the
        // module documentation).
        let ours = db::finish(
            &self.db,
            self.clock.as_ref(),
            claimed.id,
            &claimed.lease_until,
            &outcome,
        )
        .await?;
        if !ours {
            tracing::warn!(
                "lease ran out before the outcome was recorded; another worker has the row"
            );
            return Ok(None);
        }
        match &outcome {
            Outcome::Sent { .. } => tracing::info!("notification sent"),
            Outcome::Retry { error, at } => {
                tracing::warn!(%error, retry_at = %at, "notification will be retried")
            }
            Outcome::Failed { error, permanent } => {
                tracing::warn!(%error, permanent, "notification failed")
            }
        }
        Ok(Some(outcome))
    }

    /// Exponential backoff with jitter (half to all of the step, so parallel failures spread
    /// out), never shorter than Postmark's `Retry-After`.
    fn backoff(&self, attempts: i64, retry_after: Option<Duration>) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(20);
        let step = self
            .settings
            .base_delay
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.settings.max_delay);
        let jittered = step.mul_f64(rand::thread_rng().gen_range(0.5..=1.0));
        jittered.max(retry_after.unwrap_or_default())
    }
}

/// A link works until the end (UTC) of the day the campaign closes by itself: its due date
/// plus the grace days.
fn link_expiry(due_on: &str, grace_days: u32) -> Result<time::OffsetDateTime, time::error::Parse> {
    let due = Date::parse(due_on, format_description!("[year]-[month]-[day]"))?;
    let last_day = due.saturating_add(time::Duration::days(i64::from(grace_days)));
    Ok(last_day
        .next_day()
        .unwrap_or(last_day)
        .midnight()
        .assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn links_expire_at_the_end_of_the_last_grace_day() {
        assert_eq!(
            link_expiry("2026-12-15", 3).unwrap(),
            datetime!(2026-12-19 00:00 UTC)
        );
        assert!(link_expiry("15.12.2026", 3).is_err());
    }
}

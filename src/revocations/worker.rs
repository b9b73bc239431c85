//! The worker that carries out revocation jobs: claim one due job at a time under a lease,
//! execute it (see `execute`), record the outcome; pause the whole queue while Postmark or the
//! users gateway refuses the credentials, probing once per `probe_every` until a call is
//! accepted again.
//!
//! At-least-once across crashes: a worker that dies mid-job leaves a lease that runs out, and
//! the job is claimed and executed again. Every action is idempotent (it reads the state
//! first), so a repeated call leaves the same final state.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use rand::Rng as _;
use secrecy::SecretString;
use time::{macros::format_description, OffsetDateTime};

use super::{
    db,
    execute::{Calls, Ended, Execution, Refused, Users},
    queue::{self, Job, Outcome},
};
use crate::{
    clock::{format_timestamp, parse_timestamp, Clock},
    config::InventoryConfig,
    db::Db,
    email::Email,
    postmark::{gateway::UsersGateway, PostmarkClient, PostmarkConfig, RetryPolicy},
    server::shutdown::Draining,
};

/// How the worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Jobs run per pass (claimed one at a time, so a lease covers one job's calls only).
    pub batch: usize,
    /// How long a claim holds a job: longer than its calls can take (three requests at most,
    /// each within `request_timeout`).
    pub lease: Duration,
    /// Attempts in a round before a job fails; an admin's retry starts a new round.
    pub max_attempts: i64,
    /// First wait after a failed attempt; doubles per attempt up to `max_delay`. Never shorter
    /// than the `Retry-After` of the answer.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Time between passes of the spawned loop (none after a pass that used its whole batch).
    pub poll_every: Duration,
    /// While paused: time between probe calls.
    pub probe_every: Duration,
    pub connect_timeout: Duration,
    /// One request to Postmark or the gateway; a slower answer is a retryable timeout.
    pub request_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            batch: 50,
            lease: Duration::from_secs(300),
            max_attempts: 6,
            base_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(3600),
            poll_every: Duration::from_secs(1),
            probe_every: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl Settings {
    /// These settings with `lease` (`PAR_REVOCATION_LEASE`). The timeouts shrink to a quarter
    /// of it when it is short, so a job's calls (a read, a write, and the database between)
    /// still end before the lease does and no second worker can take a job still in flight.
    pub fn with_lease(self, lease: Duration) -> Self {
        let call = lease / 4;
        Self {
            lease,
            request_timeout: self.request_timeout.min(call),
            connect_timeout: self.connect_timeout.min(call),
            ..self
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    pub done: usize,
    pub retried: usize,
    pub failed: usize,
    pub manual: usize,
    /// The queue was paused at the end of the pass.
    pub paused: bool,
    /// The pass ended a pause.
    pub resumed: bool,
    /// Fulfilment tasks the pass created.
    pub tasks: usize,
    /// The pass synced the users gateway to prove removals outside campaigns.
    pub proved: bool,
}

impl Report {
    /// Jobs the pass ended or rescheduled.
    pub fn worked(&self) -> usize {
        self.done + self.retried + self.failed + self.manual
    }
}

/// The revocation worker.
#[derive(Debug, Clone)]
pub struct Worker {
    db: Db,
    clock: Arc<dyn Clock>,
    postmark: Option<PostmarkClient>,
    gateway: Option<UsersGateway>,
    settings: Settings,
    /// When this worker last probed during a pause.
    last_probe: Arc<Mutex<Option<OffsetDateTime>>>,
    /// Who is emailed each fulfilment task (`PAR_FULFILMENT_EMAILS`).
    fulfilment: Arc<[Email]>,
    /// Set when the process stops: no new claims.
    draining: Draining,
    /// The job being carried out and its lease, to hand back if the process must stop first.
    in_flight: Arc<Mutex<Option<(i64, String)>>>,
}

/// A spawned worker: wait for it to stop ([`Running::stop`]) once draining has started.
pub struct Running {
    task: tokio::task::JoinHandle<()>,
    db: Db,
    in_flight: Arc<Mutex<Option<(i64, String)>>>,
}

impl Running {
    /// Waits up to `within` for the job in hand to finish (draining stops further claims);
    /// past that, stops the worker and releases the job's lease so another instance takes it
    /// at once instead of when the lease runs out.
    pub async fn stop(self, within: Duration) {
        let Running {
            mut task,
            db,
            in_flight,
        } = self;
        if tokio::time::timeout(within, &mut task).await.is_ok() {
            return;
        }
        task.abort();
        let _ = task.await;
        let held = in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some((id, lease_until)) = held {
            match queue::hand_back(&db, id, &lease_until).await {
                Ok(true) => {
                    tracing::warn!(revocation.id = id, "stopped mid-job: handed the job back")
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::error!(%error, revocation.id = id, "could not hand the job back; its lease runs out instead")
                }
            }
        }
    }
}

impl Worker {
    /// Talks to the Postmark account and users gateway of `inventory`; either may be missing,
    /// and the jobs that need it become manual tasks.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        inventory: &InventoryConfig,
        settings: Settings,
    ) -> anyhow::Result<Self> {
        let postmark = inventory
            .account_token
            .as_ref()
            .map(|token| postmark_client(&inventory.api_url, token, &settings))
            .transpose()?;
        let gateway = inventory
            .users_gateway
            .as_ref()
            .map(|(url, token)| {
                UsersGateway::with_timeouts(
                    url.clone(),
                    token.clone(),
                    settings.connect_timeout,
                    settings.request_timeout,
                )
            })
            .transpose()?;
        Ok(Self {
            db,
            clock,
            postmark,
            gateway,
            settings,
            last_probe: Arc::new(Mutex::new(None)),
            fulfilment: Arc::from(Vec::new()),
            draining: Draining::default(),
            in_flight: Arc::new(Mutex::new(None)),
        })
    }

    /// Emails each fulfilment task to these people.
    pub fn with_fulfilment(mut self, recipients: Vec<Email>) -> Self {
        self.fulfilment = Arc::from(recipients);
        self
    }

    /// What an attempt may use now.
    fn calls(&self) -> Calls<'_> {
        Calls {
            postmark: self.postmark.as_ref(),
            gateway: self.gateway.as_ref(),
            db: &self.db,
            // Today's date (UTC) for a quarantined server's name.
            today: self
                .clock
                .now()
                .date()
                .format(format_description!("[year]-[month]-[day]"))
                .unwrap_or_default(),
        }
    }

    /// Runs passes every `poll_every` until `draining` starts.
    pub fn spawn(mut self, draining: Draining) -> Running {
        self.draining = draining;
        let (db, in_flight) = (self.db.clone(), self.in_flight.clone());
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(self.settings.poll_every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    () = self.draining.started() => break,
                }
                // A pass that used its whole batch leaves more due work: the next one starts
                // at once, so a large queue drains at the worker's pace, not a batch a tick.
                while !self.draining.is_draining() {
                    match self.run_once().await {
                        Ok(report) if report.worked() >= self.settings.batch && !report.paused => {}
                        Ok(_) => break,
                        Err(error) => {
                            tracing::error!(error = format!("{error:#}"), "revocation pass failed");
                            break;
                        }
                    }
                }
            }
        });
        Running {
            task,
            db,
            in_flight,
        }
    }

    /// One pass: while paused, a probe when one is due; otherwise up to `batch` due jobs, one
    /// at a time, stopping early when the credentials are refused. Tests call this directly.
    pub async fn run_once(&self) -> anyhow::Result<Report> {
        let mut report = Report::default();
        if let Some((paused_at, reason)) = db::paused(&self.db).await? {
            if !self.probe(&paused_at, &reason).await? {
                report.paused = true;
                return Ok(report);
            }
            report.resumed = queue::resume(&self.db, self.clock.as_ref()).await?;
            if report.resumed {
                tracing::info!("revocations resumed: the credentials are accepted again");
            }
        }
        let mut users = Users::default();
        // Offboarding is measured in minutes, not until the next scheduled sync: a removal
        // outside a campaign that the gateway accepted is proved by a users sync at once.
        let mut prove = false;
        for _ in 0..self.settings.batch {
            if self.draining.is_draining() {
                break;
            }
            let lease_until = format_timestamp(self.clock.now() + self.settings.lease);
            let Some(job) = queue::claim(&self.db, self.clock.as_ref(), &lease_until).await? else {
                break;
            };
            self.hold(Some((job.id, job.lease_until.clone())));
            let ran = self.run_job(&job, &mut users).await;
            self.hold(None);
            match ran? {
                Some(Outcome::Done) => {
                    report.done += 1;
                    prove |= job.campaign_id.is_none() && job.action.uses_gateway();
                }
                Some(Outcome::Retry { .. }) => report.retried += 1,
                Some(Outcome::Failed { .. }) => report.failed += 1,
                Some(Outcome::Manual { .. }) => report.manual += 1,
                Some(Outcome::Paused { .. }) => {
                    report.paused = true;
                    break;
                }
                None => {}
            }
        }
        if let (true, Some(gateway)) = (prove, &self.gateway) {
            let actor = crate::audit::Actor::system(db::WORKER);
            match crate::inventory::sync::users_from_gateway(
                &self.db,
                self.clock.as_ref(),
                gateway,
                crate::inventory::Trigger::Verification,
                &actor,
            )
            .await
            {
                Ok(_) => report.proved = true,
                // The next scheduled sync proves it instead.
                Err(error) => tracing::warn!(%error, "the proving users sync failed"),
            }
        }
        // Manual jobs of this pass (and any a crash left ungathered) become tasks once their
        // campaign has nothing left waiting for a first attempt.
        report.tasks =
            crate::fulfilment::db::collect(&self.db, self.clock.as_ref(), &self.fulfilment)
                .await?
                .len();
        Ok(report)
    }

    fn hold(&self, job: Option<(i64, String)>) {
        *self
            .in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = job;
    }

    /// One probe call when one is due: `true` once it is accepted.
    async fn probe(&self, paused_at: &str, reason: &str) -> anyhow::Result<bool> {
        let now = self.clock.now();
        {
            let mut last = self
                .last_probe
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let paused_at = parse_timestamp(paused_at).unwrap_or(now);
            let since = last.map_or(paused_at, |l| l.max(paused_at));
            if now < since + self.settings.probe_every {
                return Ok(false);
            }
            *last = Some(now);
        }
        let refused = Refused::from_reason(reason).unwrap_or(if self.postmark.is_some() {
            Refused::Postmark
        } else {
            Refused::Gateway
        });
        let accepted = match (refused, &self.postmark, &self.gateway) {
            (Refused::Postmark, Some(client), _) => match client.probe().await {
                Ok(()) => true,
                Err(failure) => !matches!(failure.status, Some(401 | 403)),
            },
            (Refused::Gateway, _, Some(gateway)) => !matches!(
                gateway.list_users().await,
                Err(crate::postmark::gateway::GatewayError::Unauthorized)
            ),
            // The refusing side is no longer configured (a restart with new settings).
            _ => true,
        };
        // Any answer but a refusal means the credentials are good again; a 500 or a timeout
        // is the job's business, retried as usual.
        Ok(accepted)
    }

    /// Executes a claimed job and records the outcome; `None` when the lease was lost.
    #[tracing::instrument(skip_all, fields(revocation.id = job.id, action = job.action.slug()))]
    async fn run_job(&self, job: &Job, users: &mut Users) -> anyhow::Result<Option<Outcome>> {
        let Execution { attempt, ended } = self.calls().execute(job, users).await?;
        let outcome = match ended {
            Ended::Done => Outcome::Done,
            Ended::Failed(error) => Outcome::Failed { error },
            Ended::Manual(reason) => Outcome::Manual { reason },
            Ended::Paused(refused) => Outcome::Paused {
                reason: refused.reason().to_string(),
            },
            Ended::Retry { error, .. } if job.round + 1 >= self.settings.max_attempts => {
                Outcome::Failed {
                    error: format!("{error} (gave up after {} attempts)", job.round + 1),
                }
            }
            Ended::Retry { error, retry_after } => Outcome::Retry {
                at: format_timestamp(self.clock.now() + self.backoff(job.round + 1, retry_after)),
                error,
            },
            Ended::LeaseLost => return Ok(None),
        };
        let ours = queue::finish(
            &self.db,
            self.clock.as_ref(),
            job,
            attempt.as_ref(),
            &outcome,
        )
        .await?;
        if !ours {
            tracing::warn!("lease ran out before the outcome was recorded; another worker has it");
            return Ok(None);
        }
        match &outcome {
            Outcome::Done => tracing::info!("revocation done"),
            Outcome::Retry { error, at } => {
                tracing::warn!(%error, retry_at = %at, "revocation will be retried")
            }
            Outcome::Failed { error } => tracing::warn!(%error, "revocation failed"),
            Outcome::Manual { reason } => tracing::info!(%reason, "revocation left to a person"),
            Outcome::Paused { reason } => tracing::warn!(%reason, "revocations paused"),
        }
        Ok(Some(outcome))
    }

    /// Exponential backoff with jitter (half to all of the step, so jobs that failed together
    /// spread out), never shorter than the answer's `Retry-After`.
    fn backoff(&self, attempt: i64, retry_after: Option<Duration>) -> Duration {
        let exponent = u32::try_from(attempt.saturating_sub(1))
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

/// A Postmark client that makes one request per call: the worker records and retries each
/// attempt itself.
fn postmark_client(
    api_url: &url::Url,
    token: &SecretString,
    settings: &Settings,
) -> anyhow::Result<PostmarkClient> {
    PostmarkClient::new(&PostmarkConfig {
        api_url: api_url.clone(),
        account_token: token.clone(),
        connect_timeout: settings.connect_timeout,
        request_timeout: settings.request_timeout,
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
    })
}

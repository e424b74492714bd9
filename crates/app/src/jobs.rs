//! One runner for every kind of background work. A job is a row — a
//! registry check, a message in the outbox, a letter for the post — so a
//! crash only delays it: a worker leases due rows for a while, runs each,
//! and a job whose call failed is tried again after a wait that doubles
//! with each failure, until its kind gives up. The job's id goes with its
//! call as the idempotency key, so a job run twice after a crash acts once.
use std::sync::Arc;

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::accounts::InternalError;
use crate::clock::Clock;

/// The kinds' names, in logs and metrics (`kind` labels): the runner's and
/// the metrics listener's count of what waits use the same words.
pub mod kinds {
    pub const REGISTRY_CHECK: &str = "registry_check";
    pub const OUTBOX: &str = "outbox";
    pub const LETTER: &str = "letter";
}

/// How a kind of job is leased and retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// How long a worker holds a job; after that another may take it.
    pub lease: Duration,
    /// Jobs taken at once.
    pub batch: u32,
    /// The wait after the first failure; it doubles with each one.
    pub first_retry: Duration,
    pub max_retry: Duration,
}

impl Schedule {
    /// The wait after the `attempts`-th failure in a row.
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        crate::settings::doubling(self.first_retry, attempts, self.max_retry)
    }
}

/// What running one job came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// The job did what it is for, or ended for good, and recorded so.
    Done,
    /// Nothing failed but the job is not over: it recorded when it is due
    /// again (a registry still working on a request).
    Waiting,
    /// A call failed and may succeed later. The reason goes to the log;
    /// it never holds personal data.
    Failed(String),
}

/// What became of one leased job: for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    Waiting,
    /// Failed; due again after the doubling wait.
    Retried,
    /// Failed, and its kind gave up.
    GaveUp,
    /// The job could not be run at all (storage, a key): its lease runs
    /// out and a later pass takes it again.
    Error,
}

/// A kind of job: where its rows are leased and how one is run.
#[async_trait]
pub trait JobKind: Send + Sync {
    type Job: Send + Sync;

    /// The kind's name in logs and metrics.
    fn name(&self) -> &'static str;

    fn schedule(&self) -> Schedule;

    /// The job's id: the idempotency key its call carries downstream.
    fn id(&self, job: &Self::Job) -> uuid::Uuid;

    /// Failed attempts in a row so far.
    fn attempts(&self, job: &Self::Job) -> u32;

    /// Due jobs, held until `until`.
    async fn lease(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
        batch: u32,
    ) -> Result<Vec<Self::Job>, InternalError>;

    async fn run(&self, job: &Self::Job) -> Result<Ran, InternalError>;

    /// Makes the job due again at `at`, after its `attempts`-th failure.
    async fn retry(
        &self,
        job: &Self::Job,
        attempts: u32,
        at: OffsetDateTime,
    ) -> Result<(), InternalError>;

    /// Whether a job that failed at `now` is not to be tried again. Jobs
    /// of most kinds are tried until they succeed.
    fn gives_up(&self, _job: &Self::Job, _now: OffsetDateTime) -> bool {
        false
    }

    /// Records that the job gave up.
    async fn give_up(&self, _job: &Self::Job) -> Result<(), InternalError> {
        Ok(())
    }
}

/// Where the runner reports each job's outcome (a metrics registry in a
/// deployment). Nothing is reported but the kind and the outcome.
pub trait JobMetrics: Send + Sync {
    fn job_ran(&self, kind: &'static str, outcome: JobOutcome);
}

/// Reports nowhere.
pub struct NoMetrics;

impl JobMetrics for NoMetrics {
    fn job_ran(&self, _: &'static str, _: JobOutcome) {}
}

/// What one pass over a kind did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub leased: usize,
    pub done: usize,
}

/// Runs due jobs of any kind. Its state is in the database, so several
/// nodes may run it side by side.
#[derive(Clone)]
pub struct JobRunner {
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn JobMetrics>,
}

impl JobRunner {
    pub fn new(clock: Arc<dyn Clock>, metrics: Arc<dyn JobMetrics>) -> Self {
        Self { clock, metrics }
    }

    /// Leases the kind's due jobs and runs each once.
    pub async fn run_due<K: JobKind>(&self, kind: &K) -> Result<Pass, InternalError> {
        let schedule = kind.schedule();
        let now = self.clock.now();
        let leased = kind
            .lease(now, now + schedule.lease, schedule.batch)
            .await?;
        let mut pass = Pass {
            leased: leased.len(),
            done: 0,
        };
        for job in &leased {
            let outcome = match self.run_one(kind, &schedule, job).await {
                Ok(outcome) => outcome,
                Err(e) => {
                    tracing::error!(kind = kind.name(), job = %kind.id(job), error = %e, "a job could not be run; a later pass takes it again");
                    JobOutcome::Error
                }
            };
            if outcome == JobOutcome::Done {
                pass.done += 1;
            }
            self.metrics.job_ran(kind.name(), outcome);
        }
        Ok(pass)
    }

    async fn run_one<K: JobKind>(
        &self,
        kind: &K,
        schedule: &Schedule,
        job: &K::Job,
    ) -> Result<JobOutcome, InternalError> {
        let reason = match kind.run(job).await? {
            Ran::Done => return Ok(JobOutcome::Done),
            Ran::Waiting => return Ok(JobOutcome::Waiting),
            Ran::Failed(reason) => reason,
        };
        let attempts = kind.attempts(job) + 1;
        let now = self.clock.now();
        if kind.gives_up(job, now) {
            tracing::warn!(kind = kind.name(), job = %kind.id(job), attempts, %reason, "a job failed once too often; it gives up");
            kind.give_up(job).await?;
            return Ok(JobOutcome::GaveUp);
        }
        tracing::warn!(kind = kind.name(), job = %kind.id(job), attempts, %reason, "a job failed; will retry");
        kind.retry(job, attempts, now + schedule.retry_delay(attempts))
            .await?;
        Ok(JobOutcome::Retried)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::clock::FakeClock;

    /// Jobs in memory: each fails `fails` times, then succeeds.
    struct Flaky {
        jobs: Mutex<Vec<(uuid::Uuid, u32, OffsetDateTime, bool)>>,
        fails: u32,
        give_up_after: Option<u32>,
        clock: FakeClock,
    }

    #[async_trait]
    impl JobKind for Flaky {
        type Job = (uuid::Uuid, u32);

        fn name(&self) -> &'static str {
            "flaky"
        }

        fn schedule(&self) -> Schedule {
            Schedule {
                lease: Duration::seconds(30),
                batch: 10,
                first_retry: Duration::seconds(5),
                max_retry: Duration::seconds(60),
            }
        }

        fn id(&self, job: &Self::Job) -> uuid::Uuid {
            job.0
        }

        fn attempts(&self, job: &Self::Job) -> u32 {
            job.1
        }

        async fn lease(
            &self,
            now: OffsetDateTime,
            until: OffsetDateTime,
            _: u32,
        ) -> Result<Vec<Self::Job>, InternalError> {
            let mut jobs = self.jobs.lock().unwrap();
            Ok(jobs
                .iter_mut()
                .filter(|j| !j.3 && j.2 <= now)
                .map(|j| {
                    j.2 = until;
                    (j.0, j.1)
                })
                .collect())
        }

        async fn run(&self, job: &Self::Job) -> Result<Ran, InternalError> {
            if job.1 < self.fails {
                return Ok(Ran::Failed("the far side is down".into()));
            }
            let mut jobs = self.jobs.lock().unwrap();
            jobs.iter_mut().find(|j| j.0 == job.0).unwrap().3 = true;
            Ok(Ran::Done)
        }

        async fn retry(
            &self,
            job: &Self::Job,
            attempts: u32,
            at: OffsetDateTime,
        ) -> Result<(), InternalError> {
            let mut jobs = self.jobs.lock().unwrap();
            let j = jobs.iter_mut().find(|j| j.0 == job.0).unwrap();
            j.1 = attempts;
            j.2 = at;
            Ok(())
        }

        fn gives_up(&self, job: &Self::Job, _: OffsetDateTime) -> bool {
            self.give_up_after.is_some_and(|n| job.1 + 1 >= n)
        }

        async fn give_up(&self, job: &Self::Job) -> Result<(), InternalError> {
            let mut jobs = self.jobs.lock().unwrap();
            jobs.iter_mut().find(|j| j.0 == job.0).unwrap().3 = true;
            Ok(())
        }
    }

    #[derive(Default)]
    struct Counted(Mutex<Vec<JobOutcome>>);

    impl JobMetrics for Counted {
        fn job_ran(&self, kind: &'static str, outcome: JobOutcome) {
            assert_eq!(kind, "flaky");
            self.0.lock().unwrap().push(outcome);
        }
    }

    fn flaky(fails: u32, give_up_after: Option<u32>) -> (Flaky, FakeClock) {
        let clock = FakeClock::default();
        let now = clock.now();
        let kind = Flaky {
            jobs: Mutex::new(vec![(uuid::Uuid::new_v4(), 0, now, false)]),
            fails,
            give_up_after,
            clock: clock.clone(),
        };
        (kind, clock)
    }

    #[tokio::test]
    async fn a_failed_job_waits_twice_as_long_each_time_then_runs_once() {
        let (kind, clock) = flaky(3, None);
        let metrics = Arc::new(Counted::default());
        let runner = JobRunner::new(Arc::new(clock.clone()), metrics.clone());
        let mut waits = Vec::new();
        for _ in 0..4 {
            let before = clock.now();
            assert_eq!(runner.run_due(&kind).await.unwrap().leased, 1);
            // Leased or waiting: nothing is due again at once.
            assert_eq!(runner.run_due(&kind).await.unwrap(), Pass::default());
            let due = kind.jobs.lock().unwrap()[0].2;
            waits.push(due - before);
            kind.clock.set(due);
        }
        assert_eq!(
            waits[..3],
            [
                Duration::seconds(5),
                Duration::seconds(10),
                Duration::seconds(20)
            ]
        );
        assert!(kind.jobs.lock().unwrap()[0].3, "done after three failures");
        assert_eq!(
            *metrics.0.lock().unwrap(),
            [
                JobOutcome::Retried,
                JobOutcome::Retried,
                JobOutcome::Retried,
                JobOutcome::Done
            ]
        );
    }

    #[tokio::test]
    async fn a_kind_that_gives_up_records_it_and_stops() {
        let (kind, clock) = flaky(10, Some(2));
        let metrics = Arc::new(Counted::default());
        let runner = JobRunner::new(Arc::new(clock.clone()), metrics.clone());
        for _ in 0..3 {
            runner.run_due(&kind).await.unwrap();
            clock.advance(Duration::minutes(5));
        }
        assert_eq!(
            *metrics.0.lock().unwrap(),
            [JobOutcome::Retried, JobOutcome::GaveUp]
        );
        assert!(kind.jobs.lock().unwrap()[0].3);
    }
}

//! The job runner. Background work is a row in the database; any number of
//! worker processes claim jobs (see `vigil_store::jobs` for the lease and
//! its fencing), renew their lease while working, and commit each job's
//! effects in the same transaction that marks it done, so a job's effects
//! land exactly once even when a worker dies mid-job and another takes it
//! over. Failures are retried with exponential backoff.
//!
//! Every kind of job is one row of [`KINDS`]; schedules (the advisory
//! refresh, risk-acceptance expiry, daily trend snapshots) are claimed once
//! per period across all nodes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use vigil_store::Tx;
use vigil_store::jobs::{self, NewJob};
use vigil_store::model::Job;

use crate::{Error, Platform, Result};

/// A job held by this worker.
#[derive(Debug)]
pub struct Lease {
    /// The job.
    pub job: Job,
    /// This worker's name.
    pub owner: String,
    completed: AtomicBool,
}

impl Lease {
    /// Marks the job done inside `tx`, the transaction holding its effects;
    /// fails when another worker took the job over.
    pub async fn complete(&self, tx: &mut Tx, now: i64) -> Result<()> {
        jobs::complete(tx, &self.job, &self.owner, now).await.map_err(|e| match e {
            vigil_store::Error::LeaseLost(id) => Error::Conflict(format!("job {id}: lease lost to another worker")),
            other => other.into(),
        })?;
        self.completed.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// A future a job handler returns.
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

/// One kind of job.
pub struct Kind {
    /// Its name, stored with each job.
    pub name: &'static str,
    /// Attempts before it fails for good.
    pub max_attempts: i64,
    /// Runs one job.
    pub run: for<'a> fn(&'a Platform, &'a Lease) -> JobFuture<'a>,
}

/// Every kind of job.
pub static KINDS: &[Kind] = &[
    Kind { name: "rematch", max_attempts: 5, run: |p, l| Box::pin(crate::vulndb::rematch_job(p, l)) },
    Kind { name: "vulndb.refresh", max_attempts: 3, run: |p, l| Box::pin(crate::vulndb::refresh_job(p, l)) },
    Kind {
        name: "triage.expire",
        max_attempts: 3,
        run: |p, _| Box::pin(async { crate::triage::expire(p).await.map(|_| ()) }),
    },
    Kind { name: "trends.snapshot", max_attempts: 3, run: |p, l| Box::pin(crate::trends::snapshot_job(p, l)) },
    Kind { name: "ticket.rule", max_attempts: 3, run: |p, l| Box::pin(crate::tickets::rule_job(p, l)) },
    Kind { name: "ticket.sync", max_attempts: 10, run: |p, l| Box::pin(crate::sync::sync_job(p, l)) },
    Kind { name: "ticket.resync", max_attempts: 3, run: |p, _| Box::pin(crate::sync::resync(p)) },
    Kind { name: "notify.flush", max_attempts: 3, run: |p, _| Box::pin(crate::notify::flush_job(p)) },
    Kind { name: "notify.digest", max_attempts: 3, run: |p, _| Box::pin(crate::notify::digest_job(p)) },
    Kind { name: "notify.sla", max_attempts: 3, run: |p, _| Box::pin(crate::notify::sla_job(p)) },
    Kind {
        name: "store.statistics",
        max_attempts: 3,
        run: |p, _| Box::pin(async { Ok(p.store.refresh_statistics().await?) }),
    },
];

/// Queues a job of a known kind.
pub async fn enqueue(
    tx: &mut Tx,
    kind: &str,
    payload: serde_json::Value,
    dedupe_key: Option<String>,
    run_id: Option<i64>,
    now: i64,
) -> Result<i64> {
    let known =
        KINDS.iter().find(|k| k.name == kind).ok_or_else(|| Error::Internal(format!("unknown job kind {kind}")))?;
    let job =
        NewJob { kind: kind.into(), payload, max_attempts: known.max_attempts, run_after: now, dedupe_key, run_id };
    Ok(jobs::enqueue(tx, &job, now).await?)
}

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// This worker's name (host and process).
    pub owner: String,
    /// How long a claim lasts without renewal.
    pub lease: Duration,
    /// How long to sleep when there is nothing to do.
    pub idle: Duration,
    /// How often the advisory database is refreshed (none: only on request).
    pub refresh_every: Option<Duration>,
}

/// Seconds to wait before attempt `attempt + 1`: 5 s doubling, at most 10 min.
pub fn backoff(attempt: i64) -> i64 {
    (5i64 << attempt.clamp(0, 7)).min(600)
}

/// Queues the scheduled jobs whose period has come (once across all nodes).
async fn schedule(platform: &Platform, config: &WorkerConfig) -> Result<()> {
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    if jobs::claim_slot(&mut tx, "triage.expire", now / 60).await? {
        enqueue(&mut tx, "triage.expire", serde_json::json!({}), Some("triage.expire".into()), None, now).await?;
    }
    // Once per period across all nodes: the planner's statistics (searches plan on them),
    // ticket deliveries that are still waiting (their jobs failed for good), pending
    // notifications each minute, SLA breaches hourly, digests daily, and the trend
    // snapshots of the days that ended (the first run, on an empty table, backfills
    // them from the history).
    let periodic = [
        ("store.statistics", 3600),
        ("ticket.resync", 3600),
        ("notify.flush", 60),
        ("notify.sla", 3600),
        ("notify.digest", 86_400),
        ("trends.snapshot", 86_400),
    ];
    for (kind, period) in periodic {
        if jobs::claim_slot(&mut tx, kind, now / period).await? {
            enqueue(&mut tx, kind, serde_json::json!({}), Some(kind.into()), None, now).await?;
        }
    }
    if let Some(every) = config.refresh_every {
        let period = every.as_secs().max(60) as i64;
        // The first period starts now: a new server gets its database at start, not from the schedule.
        jobs::start_schedule(&mut tx, "vulndb.refresh", now / period).await?;
        if jobs::claim_slot(&mut tx, "vulndb.refresh", now / period).await? {
            enqueue(
                &mut tx,
                "vulndb.refresh",
                serde_json::json!({"reason": "schedule"}),
                Some("vulndb.refresh".into()),
                None,
                now,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Claims and runs one job; false when there was none.
pub async fn run_one(platform: &Platform, config: &WorkerConfig) -> Result<bool> {
    let now = platform.now();
    let lease_secs = config.lease.as_secs().max(1) as i64;
    let mut tx = platform.store.write().await?;
    let Some(job) = jobs::claim(&mut tx, platform.store.backend(), &config.owner, now, lease_secs).await? else {
        // Ended here rather than dropped: a dropped transaction is rolled back
        // later, by the pool, and meanwhile holds its connection and locks.
        tx.commit().await?;
        return Ok(false);
    };
    tx.commit().await?;
    if job.attempts > job.max_attempts {
        let mut tx = platform.store.write().await?;
        jobs::abandon(&mut tx, &job, &config.owner, now).await?;
        tx.commit().await?;
        tracing::warn!(job = job.id, kind = %job.kind, "job abandoned after {} attempts", job.max_attempts);
        return Ok(true);
    }
    let lease = Arc::new(Lease { job, owner: config.owner.clone(), completed: AtomicBool::new(false) });
    // Renew the lease while the job runs.
    let (stop, mut stopped) = watch::channel(false);
    let renewer = {
        let platform = platform.clone();
        let lease = lease.clone();
        let every = config.lease / 3;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stopped.changed() => return,
                }
                let until = platform.now() + lease_secs;
                let renewed = async {
                    let mut tx = platform.store.write().await?;
                    let ok = jobs::renew(&mut tx, &lease.job, &lease.owner, until).await?;
                    tx.commit().await?;
                    Ok::<bool, Error>(ok)
                };
                if !matches!(renewed.await, Ok(true)) {
                    tracing::warn!(job = lease.job.id, "lease lost; its work will not be committed");
                    return;
                }
            }
        })
    };
    if let Some(pause) = std::env::var("VIGIL_TEST_JOB_PAUSE_MS").ok().and_then(|v| v.parse::<u64>().ok()) {
        // A test seam: hold the job long enough for a test to kill this process mid-job.
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    let started = std::time::Instant::now();
    let result = match KINDS.iter().find(|k| k.name == lease.job.kind) {
        Some(kind) => (kind.run)(platform, &lease).await,
        None => Err(Error::Internal(format!("unknown job kind `{}`", lease.job.kind))),
    };
    let _ = stop.send(true);
    let _ = renewer.await;
    let now = platform.now();
    match result {
        Ok(()) if lease.completed.load(Ordering::SeqCst) => {}
        Ok(()) => {
            let mut tx = platform.store.write().await?;
            lease.complete(&mut tx, now).await?;
            tx.commit().await?;
        }
        Err(e) => {
            let retry = match &e {
                Error::Upstream { permanent: true, .. } => None,
                Error::Upstream { retry_after: Some(secs), .. } => Some(now + secs.max(&1)),
                _ => Some(now + backoff(lease.job.attempts)),
            }
            .filter(|_| lease.job.attempts < lease.job.max_attempts);
            let mut tx = platform.store.write().await?;
            jobs::fail(&mut tx, &lease.job, &lease.owner, &e.to_string(), retry, now).await?;
            tx.commit().await?;
            tracing::warn!(job = lease.job.id, kind = %lease.job.kind, attempt = lease.job.attempts, error = %e, "job failed");
            return Ok(true);
        }
    }
    tracing::info!(job = lease.job.id, kind = %lease.job.kind, ms = started.elapsed().as_millis() as u64, "job done");
    Ok(true)
}

/// Runs jobs until `shutdown` turns true; the job in hand is finished first.
pub async fn worker(platform: Platform, config: WorkerConfig, mut shutdown: watch::Receiver<bool>) {
    let mut last_schedule = 0;
    loop {
        if *shutdown.borrow() {
            return;
        }
        if platform.now() - last_schedule >= 10 {
            last_schedule = platform.now();
            if let Err(e) = schedule(&platform, &config).await {
                tracing::warn!(error = %e, "scheduling jobs failed");
            }
        }
        let worked = match run_one(&platform, &config).await {
            Ok(worked) => worked,
            Err(e) => {
                tracing::warn!(error = %e, "the job runner failed; retrying");
                false
            }
        };
        if !worked {
            tokio::select! {
                _ = tokio::time::sleep(config.idle) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        assert_eq!((backoff(0), backoff(1), backoff(2)), (5, 10, 20));
        assert_eq!(backoff(30), 600);
    }
}

//! Background jobs kept in the database, so any number of worker
//! processes share them without a broker.
//!
//! A worker claims a job by taking a lease (`lease_owner`, `lease_until`);
//! on PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so concurrent
//! workers never wait on or take the same job. A worker renews its lease
//! while it works; a job whose lease ran out (its process died) is claimed
//! again. Completing a job is fenced: it succeeds only for the lease holder
//! of the current attempt, inside the same transaction as the job's
//! effects, so a worker that lost its lease cannot commit anything.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::model::{Job, RematchRun};
use crate::sql::opt_text;
use crate::{Backend, Error, Result};

const COLUMNS: &str = "id, kind, payload, status, attempts, max_attempts, run_after, lease_owner, lease_until, run_id, \
                       created_at, started_at, finished_at, last_error";

fn job_row(r: &AnyRow) -> Result<Job> {
    let payload: String = r.try_get("payload")?;
    Ok(Job {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        payload: serde_json::from_str(&payload).map_err(|e| Error::Corrupt(format!("job payload: {e}")))?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
        run_after: r.try_get("run_after")?,
        lease_owner: opt_text(r, "lease_owner")?,
        lease_until: r.try_get("lease_until")?,
        run_id: r.try_get("run_id")?,
        created_at: r.try_get("created_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        last_error: opt_text(r, "last_error")?,
    })
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What it does.
    pub kind: String,
    /// Its input.
    pub payload: serde_json::Value,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// Not before.
    pub run_after: i64,
    /// A job with the same key is not queued twice while one is queued or running.
    pub dedupe_key: Option<String>,
    /// The re-match run it belongs to.
    pub run_id: Option<i64>,
}

/// Queues a job. With a dedupe key already held by a queued or running
/// job, nothing is queued and that job's id is returned.
pub async fn enqueue(conn: &mut AnyConnection, job: &NewJob, now: i64) -> Result<i64> {
    if let Some(key) = &job.dedupe_key {
        // A finished job gives its key up.
        sqlx::query("UPDATE jobs SET dedupe_key = NULL WHERE dedupe_key = $1 AND status IN ('done', 'failed')")
            .bind(key)
            .execute(&mut *conn)
            .await?;
        if let Some(id) = sqlx::query_scalar::<_, i64>("SELECT id FROM jobs WHERE dedupe_key = $1")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?
        {
            return Ok(id);
        }
    }
    Ok(sqlx::query_scalar(
        "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_after, dedupe_key, run_id, created_at) \
         VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&job.kind)
    .bind(job.payload.to_string())
    .bind(job.max_attempts)
    .bind(job.run_after)
    .bind(job.dedupe_key.as_deref())
    .bind(job.run_id)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// Claims the next job that is due (queued, or running under a lease that
/// ran out) for `owner` until `now + lease_secs`.
pub async fn claim(
    conn: &mut AnyConnection,
    backend: Backend,
    owner: &str,
    now: i64,
    lease_secs: i64,
) -> Result<Option<Job>> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, \
         started_at = $3 WHERE id = (SELECT id FROM jobs WHERE (status = 'queued' AND run_after <= $3) \
         OR (status = 'running' AND lease_until < $3) ORDER BY run_after, id LIMIT 1{lock}) RETURNING {COLUMNS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql)).bind(owner).bind(now + lease_secs).bind(now).fetch_optional(conn).await?;
    row.as_ref().map(job_row).transpose()
}

/// Renews a lease; false when the lease was lost.
pub async fn renew(conn: &mut AnyConnection, job: &Job, owner: &str, until: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND attempts = $4 AND status = 'running'",
    )
    .bind(until)
    .bind(job.id)
    .bind(owner)
    .bind(job.attempts)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a job done, in the transaction that holds its effects. Fails
/// with [`Error::LeaseLost`] when the lease is no longer this attempt's.
pub async fn complete(conn: &mut AnyConnection, job: &Job, owner: &str, now: i64) -> Result<()> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'done', finished_at = $1, lease_until = NULL, last_error = NULL \
         WHERE id = $2 AND lease_owner = $3 AND attempts = $4 AND status = 'running'",
    )
    .bind(now)
    .bind(job.id)
    .bind(owner)
    .bind(job.attempts)
    .execute(conn)
    .await?;
    if done.rows_affected() != 1 {
        return Err(Error::LeaseLost(job.id));
    }
    Ok(())
}

/// Records a failed attempt: queued again at `retry_at`, or failed for good
/// when there is none.
pub async fn fail(
    conn: &mut AnyConnection,
    job: &Job,
    owner: &str,
    error: &str,
    retry_at: Option<i64>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET status = CASE WHEN $1 > 0 THEN 'queued' ELSE 'failed' END, run_after = CASE WHEN $1 > 0 THEN $1 \
         ELSE run_after END, finished_at = CASE WHEN $1 > 0 THEN NULL ELSE $2 END, lease_owner = NULL, \
         lease_until = NULL, last_error = $3 WHERE id = $4 AND lease_owner = $5 AND attempts = $6",
    )
    .bind(retry_at.unwrap_or(0))
    .bind(now)
    .bind(error)
    .bind(job.id)
    .bind(owner)
    .bind(job.attempts)
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives up on a job whose attempts are used up (its last holder died).
pub async fn abandon(conn: &mut AnyConnection, job: &Job, owner: &str, now: i64) -> Result<()> {
    let message = format!("gave up after {} attempts; the process running the last one stopped", job.max_attempts);
    fail(conn, job, owner, &message, None, now).await
}

/// One job.
pub async fn job(conn: &mut AnyConnection, id: i64) -> Result<Job> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM jobs WHERE id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("job {id}")))?;
    job_row(&row)
}

/// Recent jobs, newest first, optionally of one status.
pub async fn jobs(conn: &mut AnyConnection, status: Option<&str>, limit: i64) -> Result<Vec<Job>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM jobs WHERE ($1 = '' OR status = $1) ORDER BY id DESC LIMIT $2"
    )))
    .bind(status.unwrap_or_default())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(job_row).collect()
}

/// Jobs per status.
pub async fn counts(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>> {
    let rows =
        sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status ORDER BY status").fetch_all(conn).await?;
    rows.iter().map(|r| Ok((r.try_get("status")?, r.try_get("n")?))).collect()
}

/// Starts a re-match run.
pub async fn create_run(
    conn: &mut AnyConnection,
    version: &str,
    reason: &str,
    inventories: i64,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO rematch_runs (vulndb_version, reason, created_at, inventories) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(version)
    .bind(reason)
    .bind(now)
    .bind(inventories)
    .fetch_one(conn)
    .await?)
}

/// Marks a run finished when none of its jobs is queued or running.
pub async fn finish_run_if_done(conn: &mut AnyConnection, run: i64, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE rematch_runs SET finished_at = $2 WHERE id = $1 AND finished_at IS NULL AND NOT EXISTS \
         (SELECT 1 FROM jobs WHERE run_id = $1 AND status IN ('queued', 'running'))",
    )
    .bind(run)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn run_row(r: &AnyRow) -> Result<RematchRun> {
    Ok(RematchRun {
        id: r.try_get("id")?,
        vulndb_version: r.try_get("vulndb_version")?,
        reason: r.try_get("reason")?,
        created_at: r.try_get("created_at")?,
        inventories: r.try_get("inventories")?,
        pending_jobs: r.try_get("pending")?,
        finished_at: r.try_get("finished_at")?,
    })
}

const RUN_SELECT: &str = "SELECT r.id, r.vulndb_version, r.reason, r.created_at, r.inventories, r.finished_at, \
                          (SELECT COUNT(*) FROM jobs j WHERE j.run_id = r.id AND j.status IN ('queued', 'running')) \
                          AS pending FROM rematch_runs r";

/// One run.
pub async fn run(conn: &mut AnyConnection, id: i64) -> Result<RematchRun> {
    let row = sqlx::query(AssertSqlSafe(format!("{RUN_SELECT} WHERE r.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("re-match run {id}")))?;
    run_row(&row)
}

/// Recent runs, newest first.
pub async fn runs(conn: &mut AnyConnection, limit: i64) -> Result<Vec<RematchRun>> {
    let rows = sqlx::query(AssertSqlSafe(format!("{RUN_SELECT} ORDER BY r.id DESC LIMIT $1")))
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter().map(run_row).collect()
}

/// Starts the schedule `name` at `slot` unless it has started: its first
/// run is then the next slot's.
pub async fn start_schedule(conn: &mut AnyConnection, name: &str, slot: i64) -> Result<()> {
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(format!("schedule:{name}"))
        .bind(format!("{slot:020}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// Claims slot `slot` of the schedule `name` (a job that runs once per
/// period, whichever node asks first). True for the one caller that moved
/// the schedule forward.
pub async fn claim_slot(conn: &mut AnyConnection, name: &str, slot: i64) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value \
         WHERE meta.value < excluded.value",
    )
    .bind(format!("schedule:{name}"))
    .bind(format!("{slot:020}"))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

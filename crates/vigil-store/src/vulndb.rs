//! Published advisory-database versions. A version is the SHA-256 of the
//! database file; the file itself is kept in chunks, so every node matches
//! against byte-identical data, fetched from the store when it lacks it.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::model::VulnDbVersion;
use crate::{Error, Result};

fn version_row(r: &AnyRow) -> Result<VulnDbVersion> {
    Ok(VulnDbVersion {
        version: r.try_get("version")?,
        built_at: r.try_get("built_at")?,
        stored_at: r.try_get("stored_at")?,
        size: r.try_get("size")?,
        advisories: r.try_get("advisories")?,
        current: crate::sql::flag(r, "is_current")?,
    })
}

const COLUMNS: &str = "version, built_at, stored_at, size, chunks, advisories, is_current";

/// Starts publishing a version (its chunks follow with [`put_chunk`]).
/// Returns false when it is already stored.
pub async fn begin(
    conn: &mut AnyConnection,
    version: &str,
    built_at: i64,
    size: i64,
    chunks: i64,
    advisories: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO vulndb_versions (version, built_at, stored_at, size, chunks, advisories, is_current) \
         VALUES ($1, $2, $3, $4, $5, $6, 0) ON CONFLICT DO NOTHING",
    )
    .bind(version)
    .bind(built_at)
    .bind(now)
    .bind(size)
    .bind(chunks)
    .bind(advisories)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores one chunk of a version's file.
pub async fn put_chunk(conn: &mut AnyConnection, version: &str, seq: i64, data: &[u8]) -> Result<()> {
    sqlx::query("INSERT INTO vulndb_chunks (version, seq, data) VALUES ($1, $2, $3)")
        .bind(version)
        .bind(seq)
        .bind(data)
        .execute(conn)
        .await?;
    Ok(())
}

/// One chunk of a version's file.
pub async fn chunk(conn: &mut AnyConnection, version: &str, seq: i64) -> Result<Vec<u8>> {
    sqlx::query_scalar("SELECT data FROM vulndb_chunks WHERE version = $1 AND seq = $2")
        .bind(version)
        .bind(seq)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("advisory database {version} chunk {seq}")))
}

/// How many chunks a version has.
pub async fn chunk_count(conn: &mut AnyConnection, version: &str) -> Result<i64> {
    sqlx::query_scalar("SELECT chunks FROM vulndb_versions WHERE version = $1")
        .bind(version)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("advisory database {version}")))
}

/// Makes a version the current one.
pub async fn set_current(conn: &mut AnyConnection, version: &str) -> Result<()> {
    sqlx::query("UPDATE vulndb_versions SET is_current = CASE WHEN version = $1 THEN 1 ELSE 0 END")
        .bind(version)
        .execute(conn)
        .await?;
    Ok(())
}

/// The current version.
pub async fn current(conn: &mut AnyConnection) -> Result<Option<VulnDbVersion>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM vulndb_versions WHERE is_current = 1")))
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(version_row).transpose()
}

/// Every stored version, newest first.
pub async fn versions(conn: &mut AnyConnection) -> Result<Vec<VulnDbVersion>> {
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM vulndb_versions ORDER BY stored_at DESC")))
            .fetch_all(conn)
            .await?;
    rows.iter().map(version_row).collect()
}

/// Deletes versions beyond the `keep` newest, never the current one nor one
/// an unfinished re-match run uses.
pub async fn prune(conn: &mut AnyConnection, keep: usize) -> Result<Vec<String>> {
    let versions = versions(conn).await?;
    let mut pruned = Vec::new();
    for v in versions.into_iter().skip(keep).filter(|v| !v.current) {
        let busy: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM rematch_runs WHERE vulndb_version = $1 AND finished_at IS NULL")
                .bind(&v.version)
                .fetch_one(&mut *conn)
                .await?;
        if busy == 0 {
            sqlx::query("DELETE FROM vulndb_versions WHERE version = $1").bind(&v.version).execute(&mut *conn).await?;
            pruned.push(v.version);
        }
    }
    Ok(pruned)
}

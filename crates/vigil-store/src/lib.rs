//! The platform's data: teams, users and tokens; assets with attributes
//! and tags; scans and content-addressed inventories; findings with their
//! status history and triage; SLA policy and due dates; daily trend
//! snapshots; the audit trail; background jobs; published advisory-database
//! versions.
//!
//! One code path serves both backends through sqlx's `Any` driver: the
//! embedded SQLite file (WAL, no setup) and PostgreSQL (many stateless
//! nodes sharing one database). Every statement binds its values (`$1`,
//! `$2`, ...); the only SQL assembled at run time comes from
//! `vigil-query`, whose output holds placeholders and never values. The
//! schema differs between backends only in its DDL (`migrations/sqlite`,
//! `migrations/postgres`), which is embedded and applied at start.
//!
//! Writes go through [`Tx`], a transaction. On SQLite, one process writes
//! at a time (a lock taken before `BEGIN`), so a transaction that reads
//! and then writes never fails on a stale snapshot; on PostgreSQL,
//! transactions run concurrently and rows that must not be worked on twice
//! are locked (`FOR UPDATE`, `FOR UPDATE SKIP LOCKED` for job claims).
//!
//! This crate knows nothing about HTTP, matching or lifecycle rules: the
//! platform crate decides, this crate stores.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod accounts;
pub mod assets;
pub mod audit;
pub mod catalogs;
mod error;
pub mod findings;
pub mod fixplan;
pub mod jobs;
pub mod model;
pub mod notifications;
pub mod scans;
mod schema;
pub mod sla;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tickets;
pub mod trends;
pub mod vulndb;

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use error::{Error, Result};
pub use sql::{Page, Paged};
/// A connection the store's functions take: a pooled read connection or,
/// through its `DerefMut`, a [`Tx`].
pub use sqlx::AnyConnection as Connection;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file (the embedded default).
    Sqlite,
    /// A PostgreSQL server, shared by every node.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Which rows a caller may see: every team's (administrators) or only
/// those of the teams listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every team.
    All,
    /// These teams only (possibly none).
    Teams(Vec<i64>),
}

impl Scope {
    /// Whether `team` is visible.
    pub fn allows(&self, team: i64) -> bool {
        match self {
            Scope::All => true,
            Scope::Teams(teams) => teams.contains(&team),
        }
    }
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Serialises write transactions on SQLite.
    writer: Arc<Mutex<()>>,
}

/// A write transaction. Dropping it without [`Tx::commit`] rolls back.
pub struct Tx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

impl Tx {
    /// Commits.
    pub async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    /// Rolls back now. Dropping a transaction also rolls back, but later, on
    /// a task of the runtime; a caller that read under locks and is done
    /// releases them here at once.
    pub async fn rollback(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }

    /// The backend this transaction runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl Store {
    /// Opens (creating it when needed, for SQLite) the database at `url`
    /// (`sqlite:///path/vigil.db`, `sqlite::memory:` for tests, or
    /// `postgres://...`) and applies the embedded migrations.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(Error::Invalid(format!(
                "unsupported database URL `{}`: use sqlite:///PATH or postgres://...",
                redact_url(url)
            )));
        };
        let url = match backend {
            // Create the file on first start.
            Backend::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let options: AnyConnectOptions = url.parse().map_err(|e| Error::Invalid(format!("database URL: {e}")))?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    // In-memory databases live as long as their one connection.
                    .max_connections(if url.contains(":memory:") { 1 } else { 8 })
                    .min_connections(if url.contains(":memory:") { 1 } else { 0 })
                    .idle_timeout(if url.contains(":memory:") { None } else { Some(Duration::from_secs(600)) })
                    .max_lifetime(if url.contains(":memory:") { None } else { Some(Duration::from_secs(3600)) })
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            use sqlx::Executor;
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                                 PRAGMA busy_timeout = 10000;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await?
            }
        };
        let store = Store { pool, backend, writer: Arc::new(Mutex::new(())) };
        schema::migrate(&store).await?;
        Ok(store)
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<PoolConnection<Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// Starts a write transaction.
    pub async fn write(&self) -> Result<Tx> {
        let guard = match self.backend {
            Backend::Sqlite => Some(self.writer.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        let tx = self.pool.begin().await?;
        Ok(Tx { tx, backend: self.backend, _writer: guard })
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.read().await?;
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        Ok(())
    }

    /// Refreshes the planner's statistics, so searches keep their index
    /// plans as tables grow (PostgreSQL `ANALYZE`, which autovacuum may be
    /// configured not to run; SQLite `PRAGMA optimize`, which analyzes the
    /// tables whose statistics are missing or stale).
    pub async fn refresh_statistics(&self) -> Result<()> {
        let sql = match self.backend {
            Backend::Postgres => "ANALYZE",
            Backend::Sqlite => "PRAGMA optimize = 0x10002",
        };
        let mut conn = self.read().await?;
        sqlx::query(sql).execute(&mut *conn).await?;
        Ok(())
    }

    /// Closes every connection (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A database URL with its password replaced by `***`, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://vigil:s3cret@db:5432/vigil"), "postgres://vigil:***@db:5432/vigil");
        assert_eq!(redact_url("postgres://db/vigil"), "postgres://db/vigil");
    }
}

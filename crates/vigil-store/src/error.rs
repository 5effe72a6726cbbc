//! The store's errors.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The row does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(String),
    /// The change conflicts with what is stored (a duplicate name, say).
    #[error("{0}")]
    Conflict(String),
    /// The request cannot be stored as given.
    #[error("{0}")]
    Invalid(String),
    /// A query in the query language is wrong.
    #[error("{0}")]
    Query(#[from] vigil_query::Error),
    /// A job's lease passed to another worker: its work must not be committed.
    #[error("job {0}: its lease was lost to another worker")]
    LeaseLost(i64),
    /// Stored data that cannot be read back.
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// Migrations could not be applied.
    #[error("applying the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database failed.
    #[error("database: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        match &e {
            sqlx::Error::RowNotFound => Error::NotFound("row".into()),
            sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict(db.message().to_string()),
            _ => Error::Database(e),
        }
    }
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

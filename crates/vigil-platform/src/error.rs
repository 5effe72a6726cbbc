//! The platform's errors, each mapping to one kind of HTTP answer.

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No credentials, or credentials that do not hold (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such thing, or not visible to the caller (404).
    #[error("{0}")]
    NotFound(String),
    /// The request is wrong; the message says how (400/422).
    #[error("{0}")]
    Invalid(String),
    /// A query in the query language is wrong (400, with the column).
    #[error("{0}")]
    Query(vigil_query::Error),
    /// It conflicts with what is stored (409).
    #[error("{0}")]
    Conflict(String),
    /// The request is larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// Too many attempts; retry after the given seconds (429).
    #[error("{0}")]
    TooMany(String, u64),
    /// Not possible yet: no advisory database, say (503).
    #[error("{0}")]
    Unavailable(String),
    /// A system Vigil delivers to (Jira, GitHub, a webhook, SMTP) failed
    /// (502). Jobs retry it after `retry_after` seconds when given, with
    /// backoff otherwise, and never when `permanent`.
    #[error("{message}")]
    Upstream {
        /// What failed.
        message: String,
        /// The server's `Retry-After`, in seconds.
        retry_after: Option<i64>,
        /// A retry cannot help (rejected credentials, a missing project).
        permanent: bool,
    },
    /// Something failed inside (500; the details go to the log).
    #[error("{0}")]
    Internal(String),
}

impl From<vigil_store::Error> for Error {
    fn from(e: vigil_store::Error) -> Error {
        match e {
            vigil_store::Error::NotFound(what) => Error::NotFound(format!("{what} not found")),
            vigil_store::Error::Conflict(what) => Error::Conflict(what),
            vigil_store::Error::Invalid(what) => Error::Invalid(what),
            vigil_store::Error::Query(q) => Error::Query(q),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl From<vigil_query::Error> for Error {
    fn from(e: vigil_query::Error) -> Error {
        Error::Query(e)
    }
}

/// The platform's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

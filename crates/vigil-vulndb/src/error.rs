//! Errors of the advisory database. Each variant names what failed and
//! where (file, URL, field), so the CLI can say what to do next.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong building or reading the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A download failed (connection, HTTP status, cut short, too large).
    #[error("download {url}: {message}")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// An archive or compressed file is corrupt or over a size cap.
    #[error("{source_name}: {message}")]
    Archive {
        /// The archive (path or URL).
        source_name: String,
        /// What went wrong.
        message: String,
    },
    /// A KEV or EPSS file is not in the expected layout.
    #[error("{source_name}: {message}")]
    Feed {
        /// The file (path or URL).
        source_name: String,
        /// What went wrong.
        message: String,
    },
    /// The database file is missing.
    #[error("no advisory database at {0}: run `vigil db update` (or `vigil db import PATH...` offline)")]
    Missing(PathBuf),
    /// The database was built by another version of Vigil.
    #[error("advisory database {path} has schema {found}, this vigil needs {expected}: run `vigil db update`")]
    Schema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: String,
        /// The version this build reads.
        expected: u32,
    },
    /// An input path is neither an OSV zip, an OSV JSON file or directory,
    /// nor a KEV or EPSS file.
    #[error("{0}: not an OSV zip, OSV JSON file or directory, KEV JSON or EPSS CSV")]
    UnknownInput(PathBuf),
    /// Nothing was imported.
    #[error("no advisory sources given")]
    NoSources,
    /// SQLite failed.
    #[error("advisory database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
}

//! Errors of the inventory crate; each names the file it is about.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong reading a target.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The target itself cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A path inside the target cannot be resolved safely.
    #[error("{path}: {message}")]
    Path {
        /// The path inside the target.
        path: String,
        /// Why (symlink loop, too large, ...).
        message: String,
    },
}

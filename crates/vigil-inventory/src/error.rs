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
    /// A file of the target is not what it claims to be; the message names
    /// the file (and the format that read it, the line and the column).
    #[error("{message}")]
    Unreadable {
        /// What is wrong, naming the file.
        message: String,
    },
    /// An image could not be read; the image error names the image.
    #[error(transparent)]
    Image(#[from] vigil_image::Error),
}

/// An image error naming the image once: most name it already, the others
/// (a socket, a blob file) get its name in front.
pub(crate) fn image_error(name: &str, e: vigil_image::Error) -> Error {
    let message = e.to_string();
    if message.starts_with(name) { Error::Image(e) } else { Error::Path { path: name.to_owned(), message } }
}

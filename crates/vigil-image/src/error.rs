//! Errors of image reading; each names the image and, where it applies,
//! the layer and the entry.

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong reading an image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The image is not in a layout Vigil reads, or is corrupt.
    #[error("{image}: {message}")]
    Format {
        /// The image path.
        image: String,
        /// What is wrong.
        message: String,
    },
    /// A layer is corrupt, truncated or over a cap.
    #[error("{image}: layer {layer}: {message}")]
    Layer {
        /// The image path.
        image: String,
        /// The layer digest or name.
        layer: String,
        /// What is wrong.
        message: String,
    },
    /// A registry refused, failed or answered something unusable.
    #[error("{reference}: {message}")]
    Registry {
        /// The image reference.
        reference: String,
        /// What went wrong and what to do.
        message: String,
    },
}

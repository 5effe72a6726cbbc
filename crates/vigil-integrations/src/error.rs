//! One error for every outbound delivery, saying whether to try again:
//! [`Retry::After`] when the server named a time (429/503 with
//! `Retry-After`), [`Retry::Backoff`] for server errors, timeouts and
//! connection failures, [`Retry::Never`] for everything a retry cannot fix
//! (other 4xx, bad configuration). Messages quote at most a clipped excerpt
//! of the response, with credentials removed.

use std::fmt;

/// Whether and when a failed delivery should be tried again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Not before this many seconds (the server's `Retry-After`).
    After(u64),
    /// Later, with the caller's exponential backoff.
    Backoff,
    /// Never: the request itself is wrong (rejected credentials, bad project, ...).
    Never,
}

/// A delivery that did not happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryError {
    /// Whether to retry.
    pub retry: Retry,
    /// The HTTP status (or SMTP reply code) when the server answered.
    pub status: Option<u16>,
    /// What went wrong, with a clipped and redacted excerpt of the answer.
    pub message: String,
}

impl DeliveryError {
    /// An error that a retry cannot fix.
    pub fn never(message: impl Into<String>) -> Self {
        DeliveryError { retry: Retry::Never, status: None, message: clean(&message.into(), &[]) }
    }

    /// A transient error (connection, timeout) worth retrying with backoff.
    pub fn backoff(message: impl Into<String>) -> Self {
        DeliveryError { retry: Retry::Backoff, status: None, message: clean(&message.into(), &[]) }
    }

    /// Whether a later attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        self.retry != Retry::Never
    }
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "{} (status {status})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DeliveryError {}

/// Longest excerpt of a response body quoted in a message, in characters.
pub(crate) const EXCERPT_CHARS: usize = 300;

/// `text` with URL credentials and the given secrets removed, cut to an excerpt.
pub(crate) fn clean(text: &str, secrets: &[&str]) -> String {
    let mut text: String = vigil_core::redact::credentials(text).into_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        text = text.replace(secret, "***");
    }
    let clipped = vigil_core::excerpt::clip(&text).into_owned();
    if clipped.chars().count() > EXCERPT_CHARS * 2 {
        let kept: String = clipped.chars().take(EXCERPT_CHARS * 2).collect();
        format!("{kept}…")
    } else {
        clipped
    }
}

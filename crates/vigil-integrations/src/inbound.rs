//! Webhooks Jira and GitHub send when a person closes or reopens a ticket
//! there. [`parse`] checks the body's size, then its signature (the
//! system's row of [`crate::SYSTEMS`] names the header), then reads the
//! JSON into an [`InboundChange`]; events that change no ticket state are
//! `Ok(None)`.
//!
//! Jira Cloud admin webhooks with a secret, and Jira Data Center 10 and
//! later, sign with `X-Hub-Signature: sha256=<hex>`. Jira versions that
//! cannot sign get a shared-secret fallback: the webhook URL carries
//! `?secret=<secret>` (compared in constant time), and only when the request
//! has no signature header. GitHub always signs (`X-Hub-Signature-256`).

use serde_json::Value;

use crate::signature::{SignatureError, secrets_equal, verify_hub};
use crate::{Secret, System, TicketState};

/// Largest webhook body read, in bytes (GitHub caps its payloads at 25 MB,
/// but the issue events Vigil reads are a few KB).
pub const MAX_INBOUND_BYTES: usize = 1 << 20;

/// The query parameter of the Jira shared-secret fallback.
pub const JIRA_SECRET_PARAMETER: &str = "secret";

/// An inbound webhook request, as the HTTP server received it.
#[derive(Clone, Copy, Debug)]
pub struct InboundRequest<'a> {
    /// Its headers.
    pub headers: &'a http::HeaderMap,
    /// Its query string without the `?`, if any.
    pub query: Option<&'a str>,
    /// Its raw body, exactly as received (signatures cover these bytes).
    pub body: &'a [u8],
}

/// A person closed or reopened a ticket in an external system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundChange {
    /// Where.
    pub system: System,
    /// The ticket's key there, as in [`crate::ExternalRef::key`] (`OPS-12`, `owner/repo#34`).
    pub external_key: String,
    /// Its new state.
    pub state: TicketState,
    /// Who did it (Jira display name, GitHub login), if the event says.
    pub actor: Option<String>,
}

/// Why an inbound webhook was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    /// The signature (or shared secret) is missing or wrong: answer 401.
    #[error("inbound webhook refused: {0}")]
    BadSignature(#[from] SignatureError),
    /// The body is over [`MAX_INBOUND_BYTES`]: answer 413.
    #[error("inbound webhook body is {size} bytes, over the {limit} byte limit")]
    TooLarge {
        /// The body's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Correctly signed, but not JSON: answer 400.
    #[error("inbound webhook body is not JSON: {0}")]
    Malformed(String),
}

/// Verifies and reads a webhook from `system` signed with `secret`.
/// `Ok(None)` for events that move no ticket (other event types, other
/// fields changed, unexpected shapes).
pub fn parse(
    system: System,
    secret: &Secret,
    request: &InboundRequest<'_>,
) -> Result<Option<InboundChange>, InboundError> {
    if request.body.len() > MAX_INBOUND_BYTES {
        return Err(InboundError::TooLarge { size: request.body.len(), limit: MAX_INBOUND_BYTES });
    }
    let info = system.info();
    let header = request.headers.get(info.signature_header).map(|v| v.to_str().unwrap_or(""));
    let key = secret.expose().as_bytes();
    match (system, header) {
        (System::Jira, None) => {
            let given =
                query_value(request.query.unwrap_or(""), JIRA_SECRET_PARAMETER).ok_or(SignatureError::Missing)?;
            if key.is_empty() || !secrets_equal(given.as_bytes(), key) {
                return Err(SignatureError::Mismatch.into());
            }
        }
        _ => verify_hub(key, request.body, header)?,
    }
    let event: Value = serde_json::from_slice(request.body).map_err(|e| InboundError::Malformed(e.to_string()))?;
    Ok((info.parse)(request, &event))
}

/// The (percent-decoded) value of `name` in a query string.
fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

/// `text` with `%XX` escapes and `+` decoded (invalid escapes stay as they are).
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The string at `path` in `value`, if every step is an object and the end a string.
pub(crate) fn str_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(value, |v, key| v.get(key))?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values() {
        assert_eq!(query_value("a=1&secret=x%2By+z", "secret").as_deref(), Some("x+y z"));
        assert_eq!(query_value("secret", "secret"), None);
        assert_eq!(query_value("s=%zz%4", "s").as_deref(), Some("%zz%4"));
    }

    #[test]
    fn paths() {
        let v = serde_json::json!({"a": {"b": "c", "n": 1}});
        assert_eq!(str_at(&v, &["a", "b"]), Some("c"));
        assert_eq!(str_at(&v, &["a", "n"]), None);
        assert_eq!(str_at(&v, &["a", "b", "c"]), None);
    }
}

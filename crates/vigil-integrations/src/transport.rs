//! The one HTTP client every integration sends through: ureq with explicit
//! connect and read timeouts, no redirects (credentials never follow one),
//! response bodies capped at [`MAX_RESPONSE_BYTES`], and every failure
//! turned into a [`DeliveryError`] with its [`Retry`] decision.

use std::time::{Duration, SystemTime};

use crate::error::{DeliveryError, Retry, clean};
use crate::{Secret, Timeouts};

/// Largest response body read, in bytes.
pub(crate) const MAX_RESPONSE_BYTES: u64 = 1 << 20;

/// Longest wait a `Retry-After` may ask for, in seconds (a day).
const MAX_RETRY_AFTER: u64 = 86_400;

/// A successful (2xx) response.
pub(crate) struct Reply {
    /// Its body, at most [`MAX_RESPONSE_BYTES`].
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self, what: &str) -> Result<serde_json::Value, DeliveryError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| DeliveryError::never(format!("{what}: the answer is not JSON ({e})")))
    }
}

/// An HTTP client with timeouts and the secrets to scrub from messages.
pub(crate) struct Client {
    agent: ureq::Agent,
    secrets: Vec<Secret>,
    /// Names the system in messages (`jira`, `github`, `webhook`).
    name: &'static str,
    /// Whether messages may quote the URL path (not for webhook URLs, whose path is often a token).
    quote_path: bool,
}

impl Client {
    /// A client with these timeouts; `secrets` never appear in its errors.
    pub fn new(name: &'static str, timeouts: &Timeouts, secrets: Vec<Secret>) -> Client {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(timeouts.connect_secs.max(1))))
            .timeout_recv_response(Some(Duration::from_secs(timeouts.read_secs.max(1))))
            .timeout_recv_body(Some(Duration::from_secs(timeouts.read_secs.max(1))))
            .timeout_send_body(Some(Duration::from_secs(timeouts.read_secs.max(1))))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
            .build();
        Client { agent: config.into(), secrets, name, quote_path: true }
    }

    /// The same client, never quoting URL paths in its messages.
    pub fn hiding_paths(self) -> Client {
        Client { quote_path: false, ..self }
    }

    /// Sends a request; `Ok` only for a 2xx answer.
    pub fn send(
        &self,
        method: http::Method,
        url: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> Result<Reply, DeliveryError> {
        let what = match self.quote_path {
            true => format!("{}: {method} {}", self.name, url_path(url)),
            false => format!("{}: {method}", self.name),
        };
        let mut builder = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, value.as_str());
        }
        if body.is_some() && !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
            builder = builder.header("content-type", "application/json");
        }
        let request =
            builder.body(body.unwrap_or_default().to_vec()).map_err(|e| self.never(format!("{what}: {e}")))?;
        let mut response = self.agent.run(request).map_err(|e| self.transport_error(&what, e))?;
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(retry_after);
        let read = response.body_mut().with_config().limit(MAX_RESPONSE_BYTES).read_to_vec();
        if (200..300).contains(&status) {
            let body = read.map_err(|e| self.transport_error(&what, e))?;
            return Ok(Reply { body });
        }
        // An error's body is only quoted: whatever part could be read is enough.
        let body = read.unwrap_or_default();
        let excerpt: String = String::from_utf8_lossy(&body).chars().take(crate::error::EXCERPT_CHARS).collect();
        let retry = match (status, retry_after) {
            (429 | 503, Some(secs)) => Retry::After(secs),
            (408 | 425 | 429, None) => Retry::Backoff,
            (500..=599, _) => Retry::Backoff,
            _ => Retry::Never,
        };
        let excerpt = excerpt.split_whitespace().collect::<Vec<_>>().join(" ");
        Err(DeliveryError { retry, status: Some(status), message: self.clean(&format!("{what}: {excerpt}")) })
    }

    /// Sends JSON and reads JSON.
    pub fn json(
        &self,
        method: http::Method,
        url: &str,
        headers: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, DeliveryError> {
        let bytes = body.map(|b| b.to_string().into_bytes());
        self.send(method, url, headers, bytes.as_deref())
    }

    /// A [`Retry::Never`] error with secrets scrubbed.
    pub fn never(&self, message: String) -> DeliveryError {
        DeliveryError { retry: Retry::Never, status: None, message: self.clean(&message) }
    }

    fn clean(&self, text: &str) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(Secret::expose).collect();
        clean(text, &secrets)
    }

    fn transport_error(&self, what: &str, error: ureq::Error) -> DeliveryError {
        let retry = match &error {
            ureq::Error::Timeout(_)
            | ureq::Error::Io(_)
            | ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
            | ureq::Error::Protocol(_)
            | ureq::Error::Tls(_) => Retry::Backoff,
            _ => Retry::Never,
        };
        let reason = match &error {
            ureq::Error::Timeout(_) => format!("timed out ({error})"),
            ureq::Error::BodyExceedsLimit(limit) => format!("the answer is over {limit} bytes"),
            _ => error.to_string(),
        };
        DeliveryError { retry, status: None, message: self.clean(&format!("{what}: {reason}")) }
    }
}

/// The path of `url`, for messages (no query string: it may hold a token).
fn url_path(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let path = url[after_scheme..].find('/').map_or(url.len(), |i| after_scheme + i);
    let end = url.find('?').unwrap_or(url.len()).max(path);
    &url[path..end]
}

/// Seconds to wait from a `Retry-After` value: delay-seconds or an HTTP date.
pub(crate) fn retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs.min(MAX_RETRY_AFTER));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let secs = at.duration_since(SystemTime::now()).map_or(0, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
    Some(secs.min(MAX_RETRY_AFTER))
}

/// `true` for a key or name safe to put in a URL path: letters, digits, `-`, `_`, `.`.
pub(crate) fn path_safe(segment: &str) -> bool {
    !segment.is_empty()
        && segment.len() <= 200
        && segment != "."
        && segment != ".."
        && segment.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Percent-encodes a query-string value.
pub(crate) fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after("7"), Some(7));
        assert_eq!(retry_after(" 120 "), Some(120));
        assert_eq!(retry_after("99999999"), Some(MAX_RETRY_AFTER));
        let in_a_minute = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(60));
        let secs = retry_after(&in_a_minute).unwrap();
        assert!((58..=61).contains(&secs), "{secs}");
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        assert_eq!(retry_after("soon"), None);
        assert_eq!(retry_after("-3"), None);
    }

    #[test]
    fn paths_and_queries() {
        assert_eq!(url_path("https://h:1/rest/api/3/issue?token=x"), "/rest/api/3/issue");
        assert_eq!(url_path("http://h"), "");
        assert!(path_safe("OPS-12") && path_safe("my.repo"));
        assert!(!path_safe("..") && !path_safe("a/b") && !path_safe("") && !path_safe("x?y"));
        assert_eq!(encode_query("vigil-ticket-1,a b"), "vigil-ticket-1%2Ca%20b");
    }
}

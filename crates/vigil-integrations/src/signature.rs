//! HMAC-SHA256 signatures, both directions.
//!
//! Outbound (Vigil's webhooks): the headers of [`outbound_headers`]:
//! `X-Vigil-Timestamp: <unix seconds>`, `X-Vigil-Signature:
//! sha256=<hex(hmac(secret, "<timestamp>.<body>"))>`, `X-Vigil-Event` and
//! `X-Vigil-Delivery` (receivers dedupe on it). [`verify`] is the
//! receiver's side, with a replay window.
//!
//! Inbound (GitHub `X-Hub-Signature-256`, Jira `X-Hub-Signature`): both
//! are `sha256=<hex(hmac(secret, body))>` over the raw body, checked by
//! [`verify_hub`]. Every comparison is constant-time.

use hmac::{Hmac, KeyInit, Mac};
use sha2_011::Sha256;

/// Replay window of [`verify`] unless the receiver picks another, in seconds.
pub const DEFAULT_WINDOW_SECS: u64 = 300;

/// Header with the Unix time (seconds) the delivery was signed at.
pub const TIMESTAMP_HEADER: &str = "X-Vigil-Timestamp";
/// Header with `sha256=<hex>` over `"<timestamp>.<body>"`.
pub const SIGNATURE_HEADER: &str = "X-Vigil-Signature";
/// Header with the event name (`finding.critical`, `ticket.opened`, ...).
pub const EVENT_HEADER: &str = "X-Vigil-Event";
/// Header with the delivery id, the same on every retry of one delivery.
pub const DELIVERY_HEADER: &str = "X-Vigil-Delivery";

/// Why a signature was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No signature (or timestamp) header.
    #[error("the request is not signed")]
    Missing,
    /// The header is not `sha256=<64 hex digits>`, or the timestamp not a number.
    #[error("the signature header is malformed")]
    Malformed,
    /// The signature does not match the body and secret.
    #[error("the signature does not match")]
    Mismatch,
    /// The timestamp is outside the replay window.
    #[error("the timestamp is {age_secs} s away from now, outside the {window_secs} s window")]
    OutsideWindow {
        /// How far the timestamp is from now, in seconds (either direction).
        age_secs: u64,
        /// The window.
        window_secs: u64,
    },
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable_key(),
    };
    for part in parts {
        mac.update(part);
    }
    mac
}

#[cold]
fn unreachable_key() -> HmacSha256 {
    // HMAC pads or hashes any key to its block size; this is the empty key's MAC.
    <HmacSha256 as KeyInit>::new(&Default::default())
}

fn hex_header(mac: HmacSha256) -> String {
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The `X-Vigil-Signature` value for `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    hex_header(mac(secret, &[timestamp.to_string().as_bytes(), b".", body]))
}

/// The four headers of a Vigil webhook delivery, names as sent.
pub fn outbound_headers(
    secret: &[u8],
    event: &str,
    delivery_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    vec![
        (TIMESTAMP_HEADER, timestamp.to_string()),
        (SIGNATURE_HEADER, sign(secret, timestamp, body)),
        (EVENT_HEADER, event.to_owned()),
        (DELIVERY_HEADER, delivery_id.to_owned()),
    ]
}

/// The 32 bytes of a `sha256=<hex>` header.
fn decode(header: &str) -> Result<Vec<u8>, SignatureError> {
    let hex = header.trim().strip_prefix("sha256=").ok_or(SignatureError::Malformed)?;
    if hex.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    hex::decode(hex).map_err(|_| SignatureError::Malformed)
}

/// Checks a Vigil webhook delivery: `signature_header` must be the HMAC of
/// `"<timestamp>.<body>"` and `timestamp` within `window_secs` of `now`
/// (Unix seconds), in the past or the future.
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    body: &[u8],
    signature_header: &str,
    now: i64,
    window_secs: u64,
) -> Result<(), SignatureError> {
    let timestamp = timestamp.trim();
    if timestamp.is_empty() || signature_header.trim().is_empty() {
        return Err(SignatureError::Missing);
    }
    let signed_at: i64 = timestamp.parse().map_err(|_| SignatureError::Malformed)?;
    let expected = decode(signature_header)?;
    // The MAC first: an attacker learns nothing about the window from a forged request.
    mac(secret, &[timestamp.as_bytes(), b".", body]).verify_slice(&expected).map_err(|_| SignatureError::Mismatch)?;
    let age_secs = now.abs_diff(signed_at);
    if age_secs > window_secs {
        return Err(SignatureError::OutsideWindow { age_secs, window_secs });
    }
    Ok(())
}

/// The `sha256=<hex>` header GitHub and Jira send for `body`.
pub fn hub_signature(secret: &[u8], body: &[u8]) -> String {
    hex_header(mac(secret, &[body]))
}

/// Checks a GitHub `X-Hub-Signature-256` or Jira `X-Hub-Signature` header
/// against the raw body.
pub fn verify_hub(secret: &[u8], body: &[u8], signature_header: Option<&str>) -> Result<(), SignatureError> {
    let header = signature_header.filter(|h| !h.trim().is_empty()).ok_or(SignatureError::Missing)?;
    let expected = decode(header)?;
    mac(secret, &[body]).verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// Constant-time equality of two secrets (for shared-secret fallbacks).
pub fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    // Comparing MACs of both under a fixed key takes the same time whatever the inputs share.
    let tag = mac(b"vigil-compare", &[a]).finalize().into_bytes();
    mac(b"vigil-compare", &[b]).verify_slice(&tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer() {
        // RFC 4231 test case 2.
        let mac = mac(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn sign_and_verify() {
        let body = br#"{"event":"x"}"#;
        let header = sign(b"s3cret", 1_700_000_000, body);
        assert!(header.starts_with("sha256=") && header.len() == 71);
        assert_eq!(verify(b"s3cret", "1700000000", body, &header, 1_700_000_100, 300), Ok(()));
        assert_eq!(verify(b"other", "1700000000", body, &header, 1_700_000_100, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"s3cret", "1700000000", b"{}", &header, 1_700_000_100, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"s3cret", "1700000001", body, &header, 1_700_000_100, 300), Err(SignatureError::Mismatch));
        assert_eq!(
            verify(b"s3cret", "1700000000", body, &header, 1_700_000_301, 300),
            Err(SignatureError::OutsideWindow { age_secs: 301, window_secs: 300 })
        );
        assert_eq!(
            verify(b"s3cret", "1700000000", body, &header, 1_699_999_000, 300),
            Err(SignatureError::OutsideWindow { age_secs: 1000, window_secs: 300 })
        );
        assert_eq!(verify(b"s3cret", "", body, &header, 0, 300), Err(SignatureError::Missing));
        assert_eq!(verify(b"s3cret", "abc", body, &header, 0, 300), Err(SignatureError::Malformed));
        assert_eq!(verify(b"s3cret", "1", body, "sha1=00", 0, 300), Err(SignatureError::Malformed));
        assert_eq!(
            verify(b"s3cret", "1", body, &format!("sha256={}", "z".repeat(64)), 0, 300),
            Err(SignatureError::Malformed)
        );
        assert_eq!(verify(b"s3cret", "-99999999999999999999", body, &header, 0, 300), Err(SignatureError::Malformed));
    }

    #[test]
    fn hub_signatures() {
        let header = hub_signature(b"k", b"payload");
        assert_eq!(verify_hub(b"k", b"payload", Some(&header)), Ok(()));
        assert_eq!(verify_hub(b"k", b"payload!", Some(&header)), Err(SignatureError::Mismatch));
        assert_eq!(verify_hub(b"k", b"payload", None), Err(SignatureError::Missing));
        assert_eq!(verify_hub(b"k", b"payload", Some(&header.to_uppercase())), Err(SignatureError::Malformed));
        assert!(secrets_equal(b"abc", b"abc") && !secrets_equal(b"abc", b"abd") && !secrets_equal(b"", b"a"));
    }
}

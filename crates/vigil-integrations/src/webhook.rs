//! Generic outbound webhooks: a JSON event POSTed to a URL with the
//! signature headers of [`crate::signature`] (`X-Vigil-Timestamp`,
//! `X-Vigil-Signature`, `X-Vigil-Event`, `X-Vigil-Delivery`). Chat relays
//! (Slack-style) and anything else receive them; a retry of one delivery
//! carries the same delivery id, so receivers dedupe on it.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::transport::Client;
use crate::{DeliveryError, Secret, Timeouts, signature};

/// Where a webhook goes. `Debug` shows the URL's scheme and host only:
/// chat relay URLs carry their token in the path.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookConfig {
    /// The receiver's URL (http or https).
    pub url: String,
    /// The HMAC key shared with the receiver.
    pub secret: Secret,
    /// Connect and read timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let after_scheme = self.url.find("://").map_or(0, |i| i + 3);
        let origin_end = self.url[after_scheme..].find(['/', '?', '#']).map_or(self.url.len(), |i| after_scheme + i);
        let origin = vigil_core::redact::credentials(&self.url[..origin_end]).into_owned();
        f.debug_struct("WebhookConfig")
            .field("url", &format!("{origin}/…"))
            .field("secret", &self.secret)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

/// Sends signed webhook deliveries to one receiver.
pub struct WebhookClient {
    config: WebhookConfig,
    client: Client,
}

impl WebhookClient {
    /// A client for `config`; refuses a URL that is not http(s).
    pub fn new(config: WebhookConfig) -> Result<Self, DeliveryError> {
        if !(config.url.starts_with("https://") || config.url.starts_with("http://")) {
            return Err(DeliveryError::never("webhook: the URL must start with https:// or http://"));
        }
        let client = Client::new("webhook", &config.timeouts, vec![config.secret.clone()]).hiding_paths();
        Ok(WebhookClient { config, client })
    }

    /// POSTs `payload` as event `event` with delivery id `delivery_id`
    /// (reuse it on retries), signed now. Any 2xx answer is success.
    pub fn send(&self, event: &str, delivery_id: &str, payload: &serde_json::Value) -> Result<(), DeliveryError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        self.send_at(event, delivery_id, payload, i64::try_from(now).unwrap_or(i64::MAX))
    }

    /// [`send`](Self::send) signed with the timestamp `now` (Unix seconds).
    pub fn send_at(
        &self,
        event: &str,
        delivery_id: &str,
        payload: &serde_json::Value,
        now: i64,
    ) -> Result<(), DeliveryError> {
        if event.is_empty()
            || delivery_id.is_empty()
            || !(event.chars().chain(delivery_id.chars()).all(|c| c.is_ascii_graphic()))
        {
            return Err(DeliveryError::never("webhook: event and delivery id must be printable ASCII without spaces"));
        }
        let body = payload.to_string().into_bytes();
        let headers =
            signature::outbound_headers(self.config.secret.expose().as_bytes(), event, delivery_id, now, &body);
        self.client.send(http::Method::POST, &self.config.url, &headers, Some(&body))?;
        Ok(())
    }
}

//! A fake webhook receiver: accepts `POST /hook` deliveries whose
//! `X-Vigil-Signature` verifies against its secret within the replay window,
//! with `X-Vigil-Event`, `X-Vigil-Delivery` and a JSON body; 401 otherwise.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Answer, Failure, HttpServer, RecordedRequest, lock};
use crate::signature::{self, DEFAULT_WINDOW_SECS};
use crate::{Secret, Timeouts, WebhookConfig};

/// A delivery [`FakeReceiver`] accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// `X-Vigil-Event`.
    pub event: String,
    /// `X-Vigil-Delivery`.
    pub delivery_id: String,
    /// `X-Vigil-Timestamp`.
    pub timestamp: String,
    /// `X-Vigil-Signature`.
    pub signature: String,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Delivery {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A fake webhook receiver on 127.0.0.1.
pub struct FakeReceiver {
    server: HttpServer,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    secret: Secret,
}

impl FakeReceiver {
    /// The path deliveries go to.
    pub const PATH: &'static str = "/hook";

    /// Starts a receiver checking signatures with `secret`.
    pub fn start(secret: &str) -> FakeReceiver {
        let deliveries = Arc::new(Mutex::new(Vec::new()));
        let (shared, key) = (deliveries.clone(), secret.to_owned());
        let server = HttpServer::start(Arc::new(move |request| handle(&key, &shared, request)));
        FakeReceiver { server, deliveries, secret: Secret::new(secret) }
    }

    /// The delivery URL (`http://127.0.0.1:PORT/hook`).
    pub fn url(&self) -> String {
        format!("{}{}", self.server.url(), Self::PATH)
    }

    /// A configuration this receiver accepts, with short timeouts.
    pub fn config(&self) -> WebhookConfig {
        WebhookConfig {
            url: self.url(),
            secret: self.secret.clone(),
            timeouts: Timeouts { connect_secs: 2, read_secs: 2 },
        }
    }

    /// Accepted deliveries, in order (a retried delivery appears once per accepted attempt).
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.deliveries).clone()
    }

    /// Every request received, refused ones included.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.server.requests).clone()
    }

    /// Makes the next request fail (queued: call again for more).
    pub fn fail_next(&self, failure: Failure) {
        self.server.failures.push(failure);
    }
}

fn handle(secret: &str, deliveries: &Mutex<Vec<Delivery>>, request: &RecordedRequest) -> Answer {
    if request.method != "POST" || request.path != FakeReceiver::PATH {
        return Answer::error(404, "not found");
    }
    let header = |name: &str| request.header(name).unwrap_or("").to_owned();
    let (timestamp, sig, event, id) = (
        header(signature::TIMESTAMP_HEADER),
        header(signature::SIGNATURE_HEADER),
        header(signature::EVENT_HEADER),
        header(signature::DELIVERY_HEADER),
    );
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    if let Err(e) = signature::verify(secret.as_bytes(), &timestamp, &request.body, &sig, now, DEFAULT_WINDOW_SECS) {
        return Answer::error(401, &e.to_string());
    }
    if event.is_empty() || id.is_empty() {
        return Answer::error(400, "X-Vigil-Event and X-Vigil-Delivery are required");
    }
    if !request.header("content-type").is_some_and(|c| c.starts_with("application/json")) || request.json().is_none() {
        return Answer::error(400, "expected a JSON body");
    }
    lock(deliveries).push(Delivery { event, delivery_id: id, timestamp, signature: sig, body: request.body.clone() });
    Answer::empty(204)
}

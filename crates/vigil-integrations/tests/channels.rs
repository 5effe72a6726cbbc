//! Signed webhooks against the fake receiver, their signature checked by a
//! second implementation (Python's `hmac`), and email to the fake SMTP
//! server.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use vigil_integrations::signature::{self, SignatureError};
use vigil_integrations::testing::{Failure, FakeReceiver, FakeSmtp};
use vigil_integrations::{Email, Mailer, Retry, Secret, WebhookClient};

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Runs tests/fixtures/verify_vigil_signature.py; panics when python3 cannot run.
fn python_verifies(secret: &str, timestamp: &str, signature: &str, body: &[u8]) -> bool {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/verify_vigil_signature.py");
    let mut child = Command::new("python3")
        .args([script, secret, timestamp, signature])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("python3 is required to verify webhook signatures with a second implementation: {e}")
        });
    child.stdin.take().unwrap().write_all(body).unwrap();
    let output = child.wait_with_output().unwrap();
    let verdict = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    match (output.status.code(), verdict.as_str()) {
        (Some(0), "valid") => true,
        (Some(1), "invalid") => false,
        other => panic!("python3 verifier failed: {other:?}"),
    }
}

#[test]
fn webhook_signature_verified_by_python_hmac() {
    let receiver = FakeReceiver::start("whsec-7d1f9a");
    let client = WebhookClient::new(receiver.config()).unwrap();
    let payload =
        json!({"event": "finding.critical", "finding": {"id": 42, "package": "openssl", "note": "ünïcode ✓"}});
    client.send("finding.critical", "dlv-0001", &payload).unwrap();

    let deliveries = receiver.deliveries();
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    assert_eq!((delivery.event.as_str(), delivery.delivery_id.as_str()), ("finding.critical", "dlv-0001"));
    assert_eq!(delivery.json(), payload);
    assert!((now() - delivery.timestamp.parse::<i64>().unwrap()).abs() < 5);
    assert!(python_verifies("whsec-7d1f9a", &delivery.timestamp, &delivery.signature, &delivery.body));
    // The second implementation rejects what it should.
    assert!(!python_verifies("other-secret", &delivery.timestamp, &delivery.signature, &delivery.body));
    let mut tampered = delivery.body.clone();
    tampered.push(b' ');
    assert!(!python_verifies("whsec-7d1f9a", &delivery.timestamp, &delivery.signature, &tampered));
    // Signed ten minutes ago: outside the window for both implementations.
    let old = now() - 600;
    let old_signature = signature::sign(b"whsec-7d1f9a", old, &delivery.body);
    assert!(!python_verifies("whsec-7d1f9a", &old.to_string(), &old_signature, &delivery.body));
    // Python and Rust agree on the bytes of fixed inputs too.
    let fixed = signature::sign(b"k", 1_700_000_000, b"{}");
    assert_eq!(signature::verify(b"k", "1700000000", b"{}", &fixed, 1_700_000_000, 300), Ok(()));
}

#[test]
fn webhook_replay_window_and_wrong_secret_are_refused() {
    let receiver = FakeReceiver::start("right-secret");
    let client = WebhookClient::new(receiver.config()).unwrap();
    let error = client.send_at("ticket.opened", "dlv-2", &json!({"ticket": 1}), now() - 301).unwrap_err();
    assert_eq!((error.retry, error.status), (Retry::Never, Some(401)));
    assert!(error.message.contains("window"), "{error}");
    let error = client.send_at("ticket.opened", "dlv-3", &json!({"ticket": 1}), now() + 400).unwrap_err();
    assert_eq!(error.status, Some(401));

    let mut config = receiver.config();
    config.secret = Secret::new("wrong-secret");
    let error = WebhookClient::new(config).unwrap().send("ticket.opened", "dlv-4", &json!({})).unwrap_err();
    assert_eq!((error.retry, error.status), (Retry::Never, Some(401)));
    assert!(error.message.contains("does not match") && !error.message.contains("wrong-secret"), "{error}");
    assert!(receiver.deliveries().is_empty());

    let body = br#"{"a":1}"#;
    let header = signature::sign(b"s", now() - 1000, body);
    assert!(matches!(
        signature::verify(b"s", &(now() - 1000).to_string(), body, &header, now(), signature::DEFAULT_WINDOW_SECS),
        Err(SignatureError::OutsideWindow { .. })
    ));
}

#[test]
fn webhook_failures_are_retried_with_the_same_delivery_id() {
    let receiver = FakeReceiver::start("k3y-k3y");
    let client = WebhookClient::new(receiver.config()).unwrap();
    let payload = json!({"digest": [1, 2, 3]});
    receiver.fail_next(Failure::Status(500));
    assert_eq!(client.send("digest", "dlv-9", &payload).unwrap_err().retry, Retry::Backoff);
    receiver.fail_next(Failure::RateLimit { retry_after_secs: 30 });
    let error = client.send("digest", "dlv-9", &payload).unwrap_err();
    assert_eq!((error.retry, error.status), (Retry::After(30), Some(429)));
    receiver.fail_next(Failure::Timeout);
    assert_eq!(client.send("digest", "dlv-9", &payload).unwrap_err().retry, Retry::Backoff);
    receiver.fail_next(Failure::Status(404));
    assert_eq!(client.send("digest", "dlv-9", &payload).unwrap_err().retry, Retry::Never);
    client.send("digest", "dlv-9", &payload).unwrap();
    let deliveries = receiver.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].delivery_id, "dlv-9");
    // Every attempt carried the same delivery id.
    assert!(receiver.requests().iter().all(|r| r.header("x-vigil-delivery") == Some("dlv-9")));
    assert_eq!(receiver.requests().len(), 5);

    assert!(client.send("bad event", "dlv", &payload).is_err());
    // A chat relay's URL carries its token in the path: Debug shows the host only.
    let mut config = receiver.config();
    config.url = "https://hooks.example.com/services/T000/B000/XXXXSECRET".into();
    let debug = format!("{config:?}");
    assert!(!debug.contains("XXXXSECRET") && !debug.contains("k3y-k3y"), "{debug}");
}

#[test]
fn email_reaches_every_recipient() {
    let smtp = FakeSmtp::start();
    let mailer = Mailer::new(&smtp.config()).unwrap();
    let email = Email {
        to: vec!["alice@example.com".into(), "Platform Team <platform@example.com>".into()],
        subject: "Vigil: 2 new critical findings".into(),
        body: "payments-api: CVE-2024-0727 (openssl)\n.leading dot line\n".into(),
    };
    mailer.send(&email).unwrap();
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.from, "vigil@example.com");
    assert_eq!(message.to, vec!["alice@example.com", "platform@example.com"]);
    assert!(message.data.contains("Subject: Vigil: 2 new critical findings"), "{}", message.data);
    assert!(message.data.contains("text/plain"));
    assert!(message.data.contains("payments-api: CVE-2024-0727 (openssl)"));
    assert!(message.data.contains("\r\n.leading dot line"), "{}", message.data);
    assert_eq!(message.user, None);

    assert_eq!(mailer.send(&Email { to: vec![], ..email.clone() }).unwrap_err().retry, Retry::Never);
    assert_eq!(
        mailer.send(&Email { to: vec!["not an address".into()], ..email.clone() }).unwrap_err().retry,
        Retry::Never
    );
}

#[test]
fn email_credentials_and_failures() {
    let smtp = FakeSmtp::start_with_login("vigil", "smtp-pa55word");
    let email =
        Email { to: vec!["ops@example.com".into()], subject: "SLA breach".into(), body: "OPS-12 is overdue".into() };
    Mailer::new(&smtp.config()).unwrap().send(&email).unwrap();
    assert_eq!(smtp.messages()[0].user.as_deref(), Some("vigil"));

    let mut config = smtp.config();
    config.password = Some(Secret::new("wrong-pa55word"));
    let error = Mailer::new(&config).unwrap().send(&email).unwrap_err();
    assert_eq!((error.retry, error.status), (Retry::Never, Some(535)));
    assert!(!format!("{error} {config:?}").contains("pa55word"), "{error}");

    let mailer = Mailer::new(&smtp.config()).unwrap();
    smtp.fail_next(Failure::Status(451));
    let error = mailer.send(&email).unwrap_err();
    assert_eq!((error.retry, error.status), (Retry::Backoff, Some(451)));
    smtp.fail_next(Failure::Status(550));
    assert_eq!(mailer.send(&email).unwrap_err().retry, Retry::Never);
    smtp.fail_next(Failure::Timeout);
    assert_eq!(mailer.send(&email).unwrap_err().retry, Retry::Backoff);
    mailer.send(&email).unwrap();
    assert_eq!(smtp.messages().len(), 2);

    let mut config = smtp.config();
    config.username = None;
    assert!(Mailer::new(&config).is_err());
}

//! Email notifications over SMTP with `lettre`'s blocking transport: plain
//! (a local relay, tests on 127.0.0.1), STARTTLS or implicit TLS (rustls
//! with the Mozilla roots), optional credentials, a text body to several
//! recipients. SMTP 4xx replies and connection failures are retried with
//! backoff, 5xx replies never.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use serde::{Deserialize, Serialize};

use crate::error::{Retry, clean};
use crate::{DeliveryError, Secret};

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain text: only for a relay on the same host or network.
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587); refused if the server cannot.
    #[default]
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// An SMTP server to send notifications through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpConfig {
    /// Server host name.
    pub host: String,
    /// Server port (25, 465, 587, ...).
    pub port: u16,
    /// Connection security.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// User name, if the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// Password for `username`.
    #[serde(default)]
    pub password: Option<Secret>,
    /// The sender, `Vigil <vigil@example.com>` or a bare address.
    pub from: String,
    /// Seconds to wait for the server at each step.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_timeout() -> u64 {
    30
}

/// One text email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    /// Recipients (addresses or `Name <address>`).
    pub to: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Sends emails through one SMTP server.
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    password: Option<Secret>,
}

impl Mailer {
    /// A mailer for `config`; the connection is opened per message.
    pub fn new(config: &SmtpConfig) -> Result<Self, DeliveryError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| DeliveryError::never(format!("email: sender {:?} is not an address ({e})", config.from)))?;
        let builder = match config.security {
            SmtpSecurity::None => SmtpTransport::builder_dangerous(&config.host),
            SmtpSecurity::StartTls => {
                SmtpTransport::starttls_relay(&config.host).map_err(|e| DeliveryError::never(format!("email: {e}")))?
            }
            SmtpSecurity::Tls => {
                SmtpTransport::relay(&config.host).map_err(|e| DeliveryError::never(format!("email: {e}")))?
            }
        };
        let mut builder = builder.port(config.port).timeout(Some(Duration::from_secs(config.timeout_secs.max(1))));
        match (&config.username, &config.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
            }
            (None, None) => {}
            _ => return Err(DeliveryError::never("email: username and password go together")),
        }
        Ok(Mailer { transport: builder.build(), from, password: config.password.clone() })
    }

    /// Sends `email` to all its recipients in one SMTP transaction.
    pub fn send(&self, email: &Email) -> Result<(), DeliveryError> {
        if email.to.is_empty() {
            return Err(DeliveryError::never("email: no recipients"));
        }
        let mut builder = Message::builder().from(self.from.clone()).subject(email.subject.clone());
        for to in &email.to {
            let mailbox: Mailbox = to
                .parse()
                .map_err(|e| DeliveryError::never(format!("email: recipient {to:?} is not an address ({e})")))?;
            builder = builder.to(mailbox);
        }
        let message = builder
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())
            .map_err(|e| DeliveryError::never(format!("email: {e}")))?;
        self.transport.send(&message).map(|_| ()).map_err(|e| self.error(&e))
    }

    fn error(&self, error: &lettre::transport::smtp::Error) -> DeliveryError {
        let status = error.status().map(u16::from);
        let retry = if error.is_permanent() { Retry::Never } else { Retry::Backoff };
        let secrets: Vec<&str> = self.password.iter().map(Secret::expose).collect();
        DeliveryError { retry, status, message: clean(&format!("email: {error}"), &secrets) }
    }
}

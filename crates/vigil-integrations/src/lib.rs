//! The clients Vigil uses to talk to ticket systems and notification
//! channels: Jira (REST v2 and v3), GitHub Issues, signed generic webhooks
//! and SMTP, plus the parsing of the webhooks Jira and GitHub send back when
//! a person closes or reopens a ticket there.
//!
//! Nothing here knows the store or a database: callers hand in a
//! configuration ([`TrackerConfig`], [`WebhookConfig`], [`SmtpConfig`]) and
//! a draft, and get an [`ExternalRef`] or a [`DeliveryError`] that says
//! whether and when to retry ([`Retry`]). Every call is synchronous with
//! explicit connect and read timeouts ([`Timeouts`]); async callers run them
//! on `tokio::task::spawn_blocking`.
//!
//! Creating a ticket is idempotent: every ticket carries the label
//! [`vigil_label`] (`vigil-ticket-<id>`) and [`Tracker::create`] looks for it
//! before creating, so a retried delivery finds the ticket the first attempt
//! made.
//!
//! With the `testing` feature, [`testing`] has fake Jira, GitHub, webhook
//! receiver and SMTP servers on 127.0.0.1 that check what Vigil sends.

#![forbid(unsafe_code)]

pub mod email;
pub mod error;
pub mod github;
pub mod inbound;
pub mod jira;
pub mod signature;
#[cfg(feature = "testing")]
pub mod testing;
mod transport;
pub mod webhook;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use email::{Email, Mailer, SmtpConfig, SmtpSecurity};
pub use error::{DeliveryError, Retry};
pub use github::{GitHubConfig, GitHubTracker};
pub use inbound::{InboundChange, InboundError, InboundRequest};
pub use jira::{JiraApiVersion, JiraAuth, JiraConfig, JiraTracker};
pub use webhook::{WebhookClient, WebhookConfig};

/// A secret (API token, password, webhook key). Serialized as the plain
/// string so configurations can be stored as JSON; shown as `***` by
/// `Debug` and `Display` so it never reaches a log line or an error.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// An external ticket system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    /// Jira Cloud or Data Center.
    Jira,
    /// GitHub Issues (github.com or GitHub Enterprise Server).
    #[serde(rename = "github")]
    GitHub,
}

/// What Vigil knows about each ticket system, in one table.
pub struct SystemInfo {
    /// The system.
    pub system: System,
    /// Its name in configurations, URLs and logs.
    pub name: &'static str,
    /// The header its inbound webhooks carry their HMAC-SHA256 signature in.
    pub signature_header: &'static str,
    /// The header naming each inbound delivery (the same on a redelivery), to drop replays.
    pub delivery_header: &'static str,
    /// Parses one of its inbound webhook bodies, after the signature was checked.
    pub(crate) parse: fn(&InboundRequest<'_>, &serde_json::Value) -> Option<InboundChange>,
}

/// Every ticket system Vigil syncs with.
pub const SYSTEMS: &[SystemInfo] = &[
    SystemInfo {
        system: System::Jira,
        name: "jira",
        signature_header: "x-hub-signature",
        delivery_header: "x-atlassian-webhook-identifier",
        parse: jira::parse_inbound,
    },
    SystemInfo {
        system: System::GitHub,
        name: "github",
        signature_header: "x-hub-signature-256",
        delivery_header: "x-github-delivery",
        parse: github::parse_inbound,
    },
];

impl System {
    /// This system's row of [`SYSTEMS`].
    pub fn info(self) -> &'static SystemInfo {
        // Every variant has a row (checked by a test); Jira's row is the fallback the compiler needs.
        SYSTEMS.iter().find(|info| info.system == self).unwrap_or(&SYSTEMS[0])
    }

    /// The system's name (`jira`, `github`).
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The system called `name`, if any.
    pub fn from_name(name: &str) -> Option<System> {
        SYSTEMS.iter().find(|info| info.name.eq_ignore_ascii_case(name)).map(|info| info.system)
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What Vigil asks a tracker to open for one of its tickets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketDraft {
    /// The Vigil ticket's id; becomes the label [`vigil_label`].
    pub vigil_id: i64,
    /// One-line title (Jira summary, GitHub title).
    pub title: String,
    /// Description in Markdown (converted to Atlassian Document Format for Jira v3).
    pub body: String,
    /// Extra labels; spaces become `-` for Jira, which does not allow them.
    pub labels: Vec<String>,
}

/// A ticket in an external system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalRef {
    /// Which system holds it.
    pub system: System,
    /// Its key there: `OPS-12` for Jira, `owner/repo#34` for GitHub.
    pub key: String,
    /// Where a person sees it.
    pub url: String,
}

/// Whether a ticket is open or closed, in any system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketState {
    /// Open (Jira status category `new` or `indeterminate`).
    Open,
    /// Closed (Jira status category `done`).
    Closed,
}

/// The label every ticket Vigil opens carries: `vigil-ticket-<id>`.
pub fn vigil_label(vigil_id: i64) -> String {
    format!("vigil-ticket-{vigil_id}")
}

/// A ticket system Vigil opens, comments on, closes and reopens tickets in.
/// Every method is blocking (HTTP with [`Timeouts`]).
pub trait Tracker: Send + Sync {
    /// Which system this is.
    fn system(&self) -> System;

    /// The ticket labelled `vigil-ticket-<vigil_id>`, the oldest if a race
    /// made several.
    fn find_by_vigil_id(&self, vigil_id: i64) -> Result<Option<ExternalRef>, DeliveryError>;

    /// Opens a ticket for `draft`, or returns the one an earlier attempt
    /// opened (found by its label), so retries never duplicate it. When two
    /// workers race and both open one, the later closes its own as a
    /// duplicate and both return the older.
    fn create(&self, draft: &TicketDraft) -> Result<ExternalRef, DeliveryError>;

    /// Adds a comment (Markdown) to the ticket `key`.
    fn comment(&self, key: &str, body: &str) -> Result<(), DeliveryError>;

    /// Closes or reopens the ticket `key`; nothing happens when it is
    /// already in that state.
    fn set_state(&self, key: &str, state: TicketState) -> Result<(), DeliveryError>;
}

/// After a create: if the search now shows an older ticket with the same
/// label (another worker won a race), the new one is commented on, closed,
/// and the older one returned, so racing workers converge on one ticket.
/// A failed search keeps the new ticket: it exists, and a later
/// [`Tracker::find_by_vigil_id`] returns the oldest either way.
pub(crate) fn settle_race(tracker: &dyn Tracker, created: ExternalRef, vigil_id: i64) -> ExternalRef {
    match tracker.find_by_vigil_id(vigil_id) {
        Ok(Some(oldest)) if oldest.key != created.key => {
            let note = format!(
                "Duplicate of {}: opened by a concurrent delivery of the same Vigil ticket, which is tracked there.",
                oldest.key
            );
            // Best effort: the duplicate stays harmless if either call fails.
            let _ = tracker.comment(&created.key, &note);
            let _ = tracker.set_state(&created.key, TicketState::Closed);
            oldest
        }
        _ => created,
    }
}

/// Connect and read timeouts of every HTTP call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Timeouts {
    /// Seconds to establish the connection (DNS, TCP, TLS).
    pub connect_secs: u64,
    /// Seconds to wait for the response after the request is sent.
    pub read_secs: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect_secs: 10, read_secs: 30 }
    }
}

/// Where tickets go: one external tracker's configuration, stored by the
/// caller as JSON (`{"system": "jira", ...}` or `{"system": "github", ...}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "system", rename_all = "lowercase")]
pub enum TrackerConfig {
    /// A Jira project.
    Jira(JiraConfig),
    /// A GitHub repository.
    #[serde(rename = "github")]
    GitHub(GitHubConfig),
}

impl TrackerConfig {
    /// The system this configuration is for.
    pub fn system(&self) -> System {
        match self {
            TrackerConfig::Jira(_) => System::Jira,
            TrackerConfig::GitHub(_) => System::GitHub,
        }
    }

    /// A client for this tracker.
    pub fn tracker(&self) -> Result<Box<dyn Tracker>, DeliveryError> {
        Ok(match self {
            TrackerConfig::Jira(config) => Box::new(JiraTracker::new(config.clone())?),
            TrackerConfig::GitHub(config) => Box::new(GitHubTracker::new(config.clone())?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_system_has_one_row() {
        for system in [System::Jira, System::GitHub] {
            assert_eq!(SYSTEMS.iter().filter(|info| info.system == system).count(), 1);
            assert_eq!(System::from_name(system.name()), Some(system));
        }
        assert_eq!(System::GitHub.to_string(), "github");
        assert_eq!(System::from_name("gitlab"), None);
    }

    #[test]
    fn secrets_stay_out_of_debug_and_round_trip_as_json() {
        let config = TrackerConfig::GitHub(GitHubConfig {
            api_url: "https://api.github.com".into(),
            owner: "acme".into(),
            repo: "app".into(),
            token: Secret::new("ghp_supersecret"),
            timeouts: Timeouts::default(),
        });
        let debug = format!("{config:?}");
        assert!(!debug.contains("supersecret"), "{debug}");
        let json = serde_json::to_string(&config).unwrap();
        assert!(json.contains("\"system\":\"github\"") && json.contains("ghp_supersecret"), "{json}");
        assert_eq!(serde_json::from_str::<TrackerConfig>(&json).unwrap(), config);
    }
}

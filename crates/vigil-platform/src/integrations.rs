//! Integrations: where tickets and notifications go (Jira, GitHub Issues,
//! signed webhooks, email). Administrators store them by name with their
//! configuration, which is checked on the way in and never shown again.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigil_integrations::email::SmtpConfig;
use vigil_integrations::webhook::WebhookConfig;
use vigil_integrations::{Secret, TrackerConfig};
use vigil_store::tickets::{self, Integration, StoredIntegration};

use crate::auth::Permission;
use crate::{Actor, Error, Platform, Result, json};

/// An integration to create.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct IntegrationRequest {
    /// A unique name (rules name it).
    pub name: String,
    /// `jira`, `github`, `webhook` or `email`.
    pub kind: String,
    /// The system's settings (docs/INTEGRATIONS.md): URL, project or repository, credentials.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// The secret the system signs inbound webhooks with (Jira and GitHub), to move tickets back.
    #[serde(default)]
    pub inbound_secret: Option<String>,
}

/// A stored integration, ready to deliver.
#[derive(Debug, Clone)]
pub enum Channel {
    /// A ticket system.
    Tracker(TrackerConfig),
    /// A signed webhook.
    Webhook(WebhookConfig),
    /// Email over SMTP, to these recipients.
    Email(SmtpConfig, Vec<String>),
}

/// Email settings: the SMTP server and the recipients.
#[derive(Debug, Clone, Deserialize)]
struct EmailSettings {
    #[serde(flatten)]
    smtp: SmtpConfig,
    to: Vec<String>,
}

impl Channel {
    /// Reads an integration's stored configuration.
    pub fn parse(kind: &str, config: &serde_json::Value) -> Result<Channel> {
        let invalid = |e: serde_json::Error| Error::Invalid(format!("config: not a valid {kind} configuration: {e}"));
        match kind {
            "jira" | "github" => {
                let mut tagged = config.clone();
                if let Some(object) = tagged.as_object_mut() {
                    object.insert("system".into(), serde_json::Value::String(kind.into()));
                }
                Ok(Channel::Tracker(serde_json::from_value(tagged).map_err(invalid)?))
            }
            "webhook" => Ok(Channel::Webhook(serde_json::from_value(config.clone()).map_err(invalid)?)),
            "email" => {
                let settings: EmailSettings = serde_json::from_value(config.clone()).map_err(invalid)?;
                if settings.to.is_empty() {
                    return Err(Error::Invalid("config.to: name at least one recipient".into()));
                }
                Ok(Channel::Email(settings.smtp, settings.to))
            }
            other => Err(Error::Invalid(format!("kind: `{other}` is not one of jira, github, webhook, email"))),
        }
    }

    /// The channel of a stored integration.
    pub fn of(stored: &StoredIntegration) -> Result<Channel> {
        let config: serde_json::Value = serde_json::from_str(&stored.config).map_err(|e| {
            Error::Internal(format!("integration {}: stored configuration: {e}", stored.integration.id))
        })?;
        Channel::parse(&stored.integration.kind, &config)
    }
}

/// Stores an integration (administrators); its configuration is checked first.
pub async fn create(platform: &Platform, actor: &Actor, request: &IntegrationRequest) -> Result<Integration> {
    actor.require(Permission::Administer)?;
    let name = request.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(Error::Invalid("name: 1 to 100 bytes".into()));
    }
    Channel::parse(&request.kind, &request.config)?;
    if request.inbound_secret.is_some() && !["jira", "github"].contains(&request.kind.as_str()) {
        return Err(Error::Invalid("inbound_secret: only Jira and GitHub send webhooks back".into()));
    }
    if request.inbound_secret.as_ref().is_some_and(|s| s.len() < 16) {
        return Err(Error::Invalid("inbound_secret: at least 16 characters".into()));
    }
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let integration = tickets::create_integration(
        &mut tx,
        name,
        &request.kind,
        &request.config.to_string(),
        request.inbound_secret.as_deref(),
        &actor.name,
        now,
    )
    .await?;
    // The audit trail names the integration, never its settings (they hold credentials).
    actor
        .audit(
            &mut tx,
            now,
            "integration.create",
            ("integration", Some(integration.id.to_string())),
            None,
            (None, json(&integration)),
        )
        .await?;
    tx.commit().await?;
    Ok(integration)
}

/// Every integration, without its settings.
pub async fn list(platform: &Platform, actor: &Actor) -> Result<Vec<Integration>> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    Ok(tickets::integrations(&mut conn).await?)
}

/// The inbound secret of an integration, when it accepts webhooks.
pub(crate) fn inbound_secret(stored: &StoredIntegration) -> Option<Secret> {
    stored.inbound_secret.as_ref().map(|s| Secret::new(s.clone()))
}

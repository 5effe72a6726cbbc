//! Delivery of tickets to the systems they are synced to, and changes
//! people make there coming back.
//!
//! Every change to a ticket is an event in its log. A ticket with an
//! integration gets one queued `ticket.sync` job at a time, which delivers
//! its unsynced events in order: the first creates the ticket there (found
//! by its `vigil-ticket-<id>` label first, so a retried delivery or two
//! racing workers never open a duplicate), closes and reopens move it by
//! status category, comments become comments; a webhook integration gets
//! each event as a signed POST with the event's delivery id. Delivered
//! events are marked as such even when a later one fails, so a retry sends
//! only the rest. A failure is logged per ticket and retried with backoff
//! (or after the server's `Retry-After`); an hourly sweep queues tickets
//! whose events are still waiting, so nothing is lost.
//!
//! Inbound webhooks (Jira, GitHub), verified with the integration's secret,
//! close or reopen the Vigil ticket when a person does it there.

use vigil_integrations::webhook::WebhookClient;
use vigil_integrations::{DeliveryError, InboundError, InboundRequest, Retry, System, TicketDraft, TicketState};
use vigil_store::tickets::{self, Ticket, TicketEvent, TicketFinding};
use vigil_store::{Scope, Tx};

use crate::integrations::Channel;
use crate::jobs::Lease;
use crate::{Actor, Error, Platform, Result};

/// Integration kinds tickets can be synced to.
pub const TICKET_KINDS: &[&str] = &["jira", "github", "webhook"];

/// Queues a sync of `ticket` when it has an integration and events its
/// system has not seen; one queued sync per ticket at a time.
pub async fn queue(tx: &mut Tx, ticket: &Ticket, now: i64) -> Result<()> {
    if ticket.integration_id.is_none() || tickets::events(tx, ticket.id, true).await?.is_empty() {
        return Ok(());
    }
    let ticket = ticket.id;
    crate::jobs::enqueue(
        tx,
        "ticket.sync",
        serde_json::json!({ "ticket": ticket }),
        Some(format!("ticket.sync:{ticket}")),
        None,
        now,
    )
    .await?;
    Ok(())
}

/// Queues a sync for every ticket with undelivered events (the hourly sweep).
pub async fn resync(platform: &Platform) -> Result<()> {
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    for id in tickets::unsynced(&mut tx).await? {
        let ticket = tickets::ticket(&mut tx, id, &Scope::All).await?;
        queue(&mut tx, &ticket, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The Markdown description of a ticket: its findings, most severe first.
fn describe(ticket: &Ticket, findings: &[TicketFinding]) -> String {
    let mut text = format!(
        "Vigil ticket #{} ({} severity{}).\n\n| Severity | Advisory | Asset | Package | Fixed in | Status |\n|---|---|---|---|---|---|\n",
        ticket.id,
        ticket.severity,
        ticket.due_at.map(|d| format!(", due {}", &vigil_core::time::rfc3339(d)[..10])).unwrap_or_default(),
    );
    for f in findings.iter().take(200) {
        let package = match (&f.package_name, &f.package_version) {
            (Some(name), Some(version)) => format!("{name} {version}"),
            _ => f.location.clone(),
        };
        let severity = vigil_store::model::SEVERITIES.get(f.severity as usize).copied().unwrap_or("unknown");
        let fixed =
            if f.fixed_versions.is_empty() { "no fix yet".to_string() } else { f.fixed_versions.replace(' ', ", ") };
        text.push_str(&format!(
            "| {severity} | {} | {} | {package} | {fixed} | {} |\n",
            f.advisory, f.asset_name, f.status
        ));
    }
    if findings.len() > 200 {
        text.push_str(&format!("\n… and {} more findings.\n", findings.len() - 200));
    }
    text
}

/// Opens the ticket in its system (trackers only; found by its label when
/// an earlier attempt opened it): its key and address.
fn open_there(channel: &Channel, draft: &TicketDraft) -> Result<Option<(String, String)>, DeliveryError> {
    match channel {
        Channel::Tracker(config) => {
            let created = config.tracker()?.create(draft)?;
            Ok(Some((created.key, created.url)))
        }
        _ => Ok(None),
    }
}

/// Delivers one event (blocking HTTP).
fn deliver(
    channel: &Channel,
    draft: &TicketDraft,
    key: Option<&str>,
    event: &TicketEvent,
) -> Result<(), DeliveryError> {
    match channel {
        Channel::Tracker(config) => {
            let key = key.ok_or_else(|| DeliveryError::never("the ticket has no key there yet"))?;
            let tracker = config.tracker()?;
            let text = format!("{} ({}): {}", event.author, event.kind, event.body);
            // The state moves first: a retry after a failed comment finds it already moved.
            match event.kind.as_str() {
                "opened" => Ok(()),
                "closed" => tracker.set_state(key, TicketState::Closed).and_then(|_| tracker.comment(key, &text)),
                "reopened" => tracker.set_state(key, TicketState::Open).and_then(|_| tracker.comment(key, &text)),
                _ => tracker.comment(key, &text),
            }
        }
        Channel::Webhook(config) => {
            let payload = serde_json::json!({
                "ticket": { "id": draft.vigil_id, "title": draft.title, "description": draft.body },
                "event": event,
            });
            WebhookClient::new(config.clone())?.send(
                &format!("ticket.{}", event.kind),
                &format!("vigil-ticket-event-{}", event.id),
                &payload,
            )
        }
        Channel::Email(..) => Err(DeliveryError::never("tickets are not synced to email integrations")),
    }
}

/// Runs a blocking delivery step on the blocking pool.
async fn blocking<T: Send + 'static>(step: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(step).await.map_err(|e| Error::Internal(format!("ticket delivery: {e}")))
}

/// The `ticket.sync` job: delivers a ticket's unsynced events in order,
/// writing down each step as soon as it is done (the key once the ticket
/// exists there, each event once delivered), so a retry, even after this
/// worker died, repeats at most the one step that was under way.
pub async fn sync_job(platform: &Platform, lease: &Lease) -> Result<()> {
    let id = lease.job.payload["ticket"]
        .as_i64()
        .ok_or_else(|| Error::Internal("ticket.sync job without a ticket".into()))?;
    let mut conn = platform.store.read().await?;
    let ticket = tickets::ticket(&mut conn, id, &Scope::All).await?;
    let Some(integration) = ticket.integration_id else { return Ok(()) };
    let stored = tickets::integration(&mut conn, integration).await?;
    let events = tickets::events(&mut conn, id, true).await?;
    let findings = tickets::findings_of(&mut conn, id).await?;
    drop(conn);
    if events.is_empty() {
        return Ok(());
    }
    let channel = Channel::of(&stored)?;
    let draft = TicketDraft {
        vigil_id: id,
        title: ticket.title.clone(),
        body: describe(&ticket, &findings),
        labels: vec!["vigil".into(), format!("severity-{}", ticket.severity)],
    };
    let count = events.len();
    let mut key = ticket.external_key.clone();
    let mut delivered = 0;
    let mut failure = None;
    if key.is_none() {
        let (c, d) = (channel.clone(), draft.clone());
        match blocking(move || open_there(&c, &d)).await? {
            Ok(Some((k, url))) => {
                let mut tx = platform.store.write().await?;
                tickets::set_external(&mut tx, id, &k, &url).await?;
                tx.commit().await?;
                key = Some(k);
            }
            Ok(None) => {}
            Err(e) => failure = Some(e),
        }
    }
    if failure.is_none() {
        for event in events {
            let (c, d, k) = (channel.clone(), draft.clone(), key.clone());
            let event_id = event.id;
            match blocking(move || deliver(&c, &d, k.as_deref(), &event)).await? {
                Ok(()) => {
                    let mut tx = platform.store.write().await?;
                    tickets::mark_synced(&mut tx, &[event_id]).await?;
                    tx.commit().await?;
                    delivered += 1;
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
    }
    let now = platform.now();
    let attempt = lease.job.attempts;
    let mut tx = platform.store.write().await?;
    match failure {
        None => {
            let detail = format!("{count} event(s) delivered to {}", stored.integration.name);
            tickets::add_delivery(&mut tx, id, integration, attempt, "delivered", &detail, now).await?;
            lease.complete(&mut tx, now).await?;
            // Changes made while this run delivered get a run of their own.
            queue(&mut tx, &ticket, now).await?;
            tx.commit().await?;
            Ok(())
        }
        Some(e) => {
            // Rejected: a retry cannot help until the ticket changes (the hourly sweep skips it).
            let outcome = match e.retry {
                Retry::Never => "rejected",
                _ if attempt >= lease.job.max_attempts => "failed",
                _ => "retrying",
            };
            let detail = format!("{delivered} of {count} event(s) delivered; {e}");
            tickets::add_delivery(&mut tx, id, integration, attempt, outcome, &detail, now).await?;
            tx.commit().await?;
            Err(Error::Upstream {
                message: format!("ticket {id} to {}: {e}", stored.integration.name),
                retry_after: match e.retry {
                    Retry::After(secs) => Some(secs.min(86_400) as i64),
                    _ => None,
                },
                permanent: e.retry == Retry::Never,
            })
        }
    }
}

/// An inbound webhook for integration `integration`: verified with its
/// secret, it closes or reopens the ticket a person moved there. Returns
/// the ticket changed, if any.
pub async fn inbound(platform: &Platform, integration: i64, request: &InboundRequest<'_>) -> Result<Option<i64>> {
    let mut conn = platform.store.read().await?;
    let stored = match tickets::integration(&mut conn, integration).await {
        Ok(stored) => stored,
        // Unknown integrations look like bad signatures: nothing to probe.
        Err(_) => return Err(Error::Unauthorized("inbound webhook refused".into())),
    };
    drop(conn);
    let system = System::from_name(&stored.integration.kind);
    let (Some(system), Some(secret)) = (system, crate::integrations::inbound_secret(&stored)) else {
        return Err(Error::Unauthorized("inbound webhook refused: this integration takes no webhooks".into()));
    };
    let change = vigil_integrations::inbound::parse(system, &secret, request).map_err(|e| match e {
        InboundError::BadSignature(_) => Error::Unauthorized(e.to_string()),
        InboundError::TooLarge { .. } => Error::TooLarge(e.to_string()),
        InboundError::Malformed(_) => Error::Invalid(e.to_string()),
    })?;
    let Some(change) = change else { return Ok(None) };
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    // A delivery applied before (replayed, or redelivered by the system) changes nothing.
    let delivery = request.headers.get(system.info().delivery_header).and_then(|v| v.to_str().ok());
    if let Some(delivery) = delivery.filter(|d| !d.is_empty() && d.len() <= 200)
        && !tickets::first_delivery(&mut tx, integration, delivery, now).await?
    {
        tx.rollback().await?;
        return Ok(None);
    }
    let Some(ticket) = tickets::ticket_by_external(&mut tx, integration, &change.external_key).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    let status = match change.state {
        TicketState::Open => "open",
        TicketState::Closed => "closed",
    };
    if ticket.status == status {
        tx.rollback().await?;
        return Ok(None);
    }
    let who = format!("{}:{}", system.name(), change.actor.as_deref().unwrap_or("someone"));
    let reason = format!("closed in {} by {}", system.name(), change.actor.as_deref().unwrap_or("someone"));
    tickets::set_status(&mut tx, ticket.id, status, (status == "closed").then_some(reason.as_str()), now).await?;
    let kind = if status == "closed" { "closed" } else { "reopened" };
    let body = format!("{kind} in {} ({})", system.name(), change.external_key);
    let event = tickets::add_event(&mut tx, ticket.id, kind, &who, &body, now).await?;
    // It happened there: nothing to send back.
    tickets::mark_synced(&mut tx, &[event]).await?;
    let actor = Actor { name: who, ..Actor::system() };
    actor
        .audit(
            &mut tx,
            now,
            &format!("ticket.{}", if status == "closed" { "close" } else { "reopen" }),
            ("ticket", Some(ticket.id.to_string())),
            Some(ticket.team_id),
            (None, Some(serde_json::json!({ "external_key": change.external_key, "by": change.actor }))),
        )
        .await?;
    tx.commit().await?;
    Ok(Some(ticket.id))
}

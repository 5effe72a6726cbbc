//! Notifications: rules of an event kind, a query over findings and a
//! channel (a webhook or email integration). Events are recorded once per
//! rule (a finding, a digest day), in the transaction that caused them, and
//! sent by the `notify.flush` job grouped into one message per rule, at most
//! once per the rule's interval: a scan that brings 300 critical findings
//! sends one message listing them, never 300, and a rule whose channel
//! fails holds its events until it works again.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigil_integrations::webhook::WebhookClient;
use vigil_integrations::{DeliveryError, Email, Mailer, Retry};
use vigil_store::notifications::{self, NewRule, NotificationRule, Pending, Sent};
use vigil_store::tickets::{self, TicketFinding};
use vigil_store::{Scope, Tx};

use crate::auth::Permission;
use crate::integrations::Channel;
use crate::{Actor, Error, Platform, Result, json};

/// The kinds of event a rule can follow: `(name, what it means)`.
pub const EVENTS: &[(&str, &str)] = &[
    ("finding.new", "new findings matching the query"),
    (
        "finding.kev",
        "findings matching the query on CISA's Known Exploited Vulnerabilities list: new ones, and \
         existing ones when CISA adds their advisory",
    ),
    ("sla.breach", "findings matching the query whose SLA due date passed"),
    ("digest", "once a day: open findings matching the query by severity, new and fixed in the last day"),
];

/// Most events listed in one message; the rest are counted.
const LISTED: usize = 50;

/// A notification rule as requested.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct RuleRequest {
    /// Name.
    pub name: String,
    /// One of `finding.new`, `finding.kev`, `sla.breach`, `digest`.
    pub event: String,
    /// A query over findings (empty: every finding).
    #[serde(default)]
    pub query: String,
    /// The team whose findings it covers (administrators may leave it out: every team).
    #[serde(default)]
    pub team: Option<String>,
    /// The `webhook` or `email` integration messages go to, by name.
    pub integration: String,
    /// Least minutes between two messages of this rule (default 15).
    #[serde(default)]
    pub interval_minutes: Option<i64>,
}

/// A rule with its recent sends.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleDetail {
    /// The rule.
    pub rule: NotificationRule,
    /// Its last sends, newest first.
    pub sent: Vec<Sent>,
}

/// `query` narrowed by `extra` (both in the query language).
fn and(query: &str, extra: &str) -> String {
    if query.trim().is_empty() { extra.to_string() } else { format!("({query}) and {extra}") }
}

/// Saves a rule.
pub async fn create_rule(platform: &Platform, actor: &Actor, request: &RuleRequest) -> Result<NotificationRule> {
    actor.require(Permission::Remediate)?;
    if request.name.trim().is_empty() || request.name.len() > 200 {
        return Err(Error::Invalid("name: 1 to 200 bytes".into()));
    }
    if !EVENTS.iter().any(|(e, _)| *e == request.event) {
        return Err(Error::Invalid(format!(
            "event: `{}` is not one of {}",
            request.event,
            EVENTS.iter().map(|(e, _)| *e).collect::<Vec<_>>().join(", ")
        )));
    }
    let now = platform.now();
    let filter = vigil_query::parse(&request.query)?;
    vigil_query::compile(&filter, &vigil_store::catalogs::FINDINGS, 1, now)?;
    let interval = request.interval_minutes.unwrap_or(15);
    if !(1..=10_080).contains(&interval) {
        return Err(Error::Invalid("interval_minutes: 1 to 10,080 (a week)".into()));
    }
    let mut tx = platform.store.write().await?;
    let team_id = crate::triage::rule_team(&mut tx, actor, request.team.as_deref()).await?;
    let integration = tickets::integration_by_name(&mut tx, &request.integration)
        .await?
        .ok_or_else(|| Error::Invalid(format!("integration: no integration named `{}`", request.integration)))?;
    let kind = tickets::integration(&mut tx, integration).await?.integration.kind;
    if !["webhook", "email"].contains(&kind.as_str()) {
        return Err(Error::Invalid(format!(
            "integration: `{}` is a {kind} integration; notifications go to webhook or email integrations",
            request.integration
        )));
    }
    let new = NewRule {
        name: request.name.trim().into(),
        event: request.event.clone(),
        query: request.query.clone(),
        team_id,
        integration_id: integration,
        min_interval: interval * 60,
        created_by: actor.name.clone(),
    };
    let rule = notifications::create_rule(&mut tx, &new, now).await?;
    actor
        .audit(
            &mut tx,
            now,
            "notification_rule.create",
            ("notification_rule", Some(rule.id.to_string())),
            team_id,
            (None, json(&rule)),
        )
        .await?;
    tx.commit().await?;
    Ok(rule)
}

/// The rules the actor may see.
pub async fn rules(platform: &Platform, actor: &Actor) -> Result<Vec<NotificationRule>> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    Ok(notifications::rules(&mut conn, &actor.scope, None, true).await?)
}

/// One rule with its recent sends.
pub async fn rule(platform: &Platform, actor: &Actor, id: i64) -> Result<RuleDetail> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    let rule = notifications::rule(&mut conn, id).await?;
    if !rule.team_id.map_or(actor.scope == Scope::All, |t| actor.scope.allows(t)) {
        return Err(Error::NotFound(format!("notification rule {id} not found")));
    }
    Ok(RuleDetail { sent: notifications::sent(&mut conn, id).await?, rule })
}

/// Stops a rule (what it recorded and sent stays).
pub async fn deactivate_rule(platform: &Platform, actor: &Actor, id: i64) -> Result<NotificationRule> {
    actor.require(Permission::Remediate)?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let rule = notifications::rule(&mut tx, id).await?;
    actor.require_rule_owner(rule.team_id)?;
    notifications::deactivate_rule(&mut tx, id).await?;
    let after = notifications::rule(&mut tx, id).await?;
    actor
        .audit(
            &mut tx,
            now,
            "notification_rule.deactivate",
            ("notification_rule", Some(id.to_string())),
            rule.team_id,
            (json(&rule), json(&after)),
        )
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// One line about a finding.
fn line(f: &TicketFinding, kev: bool) -> String {
    let severity = vigil_store::model::SEVERITIES.get(f.severity as usize).copied().unwrap_or("unknown");
    let what = match (&f.package_name, &f.package_version) {
        (Some(name), Some(version)) => format!("{name} {version}"),
        _ => f.location.clone(),
    };
    format!("[{severity}] {} in {what} on {}{}", f.advisory, f.asset_name, if kev { " (known exploited)" } else { "" })
}

/// Records the events that findings of one ingest or re-match bring:
/// `new` findings (inserted), and `kev_added`, findings already stored that
/// CISA's list has just gained.
pub async fn after_change(tx: &mut Tx, team: i64, new: &[i64], kev_added: &[i64], now: i64) -> Result<()> {
    if new.is_empty() && kev_added.is_empty() {
        return Ok(());
    }
    let both: Vec<i64> = new.iter().chain(kev_added).copied().collect();
    for rule in notifications::rules(tx, &Scope::All, None, false).await? {
        if rule.team_id.is_some_and(|t| t != team) {
            continue;
        }
        let (query, ids, kev) = match rule.event.as_str() {
            "finding.new" => (rule.query.clone(), new, false),
            "finding.kev" => (and(&rule.query, "kev:true"), both.as_slice(), true),
            _ => continue,
        };
        let Ok(filter) = vigil_query::parse(&query) else { continue };
        for chunk in ids.chunks(500) {
            let matched: Vec<i64> =
                vigil_store::findings::matching(tx, &filter, &Scope::Teams(vec![team]), Some(chunk), now)
                    .await?
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect();
            for f in tickets::brief(tx, &matched).await? {
                let subject = format!("finding:{}", f.id);
                notifications::record(tx, rule.id, &subject, &line(&f, kev), now).await?;
            }
        }
    }
    Ok(())
}

/// The `notify.sla` job: records the breaches since each rule last looked.
pub async fn sla_job(platform: &Platform) -> Result<()> {
    let now = platform.now();
    let mut conn = platform.store.read().await?;
    let rules = notifications::rules(&mut conn, &Scope::All, Some("sla.breach"), false).await?;
    drop(conn);
    for rule in rules {
        let since = rule.checked_at.unwrap_or(rule.created_at);
        let mut breached = Vec::new();
        let mut page = vigil_store::Page { limit: 1000, cursor: None };
        loop {
            let found = crate::sla::breaches(platform, &rule.query, (since, now), &page).await?;
            breached
                .extend(found.items.into_iter().filter(|f| rule.team_id.is_none_or(|t| t == f.team_id)).map(|f| f.id));
            match found.next {
                Some(next) => page.cursor = Some(next),
                None => break,
            }
        }
        let mut tx = platform.store.write().await?;
        for f in tickets::brief(&mut tx, &breached).await? {
            let subject = format!("finding:{}:sla", f.id);
            notifications::record(&mut tx, rule.id, &subject, &format!("SLA breached: {}", line(&f, false)), now)
                .await?;
        }
        notifications::set_checked(&mut tx, rule.id, now).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// The `notify.digest` job: one digest per rule and day.
pub async fn digest_job(platform: &Platform) -> Result<()> {
    let now = platform.now();
    let day = &vigil_core::time::rfc3339(now)[..10];
    let mut tx = platform.store.write().await?;
    for rule in notifications::rules(&mut tx, &Scope::All, Some("digest"), false).await? {
        let scope = rule.team_id.map_or(Scope::All, |t| Scope::Teams(vec![t]));
        let count = |extra: &str| vigil_query::parse(&and(&rule.query, extra));
        let (Ok(open), Ok(new), Ok(fixed)) = (count("open:true"), count("first_seen<1d"), count("fixed_at<1d")) else {
            continue;
        };
        let by_severity = vigil_store::findings::group(&mut tx, &open, &scope, "severity", 10, now).await?;
        let new = vigil_store::findings::count(&mut tx, &new, &scope, now).await?;
        let fixed = vigil_store::findings::count(&mut tx, &fixed, &scope, now).await?;
        let open_total: i64 = by_severity.iter().map(|(_, n)| n).sum();
        let severities: Vec<String> = by_severity.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let summary = format!(
            "{day}: {open_total} open ({}); {new} new and {fixed} fixed in the last day",
            if severities.is_empty() { "none".to_string() } else { severities.join(", ") }
        );
        notifications::record(&mut tx, rule.id, &format!("digest:{day}"), &summary, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sends one rule's pending events as one message (blocking): the first
/// [`LISTED`] in the text, up to [`CARRIED`] in a webhook's items, and the
/// count of all.
fn send(
    channel: Channel,
    rule: &NotificationRule,
    items: &[Pending],
    total: i64,
) -> std::result::Result<(), DeliveryError> {
    let description = EVENTS.iter().find(|(e, _)| *e == rule.event).map_or("", |(_, d)| *d);
    let subject = if rule.event == "digest" {
        format!("Vigil digest: {}", rule.name)
    } else {
        format!("Vigil: {total} event(s) for \"{}\"", rule.name)
    };
    let mut text = format!("{subject}\nRule: {} ({description}; query `{}`)\n\n", rule.name, rule.query);
    for item in items.iter().take(LISTED) {
        text.push_str(&format!("- {}\n", item.summary));
    }
    if total > LISTED as i64 {
        text.push_str(&format!("… and {} more.\n", total - LISTED as i64));
    }
    match channel {
        Channel::Webhook(config) => {
            let payload = serde_json::json!({
                "rule": { "id": rule.id, "name": rule.name, "event": rule.event, "query": rule.query },
                "count": total,
                "text": text,
                "items": items.iter().map(|i| serde_json::json!({ "subject": i.subject, "summary": i.summary, "at": vigil_core::time::rfc3339(i.at) })).collect::<Vec<_>>(),
            });
            let first = items.first().map_or(0, |i| i.id);
            let last = items.last().map_or(0, |i| i.id);
            WebhookClient::new(config)?.send(
                &format!("notification.{}", rule.event),
                &format!("vigil-notification-{}-{first}-{last}", rule.id),
                &payload,
            )
        }
        Channel::Email(smtp, to) => Mailer::new(&smtp)?.send(&Email { to, subject, body: text }),
        Channel::Tracker(_) => Err(DeliveryError::never("notifications go to webhook or email integrations")),
    }
}

/// Most events a webhook message carries as items.
const CARRIED: usize = 500;

/// The `notify.flush` job: sends each active rule's pending events, grouped,
/// when its interval has passed. A rule whose channel fails is held and
/// logged; the others are sent.
pub async fn flush_job(platform: &Platform) -> Result<()> {
    let mut conn = platform.store.read().await?;
    let rules = notifications::rules(&mut conn, &Scope::All, None, false).await?;
    drop(conn);
    for rule in rules {
        let now = platform.now();
        let due = rule.last_sent_at.map_or(0, |t| t + rule.min_interval).max(rule.not_before.unwrap_or(0));
        if rule.pending == 0 || now < due {
            continue;
        }
        if let Err(e) = flush_rule(platform, &rule).await {
            tracing::warn!(rule = rule.id, error = %e, "notification rule not flushed");
        }
    }
    Ok(())
}

/// Sends one rule's pending events.
async fn flush_rule(platform: &Platform, rule: &NotificationRule) -> Result<()> {
    let mut conn = platform.store.read().await?;
    let (items, total, last) = notifications::pending(&mut conn, rule.id, CARRIED).await?;
    let stored = tickets::integration(&mut conn, rule.integration_id).await?;
    drop(conn);
    if items.is_empty() {
        return Ok(());
    }
    let sent = match Channel::of(&stored) {
        Ok(channel) => {
            let (rule, items) = (rule.clone(), items.clone());
            tokio::task::spawn_blocking(move || send(channel, &rule, &items, total))
                .await
                .map_err(|e| Error::Internal(format!("notification: {e}")))?
        }
        Err(e) => Err(DeliveryError::never(e.to_string())),
    };
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    match sent {
        Ok(()) => {
            // The message lists the first events and counts them all: all are sent.
            let marked = notifications::mark_sent(&mut tx, rule.id, last, now).await?;
            let detail = format!("{total} event(s) sent to {}", stored.integration.name);
            notifications::log(&mut tx, rule.id, marked as i64, "sent", &detail, now).await?;
        }
        Err(e) => {
            let wait = match e.retry {
                Retry::After(secs) => secs.min(86_400) as i64,
                _ => 300,
            };
            notifications::hold(&mut tx, rule.id, now + wait).await?;
            notifications::log(&mut tx, rule.id, items.len() as i64, "failed", &e.to_string(), now).await?;
            tracing::warn!(rule = rule.id, error = %e, "notification not sent; kept for later");
        }
    }
    tx.commit().await?;
    Ok(())
}

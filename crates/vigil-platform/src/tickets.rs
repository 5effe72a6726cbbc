//! Remediation tickets. A ticket rule is a query over findings plus what
//! to open for the ones it matches: one ticket per asset and package (the
//! default), per advisory, or per asset, assigned to a team or user and
//! synced to an integration. Rules are evaluated on every ingest and
//! re-match; a dry run shows what a rule would open before it is saved.
//!
//! A ticket closes by itself when every finding it holds is resolved
//! (fixed, or decided false positive / not affected), with an event naming
//! the scan or re-match that proved it, and reopens when one comes back.
//! Every change is an event in the ticket's log; a ticket with an
//! integration gets a `ticket.sync` job that delivers its unsynced events
//! (see [`crate::sync`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigil_store::model::SEVERITIES;
use vigil_store::tickets::{self, Delivery, NewRule, NewTicket, Ticket, TicketEvent, TicketFinding, TicketRule};
use vigil_store::{Scope, Tx};

use crate::auth::Permission;
use crate::{Actor, Error, Platform, Result, json};

/// How a rule groups findings into tickets: `(name, what it means)`.
pub const GROUPINGS: &[(&str, &str)] = &[
    ("asset_package", "one ticket per asset and package (per asset and location for findings without a package)"),
    ("advisory", "one ticket per advisory, across the team's assets"),
    ("asset", "one ticket per asset"),
];

/// The group a finding falls in under `grouping`, and the title of its ticket.
fn group(grouping: &str, f: &TicketFinding) -> (String, String) {
    match grouping {
        "advisory" => {
            let title = match &f.title {
                Some(t) => format!("{}: {}", f.advisory, clip(t, 120)),
                None => f.advisory.clone(),
            };
            (format!("advisory:{}", f.advisory), title)
        }
        "asset" => (format!("asset:{}", f.asset_id), format!("Vulnerabilities on {}", f.asset_name)),
        _ => match (&f.package_name, &f.ecosystem) {
            (Some(name), Some(ecosystem)) => (
                format!("asset:{}|{ecosystem}|{name}", f.asset_id),
                format!("Upgrade {name} {} on {}", f.package_version.as_deref().unwrap_or_default(), f.asset_name),
            ),
            _ => (
                format!("asset:{}|{}|{}", f.asset_id, f.source, short_key(&f.location)),
                format!("{} on {}", clip(f.title.as_deref().unwrap_or(&f.advisory), 120), f.asset_name),
            ),
        },
    }
}

/// A location as a group key: long ones (URLs, deep paths) as their digest,
/// so keys stay within what a unique index can hold.
fn short_key(location: &str) -> String {
    if location.len() <= 200 {
        return location.to_string();
    }
    use sha2::Digest;
    format!("sha256:{:x}", sha2::Sha256::digest(location.as_bytes()))
}

fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A ticket rule as requested.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct RuleRequest {
    /// Name.
    pub name: String,
    /// A query over findings (docs/QUERY.md), e.g. `severity>=high and fix:available and tag:prod`.
    pub query: String,
    /// `asset_package` (default), `advisory` or `asset`.
    #[serde(default)]
    pub grouping: Option<String>,
    /// The team whose findings it covers (administrators may leave it out: every team).
    #[serde(default)]
    pub team: Option<String>,
    /// The team its tickets are assigned to (default: the findings' team).
    #[serde(default)]
    pub assignee_team: Option<String>,
    /// The user its tickets are assigned to.
    #[serde(default)]
    pub assignee_user: Option<String>,
    /// The integration its tickets are synced to (`jira`, `github` or `webhook` kind), by name.
    #[serde(default)]
    pub integration: Option<String>,
}

/// A ticket a rule would open (dry run).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Preview {
    /// Team.
    pub team_id: i64,
    /// Group key.
    pub group_key: String,
    /// Title.
    pub title: String,
    /// Highest severity.
    pub severity: String,
    /// Findings it would hold.
    pub findings: Vec<i64>,
}

/// A ticket with its findings, log and deliveries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketDetail {
    /// The ticket.
    pub ticket: Ticket,
    /// Its findings, most severe first.
    pub findings: Vec<TicketFinding>,
    /// Its log, oldest first.
    pub events: Vec<TicketEvent>,
    /// Deliveries to its system, oldest first.
    pub deliveries: Vec<Delivery>,
}

/// Checks a rule request and resolves its names.
async fn new_rule(tx: &mut vigil_store::Connection, actor: &Actor, request: &RuleRequest, now: i64) -> Result<NewRule> {
    if request.name.trim().is_empty() || request.name.len() > 200 {
        return Err(Error::Invalid("name: 1 to 200 bytes".into()));
    }
    let filter = vigil_query::parse(&request.query)?;
    vigil_query::compile(&filter, &vigil_store::catalogs::FINDINGS, 1, now)?;
    let grouping = request.grouping.clone().unwrap_or_else(|| GROUPINGS[0].0.to_string());
    if !GROUPINGS.iter().any(|(g, _)| *g == grouping) {
        return Err(Error::Invalid(format!(
            "grouping: `{grouping}` is not one of {}",
            GROUPINGS.iter().map(|(g, _)| *g).collect::<Vec<_>>().join(", ")
        )));
    }
    let team_id = crate::triage::rule_team(tx, actor, request.team.as_deref()).await?;
    let assignee_team_id = match &request.assignee_team {
        Some(name) => Some(
            vigil_store::accounts::team_by_name(tx, name)
                .await?
                .ok_or_else(|| Error::Invalid(format!("assignee_team: no team named `{name}`")))?
                .id,
        ),
        None => None,
    };
    let assignee_user_id = match &request.assignee_user {
        Some(name) => Some(
            vigil_store::accounts::credentials(tx, name)
                .await?
                .ok_or_else(|| Error::Invalid(format!("assignee_user: no user named `{name}`")))?
                .0,
        ),
        None => None,
    };
    let integration_id = match &request.integration {
        Some(name) => {
            let id = tickets::integration_by_name(tx, name)
                .await?
                .ok_or_else(|| Error::Invalid(format!("integration: no integration named `{name}`")))?;
            let kind = tickets::integration(tx, id).await?.integration.kind;
            if !crate::sync::TICKET_KINDS.contains(&kind.as_str()) {
                return Err(Error::Invalid(format!(
                    "integration: `{name}` is a {kind} integration; tickets sync to {}",
                    crate::sync::TICKET_KINDS.join(", ")
                )));
            }
            Some(id)
        }
        None => None,
    };
    Ok(NewRule {
        name: request.name.trim().to_string(),
        query: request.query.clone(),
        grouping,
        team_id,
        assignee_team_id,
        assignee_user_id,
        integration_id,
        created_by: actor.name.clone(),
    })
}

/// Groups candidate findings into the tickets `rule` keeps.
fn previews(grouping: &str, findings: &[TicketFinding]) -> Vec<Preview> {
    let mut groups: BTreeMap<(i64, String), Preview> = BTreeMap::new();
    for f in findings {
        let (key, title) = group(grouping, f);
        let preview = groups.entry((f.team_id, key.clone())).or_insert_with(|| Preview {
            team_id: f.team_id,
            group_key: key,
            title,
            severity: String::new(),
            findings: Vec::new(),
        });
        preview.findings.push(f.id);
    }
    let severity_of: BTreeMap<i64, i64> = findings.iter().map(|f| (f.id, f.severity)).collect();
    let mut out: Vec<Preview> = groups.into_values().collect();
    for p in &mut out {
        let top = p.findings.iter().filter_map(|id| severity_of.get(id)).max().copied().unwrap_or(0);
        p.severity = SEVERITIES.get(top as usize).copied().unwrap_or("unknown").to_string();
    }
    out
}

/// The scope a rule covers.
fn rule_scope(rule_team: Option<i64>) -> Scope {
    rule_team.map_or(Scope::All, |t| Scope::Teams(vec![t]))
}

/// What a rule would open now, without saving it.
pub async fn dry_run(platform: &Platform, actor: &Actor, request: &RuleRequest) -> Result<Vec<Preview>> {
    actor.require(Permission::Remediate)?;
    let now = platform.now();
    let mut conn = platform.store.read().await?;
    let rule = new_rule(&mut conn, actor, request, now).await?;
    let filter = vigil_query::parse(&rule.query)?;
    let scope = match rule.team_id {
        Some(t) => Scope::Teams(vec![t]),
        None => actor.scope.clone(),
    };
    let found = tickets::candidates(&mut conn, &filter, &scope, None, now).await?;
    Ok(previews(&rule.grouping, &found))
}

/// Saves a rule and opens its tickets for the findings it matches now.
pub async fn create_rule(platform: &Platform, actor: &Actor, request: &RuleRequest) -> Result<TicketRule> {
    actor.require(Permission::Remediate)?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let new = new_rule(&mut tx, actor, request, now).await?;
    let rule = tickets::create_rule(&mut tx, &new, now).await?;
    actor
        .audit(
            &mut tx,
            now,
            "ticket_rule.create",
            ("ticket_rule", Some(rule.id.to_string())),
            rule.team_id,
            (None, json(&rule)),
        )
        .await?;
    // Opening its tickets across the fleet is a job, not part of the request.
    crate::jobs::enqueue(&mut tx, "ticket.rule", serde_json::json!({ "rule": rule.id }), None, None, now).await?;
    tx.commit().await?;
    Ok(rule)
}

/// The rules the actor may see.
pub async fn rules(platform: &Platform, actor: &Actor) -> Result<Vec<TicketRule>> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    Ok(tickets::rules(&mut conn, &actor.scope, true).await?)
}

/// Stops a rule from opening tickets (its tickets stay).
pub async fn deactivate_rule(platform: &Platform, actor: &Actor, id: i64) -> Result<TicketRule> {
    actor.require(Permission::Remediate)?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let rule = tickets::rule(&mut tx, id).await?;
    actor.require_rule_owner(rule.team_id)?;
    tickets::deactivate_rule(&mut tx, id).await?;
    let after = tickets::rule(&mut tx, id).await?;
    actor
        .audit(
            &mut tx,
            now,
            "ticket_rule.deactivate",
            ("ticket_rule", Some(id.to_string())),
            rule.team_id,
            (json(&rule), json(&after)),
        )
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// The tickets a change touched: opened or given findings, and of those,
/// the ones that existed before and grew.
#[derive(Debug, Default)]
struct Touched {
    tickets: BTreeSet<i64>,
    grew: BTreeSet<i64>,
}

/// Opens (or adds to) the tickets `rule` keeps for its matching findings,
/// of one asset when given. `cause` names what brought the findings.
async fn apply_rule(
    tx: &mut Tx,
    rule: &TicketRule,
    asset: Option<i64>,
    cause: &str,
    now: i64,
    touched: &mut Touched,
) -> Result<()> {
    let Ok(filter) = vigil_query::parse(&rule.query) else { return Ok(()) };
    let found = tickets::candidates(tx, &filter, &rule_scope(rule.team_id), asset, now).await?;
    for preview in previews(&rule.grouping, &found) {
        let new = NewTicket {
            rule_id: Some(rule.id),
            team_id: preview.team_id,
            group_key: preview.group_key.clone(),
            title: preview.title.clone(),
            severity: 0,
            assignee_team_id: rule.assignee_team_id.or(Some(preview.team_id)),
            assignee_user_id: rule.assignee_user_id,
            due_at: None,
            integration_id: rule.integration_id,
        };
        let (ticket, opened) = tickets::insert_ticket(tx, &new, now).await?;
        let added = tickets::link(tx, ticket, &preview.findings, now).await?;
        if opened {
            let body = format!(
                "Opened by rule \"{}\" (`{}`) after {cause}: {} finding(s).",
                rule.name,
                rule.query,
                added.len()
            );
            tickets::add_event(tx, ticket, "opened", "system", &body, now).await?;
            Actor::system()
                .audit(
                    tx,
                    now,
                    "ticket.open",
                    ("ticket", Some(ticket.to_string())),
                    Some(preview.team_id),
                    (None, Some(serde_json::json!({"rule": rule.id, "findings": added}))),
                )
                .await?;
        } else if !added.is_empty() {
            let body = format!("{} more finding(s) after {cause}.", added.len());
            tickets::add_event(tx, ticket, "findings", "system", &body, now).await?;
            touched.grew.insert(ticket);
        }
        if opened || !added.is_empty() {
            touched.tickets.insert(ticket);
        }
    }
    Ok(())
}

/// The `ticket.rule` job: a new rule opens its tickets for what it matches now.
pub async fn rule_job(platform: &Platform, lease: &crate::jobs::Lease) -> Result<()> {
    let id =
        lease.job.payload["rule"].as_i64().ok_or_else(|| Error::Internal("ticket.rule job without a rule".into()))?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let rule = tickets::rule(&mut tx, id).await?;
    if rule.active {
        tickets::lock_all(&mut tx).await?;
        let mut touched = Touched::default();
        apply_rule(&mut tx, &rule, None, "the rule's creation", now, &mut touched).await?;
        reconcile(&mut tx, &touched, "the rule's creation", now).await?;
    }
    lease.complete(&mut tx, now).await?;
    tx.commit().await?;
    Ok(())
}

/// After an ingest or re-match of `asset` changed the findings `moved`
/// (new, fixed, reopened or re-rated): every active rule applies to the
/// asset's findings, then each ticket that gained findings or holds a moved
/// one is closed or reopened as its findings say. `cause` names the scan
/// or re-match.
pub async fn after_change(tx: &mut Tx, asset: i64, team: i64, moved: &[i64], cause: &str, now: i64) -> Result<()> {
    if !tickets::involved(tx, moved).await? {
        return Ok(());
    }
    tickets::lock_all(tx).await?;
    let mut touched = Touched::default();
    for rule in tickets::rules(tx, &Scope::All, false).await? {
        if rule.team_id.is_none_or(|t| t == team) {
            apply_rule(tx, &rule, Some(asset), cause, now, &mut touched).await?;
        }
    }
    touched.tickets.extend(tickets::tickets_holding(tx, moved).await?);
    reconcile(tx, &touched, cause, now).await
}

/// Before an asset is deleted: the tickets holding its findings, for
/// [`after_asset_deleted`].
pub async fn before_asset_delete(tx: &mut Tx, asset: i64) -> Result<Vec<i64>> {
    Ok(tickets::tickets_of_asset(tx, asset).await?)
}

/// After an asset was deleted (its findings with it): its tickets close when
/// nothing is left in them, and the others get their urgency again.
pub async fn after_asset_deleted(tx: &mut Tx, held: Vec<i64>, asset: &str, now: i64) -> Result<()> {
    if held.is_empty() {
        return Ok(());
    }
    tickets::lock_all(tx).await?;
    let touched = Touched { tickets: held.into_iter().collect(), grew: BTreeSet::new() };
    reconcile(tx, &touched, &format!("the deletion of asset {asset}"), now).await
}

/// After triage decisions on `findings`: their tickets close or reopen.
pub async fn after_triage(tx: &mut Tx, findings: &[i64], by: &str, now: i64) -> Result<()> {
    let held = tickets::tickets_holding(tx, findings).await?;
    if held.is_empty() {
        return Ok(());
    }
    tickets::lock_all(tx).await?;
    let touched = Touched { tickets: held.into_iter().collect(), grew: BTreeSet::new() };
    reconcile(tx, &touched, &format!("a triage decision by {by}"), now).await
}

/// Closes tickets whose findings are all resolved and reopens those where
/// one came back; keeps severity and due date in step; queues syncs.
async fn reconcile(tx: &mut Tx, touched: &Touched, cause: &str, now: i64) -> Result<()> {
    for &id in &touched.tickets {
        let ticket = tickets::ticket(tx, id, &Scope::All).await?;
        let held = tickets::findings_of(tx, id).await?;
        let open: Vec<&TicketFinding> = held.iter().filter(|f| !f.resolved()).collect();
        let severity = open.iter().map(|f| f.severity).max().unwrap_or(0);
        let due = open.iter().filter_map(|f| f.due_at).min();
        tickets::set_urgency(tx, id, severity, due).await?;
        // (event, why it closed, what the log says)
        let change = match ticket.status.as_str() {
            "open" if held.is_empty() => {
                Some(("closed", Some("gone"), format!("Its findings are gone with {cause}; closed.")))
            }
            "open" if open.is_empty() => Some((
                "closed",
                Some("fixed"),
                format!("All {} finding(s) are resolved; closed by {cause}.", held.len()),
            )),
            "closed" if !open.is_empty() && came_back(&ticket, &open, touched.grew.contains(&id)) => {
                Some(("reopened", None, format!("{} finding(s) came back with {cause}; reopened.", open.len())))
            }
            _ => None,
        };
        if let Some((kind, reason, body)) = change {
            let status = if kind == "closed" { "closed" } else { "open" };
            tickets::set_status(tx, id, status, reason, now).await?;
            tickets::add_event(tx, id, kind, "system", &body, now).await?;
            Actor::system()
                .audit(
                    tx,
                    now,
                    &format!("ticket.{}", if kind == "closed" { "close" } else { "reopen" }),
                    ("ticket", Some(id.to_string())),
                    Some(ticket.team_id),
                    (None, Some(serde_json::json!({"reason": body}))),
                )
                .await?;
        }
        crate::sync::queue(tx, &ticket, now).await?;
    }
    Ok(())
}

/// A closed ticket reopens when it closed because its findings were fixed
/// and one is open again, when its rule added findings to it, or when one
/// of its findings was detected again after it was closed.
fn came_back(ticket: &Ticket, open: &[&TicketFinding], grew: bool) -> bool {
    let closed_at = ticket.closed_at.unwrap_or(i64::MAX);
    ticket.close_reason.as_deref() == Some("fixed")
        || grew
        || open.iter().any(|f| f.status == "reopened" && f.changed_at > closed_at)
}

/// Tickets the actor may see, newest first.
pub async fn list(
    platform: &Platform,
    actor: &Actor,
    status: Option<&str>,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<Ticket>> {
    actor.require(Permission::Read)?;
    if let Some(s) = status
        && !["open", "closed"].contains(&s)
    {
        return Err(Error::Invalid(format!("status: `{s}` is not open or closed")));
    }
    let mut conn = platform.store.read().await?;
    Ok(tickets::list(&mut conn, &actor.scope, status, before, limit).await?)
}

/// One ticket with its findings, log and deliveries.
pub async fn get(platform: &Platform, actor: &Actor, id: i64) -> Result<TicketDetail> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    let ticket = tickets::ticket(&mut conn, id, &actor.scope).await?;
    let mut findings = tickets::findings_of(&mut conn, id).await?;
    // A finding of an asset moved to another team stays out of sight.
    findings.retain(|f| actor.scope.allows(f.team_id));
    Ok(TicketDetail {
        findings,
        events: tickets::events(&mut conn, id, false).await?,
        deliveries: tickets::deliveries(&mut conn, id).await?,
        ticket,
    })
}

/// A change a person makes to a ticket.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct Update {
    /// `open` or `closed` (absent: unchanged).
    #[serde(default)]
    pub status: Option<String>,
    /// A comment (required when the status changes).
    #[serde(default)]
    pub comment: Option<String>,
}

/// Comments on a ticket, or closes or reopens it by hand.
pub async fn update(platform: &Platform, actor: &Actor, id: i64, update: &Update) -> Result<TicketDetail> {
    actor.require(Permission::Remediate)?;
    let comment = update.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.len() > 10_000) {
        return Err(Error::Invalid("comment: longer than 10,000 bytes".into()));
    }
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let before = tickets::ticket(&mut tx, id, &actor.scope).await?;
    match update.status.as_deref() {
        None => {
            let Some(comment) = comment else { return Err(Error::Invalid("give a comment or a status".into())) };
            tickets::add_event(&mut tx, id, "comment", &actor.name, comment, now).await?;
        }
        Some(status @ ("open" | "closed")) => {
            let Some(comment) = comment else {
                return Err(Error::Invalid("comment: say why the status changes".into()));
            };
            if status != before.status {
                let reason = format!("closed by {}", actor.name);
                tickets::set_status(&mut tx, id, status, (status == "closed").then_some(reason.as_str()), now).await?;
                let kind = if status == "closed" { "closed" } else { "reopened" };
                tickets::add_event(&mut tx, id, kind, &actor.name, comment, now).await?;
            } else {
                tickets::add_event(&mut tx, id, "comment", &actor.name, comment, now).await?;
            }
        }
        Some(other) => return Err(Error::Invalid(format!("status: `{other}` is not open or closed"))),
    }
    let after = tickets::ticket(&mut tx, id, &Scope::All).await?;
    actor
        .audit(
            &mut tx,
            now,
            "ticket.update",
            ("ticket", Some(id.to_string())),
            Some(before.team_id),
            (json(&before), json(&serde_json::json!({"ticket": after, "comment": comment}))),
        )
        .await?;
    crate::sync::queue(&mut tx, &after, now).await?;
    tx.commit().await?;
    get(platform, actor, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: i64, asset: i64, package: Option<&str>, advisory: &str, severity: i64) -> TicketFinding {
        TicketFinding {
            id,
            team_id: 1,
            asset_id: asset,
            asset_name: format!("asset-{asset}"),
            source: "package".into(),
            advisory: advisory.into(),
            title: Some("a flaw".into()),
            package_name: package.map(str::to_string),
            package_version: Some("1.0".into()),
            ecosystem: package.map(|_| "npm".to_string()),
            location: "/app/package-lock.json".into(),
            severity,
            fixed_versions: "1.1".into(),
            status: "new".into(),
            triage: "open".into(),
            first_seen: 0,
            due_at: None,
            changed_at: 0,
        }
    }

    #[test]
    fn groupings_split_findings_as_named() {
        let found = vec![
            finding(1, 10, Some("lodash"), "CVE-1", 3),
            finding(2, 10, Some("lodash"), "CVE-2", 5),
            finding(3, 10, Some("minimist"), "CVE-1", 4),
            finding(4, 11, Some("lodash"), "CVE-1", 2),
        ];
        let per_package = previews("asset_package", &found);
        let keys: Vec<(&str, &[i64])> =
            per_package.iter().map(|p| (p.group_key.as_str(), p.findings.as_slice())).collect();
        assert_eq!(
            keys,
            vec![
                ("asset:10|npm|lodash", &[1, 2][..]),
                ("asset:10|npm|minimist", &[3][..]),
                ("asset:11|npm|lodash", &[4][..])
            ]
        );
        assert_eq!(per_package[0].severity, "critical");
        assert_eq!(per_package[0].title, "Upgrade lodash 1.0 on asset-10");
        let per_advisory = previews("advisory", &found);
        assert_eq!(per_advisory.iter().map(|p| p.findings.len()).collect::<Vec<_>>(), vec![3, 1]);
        assert_eq!(previews("asset", &found).len(), 2);
    }

    #[test]
    fn resolved_means_fixed_or_decided_not_to_need_a_fix() {
        let mut f = finding(1, 1, Some("x"), "CVE-1", 3);
        assert!(!f.resolved());
        f.triage = "risk_accepted".into();
        assert!(!f.resolved());
        f.triage = "false_positive".into();
        assert!(f.resolved());
        f.triage = "open".into();
        f.status = "fixed".into();
        assert!(f.resolved());
    }
}

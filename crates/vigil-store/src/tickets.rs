//! Remediation tickets and what feeds them: integrations (ticket systems
//! and channels, their configuration kept here and never returned by the
//! API), ticket rules (a query and what to open for it), tickets grouping
//! findings, their event log (each event synced to the ticket's system
//! once) and the delivery log.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;
use vigil_query::{Expr, Param};

use crate::catalogs::FINDINGS;
use crate::model::{SEVERITIES, opt_time, time};
use crate::sql::{fetch_all, flag, id_list, opt_text, scope_condition};
use crate::{Error, Result, Scope};

/// Where tickets or notifications go: a ticket system or a channel.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ToSchema)]
pub struct Integration {
    /// Id.
    pub id: i64,
    /// A unique name.
    pub name: String,
    /// `jira`, `github`, `webhook` or `email`.
    pub kind: String,
    /// Whether inbound webhooks are accepted (a secret is set).
    pub inbound: bool,
    /// Who created it.
    pub created_by: String,
    /// When.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

/// An integration with its stored configuration (secrets included).
#[derive(Clone)]
pub struct StoredIntegration {
    /// The public part.
    pub integration: Integration,
    /// The configuration, JSON.
    pub config: String,
    /// The secret inbound webhooks are signed with.
    pub inbound_secret: Option<String>,
}

impl std::fmt::Debug for StoredIntegration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredIntegration").field("integration", &self.integration).finish_non_exhaustive()
    }
}

/// A rule: findings matching `query` get tickets, grouped by `grouping`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ToSchema)]
pub struct TicketRule {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// A query in the query language over findings.
    pub query: String,
    /// `asset_package`, `advisory` or `asset`.
    pub grouping: String,
    /// The team whose findings it covers (none: every team).
    pub team_id: Option<i64>,
    /// The team tickets are assigned to (none: the findings' team).
    pub assignee_team_id: Option<i64>,
    /// The user tickets are assigned to.
    pub assignee_user_id: Option<i64>,
    /// Where its tickets are synced (none: in Vigil only).
    pub integration_id: Option<i64>,
    /// Whether it still opens tickets.
    pub active: bool,
    /// Who created it.
    pub created_by: String,
    /// When.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

/// A rule to create.
#[derive(Debug, Clone)]
pub struct NewRule {
    /// Name.
    pub name: String,
    /// Query.
    pub query: String,
    /// Grouping.
    pub grouping: String,
    /// Team covered.
    pub team_id: Option<i64>,
    /// Assignee team.
    pub assignee_team_id: Option<i64>,
    /// Assignee user.
    pub assignee_user_id: Option<i64>,
    /// Integration.
    pub integration_id: Option<i64>,
    /// Creator.
    pub created_by: String,
}

/// A ticket: findings to fix together, with an assignee and a due date.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ToSchema)]
pub struct Ticket {
    /// Id.
    pub id: i64,
    /// The rule that opened it (none: opened by hand).
    pub rule_id: Option<i64>,
    /// The team whose findings it holds.
    pub team_id: i64,
    /// What groups its findings (`asset:12|npm|lodash`, `advisory:CVE-...`, `asset:12`).
    pub group_key: String,
    /// Title.
    pub title: String,
    /// `open` or `closed`.
    pub status: String,
    /// The highest severity among its open findings.
    pub severity: String,
    /// Assignee team.
    pub assignee_team_id: Option<i64>,
    /// Assignee user.
    pub assignee_user_id: Option<i64>,
    /// Due (from the SLA of its most urgent finding).
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<i64>,
    /// Where it is synced.
    pub integration_id: Option<i64>,
    /// Its key there (`OPS-12`, `owner/repo#34`).
    pub external_key: Option<String>,
    /// Its address there.
    pub external_url: Option<String>,
    /// Changes so far (each change syncs).
    pub revision: i64,
    /// Findings it holds.
    pub findings: i64,
    /// Of those, not yet fixed.
    pub findings_open: i64,
    /// Opened.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Last changed.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
    /// Closed.
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<i64>,
    /// Why: `fixed`, or who closed it and where.
    pub close_reason: Option<String>,
}

/// A ticket to open.
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// Rule.
    pub rule_id: Option<i64>,
    /// Team.
    pub team_id: i64,
    /// Group key.
    pub group_key: String,
    /// Title.
    pub title: String,
    /// Severity rank.
    pub severity: i64,
    /// Assignee team.
    pub assignee_team_id: Option<i64>,
    /// Assignee user.
    pub assignee_user_id: Option<i64>,
    /// Due.
    pub due_at: Option<i64>,
    /// Integration.
    pub integration_id: Option<i64>,
}

/// One entry of a ticket's log: opened, closed, reopened, a comment, findings added.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ToSchema)]
pub struct TicketEvent {
    /// Id.
    pub id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// When.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// `opened`, `closed`, `reopened`, `comment` or `findings`.
    pub kind: String,
    /// Who (a user, `system`, or `jira:NAME` / `github:NAME`).
    pub author: String,
    /// Text (Markdown).
    pub body: String,
    /// Whether it reached the ticket's system.
    pub synced: bool,
}

/// One attempt to deliver a ticket's changes to its system.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ToSchema)]
pub struct Delivery {
    /// Id.
    pub id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// Integration.
    pub integration_id: i64,
    /// When.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// Attempt number of the job.
    pub attempt: i64,
    /// `delivered`, `retrying` or `failed`.
    pub outcome: String,
    /// What happened.
    pub detail: String,
}

/// What a ticket needs of a finding: how to group it and whether it is fixed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ToSchema)]
pub struct TicketFinding {
    /// Finding id.
    pub id: i64,
    /// Team.
    pub team_id: i64,
    /// Asset.
    pub asset_id: i64,
    /// Asset name.
    pub asset_name: String,
    /// `package`, `config`, `secret`, `web`.
    pub source: String,
    /// Advisory key.
    pub advisory: String,
    /// Title.
    pub title: Option<String>,
    /// Package name.
    pub package_name: Option<String>,
    /// Installed version.
    pub package_version: Option<String>,
    /// Ecosystem.
    pub ecosystem: Option<String>,
    /// Where.
    pub location: String,
    /// Severity rank (index into [`SEVERITIES`]).
    pub severity: i64,
    /// Fixed versions.
    pub fixed_versions: String,
    /// Detection status.
    pub status: String,
    /// Triage state.
    pub triage: String,
    /// First seen.
    pub first_seen: i64,
    /// When its SLA runs out (none: its severity has no SLA).
    pub due_at: Option<i64>,
    /// When its detection status last changed.
    pub changed_at: i64,
}

impl TicketFinding {
    /// Fixed, or decided as not needing a fix (false positive, not affected).
    pub fn resolved(&self) -> bool {
        self.status == "fixed" || matches!(self.triage.as_str(), "false_positive" | "not_affected")
    }
}

fn integration_row(r: &AnyRow) -> Result<Integration> {
    Ok(Integration {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        inbound: opt_text(r, "inbound_secret")?.is_some(),
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Stores an integration.
pub async fn create_integration(
    conn: &mut AnyConnection,
    name: &str,
    kind: &str,
    config: &str,
    inbound_secret: Option<&str>,
    by: &str,
    now: i64,
) -> Result<Integration> {
    if sqlx::query_scalar::<_, i64>("SELECT id FROM integrations WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?
        .is_some()
    {
        return Err(Error::Conflict(format!("an integration named `{name}` exists")));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO integrations (name, kind, config, inbound_secret, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(name)
    .bind(kind)
    .bind(config)
    .bind(inbound_secret)
    .bind(by)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(integration(conn, id).await?.integration)
}

/// Every integration, by name.
pub async fn integrations(conn: &mut AnyConnection) -> Result<Vec<Integration>> {
    let rows = sqlx::query("SELECT * FROM integrations ORDER BY name").fetch_all(conn).await?;
    rows.iter().map(integration_row).collect()
}

/// One integration with its configuration.
pub async fn integration(conn: &mut AnyConnection, id: i64) -> Result<StoredIntegration> {
    let row = sqlx::query("SELECT * FROM integrations WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("integration {id}")))?;
    Ok(StoredIntegration {
        integration: integration_row(&row)?,
        config: row.try_get("config")?,
        inbound_secret: opt_text(&row, "inbound_secret")?,
    })
}

/// An integration's id by name.
pub async fn integration_by_name(conn: &mut AnyConnection, name: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM integrations WHERE name = $1").bind(name).fetch_optional(conn).await?)
}

fn rule_row(r: &AnyRow) -> Result<TicketRule> {
    Ok(TicketRule {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        query: r.try_get("query")?,
        grouping: r.try_get("grouping")?,
        team_id: r.try_get("team_id")?,
        assignee_team_id: r.try_get("assignee_team_id")?,
        assignee_user_id: r.try_get("assignee_user_id")?,
        integration_id: r.try_get("integration_id")?,
        active: flag(r, "active")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Stores a ticket rule.
pub async fn create_rule(conn: &mut AnyConnection, rule: &NewRule, now: i64) -> Result<TicketRule> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO ticket_rules (name, query, grouping, team_id, assignee_team_id, assignee_user_id, \
         integration_id, active, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9) RETURNING id",
    )
    .bind(&rule.name)
    .bind(&rule.query)
    .bind(&rule.grouping)
    .bind(rule.team_id)
    .bind(rule.assignee_team_id)
    .bind(rule.assignee_user_id)
    .bind(rule.integration_id)
    .bind(&rule.created_by)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    self::rule(conn, id).await
}

/// One ticket rule.
pub async fn rule(conn: &mut AnyConnection, id: i64) -> Result<TicketRule> {
    let row = sqlx::query("SELECT * FROM ticket_rules WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("ticket rule {id}")))?;
    rule_row(&row)
}

/// The ticket rules the scope shows (rules for every team only to `Scope::All`), oldest first.
pub async fn rules(conn: &mut AnyConnection, scope: &Scope, include_inactive: bool) -> Result<Vec<TicketRule>> {
    let mut params = Vec::new();
    let team = match scope {
        Scope::All => "TRUE".to_string(),
        _ => scope_condition(scope, "team_id", &mut params),
    };
    let active = if include_inactive { "" } else { " AND active = 1" };
    let rows = fetch_all(conn, format!("SELECT * FROM ticket_rules WHERE {team}{active} ORDER BY id"), &params).await?;
    rows.iter().map(rule_row).collect()
}

/// Stops a rule from opening tickets.
pub async fn deactivate_rule(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("UPDATE ticket_rules SET active = 0 WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

const FINDING_COLUMNS: &str = "f.id, f.team_id, f.asset_id, a.name AS asset_name, f.source, f.vuln_key, f.title, \
     f.package_name, f.package_version, f.ecosystem, f.location, f.severity, f.fixed_versions, f.status, f.triage, \
     f.first_seen, f.sla_due_at, f.status_changed_at";

fn finding_row(r: &AnyRow) -> Result<TicketFinding> {
    Ok(TicketFinding {
        id: r.try_get("id")?,
        team_id: r.try_get("team_id")?,
        asset_id: r.try_get("asset_id")?,
        asset_name: r.try_get("asset_name")?,
        source: r.try_get("source")?,
        advisory: r.try_get("vuln_key")?,
        title: opt_text(r, "title")?,
        package_name: opt_text(r, "package_name")?,
        package_version: opt_text(r, "package_version")?,
        ecosystem: opt_text(r, "ecosystem")?,
        location: r.try_get("location")?,
        severity: r.try_get("severity")?,
        fixed_versions: r.try_get("fixed_versions")?,
        status: r.try_get("status")?,
        triage: r.try_get("triage")?,
        first_seen: r.try_get("first_seen")?,
        due_at: r.try_get("sla_due_at")?,
        changed_at: r.try_get("status_changed_at")?,
    })
}

/// The unresolved, untriaged findings that `filter` matches in `scope`,
/// of one asset when given: what a ticket rule opens tickets for.
pub async fn candidates(
    conn: &mut AnyConnection,
    filter: &Expr,
    scope: &Scope,
    asset: Option<i64>,
    now: i64,
) -> Result<Vec<TicketFinding>> {
    let mut params = Vec::new();
    let mut condition = scope_condition(scope, "f.team_id", &mut params);
    if let Some(asset) = asset {
        params.push(Param::Int(asset));
        condition = format!("{condition} AND f.asset_id = ${}", params.len());
    }
    let compiled = vigil_query::compile(filter, &FINDINGS, params.len() + 1, now)?;
    params.extend(compiled.params);
    let rows = fetch_all(
        conn,
        format!(
            "SELECT {FINDING_COLUMNS} FROM findings f JOIN assets a ON a.id = f.asset_id \
             WHERE {condition} AND f.status <> 'fixed' AND f.triage = 'open' AND {} ORDER BY f.id",
            compiled.condition
        ),
        &params,
    )
    .await?;
    rows.iter().map(finding_row).collect()
}

/// The findings of a ticket.
pub async fn findings_of(conn: &mut AnyConnection, ticket: i64) -> Result<Vec<TicketFinding>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {FINDING_COLUMNS} FROM ticket_findings t JOIN findings f ON f.id = t.finding_id \
         JOIN assets a ON a.id = f.asset_id WHERE t.ticket_id = $1 ORDER BY f.severity DESC, f.id"
    )))
    .bind(ticket)
    .fetch_all(conn)
    .await?;
    rows.iter().map(finding_row).collect()
}

/// Findings by id, for messages about them.
pub async fn brief(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<TicketFinding>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let mut params = Vec::new();
        let list = id_list(chunk, &mut params);
        let rows = fetch_all(
            conn,
            format!(
                "SELECT {FINDING_COLUMNS} FROM findings f JOIN assets a ON a.id = f.asset_id WHERE f.id IN ({list}) \
                 ORDER BY f.severity DESC, f.id"
            ),
            &params,
        )
        .await?;
        for r in &rows {
            out.push(finding_row(r)?);
        }
    }
    Ok(out)
}

const TICKET_SELECT: &str = "SELECT t.*, \
     (SELECT COUNT(*) FROM ticket_findings x WHERE x.ticket_id = t.id) AS findings, \
     (SELECT COUNT(*) FROM ticket_findings x JOIN findings f ON f.id = x.finding_id \
      WHERE x.ticket_id = t.id AND f.status <> 'fixed' AND f.triage NOT IN ('false_positive', 'not_affected')) \
      AS findings_open FROM tickets t";

fn ticket_row(r: &AnyRow) -> Result<Ticket> {
    let severity: i64 = r.try_get("severity")?;
    Ok(Ticket {
        id: r.try_get("id")?,
        rule_id: r.try_get("rule_id")?,
        team_id: r.try_get("team_id")?,
        group_key: r.try_get("group_key")?,
        title: r.try_get("title")?,
        status: r.try_get("status")?,
        severity: SEVERITIES.get(severity as usize).copied().unwrap_or("unknown").to_string(),
        assignee_team_id: r.try_get("assignee_team_id")?,
        assignee_user_id: r.try_get("assignee_user_id")?,
        due_at: r.try_get("due_at")?,
        integration_id: r.try_get("integration_id")?,
        external_key: opt_text(r, "external_key")?,
        external_url: opt_text(r, "external_url")?,
        revision: r.try_get("revision")?,
        findings: r.try_get("findings")?,
        findings_open: r.try_get("findings_open")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        closed_at: r.try_get("closed_at")?,
        close_reason: opt_text(r, "close_reason")?,
    })
}

/// One ticket, when the scope shows it.
pub async fn ticket(conn: &mut AnyConnection, id: i64, scope: &Scope) -> Result<Ticket> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{TICKET_SELECT} WHERE t.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("ticket {id}")))?;
    let ticket = ticket_row(&row)?;
    if !scope.allows(ticket.team_id) {
        return Err(Error::NotFound(format!("ticket {id}")));
    }
    Ok(ticket)
}

/// The ticket a rule keeps for a group, open or closed.
pub async fn ticket_for_group(
    conn: &mut AnyConnection,
    rule: i64,
    team: i64,
    group_key: &str,
) -> Result<Option<Ticket>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{TICKET_SELECT} WHERE t.rule_id = $1 AND t.team_id = $2 AND t.group_key = $3"
    )))
    .bind(rule)
    .bind(team)
    .bind(group_key)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(ticket_row).transpose()
}

/// The ticket synced to `key` in an integration.
pub async fn ticket_by_external(conn: &mut AnyConnection, integration: i64, key: &str) -> Result<Option<Ticket>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{TICKET_SELECT} WHERE t.integration_id = $1 AND t.external_key = $2"
    )))
    .bind(integration)
    .bind(key)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(ticket_row).transpose()
}

/// Tickets the scope shows, newest first, `open` or `closed` only when asked;
/// `before` is the last id of the previous page.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    status: Option<&str>,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<Ticket>> {
    let mut params = Vec::new();
    let mut condition = scope_condition(scope, "t.team_id", &mut params);
    if let Some(status) = status {
        params.push(Param::Text(status.to_string()));
        condition = format!("{condition} AND t.status = ${}", params.len());
    }
    if let Some(before) = before {
        params.push(Param::Int(before));
        condition = format!("{condition} AND t.id < ${}", params.len());
    }
    let rows = fetch_all(
        conn,
        format!("{TICKET_SELECT} WHERE {condition} ORDER BY t.id DESC LIMIT {}", limit.clamp(1, 1000)),
        &params,
    )
    .await?;
    rows.iter().map(ticket_row).collect()
}

/// Opens a ticket for its rule, team and group, or finds the one a
/// concurrent transaction opened; returns its id and whether this call
/// opened it.
pub async fn insert_ticket(conn: &mut AnyConnection, t: &NewTicket, now: i64) -> Result<(i64, bool)> {
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO tickets (rule_id, team_id, group_key, title, status, severity, assignee_team_id, \
         assignee_user_id, due_at, integration_id, revision, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9, 0, $10, $10) \
         ON CONFLICT (rule_id, team_id, group_key) DO NOTHING RETURNING id",
    )
    .bind(t.rule_id)
    .bind(t.team_id)
    .bind(&t.group_key)
    .bind(&t.title)
    .bind(t.severity)
    .bind(t.assignee_team_id)
    .bind(t.assignee_user_id)
    .bind(t.due_at)
    .bind(t.integration_id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = inserted {
        return Ok((id, true));
    }
    let id = sqlx::query_scalar("SELECT id FROM tickets WHERE rule_id = $1 AND team_id = $2 AND group_key = $3")
        .bind(t.rule_id)
        .bind(t.team_id)
        .bind(&t.group_key)
        .fetch_one(conn)
        .await?;
    Ok((id, false))
}

/// Serialises ticket reconciliation across concurrent transactions until
/// the caller's transaction ends (PostgreSQL; SQLite has one writer).
pub async fn lock_all(tx: &mut crate::Tx) -> Result<()> {
    if tx.backend() == crate::Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(7368726571)").execute(&mut **tx).await?;
    }
    Ok(())
}

/// Whether any ticket rule is active or any ticket holds one of `findings`:
/// whether an ingest has ticket work to do.
pub async fn involved(conn: &mut AnyConnection, findings: &[i64]) -> Result<bool> {
    if sqlx::query_scalar::<_, i64>("SELECT id FROM ticket_rules WHERE active = 1 LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?
        .is_some()
    {
        return Ok(true);
    }
    Ok(!tickets_holding(conn, findings).await?.is_empty())
}

/// Links findings to a ticket; returns those that were not linked yet.
pub async fn link(conn: &mut AnyConnection, ticket: i64, findings: &[i64], now: i64) -> Result<Vec<i64>> {
    let mut added = Vec::new();
    for chunk in findings.chunks(500) {
        let mut params = vec![Param::Int(ticket)];
        let list = id_list(chunk, &mut params);
        let linked: Vec<i64> = fetch_all(
            conn,
            format!("SELECT finding_id FROM ticket_findings WHERE ticket_id = $1 AND finding_id IN ({list})"),
            &params,
        )
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("finding_id"))
        .collect::<Result<_, _>>()?;
        for id in chunk.iter().filter(|id| !linked.contains(id)) {
            sqlx::query("INSERT INTO ticket_findings (ticket_id, finding_id, added_at) VALUES ($1, $2, $3)")
                .bind(ticket)
                .bind(*id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            added.push(*id);
        }
    }
    Ok(added)
}

/// The tickets holding any of `findings`.
pub async fn tickets_holding(conn: &mut AnyConnection, findings: &[i64]) -> Result<Vec<i64>> {
    let mut tickets = Vec::new();
    for chunk in findings.chunks(500) {
        let mut params = Vec::new();
        let list = id_list(chunk, &mut params);
        for r in fetch_all(
            conn,
            format!("SELECT DISTINCT ticket_id FROM ticket_findings WHERE finding_id IN ({list})"),
            &params,
        )
        .await?
        {
            tickets.push(r.try_get::<i64, _>("ticket_id")?);
        }
    }
    tickets.sort_unstable();
    tickets.dedup();
    Ok(tickets)
}

/// The tickets holding findings of an asset.
pub async fn tickets_of_asset(conn: &mut AnyConnection, asset: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT t.ticket_id FROM ticket_findings t JOIN findings f ON f.id = t.finding_id \
         WHERE f.asset_id = $1 ORDER BY t.ticket_id",
    )
    .bind(asset)
    .fetch_all(conn)
    .await?)
}

/// Opens or closes a ticket (`reason` when closing).
pub async fn set_status(
    conn: &mut AnyConnection,
    ticket: i64,
    status: &str,
    reason: Option<&str>,
    now: i64,
) -> Result<()> {
    let closed_at = (status == "closed").then_some(now);
    sqlx::query("UPDATE tickets SET status = $1, close_reason = $2, closed_at = $3, updated_at = $4 WHERE id = $5")
        .bind(status)
        .bind(reason)
        .bind(closed_at)
        .bind(now)
        .bind(ticket)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets the severity and due date a ticket's findings give it.
pub async fn set_urgency(conn: &mut AnyConnection, ticket: i64, severity: i64, due_at: Option<i64>) -> Result<()> {
    sqlx::query(
        "UPDATE tickets SET severity = $1, due_at = $2 WHERE id = $3 AND (severity <> $1 OR due_at IS DISTINCT FROM $2)",
    )
    .bind(severity)
    .bind(due_at)
    .bind(ticket)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records where a ticket lives in its system.
pub async fn set_external(conn: &mut AnyConnection, ticket: i64, key: &str, url: &str) -> Result<()> {
    sqlx::query("UPDATE tickets SET external_key = $1, external_url = $2 WHERE id = $3")
        .bind(key)
        .bind(url)
        .bind(ticket)
        .execute(conn)
        .await?;
    Ok(())
}

/// Appends to a ticket's log and counts a revision; returns the event id.
pub async fn add_event(
    conn: &mut AnyConnection,
    ticket: i64,
    kind: &str,
    author: &str,
    body: &str,
    now: i64,
) -> Result<i64> {
    sqlx::query("UPDATE tickets SET revision = revision + 1, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(ticket)
        .execute(&mut *conn)
        .await?;
    Ok(sqlx::query_scalar(
        "INSERT INTO ticket_events (ticket_id, at, kind, author, body, synced) VALUES ($1, $2, $3, $4, $5, 0) \
         RETURNING id",
    )
    .bind(ticket)
    .bind(now)
    .bind(kind)
    .bind(author)
    .bind(body)
    .fetch_one(conn)
    .await?)
}

fn event_row(r: &AnyRow) -> Result<TicketEvent> {
    Ok(TicketEvent {
        id: r.try_get("id")?,
        ticket_id: r.try_get("ticket_id")?,
        at: r.try_get("at")?,
        kind: r.try_get("kind")?,
        author: r.try_get("author")?,
        body: r.try_get("body")?,
        synced: flag(r, "synced")?,
    })
}

/// A ticket's log, oldest first (only what is not synced yet when `unsynced`).
pub async fn events(conn: &mut AnyConnection, ticket: i64, unsynced: bool) -> Result<Vec<TicketEvent>> {
    let sql = if unsynced {
        "SELECT * FROM ticket_events WHERE ticket_id = $1 AND synced = 0 ORDER BY id"
    } else {
        "SELECT * FROM ticket_events WHERE ticket_id = $1 ORDER BY id"
    };
    let rows = sqlx::query(sql).bind(ticket).fetch_all(conn).await?;
    rows.iter().map(event_row).collect()
}

/// Marks events as delivered to the ticket's system.
pub async fn mark_synced(conn: &mut AnyConnection, events: &[i64]) -> Result<()> {
    for chunk in events.chunks(500) {
        let mut params = Vec::new();
        let list = id_list(chunk, &mut params);
        crate::sql::execute(conn, format!("UPDATE ticket_events SET synced = 1 WHERE id IN ({list})"), &params).await?;
    }
    Ok(())
}

/// Records a delivery attempt.
pub async fn add_delivery(
    conn: &mut AnyConnection,
    ticket: i64,
    integration: i64,
    attempt: i64,
    outcome: &str,
    detail: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ticket_deliveries (ticket_id, integration_id, at, attempt, outcome, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(ticket)
    .bind(integration)
    .bind(now)
    .bind(attempt)
    .bind(outcome)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

/// A ticket's delivery log, oldest first.
pub async fn deliveries(conn: &mut AnyConnection, ticket: i64) -> Result<Vec<Delivery>> {
    let rows = sqlx::query("SELECT * FROM ticket_deliveries WHERE ticket_id = $1 ORDER BY id")
        .bind(ticket)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Delivery {
                id: r.try_get("id")?,
                ticket_id: r.try_get("ticket_id")?,
                integration_id: r.try_get("integration_id")?,
                at: r.try_get("at")?,
                attempt: r.try_get("attempt")?,
                outcome: r.try_get("outcome")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}

/// A ticket as shown on a finding it holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ToSchema)]
pub struct TicketRef {
    /// Ticket id.
    pub id: i64,
    /// `open` or `closed`.
    pub status: String,
    /// Its key in its system (`OPS-12`), once synced.
    pub external_key: Option<String>,
    /// Its address there.
    pub external_url: Option<String>,
}

/// The tickets holding a finding.
pub async fn tickets_of_finding(conn: &mut AnyConnection, finding: i64) -> Result<Vec<TicketRef>> {
    let rows = sqlx::query(
        "SELECT t.id, t.status, t.external_key, t.external_url FROM ticket_findings x \
         JOIN tickets t ON t.id = x.ticket_id WHERE x.finding_id = $1 ORDER BY t.id",
    )
    .bind(finding)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TicketRef {
                id: r.try_get("id")?,
                status: r.try_get("status")?,
                external_key: opt_text(r, "external_key")?,
                external_url: opt_text(r, "external_url")?,
            })
        })
        .collect()
}

/// Tickets synced to an integration with events their system has not
/// seen, but for those whose system rejected their last delivery (a retry
/// cannot help until the ticket changes again).
pub async fn unsynced(conn: &mut AnyConnection) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT t.id FROM tickets t JOIN ticket_events e ON e.ticket_id = t.id \
         WHERE t.integration_id IS NOT NULL AND e.synced = 0 AND NOT EXISTS (SELECT 1 FROM ticket_deliveries d \
         WHERE d.ticket_id = t.id AND d.outcome = 'rejected' AND d.at >= e.at \
         AND d.id = (SELECT MAX(d2.id) FROM ticket_deliveries d2 WHERE d2.ticket_id = t.id)) ORDER BY t.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Records an inbound delivery of an integration: false when it was
/// applied before (a replay or a redelivery).
pub async fn first_delivery(conn: &mut AnyConnection, integration: i64, delivery: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO inbound_deliveries (integration_id, delivery_id, at) VALUES ($1, $2, $3) \
         ON CONFLICT (integration_id, delivery_id) DO NOTHING",
    )
    .bind(integration)
    .bind(delivery)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

//! Notification rules, the events they recorded (once each: a finding, a
//! digest day) and the log of what was sent.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use crate::model::{opt_time, time};
use crate::sql::{fetch_all, flag, id_list, opt_text, scope_condition};
use crate::{Error, Result, Scope};

/// A notification rule: findings matching `query` that meet `event` are
/// sent to an integration, grouped, at most once per `min_interval`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ToSchema)]
pub struct NotificationRule {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `finding.new`, `finding.kev`, `sla.breach` or `digest`.
    pub event: String,
    /// A query over findings.
    pub query: String,
    /// The team whose findings it covers (none: every team).
    pub team_id: Option<i64>,
    /// Where messages go.
    pub integration_id: i64,
    /// Least seconds between two messages.
    pub min_interval: i64,
    /// Whether it still records events.
    pub active: bool,
    /// Last message sent.
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_sent_at: Option<i64>,
    /// Events recorded, not yet sent.
    pub pending: i64,
    /// Who created it.
    pub created_by: String,
    /// When.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Not sent before (after a failure or a `Retry-After`).
    #[serde(skip)]
    pub not_before: Option<i64>,
    /// When breaches were last looked for (`sla.breach`).
    #[serde(skip)]
    pub checked_at: Option<i64>,
}

/// A rule to create.
#[derive(Debug, Clone)]
pub struct NewRule {
    /// Name.
    pub name: String,
    /// Event kind.
    pub event: String,
    /// Query.
    pub query: String,
    /// Team.
    pub team_id: Option<i64>,
    /// Integration.
    pub integration_id: i64,
    /// Least seconds between messages.
    pub min_interval: i64,
    /// Creator.
    pub created_by: String,
}

/// One recorded event waiting to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// Id.
    pub id: i64,
    /// What it is about (`finding:12`, `digest:2026-12-07`).
    pub subject: String,
    /// When it was recorded.
    pub at: i64,
    /// One line (or, for a digest, the whole text).
    pub summary: String,
}

/// One attempt to send a rule's events.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ToSchema)]
pub struct Sent {
    /// Id.
    pub id: i64,
    /// Rule.
    pub rule_id: i64,
    /// When.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// Events in the message.
    pub items: i64,
    /// `sent` or `failed`.
    pub outcome: String,
    /// What happened.
    pub detail: String,
}

const RULE_SELECT: &str = "SELECT r.*, (SELECT COUNT(*) FROM notifications n WHERE n.rule_id = r.id \
                           AND n.sent_at IS NULL) AS pending FROM notification_rules r";

fn rule_row(r: &AnyRow) -> Result<NotificationRule> {
    Ok(NotificationRule {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        event: r.try_get("event")?,
        query: r.try_get("query")?,
        team_id: r.try_get("team_id")?,
        integration_id: r.try_get("integration_id")?,
        min_interval: r.try_get("min_interval")?,
        active: flag(r, "active")?,
        last_sent_at: r.try_get("last_sent_at")?,
        pending: r.try_get("pending")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        not_before: r.try_get("not_before")?,
        checked_at: r.try_get("checked_at")?,
    })
}

/// Stores a rule.
pub async fn create_rule(conn: &mut AnyConnection, rule: &NewRule, now: i64) -> Result<NotificationRule> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO notification_rules (name, event, query, team_id, integration_id, min_interval, active, \
         checked_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $7) RETURNING id",
    )
    .bind(&rule.name)
    .bind(&rule.event)
    .bind(&rule.query)
    .bind(rule.team_id)
    .bind(rule.integration_id)
    .bind(rule.min_interval)
    .bind(now)
    .bind(&rule.created_by)
    .fetch_one(&mut *conn)
    .await?;
    self::rule(conn, id).await
}

/// One rule.
pub async fn rule(conn: &mut AnyConnection, id: i64) -> Result<NotificationRule> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{RULE_SELECT} WHERE r.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("notification rule {id}")))?;
    rule_row(&row)
}

/// The rules the scope shows (rules for every team only to `Scope::All`),
/// of one event kind when given, active only unless `include_inactive`.
pub async fn rules(
    conn: &mut AnyConnection,
    scope: &Scope,
    event: Option<&str>,
    include_inactive: bool,
) -> Result<Vec<NotificationRule>> {
    let mut params = Vec::new();
    let mut condition = match scope {
        Scope::All => "TRUE".to_string(),
        _ => scope_condition(scope, "r.team_id", &mut params),
    };
    if let Some(event) = event {
        params.push(vigil_query::Param::Text(event.to_string()));
        condition = format!("{condition} AND r.event = ${}", params.len());
    }
    if !include_inactive {
        condition.push_str(" AND r.active = 1");
    }
    let rows = fetch_all(conn, format!("{RULE_SELECT} WHERE {condition} ORDER BY r.id"), &params).await?;
    rows.iter().map(rule_row).collect()
}

/// Stops a rule from recording events.
pub async fn deactivate_rule(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("UPDATE notification_rules SET active = 0 WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

/// Records an event for a rule, once: false when it was recorded before.
pub async fn record(conn: &mut AnyConnection, rule: i64, subject: &str, summary: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO notifications (rule_id, subject, at, summary) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (rule_id, subject) DO NOTHING",
    )
    .bind(rule)
    .bind(subject)
    .bind(now)
    .bind(summary)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A rule's events waiting to be sent: the first `limit`, oldest first, how
/// many wait in all and the newest one's id.
pub async fn pending(conn: &mut AnyConnection, rule: i64, limit: usize) -> Result<(Vec<Pending>, i64, i64)> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n, MAX(id) AS last FROM notifications WHERE rule_id = $1 AND sent_at IS NULL")
            .bind(rule)
            .fetch_one(&mut *conn)
            .await?;
    let (total, last): (i64, Option<i64>) = (row.try_get("n")?, row.try_get("last")?);
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id, subject, at, summary FROM notifications WHERE rule_id = $1 AND sent_at IS NULL ORDER BY id LIMIT {}",
        limit.clamp(1, 10_000)
    )))
    .bind(rule)
    .fetch_all(conn)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(Pending {
                id: r.try_get("id")?,
                subject: r.try_get("subject")?,
                at: r.try_get("at")?,
                summary: r.try_get("summary")?,
            })
        })
        .collect::<Result<_>>()?;
    Ok((items, total, last.unwrap_or(0)))
}

/// Marks a rule's events up to `last` (an id) sent, unless another sender
/// did, and notes when the rule last sent; returns how many it marked.
pub async fn mark_sent(conn: &mut AnyConnection, rule: i64, last: i64, now: i64) -> Result<u64> {
    let done = sqlx::query("UPDATE notifications SET sent_at = $1 WHERE rule_id = $2 AND id <= $3 AND sent_at IS NULL")
        .bind(now)
        .bind(rule)
        .bind(last)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE notification_rules SET last_sent_at = $1, not_before = NULL WHERE id = $2")
        .bind(now)
        .bind(rule)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Holds a rule's messages back until `until` (after a failure).
pub async fn hold(conn: &mut AnyConnection, rule: i64, until: i64) -> Result<()> {
    sqlx::query("UPDATE notification_rules SET not_before = $1 WHERE id = $2")
        .bind(until)
        .bind(rule)
        .execute(conn)
        .await?;
    Ok(())
}

/// Notes when breaches were last looked for.
pub async fn set_checked(conn: &mut AnyConnection, rule: i64, at: i64) -> Result<()> {
    sqlx::query("UPDATE notification_rules SET checked_at = $1 WHERE id = $2")
        .bind(at)
        .bind(rule)
        .execute(conn)
        .await?;
    Ok(())
}

/// Logs a send attempt.
pub async fn log(conn: &mut AnyConnection, rule: i64, items: i64, outcome: &str, detail: &str, now: i64) -> Result<()> {
    sqlx::query("INSERT INTO notification_log (rule_id, at, items, outcome, detail) VALUES ($1, $2, $3, $4, $5)")
        .bind(rule)
        .bind(now)
        .bind(items)
        .bind(outcome)
        .bind(detail)
        .execute(conn)
        .await?;
    Ok(())
}

/// A rule's send log, newest first (at most 100).
pub async fn sent(conn: &mut AnyConnection, rule: i64) -> Result<Vec<Sent>> {
    let rows = sqlx::query("SELECT * FROM notification_log WHERE rule_id = $1 ORDER BY id DESC LIMIT 100")
        .bind(rule)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Sent {
                id: r.try_get("id")?,
                rule_id: r.try_get("rule_id")?,
                at: r.try_get("at")?,
                items: r.try_get("items")?,
                outcome: r.try_get("outcome")?,
                detail: opt_text(r, "detail")?.unwrap_or_default(),
            })
        })
        .collect()
}

/// Of `findings`, those not (yet) marked known exploited: read before a
/// re-match writes, they tell which findings CISA's list has just gained.
pub async fn not_yet_kev(conn: &mut AnyConnection, findings: &[i64]) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for chunk in findings.chunks(500) {
        let mut params = Vec::new();
        let list = id_list(chunk, &mut params);
        for r in
            fetch_all(conn, format!("SELECT id FROM findings WHERE kev = 0 AND id IN ({list}) ORDER BY id"), &params)
                .await?
        {
            out.push(r.try_get::<i64, _>("id")?);
        }
    }
    Ok(out)
}

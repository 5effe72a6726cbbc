//! Findings over time, from their status history (`finding_events`) and
//! from daily snapshots (`trend_snapshots`).
//!
//! History is read as changes per UTC day: every status event moves one
//! finding out of one status and into another, and a finding whose SLA
//! runs out while it is open becomes overdue at `max(event time, due)`.
//! Summing the changes up to a day gives the state at the end of that day;
//! the platform does the summing (`vigil_platform::trends`). One query
//! serves a daily snapshot (per team and tag), a backfill, and any search
//! in the query language.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vigil_query::{Expr, Param};

use crate::catalogs::FINDINGS;
use crate::sql::{execute, fetch_all, scope_condition};
use crate::{Result, Scope};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Rows per multi-row insert.
const BATCH: usize = 200;

/// Counts for one UTC day, team, tag, severity and status: as a change
/// (from [`changes`]) or as the state at the end of the day (a snapshot).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DayRow {
    /// The Unix second the UTC day starts.
    pub day: i64,
    /// The team (0 when summed over teams).
    pub team_id: i64,
    /// The tag (`""`: all findings).
    pub tag: String,
    /// The severity rank.
    pub severity: i64,
    /// The detection status.
    pub status: String,
    /// Findings in the status at the end of the day.
    pub findings: i64,
    /// Of those, how many have an SLA due date.
    pub with_due: i64,
    /// Of those, how many are past it (open statuses only).
    pub overdue: i64,
    /// Findings that moved into the status during the day.
    pub entered: i64,
    /// Of the day's fixes (status `fixed`), how many came by their due date.
    pub on_time: i64,
    /// Of the day's fixes, how many came after it.
    pub late: i64,
    /// The day's fixes: total seconds from the start of each open period
    /// (first seen or reopened) to the fix.
    pub seconds: i64,
}

/// Which findings' history to read.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    /// Every finding, once per team under tag `""` and once more under each
    /// tag of its asset (what a snapshot records).
    ByTag,
    /// The findings matching a query, within a scope (tag `""`).
    Matching {
        /// The query.
        filter: &'a Expr,
        /// The teams.
        scope: &'a Scope,
        /// The present moment, for ages in the query.
        now: i64,
    },
}

/// The start of an open period: the finding's last `new` or `reopened`
/// event before event `e`.
const PERIOD_START: &str = "COALESCE((SELECT MAX(p.at) FROM finding_events p WHERE p.finding_id = e.finding_id \
                            AND p.id < e.id AND p.to_status IN ('new', 'reopened')), s.first_seen)";

/// When a status event's finding counts as overdue in that status.
const OVERDUE_AT: &str = "(CASE WHEN e.at > s.due THEN e.at ELSE s.due END)";

/// Changes per day from the status history of `selection`, for the days
/// from `from` (a day start) up to `until` (exclusive). Every change
/// before `from` is summed into the day before it (`from - DAY`), so the
/// running sum from there gives each day's state. Rows that change nothing
/// are left out.
pub async fn changes(conn: &mut AnyConnection, selection: Selection<'_>, from: i64, until: i64) -> Result<Vec<DayRow>> {
    let mut params = vec![Param::Int(from), Param::Int(until)];
    let selected = match selection {
        Selection::ByTag => "SELECT f.id, f.team_id, '' AS tag, f.severity, f.sla_due_at AS due, f.first_seen \
             FROM findings f UNION ALL SELECT f.id, f.team_id, qg.name AS tag, f.severity, f.sla_due_at AS due, \
             f.first_seen FROM findings f JOIN asset_tags qt ON qt.asset_id = f.asset_id JOIN tags qg ON qg.id = qt.tag_id"
            .to_string(),
        Selection::Matching { filter, scope, now } => {
            let team = scope_condition(scope, "f.team_id", &mut params);
            let compiled = vigil_query::compile(filter, &FINDINGS, params.len() + 1, now)?;
            params.extend(compiled.params);
            format!(
                "SELECT f.id, f.team_id, '' AS tag, f.severity, f.sla_due_at AS due, f.first_seen \
                 FROM findings f JOIN assets a ON a.id = f.asset_id WHERE {team} AND {}",
                compiled.condition
            )
        }
    };
    let events = "FROM finding_events e JOIN sel s ON s.id = e.finding_id";
    let sql = format!(
        "WITH sel AS ({selected}), u AS (\
         SELECT e.at AS t, s.team_id, s.tag, s.severity, e.to_status AS status, 1 AS df, \
           CASE WHEN s.due IS NULL THEN 0 ELSE 1 END AS dd, 0 AS dov, 1 AS ent, \
           CASE WHEN e.to_status = 'fixed' AND e.at <= s.due THEN 1 ELSE 0 END AS ont, \
           CASE WHEN e.to_status = 'fixed' AND e.at > s.due THEN 1 ELSE 0 END AS lt, \
           CASE WHEN e.to_status = 'fixed' THEN e.at - {PERIOD_START} ELSE 0 END AS secs \
         {events} WHERE e.at < $2 \
         UNION ALL SELECT e.at, s.team_id, s.tag, s.severity, e.from_status, -1, \
           CASE WHEN s.due IS NULL THEN 0 ELSE -1 END, 0, 0, 0, 0, 0 \
         {events} WHERE e.from_status IS NOT NULL AND e.at < $2 \
         UNION ALL SELECT {OVERDUE_AT}, s.team_id, s.tag, s.severity, e.to_status, 0, 0, 1, 0, 0, 0, 0 \
         {events} WHERE s.due IS NOT NULL AND e.to_status <> 'fixed' AND {OVERDUE_AT} < $2 \
         UNION ALL SELECT {OVERDUE_AT}, s.team_id, s.tag, s.severity, e.from_status, 0, 0, -1, 0, 0, 0, 0 \
         {events} WHERE s.due IS NOT NULL AND e.from_status IS NOT NULL AND e.from_status <> 'fixed' \
           AND {OVERDUE_AT} < $2) \
         SELECT CASE WHEN t < $1 THEN $1 - {DAY} ELSE (t / {DAY}) * {DAY} END AS day, team_id, tag, severity, status, \
           CAST(SUM(df) AS BIGINT) AS findings, CAST(SUM(dd) AS BIGINT) AS with_due, \
           CAST(SUM(dov) AS BIGINT) AS overdue, CAST(SUM(ent) AS BIGINT) AS entered, \
           CAST(SUM(ont) AS BIGINT) AS on_time, CAST(SUM(lt) AS BIGINT) AS late, CAST(SUM(secs) AS BIGINT) AS seconds \
         FROM u GROUP BY 1, team_id, tag, severity, status ORDER BY 1, team_id, tag, severity, status"
    );
    let rows = fetch_all(conn, sql, &params).await?;
    let rows: Vec<DayRow> = rows.iter().map(day_row).collect::<Result<_>>()?;
    Ok(rows.into_iter().filter(|r| r.findings != 0 || r.with_due != 0 || r.overdue != 0 || r.entered != 0).collect())
}

fn day_row(r: &AnyRow) -> Result<DayRow> {
    Ok(DayRow {
        day: r.try_get("day")?,
        team_id: r.try_get("team_id")?,
        tag: r.try_get("tag")?,
        severity: r.try_get("severity")?,
        status: r.try_get("status")?,
        findings: r.try_get("findings")?,
        with_due: r.try_get("with_due")?,
        overdue: r.try_get("overdue")?,
        entered: r.try_get("entered")?,
        on_time: r.try_get("on_time")?,
        late: r.try_get("late")?,
        seconds: r.try_get("seconds")?,
    })
}

/// The first day any finding changed status, when one did.
pub async fn first_event_day(conn: &mut AnyConnection) -> Result<Option<i64>> {
    let first: Option<i64> = sqlx::query_scalar("SELECT MIN(at) FROM finding_events").fetch_one(conn).await?;
    Ok(first.map(|at| at.div_euclid(DAY) * DAY))
}

/// The last day snapshotted, when any is.
pub async fn last_snapshot_day(conn: &mut AnyConnection) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT MAX(day) FROM trend_snapshots").fetch_one(conn).await?)
}

/// Stores snapshot rows for the days from `from` on, replacing any stored
/// for those days (a retried or repeated run writes the same rows once).
pub async fn put_snapshots(conn: &mut AnyConnection, from: i64, rows: &[DayRow]) -> Result<()> {
    sqlx::query("DELETE FROM trend_snapshots WHERE day >= $1").bind(from).execute(&mut *conn).await?;
    for chunk in rows.chunks(BATCH) {
        let mut params = Vec::new();
        let mut values = Vec::new();
        for r in chunk {
            let start = params.len();
            params.extend([
                Param::Int(r.day),
                Param::Int(r.team_id),
                Param::Text(r.tag.clone()),
                Param::Int(r.severity),
                Param::Text(r.status.clone()),
                Param::Int(r.findings),
                Param::Int(r.with_due),
                Param::Int(r.overdue),
                Param::Int(r.entered),
                Param::Int(r.on_time),
                Param::Int(r.late),
                Param::Int(r.seconds),
            ]);
            let placeholders: Vec<String> = (start + 1..=params.len()).map(|i| format!("${i}")).collect();
            values.push(format!("({})", placeholders.join(", ")));
        }
        execute(
            conn,
            format!(
                "INSERT INTO trend_snapshots (day, team_id, tag, severity, status, findings, with_due, overdue, \
                 entered, on_time, late, seconds) VALUES {}",
                values.join(", ")
            ),
            &params,
        )
        .await?;
    }
    Ok(())
}

/// Removes every snapshot (before a rebuild from history).
pub async fn clear_snapshots(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("DELETE FROM trend_snapshots").execute(conn).await?;
    Ok(())
}

/// Snapshot rows of tag `tag` (`""`: all findings) for the days in
/// `[from, until)`, for the severities given, summed over the teams of
/// `scope` (`team_id` 0). Served by the primary key (tag, day, ...).
pub async fn snapshots(
    conn: &mut AnyConnection,
    tag: &str,
    severities: &[i64],
    scope: &Scope,
    (from, until): (i64, i64),
) -> Result<Vec<DayRow>> {
    let mut params = vec![Param::Text(tag.to_string()), Param::Int(from), Param::Int(until)];
    let team = scope_condition(scope, "team_id", &mut params);
    let list: Vec<String> = severities
        .iter()
        .map(|s| {
            params.push(Param::Int(*s));
            format!("${}", params.len())
        })
        .collect();
    let severity = if list.is_empty() { "FALSE".to_string() } else { format!("severity IN ({})", list.join(", ")) };
    let rows = fetch_all(
        conn,
        format!(
            "SELECT day, 0 AS team_id, tag, severity, status, CAST(SUM(findings) AS BIGINT) AS findings, \
             CAST(SUM(with_due) AS BIGINT) AS with_due, CAST(SUM(overdue) AS BIGINT) AS overdue, \
             CAST(SUM(entered) AS BIGINT) AS entered, CAST(SUM(on_time) AS BIGINT) AS on_time, \
             CAST(SUM(late) AS BIGINT) AS late, CAST(SUM(seconds) AS BIGINT) AS seconds FROM trend_snapshots \
             WHERE tag = $1 AND day >= $2 AND day < $3 AND {team} AND {severity} \
             GROUP BY day, tag, severity, status ORDER BY day, severity, status"
        ),
        &params,
    )
    .await?;
    rows.iter().map(day_row).collect()
}

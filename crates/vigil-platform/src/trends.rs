//! Trends: open findings over time, new versus fixed per week, mean time
//! to remediate and SLA compliance, for any query in the query language.
//!
//! Every answer comes from one series: for each UTC day of the window and
//! each severity and status, the findings in that status at the end of
//! the day (with and past their SLA due date) and the day's moves into it
//! (`vigil_store::trends::DayRow`). The series is read from one of two
//! places:
//!
//! - **daily snapshots** (`trend_snapshots`, one row per day, team, tag,
//!   severity and status), written once a day across all nodes by the
//!   `trends.snapshot` job. A query made only of one `tag:NAME`, severity
//!   comparisons and `and` (or the empty query) is answered from them,
//!   summed over the caller's teams: a primary-key range read.
//! - **the status history** (`finding_events`) for any other query, and
//!   for the days after the last snapshot (today): every status event of
//!   the matching findings, summed per day.
//!
//! The snapshot job computes its rows from the same history with the same
//! query, so a backfill and the snapshots taken day by day agree. When the
//! snapshot table is empty (the feature's first run, after an upgrade) the
//! job backfills every day since the first recorded event; `rebuild`
//! (administrators) does it again from scratch.
//!
//! History reads today's severity, tags and SLA due date for every past
//! day (the events record status changes, not re-ratings); a snapshot keeps
//! what was true when it was taken.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use vigil_query::{Expr, Op};
use vigil_store::model::{Job, SEVERITIES};
use vigil_store::trends::{self as store, DAY, DayRow, Selection};

use crate::auth::Permission;
use crate::jobs::Lease;
use crate::{Actor, Error, Platform, Result};

/// The longest window, in days.
pub const MAX_DAYS: i64 = 3660;

/// The window when none is given, in days (ending today).
pub const DEFAULT_DAYS: i64 = 30;

/// The statuses of an open finding.
const OPEN: [&str; 3] = ["new", "active", "reopened"];

/// Which findings and which days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// A query over findings (empty: all).
    pub query: String,
    /// The first day (its start, Unix seconds, UTC).
    pub from: i64,
    /// The day after the last (its start): the window is `[from, until)`.
    pub until: i64,
}

impl Request {
    /// A window from the API's parameters: `from` and `to` as `YYYY-MM-DD`
    /// (both included; `to` defaults to today), or the last `days` days
    /// ending with `to` (30 when neither `from` nor `days` is given).
    pub fn new(query: &str, from: Option<&str>, to: Option<&str>, days: Option<i64>, now: i64) -> Result<Request> {
        let day = |name: &str, text: &str| {
            vigil_query::parse_day(text)
                .ok_or_else(|| Error::Invalid(format!("{name}: `{text}` is not a day (YYYY-MM-DD)")))
        };
        let last = match to {
            Some(text) => day("to", text)?,
            None => day_start(now),
        };
        let until = last + DAY;
        let from = match (from, days) {
            (Some(_), Some(_)) => return Err(Error::Invalid("give `from` or `days`, not both".into())),
            (Some(text), None) => day("from", text)?,
            (None, Some(days)) if !(1..=MAX_DAYS).contains(&days) => {
                return Err(Error::Invalid(format!("days: from 1 to {MAX_DAYS}")));
            }
            (None, days) => until - days.unwrap_or(DEFAULT_DAYS) * DAY,
        };
        if from >= until {
            return Err(Error::Invalid("from: must not be after `to`".into()));
        }
        if (until - from) / DAY > MAX_DAYS {
            return Err(Error::Invalid(format!("the window spans more than {MAX_DAYS} days")));
        }
        Ok(Request { query: query.to_string(), from, until })
    }
}

/// The start of the UTC day holding `at`.
pub fn day_start(at: i64) -> i64 {
    at.div_euclid(DAY) * DAY
}

fn date(at: i64) -> String {
    vigil_core::time::rfc3339(at).chars().take(10).collect()
}

/// Open findings at the end of one day.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OpenDay {
    /// The day (UTC), `YYYY-MM-DD`.
    pub day: String,
    /// Open (NEW, ACTIVE or REOPENED) at the end of the day.
    pub open: i64,
    /// Of those, past their SLA due date.
    pub overdue: i64,
    /// Of those, with an SLA and not yet due.
    pub within_sla: i64,
    /// Open, per severity (severities with none left out).
    pub by_severity: BTreeMap<String, i64>,
}

/// Findings that appeared and were fixed in one week.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Week {
    /// The week's Monday (UTC), `YYYY-MM-DD`. The first and last weeks
    /// count only the days inside the window.
    pub week: String,
    /// Findings first detected.
    pub new: i64,
    /// Fixed findings that came back.
    pub reopened: i64,
    /// Findings fixed.
    pub fixed: i64,
}

/// Time to remediate, for the fixes within the window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Remediation {
    /// A severity, or `all`.
    pub severity: String,
    /// Fixes within the window.
    pub fixed: i64,
    /// Their mean time from the start of the open period (first seen, or
    /// reopened) to the fix, in days; absent without fixes.
    pub mean_days: Option<f64>,
}

/// SLA compliance for one severity (or `all`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Compliance {
    /// A severity, or `all`.
    pub severity: String,
    /// Fixes within the window that came by their due date.
    pub fixed_on_time: i64,
    /// Fixes within the window that came after it.
    pub fixed_late: i64,
    /// `fixed_on_time / (fixed_on_time + fixed_late)`; absent without such fixes.
    pub fixed_on_time_share: Option<f64>,
    /// Open at the end of the window, with an SLA, not yet due.
    pub open_within: i64,
    /// Open at the end of the window and past due.
    pub open_overdue: i64,
    /// `open_within / (open_within + open_overdue)`; absent without such findings.
    pub open_within_share: Option<f64>,
}

/// The trends of the findings matching a query over a window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Trends {
    /// The query.
    pub query: String,
    /// The first day, `YYYY-MM-DD`.
    pub from: String,
    /// The last day (included), `YYYY-MM-DD`.
    pub to: String,
    /// Where the series came from: `snapshots`, `history`, or
    /// `snapshots+history` (snapshots, and history for the days after the last).
    pub source: String,
    /// Open findings at the end of each day.
    pub open: Vec<OpenDay>,
    /// New, reopened and fixed per week.
    pub weekly: Vec<Week>,
    /// Mean time to remediate per severity, then for all (`all` last).
    pub remediation: Vec<Remediation>,
    /// SLA compliance per severity, then for all (`all` last).
    pub sla: Vec<Compliance>,
}

/// What a snapshot can answer: one tag (`""` for all) and the severities allowed.
fn snapshot_terms(expr: &Expr) -> Option<(String, Vec<i64>)> {
    let mut tag: Option<String> = None;
    let mut severities: Vec<i64> = (0..SEVERITIES.len() as i64).collect();
    let parts = match expr {
        Expr::All => return Some((String::new(), severities)),
        Expr::And(parts) => parts.iter().collect::<Vec<_>>(),
        other => vec![other],
    };
    for part in parts {
        let Expr::Compare(c) = part else { return None };
        if c.field.eq_ignore_ascii_case("tag") {
            let [value] = c.values.as_slice() else { return None };
            if c.op != Op::Eq || tag.is_some() || (!value.quoted && value.text.contains('*')) {
                return None;
            }
            tag = Some(value.text.clone());
        } else if c.field.eq_ignore_ascii_case("severity") {
            let ranks: Vec<i64> = c
                .values
                .iter()
                .map(|v| SEVERITIES.iter().position(|s| s.eq_ignore_ascii_case(&v.text)).map(|r| r as i64))
                .collect::<Option<_>>()?;
            let first = *ranks.first()?;
            severities.retain(|s| match c.op {
                Op::Eq => *s == first,
                Op::Ne => *s != first,
                Op::Gt => *s > first,
                Op::Ge => *s >= first,
                Op::Lt => *s < first,
                Op::Le => *s <= first,
                Op::In => ranks.contains(s),
            });
        } else {
            return None;
        }
    }
    Some((tag.unwrap_or_default(), severities))
}

/// Turns changes per day into the state at the end of each day of
/// `[from, until)`: running sums of the counts, the day's own moves.
/// Changes dated before `from` only add to the starting state.
pub fn accumulate(changes: &[DayRow], from: i64, until: i64) -> Vec<DayRow> {
    type Key = (i64, String, i64, String);
    let mut by_key: BTreeMap<Key, Vec<&DayRow>> = BTreeMap::new();
    for c in changes {
        by_key.entry((c.team_id, c.tag.clone(), c.severity, c.status.clone())).or_default().push(c);
    }
    let mut out = Vec::new();
    for ((team_id, tag, severity, status), mut rows) in by_key {
        rows.sort_by_key(|r| r.day);
        let mut rows = rows.into_iter().peekable();
        let (mut findings, mut with_due, mut overdue) = (0, 0, 0);
        let mut day = from;
        while day < until {
            let mut row =
                DayRow { day, team_id, tag: tag.clone(), severity, status: status.clone(), ..DayRow::default() };
            while let Some(c) = rows.next_if(|r| r.day <= day) {
                findings += c.findings;
                with_due += c.with_due;
                overdue += c.overdue;
                if c.day == day {
                    (row.entered, row.on_time, row.late, row.seconds) = (c.entered, c.on_time, c.late, c.seconds);
                }
            }
            (row.findings, row.with_due, row.overdue) = (findings, with_due, overdue);
            if row.findings != 0 || row.entered != 0 {
                out.push(row);
            }
            day += DAY;
        }
    }
    out.sort_by(|a, b| {
        (a.day, a.team_id, &a.tag, a.severity, &a.status).cmp(&(b.day, b.team_id, &b.tag, b.severity, &b.status))
    });
    out
}

/// The series of a request: state rows per day, severity and status
/// (summed over teams and tags), and where they came from.
async fn series(platform: &Platform, actor: &Actor, request: &Request) -> Result<(Vec<DayRow>, &'static str)> {
    let expr = vigil_query::parse(&request.query)?;
    // Checks the query (fields, values) whichever source answers it.
    vigil_query::compile(&expr, &vigil_store::catalogs::FINDINGS, 1, platform.now())?;
    let mut conn = platform.store.read().await?;
    let (mut rows, mut source, history_from) = match snapshot_terms(&expr) {
        Some((tag, severities)) => match store::last_snapshot_day(&mut conn).await? {
            Some(last) if last >= request.from => {
                let snapshot_until = (last + DAY).min(request.until);
                let rows = store::snapshots(&mut conn, &tag, &severities, &actor.scope, (request.from, snapshot_until))
                    .await?;
                (rows, "snapshots", snapshot_until)
            }
            _ => (Vec::new(), "history", request.from),
        },
        None => (Vec::new(), "history", request.from),
    };
    if history_from < request.until {
        let selection = Selection::Matching { filter: &expr, scope: &actor.scope, now: platform.now() };
        let changes = store::changes(&mut conn, selection, history_from, request.until).await?;
        rows.extend(accumulate(&changes, history_from, request.until));
        if source == "snapshots" {
            source = "snapshots+history";
        }
    }
    Ok((rows, source))
}

/// The trends of the findings matching `request.query` (within the
/// actor's teams) over the request's window.
pub async fn trends(platform: &Platform, actor: &Actor, request: &Request) -> Result<Trends> {
    actor.require(Permission::Read)?;
    let (rows, source) = series(platform, actor, request).await?;
    let last = request.until - DAY;
    let severity = |rank: i64| SEVERITIES.get(rank as usize).copied().unwrap_or("unknown").to_string();

    let mut open: BTreeMap<i64, OpenDay> = BTreeMap::new();
    let mut day = request.from;
    while day < request.until {
        let empty = OpenDay { day: date(day), open: 0, overdue: 0, within_sla: 0, by_severity: BTreeMap::new() };
        open.insert(day, empty);
        day += DAY;
    }
    let mut weekly: BTreeMap<i64, Week> = BTreeMap::new();
    // Per severity rank: (fixes, seconds, on time, late, open within, open overdue).
    let mut totals: BTreeMap<i64, [i64; 6]> = BTreeMap::new();
    for r in &rows {
        let is_open = OPEN.contains(&r.status.as_str());
        if is_open && let Some(o) = open.get_mut(&r.day) {
            o.open += r.findings;
            o.overdue += r.overdue;
            o.within_sla += r.with_due - r.overdue;
            *o.by_severity.entry(severity(r.severity)).or_default() += r.findings;
        }
        let monday = r.day - (r.day / DAY + 3).rem_euclid(7) * DAY;
        let week = weekly.entry(monday).or_insert_with(|| Week { week: date(monday), new: 0, reopened: 0, fixed: 0 });
        let t = totals.entry(r.severity).or_default();
        match r.status.as_str() {
            "new" => week.new += r.entered,
            "reopened" => week.reopened += r.entered,
            "fixed" => {
                week.fixed += r.entered;
                t[0] += r.entered;
                t[1] += r.seconds;
                t[2] += r.on_time;
                t[3] += r.late;
            }
            _ => {}
        }
        if is_open && r.day == last {
            t[4] += r.with_due - r.overdue;
            t[5] += r.overdue;
        }
    }
    let all = totals.values().fold([0i64; 6], |mut acc, t| {
        acc.iter_mut().zip(t).for_each(|(a, b)| *a += b);
        acc
    });
    let share = |part: i64, whole: i64| (whole > 0).then(|| part as f64 / whole as f64);
    let mut remediation = Vec::new();
    let mut sla = Vec::new();
    let named = totals.iter().rev().map(|(rank, t)| (severity(*rank), *t));
    for (name, t) in named.chain(std::iter::once(("all".to_string(), all))) {
        remediation.push(Remediation {
            severity: name.clone(),
            fixed: t[0],
            mean_days: share(t[1], t[0]).map(|s| s / DAY as f64),
        });
        sla.push(Compliance {
            severity: name,
            fixed_on_time: t[2],
            fixed_late: t[3],
            fixed_on_time_share: share(t[2], t[2] + t[3]),
            open_within: t[4],
            open_overdue: t[5],
            open_within_share: share(t[4], t[4] + t[5]),
        });
    }
    Ok(Trends {
        query: request.query.clone(),
        from: date(request.from),
        to: date(last),
        source: source.to_string(),
        open: open.into_values().collect(),
        weekly: weekly.into_values().collect(),
        remediation,
        sla,
    })
}

/// What one snapshot run wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SnapshotRun {
    /// The first day written, `YYYY-MM-DD` (absent when nothing was due).
    pub from: Option<String>,
    /// Days written.
    pub days: i64,
    /// Rows written.
    pub rows: usize,
}

/// Records the daily snapshots due: every day since the last one up to
/// yesterday (today is not over), or, when there are none yet or
/// `rebuild` is set, every day since the first status event (a backfill).
/// Commits with `lease`'s completion when given, so a job's rows land once.
pub async fn record(platform: &Platform, rebuild: bool, lease: Option<&Lease>) -> Result<SnapshotRun> {
    let today = day_start(platform.now());
    let mut conn = platform.store.read().await?;
    let from = match (rebuild, store::last_snapshot_day(&mut conn).await?) {
        (false, Some(last)) => Some(last + DAY),
        _ => store::first_event_day(&mut conn).await?,
    };
    let from = from.filter(|from| *from < today);
    let rows = match from {
        Some(from) => accumulate(&store::changes(&mut conn, Selection::ByTag, from, today).await?, from, today),
        None => Vec::new(),
    };
    drop(conn);
    let mut tx = platform.store.write().await?;
    if rebuild {
        store::clear_snapshots(&mut tx).await?;
    }
    if let Some(from) = from {
        store::put_snapshots(&mut tx, from, &rows).await?;
    }
    if let Some(lease) = lease {
        lease.complete(&mut tx, platform.now()).await?;
    }
    tx.commit().await?;
    let run = SnapshotRun { from: from.map(date), days: from.map_or(0, |f| (today - f) / DAY), rows: rows.len() };
    tracing::info!(from = ?run.from, days = run.days, rows = run.rows, rebuild, "trend snapshots recorded");
    Ok(run)
}

/// The `trends.snapshot` job: `{"rebuild": true}` rebuilds from history.
pub async fn snapshot_job(platform: &Platform, lease: &Lease) -> Result<()> {
    let rebuild = lease.job.payload["rebuild"].as_bool().unwrap_or(false);
    record(platform, rebuild, Some(lease)).await?;
    Ok(())
}

/// Queues a rebuild of every snapshot from the status history
/// (administrators), for instance after changing the SLA policy.
pub async fn request_rebuild(platform: &Platform, actor: &Actor) -> Result<Job> {
    actor.require(Permission::Administer)?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let id = crate::jobs::enqueue(
        &mut tx,
        "trends.snapshot",
        serde_json::json!({"rebuild": true}),
        Some("trends.rebuild".into()),
        None,
        now,
    )
    .await?;
    actor.audit(&mut tx, now, "trends.rebuild", ("job", Some(id.to_string())), None, (None, None)).await?;
    tx.commit().await?;
    let mut conn = platform.store.read().await?;
    Ok(vigil_store::jobs::job(&mut conn, id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_answer_tags_and_severities_only() {
        let terms = |q: &str| snapshot_terms(&vigil_query::parse(q).unwrap());
        assert_eq!(terms(""), Some((String::new(), vec![0, 1, 2, 3, 4, 5])));
        assert_eq!(terms("tag:prod"), Some(("prod".into(), vec![0, 1, 2, 3, 4, 5])));
        assert_eq!(terms("severity>=high and tag:prod"), Some(("prod".into(), vec![4, 5])));
        assert_eq!(terms("severity in (low, critical) and severity!=low"), Some((String::new(), vec![5])));
        assert_eq!(terms("tag:prod and tag:pci"), None);
        assert_eq!(terms("tag:pro*"), None);
        assert_eq!(terms("tag:prod or severity:high"), None);
        assert_eq!(terms("kev:true"), None);
        assert_eq!(terms("not tag:prod"), None);
    }

    #[test]
    fn changes_add_up_to_each_days_state() {
        let change = |day: i64, status: &str, findings: i64, entered: i64| DayRow {
            day: day * DAY,
            status: status.into(),
            severity: 5,
            findings,
            with_due: findings,
            entered,
            ..DayRow::default()
        };
        // Two findings before the window, one more on day 11, one fixed on day 12.
        let changes =
            [change(9, "new", 2, 0), change(11, "new", 1, 1), change(12, "new", -1, 0), change(12, "fixed", 1, 1)];
        let rows = accumulate(&changes, 10 * DAY, 14 * DAY);
        let state: Vec<(i64, &str, i64, i64)> =
            rows.iter().map(|r| (r.day / DAY, r.status.as_str(), r.findings, r.entered)).collect();
        assert_eq!(
            state,
            [
                (10, "new", 2, 0),
                (11, "new", 3, 1),
                (12, "fixed", 1, 1),
                (12, "new", 2, 0),
                (13, "fixed", 1, 0),
                (13, "new", 2, 0)
            ]
        );
    }

    #[test]
    fn windows_are_whole_utc_days() {
        let now = 20_000 * DAY + 3600;
        let r = Request::new("", None, None, None, now).unwrap();
        assert_eq!((r.from, r.until), (19_971 * DAY, 20_001 * DAY));
        let r = Request::new("", Some("2024-01-01"), Some("2024-01-07"), None, now).unwrap();
        assert_eq!((r.until - r.from) / DAY, 7);
        assert!(Request::new("", Some("2024-01-08"), Some("2024-01-07"), None, now).is_err());
        assert!(Request::new("", None, None, Some(0), now).is_err());
        assert!(Request::new("", Some("2024-01-01"), None, Some(3), now).is_err());
        assert!(Request::new("", Some("yesterday"), None, None, now).is_err());
    }
}

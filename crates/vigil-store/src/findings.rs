//! Findings, their status history and triage. The platform decides what a
//! scan changes; these functions write the changes (in batches, inside the
//! caller's transaction) and read findings back for the API.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vigil_query::{Expr, Param, SortKey};

use crate::catalogs::FINDINGS;
use crate::model::{Finding, FindingEvent, FindingPackage, SEVERITIES, Triage, TriageRule, sla_state};
use crate::sql::{Page, Paged, Search, execute, fetch_all, flag, id_list, opt_text, scope_condition, words};
use crate::{Error, Result, Scope};

/// Rows per multi-row statement.
const BATCH: usize = 200;

/// A finding as one scan (or re-match) observed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Stable identity within the asset (advisory key, package, location).
    pub identity: String,
    /// `package`, `web`, `config` or `secret`.
    pub source: String,
    /// The id the finding is filed under.
    pub vuln_key: String,
    /// Every id and alias.
    pub vuln_ids: Vec<String>,
    /// Summary.
    pub title: Option<String>,
    /// `(name, version, ecosystem, purl)` for package findings.
    pub package: Option<(String, String, String, String)>,
    /// Where.
    pub location: String,
    /// Image layer.
    pub layer: Option<String>,
    /// Severity rank (index into [`SEVERITIES`]).
    pub severity: i64,
    /// Where the severity came from.
    pub severity_source: Option<String>,
    /// CVSS base score.
    pub cvss: Option<f64>,
    /// CVSS vector.
    pub cvss_vector: Option<String>,
    /// EPSS probability.
    pub epss: Option<f64>,
    /// In CISA KEV.
    pub kev: bool,
    /// When CISA added it.
    pub kev_added: Option<String>,
    /// `available`, `none` or `wontfix`.
    pub fix: String,
    /// Fixed versions.
    pub fixed_versions: Vec<String>,
    /// Risk.
    pub risk: f64,
    /// Matching details (JSON).
    pub details: Option<String>,
    /// A digest of everything above but the identity, to skip unchanged rows.
    pub observed_hash: String,
}

/// What the store holds of a finding, for reconciling a new observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// Id.
    pub id: i64,
    /// Identity.
    pub identity: String,
    /// Ids and aliases.
    pub vuln_ids: Vec<String>,
    /// Package name.
    pub package_name: Option<String>,
    /// Ecosystem.
    pub ecosystem: Option<String>,
    /// Location.
    pub location: String,
    /// Detection status.
    pub status: String,
    /// Digest of the stored observation.
    pub observed_hash: String,
}

/// The findings of one asset from one source, for reconciling.
pub async fn current(conn: &mut AnyConnection, asset: i64, source: &str) -> Result<Vec<Current>> {
    let rows = sqlx::query(
        "SELECT id, identity, vuln_ids, package_name, ecosystem, location, status, observed_hash FROM findings \
         WHERE asset_id = $1 AND source = $2 ORDER BY id",
    )
    .bind(asset)
    .bind(source)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Current {
                id: r.try_get("id")?,
                identity: r.try_get("identity")?,
                vuln_ids: words(&r.try_get::<String, _>("vuln_ids")?),
                package_name: opt_text(r, "package_name")?,
                ecosystem: opt_text(r, "ecosystem")?,
                location: r.try_get("location")?,
                status: r.try_get("status")?,
                observed_hash: r.try_get("observed_hash")?,
            })
        })
        .collect()
}

/// The context of a batch of changes: when, why, by which scan, against
/// which advisory-database version.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// When.
    pub at: i64,
    /// `scan` or `advisory update`.
    pub reason: &'a str,
    /// The scan.
    pub scan: Option<i64>,
    /// The advisory database version.
    pub vulndb_version: Option<&'a str>,
}

fn observed_params(o: &Observed) -> [Param; 20] {
    let (name, version, ecosystem, purl) = match &o.package {
        Some((n, v, e, p)) => (Some(n.clone()), Some(v.clone()), Some(e.clone()), Some(p.clone())),
        None => (None, None, None, None),
    };
    let text = |s: Option<String>| s.map_or(Param::Text(String::new()), Param::Text);
    [
        Param::Text(o.vuln_key.clone()),
        Param::Text(o.vuln_ids.join(" ")),
        text(o.title.clone()),
        text(name),
        text(version),
        text(ecosystem),
        text(purl),
        Param::Text(o.location.clone()),
        text(o.layer.clone()),
        Param::Int(o.severity),
        text(o.severity_source.clone()),
        Param::Float(o.cvss.unwrap_or(-1.0)),
        text(o.cvss_vector.clone()),
        Param::Float(o.epss.unwrap_or(-1.0)),
        Param::Bool(o.kev),
        text(o.kev_added.clone()),
        Param::Text(o.fix.clone()),
        Param::Text(o.fixed_versions.join(" ")),
        Param::Float(o.risk),
        text(o.details.clone()),
    ]
}

/// Empty strings and negative scores stand for "none" in bound values;
/// these expressions turn them back into NULL.
const OBSERVED_VALUES: [&str; 20] = [
    "{}",
    "{}",
    "NULLIF({}, '')",
    "NULLIF({}, '')",
    "NULLIF({}, '')",
    "NULLIF({}, '')",
    "NULLIF({}, '')",
    "{}",
    "NULLIF({}, '')",
    "{}",
    "NULLIF({}, '')",
    "NULLIF({}, -1.0)",
    "NULLIF({}, '')",
    "NULLIF({}, -1.0)",
    "{}",
    "NULLIF({}, '')",
    "{}",
    "{}",
    "{}",
    "NULLIF({}, '')",
];
const OBSERVED_COLUMNS: [&str; 20] = [
    "vuln_key",
    "vuln_ids",
    "title",
    "package_name",
    "package_version",
    "ecosystem",
    "purl",
    "location",
    "layer",
    "severity",
    "severity_source",
    "cvss",
    "cvss_vector",
    "epss",
    "kev",
    "kev_added",
    "fix_status",
    "fixed_versions",
    "risk",
    "details",
];

/// Inserts newly detected findings as `status` (`new`), with their first
/// event. Returns each one's id by identity.
pub async fn insert(
    conn: &mut AnyConnection,
    asset: i64,
    team: i64,
    observed: &[&Observed],
    status: &str,
    change: Change<'_>,
) -> Result<HashMap<String, i64>> {
    let mut ids = HashMap::new();
    for chunk in observed.chunks(BATCH) {
        let mut params: Vec<Param> = Vec::new();
        let mut rows = Vec::new();
        for o in chunk {
            let mut values = Vec::new();
            for (template, p) in OBSERVED_VALUES.iter().zip(observed_params(o)) {
                params.push(p);
                values.push(template.replace("{}", &format!("${}", params.len())));
            }
            for p in [
                Param::Int(asset),
                Param::Int(team),
                Param::Text(o.identity.clone()),
                Param::Text(o.source.clone()),
                Param::Text(status.to_string()),
                Param::Int(change.scan.unwrap_or(0)),
                Param::Text(change.vulndb_version.unwrap_or_default().to_string()),
                Param::Text(o.observed_hash.clone()),
                Param::Int(change.at),
            ] {
                params.push(p);
                values.push(format!("${}", params.len()));
            }
            // The scan and version may be absent; first_seen, last_seen and
            // status_changed_at are all the change's time.
            let at = values.pop().unwrap_or_default();
            let n = values.len();
            values[n - 3] = format!("NULLIF({}, 0)", values[n - 3]);
            values[n - 2] = format!("NULLIF({}, '')", values[n - 2]);
            rows.push(format!("({}, {at}, {at}, {at}, 'open')", values.join(", ")));
        }
        let sql = format!(
            "INSERT INTO findings ({}, asset_id, team_id, identity, source, status, status_scan_id, vulndb_version, \
             observed_hash, first_seen, last_seen, status_changed_at, triage) VALUES {} RETURNING id, identity",
            OBSERVED_COLUMNS.join(", "),
            rows.join(", ")
        );
        let inserted = fetch_all(conn, sql, &params).await?;
        for row in &inserted {
            ids.insert(row.try_get::<String, _>("identity")?, row.try_get::<i64, _>("id")?);
        }
    }
    let events: Vec<(i64, Option<&str>, &str)> =
        observed.iter().filter_map(|o| ids.get(&o.identity).map(|id| (*id, None, status))).collect();
    add_events(conn, asset, &events, change).await?;
    Ok(ids)
}

/// Records status changes.
async fn add_events(
    conn: &mut AnyConnection,
    asset: i64,
    events: &[(i64, Option<&str>, &str)],
    change: Change<'_>,
) -> Result<()> {
    for chunk in events.chunks(BATCH) {
        let mut params = Vec::new();
        let mut rows = Vec::new();
        for (id, from, to) in chunk {
            let start = params.len();
            params.extend([
                Param::Int(*id),
                Param::Int(asset),
                Param::Int(change.at),
                Param::Text(from.unwrap_or_default().to_string()),
                Param::Text(to.to_string()),
                Param::Text(change.reason.to_string()),
                Param::Int(change.scan.unwrap_or(0)),
                Param::Text(change.vulndb_version.unwrap_or_default().to_string()),
            ]);
            rows.push(format!(
                "(${}, ${}, ${}, NULLIF(${}, ''), ${}, ${}, NULLIF(${}, 0), NULLIF(${}, ''))",
                start + 1,
                start + 2,
                start + 3,
                start + 4,
                start + 5,
                start + 6,
                start + 7,
                start + 8
            ));
        }
        execute(
            conn,
            format!(
                "INSERT INTO finding_events (finding_id, asset_id, at, from_status, to_status, reason, scan_id, \
                 vulndb_version) VALUES {}",
                rows.join(", ")
            ),
            &params,
        )
        .await?;
    }
    Ok(())
}

/// Moves findings to status `to` (each from the status given), recording
/// an event for each. Moving to `fixed` sets `fixed_at`; away from it clears it.
pub async fn set_status(
    conn: &mut AnyConnection,
    asset: i64,
    moves: &[(i64, &str)],
    to: &str,
    change: Change<'_>,
) -> Result<()> {
    for chunk in moves.chunks(BATCH) {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        let mut params = vec![
            Param::Text(to.to_string()),
            Param::Int(change.at),
            Param::Int(change.scan.unwrap_or(0)),
            Param::Bool(to == "fixed"),
        ];
        let list = id_list(&ids, &mut params);
        execute(
            conn,
            format!(
                "UPDATE findings SET status = $1, status_changed_at = $2, status_scan_id = NULLIF($3, 0), \
                 fixed_at = CASE WHEN $4 = 1 THEN $2 ELSE NULL END WHERE id IN ({list})"
            ),
            &params,
        )
        .await?;
        let events: Vec<(i64, Option<&str>, &str)> = chunk.iter().map(|(id, from)| (*id, Some(*from), to)).collect();
        add_events(conn, asset, &events, change).await?;
    }
    Ok(())
}

/// How many findings of an asset are not fixed.
pub async fn count_open(conn: &mut AnyConnection, asset: i64) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM findings WHERE asset_id = $1 AND status <> 'fixed'")
        .bind(asset)
        .fetch_one(conn)
        .await?)
}

/// Records that a scan saw these findings again.
pub async fn touch(conn: &mut AnyConnection, ids: &[i64], at: i64) -> Result<()> {
    for chunk in ids.chunks(BATCH * 4) {
        let mut params = vec![Param::Int(at)];
        let list = id_list(chunk, &mut params);
        execute(conn, format!("UPDATE findings SET last_seen = $1 WHERE id IN ({list})"), &params).await?;
    }
    Ok(())
}

/// Rewrites a finding's observed data (severity, EPSS, KEV, version, fixes,
/// identity after an alias change, ...).
pub async fn refresh(conn: &mut AnyConnection, id: i64, o: &Observed, vulndb_version: Option<&str>) -> Result<()> {
    let mut params: Vec<Param> = vec![Param::Int(id)];
    let mut sets = Vec::new();
    for ((column, template), p) in OBSERVED_COLUMNS.iter().zip(OBSERVED_VALUES).zip(observed_params(o)) {
        params.push(p);
        sets.push(format!("{column} = {}", template.replace("{}", &format!("${}", params.len()))));
    }
    for (column, p) in [
        ("identity", Param::Text(o.identity.clone())),
        ("observed_hash", Param::Text(o.observed_hash.clone())),
        ("vulndb_version", Param::Text(vulndb_version.unwrap_or_default().to_string())),
    ] {
        params.push(p);
        sets.push(format!("{column} = ${}", params.len()));
    }
    execute(conn, format!("UPDATE findings SET {} WHERE id = $1", sets.join(", ")), &params).await?;
    Ok(())
}

/// Records that each id and alias in `ids` names `key`.
pub async fn add_aliases(conn: &mut AnyConnection, pairs: &[(String, String)]) -> Result<()> {
    for chunk in pairs.chunks(BATCH * 2) {
        let mut params = Vec::new();
        let mut rows = Vec::new();
        for (id, key) in chunk {
            params.push(Param::Text(id.clone()));
            params.push(Param::Text(key.clone()));
            rows.push(format!("(${}, ${})", params.len() - 1, params.len()));
        }
        execute(
            conn,
            format!("INSERT INTO vuln_aliases (id, vuln_key) VALUES {} ON CONFLICT DO NOTHING", rows.join(", ")),
            &params,
        )
        .await?;
    }
    Ok(())
}

/// Findings are read joined with their asset, which the query language's
/// `asset.*`, `tag` and `label.*` fields need.
const SELECT: &str = "SELECT f.*, a.name AS asset_name FROM findings f JOIN assets a ON a.id = f.asset_id";

/// A finding row; `now` decides whether an open finding's SLA is breached.
fn finding_row(row: &AnyRow, now: i64) -> Result<Finding> {
    let severity: i64 = row.try_get("severity")?;
    let status: String = row.try_get("status")?;
    let fixed_at: Option<i64> = row.try_get("fixed_at")?;
    let due_at: Option<i64> = row.try_get("sla_due_at")?;
    let package = match opt_text(row, "package_name")? {
        Some(name) => Some(FindingPackage {
            name,
            version: opt_text(row, "package_version")?.unwrap_or_default(),
            ecosystem: opt_text(row, "ecosystem")?.unwrap_or_default(),
            purl: opt_text(row, "purl")?,
        }),
        None => None,
    };
    let details = opt_text(row, "details")?.and_then(|d| serde_json::from_str(&d).ok());
    Ok(Finding {
        id: row.try_get("id")?,
        asset_id: row.try_get("asset_id")?,
        asset_name: row.try_get("asset_name")?,
        team_id: row.try_get("team_id")?,
        source: row.try_get("source")?,
        advisory: row.try_get("vuln_key")?,
        ids: words(&row.try_get::<String, _>("vuln_ids")?),
        title: opt_text(row, "title")?,
        package,
        location: row.try_get("location")?,
        layer: opt_text(row, "layer")?,
        severity: SEVERITIES.get(severity as usize).copied().unwrap_or("unknown").to_string(),
        severity_source: opt_text(row, "severity_source")?,
        cvss: row.try_get("cvss")?,
        cvss_vector: opt_text(row, "cvss_vector")?,
        epss: row.try_get("epss")?,
        kev: flag(row, "kev")?,
        kev_added: opt_text(row, "kev_added")?,
        fix: row.try_get("fix_status")?,
        fixed_versions: words(&row.try_get::<String, _>("fixed_versions")?),
        risk: row.try_get("risk")?,
        sla: sla_state(&status, fixed_at, due_at, now).to_string(),
        status,
        first_seen: row.try_get("first_seen")?,
        last_seen: row.try_get("last_seen")?,
        fixed_at,
        status_changed_at: row.try_get("status_changed_at")?,
        status_scan_id: row.try_get("status_scan_id")?,
        due_at,
        triage: Triage {
            state: row.try_get("triage")?,
            justification: opt_text(row, "triage_justification")?,
            until: row.try_get("triage_until")?,
            comment: opt_text(row, "triage_comment")?,
            by: opt_text(row, "triage_by")?,
            at: row.try_get("triage_at")?,
            rule_id: row.try_get("triage_rule_id")?,
        },
        vulndb_version: opt_text(row, "vulndb_version")?,
        details,
    })
}

fn search<'a>(
    filter: &'a Expr,
    scope: &'a Scope,
    sort: &'a [SortKey],
    extra: Option<(String, Vec<Param>)>,
    now: i64,
) -> Search<'a> {
    Search { select: SELECT, id: "f.id", team: Some("f.team_id"), catalog: &FINDINGS, filter, scope, sort, extra, now }
}

/// One finding, when the scope shows it (its SLA state as of `now`).
pub async fn get(conn: &mut AnyConnection, id: i64, scope: &Scope, now: i64) -> Result<Finding> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE f.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("finding {id}")))?;
    let finding = finding_row(&row, now)?;
    if !scope.allows(finding.team_id) {
        return Err(Error::NotFound(format!("finding {id}")));
    }
    Ok(finding)
}

/// A page of the findings matching `filter` (optionally of one asset).
pub async fn list(
    conn: &mut AnyConnection,
    filter: &Expr,
    scope: &Scope,
    asset: Option<i64>,
    sort: &[SortKey],
    page: &Page,
    now: i64,
) -> Result<Paged<Finding>> {
    let extra = asset.map(|a| ("f.asset_id = $1".to_string(), vec![Param::Int(a)]));
    let (rows, next) = search(filter, scope, sort, extra, now).page(conn, page).await?;
    Ok(Paged { items: rows.iter().map(|r| finding_row(r, now)).collect::<Result<_>>()?, next })
}

/// Open findings by when their SLA ran out, earliest first.
const BY_DUE: [SortKey; 1] = [SortKey { field: "due", expr: "f.sla_due_at", descending: false }];

/// A page of the findings matching `filter` that are open and whose SLA due
/// date fell within `(from, to]` (they became breached in that window),
/// earliest due first. Served by the index on `sla_due_at`.
pub async fn breached_between(
    conn: &mut AnyConnection,
    filter: &Expr,
    scope: &Scope,
    (from, to): (i64, i64),
    page: &Page,
    now: i64,
) -> Result<Paged<Finding>> {
    let extra = Some((
        "f.sla_due_at > $1 AND f.sla_due_at <= $2 AND f.status <> 'fixed'".to_string(),
        vec![Param::Int(from), Param::Int(to)],
    ));
    let (rows, next) = search(filter, scope, &BY_DUE, extra, now).page(conn, page).await?;
    Ok(Paged { items: rows.iter().map(|r| finding_row(r, now)).collect::<Result<_>>()?, next })
}

/// How many findings match.
pub async fn count(conn: &mut AnyConnection, filter: &Expr, scope: &Scope, now: i64) -> Result<i64> {
    search(filter, scope, &[], None, now).count(conn).await
}

/// What findings can be grouped by: the name and its SQL.
pub const GROUPS: &[(&str, &str)] = &[
    ("severity", "f.severity"),
    ("status", "f.status"),
    ("triage", "f.triage"),
    ("fix", "f.fix_status"),
    ("source", "f.source"),
    ("kev", "f.kev"),
    ("advisory", "f.vuln_key"),
    ("package", "f.package_name"),
    ("ecosystem", "f.ecosystem"),
    ("asset", "a.name"),
    ("asset.kind", "a.kind"),
    ("asset.os", "a.os"),
];

/// Counts of the matching findings per value of `by` (one of [`GROUPS`]).
pub async fn group(
    conn: &mut AnyConnection,
    filter: &Expr,
    scope: &Scope,
    by: &str,
    limit: usize,
    now: i64,
) -> Result<Vec<(String, i64)>> {
    let expr = GROUPS.iter().find(|(name, _)| *name == by).map(|(_, e)| *e).ok_or_else(|| {
        Error::Invalid(format!(
            "cannot group findings by `{by}`; use one of {}",
            GROUPS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let mut groups = search(filter, scope, &[], None, now).group(conn, expr, limit).await?;
    if by == "severity" {
        for (value, _) in &mut groups {
            *value =
                value.parse::<usize>().ok().and_then(|i| SEVERITIES.get(i)).copied().unwrap_or("unknown").to_string();
        }
    }
    if by == "kev" {
        for (value, _) in &mut groups {
            *value = (matches!(value.as_str(), "1" | "true" | "t")).to_string();
        }
    }
    Ok(groups)
}

/// The ids and teams of the findings matching `filter`, among `only` when given.
pub async fn matching(
    conn: &mut AnyConnection,
    filter: &Expr,
    scope: &Scope,
    only: Option<&[i64]>,
    now: i64,
) -> Result<Vec<(i64, i64)>> {
    let mut params = Vec::new();
    let mut team = scope_condition(scope, "f.team_id", &mut params);
    if let Some(ids) = only {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        team = format!("{team} AND f.id IN ({})", id_list(ids, &mut params));
    }
    let compiled = vigil_query::compile(filter, &FINDINGS, params.len() + 1, now)?;
    params.extend(compiled.params);
    let rows = fetch_all(
        conn,
        format!(
            "SELECT f.id, f.team_id FROM findings f JOIN assets a ON a.id = f.asset_id WHERE {team} AND {} ORDER BY f.id",
            compiled.condition
        ),
        &params,
    )
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("team_id")?))).collect()
}

/// The keys findings are filed under for an advisory id or alias.
pub async fn keys_for(conn: &mut AnyConnection, advisory: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT vuln_key FROM vuln_aliases WHERE id = $1 OR vuln_key = $1 ORDER BY vuln_key",
    )
    .bind(advisory)
    .fetch_all(conn)
    .await?)
}

/// Every id and alias filed under `key`.
pub async fn aliases_of(conn: &mut AnyConnection, key: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM vuln_aliases WHERE vuln_key = $1 ORDER BY id")
        .bind(key)
        .fetch_all(conn)
        .await?)
}

/// A finding's status history, oldest first.
pub async fn events(conn: &mut AnyConnection, finding: i64) -> Result<Vec<FindingEvent>> {
    let rows = sqlx::query(
        "SELECT id, finding_id, at, from_status, to_status, reason, scan_id, vulndb_version FROM finding_events \
         WHERE finding_id = $1 ORDER BY id",
    )
    .bind(finding)
    .fetch_all(conn)
    .await?;
    rows.iter().map(event_row).collect()
}

fn event_row(r: &AnyRow) -> Result<FindingEvent> {
    Ok(FindingEvent {
        id: r.try_get("id")?,
        finding_id: r.try_get("finding_id")?,
        at: r.try_get("at")?,
        from: opt_text(r, "from_status")?,
        to: r.try_get("to_status")?,
        reason: r.try_get("reason")?,
        scan_id: r.try_get("scan_id")?,
        vulndb_version: opt_text(r, "vulndb_version")?,
    })
}

/// The findings filed under `keys` within `scope`, each with its history,
/// for exposure windows.
pub async fn history_for(
    conn: &mut AnyConnection,
    keys: &[String],
    scope: &Scope,
    now: i64,
) -> Result<Vec<(Finding, Vec<FindingEvent>)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut params: Vec<Param> = keys.iter().map(|k| Param::Text(k.clone())).collect();
    let list: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
    let team = scope_condition(scope, "f.team_id", &mut params);
    let rows = fetch_all(
        conn,
        format!("{SELECT} WHERE f.vuln_key IN ({}) AND {team} ORDER BY f.asset_id, f.id", list.join(", ")),
        &params,
    )
    .await?;
    let findings: Vec<Finding> = rows.iter().map(|r| finding_row(r, now)).collect::<Result<_>>()?;
    let ids: Vec<i64> = findings.iter().map(|f| f.id).collect();
    let mut by_finding: HashMap<i64, Vec<FindingEvent>> = HashMap::new();
    for chunk in ids.chunks(BATCH * 4) {
        let mut params = Vec::new();
        let list = id_list(chunk, &mut params);
        let rows = fetch_all(
            conn,
            format!(
                "SELECT id, finding_id, at, from_status, to_status, reason, scan_id, vulndb_version FROM finding_events \
                 WHERE finding_id IN ({list}) ORDER BY id"
            ),
            &params,
        )
        .await?;
        for row in &rows {
            let event = event_row(row)?;
            by_finding.entry(event.finding_id).or_default().push(event);
        }
    }
    Ok(findings
        .into_iter()
        .map(|f| {
            let events = by_finding.remove(&f.id).unwrap_or_default();
            (f, events)
        })
        .collect())
}

/// A triage decision to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// `open`, `false_positive`, `not_affected` or `risk_accepted`.
    pub state: String,
    /// VEX justification (`not_affected`).
    pub justification: Option<String>,
    /// Until (`risk_accepted`).
    pub until: Option<i64>,
    /// Why.
    pub comment: String,
    /// Who.
    pub by: String,
    /// When.
    pub at: i64,
}

/// Applies a triage decision to findings.
pub async fn set_triage(conn: &mut AnyConnection, ids: &[i64], d: &Decision, rule: Option<i64>) -> Result<()> {
    for chunk in ids.chunks(BATCH * 4) {
        let mut params = vec![
            Param::Text(d.state.clone()),
            Param::Text(d.justification.clone().unwrap_or_default()),
            Param::Int(d.until.unwrap_or(0)),
            Param::Text(d.comment.clone()),
            Param::Text(d.by.clone()),
            Param::Int(d.at),
            Param::Int(rule.unwrap_or(0)),
        ];
        let list = id_list(chunk, &mut params);
        execute(
            conn,
            format!(
                "UPDATE findings SET triage = $1, triage_justification = NULLIF($2, ''), triage_until = NULLIF($3, 0), \
                 triage_comment = $4, triage_by = $5, triage_at = $6, triage_rule_id = NULLIF($7, 0) WHERE id IN ({list})"
            ),
            &params,
        )
        .await?;
    }
    Ok(())
}

/// Findings whose accepted risk has expired: set open again. Returns their
/// ids and teams.
pub async fn expire_acceptances(conn: &mut AnyConnection, now: i64) -> Result<Vec<(i64, i64)>> {
    let rows = sqlx::query(
        "UPDATE findings SET triage = 'open', triage_justification = NULL, triage_until = NULL, \
         triage_comment = 'risk acceptance expired', triage_by = 'system', triage_at = $1, triage_rule_id = NULL \
         WHERE triage = 'risk_accepted' AND triage_until IS NOT NULL AND triage_until <= $1 RETURNING id, team_id",
    )
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("team_id")?))).collect()
}

fn rule_row(r: &AnyRow) -> Result<TriageRule> {
    Ok(TriageRule {
        id: r.try_get("id")?,
        scope: r.try_get("scope")?,
        advisory: opt_text(r, "vuln_key")?,
        query: opt_text(r, "query")?,
        team_id: r.try_get("team_id")?,
        state: r.try_get("state")?,
        justification: opt_text(r, "justification")?,
        until: r.try_get("until")?,
        comment: r.try_get("comment")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
        active: flag(r, "active")?,
    })
}

const RULE_COLUMNS: &str =
    "id, scope, vuln_key, query, team_id, state, justification, until, comment, decided_by, decided_at, active";

/// Stores a triage rule.
pub async fn create_rule(
    conn: &mut AnyConnection,
    scope: &str,
    key_or_query: &str,
    team: Option<i64>,
    d: &Decision,
) -> Result<TriageRule> {
    let (key, query) = if scope == "advisory" { (Some(key_or_query), None) } else { (None, Some(key_or_query)) };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO triage_rules (scope, vuln_key, query, team_id, state, justification, until, comment, decided_by, \
         decided_at, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1) RETURNING {RULE_COLUMNS}"
    )))
    .bind(scope)
    .bind(key)
    .bind(query)
    .bind(team)
    .bind(&d.state)
    .bind(d.justification.as_deref())
    .bind(d.until)
    .bind(&d.comment)
    .bind(&d.by)
    .bind(d.at)
    .fetch_one(conn)
    .await?;
    rule_row(&row)
}

/// Active triage rules visible in `scope`, oldest first (later rules win).
pub async fn rules(conn: &mut AnyConnection, scope: &Scope, include_inactive: bool) -> Result<Vec<TriageRule>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RULE_COLUMNS} FROM triage_rules WHERE active = 1 OR $1 = 1 ORDER BY id"
    )))
    .bind(i64::from(include_inactive))
    .fetch_all(conn)
    .await?;
    let all: Vec<TriageRule> = rows.iter().map(rule_row).collect::<Result<_>>()?;
    Ok(all.into_iter().filter(|r| r.team_id.is_none_or(|t| scope.allows(t)) || *scope == Scope::All).collect())
}

/// One rule.
pub async fn rule(conn: &mut AnyConnection, id: i64) -> Result<TriageRule> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {RULE_COLUMNS} FROM triage_rules WHERE id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("triage rule {id}")))?;
    rule_row(&row)
}

/// Stops a rule from applying to later findings (what it decided stays).
pub async fn deactivate_rule(conn: &mut AnyConnection, id: i64) -> Result<()> {
    let done = sqlx::query("UPDATE triage_rules SET active = 0 WHERE id = $1").bind(id).execute(conn).await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("triage rule {id}")));
    }
    Ok(())
}

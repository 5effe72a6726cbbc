//! Exposure windows: for an advisory, which assets were exposed, from when
//! to when, for how long in total, and which still are, read from the
//! findings' status history (a window opens when a finding is detected or
//! reopened and closes when a scan or re-match shows it fixed).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use vigil_store::findings;
use vigil_store::model::{FindingEvent, opt_time, time};

use crate::auth::Permission;
use crate::{Actor, Platform, Result};

/// One period of exposure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Window {
    /// Opened.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub from: i64,
    /// Closed; absent while still exposed.
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub to: Option<i64>,
}

/// One asset's exposure.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AssetExposure {
    /// The asset.
    pub asset_id: i64,
    /// Its name.
    pub asset_name: String,
    /// The findings (packages) that exposed it.
    pub findings: Vec<i64>,
    /// The packages.
    pub packages: Vec<String>,
    /// When it was exposed (the findings' windows merged).
    pub windows: Vec<Window>,
    /// Seconds exposed in total, up to now.
    pub exposed_secs: i64,
    /// Whether it is exposed now.
    pub exposed_now: bool,
}

/// Exposure to one advisory.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Exposure {
    /// The advisory asked about.
    pub advisory: String,
    /// The keys its findings are filed under, and every alias known.
    pub aliases: Vec<String>,
    /// Assets ever exposed.
    pub assets: Vec<AssetExposure>,
    /// How many are exposed now.
    pub exposed_now: usize,
    /// Total asset-seconds of exposure.
    pub exposed_secs: i64,
}

/// A finding's windows from its history.
fn windows(events: &[FindingEvent]) -> Vec<(i64, Option<i64>)> {
    let mut out: Vec<(i64, Option<i64>)> = Vec::new();
    for e in events {
        match e.to.as_str() {
            "fixed" => {
                if let Some(last) = out.last_mut()
                    && last.1.is_none()
                {
                    last.1 = Some(e.at);
                }
            }
            _ => {
                if out.last().is_none_or(|last| last.1.is_some()) {
                    out.push((e.at, None));
                }
            }
        }
    }
    out
}

/// Merges overlapping windows (an open one lasts until now).
fn merge(mut spans: Vec<(i64, Option<i64>)>) -> Vec<(i64, Option<i64>)> {
    spans.sort_by_key(|s| s.0);
    let mut out: Vec<(i64, Option<i64>)> = Vec::new();
    for (from, to) in spans {
        match out.last_mut() {
            Some(last) if last.1.is_none_or(|end| from <= end) => {
                last.1 = match (last.1, to) {
                    (None, _) | (_, None) => None,
                    (Some(a), Some(b)) => Some(a.max(b)),
                };
            }
            _ => out.push((from, to)),
        }
    }
    out
}

/// Who was exposed to `advisory` (any id or alias), within the actor's teams.
pub async fn exposure(platform: &Platform, actor: &Actor, advisory: &str) -> Result<Exposure> {
    actor.require(Permission::Read)?;
    let now = platform.now();
    let mut conn = platform.store.read().await?;
    let keys = findings::keys_for(&mut conn, advisory).await?;
    let mut aliases = Vec::new();
    for key in &keys {
        aliases.extend(findings::aliases_of(&mut conn, key).await?);
    }
    aliases.sort();
    aliases.dedup();
    let history = findings::history_for(&mut conn, &keys, &actor.scope, now).await?;
    let mut by_asset: BTreeMap<i64, AssetExposure> = BTreeMap::new();
    let mut spans: BTreeMap<i64, Vec<(i64, Option<i64>)>> = BTreeMap::new();
    for (finding, events) in history {
        let entry = by_asset.entry(finding.asset_id).or_insert_with(|| AssetExposure {
            asset_id: finding.asset_id,
            asset_name: finding.asset_name.clone(),
            findings: Vec::new(),
            packages: Vec::new(),
            windows: Vec::new(),
            exposed_secs: 0,
            exposed_now: false,
        });
        entry.findings.push(finding.id);
        if let Some(p) = &finding.package {
            let label = format!("{} {}", p.name, p.version);
            if !entry.packages.contains(&label) {
                entry.packages.push(label);
            }
        }
        spans.entry(finding.asset_id).or_default().extend(windows(&events));
    }
    for (asset, spans) in spans {
        let merged = merge(spans);
        if let Some(entry) = by_asset.get_mut(&asset) {
            entry.exposed_secs = merged.iter().map(|(from, to)| to.unwrap_or(now) - from).sum();
            entry.exposed_now = merged.iter().any(|(_, to)| to.is_none());
            entry.windows = merged.into_iter().map(|(from, to)| Window { from, to }).collect();
        }
    }
    let assets: Vec<AssetExposure> = by_asset.into_values().collect();
    Ok(Exposure {
        advisory: advisory.to_string(),
        aliases,
        exposed_now: assets.iter().filter(|a| a.exposed_now).count(),
        exposed_secs: assets.iter().map(|a| a.exposed_secs).sum(),
        assets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: i64, to: &str) -> FindingEvent {
        FindingEvent {
            id: at,
            finding_id: 1,
            at,
            from: None,
            to: to.into(),
            reason: "scan".into(),
            scan_id: None,
            vulndb_version: None,
        }
    }

    #[test]
    fn windows_open_on_detection_and_close_on_fix() {
        let events =
            [event(10, "new"), event(20, "active"), event(30, "fixed"), event(50, "reopened"), event(60, "active")];
        assert_eq!(windows(&events), vec![(10, Some(30)), (50, None)]);
    }

    #[test]
    fn windows_of_several_findings_merge() {
        assert_eq!(merge(vec![(10, Some(30)), (20, Some(40)), (50, Some(60))]), vec![(10, Some(40)), (50, Some(60))]);
        assert_eq!(merge(vec![(10, None), (20, Some(40))]), vec![(10, None)]);
        assert_eq!(merge(vec![(10, Some(20)), (20, None)]), vec![(10, None)]);
    }
}

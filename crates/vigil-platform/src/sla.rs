//! Service-level agreements: how many days a finding may stay open, by
//! severity, with per-tag overrides.
//!
//! The defaults are DefectDojo's: critical 7 days, high 30, medium 90,
//! low 180; `none` (negligible) and `unknown` have no SLA, as DefectDojo's
//! informational findings have none (an unrated finding gets a due date
//! when a re-match rates it). An administrator may give every severity
//! days, and override them per tag (`prod`: critical 3); when several tags
//! of an asset override a severity, the strictest (fewest days) wins, and
//! an override applies whether it is stricter than the default or not.
//!
//! The clock starts when a finding is first seen and is not reset when it
//! reopens (as in DefectDojo, a regression of a known vulnerability is
//! already late). A finding is **breached** from its due moment on while
//! it is open (NEW, ACTIVE or REOPENED), whatever its triage: searches
//! combine `sla:breached` with `triage:open` where a decision should
//! count. A fix at or before the due moment **met** the SLA; after it,
//! **missed** it.
//!
//! Each finding's due date is stored (`findings.sla_due_at`, indexed), so
//! `sla:breached`, `due<2025-01-01` and the breach list are index range
//! scans on a million findings. It is kept current: for an asset whenever
//! its findings or tags change ([`refresh_asset`], called where dynamic
//! tags are re-evaluated), and for every finding when the policy changes
//! or a tag it names is renamed, deleted or re-ruled ([`refresh_all`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigil_store::model::{Finding, SEVERITIES};
use vigil_store::sla::{self as store, Assets, PolicyRow};
use vigil_store::{Page, Paged, Scope, Tx, findings};

use crate::auth::Permission;
use crate::{Actor, Error, Platform, Result, json};

/// The defaults: `(severity, days)`.
pub const DEFAULT_DAYS: &[(&str, i64)] = &[("critical", 7), ("high", 30), ("medium", 90), ("low", 180)];

/// The most days one severity may be given (ten years).
pub const MAX_DAYS: i64 = 3650;

/// The most tags a policy may override.
pub const MAX_TAGS: usize = 1000;

/// Assets per due-date update statement.
const ASSETS_PER_UPDATE: usize = 500;

/// The SLA policy: days per severity, and per-tag overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Policy {
    /// Days to remediate per severity (`critical`, `high`, `medium`, `low`,
    /// `none`, `unknown`); a severity left out has no SLA.
    #[schema(example = json!({"critical": 7, "high": 30, "medium": 90, "low": 180}))]
    pub days: BTreeMap<String, i64>,
    /// Per-tag overrides: tag -> severity -> days. Where several tags of an
    /// asset override a severity, the fewest days win.
    #[serde(default)]
    #[schema(example = json!({"prod": {"critical": 3, "high": 14}}))]
    pub tags: BTreeMap<String, BTreeMap<String, i64>>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy { days: DEFAULT_DAYS.iter().map(|(s, d)| (s.to_string(), *d)).collect(), tags: BTreeMap::new() }
    }
}

impl Policy {
    /// The policy in force.
    pub async fn load(platform: &Platform) -> Result<Policy> {
        let mut conn = platform.store.read().await?;
        Ok(Policy::from_rows(store::policy(&mut conn).await?))
    }

    /// The policy as `tx` sees it.
    async fn read(tx: &mut Tx) -> Result<Policy> {
        Ok(Policy::from_rows(store::policy(tx).await?))
    }

    fn from_rows(rows: Vec<PolicyRow>) -> Policy {
        let mut policy = Policy { days: BTreeMap::new(), tags: BTreeMap::new() };
        for row in rows {
            let Some(severity) = SEVERITIES.get(row.severity as usize) else { continue };
            let days = if row.tag.is_empty() { &mut policy.days } else { policy.tags.entry(row.tag).or_default() };
            days.insert(severity.to_string(), row.days);
        }
        policy
    }

    /// Days to remediate a finding of `severity` (a word of
    /// [`SEVERITIES`]) on an asset tagged `tags`: the fewest days among the
    /// tags that override the severity, else the default; none when the
    /// severity has no SLA.
    pub fn days(&self, severity: &str, tags: &[String]) -> Option<i64> {
        tags.iter()
            .filter_map(|t| self.tags.get(t).and_then(|o| o.get(severity)))
            .copied()
            .min()
            .or_else(|| self.days.get(severity).copied())
    }

    /// When a finding of `severity` on an asset tagged `tags`, open since
    /// `since` (Unix seconds; its first sighting), must be fixed by: Unix
    /// seconds, or none when the severity has no SLA.
    pub fn due_at(&self, severity: &str, tags: &[String], since: i64) -> Option<i64> {
        self.days(severity, tags).map(|d| since.saturating_add(d.saturating_mul(86_400)))
    }

    /// `(severity rank, days)` for every severity with an SLA on an asset tagged `tags`.
    fn days_by_rank(&self, tags: &[String]) -> Vec<(i64, i64)> {
        SEVERITIES
            .iter()
            .enumerate()
            .filter_map(|(rank, severity)| self.days(severity, tags).map(|d| (rank as i64, d)))
            .collect()
    }

    /// Checks the policy and turns it into rows.
    fn rows(&self) -> Result<Vec<PolicyRow>> {
        if self.tags.len() > MAX_TAGS {
            return Err(Error::Invalid(format!("tags: at most {MAX_TAGS} tags may be overridden")));
        }
        let mut rows = Vec::new();
        let scopes = std::iter::once(("", &self.days)).chain(self.tags.iter().map(|(t, d)| (t.as_str(), d)));
        for (tag, days) in scopes {
            let at = if tag.is_empty() { "days".to_string() } else { format!("tags.{tag}") };
            if !tag.is_empty() && (tag.trim().is_empty() || tag.len() > 200 || tag.chars().any(char::is_control)) {
                return Err(Error::Invalid(format!("{at}: a tag name has 1 to 200 printable characters")));
            }
            for (severity, days) in days {
                let rank = SEVERITIES.iter().position(|s| s == severity).ok_or_else(|| {
                    Error::Invalid(format!("{at}.{severity}: not a severity; use one of {}", SEVERITIES.join(", ")))
                })?;
                if !(1..=MAX_DAYS).contains(days) {
                    return Err(Error::Invalid(format!("{at}.{severity}: days from 1 to {MAX_DAYS}")));
                }
                rows.push(PolicyRow { tag: tag.to_string(), severity: rank as i64, days: *days });
            }
        }
        Ok(rows)
    }
}

/// The policy in force (anyone who may read findings may read it).
pub async fn get(platform: &Platform, actor: &Actor) -> Result<Policy> {
    actor.require(Permission::Read)?;
    Policy::load(platform).await
}

/// Replaces the policy (administrators), re-computes every finding's due
/// date, and records the change in the audit trail.
pub async fn set(platform: &Platform, actor: &Actor, policy: &Policy) -> Result<Policy> {
    actor.require(Permission::Administer)?;
    let rows = policy.rows()?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let before = Policy::read(&mut tx).await?;
    store::replace_policy(&mut tx, &rows).await?;
    let changed = refresh_all(&mut tx).await?;
    let after = Policy::read(&mut tx).await?;
    let mut change = json(&after);
    if let Some(serde_json::Value::Object(map)) = change.as_mut() {
        map.insert("findings_changed".into(), changed.into());
    }
    actor.audit(&mut tx, now, "sla.update", ("sla", None), None, (json(&before), change)).await?;
    tx.commit().await?;
    tracing::info!(findings = changed, "SLA policy changed; due dates re-computed");
    Ok(after)
}

/// Re-computes the due dates of one asset's findings (after its findings
/// or tags changed). Returns how many changed.
pub async fn refresh_asset(tx: &mut Tx, asset: i64) -> Result<u64> {
    let policy = Policy::read(tx).await?;
    let tags: Vec<String> = store::override_tags(tx, Some(asset)).await?.into_iter().map(|(_, t)| t).collect();
    Ok(store::set_due(tx, &policy.days_by_rank(&tags), Assets::Only(&[asset])).await?)
}

/// Re-computes every finding's due date: the assets without overridden
/// tags in one statement, the others grouped by the days their tags give.
/// Returns how many changed.
pub async fn refresh_all(tx: &mut Tx) -> Result<u64> {
    let policy = Policy::read(tx).await?;
    let mut changed = store::set_due(tx, &policy.days_by_rank(&[]), Assets::WithoutOverrides).await?;
    let mut tags_of: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (asset, tag) in store::override_tags(tx, None).await? {
        tags_of.entry(asset).or_default().push(tag);
    }
    let mut groups: BTreeMap<Vec<(i64, i64)>, Vec<i64>> = BTreeMap::new();
    for (asset, tags) in tags_of {
        groups.entry(policy.days_by_rank(&tags)).or_default().push(asset);
    }
    for (days, assets) in groups {
        for chunk in assets.chunks(ASSETS_PER_UPDATE) {
            changed += store::set_due(tx, &days, Assets::Only(chunk)).await?;
        }
    }
    Ok(changed)
}

/// Re-computes every due date when one of `names` (a tag created,
/// renamed, re-ruled or deleted) is overridden by the policy.
pub async fn tags_changed(tx: &mut Tx, names: &[&str]) -> Result<()> {
    let policy = Policy::read(tx).await?;
    if names.iter().any(|n| policy.tags.contains_key(*n)) {
        refresh_all(tx).await?;
    }
    Ok(())
}

/// A page of the findings matching `query` (in the query language; empty
/// for all) that are open and whose SLA ran out within `(from, to]`, earliest
/// due first, across every team: what breach notifications announce. Pass
/// consecutive windows (`to` of one call as `from` of the next) and every
/// breach is listed once; follow `next` for further pages of one window.
pub async fn breaches(platform: &Platform, query: &str, (from, to): (i64, i64), page: &Page) -> Result<Paged<Finding>> {
    let filter = vigil_query::parse(query)?;
    let mut conn = platform.store.read().await?;
    Ok(findings::breached_between(&mut conn, &filter, &Scope::All, (from, to), page, platform.now()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_follow_defectdojo() {
        let p = Policy::default();
        assert_eq!(p.days("critical", &[]), Some(7));
        assert_eq!(p.days("high", &[]), Some(30));
        assert_eq!(p.days("medium", &[]), Some(90));
        assert_eq!(p.days("low", &[]), Some(180));
        assert_eq!(p.days("none", &[]), None);
        assert_eq!(p.days("unknown", &[]), None);
        assert_eq!(p.due_at("critical", &[], 1_000), Some(1_000 + 7 * 86_400));
        assert_eq!(p.due_at("none", &[], 1_000), None);
    }

    #[test]
    fn the_strictest_tag_override_wins() {
        let mut p = Policy::default();
        p.tags.insert("prod".into(), [("critical".to_string(), 3)].into());
        p.tags.insert("pci".into(), [("critical".to_string(), 1), ("high".to_string(), 60)].into());
        p.tags.insert("lab".into(), [("critical".to_string(), 30), ("none".to_string(), 365)].into());
        assert_eq!(p.days("critical", &tags(&["prod"])), Some(3));
        assert_eq!(p.days("critical", &tags(&["prod", "pci", "lab"])), Some(1));
        // An override applies even when more lenient than the default.
        assert_eq!(p.days("critical", &tags(&["lab"])), Some(30));
        assert_eq!(p.days("high", &tags(&["pci", "prod"])), Some(60));
        // A tag without an override for that severity leaves the default.
        assert_eq!(p.days("medium", &tags(&["prod", "pci"])), Some(90));
        assert_eq!(p.days("none", &tags(&["lab"])), Some(365));
        assert_eq!(p.days_by_rank(&tags(&["prod"])), vec![(2, 180), (3, 90), (4, 30), (5, 3)]);
    }

    #[test]
    fn policies_are_checked() {
        let mut p = Policy::default();
        p.days.insert("severe".into(), 3);
        assert!(p.rows().unwrap_err().to_string().contains("days.severe"));
        let mut p = Policy::default();
        p.tags.insert("prod".into(), [("high".to_string(), 0)].into());
        assert!(p.rows().unwrap_err().to_string().contains("tags.prod.high"));
        let mut p = Policy::default();
        p.tags.insert("\u{7}".into(), [("high".to_string(), 3)].into());
        assert!(p.rows().is_err());
        assert_eq!(Policy::default().rows().unwrap().len(), 4);
    }
}

//! Fix plans on the server: for one asset, the fewest package upgrades
//! (each to the lowest version that clears its advisories) that leave no
//! open finding at or above a severity; fleet-wide, the upgrades that clear
//! the most findings across the assets a query matches.
//!
//! Both read the asset's stored inventory and match it against the
//! server's current advisory database (the same matcher and planner as
//! `vigil fix-plan`, [`vigil_match::fixplan`]). Findings that triage took
//! out (false positives, not affected, risks accepted and not expired) are
//! left out of the plan, as an ignore file or VEX statement is in the CLI.
//! Read-only: the `Read` permission, within the actor's teams. A fleet
//! plan computes each (ecosystem, package, from-version) once.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use utoipa::ToSchema;
use vigil_core::inventory::Inventory;
use vigil_core::severity::Severity;
use vigil_match::fixplan::{Plan, Planner, Skipped};
use vigil_match::{Finding, Kind};
use vigil_store::fixplan::{self as stored, PlanAsset};

use crate::auth::Permission;
use crate::{Actor, Error, Platform, Result};

/// What a plan must clear: vulnerabilities at or above `fail_on`, and those
/// of unknown severity when `fail_on_unknown` (by default: every one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    /// The lowest severity that must go.
    pub fail_on: Severity,
    /// Whether findings of unknown severity must go too.
    pub fail_on_unknown: bool,
}

impl Default for Gate {
    fn default() -> Gate {
        Gate { fail_on: Severity::Low, fail_on_unknown: true }
    }
}

impl Gate {
    /// Reads `fail_on` (`critical`, `high`, `medium`, `low`); unknown-severity
    /// findings count only when no threshold is given.
    pub fn parse(fail_on: Option<&str>) -> Result<Gate> {
        match fail_on.filter(|s| !s.is_empty()) {
            None => Ok(Gate::default()),
            Some(text) => match Severity::from_rating(text) {
                Some(s) if s >= Severity::Low => Ok(Gate { fail_on: s, fail_on_unknown: false }),
                _ => Err(Error::Invalid(format!("fail_on: critical, high, medium or low, not {text:?}"))),
            },
        }
    }

    fn counts(&self, f: &Finding) -> bool {
        f.kind == Kind::Vulnerability
            && ((f.severity >= self.fail_on && f.severity != Severity::Unknown)
                || (self.fail_on_unknown && f.severity == Severity::Unknown))
    }

    fn describe(&self) -> String {
        let mut text = format!("vulnerabilities of severity {} or above", self.fail_on);
        if self.fail_on_unknown {
            text.push_str(", and of unknown severity");
        }
        text
    }
}

/// One asset's plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssetPlan {
    /// The asset.
    pub asset_id: i64,
    /// Its name.
    pub asset_name: String,
    /// The advisory-database version matched against.
    pub vulndb_version: String,
    /// What the plan clears.
    pub gate: String,
    /// Vulnerability findings left out because triage decided them.
    pub triaged: usize,
    /// Steps, packages with no fix, optional upgrades, and the findings before and after
    /// (the layout of `vigil fix-plan --format json`).
    #[schema(value_type = Object)]
    pub plan: Plan,
}

/// One upgrade across the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FleetUpgrade {
    /// The package's ecosystem.
    pub ecosystem: String,
    /// The name advisories key on (the source package for Debian/Ubuntu).
    pub package: String,
    /// The version installed.
    pub from: String,
    /// The lowest clearing version; absent when no fix is available.
    pub to: Option<String>,
    /// Candidates skipped because advisories still match them.
    #[schema(value_type = Vec<Object>)]
    pub skipped: Vec<Skipped>,
    /// Assets it changes.
    pub assets: usize,
    /// Findings it removes, over those assets.
    pub findings: usize,
    /// Of which the gate counts.
    pub gate_findings: usize,
    /// Findings removed per severity.
    #[schema(value_type = Object)]
    pub severities: BTreeMap<Severity, usize>,
    /// The first 100 assets it changes, by id.
    pub asset_ids: Vec<i64>,
}

/// The upgrades that clear the most findings across the assets a query matches.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FleetPlan {
    /// The query.
    pub query: String,
    /// The advisory-database version matched against.
    pub vulndb_version: String,
    /// What counts as a gate finding.
    pub gate: String,
    /// Assets matched (with a stored inventory).
    pub assets: usize,
    /// Distinct (ecosystem, package, version) whose clearing version was computed.
    pub computed: usize,
    /// Upgrades with a clearing version, most gate findings removed first.
    pub upgrades: Vec<FleetUpgrade>,
    /// Packages holding gate findings that no known version clears, most findings first.
    pub no_fix: Vec<FleetUpgrade>,
}

/// How many asset ids an upgrade lists.
const LISTED_ASSETS: usize = 100;

/// The plan for one asset.
pub async fn asset_plan(platform: &Platform, actor: &Actor, id: i64, gate: Gate) -> Result<AssetPlan> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    let asset = vigil_store::assets::get(&mut conn, id, &actor.scope).await?;
    let digest =
        asset.inventory.clone().ok_or_else(|| Error::NotFound(format!("asset {id} has no package inventory yet")))?;
    drop(conn);
    let (version, path) = database(platform).await?;
    let planned = plan_assets(
        platform,
        vec![PlanAsset { id: asset.id, name: asset.name.clone(), inventory: digest }],
        path,
        gate,
    )
    .await?;
    let (_, triaged, plan) =
        planned.plans.into_iter().next().ok_or_else(|| Error::Internal("no plan was made".into()))?;
    Ok(AssetPlan {
        asset_id: asset.id,
        asset_name: asset.name,
        vulndb_version: version,
        gate: gate.describe(),
        triaged,
        plan,
    })
}

/// The upgrades that clear the most findings across the assets `query` matches, at most `limit` of them.
pub async fn fleet_plan(
    platform: &Platform,
    actor: &Actor,
    query: &str,
    gate: Gate,
    limit: usize,
) -> Result<FleetPlan> {
    actor.require(Permission::Read)?;
    let expr = vigil_query::parse(query)?;
    let mut conn = platform.store.read().await?;
    let assets = stored::assets(&mut conn, &expr, &actor.scope, platform.now()).await?;
    drop(conn);
    let (version, path) = database(platform).await?;
    let count = assets.len();
    let planned = plan_assets(platform, assets, path, gate).await?;
    let mut merged: BTreeMap<(String, String, String), FleetUpgrade> = BTreeMap::new();
    for (asset, _, plan) in &planned.plans {
        for u in plan.steps.iter().chain(&plan.no_fix).chain(&plan.optional) {
            let entry = merged.entry((u.ecosystem.clone(), u.package.clone(), u.from.clone())).or_insert_with(|| {
                FleetUpgrade {
                    ecosystem: u.ecosystem.clone(),
                    package: u.package.clone(),
                    from: u.from.clone(),
                    to: u.clearing.to.clone(),
                    skipped: u.clearing.skipped.clone(),
                    assets: 0,
                    findings: 0,
                    gate_findings: 0,
                    severities: BTreeMap::new(),
                    asset_ids: Vec::new(),
                }
            });
            entry.assets += 1;
            entry.findings += u.removes.len();
            entry.gate_findings += u.gate_findings;
            for (s, n) in &u.severities {
                *entry.severities.entry(*s).or_default() += n;
            }
            if entry.asset_ids.len() < LISTED_ASSETS {
                entry.asset_ids.push(*asset);
            }
        }
    }
    let (mut upgrades, mut no_fix): (Vec<FleetUpgrade>, Vec<FleetUpgrade>) =
        merged.into_values().partition(|u| u.to.is_some());
    no_fix.retain(|u| u.gate_findings > 0);
    let order = |a: &FleetUpgrade, b: &FleetUpgrade| {
        b.gate_findings
            .cmp(&a.gate_findings)
            .then_with(|| b.findings.cmp(&a.findings))
            .then_with(|| (&a.ecosystem, &a.package, &a.from).cmp(&(&b.ecosystem, &b.package, &b.from)))
    };
    upgrades.sort_by(order);
    no_fix.sort_by(order);
    upgrades.truncate(limit);
    no_fix.truncate(limit);
    Ok(FleetPlan {
        query: query.to_owned(),
        vulndb_version: version,
        gate: gate.describe(),
        assets: count,
        computed: planned.computed,
        upgrades,
        no_fix,
    })
}

/// The current advisory database, or why there is none.
async fn database(platform: &Platform) -> Result<(String, std::path::PathBuf)> {
    crate::vulndb::current(platform)
        .await?
        .ok_or_else(|| Error::Unavailable("the server has no advisory database yet: refresh it first".into()))
}

/// Plans made for several assets.
struct Planned {
    /// (asset id, findings left out by triage, plan), in the order given.
    plans: Vec<(i64, usize, Plan)>,
    /// Distinct packages computed.
    computed: usize,
}

/// Matches each asset's stored inventory (once per inventory) and plans it,
/// leaving out what triage decided; one planner for all, so each package
/// version is computed once.
async fn plan_assets(
    platform: &Platform,
    assets: Vec<PlanAsset>,
    path: std::path::PathBuf,
    gate: Gate,
) -> Result<Planned> {
    let store = platform.store.clone();
    let now = platform.now();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let db = crate::vulndb::open(&path)?;
        let mut planner = Planner::new(&db);
        let mut matched: HashMap<String, Vec<Finding>> = HashMap::new();
        let mut plans = Vec::with_capacity(assets.len());
        for asset in assets {
            let triaged: HashSet<String> = handle.block_on(async {
                let mut conn = store.read().await?;
                Ok::<_, Error>(stored::triaged(&mut conn, asset.id, now).await?.into_iter().collect())
            })?;
            if !matched.contains_key(&asset.inventory) {
                let inventory: Inventory = handle.block_on(async {
                    let mut conn = store.read().await?;
                    let body = vigil_store::scans::inventory_body(&mut conn, &asset.inventory).await?;
                    crate::ingest::gunzip_inventory(&body)
                })?;
                let findings = vigil_match::match_inventory(&db, &inventory)
                    .map_err(|e| Error::Internal(format!("matching: {e}")))?;
                matched.insert(asset.inventory.clone(), findings);
            }
            let all = matched.get(&asset.inventory).map(Vec::as_slice).unwrap_or_default();
            let (kept, left_out) = untriaged(all, &triaged);
            let plan =
                planner.plan(&kept, &|f| gate.counts(f)).map_err(|e| Error::Internal(format!("planning: {e}")))?;
            plans.push((asset.id, left_out, plan));
        }
        Ok(Planned { plans, computed: planner.computed() })
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// The findings whose stored counterpart (same identity) triage did not
/// decide, and how many vulnerability findings were left out.
fn untriaged(findings: &[Finding], triaged: &HashSet<String>) -> (Vec<Finding>, usize) {
    if triaged.is_empty() {
        return (findings.to_vec(), 0);
    }
    // One observation per identity, as the server stored them; each names its members' ids.
    let decided: Vec<_> =
        crate::identity::observe(findings).into_iter().filter(|o| triaged.contains(&o.identity)).collect();
    let is_decided = |f: &Finding| {
        decided.iter().any(|o| {
            o.location == f.package.location.path
                && o.package
                    .as_ref()
                    .is_some_and(|(name, _, eco, _)| *name == f.package.name && *eco == f.package.ecosystem)
                && o.vuln_ids.contains(&f.id)
        })
    };
    let mut kept = Vec::with_capacity(findings.len());
    let mut left_out = 0;
    for f in findings {
        if f.kind == Kind::Vulnerability && is_decided(f) {
            left_out += 1;
        } else {
            kept.push(f.clone());
        }
    }
    (kept, left_out)
}

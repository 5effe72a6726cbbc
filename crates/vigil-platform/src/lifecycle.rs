//! Detection status over time. A full scan moves what it sees to ACTIVE
//! (or REOPENED, when it was FIXED) and what it no longer sees to FIXED; a
//! new finding starts NEW. A re-match after an advisory update records
//! findings that appear (NEW) or disappear (FIXED), and ones that come
//! back (REOPENED), with the reason "advisory update", but leaves the
//! others alone: nothing was observed on the asset.
//!
//! [`plan`] decides, purely; [`apply`] writes the plan in the caller's
//! transaction.

use std::collections::HashSet;

use vigil_match::identity::{Tracked, pair};

use vigil_store::Tx;
use vigil_store::findings::{self, Change, Current, Observed};
use vigil_store::scans::ScanCounts;

use crate::Result;

/// What caused a reconciliation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A scan observed the asset; a full scan also shows what is gone.
    Scan {
        /// Whether it saw everything.
        full: bool,
    },
    /// The same inventory, matched against newer advisories.
    Rematch,
}

/// The changes one reconciliation makes.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// New findings.
    pub insert: Vec<Observed>,
    /// Seen again (their `last_seen` moves).
    pub seen: Vec<i64>,
    /// NEW or REOPENED, seen again: to ACTIVE.
    pub activate: Vec<(i64, String)>,
    /// FIXED, seen again: to REOPENED.
    pub reopen: Vec<i64>,
    /// No longer seen: to FIXED.
    pub fix: Vec<(i64, String)>,
    /// Seen with changed data.
    pub refresh: Vec<(i64, Observed)>,
    /// Findings open afterwards.
    pub open: i64,
}

impl Plan {
    /// The stored findings whose status or data this plan changes.
    pub fn moved(&self) -> Vec<i64> {
        let fixed = self.fix.iter().map(|(id, _)| *id);
        fixed.chain(self.reopen.iter().copied()).chain(self.refresh.iter().map(|(id, _)| *id)).collect()
    }

    /// Stored findings this plan re-observes as known exploited.
    pub fn kev_observed(&self) -> Vec<i64> {
        self.refresh.iter().filter(|(_, o)| o.kev).map(|(id, _)| *id).collect()
    }
}

/// Decides what `observed` changes among the `current` findings.
pub fn plan(current: Vec<Current>, observed: Vec<Observed>, mode: Mode) -> Plan {
    // The same identity, or (an advisory that gained or lost an alias changes
    // its key, and so its identity) the same package and file sharing an id.
    let tracked_current: Vec<Tracked<'_>> = current
        .iter()
        .map(|c| Tracked {
            identity: &c.identity,
            place: Some((
                c.ecosystem.as_deref().unwrap_or_default(),
                c.package_name.as_deref().unwrap_or_default(),
                &c.location,
            )),
            ids: c.vuln_ids.iter().map(String::as_str).collect(),
        })
        .collect();
    let tracked_observed: Vec<Tracked<'_>> = observed
        .iter()
        .map(|o| Tracked {
            identity: &o.identity,
            // Results carry their own stable identity.
            place: (o.source == "package").then(|| {
                let (name, ecosystem) = o.package.as_ref().map(|p| (p.0.as_str(), p.2.as_str())).unwrap_or_default();
                (ecosystem, name, o.location.as_str())
            }),
            ids: o.vuln_ids.iter().map(String::as_str).collect(),
        })
        .collect();
    let pairs = pair(&tracked_current, &tracked_observed);
    let claimed: HashSet<usize> = pairs.iter().flatten().copied().collect();
    let mut plan = Plan::default();
    let mut matched: Vec<(usize, Observed)> = Vec::new();
    for (o, paired) in observed.into_iter().zip(pairs) {
        match paired {
            Some(i) => matched.push((i, o)),
            None => plan.insert.push(o),
        }
    }
    for (i, o) in matched {
        let c = &current[i];
        match (c.status.as_str(), mode) {
            ("fixed", _) => plan.reopen.push(c.id),
            ("new" | "reopened", Mode::Scan { .. }) => plan.activate.push((c.id, c.status.clone())),
            _ => {}
        }
        if matches!(mode, Mode::Scan { .. }) {
            plan.seen.push(c.id);
        }
        if c.observed_hash != o.observed_hash || c.identity != o.identity {
            plan.refresh.push((c.id, o));
        }
    }
    let fixes = !matches!(mode, Mode::Scan { full: false });
    for (i, c) in current.iter().enumerate() {
        if claimed.contains(&i) {
            continue;
        }
        if c.status != "fixed" && fixes {
            plan.fix.push((c.id, c.status.clone()));
        } else if c.status != "fixed" {
            plan.open += 1;
        }
    }
    plan.open += (plan.insert.len() + claimed.len()) as i64;
    plan
}

/// Writes a plan for `asset` (of `team`); returns the counts and the ids of
/// the findings it inserted.
pub async fn apply(
    tx: &mut Tx,
    asset: i64,
    team: i64,
    plan: &Plan,
    change: Change<'_>,
) -> Result<(ScanCounts, Vec<i64>)> {
    let inserted = findings::insert(tx, asset, team, &plan.insert.iter().collect::<Vec<_>>(), "new", change).await?;
    let aliases: Vec<(String, String)> = plan
        .insert
        .iter()
        .chain(plan.refresh.iter().map(|(_, o)| o))
        .flat_map(|o| o.vuln_ids.iter().map(|id| (id.clone(), o.vuln_key.clone())))
        .collect();
    findings::add_aliases(tx, &aliases).await?;
    findings::touch(tx, &plan.seen, change.at).await?;
    for (id, o) in &plan.refresh {
        findings::refresh(tx, *id, o, change.vulndb_version).await?;
    }
    let activate: Vec<(i64, &str)> = plan.activate.iter().map(|(id, from)| (*id, from.as_str())).collect();
    findings::set_status(tx, asset, &activate, "active", change).await?;
    let reopen: Vec<(i64, &str)> = plan.reopen.iter().map(|id| (*id, "fixed")).collect();
    findings::set_status(tx, asset, &reopen, "reopened", change).await?;
    let fix: Vec<(i64, &str)> = plan.fix.iter().map(|(id, from)| (*id, from.as_str())).collect();
    findings::set_status(tx, asset, &fix, "fixed", change).await?;
    let counts = ScanCounts {
        open: plan.open,
        new: plan.insert.len() as i64,
        fixed: plan.fix.len() as i64,
        reopened: plan.reopen.len() as i64,
    };
    Ok((counts, inserted.into_values().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(identity: &str, ids: &[&str], hash: &str) -> Observed {
        Observed {
            identity: identity.into(),
            source: "package".into(),
            vuln_key: ids[0].into(),
            vuln_ids: ids.iter().map(|s| s.to_string()).collect(),
            title: None,
            package: Some(("p".into(), "1".into(), "npm".into(), "pkg:npm/p@1".into())),
            location: "/l".into(),
            layer: None,
            severity: 3,
            severity_source: None,
            cvss: None,
            cvss_vector: None,
            epss: None,
            kev: false,
            kev_added: None,
            fix: "available".into(),
            fixed_versions: vec![],
            risk: 0.0,
            details: None,
            observed_hash: hash.into(),
        }
    }

    fn cur(id: i64, identity: &str, ids: &[&str], status: &str) -> Current {
        Current {
            id,
            identity: identity.into(),
            vuln_ids: ids.iter().map(|s| s.to_string()).collect(),
            package_name: Some("p".into()),
            ecosystem: Some("npm".into()),
            location: "/l".into(),
            status: status.into(),
            observed_hash: "h".into(),
        }
    }

    #[test]
    fn a_full_scan_moves_every_status() {
        let current = vec![
            cur(1, "a", &["A"], "new"),
            cur(2, "b", &["B"], "active"),
            cur(3, "c", &["C"], "fixed"),
            cur(4, "d", &["D"], "active"),
            cur(5, "e", &["E"], "reopened"),
        ];
        let observed =
            vec![obs("a", &["A"], "h"), obs("b", &["B"], "h2"), obs("c", &["C"], "h"), obs("x", &["X"], "h")];
        let p = plan(current, observed, Mode::Scan { full: true });
        assert_eq!(p.insert.iter().map(|o| o.identity.as_str()).collect::<Vec<_>>(), ["x"]);
        assert_eq!(p.activate, vec![(1, "new".to_string())]);
        assert_eq!(p.reopen, vec![3]);
        assert_eq!(p.fix, vec![(4, "active".to_string()), (5, "reopened".to_string())]);
        assert_eq!(p.seen, vec![1, 2, 3]);
        assert_eq!(p.refresh.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [2]);
        assert_eq!(p.open, 4);
    }

    #[test]
    fn a_partial_scan_fixes_nothing() {
        let p = plan(vec![cur(1, "a", &["A"], "active")], vec![], Mode::Scan { full: false });
        assert!(p.fix.is_empty());
        assert_eq!(p.open, 1);
    }

    #[test]
    fn a_rematch_leaves_observed_statuses_alone() {
        let current = vec![cur(1, "a", &["A"], "new"), cur(2, "b", &["B"], "active"), cur(3, "c", &["C"], "fixed")];
        let p = plan(current, vec![obs("a", &["A"], "h"), obs("c", &["C"], "h")], Mode::Rematch);
        assert!(p.activate.is_empty() && p.seen.is_empty());
        assert_eq!((p.reopen.clone(), p.fix.clone()), (vec![3], vec![(2, "active".to_string())]));
    }

    #[test]
    fn an_alias_change_keeps_the_finding() {
        // GHSA-1 was filed alone; it now names CVE-1, which becomes its key.
        let p = plan(
            vec![cur(1, "old", &["GHSA-1"], "active")],
            vec![obs("new", &["CVE-1", "GHSA-1"], "h")],
            Mode::Scan { full: true },
        );
        assert!(p.insert.is_empty() && p.fix.is_empty());
        assert_eq!(p.refresh[0].1.identity, "new");
    }
}

//! Decides whether one affected entry of an OSV record covers one version,
//! and records every comparison that led there (for `vigil db explain`).
//!
//! The `versions` list and the ranges are an OR. `ECOSYSTEM` ranges use the
//! ecosystem's version scheme, `SEMVER` ranges SemVer whatever the
//! ecosystem. `GIT` ranges and unknown range types are never evaluated and
//! never dropped silently: they appear as [`Check::NotEvaluated`].

use std::sync::Arc;

use serde::Serialize;
use vigil_core::osv::{Affected, Event, RangeKind};
use vigil_version::{Decision, Scheme, evaluate};

/// One comparison made while evaluating an affected entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum Check {
    /// The version appears (by scheme equality) in `versions[]`.
    ListedVersion {
        /// The listed version that matched.
        listed: String,
    },
    /// The version is not in `versions[]` (only reported when the list is
    /// not empty).
    NotListed {
        /// How many versions the list has.
        count: usize,
    },
    /// One range was evaluated.
    Range {
        /// Index of the range in the entry.
        index: usize,
        /// `ECOSYSTEM` or `SEMVER`.
        kind: &'static str,
        /// The scheme used.
        scheme: &'static str,
        /// The events as given.
        events: Vec<Event>,
        /// Whether the version is inside.
        affected: bool,
        /// The comparison that decided it (serialised as one line of text).
        comparison: Comparison,
    },
    /// A range that cannot be evaluated against package versions.
    NotEvaluated {
        /// Index of the range in the entry.
        index: usize,
        /// Why (`GIT range (commits, repo ...)`, unknown type, no scheme).
        reason: String,
    },
}

/// The decision of one range for one version; written out as the line
/// [`Decision::describe`] gives, computed only when someone reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// What decided it.
    pub decision: Decision,
    /// The version evaluated.
    pub version: Arc<str>,
}

impl Serialize for Comparison {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.decision.describe(&self.version))
    }
}

impl Check {
    /// True when this check puts the version inside the entry.
    pub fn is_affected(&self) -> bool {
        match self {
            Check::ListedVersion { .. } => true,
            Check::Range { affected, .. } => *affected,
            Check::NotListed { .. } | Check::NotEvaluated { .. } => false,
        }
    }

    /// One line for humans.
    pub fn describe(&self) -> String {
        match self {
            Check::ListedVersion { listed } => format!("listed in versions[] as {listed}"),
            Check::NotListed { count } => format!("not among the {count} versions listed"),
            Check::Range { index, kind, scheme, affected, comparison, .. } => {
                let verdict = if *affected { "affected" } else { "not affected" };
                let comparison = comparison.decision.describe(&comparison.version);
                format!("range {index} ({kind}, {scheme}): {comparison}: {verdict}")
            }
            Check::NotEvaluated { index, reason } => {
                format!("range {index}: {reason}, not evaluated")
            }
        }
    }
}

/// The outcome of evaluating one affected entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// True when any check put the version inside.
    pub affected: bool,
    /// Every check, in the order made.
    pub checks: Vec<Check>,
}

/// Evaluates `entry` for `version` of a package in `ecosystem` (the
/// record's ecosystem string, which picks the scheme for ECOSYSTEM ranges).
/// The entry's ranges move into the evaluation's checks.
pub fn evaluate_affected(entry: Affected, ecosystem: &str, version: &str) -> Evaluation {
    let scheme = Scheme::for_ecosystem(ecosystem);
    let shared_version: Arc<str> = Arc::from(version);
    let mut checks = Vec::new();
    if !entry.versions.is_empty() {
        let listed = entry.versions.iter().find(|v| match scheme {
            Some(s) => *v == version || s.compare(v, version).is_eq(),
            None => *v == version,
        });
        checks.push(match listed {
            Some(v) => Check::ListedVersion { listed: v.clone() },
            None => Check::NotListed { count: entry.versions.len() },
        });
    }
    for (index, range) in entry.ranges.into_iter().enumerate() {
        let (kind, range_scheme) = match range.kind {
            RangeKind::Semver => ("SEMVER", Some(Scheme::Semver)),
            RangeKind::Ecosystem => ("ECOSYSTEM", scheme),
            RangeKind::Git => {
                let repo = range.repo.as_deref().unwrap_or("unknown repository");
                checks.push(Check::NotEvaluated { index, reason: format!("GIT range (commits of {repo})") });
                continue;
            }
            RangeKind::Unknown => {
                checks.push(Check::NotEvaluated { index, reason: "unknown range type".into() });
                continue;
            }
        };
        let Some(range_scheme) = range_scheme else {
            checks.push(Check::NotEvaluated { index, reason: format!("no version scheme for ecosystem {ecosystem}") });
            continue;
        };
        let decision: Decision = evaluate(range_scheme, &range.events, version);
        checks.push(Check::Range {
            index,
            kind,
            scheme: range_scheme.name(),
            events: range.events,
            affected: decision.is_affected(),
            comparison: Comparison { decision, version: shared_version.clone() },
        });
    }
    Evaluation { affected: checks.iter().any(Check::is_affected), checks }
}

/// The `fixed` versions an entry names, in the order given.
pub fn fixed_versions(entry: &Affected) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for range in &entry.ranges {
        if range.kind == RangeKind::Git {
            continue;
        }
        for event in &range.events {
            if let Event::Fixed(v) = event
                && !out.contains(v)
            {
                out.push(v.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(json: &str) -> Affected {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn versions_list_is_an_or_with_ranges() {
        let e = entry(
            r#"{"package":{"ecosystem":"PyPI","name":"x"},"versions":["1.0","1.1"],
               "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.0"},{"fixed":"2.1"}]}]}"#,
        );
        assert!(evaluate_affected(e.clone(), "PyPI", "1.0.0").affected, "1.0.0 == 1.0 under PEP 440");
        assert!(evaluate_affected(e.clone(), "PyPI", "2.0.5").affected);
        assert!(!evaluate_affected(e.clone(), "PyPI", "1.5").affected);
    }

    #[test]
    fn git_ranges_are_reported_not_dropped() {
        let e = entry(
            r#"{"package":{"ecosystem":"Go","name":"x"},
               "ranges":[{"type":"GIT","repo":"https://example.invalid/x","events":[{"introduced":"abc"}]}]}"#,
        );
        let ev = evaluate_affected(e.clone(), "Go", "1.0.0");
        assert!(!ev.affected);
        assert!(matches!(ev.checks[0], Check::NotEvaluated { .. }));
        assert!(ev.checks[0].describe().contains("GIT range"));
    }

    #[test]
    fn semver_range_in_other_ecosystem() {
        let e = entry(
            r#"{"package":{"ecosystem":"crates.io","name":"x"},
               "ranges":[{"type":"SEMVER","events":[{"introduced":"0.0.0-0"},{"fixed":"0.9.0"}]}]}"#,
        );
        assert!(evaluate_affected(e.clone(), "crates.io", "0.8.9").affected);
        assert!(!evaluate_affected(e.clone(), "crates.io", "0.9.0").affected);
        assert_eq!(fixed_versions(&e), vec!["0.9.0"]);
    }
}

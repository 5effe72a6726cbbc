//! The CI gate: what makes `vigil scan` exit with 1. Vulnerabilities count
//! (informational advisories never do), after every filter and
//! suppression, and so do configuration, compliance and secret issues at
//! or above `fail_on` when those scanners ran. `fail_on` is a severity threshold; a vulnerability whose
//! severity stays unknown (neither its record nor another record about the
//! same CVE rates it) is below every threshold and fails the gate only with
//! `fail_on_unknown`. `fail_on_missing_data` fails a scan that could not
//! check some of what it found: an ecosystem of the inventory the database
//! holds no advisories for, or an OS Vigil cannot match. `fail_on_new`
//! narrows the severity conditions to findings a baseline does not have
//! (alone, any new vulnerability fails).

use vigil_core::severity::Severity;
use vigil_match::{BaselineState, Finding, Kind};

use crate::ScanReport;

/// When a scan fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gate {
    /// Fail on a vulnerability of this severity or higher.
    pub fail_on: Option<Severity>,
    /// Fail on a vulnerability of unknown severity.
    pub fail_on_unknown: bool,
    /// Fail when some packages could not be checked for lack of advisories.
    pub fail_on_missing_data: bool,
    /// Count only vulnerabilities new since the baseline.
    pub fail_on_new: bool,
}

impl Gate {
    /// Whether any condition is set.
    pub fn is_set(&self) -> bool {
        self.fail_on.is_some() || self.fail_on_unknown || self.fail_on_missing_data || self.fail_on_new
    }

    /// Whether the gate looks at `f` at all: a vulnerability, and a new one under `fail_on_new`.
    fn considers(&self, f: &Finding) -> bool {
        f.kind == Kind::Vulnerability && (!self.fail_on_new || f.baseline == Some(BaselineState::New))
    }

    /// Whether `f` alone fails the gate (what a fix plan must remove).
    pub fn counts(&self, f: &Finding) -> bool {
        self.considers(f)
            && (self.fail_on.is_some_and(|t| f.severity >= t && f.severity != Severity::Unknown)
                || (self.fail_on_unknown && f.severity == Severity::Unknown)
                || (self.fail_on_new && self.fail_on.is_none() && !self.fail_on_unknown))
    }

    /// Why the report fails the gate, one reason per condition met; empty when it passes.
    pub fn failures(&self, report: &ScanReport) -> Vec<String> {
        let vulnerabilities = || report.findings.iter().filter(|f| self.considers(f));
        let new = if self.fail_on_new { "new " } else { "" };
        let mut reasons = Vec::new();
        if let Some(threshold) = self.fail_on {
            let n = vulnerabilities().filter(|f| f.severity >= threshold && f.severity != Severity::Unknown).count();
            if n > 0 {
                reasons.push(format!("{n} {new}vulnerabilities at or above {threshold}"));
            }
            let issues = report.config.as_ref().map_or(0, |c| c.at_least(threshold));
            if issues > 0 {
                reasons.push(format!("{issues} configuration, compliance or secret issues at or above {threshold}"));
            }
        }
        if self.fail_on_unknown {
            let n = vulnerabilities().filter(|f| f.severity == Severity::Unknown).count();
            if n > 0 {
                reasons.push(format!("{n} {new}vulnerabilities of unknown severity"));
            }
        }
        if self.fail_on_new && self.fail_on.is_none() && !self.fail_on_unknown {
            let n = vulnerabilities().count();
            if n > 0 {
                reasons.push(format!("{n} new vulnerabilities"));
            }
        }
        if self.fail_on_missing_data {
            let gaps: Vec<&str> = report.gaps().map(|c| c.ecosystem.as_str()).collect();
            if !gaps.is_empty() {
                reasons.push(format!(
                    "{} packages not checked, no advisories for {}",
                    report.summary.not_checked,
                    gaps.join(", ")
                ));
            }
        }
        reasons
    }
}

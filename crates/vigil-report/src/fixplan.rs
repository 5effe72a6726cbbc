//! Fix plans (`vigil fix-plan`): the report model and its two renderings,
//! a table for people and JSON (`schema_version` 1) for scripts. The plan
//! itself comes from [`vigil_match::fixplan`]; this module applies it to a
//! scan report to say what the gate would say afterwards.

use std::io::Write;

use serde::Serialize;
use vigil_core::severity::Severity;
use vigil_match::fixplan::{Plan, Tally, Upgrade};

use crate::ScanReport;
use crate::gate::Gate;

/// Version of the fix plan's JSON layout.
pub const FIX_PLAN_SCHEMA_VERSION: u32 = 1;

/// A plan with what the gate says before and after it.
#[derive(Debug, Clone, Serialize)]
pub struct FixPlanReport {
    /// Layout version.
    pub schema_version: u32,
    /// The target as given.
    pub target: String,
    /// The gate planned for, in words.
    pub gate: String,
    /// Why the scan fails now (empty: it passes).
    pub failures_before: Vec<String>,
    /// Why it would still fail once every step is applied (empty: it passes).
    pub failures_after: Vec<String>,
    /// The plan.
    #[serde(flatten)]
    pub plan: Plan,
}

impl FixPlanReport {
    /// Applies `plan` to `report` under `gate`: the findings its steps remove
    /// leave the report, and the gate is asked again.
    pub fn new(mut report: ScanReport, gate: &Gate, plan: Plan) -> FixPlanReport {
        let failures_before = gate.failures(&report);
        report.findings.retain(|f| {
            let (name, version) = vigil_match::lookup_key(&f.package);
            !plan.steps.iter().any(|s| s.ecosystem == f.package.ecosystem && s.package == name && s.from == version)
        });
        FixPlanReport {
            schema_version: FIX_PLAN_SCHEMA_VERSION,
            target: report.inventory.target.clone(),
            gate: describe(gate),
            failures_before,
            failures_after: gate.failures(&report),
            plan,
        }
    }

    /// Whether the gate passes once the plan is applied.
    pub fn passes_after(&self) -> bool {
        self.failures_after.is_empty()
    }
}

/// The gate in words (`severity high or above, unknown severity`).
pub fn describe(gate: &Gate) -> String {
    let mut parts = Vec::new();
    if let Some(t) = gate.fail_on {
        parts.push(format!("vulnerabilities of severity {t} or above"));
    }
    if gate.fail_on_unknown {
        parts.push("vulnerabilities of unknown severity".to_owned());
    }
    if gate.fail_on_new && gate.fail_on.is_none() && !gate.fail_on_unknown {
        parts.push("any vulnerability".to_owned());
    }
    let mut text = parts.join(", ");
    if gate.fail_on_new {
        text.push_str(", new since the baseline only");
    }
    if gate.fail_on_missing_data {
        text.push_str("; packages not checked for lack of advisories");
    }
    text
}

/// Writes `report` as a table or as JSON.
pub fn write_fix_plan(report: &FixPlanReport, json: bool, out: &mut dyn Write) -> std::io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, report)?;
        return writeln!(out);
    }
    let plan = &report.plan;
    writeln!(out, "Fix plan for {}", report.target)?;
    writeln!(out, "Gate: {}", report.gate)?;
    if report.failures_before.is_empty() {
        writeln!(out, "The scan passes the gate now.")?;
    } else {
        writeln!(out, "Now: fails ({})", report.failures_before.join("; "))?;
    }
    writeln!(out, "Before: {}", tally(&plan.before))?;
    if !plan.steps.is_empty() {
        writeln!(out)?;
        let rows: Vec<[String; 6]> = plan
            .steps
            .iter()
            .enumerate()
            .map(|(i, u)| {
                [
                    format!("{}", i + 1),
                    package(u),
                    u.from.clone(),
                    u.clearing.to.clone().unwrap_or_default(),
                    format!("{} ({} gate)", u.removes.len(), u.gate_findings),
                    severities(u),
                ]
            })
            .collect();
        table(out, ["#", "UPGRADE", "FROM", "TO", "REMOVES", "SEVERITIES"], &rows)?;
        for (i, u) in plan.steps.iter().enumerate() {
            for s in &u.clearing.skipped {
                writeln!(
                    out,
                    "  {}: {} (fix of {}) skipped, still affected by {}",
                    i + 1,
                    s.version,
                    s.fixes.join(", "),
                    s.still_affected_by.join(", ")
                )?;
            }
        }
    }
    if !plan.no_fix.is_empty() {
        writeln!(out, "\nNo fix available (these keep the gate failing):")?;
        for u in &plan.no_fix {
            let why = u.clearing.no_fix_reason.as_deref().unwrap_or("no clearing version");
            let ids: Vec<&str> = u.removes.iter().filter(|r| r.counts).map(|r| r.id.as_str()).collect();
            writeln!(out, "  {} {}: {} ({}): {why}", package(u), u.from, ids.join(", "), severities(u))?;
        }
    }
    if !plan.optional.is_empty() {
        writeln!(out, "\nOptional (findings the gate does not count):")?;
        for u in &plan.optional {
            let to = u.clearing.to.as_deref().unwrap_or_default();
            writeln!(out, "  {} {} -> {to}: removes {} ({})", package(u), u.from, u.removes.len(), severities(u))?;
        }
    }
    writeln!(out, "\nAfter {} upgrade{}: {}", plan.steps.len(), plural(plan.steps.len()), tally(&plan.after))?;
    if report.failures_after.is_empty() {
        writeln!(out, "The gate passes.")
    } else {
        writeln!(out, "The gate still fails: {}", report.failures_after.join("; "))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `name (ecosystem)`, with the installed packages when they differ (binary packages of a source).
fn package(u: &Upgrade) -> String {
    let mut text = format!("{} ({})", u.package, u.ecosystem);
    if u.installed.iter().any(|i| *i != u.package) {
        text.push_str(&format!(" [{}]", u.installed.join(", ")));
    }
    text
}

/// `high 2, unknown 1`, worst first.
fn counts(map: &std::collections::BTreeMap<Severity, usize>) -> String {
    map.iter().rev().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(", ")
}

fn severities(u: &Upgrade) -> String {
    counts(&u.severities)
}

fn tally(t: &Tally) -> String {
    if t.findings == 0 {
        return "no vulnerabilities".to_owned();
    }
    format!(
        "{} vulnerabilit{} ({}), {} failing the gate",
        t.findings,
        if t.findings == 1 { "y" } else { "ies" },
        counts(&t.severities),
        t.gate_findings
    )
}

/// Left-aligned columns, two spaces apart.
fn table<const N: usize>(out: &mut dyn Write, head: [&str; N], rows: &[[String; N]]) -> std::io::Result<()> {
    let mut widths = head.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: Vec<&str>| -> std::io::Result<()> {
        let text: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:w$}")).collect();
        writeln!(out, "{}", text.join("  ").trim_end())
    };
    line(out, head.to_vec())?;
    for row in rows {
        line(out, row.iter().map(String::as_str).collect())?;
    }
    Ok(())
}

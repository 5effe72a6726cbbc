//! `vigil diff OLD NEW`: packages added, removed and changed, findings
//! introduced and fixed, as a table, JSON, Markdown (for a pull-request
//! comment) or SARIF (the introduced findings only, each with
//! `baselineState: "new"`). Findings are paired as
//! [`crate::baseline::compare`] pairs them.

use std::io::Write;

use serde::Serialize;
use vigil_match::{BaselineState, Kind};

use crate::baseline::{PackageChanges, Record, Side, compare};
use crate::scan::markdown::{cell, vulnerability_table};

/// Version of the JSON diff layout.
pub const DIFF_SCHEMA_VERSION: u32 = 1;

/// Diff formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    /// For people.
    Table,
    /// The versioned JSON diff.
    Json,
    /// For pull-request comments.
    Markdown,
    /// SARIF 2.1.0: the introduced findings.
    Sarif,
}

/// One side as the diff names it.
#[derive(Debug, Clone, Serialize)]
pub struct SideInfo {
    /// What was scanned.
    pub target: String,
    /// When, when known.
    pub scanned_at: Option<String>,
    /// Where it was read: a report file, or the target scanned now.
    pub source: String,
}

impl From<&Side> for SideInfo {
    fn from(s: &Side) -> SideInfo {
        SideInfo { target: s.target.clone(), scanned_at: s.scanned_at.clone(), source: s.source.clone() }
    }
}

/// Counts of vulnerabilities (informational advisories apart) and packages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiffSummary {
    /// Vulnerabilities only in NEW.
    pub introduced: usize,
    /// Vulnerabilities only in OLD.
    pub fixed: usize,
    /// In both, at the same version.
    pub unchanged: usize,
    /// In both, the package at another version.
    pub updated: usize,
    /// Packages only in NEW; `None` when a side lists no packages.
    pub packages_added: Option<usize>,
    /// Packages only in OLD.
    pub packages_removed: Option<usize>,
    /// Packages at another version.
    pub packages_changed: Option<usize>,
}

/// The difference between two scans.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// Layout version of the JSON form.
    pub schema_version: u32,
    /// The earlier side.
    pub old: SideInfo,
    /// The later side.
    pub new: SideInfo,
    /// Counts.
    pub summary: DiffSummary,
    /// Packages added, removed and changed; absent when a side (a report of
    /// schema 2) lists no packages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<PackageChanges>,
    /// NEW's findings, each marked `new`, `unchanged` or `updated`.
    pub findings: Vec<Record>,
    /// OLD's findings that NEW no longer has.
    pub fixed: Vec<Record>,
}

impl Diff {
    /// Compares `new` with `old`.
    pub fn new(old: &Side, new: Side) -> Diff {
        let comparison = compare(old, &new);
        let mut findings = new.findings;
        for (f, state) in findings.iter_mut().zip(&comparison.states) {
            f.baseline = Some(*state);
        }
        let vulns = |state: BaselineState| {
            findings.iter().filter(|f| f.kind == Kind::Vulnerability && f.baseline == Some(state)).count()
        };
        let p = comparison.packages.as_ref();
        let summary = DiffSummary {
            introduced: vulns(BaselineState::New),
            unchanged: vulns(BaselineState::Unchanged),
            updated: vulns(BaselineState::Updated),
            fixed: comparison.fixed.iter().filter(|f| f.kind == Kind::Vulnerability).count(),
            packages_added: p.map(|p| p.added.len()),
            packages_removed: p.map(|p| p.removed.len()),
            packages_changed: p.map(|p| p.changed.len()),
        };
        Diff {
            schema_version: DIFF_SCHEMA_VERSION,
            old: SideInfo::from(old),
            new: SideInfo { target: new.target, scanned_at: new.scanned_at, source: new.source },
            summary,
            packages: comparison.packages,
            findings,
            fixed: comparison.fixed,
        }
    }

    /// The vulnerabilities NEW introduced.
    pub fn introduced(&self) -> impl Iterator<Item = &Record> {
        self.findings.iter().filter(|f| f.kind == Kind::Vulnerability && f.baseline == Some(BaselineState::New))
    }

    fn fixed_vulnerabilities(&self) -> impl Iterator<Item = &Record> {
        self.fixed.iter().filter(|f| f.kind == Kind::Vulnerability)
    }

    fn headline(&self) -> String {
        let s = &self.summary;
        let mut line = format!(
            "{} introduced, {} fixed, {} unchanged, {} still affected at another version",
            s.introduced, s.fixed, s.unchanged, s.updated
        );
        if let Some(p) = &self.packages {
            line.push_str(&format!(
                "; packages: {} added, {} removed, {} changed",
                p.added.len(),
                p.removed.len(),
                p.changed.len()
            ));
        }
        line
    }
}

/// Writes `diff` in `format`.
pub fn write_diff(diff: &Diff, format: DiffFormat, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        DiffFormat::Json => crate::write_json(diff, out),
        DiffFormat::Sarif => crate::write_json(&crate::scan::sarif::document(diff.introduced(), Vec::new()), out),
        DiffFormat::Table => table(diff, out),
        DiffFormat::Markdown => markdown(diff, out),
    }
}

fn fix_text(f: &Record) -> String {
    if f.fixed.is_empty() { "no fix yet".to_owned() } else { f.fixed.join(", ") }
}

fn finding_rows<'a>(records: impl Iterator<Item = &'a Record>) -> Vec<Vec<String>> {
    records
        .map(|f| {
            vec![
                f.severity.as_str().to_uppercase(),
                f.id.clone(),
                f.package.name.clone(),
                f.package.version.clone(),
                fix_text(f),
                f.package.location.path.clone(),
            ]
        })
        .collect()
}

fn table(diff: &Diff, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{} ({}) -> {} ({})", diff.old.target, diff.old.source, diff.new.target, diff.new.source)?;
    let header = ["SEVERITY", "ADVISORY", "PACKAGE", "INSTALLED", "FIXED IN", "FOUND IN"];
    for (title, rows) in
        [("introduced", finding_rows(diff.introduced())), ("fixed", finding_rows(diff.fixed_vulnerabilities()))]
    {
        writeln!(out)?;
        writeln!(out, "{title} ({}):", rows.len())?;
        if !rows.is_empty() {
            crate::scan::table::rows(out, &header, &rows, false)?;
        }
    }
    match &diff.packages {
        Some(p) if !p.is_empty() => {
            writeln!(out)?;
            writeln!(out, "packages:")?;
            let mut rows: Vec<Vec<String>> = Vec::new();
            rows.extend(
                p.added.iter().map(|a| {
                    vec!["added".into(), a.name.clone(), String::new(), a.version.clone(), a.location.clone()]
                }),
            );
            rows.extend(
                p.removed.iter().map(|r| {
                    vec!["removed".into(), r.name.clone(), r.version.clone(), String::new(), r.location.clone()]
                }),
            );
            rows.extend(p.changed.iter().map(|c| {
                vec![
                    c.direction.into(),
                    c.package.name.clone(),
                    c.from.clone(),
                    c.package.version.clone(),
                    c.package.location.clone(),
                ]
            }));
            crate::scan::table::rows(out, &["CHANGE", "PACKAGE", "BEFORE", "AFTER", "FOUND IN"], &rows, false)?;
        }
        Some(_) => writeln!(out, "\npackages: no change")?,
        None => writeln!(out, "\npackages: not compared (a report without its package list, schema 2)")?,
    }
    writeln!(out)?;
    writeln!(out, "{}", diff.headline())
}

fn markdown(diff: &Diff, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "### Vigil: {} compared with {}", cell(&diff.new.target), cell(&diff.old.target))?;
    writeln!(out)?;
    let s = &diff.summary;
    writeln!(
        out,
        "**{} new vulnerabilities**, **{} fixed**; {} unchanged, {} still affected at another version.",
        s.introduced, s.fixed, s.unchanged, s.updated
    )?;
    let introduced: Vec<Record> = diff.introduced().cloned().collect();
    if !introduced.is_empty() {
        writeln!(out)?;
        writeln!(out, "#### Introduced")?;
        writeln!(out)?;
        vulnerability_table(out, &introduced, false)?;
    }
    let fixed: Vec<Record> = diff.fixed_vulnerabilities().cloned().collect();
    if !fixed.is_empty() {
        writeln!(out)?;
        writeln!(out, "#### Fixed")?;
        writeln!(out)?;
        vulnerability_table(out, &fixed, false)?;
    }
    if let Some(p) = diff.packages.as_ref().filter(|p| !p.is_empty()) {
        writeln!(out)?;
        writeln!(
            out,
            "<details><summary>Packages: {} added, {} removed, {} changed</summary>",
            p.added.len(),
            p.removed.len(),
            p.changed.len()
        )?;
        writeln!(out)?;
        writeln!(out, "| Change | Package | Before | After | Found in |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        let mut row = |change: &str, name: &str, before: &str, after: &str, location: &str| {
            writeln!(out, "| {change} | {} | {} | {} | `{}` |", cell(name), cell(before), cell(after), cell(location))
        };
        for a in &p.added {
            row("added", &a.name, "", &a.version, &a.location)?;
        }
        for r in &p.removed {
            row("removed", &r.name, &r.version, "", &r.location)?;
        }
        for c in &p.changed {
            row(c.direction, &c.package.name, &c.from, &c.package.version, &c.package.location)?;
        }
        writeln!(out)?;
        writeln!(out, "</details>")?;
    }
    Ok(())
}

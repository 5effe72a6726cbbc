//! `vigil db update | import | status | explain`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use vigil_vulndb::{
    BorrowedSeverity, Candidate, DEFAULT_ECOSYSTEMS, DEFAULT_EPSS_URL, DEFAULT_KEV_URL, DEFAULT_OSV_BASE, Database,
    Limits, Report, UpdatePlan,
};

use crate::cli::{Format, LimitArgs, UpdateArgs};
use crate::config::Config;
use crate::progress::Bars;

fn limits(args: &LimitArgs) -> Limits {
    Limits {
        max_download_bytes: args.max_download_mib << 20,
        max_total_bytes: args.max_decompressed_mib << 20,
        ..Limits::default()
    }
}

/// A feed URL: flag/env, else config ("" disables), else the default; off with `--no-*`.
fn feed(off: bool, flag: Option<String>, config: Option<&String>, default: &str) -> Option<String> {
    if off {
        return None;
    }
    let url = flag.or_else(|| config.cloned()).unwrap_or_else(|| default.to_owned());
    (!url.trim().is_empty()).then_some(url)
}

/// What `vigil db update` fetches: flags and environment, then the
/// configuration file, then Vigil's defaults.
pub fn plan(config: &Config, args: UpdateArgs) -> UpdatePlan {
    let ecosystems = if args.ecosystems.is_empty() {
        config.db.ecosystems.clone().unwrap_or_else(|| DEFAULT_ECOSYSTEMS.iter().map(|s| (*s).to_owned()).collect())
    } else {
        args.ecosystems
    };
    UpdatePlan {
        osv_base: args.osv_base.or_else(|| config.db.osv_base.clone()).unwrap_or_else(|| DEFAULT_OSV_BASE.to_owned()),
        ecosystems,
        kev_url: feed(args.no_kev, args.kev_url, config.db.kev_url.as_ref(), DEFAULT_KEV_URL),
        epss_url: feed(args.no_epss, args.epss_url, config.db.epss_url.as_ref(), DEFAULT_EPSS_URL),
        limits: limits(&args.limits),
    }
}

/// The plan `vigil db update` would follow with no flags (environment and
/// configuration still apply).
pub fn default_plan(config: &Config) -> Result<UpdatePlan> {
    use clap::{Args, FromArgMatches};
    let matches = UpdateArgs::augment_args(clap::Command::new("update")).try_get_matches_from(["update"])?;
    Ok(plan(config, UpdateArgs::from_arg_matches(&matches)?))
}

/// Downloads and rebuilds.
pub fn update(config: &Config, db: &Path, args: UpdateArgs, quiet: bool) -> Result<()> {
    let format = args.format.format;
    let plan = plan(config, args);
    let bars = Bars::new(quiet);
    let report = vigil_vulndb::update(&plan, db, &bars).context(
        "database update failed; the previous database (if any) is unchanged \
             (without network access, build it from local files: vigil db import PATH...)",
    )?;
    print_report(&report, format, quiet)
}

/// Rebuilds from local files.
pub fn import(db: &Path, paths: &[PathBuf], limit_args: &LimitArgs, format: Format, quiet: bool) -> Result<()> {
    let bars = Bars::new(quiet);
    let report = vigil_vulndb::import(paths, db, limits(limit_args), &bars)
        .context("database import failed; the previous database (if any) is unchanged")?;
    print_report(&report, format, quiet)
}

fn print_report(report: &Report, format: Format, quiet: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "built {} in {:.2} s", report.path.display(), report.seconds)?;
    for s in &report.sources {
        write_source(&mut out, &s.kind, &s.name, &s.counts)?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "  {} advisories ({:.0} records/s)",
        report.records,
        report.records as f64 / report.seconds.max(1e-9)
    )?;
    if !report.problems.is_empty() && !quiet {
        let mut err = std::io::stderr().lock();
        writeln!(err, "warning: {} malformed records skipped:", report.problems.len())?;
        for p in report.problems.iter().take(20) {
            writeln!(err, "  {p}")?;
        }
        if report.problems.len() > 20 {
            writeln!(err, "  ... and {} more (see `vigil db status`)", report.problems.len() - 20)?;
        }
    }
    Ok(())
}

/// One line per source: kind, name, record count and, for OSV sources,
/// what was skipped.
fn write_source(out: &mut impl Write, kind: &str, name: &str, c: &vigil_vulndb::SourceCounts) -> Result<()> {
    write!(out, "  {kind:<5} {name:<14} {:>7} records", c.records)?;
    if kind == "osv" {
        write!(
            out,
            ", {} malformed skipped, {} withdrawn, {} duplicates, {} GIT ranges not evaluated",
            c.skipped, c.withdrawn, c.duplicates, c.git_ranges
        )?;
    }
    Ok(())
}

/// Opens the database and warns (on stderr) when it is stale.
pub fn open(config: &Config, db: &Path, quiet: bool) -> Result<Database> {
    let database = Database::open(db)?;
    if !quiet && let Some(warning) = database.staleness_warning(config.max_age_days())? {
        eprintln!("warning: {warning}");
    }
    Ok(database)
}

/// Prints the database's status.
pub fn status(config: &Config, db: &Path, format: Format, quiet: bool) -> Result<()> {
    let database = open(config, db, quiet)?;
    let status = database.status()?;
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &status)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "database:   {}", status.path)?;
    writeln!(out, "schema:     {}", status.schema_version)?;
    writeln!(
        out,
        "built:      {} ({} ago) by vigil {}",
        status.built_at,
        vigil_core::time::humanize(status.age_secs),
        status.built_by.as_deref().unwrap_or("?")
    )?;
    writeln!(out, "advisories: {}", status.advisories)?;
    writeln!(out, "KEV:        {} entries", status.kev_entries)?;
    writeln!(
        out,
        "EPSS:       {} scores{}",
        status.epss_scores,
        status.epss_score_date.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
    )?;
    writeln!(out, "sources:")?;
    for s in &status.sources {
        write_source(&mut out, &s.kind, &s.name, &s.counts)?;
        if let Some(d) = &s.detail {
            write!(out, ", {d}")?;
        }
        writeln!(out, "  <- {}", s.location)?;
    }
    writeln!(out, "OS releases covered (an OS target of another release is not checked):")?;
    let mut by_os: Vec<(&str, Vec<&str>)> = Vec::new();
    for release in &status.os_releases {
        let (base, version) = release.split_once(':').unwrap_or((release, ""));
        match by_os.last_mut() {
            Some((b, versions)) if *b == base => versions.push(version),
            _ => by_os.push((base, vec![version])),
        }
    }
    if by_os.is_empty() {
        writeln!(out, "  none")?;
    }
    for (base, versions) in by_os {
        writeln!(out, "  {base}: {}", versions.join(", "))?;
    }
    writeln!(out, "ecosystems:")?;
    for e in &status.ecosystems {
        writeln!(out, "  {:<28} {:>7} advisories", e.ecosystem, e.advisories)?;
    }
    if !status.problems.is_empty() {
        writeln!(out, "skipped records (first {}):", status.problems.len())?;
        for p in &status.problems {
            writeln!(out, "  {p}")?;
        }
    }
    Ok(())
}

/// The severity another record of the same CVE gives, for a record without one.
pub fn borrowed_severity(database: &Database, c: &Candidate) -> Result<Option<BorrowedSeverity>> {
    if c.severity.is_some_and(|s| s != vigil_core::severity::Severity::Unknown) {
        return Ok(None);
    }
    Ok(database.borrowed_severity(&c.id, &c.aliases)?)
}

/// One advisory entry and every comparison made for it, for people.
pub fn write_candidate(
    out: &mut impl Write,
    c: &Candidate,
    borrowed: Option<&BorrowedSeverity>,
    kev: Option<&vigil_vulndb::feeds::KevEntry>,
    epss: Option<&vigil_vulndb::feeds::EpssScore>,
) -> Result<()> {
    let verdict = if c.evaluation.affected { "AFFECTED" } else { "not affected" };
    let mut head = format!("{}  {verdict}", c.id);
    if !c.aliases.is_empty() {
        head.push_str(&format!("  ({})", c.aliases.join(", ")));
    }
    writeln!(out, "{head}")?;
    if let Some(s) = &c.summary {
        writeln!(out, "  {s}")?;
    }
    let rated = |s: vigil_core::severity::Severity, score: Option<f64>, source: Option<&str>| match score {
        Some(score) => format!("{s} {score:.1} from {}", source.unwrap_or("?")),
        None => format!("{s} from {}", source.unwrap_or("?")),
    };
    let severity = match (c.severity, borrowed) {
        (_, Some(b)) => format!(
            "{} of {} (this record has none; {} is about the same {})",
            rated(b.severity, b.cvss_score, b.source.as_deref()),
            b.id,
            b.id,
            b.alias
        ),
        (Some(s), None) => rated(s, c.cvss_score, c.severity_source.as_deref()),
        (None, None) => "unknown".to_owned(),
    };
    writeln!(out, "  severity: {severity}")?;
    writeln!(out, "  entry:    {} {}", c.ecosystem, c.package)?;
    for check in &c.evaluation.checks {
        writeln!(out, "  {}", check.describe())?;
    }
    if c.evaluation.checks.is_empty() {
        writeln!(out, "  no ranges and no versions listed: affects nothing")?;
    }
    let fixed = if c.fixed.is_empty() { "no fix listed".to_owned() } else { c.fixed.join(", ") };
    writeln!(out, "  fixed in: {fixed}")?;
    if let Some(s) = &c.status {
        writeln!(out, "  status:   {s}")?;
    }
    if let Some(i) = &c.informational {
        writeln!(out, "  informational: {i}")?;
    }
    if let Some(k) = kev {
        writeln!(
            out,
            "  KEV:      {} added {} (ransomware: {})",
            k.cve_id, k.date_added, k.known_ransomware_campaign_use
        )?;
    }
    if let Some(p) = epss {
        writeln!(out, "  EPSS:     {} {:.5} (percentile {:.5})", p.cve, p.score, p.percentile)?;
    }
    Ok(())
}

/// One explained advisory, with exploitation data.
#[derive(Serialize)]
struct Explained<'a> {
    #[serde(flatten)]
    candidate: &'a Candidate,
    /// The severity of another record of the same CVE, when this record has none.
    severity_from: Option<BorrowedSeverity>,
    kev: Option<vigil_vulndb::feeds::KevEntry>,
    epss: Option<vigil_vulndb::feeds::EpssScore>,
}

/// The whole `explain` answer.
#[derive(Serialize)]
struct Explanation<'a> {
    ecosystem: &'a str,
    package: &'a str,
    version: &'a str,
    scheme: Option<&'static str>,
    checked: usize,
    affected: usize,
    advisories: Vec<Explained<'a>>,
}

/// Lists the advisories that affect a package version, with the reasons.
pub fn explain(
    config: &Config,
    db: &Path,
    (ecosystem, package, version): (&str, &str, &str),
    all: bool,
    format: Format,
    quiet: bool,
) -> Result<()> {
    let database = open(config, db, quiet)?;
    let candidates = database.candidates(ecosystem, package, version)?;
    let affected = candidates.iter().filter(|c| c.evaluation.affected).count();
    let shown: Vec<&Candidate> = candidates.iter().filter(|c| all || c.evaluation.affected).collect();
    let mut advisories = Vec::with_capacity(shown.len());
    for c in shown {
        let mut ids = vec![c.id.clone()];
        ids.extend(c.aliases.iter().cloned());
        advisories.push(Explained {
            candidate: c,
            severity_from: borrowed_severity(&database, c)?,
            kev: database.kev(&ids)?,
            epss: database.epss(&ids)?,
        });
    }
    let answer = Explanation {
        ecosystem,
        package,
        version,
        scheme: vigil_version::Scheme::for_ecosystem(ecosystem).map(|s| s.name()),
        checked: candidates.len(),
        affected,
        advisories,
    };
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &answer)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{ecosystem} {package} {version}: {affected} of {} advisories for this package affect this version{}",
        candidates.len(),
        answer.scheme.map(|s| format!(" (versions ordered by {s})")).unwrap_or_default()
    )?;
    if answer.scheme.is_none() {
        writeln!(out, "warning: Vigil has no version scheme for ecosystem {ecosystem}; ranges are not evaluated")?;
    }
    for e in &answer.advisories {
        writeln!(out)?;
        write_candidate(&mut out, e.candidate, e.severity_from.as_ref(), e.kev.as_ref(), e.epss.as_ref())?;
    }
    Ok(())
}

//! Configuration checks over a target's read-only root filesystem.
//!
//! Three families, one result shape ([`Issue`], the shape a Vigil server
//! takes in an upload's `results`):
//!
//! - [`policy`]: compliance policies (YAML, in the spirit of Wazuh SCA) of
//!   checks over files, directories, file contents, permissions and owners,
//!   packages and configured kernel parameters; each check passes, fails, does
//!   not apply or errs, with its evidence. Baselines for Debian/Ubuntu,
//!   RHEL-family and Alpine are built in.
//! - [`iac`]: misconfiguration rules for Dockerfiles, Kubernetes manifests and
//!   docker-compose files, one module per format, every rule listed in
//!   [`iac::RULES`].
//! - [`secrets`]: leaked credentials by well-known formats and high-entropy
//!   assignments, every rule listed in [`secrets::RULES`]; the secret is
//!   masked wherever it is shown.
//!
//! Everything reads through [`vigil_inventory::fs::RootFs`], so nothing is
//! written, no link is followed out of the root and every read is capped.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod files;
pub mod iac;
pub mod policy;
pub mod secrets;
mod yaml;

use serde::{Deserialize, Serialize};
use vigil_core::inventory::Inventory;
use vigil_core::severity::Severity;
use vigil_inventory::fs::RootFs;

pub use files::Limits;

/// Which family found an issue (the `source` of an upload's result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A compliance check or a misconfiguration rule.
    Config,
    /// A leaked credential.
    Secret,
}

impl Source {
    /// `config` or `secret`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Config => "config",
            Source::Secret => "secret",
        }
    }
}

/// One failed check, misconfiguration or secret, in the shape a Vigil
/// server takes as an upload's `results`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// `config` or `secret`.
    pub source: Source,
    /// The check's stable id (`debian-ssh-root-login`, `DOCKER-ROOT-USER`, `aws-access-key-id`).
    pub rule: String,
    /// What is wrong, in a line.
    pub title: String,
    /// How bad it is.
    pub severity: Severity,
    /// The file inside the target (or the policy, for a check about a missing file).
    pub location: String,
    /// What tells two issues of one rule in one file apart: a secret's
    /// fingerprint, a Kubernetes object and container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The line, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The image layer the file came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// CWE id (`CWE-798`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwe: Option<String>,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// What proves it: the offending setting, the masked secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<serde_json::Value>,
    /// Further reading and compliance references.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
}

/// What to run over a target.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Compliance policies to evaluate (see [`policy::select`]).
    pub policies: Vec<policy::Policy>,
    /// Misconfiguration rules over Dockerfiles, manifests and compose files.
    pub misconfig: bool,
    /// Secret detection.
    pub secrets: Option<secrets::Config>,
    /// Caps on what is read.
    pub limits: Limits,
}

/// What a run found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Every compliance check evaluated, whatever its outcome.
    pub checks: Vec<policy::CheckResult>,
    /// Failed checks, misconfigurations and secrets, sorted by location, line and rule.
    pub issues: Vec<Issue>,
    /// Files skipped or unreadable, each naming the file.
    pub warnings: Vec<String>,
}

/// Whether a run with `options` reads the contents of the file at `path`:
/// what an image read must keep for it.
pub fn wants(options: &Options, path: &str) -> bool {
    options.policies.iter().any(|p| p.wants(path))
        || (options.misconfig && iac::FORMATS.iter().any(|f| (f.matches)(path)))
        || (options.secrets.is_some() && secrets::wants(path))
}

/// Runs what `options` asks for over `fs`; `inventory` (of the same target)
/// answers package rules and says which OS it is.
pub fn scan(fs: &RootFs, inventory: &Inventory, options: &Options) -> Report {
    let mut report = Report::default();
    for policy in &options.policies {
        let results = policy::evaluate(policy, fs, inventory);
        report.issues.extend(results.iter().filter_map(|r| r.issue(policy)));
        report.checks.extend(results);
    }
    if options.misconfig || options.secrets.is_some() {
        let found = files::candidates(fs, &options.limits, &mut report.warnings);
        if options.misconfig {
            iac::scan(fs, &found, &options.limits, &mut report.issues, &mut report.warnings);
        }
        if let Some(config) = &options.secrets {
            secrets::scan(fs, &found, config, &options.limits, &mut report.issues, &mut report.warnings);
        }
    }
    for issue in &mut report.issues {
        if issue.layer.is_none() && issue.location.starts_with('/') {
            issue.layer = fs.layer(&issue.location);
        }
    }
    report.issues.sort_by(|a, b| (&a.location, a.line, &a.rule, &a.key).cmp(&(&b.location, b.line, &b.rule, &b.key)));
    report
}

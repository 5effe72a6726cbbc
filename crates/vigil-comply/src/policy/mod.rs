//! Compliance policies: the YAML format (documented in
//! `docs/compliance.md`), the built-in baselines, and how policies are
//! selected, extended and overridden.
//!
//! A policy names the platforms it is for (`ID` values of os-release) and
//! lists checks; a check has an id, title, severity, rationale, remediation,
//! compliance references, optional `applies` rules (all true, or the check
//! does not apply) and `rules` combined by `condition` (`all`, `any`,
//! `none`). Rules are evaluated by [`eval`].

mod eval;

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};
use vigil_core::inventory::OsInfo;
use vigil_core::severity::Severity;

pub use eval::evaluate;

use crate::{Issue, Source};

/// The built-in policies: (name, YAML).
pub static BUILTIN: &[(&str, &str)] = &[
    ("debian", include_str!("../../policies/debian.yaml")),
    ("rhel", include_str!("../../policies/rhel.yaml")),
    ("alpine", include_str!("../../policies/alpine.yaml")),
];

/// A policy, parsed and checked.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Who it is and what it is for.
    pub policy: About,
    /// A policy (built-in name or file) this one extends: its checks are
    /// taken, replaced by id where this file has a check of the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// Ids of inherited checks left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disable: Vec<String>,
    /// The checks.
    #[serde(default)]
    pub checks: Vec<Check>,
}

/// A policy's description.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct About {
    /// Its id (`debian`).
    pub id: String,
    /// Its title.
    pub title: String,
    /// What it covers.
    #[serde(default)]
    pub description: String,
    /// os-release `ID`s it is for (`debian`, `ubuntu`); empty for any.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// Sources it was written from.
    #[serde(default)]
    pub references: Vec<String>,
}

/// One check.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Stable id (`debian-ssh-root-login`).
    pub id: String,
    /// What it requires, as a statement.
    pub title: String,
    /// How bad a failure is.
    pub severity: Severity,
    /// Why it matters.
    #[serde(default)]
    pub rationale: String,
    /// How to make it pass.
    #[serde(default)]
    pub remediation: String,
    /// Framework -> control ids (`cis-debian-12: ["5.1.20"]`).
    #[serde(default)]
    pub compliance: BTreeMap<String, Vec<String>>,
    /// Further reading.
    #[serde(default)]
    pub references: Vec<String>,
    /// Rules that must all hold for the check to apply.
    #[serde(default)]
    pub applies: Vec<Rule>,
    /// How the rules combine.
    #[serde(default)]
    pub condition: Condition,
    /// The rules.
    pub rules: Vec<Rule>,
}

/// How a check's rules combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    /// Every rule holds.
    #[default]
    All,
    /// At least one rule holds.
    Any,
    /// No rule holds.
    None,
}

/// One rule over the target.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// A regular file exists (or not).
    File {
        /// Its path.
        path: String,
        /// Whether it must exist.
        #[serde(default = "yes")]
        exists: bool,
    },
    /// A directory exists (or not).
    Directory {
        /// Its path.
        path: String,
        /// Whether it must exist.
        #[serde(default = "yes")]
        exists: bool,
    },
    /// Lines of files match a regular expression; group 1 is the value.
    Content {
        /// Files read in order; the last component may hold `*` (`/etc/ssh/sshd_config.d/*.conf`).
        paths: Vec<String>,
        /// Regular expression matched against each line.
        pattern: String,
        /// Whether a matching line must be present (default) or absent.
        #[serde(default)]
        expect: Expect,
        /// What the value of the deciding line must satisfy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<Compare>,
        /// Which matching line decides: the `last` (default) or `first`, or `all` must satisfy `value`.
        #[serde(default)]
        decides: Decides,
        /// The value the program uses when no line sets one (compared instead of failing).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
    },
    /// Permission bits, owner and group of a path.
    Permissions {
        /// Its path.
        path: String,
        /// Largest mode allowed (octal, `"0640"`): no permission bit outside it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_mode: Option<String>,
        /// Owners allowed (names from the target's /etc/passwd, or uids).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        owner: Vec<String>,
        /// Groups allowed (names from the target's /etc/group, or gids).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        group: Vec<String>,
        /// Whether a missing path passes (default: it fails).
        #[serde(default)]
        missing_ok: bool,
    },
    /// No file or directory below `under` has any of the `forbid_mode` bits
    /// (unless it also has all of `unless_mode`, such as the sticky bit).
    Tree {
        /// The directory walked (links are not followed).
        under: String,
        /// `file` or `dir`.
        kind: TreeKind,
        /// Bits none may have (octal, `"0002"`: world-writable).
        forbid_mode: String,
        /// Bits that excuse an entry (octal, `"1000"`: sticky).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unless_mode: Option<String>,
        /// Entries below these paths are not looked at.
        #[serde(default)]
        exclude: Vec<String>,
    },
    /// A package is installed (or not), optionally at least at a version.
    Package {
        /// Its name as the package manager spells it.
        name: String,
        /// Whether it must be installed.
        #[serde(default = "yes")]
        installed: bool,
        /// Least version, in the package manager's ordering.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_version: Option<String>,
    },
    /// A service is enabled at boot (or not): systemd `*.wants` links or OpenRC runlevels.
    Service {
        /// The unit or service name (`ssh`, `auditd`).
        name: String,
        /// Whether it must be enabled.
        #[serde(default = "yes")]
        enabled: bool,
    },
    /// A kernel parameter as configured in sysctl.conf and sysctl.d (the
    /// value applied at boot; a live host's running value is read the same way later).
    Sysctl {
        /// The key (`net.ipv4.ip_forward`).
        key: String,
        /// What its value must satisfy.
        value: Compare,
        /// The kernel's value when nothing configures it (compared instead of failing).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
    },
    /// A command's output (live hosts only; a root filesystem or image is
    /// never executed, so this rule does not apply to them).
    Command {
        /// The command line.
        run: String,
        /// Regular expression its output must match.
        pattern: String,
    },
}

fn yes() -> bool {
    true
}

/// Whether matching lines must exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// A matching line must be present.
    #[default]
    Present,
    /// No line may match.
    Absent,
}

/// Which matching line decides a content rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decides {
    /// The last one (most configuration files: later settings win).
    #[default]
    Last,
    /// The first one (sshd: the first value obtained is used).
    First,
    /// Every one.
    All,
}

/// What `Tree` walks over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TreeKind {
    /// Regular files.
    File,
    /// Directories.
    Dir,
}

/// A test of a value. Text comparisons ignore ASCII case; numeric ones
/// read the value as a number (an error when it is not one).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Compare {
    /// Equal to this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// Equal to one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub one_of: Vec<String>,
    /// Not equal to any of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub none_of: Vec<String>,
    /// At most this number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<f64>,
    /// At least this number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    /// Matching this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
}

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It holds.
    Pass,
    /// It does not.
    Fail,
    /// It does not apply to this target.
    NotApplicable,
    /// It could not be decided (an unreadable file, a value that is no number).
    Error,
}

impl Status {
    /// `pass`, `fail`, `not_applicable`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotApplicable => "not_applicable",
            Status::Error => "error",
        }
    }
}

/// What a rule saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The file, when about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The line, when about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The value found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// What it means.
    pub message: String,
}

/// The outcome of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The policy's id.
    pub policy: String,
    /// The check's id.
    pub id: String,
    /// The check's title.
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// Pass, fail, not applicable or error.
    pub status: Status,
    /// What the rules saw.
    pub evidence: Vec<Evidence>,
    /// Compliance references.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub compliance: BTreeMap<String, Vec<String>>,
}

impl CheckResult {
    /// A failed check as an issue (none for other outcomes).
    pub fn issue(&self, policy: &Policy) -> Option<Issue> {
        if self.status != Status::Fail {
            return None;
        }
        let check = policy.checks.iter().find(|c| c.id == self.id)?;
        let first = self.evidence.iter().find(|e| e.file.is_some());
        let mut references: Vec<String> =
            self.compliance.iter().flat_map(|(k, ids)| ids.iter().map(move |id| format!("{k}:{id}"))).collect();
        references.extend(check.references.iter().cloned());
        Some(Issue {
            source: Source::Config,
            rule: self.id.clone(),
            title: self.title.clone(),
            severity: self.severity,
            location: first.and_then(|e| e.file.clone()).unwrap_or_else(|| format!("policy:{}", self.policy)),
            key: None,
            line: first.and_then(|e| e.line),
            layer: None,
            cwe: None,
            remediation: (!check.remediation.is_empty()).then(|| check.remediation.clone()),
            evidence: serde_json::to_value(&self.evidence).ok(),
            references,
        })
    }
}

impl Policy {
    /// Reads a policy; errors name the field. Regular expressions and
    /// modes are checked here, so evaluation never meets a bad one.
    pub fn parse(text: &str) -> Result<Policy, String> {
        let policy: Policy = crate::yaml::from_str(text)?;
        policy.validate()?;
        Ok(policy)
    }

    fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for (i, check) in self.checks.iter().enumerate() {
            let at = |what: &str| format!("checks[{i}] ({}).{what}", check.id);
            if !seen.insert(&check.id) {
                return Err(at("id: used by two checks"));
            }
            if check.rules.is_empty() {
                return Err(at("rules: a check needs at least one rule"));
            }
            for (field, rules) in [("applies", &check.applies), ("rules", &check.rules)] {
                for (j, rule) in rules.iter().enumerate() {
                    rule.validate().map_err(|e| at(&format!("{field}[{j}].{e}")))?;
                }
            }
        }
        Ok(())
    }

    /// Whether its checks read the contents of the file at `path`.
    pub fn wants(&self, path: &str) -> bool {
        const ALWAYS: &[&str] = &["/etc/passwd", "/etc/group", "/etc/sysctl.conf"];
        let sysctl =
            ["/etc/sysctl.d/", "/run/sysctl.d/", "/usr/local/lib/sysctl.d/", "/usr/lib/sysctl.d/", "/lib/sysctl.d/"];
        ALWAYS.contains(&path)
            || sysctl.iter().any(|d| path.starts_with(d))
            || self.checks.iter().flat_map(|c| c.applies.iter().chain(&c.rules)).any(|rule| match rule {
                Rule::Content { paths, .. } => paths.iter().any(|p| path_matches(p, path)),
                _ => false,
            })
    }

    /// Whether it is meant for this OS (any OS when it names no platform).
    pub fn applies_to(&self, os: Option<&OsInfo>) -> bool {
        self.policy.platforms.is_empty() || os.is_some_and(|os| self.policy.platforms.contains(&os.id))
    }
}

/// Whether `path` is named by `pattern` (a `*` or `?` in its last component).
fn path_matches(pattern: &str, path: &str) -> bool {
    match (pattern.rsplit_once('/'), path.rsplit_once('/')) {
        (Some((pd, pn)), Some((d, n))) => pd == d && eval::glob(pn, n),
        _ => pattern == path,
    }
}

/// An octal mode (`"0640"`).
pub(crate) fn mode(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text.trim_start_matches("0o"), 8).map_err(|_| format!("`{text}` is not an octal mode"))
}

impl Rule {
    fn validate(&self) -> Result<(), String> {
        let regex = |field: &str, p: &str| Regex::new(p).map(|_| ()).map_err(|e| format!("{field}: {e}"));
        match self {
            Rule::Content { pattern, value, paths, .. } => {
                if paths.is_empty() {
                    return Err("paths: give at least one file".into());
                }
                regex("pattern", pattern)?;
                if let Some(Compare { matches: Some(m), .. }) = value {
                    regex("value.matches", m)?;
                }
            }
            Rule::Sysctl { value: Compare { matches: Some(m), .. }, .. } => regex("value.matches", m)?,
            Rule::Command { pattern, .. } => regex("pattern", pattern)?,
            Rule::Permissions { max_mode: Some(m), .. } => mode(m).map(|_| ()).map_err(|e| format!("max_mode: {e}"))?,
            Rule::Tree { forbid_mode, unless_mode, .. } => {
                mode(forbid_mode).map_err(|e| format!("forbid_mode: {e}"))?;
                if let Some(m) = unless_mode {
                    mode(m).map_err(|e| format!("unless_mode: {e}"))?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Loads one policy: a built-in name, or a file read through `read`
/// (which returns its text); `extends` is followed (at most 8 deep).
pub fn load(spec: &str, read: &dyn Fn(&str) -> Result<String, String>) -> Result<Policy, String> {
    load_depth(spec, read, 0)
}

fn load_depth(spec: &str, read: &dyn Fn(&str) -> Result<String, String>, depth: usize) -> Result<Policy, String> {
    if depth > 8 {
        return Err(format!("{spec}: `extends` goes more than 8 policies deep (a loop?)"));
    }
    let text = match BUILTIN.iter().find(|(name, _)| *name == spec) {
        Some((_, text)) => text.to_string(),
        None => read(spec)?,
    };
    let mut policy = Policy::parse(&text).map_err(|e| format!("{spec}: {e}"))?;
    if let Some(base) = policy.extends.clone() {
        let base = load_depth(&base, read, depth + 1)?;
        for id in &policy.disable {
            if !base.checks.iter().any(|c| &c.id == id) {
                return Err(format!("{spec}: disable: `{id}` is not a check of {}", base.policy.id));
            }
        }
        let mut checks: Vec<Check> = base
            .checks
            .into_iter()
            .filter(|c| !policy.disable.contains(&c.id))
            .map(|c| match policy.checks.iter().position(|o| o.id == c.id) {
                Some(i) => policy.checks.remove(i),
                None => c,
            })
            .collect();
        checks.append(&mut policy.checks);
        policy.checks = checks;
        if policy.policy.platforms.is_empty() {
            policy.policy.platforms = base.policy.platforms;
        }
    } else if !policy.disable.is_empty() {
        return Err(format!("{spec}: disable: only a policy that `extends` another can disable its checks"));
    }
    Ok(policy)
}

/// The policies to run: those named (built-in names or files), or when
/// none is named, the built-in policies for the target's OS.
pub fn select(
    specs: &[String],
    os: Option<&OsInfo>,
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Vec<Policy>, String> {
    if specs.is_empty() {
        let mut found = Vec::new();
        for (name, _) in BUILTIN {
            let policy = load(name, read)?;
            if policy.applies_to(os) {
                found.push(policy);
            }
        }
        return Ok(found);
    }
    specs.iter().map(|s| load(s, read)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_files(path: &str) -> Result<String, String> {
        Err(format!("{path}: no such file"))
    }

    #[test]
    fn builtin_policies_parse() {
        for (name, _) in BUILTIN {
            let policy = load(name, &no_files).unwrap();
            assert_eq!(&policy.policy.id, name);
            assert!(policy.checks.iter().all(|c| !c.title.is_empty() && !c.remediation.is_empty()), "{name}");
        }
        assert!(load("debian", &no_files).unwrap().checks.len() >= 60);
    }

    #[test]
    fn extend_override_and_disable() {
        let custom = "policy: {id: ours, title: Ours}\nextends: debian\ndisable: [debian-ssh-x11-forwarding]\n\
                      checks:\n- id: debian-ssh-root-login\n  title: No root over SSH, ours\n  severity: critical\n\
                      \x20 remediation: fix\n  rules:\n  - {type: file, path: /etc/ssh/sshd_config}\n\
                      - id: ours-motd\n  title: A motd\n  severity: low\n  remediation: add one\n  rules:\n  - {type: file, path: /etc/motd}\n";
        let read = |p: &str| if p == "ours.yaml" { Ok(custom.to_string()) } else { no_files(p) };
        let base = load("debian", &no_files).unwrap();
        let policy = load("ours.yaml", &read).unwrap();
        assert_eq!(policy.checks.len(), base.checks.len());
        let root = policy.checks.iter().find(|c| c.id == "debian-ssh-root-login").unwrap();
        assert_eq!(root.severity, Severity::Critical);
        assert!(!policy.checks.iter().any(|c| c.id == "debian-ssh-x11-forwarding"));
        assert_eq!(policy.policy.platforms, base.policy.platforms);
    }

    #[test]
    fn bad_policies_name_the_field() {
        let bad = "policy: {id: x, title: X}\nchecks:\n- id: a\n  title: A\n  severity: low\n  rules:\n\
                   \x20 - {type: content, paths: [/etc/x], pattern: '('}\n";
        assert!(
            Policy::parse(bad).unwrap_err().starts_with("checks[0] (a).rules[0].pattern"),
            "{}",
            Policy::parse(bad).unwrap_err()
        );
        let unknown =
            "policy: {id: x, title: X}\nchecks:\n- id: a\n  title: A\n  severity: low\n  rules:\n  - {type: telnet}\n";
        assert!(Policy::parse(unknown).is_err());
        let looped = |_: &str| Ok("policy: {id: x, title: X}\nextends: self.yaml\n".to_string());
        assert!(load("self.yaml", &looped).unwrap_err().contains("loop"));
    }
}

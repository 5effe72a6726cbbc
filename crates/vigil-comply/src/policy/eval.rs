//! Evaluation of a policy's checks over a read-only root filesystem.
//!
//! Each rule holds or not, with evidence, or does not apply (a command on a
//! target that is never executed), or errs (an unreadable file, a value
//! that should be a number and is not). A check applies when all its
//! `applies` rules hold; it errs when a rule errs; otherwise its rules
//! combine by its condition.

use std::collections::HashMap;

use regex::Regex;
use vigil_core::inventory::Inventory;
use vigil_inventory::fs::RootFs;

use super::{Check, CheckResult, Compare, Condition, Decides, Evidence, Expect, Policy, Rule, Status, TreeKind, mode};

/// Most entries a `tree` rule walks.
const MAX_TREE_ENTRIES: usize = 2_000_000;
/// Most offenders a `tree` rule lists as evidence.
const MAX_OFFENDERS: usize = 20;

/// What one rule made of the target.
enum Outcome {
    /// Whether it holds, and what it saw.
    Holds(bool, Vec<Evidence>),
    /// It does not apply to this kind of target.
    NotApplicable(String),
    /// It could not be decided.
    Error(String),
}

fn evidence(file: Option<&str>, line: Option<u32>, value: Option<&str>, message: String) -> Evidence {
    let value = value.map(|v| {
        if v.chars().count() > 200 { format!("{}…", v.chars().take(200).collect::<String>()) } else { v.to_owned() }
    });
    Evidence { file: file.map(str::to_owned), line, value, message }
}

/// Evaluates every check of `policy` against `fs` (and the packages of `inventory`).
pub fn evaluate(policy: &Policy, fs: &RootFs, inventory: &Inventory) -> Vec<CheckResult> {
    let os = inventory.os.as_ref();
    let foreign = (!policy.applies_to(os)).then(|| {
        format!(
            "the policy is for {}; the target is {}",
            policy.policy.platforms.join(", "),
            os.map_or("an unknown OS".to_owned(), |o| o.id.clone())
        )
    });
    let mut ctx = Context { fs, inventory, users: None, groups: None, sysctl: None };
    policy
        .checks
        .iter()
        .map(|check| {
            let (status, evidence) = match &foreign {
                Some(why) => (Status::NotApplicable, vec![evidence(None, None, None, why.clone())]),
                None => ctx.check(check),
            };
            CheckResult {
                policy: policy.policy.id.clone(),
                id: check.id.clone(),
                title: check.title.clone(),
                severity: check.severity,
                status,
                evidence,
                compliance: check.compliance.clone(),
            }
        })
        .collect()
}

struct Context<'a> {
    fs: &'a RootFs,
    inventory: &'a Inventory,
    users: Option<HashMap<String, u32>>,
    groups: Option<HashMap<String, u32>>,
    sysctl: Option<Result<Sysctl, String>>,
}

/// Configured kernel parameters: key -> (value, file, line).
type Sysctl = HashMap<String, (String, String, u32)>;

impl Context<'_> {
    fn check(&mut self, check: &Check) -> (Status, Vec<Evidence>) {
        for rule in &check.applies {
            match self.rule(rule) {
                Outcome::Holds(true, _) => {}
                Outcome::Holds(false, ev) => {
                    let mut ev = ev;
                    ev.insert(0, evidence(None, None, None, "does not apply to this target:".into()));
                    return (Status::NotApplicable, ev);
                }
                Outcome::NotApplicable(why) => return (Status::NotApplicable, vec![evidence(None, None, None, why)]),
                Outcome::Error(e) => return (Status::Error, vec![evidence(None, None, None, e)]),
            }
        }
        let mut results = Vec::new();
        for rule in &check.rules {
            match self.rule(rule) {
                Outcome::Holds(holds, ev) => results.push((holds, ev)),
                Outcome::NotApplicable(why) => return (Status::NotApplicable, vec![evidence(None, None, None, why)]),
                Outcome::Error(e) => return (Status::Error, vec![evidence(None, None, None, e)]),
            }
        }
        let passed = match check.condition {
            Condition::All => results.iter().all(|(h, _)| *h),
            Condition::Any => results.iter().any(|(h, _)| *h),
            Condition::None => !results.iter().any(|(h, _)| *h),
        };
        // A failure shows the rules that made it fail first.
        let blames = |holds: bool| match check.condition {
            Condition::All | Condition::Any => !holds,
            Condition::None => holds,
        };
        results.sort_by_key(|(holds, _)| !blames(*holds));
        let status = if passed { Status::Pass } else { Status::Fail };
        (status, results.into_iter().flat_map(|(_, ev)| ev).collect())
    }

    fn rule(&mut self, rule: &Rule) -> Outcome {
        match rule {
            Rule::File { path, exists } => self.exists(path, *exists, false),
            Rule::Directory { path, exists } => self.exists(path, *exists, true),
            Rule::Content { paths, pattern, expect, value, decides, default } => {
                self.content(paths, pattern, *expect, value.as_ref(), *decides, default.as_deref())
            }
            Rule::Permissions { path, max_mode, owner, group, missing_ok } => {
                self.permissions(path, max_mode.as_deref(), owner, group, *missing_ok)
            }
            Rule::Tree { under, kind, forbid_mode, unless_mode, exclude } => {
                self.tree(under, *kind, forbid_mode, unless_mode.as_deref(), exclude)
            }
            Rule::Package { name, installed, min_version } => self.package(name, *installed, min_version.as_deref()),
            Rule::Service { name, enabled } => self.service(name, *enabled),
            Rule::Sysctl { key, value, default } => self.sysctl(key, value, default.as_deref()),
            Rule::Command { run, .. } => Outcome::NotApplicable(format!(
                "runs `{run}`: commands are evaluated on live hosts only; a root filesystem or image is never executed"
            )),
        }
    }

    /// Whether `path` exists as a file (or a directory).
    fn exists(&self, path: &str, want: bool, dir: bool) -> Outcome {
        let found = match self.fs.resolve(path) {
            Err(e) => return Outcome::Error(e.to_string()),
            Ok(None) => false,
            // A regular file streams (or is there but not kept or too large); anything else is not a file.
            Ok(Some(_)) => {
                let is_file = !matches!(self.fs.stream(path), Ok(None));
                is_file != dir
            }
        };
        let what = if dir { "directory" } else { "file" };
        let message = if found { format!("{what} exists") } else { format!("no such {what}") };
        Outcome::Holds(found == want, vec![evidence(Some(path), None, None, message)])
    }

    /// The files a content rule reads, in order: a `*` in the last component is expanded (sorted).
    fn expand(&self, path: &str) -> Result<Vec<String>, String> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        if !name.contains('*') {
            return Ok(vec![path.to_owned()]);
        }
        let dir = if dir.is_empty() { "/" } else { dir };
        let names = self.fs.read_dir(dir).map_err(|e| e.to_string())?;
        Ok(names.into_iter().filter(|n| glob(name, n)).map(|n| format!("{}/{n}", dir.trim_end_matches('/'))).collect())
    }

    fn content(
        &self,
        paths: &[String],
        pattern: &str,
        expect: Expect,
        value: Option<&Compare>,
        decides: Decides,
        default: Option<&str>,
    ) -> Outcome {
        let Ok(regex) = Regex::new(pattern) else { return Outcome::Error(format!("bad pattern {pattern}")) };
        let mut last_read: Option<String> = None;
        let mut found: Vec<(String, u32, String)> = Vec::new();
        for path in paths {
            let files = match self.expand(path) {
                Ok(files) => files,
                Err(e) => return Outcome::Error(e),
            };
            for file in files {
                let text = match self.fs.read(&file) {
                    Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
                    Ok(None) => continue,
                    Err(e) => return Outcome::Error(e.to_string()),
                };
                last_read = Some(file.clone());
                for (n, line) in text.lines().enumerate() {
                    if let Some(caps) = regex.captures(line) {
                        let v = caps.get(1).or_else(|| caps.get(0)).map_or("", |m| m.as_str());
                        found.push((file.clone(), n as u32 + 1, v.trim().to_owned()));
                    }
                }
            }
        }
        let shown = paths.join(", ");
        let ev = |(file, line, value): &(String, u32, String), message: String| {
            evidence(Some(file), Some(*line), Some(value), message)
        };
        // Not set at all: the program's default value decides, when the rule names it.
        if found.is_empty()
            && expect == Expect::Present
            && let (Some(default), Some(compare)) = (default, value)
        {
            return match compare.test(default) {
                Ok(holds) => {
                    let verdict = if holds { "satisfies" } else { "does not satisfy" };
                    let message = format!("not set; the default {default} {verdict} {}", compare.describe());
                    Outcome::Holds(
                        holds,
                        vec![evidence(paths.first().map(String::as_str), None, Some(default), message)],
                    )
                }
                Err(e) => Outcome::Error(e),
            };
        }
        match expect {
            Expect::Absent => {
                let holds = found.is_empty();
                let evidence_list = if holds {
                    vec![evidence(
                        paths.first().map(String::as_str),
                        None,
                        None,
                        format!("no line matches `{pattern}`"),
                    )]
                } else {
                    found.iter().take(MAX_OFFENDERS).map(|f| ev(f, format!("matches `{pattern}`"))).collect()
                };
                Outcome::Holds(holds, evidence_list)
            }
            Expect::Present if found.is_empty() => {
                // Named after the last file read (where the setting would go), else the first one looked for.
                let (file, message) = match &last_read {
                    Some(file) => (file.as_str(), format!("no line of {shown} matches `{pattern}`")),
                    None => (paths.first().map_or("", String::as_str), format!("{shown}: not found")),
                };
                Outcome::Holds(false, vec![evidence(Some(file), None, None, message)])
            }
            Expect::Present => {
                let Some(compare) = value else {
                    return Outcome::Holds(true, vec![ev(&found[0], format!("matches `{pattern}`"))]);
                };
                let deciding: Vec<&(String, u32, String)> = match decides {
                    Decides::First => found.iter().take(1).collect(),
                    Decides::Last => found.iter().last().into_iter().collect(),
                    Decides::All => found.iter().collect(),
                };
                let mut holds = true;
                let mut list = Vec::new();
                for f in deciding {
                    match compare.test(&f.2) {
                        Ok(true) => list.push(ev(f, format!("value satisfies {}", compare.describe()))),
                        Ok(false) => {
                            holds = false;
                            list.insert(0, ev(f, format!("value does not satisfy {}", compare.describe())));
                        }
                        Err(e) => return Outcome::Error(format!("{}:{}: {e}", f.0, f.1)),
                    }
                }
                list.truncate(MAX_OFFENDERS);
                Outcome::Holds(holds, list)
            }
        }
    }

    /// Names to ids from the target's `/etc/passwd` (`users`) or `/etc/group`.
    fn ids(&mut self, users: bool) -> &HashMap<String, u32> {
        let (slot, file) = if users { (&mut self.users, "/etc/passwd") } else { (&mut self.groups, "/etc/group") };
        slot.get_or_insert_with(|| {
            let text =
                self.fs.read(file).ok().flatten().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
            text.lines()
                .filter_map(|l| {
                    let mut fields = l.split(':');
                    let name = fields.next()?;
                    let id = fields.nth(1)?.parse().ok()?;
                    Some((name.to_owned(), id))
                })
                .collect()
        })
    }

    fn permissions(
        &mut self,
        path: &str,
        max_mode: Option<&str>,
        owner: &[String],
        group: &[String],
        missing_ok: bool,
    ) -> Outcome {
        let meta = match self.fs.metadata(path) {
            Ok(Some(meta)) => meta,
            Ok(None) => {
                return Outcome::Holds(missing_ok, vec![evidence(Some(path), None, None, "no such file".into())]);
            }
            Err(e) => return Outcome::Error(e.to_string()),
        };
        let name_of = |ids: &HashMap<String, u32>, id: u32| {
            ids.iter().find(|(_, v)| **v == id).map_or(id.to_string(), |(k, _)| format!("{k}({id})"))
        };
        let users = self.ids(true).clone();
        let groups = self.ids(false).clone();
        let shown = format!(
            "mode {:04o} owner {} group {}",
            meta.mode & 0o7777,
            name_of(&users, meta.uid),
            name_of(&groups, meta.gid)
        );
        let mut problems = Vec::new();
        if let Some(max) = max_mode {
            let max = mode(max).unwrap_or(0);
            let extra = meta.mode & 0o7777 & !max;
            if extra != 0 {
                problems.push(format!("permission bits {extra:04o} beyond {max:04o}"));
            }
        }
        let allowed = |list: &[String], ids: &HashMap<String, u32>, id: u32| {
            list.iter().any(|want| want.parse::<u32>().ok().or_else(|| ids.get(want).copied()) == Some(id))
        };
        if !owner.is_empty() && !allowed(owner, &users, meta.uid) {
            problems.push(format!("owner is not {}", owner.join(" or ")));
        }
        if !group.is_empty() && !allowed(group, &groups, meta.gid) {
            problems.push(format!("group is not {}", group.join(" or ")));
        }
        let message = if problems.is_empty() { "as required".to_owned() } else { problems.join("; ") };
        Outcome::Holds(problems.is_empty(), vec![evidence(Some(&meta.path), None, Some(&shown), message)])
    }

    fn tree(&self, under: &str, kind: TreeKind, forbid: &str, unless: Option<&str>, exclude: &[String]) -> Outcome {
        let forbid = mode(forbid).unwrap_or(0);
        let unless = unless.map(|u| mode(u).unwrap_or(0));
        let excluded = |p: &str| {
            exclude
                .iter()
                .any(|e| p == e || p.strip_prefix(e.trim_end_matches('/')).is_some_and(|rest| rest.starts_with('/')))
        };
        let mut offenders = Vec::new();
        let mut count = 0usize;
        let walked = self.fs.walk_metadata(under, MAX_TREE_ENTRIES, &mut |meta| {
            let wanted = match kind {
                TreeKind::Dir => meta.mode & 0o170000 == 0o040000,
                TreeKind::File => meta.mode & 0o170000 == 0o100000,
            };
            let bad = meta.mode & forbid != 0 && unless.is_none_or(|u| meta.mode & u != u);
            if wanted && bad && !excluded(&meta.path) {
                count += 1;
                if offenders.len() < MAX_OFFENDERS {
                    let shown = format!("mode {:04o}", meta.mode & 0o7777);
                    offenders.push(evidence(Some(&meta.path), None, Some(&shown), format!("has bits {forbid:04o}")));
                }
            }
        });
        if let Err(e) = walked {
            return Outcome::Error(e.to_string());
        }
        if count == 0 {
            return Outcome::Holds(
                true,
                vec![evidence(Some(under), None, None, format!("no entry has bits {forbid:04o}"))],
            );
        }
        if count > offenders.len() {
            offenders.push(evidence(Some(under), None, None, format!("{count} entries in all")));
        }
        Outcome::Holds(false, offenders)
    }

    fn package(&self, name: &str, installed: bool, min_version: Option<&str>) -> Outcome {
        let found = self
            .inventory
            .packages
            .iter()
            .find(|p| p.name == name && matches!(p.cataloger.as_str(), "dpkg" | "apk" | "rpm"));
        let Some(package) = found else {
            return Outcome::Holds(
                !installed,
                vec![evidence(None, None, None, format!("package {name} is not installed"))],
            );
        };
        let shown = Some(package.version.as_str());
        let file = Some(package.location.path.as_str());
        if !installed {
            return Outcome::Holds(false, vec![evidence(file, None, shown, format!("package {name} is installed"))]);
        }
        let Some(min) = min_version else {
            return Outcome::Holds(true, vec![evidence(file, None, shown, format!("package {name} is installed"))]);
        };
        let Some(scheme) = vigil_version::Scheme::for_ecosystem(&package.ecosystem) else {
            return Outcome::Error(format!("no version ordering for {}", package.ecosystem));
        };
        let holds = scheme.compare(&package.version, min) != std::cmp::Ordering::Less;
        let message = format!("package {name} {} {min}", if holds { "is at least" } else { "is older than" });
        Outcome::Holds(holds, vec![evidence(file, None, shown, message)])
    }

    fn service(&self, name: &str, want: bool) -> Outcome {
        let units = [format!("{name}.service"), format!("{name}.socket"), format!("{name}.timer")];
        let mut links = Vec::new();
        for dir in ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"] {
            let names = match self.fs.read_dir(dir) {
                Ok(names) => names,
                Err(e) => return Outcome::Error(e.to_string()),
            };
            // A masked unit (a link to /dev/null in /etc) is never started.
            if dir == "/etc/systemd/system"
                && units.iter().any(|u| names.contains(u) && self.masked(&format!("{dir}/{u}")))
            {
                return Outcome::Holds(
                    !want,
                    vec![evidence(Some(&format!("{dir}/{name}.service")), None, None, "masked".into())],
                );
            }
            for wants in names.iter().filter(|n| n.ends_with(".wants") || n.ends_with(".requires")) {
                let inside = self.fs.read_dir(&format!("{dir}/{wants}")).unwrap_or_default();
                links.extend(inside.iter().filter(|n| units.contains(n)).map(|n| format!("{dir}/{wants}/{n}")));
            }
        }
        for level in self.fs.read_dir("/etc/runlevels").unwrap_or_default() {
            let inside = self.fs.read_dir(&format!("/etc/runlevels/{level}")).unwrap_or_default();
            if inside.iter().any(|n| n == name) {
                links.push(format!("/etc/runlevels/{level}/{name}"));
            }
        }
        let enabled = !links.is_empty();
        let ev = match links.first() {
            Some(link) => evidence(Some(link), None, None, format!("{name} is enabled")),
            None => evidence(None, None, None, format!("{name} is not enabled at boot")),
        };
        Outcome::Holds(enabled == want, vec![ev])
    }

    fn masked(&self, path: &str) -> bool {
        matches!(self.fs.resolve(path), Ok(Some(p)) if p == "/dev/null")
    }

    /// Every configured kernel parameter: key -> (value, file, line), as
    /// systemd-sysctl applies them (drop-ins by file name, /etc first, then /etc/sysctl.conf).
    fn sysctl_settings(&self) -> Result<Sysctl, String> {
        let mut by_name: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
        for dir in ["/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"] {
            for name in self.fs.read_dir(dir).map_err(|e| e.to_string())? {
                if name.ends_with(".conf") {
                    by_name.entry(name.clone()).or_insert_with(|| format!("{dir}/{name}"));
                }
            }
        }
        let mut files: Vec<String> = by_name.into_values().collect();
        files.push("/etc/sysctl.conf".into());
        let mut settings = HashMap::new();
        for file in files {
            let Some(bytes) = self.fs.read(&file).map_err(|e| e.to_string())? else { continue };
            for (n, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
                let line = line.trim();
                if line.starts_with('#') || line.starts_with(';') {
                    continue;
                }
                let Some((key, value)) = line.split_once('=') else { continue };
                let key = key.trim().trim_start_matches('-').replace('/', ".");
                settings.insert(key, (value.trim().to_owned(), file.clone(), n as u32 + 1));
            }
        }
        Ok(settings)
    }

    fn sysctl(&mut self, key: &str, compare: &Compare, default: Option<&str>) -> Outcome {
        if self.sysctl.is_none() {
            self.sysctl = Some(self.sysctl_settings());
        }
        let settings = match self.sysctl.as_ref() {
            Some(Ok(settings)) => settings,
            Some(Err(e)) => return Outcome::Error(e.clone()),
            None => return Outcome::Error("sysctl settings unread".into()),
        };
        let Some((value, file, line)) = settings.get(key) else {
            let message = format!("{key} is not set in sysctl.conf or sysctl.d");
            return match default.map(|d| (d, compare.test(d))) {
                Some((d, Ok(holds))) => {
                    let verdict = if holds { "satisfies" } else { "does not satisfy" };
                    let message = format!("{message}; the kernel default {d} {verdict} {}", compare.describe());
                    Outcome::Holds(holds, vec![evidence(None, None, Some(d), message)])
                }
                Some((_, Err(e))) => Outcome::Error(e),
                None => Outcome::Holds(false, vec![evidence(None, None, None, message)]),
            };
        };
        match compare.test(value) {
            Ok(holds) => {
                let verdict = if holds { "satisfies" } else { "does not satisfy" };
                let message = format!("{key} {verdict} {}", compare.describe());
                Outcome::Holds(holds, vec![evidence(Some(file), Some(*line), Some(value), message)])
            }
            Err(e) => Outcome::Error(format!("{file}:{line}: {e}")),
        }
    }
}

/// `*` and `?` matching of one path component.
pub(super) fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

impl Compare {
    /// Whether `value` satisfies every test given.
    pub fn test(&self, value: &str) -> Result<bool, String> {
        let mut ok = true;
        if let Some(e) = &self.equals {
            ok &= value.eq_ignore_ascii_case(e);
        }
        if !self.one_of.is_empty() {
            ok &= self.one_of.iter().any(|o| value.eq_ignore_ascii_case(o));
        }
        if !self.none_of.is_empty() {
            ok &= !self.none_of.iter().any(|o| value.eq_ignore_ascii_case(o));
        }
        if self.at_most.is_some() || self.at_least.is_some() {
            let n: f64 = value.trim().parse().map_err(|_| format!("`{value}` is not a number"))?;
            ok &= self.at_most.is_none_or(|m| n <= m) && self.at_least.is_none_or(|m| n >= m);
        }
        if let Some(m) = &self.matches {
            ok &= Regex::new(m).map_err(|e| e.to_string())?.is_match(value);
        }
        Ok(ok)
    }

    /// The tests in words.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = &self.equals {
            parts.push(format!("= {e}"));
        }
        if !self.one_of.is_empty() {
            parts.push(format!("one of {}", self.one_of.join(", ")));
        }
        if !self.none_of.is_empty() {
            parts.push(format!("none of {}", self.none_of.join(", ")));
        }
        if let Some(m) = self.at_most {
            parts.push(format!("<= {m}"));
        }
        if let Some(m) = self.at_least {
            parts.push(format!(">= {m}"));
        }
        if let Some(m) = &self.matches {
            parts.push(format!("~ /{m}/"));
        }
        parts.join(" and ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*.conf", "a.conf"));
        assert!(!glob("*.conf", "a.conf.bak"));
        assert!(glob("?-*", "1-x"));
        assert!(glob("*", ""));
    }

    #[test]
    fn comparisons() {
        let c = Compare { at_most: Some(4.0), ..Compare::default() };
        assert_eq!(c.test("3"), Ok(true));
        assert_eq!(c.test("5"), Ok(false));
        assert!(c.test("x").is_err());
        let c = Compare { one_of: vec!["no".into(), "prohibit-password".into()], ..Compare::default() };
        assert_eq!(c.test("No"), Ok(true));
        assert_eq!(c.test("yes"), Ok(false));
    }
}

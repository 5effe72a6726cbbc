//! Leaked credentials in a target's files.
//!
//! Each text file (binaries and files over the cap are skipped) is searched
//! once for every rule's keywords with one Aho-Corasick automaton; only the
//! rules whose keywords occur run their pattern, over the lines they occur
//! on (the whole file for keys spanning lines) (`regex`: linear time, no
//! backtracking). A candidate must pass the rule's entropy threshold (3
//! bits per character unless the rule or configuration says otherwise) and
//! check, and must not be allowed by the configuration or by a
//! `pragma: allowlist secret` / `vigil:allow-secret` comment on its line.
//!
//! The secret never leaves this module whole: an issue carries it masked
//! ([`mask`]) and a fingerprint (a hash of rule and secret) as its key.

mod rules;

use std::collections::HashMap;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use vigil_inventory::fs::RootFs;

pub use rules::{RULES, Rule};

use crate::files::{self, Limits};
use crate::{Issue, Source};

/// Allow-lists and thresholds, from a YAML file:
///
/// ```yaml
/// allow: ['^AKIAIOSFODNN7EXAMPLE$']   # regexes over the secret itself
/// paths: ['^/usr/share/doc/']        # regexes over paths inside the target
/// entropy: { generic-secret: 4.0 }   # least entropy, per rule
/// disable: [jwt]                     # rules not run
/// ```
#[derive(Debug, Clone, Default)]
pub struct Config {
    allow: Vec<Regex>,
    paths: Vec<Regex>,
    entropy: HashMap<String, f64>,
    disable: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    entropy: HashMap<String, f64>,
    #[serde(default)]
    disable: Vec<String>,
}

impl Config {
    /// Reads a configuration; errors name the field.
    pub fn parse(text: &str) -> Result<Config, String> {
        let file: ConfigFile = crate::yaml::from_str(text)?;
        let compile = |field: &str, list: &[String]| {
            list.iter()
                .enumerate()
                .map(|(i, p)| Regex::new(p).map_err(|e| format!("{field}[{i}]: {e}")))
                .collect::<Result<Vec<_>, _>>()
        };
        for (i, id) in file.disable.iter().chain(file.entropy.keys()).enumerate() {
            if !RULES.iter().any(|r| r.id == id) {
                return Err(format!("rule {i} `{id}`: no such secret rule (see `vigil comply --list-rules`)"));
            }
        }
        Ok(Config {
            allow: compile("allow", &file.allow)?,
            paths: compile("paths", &file.paths)?,
            entropy: file.entropy,
            disable: file.disable,
        })
    }
}

/// Least entropy of a credential whose rule sets none: the format's own
/// characters make up most of a stand-in such as `ghp_xxxxxxxx...`.
const MIN_ENTROPY: f64 = 3.0;

/// The compiled rules and the keyword automaton.
struct Matcher {
    patterns: Vec<Regex>,
    keywords: AhoCorasick,
    /// For each keyword, the rules it enables.
    owners: Vec<usize>,
}

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    let mut words = Vec::new();
    let mut owners = Vec::new();
    for (i, rule) in RULES.iter().enumerate() {
        for word in rule.keywords {
            words.push(*word);
            owners.push(i);
        }
    }
    Matcher {
        patterns: RULES.iter().map(|r| Regex::new(r.pattern).expect("secret rule patterns compile")).collect(),
        keywords: AhoCorasick::builder().ascii_case_insensitive(true).build(&words).expect("keywords build"),
        owners,
    }
});

/// Shannon entropy of `s`, in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts: HashMap<char, usize> = HashMap::new();
    let mut n = 0usize;
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    counts.values().map(|&c| c as f64 / n as f64).map(|p| -p * p.log2()).sum()
}

/// `secret` masked: at most its first four characters of a long secret
/// (which name the kind of key, `AKIA`, `ghp_`), the rest as stars.
pub fn mask(secret: &str) -> String {
    let n = secret.chars().count();
    if n >= 16 {
        let head: String = secret.chars().take(4).collect();
        format!("{head}{}", "*".repeat((n - 4).min(16)))
    } else {
        "*".repeat(n.min(8))
    }
}

/// A stable fingerprint of a secret that does not reveal it.
fn fingerprint(rule: &str, secret: &str) -> String {
    let digest = Sha256::digest(format!("vigil-secret\0{rule}\0{secret}").as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The secrets in one file's text.
pub fn find(path: &str, text: &str, config: &Config) -> Vec<Issue> {
    let matcher = &*MATCHER;
    // Each rule runs only over the lines its keywords occur on (the whole text for keys spanning lines).
    let mut lines: Vec<Vec<(usize, usize)>> = vec![Vec::new(); RULES.len()];
    for m in matcher.keywords.find_overlapping_iter(text) {
        let rule = matcher.owners[m.pattern().as_usize()];
        let start = text[..m.start()].rfind('\n').map_or(0, |p| p + 1);
        let end = text[m.end()..].find('\n').map_or(text.len(), |p| m.end() + p);
        let spans = &mut lines[rule];
        match spans.last_mut() {
            Some(last) if last.1 >= start => last.1 = last.1.max(end),
            _ => spans.push((start, end)),
        }
    }
    let mut found = Vec::new();
    for (i, rule) in RULES.iter().enumerate() {
        if lines[i].is_empty() || config.disable.iter().any(|d| d == rule.id) {
            continue;
        }
        let threshold = config.entropy.get(rule.id).copied().or(rule.entropy).unwrap_or(MIN_ENTROPY);
        let spans = if rule.multiline { vec![(0, text.len())] } else { std::mem::take(&mut lines[i]) };
        let candidates = spans.into_iter().flat_map(|(start, end)| {
            matcher.patterns[i].captures_iter(&text[start..end]).map(move |caps| (start, caps))
        });
        for (offset, caps) in candidates {
            let Some(m) = caps.name("secret").or_else(|| caps.get(0)) else { continue };
            let secret = m.as_str().trim();
            let m_start = offset + m.start();
            if entropy(secret) < threshold
                || rule.check.is_some_and(|check| !check(secret, text))
                || config.allow.iter().any(|a| a.is_match(secret))
            {
                continue;
            }
            let line_start = text[..m_start].rfind('\n').map_or(0, |p| p + 1);
            let line_end = text[m_start..].find('\n').map_or(text.len(), |p| m_start + p);
            let line_text = &text[line_start..line_end];
            if line_text.contains("pragma: allowlist secret") || line_text.contains("vigil:allow-secret") {
                continue;
            }
            let line = files::line_of(text, m_start);
            let shown = if rule.id == "private-key" { format!("({} bytes)", secret.len()) } else { mask(secret) };
            found.push(Issue {
                source: Source::Secret,
                rule: rule.id.to_owned(),
                title: format!("{} in {path}", rule.title),
                severity: rule.severity,
                location: path.to_owned(),
                key: Some(fingerprint(rule.id, secret)),
                line: Some(line),
                layer: None,
                cwe: Some("CWE-798".into()),
                remediation: Some(
                    "Revoke and rotate this credential, remove it from the file (and from the history or image layer \
                     that holds it), and read it from a secret store or the environment at run time."
                        .into(),
                ),
                evidence: Some(serde_json::json!({
                    "secret": shown,
                    "length": secret.chars().count(),
                    "entropy": (entropy(secret) * 100.0).round() / 100.0,
                    "column": m_start - line_start + 1,
                })),
                references: Vec::new(),
            });
        }
    }
    // Two rules that found the same credential at the same place are one issue: the more specific rule's.
    found.sort_by_key(|i| i.line);
    let mut kept: Vec<Issue> = Vec::new();
    for issue in found {
        let column = |i: &Issue| i.evidence.as_ref().and_then(|e| e["column"].as_u64());
        let generic = |i: &Issue| matches!(i.rule.as_str(), "generic-secret" | "url-password");
        if let Some(other) = kept.iter_mut().find(|k| k.line == issue.line && column(k) == column(&issue)) {
            if generic(other) && !generic(&issue) {
                *other = issue;
            }
            continue;
        }
        kept.push(issue);
    }
    kept
}

/// Whether a file may hold secrets worth reading: anything but well-known
/// binary and media formats (images keep only these files' contents).
pub fn wants(path: &str) -> bool {
    const BINARY: &[&str] = &[
        ".so", ".a", ".o", ".ko", ".gz", ".xz", ".zst", ".bz2", ".zip", ".jar", ".png", ".jpg", ".jpeg", ".gif",
        ".ico", ".woff", ".woff2", ".ttf", ".otf", ".mo", ".pyc", ".deb", ".rpm", ".db", ".sqlite", ".wasm", ".mp3",
        ".mp4", ".pdf", ".bin", ".dat",
    ];
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let versioned_library = name.contains(".so.");
    !versioned_library && !BINARY.iter().any(|ext| name.ends_with(ext))
}

/// Looks for secrets in every candidate file.
pub(crate) fn scan(
    fs: &RootFs,
    found: &[String],
    config: &Config,
    limits: &Limits,
    issues: &mut Vec<Issue>,
    warnings: &mut Vec<String>,
) {
    let mut large = 0usize;
    for path in found {
        if !wants(path) || config.paths.iter().any(|p| p.is_match(path)) {
            continue;
        }
        // Files over the cap (databases, archives, binaries) are counted, not each warned about.
        if let Ok(Some(meta)) = fs.metadata(path)
            && meta.size > limits.max_file_bytes
        {
            large += 1;
            continue;
        }
        if let Some(text) = files::text(fs, path, limits, warnings) {
            issues.extend(find(path, &text, config));
        }
    }
    if large > 0 {
        warnings
            .push(format!("secrets: {large} files over the {} byte limit were not searched", limits.max_file_bytes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_found(text: &str) -> Vec<String> {
        find("/f", text, &Config::default()).into_iter().map(|i| i.rule).collect()
    }

    #[test]
    fn masks_never_show_the_secret() {
        assert_eq!(mask("AKIAZ7XQ4LMNPQRS2TUV"), "AKIA****************");
        assert_eq!(mask("hunter2"), "*******");
        let text = "token = \"ghp_R7v0b5Xy2Kq9Lm3Np8Qs1Tu4Vw6Yz0Ab2Cd4\"\n";
        let issue = &find("/f", text, &Config::default())[0];
        let shown = serde_json::to_string(issue).unwrap();
        assert!(!shown.contains("R7v0b5Xy2Kq9Lm3Np8Qs1Tu4Vw6Yz0Ab2Cd4"), "{shown}");
        assert_eq!((issue.rule.as_str(), issue.line), ("github-token", Some(1)));
    }

    #[test]
    fn look_alikes_are_not_secrets() {
        assert!(rules_found("key = AKIAIOSFODNN7EXAMPLE").is_empty());
        assert!(rules_found("password = \"${DB_PASSWORD}\"").is_empty());
        assert!(rules_found("password: \"changeme-please-123\"").is_empty());
        assert!(rules_found("url = postgres://user:${PASS}@db/x").is_empty());
        assert!(rules_found("token: ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx").is_empty());
        assert!(rules_found("-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----").is_empty());
        // The shape of a JWT, but no JSON header.
        assert!(rules_found("eyJhaGVsbG93b3JsZA.eyJhaGVsbG93b3JsZA.abcdefghijklmnopqrstu").is_empty());
    }

    #[test]
    fn allow_lists_and_pragmas() {
        let text = "api_key = \"q8Zr4Tn2Vb7Xw1Lp5Kd9\"\n";
        assert_eq!(rules_found(text), ["generic-secret"]);
        assert!(rules_found("api_key = \"q8Zr4Tn2Vb7Xw1Lp5Kd9\"  # pragma: allowlist secret").is_empty());
        let config = Config::parse("allow: ['^q8Zr']\n").unwrap();
        assert!(find("/f", text, &config).is_empty());
        let config = Config::parse("entropy: {generic-secret: 5.0}\n").unwrap();
        assert!(find("/f", text, &config).is_empty());
        assert!(Config::parse("disable: [nope]\n").unwrap_err().contains("no such secret rule"));
        assert!(Config::parse("allow: ['(']\n").unwrap_err().starts_with("allow[0]"));
    }
}

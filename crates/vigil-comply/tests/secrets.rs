//! Secret detection over the corpus in `tests/fixtures/secrets`: fake
//! credentials in real formats (listed in `truth.txt`, generated for these
//! tests; none is real) among look-alikes (documentation examples,
//! placeholders, lockfile hashes, checksums, UUIDs). Vigil must find every
//! credential and nothing else, and compared with Yelp's detect-secrets on
//! the same tree, find at least its true positives with fewer false ones.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use vigil_core::inventory::Inventory;
use vigil_inventory::fs::RootFs;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/secrets")
}

fn truth() -> BTreeSet<String> {
    let text = std::fs::read_to_string(corpus().join("truth.txt")).unwrap();
    text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(str::to_owned).collect()
}

fn ours() -> (BTreeSet<String>, Vec<vigil_comply::Issue>) {
    let fs = RootFs::open(&corpus(), 1 << 20).unwrap();
    let options = vigil_comply::Options { secrets: Some(Default::default()), ..Default::default() };
    let report = vigil_comply::scan(&fs, &Inventory::default(), &options);
    let found =
        report.issues.iter().map(|i| format!("{}:{}", i.location.trim_start_matches('/'), i.line.unwrap())).collect();
    (found, report.issues)
}

#[test]
fn every_credential_and_nothing_else() {
    let (found, issues) = ours();
    let truth = truth();
    assert_eq!(
        found,
        truth,
        "missed: {:?}\nfalse positives: {:?}",
        truth.difference(&found).collect::<Vec<_>>(),
        found.difference(&truth).collect::<Vec<_>>()
    );
    // The secret is never shown whole: no output of an issue holds a credential's full text.
    for issue in &issues {
        let path = corpus().join(issue.location.trim_start_matches('/'));
        let line =
            std::fs::read_to_string(path).unwrap().lines().nth(issue.line.unwrap() as usize - 1).unwrap().to_owned();
        let shown = serde_json::to_string(issue).unwrap();
        for word in line.split(|c: char| !c.is_ascii_alphanumeric() && !"+/_-.~".contains(c)).filter(|w| w.len() >= 16)
        {
            assert!(!shown.contains(word), "{} shows {word}", issue.rule);
        }
    }
    let rules: BTreeSet<&str> = issues.iter().map(|i| i.rule.as_str()).collect();
    for rule in [
        "aws-access-key-id",
        "aws-secret-access-key",
        "github-token",
        "gitlab-token",
        "slack-token",
        "private-key",
        "gcp-service-account-key",
        "azure-storage-account-key",
        "azure-ad-client-secret",
        "stripe-secret-key",
        "jwt",
        "url-password",
        "generic-secret",
        "npm-token",
        "sendgrid-api-key",
        "slack-webhook",
        "gcp-api-key",
    ] {
        assert!(rules.contains(rule), "no {rule} found");
    }
}

/// detect-secrets' findings as `file:line`; `None` when it is not installed.
fn detect_secrets() -> Option<BTreeSet<String>> {
    let program = std::env::var("VIGIL_DETECT_SECRETS")
        .unwrap_or_else(|_| "/var/tmp/vigil-detect-secrets/bin/detect-secrets".into());
    let out = Command::new(&program).args(["scan", "--all-files", "."]).current_dir(corpus()).output();
    let Some(out) = out.ok().filter(|o| o.status.success()) else {
        let msg = format!("oracle detect-secrets is not installed at {program} (scripts/test.sh installs it)");
        assert!(std::env::var_os("VIGIL_REQUIRE_ORACLES").is_none(), "{msg}");
        eprintln!("\n!!!!! SKIPPED: {msg} !!!!!\n");
        return None;
    };
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("detect-secrets writes JSON");
    let mut found = BTreeSet::new();
    for (file, items) in doc["results"].as_object().into_iter().flatten() {
        for item in items.as_array().into_iter().flatten() {
            found.insert(format!("{file}:{}", item["line_number"]));
        }
    }
    Some(found)
}

#[test]
fn beats_detect_secrets_on_the_same_corpus() {
    let Some(theirs) = detect_secrets() else { return };
    let truth = truth();
    let (ours, _) = ours();
    let their_true: BTreeSet<&String> = theirs.intersection(&truth).collect();
    let their_false = theirs.difference(&truth).count();
    let our_false = ours.difference(&truth).count();
    let missed: Vec<&&String> = their_true.iter().filter(|t| !ours.contains(**t)).collect();
    assert!(missed.is_empty(), "detect-secrets found these and Vigil did not: {missed:?}");
    assert!(our_false < their_false, "false positives: Vigil {our_false}, detect-secrets {their_false}");
    assert!(their_true.len() >= 10, "detect-secrets found too little to compare: {their_true:?}");
}

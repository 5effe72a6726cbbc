//! Baselines and diffs on real pairs: two versions of the inventory
//! fixture's `Cargo.lock` (one crate upgraded past its fix, one downgraded
//! into a vulnerable range, the entries re-ordered), two docker-archives
//! differing by one package, and a server's last scan as the baseline.
//! The expected new, unchanged and fixed sets are worked out by hand from
//! the real advisory records' ranges.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{fixtures, json, python, stderr, stdout, tar_of, vigil};
use crate::platform::{ADMIN, ServerProcess, advisories};

/// A database of the baseline records (slab, bytes, rand, rustls), the main fixtures and KEV.
pub(crate) fn database(dir: &Path) {
    let osv = fixtures().join("osv");
    let baseline = fixtures().join("baseline/osv");
    let kev = fixtures().join("kev/known_exploited_vulnerabilities.json");
    let paths = [osv.to_str().unwrap(), baseline.to_str().unwrap(), kev.to_str().unwrap()];
    let o = vigil(dir, &[&["db", "import"][..], &paths, &["-q"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The inventory crate's real `Cargo.lock` (160 packages).
fn cargo_lock() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vigil-inventory/tests/fixtures/lang/app/rust/Cargo.lock");
    std::fs::read_to_string(path).unwrap()
}

/// Sets one crate's version.
fn pin(lock: &str, name: &str, from: &str, to: &str) -> String {
    let old = format!("name = \"{name}\"\nversion = \"{from}\"\n");
    assert!(lock.contains(&old), "{name} {from} is not in the fixture");
    lock.replace(&old, &format!("name = \"{name}\"\nversion = \"{to}\"\n"))
}

/// The `[[package]]` entries in reverse order.
fn reorder(lock: &str) -> String {
    let mut parts: Vec<&str> = lock.split("\n[[package]]\n").collect();
    let head = parts.remove(0);
    parts.reverse();
    let mut out = head.to_owned();
    for p in parts {
        out.push_str("\n[[package]]\n");
        out.push_str(p.trim_end());
        out.push('\n');
    }
    out
}

/// main: slab 0.4.10 (RUSTSEC-2025-0047: introduced 0.4.10, fixed 0.4.11) and rustls 0.23.15
/// (RUSTSEC-2024-0399: introduced 0.23.13, fixed 0.23.18) are vulnerable, rand 0.10.0 has an
/// informational (unsound) advisory (RUSTSEC-2026-0097: introduced 0.10.0, fixed 0.10.1);
/// bytes 1.12.2 is past RUSTSEC-2026-0007's range (introduced 1.2.1, fixed 1.11.1).
fn main_lock() -> String {
    let lock = pin(&pin(&cargo_lock(), "slab", "0.4.12", "0.4.10"), "rand", "0.10.4", "0.10.0");
    pin(&lock, "rustls", "0.23.46", "0.23.15")
}

/// The pull request: slab upgraded past its fix, bytes downgraded into its range, rustls and
/// rand untouched, and every entry re-ordered.
fn pr_lock() -> String {
    reorder(&pin(&pin(&main_lock(), "slab", "0.4.10", "0.4.12"), "bytes", "1.12.2", "1.11.0"))
}

/// Writes `text` to `dir/name/Cargo.lock`.
fn checkout(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name).join("Cargo.lock");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// (advisory, package, state) of a report's findings, sorted.
fn states(report: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["package"]["name"].as_str().unwrap().to_owned(),
                f["baseline"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list.as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

fn triple(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.to_owned(), b.to_owned(), c.to_owned())
}

/// Validates a SARIF file against the vendored official schema.
fn assert_valid_sarif(path: &Path) {
    let schema = fixtures().join("schemas/sarif-2.1.0-rtm.5.json");
    let program = "import json, sys, jsonschema\njsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))\nprint('valid')";
    if let Some(verdict) = python("jsonschema", program, &[path.to_str().unwrap(), schema.to_str().unwrap()]) {
        assert_eq!(verdict, "valid", "{}", path.display());
    }
}

#[test]
fn a_lockfile_pair_new_unchanged_and_fixed() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let work = tempfile::tempdir().unwrap();
    let main = checkout(work.path(), "main", &main_lock());
    let pr = checkout(work.path(), "pr", &pr_lock());
    let reordered = checkout(work.path(), "reordered", &reorder(&main_lock()));
    let main_json = work.path().join("main.json");
    let o = vigil(db.path(), &["scan", main.to_str().unwrap(), "--format", &format!("json={}", main_json.display())]);
    assert!(o.status.success(), "{}", stderr(&o));

    // The pull request against main's report.
    let baseline = main_json.to_str().unwrap();
    let report = json(&vigil(db.path(), &["scan", pr.to_str().unwrap(), "--baseline", baseline, "--format", "json"]));
    assert_eq!(report["schema_version"], 3);
    assert_eq!(
        states(&report),
        [
            triple("RUSTSEC-2024-0399", "rustls", "unchanged"),
            triple("RUSTSEC-2026-0007", "bytes", "new"),
            triple("RUSTSEC-2026-0097", "rand", "unchanged"),
        ]
    );
    let b = &report["baseline"];
    assert_eq!((b["new"].as_u64(), b["unchanged"].as_u64(), b["updated"].as_u64()), (Some(1), Some(1), Some(0)));
    assert_eq!(ids(&b["fixed"]), ["RUSTSEC-2025-0047"]);
    assert_eq!(b["fixed"][0]["package"]["version"], "0.4.10");
    let changed: Vec<(&str, &str, &str, &str)> = b["packages"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["package"]["name"].as_str().unwrap(),
                c["from"].as_str().unwrap(),
                c["package"]["version"].as_str().unwrap(),
                c["direction"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(changed, [("bytes", "1.12.2", "1.11.0", "downgraded"), ("slab", "0.4.10", "0.4.12", "upgraded")]);
    assert_eq!(b["packages"]["added"], serde_json::json!([]));
    assert_eq!(b["packages"]["removed"], serde_json::json!([]));

    // The gate: only what the change introduced fails it.
    let gate = |target: &Path, extra: &[&str]| {
        let mut args = vec!["scan", target.to_str().unwrap(), "--baseline", baseline];
        args.extend(extra);
        vigil(db.path(), &args)
    };
    let o = gate(&pr, &["--fail-on-new"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("policy failed: 1 new vulnerabilities"), "{}", stderr(&o));
    let o = gate(&pr, &["--fail-on-new", "--fail-on-unknown"]);
    assert!(stderr(&o).contains("1 new vulnerabilities of unknown severity"), "{}", stderr(&o));
    // bytes' record carries no severity: above every threshold only with --fail-on-unknown.
    assert_eq!(gate(&pr, &["--fail-on-new", "--fail-on", "low"]).status.code(), Some(0));
    // Without --fail-on-new the old finding fails the run too.
    assert_eq!(gate(&reordered, &["--fail-on-unknown"]).status.code(), Some(1));
    // Re-ordered only: nothing new, nothing fixed, no package changed.
    let o = gate(&reordered, &["--fail-on-new", "--fail-on-unknown", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let same: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        states(&same),
        [
            triple("RUSTSEC-2024-0399", "rustls", "unchanged"),
            triple("RUSTSEC-2025-0047", "slab", "unchanged"),
            triple("RUSTSEC-2026-0097", "rand", "unchanged"),
        ]
    );
    assert_eq!(same["baseline"]["fixed"], serde_json::json!([]));
    assert_eq!(same["baseline"]["packages"]["changed"], serde_json::json!([]));

    // An advisory renamed to its alias since the baseline (the id the main branch's database
    // used, RUSTSEC's GHSA alias) is the same finding.
    let mut renamed: Value = serde_json::from_slice(&std::fs::read(&main_json).unwrap()).unwrap();
    for f in renamed["findings"].as_array_mut().unwrap() {
        if f["id"] == "RUSTSEC-2026-0097" {
            f["id"] = "GHSA-cq8v-f236-94qc".into();
            f["aliases"] = serde_json::json!(["RUSTSEC-2026-0097"]);
        }
    }
    let renamed_path = work.path().join("renamed.json");
    std::fs::write(&renamed_path, serde_json::to_vec(&renamed).unwrap()).unwrap();
    let report = json(&vigil(
        db.path(),
        &["scan", pr.to_str().unwrap(), "--baseline", renamed_path.to_str().unwrap(), "--format", "json"],
    ));
    assert!(states(&report).contains(&triple("RUSTSEC-2026-0097", "rand", "unchanged")), "{report}");

    // Table and Markdown say it too; SARIF carries baselineState and is valid.
    let table = stdout(&gate(&pr, &["--format", "table"]));
    assert!(table.contains("CHANGE") && table.contains("NEW") && table.contains("UNCHANGED"), "{table}");
    assert!(table.contains("1 new, 1 unchanged, 0 at another version, 1 fixed"), "{table}");
    assert!(table.contains("fixed since the baseline:") && table.contains("RUSTSEC-2025-0047"), "{table}");
    let md = stdout(&gate(&pr, &["--format", "markdown"]));
    assert!(md.contains("**1 new**") && md.contains("| **new** |") && md.contains("Fixed since the baseline"), "{md}");
    let sarif_path = work.path().join("pr.sarif");
    let o = gate(&pr, &["--format", &format!("sarif={}", sarif_path.display())]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sarif: Value = serde_json::from_slice(&std::fs::read(&sarif_path).unwrap()).unwrap();
    let mut marked: Vec<(&str, &str)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["ruleId"].as_str().unwrap(), r["baselineState"].as_str().unwrap()))
        .collect();
    marked.sort();
    assert_eq!(
        marked,
        [("RUSTSEC-2024-0399", "unchanged"), ("RUSTSEC-2026-0007", "new"), ("RUSTSEC-2026-0097", "unchanged")]
    );
    assert_valid_sarif(&sarif_path);

    // `vigil diff` of the two reports, and of a report and a target scanned now.
    let pr_json = work.path().join("pr.json");
    let o = vigil(db.path(), &["scan", pr.to_str().unwrap(), "--format", &format!("json={}", pr_json.display())]);
    assert!(o.status.success(), "{}", stderr(&o));
    for new in [pr_json.to_str().unwrap(), pr.to_str().unwrap()] {
        let diff = json(&vigil(db.path(), &["diff", baseline, new, "--format", "json"]));
        let s = &diff["summary"];
        assert_eq!(
            (s["introduced"].as_u64(), s["fixed"].as_u64(), s["unchanged"].as_u64()),
            (Some(1), Some(1), Some(1))
        );
        assert_eq!((s["packages_changed"].as_u64(), s["packages_added"].as_u64()), (Some(2), Some(0)), "{diff}");
        assert_eq!(ids(&diff["fixed"]), ["RUSTSEC-2025-0047"]);
    }
    let md = stdout(&vigil(db.path(), &["diff", baseline, pr_json.to_str().unwrap(), "--format", "markdown"]));
    assert!(md.contains("**1 new vulnerabilities**, **1 fixed**"), "{md}");
    assert!(md.contains("#### Introduced") && md.contains("RUSTSEC-2026-0007"), "{md}");
    assert!(md.contains("| downgraded | bytes | 1.12.2 | 1.11.0 |"), "{md}");
    let table = stdout(&vigil(db.path(), &["diff", baseline, pr_json.to_str().unwrap()]));
    assert!(table.contains("introduced (1):") && table.contains("fixed (1):"), "{table}");
    assert!(table.contains("upgraded") && table.contains("0.4.10") && table.contains("0.4.12"), "{table}");
    let diff_sarif = work.path().join("diff.sarif");
    let o = vigil(
        db.path(),
        &["diff", baseline, pr_json.to_str().unwrap(), "--format", "sarif", "--output", diff_sarif.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let sarif: Value = serde_json::from_slice(&std::fs::read(&diff_sarif).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "new findings only");
    assert_eq!(
        (results[0]["ruleId"].as_str(), results[0]["baselineState"].as_str()),
        (Some("RUSTSEC-2026-0007"), Some("new"))
    );
    assert_valid_sarif(&diff_sarif);

    // A file that is not a report is refused as a baseline, naming it.
    let o = vigil(db.path(), &["scan", pr.to_str().unwrap(), "--baseline", pr.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a Vigil JSON report"), "{}", stderr(&o));
}

/// A docker-archive of one layer holding Debian 10's dpkg database with `packages`.
pub(crate) fn image(dir: &Path, name: &str, stanzas: &[&str]) -> PathBuf {
    let status = stanzas.join("\n");
    let layer =
        tar_of(&[("etc/os-release", b"ID=debian\nVERSION_ID=\"10\"\n"), ("var/lib/dpkg/status", status.as_bytes())]);
    let manifest = br#"[{"Config":"c.json","RepoTags":["app:1"],"Layers":["l1/layer.tar"]}]"#;
    let path = dir.join(name);
    std::fs::write(&path, tar_of(&[("manifest.json", manifest), ("c.json", b"{}"), ("l1/layer.tar", &layer)])).unwrap();
    path
}

pub(crate) const BASE_FILES: &str =
    "Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 10.3+deb10u9\n";
/// Built from sudo at the fixed version (DSA-4839-1 fixed in 1.8.27-1+deb10u3): not affected.
pub(crate) const SUDO_LDAP: &str =
    "Package: sudo-ldap\nStatus: install ok installed\nArchitecture: amd64\nSource: sudo\nVersion: 1.8.27-1+deb10u3\n";
/// Affected by DSA-4839-1 (CVE-2021-3156, KEV).
pub(crate) const SUDO: &str =
    "Package: sudo\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.8.27-1+deb10u2\n";

#[test]
fn two_images_differing_by_one_package() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let work = tempfile::tempdir().unwrap();
    let without = image(work.path(), "without.tar", &[BASE_FILES, SUDO_LDAP]);
    let with = image(work.path(), "with.tar", &[BASE_FILES, SUDO_LDAP, SUDO]);
    // The same packages, rebuilt: stanzas in another order.
    let rebuilt = image(work.path(), "rebuilt.tar", &[SUDO, SUDO_LDAP, BASE_FILES]);
    let diff = |old: &Path, new: &Path| {
        json(&vigil(db.path(), &["diff", old.to_str().unwrap(), new.to_str().unwrap(), "--format", "json"]))
    };

    let added = diff(&without, &with);
    assert_eq!(ids(&added["findings"]), ["DSA-4839-1"]);
    assert_eq!(added["findings"][0]["baseline"], "new");
    assert_eq!(added["findings"][0]["kev"]["date_added"], "2022-04-06");
    assert_eq!(added["fixed"], serde_json::json!([]));
    let packages = &added["packages"];
    assert_eq!(packages["added"].as_array().unwrap().len(), 1);
    assert_eq!(
        (packages["added"][0]["name"].as_str(), packages["added"][0]["version"].as_str()),
        (Some("sudo"), Some("1.8.27-1+deb10u2"))
    );
    assert_eq!(packages["removed"], serde_json::json!([]));
    assert_eq!(packages["changed"], serde_json::json!([]));

    let removed = diff(&with, &without);
    assert_eq!(ids(&removed["fixed"]), ["DSA-4839-1"]);
    assert_eq!(removed["summary"]["introduced"], 0);
    assert_eq!(removed["packages"]["removed"][0]["name"], "sudo");

    let same = diff(&with, &rebuilt);
    assert_eq!((same["summary"]["introduced"].as_u64(), same["summary"]["fixed"].as_u64()), (Some(0), Some(0)));
    assert_eq!(same["summary"]["unchanged"], 1);
    assert_eq!(same["summary"]["packages_added"], 0);
    assert_eq!(same["summary"]["packages_changed"], 0);
}

#[test]
fn the_servers_last_scan_is_the_baseline() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path();
    let imported = vigil(db, &["db", "import", advisories("v1").to_str().unwrap(), "-q"]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let server = ServerProcess::start(db, &[], &[]);
    let project = data.path().join("app");
    std::fs::create_dir_all(&project).unwrap();
    let target = project.join("requirements.txt");
    let target = target.to_str().unwrap();
    // main: flask 2.2.5 is past CVE-2023-30861; jinja2 2.10 is affected by CVE-2019-10906 (fixed in 2.10.1).
    std::fs::write(target, "flask==2.2.5\njinja2==2.10\n").unwrap();
    let up = vigil(db, &["scan", target, "--upload", &server.url, "--token", ADMIN, "--asset", "shop"]);
    assert!(up.status.success(), "{}", stderr(&up));
    // The pull request: flask downgraded into CVE-2023-30861 (GHSA-m2qf-hxjv-5gpq and PYSEC-2023-62, one
    // vulnerability), jinja2 upgraded past its fix.
    std::fs::write(target, "flask==2.2.2\njinja2==2.11\n").unwrap();
    let args = ["scan", target, "--baseline", "server", "--server", &server.url, "--token", ADMIN, "--asset", "shop"];
    let o = vigil(db, &[&args[..], &["--format", "json", "--fail-on-new"]].concat());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        states(&report),
        [triple("GHSA-m2qf-hxjv-5gpq", "flask", "new"), triple("PYSEC-2023-62", "flask", "new")]
    );
    let b = &report["baseline"];
    assert!(b["source"].as_str().unwrap().contains("(shop)"), "{b}");
    assert_eq!(b["fixed"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(b["fixed"][0]["id"], "CVE-2019-10906");
    assert_eq!(b["fixed"][0]["package"]["name"], "jinja2");
    let changed: Vec<&str> =
        b["packages"]["changed"].as_array().unwrap().iter().map(|c| c["direction"].as_str().unwrap()).collect();
    assert_eq!(changed, ["downgraded", "upgraded"], "{b}");
    // An asset the server does not know is an error that says what to do.
    let o = vigil(
        db,
        &["scan", target, "--baseline", "server", "--server", &server.url, "--token", ADMIN, "--asset", "nope"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("has no asset named nope; upload the main branch's scan first"), "{}", stderr(&o));
}

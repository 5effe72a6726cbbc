//! Cross-check with cargo-audit: on a lockfile of real crate versions with
//! known advisories, and the same RustSec advisories on both sides (the
//! advisory-db in its native layout for cargo-audit, the same advisories
//! as OSV for Vigil), Vigil's vulnerabilities equal cargo-audit's
//! vulnerabilities and its informational findings equal cargo-audit's
//! warnings (unmaintained, unsound, notice; yanked-crate checks need the
//! network and are off).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::harness::{json, skip, stderr, vigil};

fn fixture(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cargo-audit").join(path)
}

/// Copies the advisory-db fixture into a git repository, as cargo-audit wants.
fn advisory_db(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("advisory-db");
    let status = Command::new("cp").arg("-r").arg(fixture("advisory-db")).arg(&db).status().unwrap();
    assert!(status.success());
    for args in [
        vec!["init", "-q"],
        vec!["add", "-A"],
        vec!["-c", "user.email=ci@vigil.invalid", "-c", "user.name=ci", "commit", "-qm", "advisories"],
    ] {
        let out = Command::new("git").args(&args).current_dir(&db).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    db
}

type Findings = BTreeSet<(String, String)>;

/// cargo-audit's vulnerabilities and (non-yanked) warnings for `args`
/// (`--file LOCK`, or `bin BINARY`), from the advisory-db fixture; `None` when
/// cargo-audit is not installed.
fn cargo_audit(args: &[&std::ffi::OsStr]) -> Option<(Findings, Findings)> {
    if !Command::new("cargo").args(["audit", "--version"]).output().is_ok_and(|o| o.status.success()) {
        skip("cargo-audit is not installed (scripts/test.sh installs it: cargo install cargo-audit --locked)");
        return None;
    }
    let work = tempfile::tempdir().unwrap();
    let db = advisory_db(work.path());
    let out = Command::new("cargo")
        .args(["audit", "--no-fetch", "--stale", "--no-yanked", "--json", "--db"])
        .arg(&db)
        .args(args)
        .output()
        .unwrap();
    let audit: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("cargo audit output is not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    let key = |v: &serde_json::Value| {
        (v["advisory"]["id"].as_str().unwrap().to_owned(), v["package"]["name"].as_str().unwrap().to_owned())
    };
    let vulns = audit["vulnerabilities"]["list"].as_array().unwrap().iter().map(key).collect();
    let warnings = audit["warnings"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(kind, _)| *kind != "yanked")
        .flat_map(|(_, list)| list.as_array().unwrap().iter().map(key))
        .collect();
    Some((vulns, warnings))
}

/// Vigil's vulnerabilities and informational findings for `target`, from the
/// same advisories as OSV.
fn vigil_findings(target: &Path) -> (Findings, Findings) {
    let vdb = tempfile::tempdir().unwrap();
    let o = vigil(vdb.path(), &["db", "import", fixture("osv").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = json(&vigil(vdb.path(), &["scan", target.to_str().unwrap(), "--format", "json"]));
    let of_kind = |kind: &str| -> Findings {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == kind)
            .map(|f| (f["id"].as_str().unwrap().to_owned(), f["package"]["name"].as_str().unwrap().to_owned()))
            .collect()
    };
    (of_kind("vulnerability"), of_kind("informational"))
}

#[test]
fn vigil_agrees_with_cargo_audit() {
    let lock = fixture("Cargo.lock");
    let Some((audit_vulns, audit_warnings)) = cargo_audit(&["--file".as_ref(), lock.as_os_str()]) else { return };
    let (vulns, informational) = vigil_findings(&lock);
    assert!(audit_vulns.len() >= 20, "the fixture must exercise many advisories: {audit_vulns:?}");
    assert_eq!(vulns, audit_vulns);
    assert!(audit_warnings.len() >= 10, "{audit_warnings:?}");
    assert_eq!(informational, audit_warnings);
}

#[test]
fn vigil_agrees_with_cargo_audit_on_a_cargo_auditable_binary() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("rusthello");
    let gz = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../vigil-inventory/tests/fixtures/binaries/rusthello.gz"),
    )
    .unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut bytes).unwrap();
    std::fs::write(&exe, bytes).unwrap();
    let Some((audit_vulns, audit_warnings)) = cargo_audit(&["bin".as_ref(), exe.as_os_str()]) else { return };
    let (vulns, informational) = vigil_findings(&exe);
    assert_eq!(audit_vulns, Findings::from([("RUSTSEC-2021-0003".to_owned(), "smallvec".to_owned())]));
    assert_eq!((vulns, informational), (audit_vulns, audit_warnings));
}

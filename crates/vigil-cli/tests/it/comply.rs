//! `vigil comply` and `vigil scan --scanners config,secret` end to end over
//! the fixtures of vigil-comply: every output format, the secret masked in
//! each, the ignore file, the gate, and SARIF against the official schema.

use std::path::PathBuf;

use crate::harness::{fixtures, python, vigil};

fn comply_fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vigil-comply/tests/fixtures")
}

/// Credentials of the secrets corpus, which no output may show whole.
fn credentials() -> Vec<String> {
    let env = std::fs::read_to_string(comply_fixtures().join("secrets/config/app.env")).unwrap();
    env.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(_, v)| v.trim_matches('"').to_owned())
        .filter(|v| v.len() >= 20 && !v.contains("://"))
        .collect()
}

#[test]
fn every_format_with_secrets_masked() {
    let db = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = |name: &str| out.path().join(name).to_str().unwrap().to_owned();
    let target = comply_fixtures();
    let args = [
        "comply",
        target.to_str().unwrap(),
        "--scanners",
        "config,secret",
        "--format",
        &format!("json={}", file("r.json")),
        "--format",
        &format!("sarif={}", file("r.sarif")),
        "--format",
        &format!("junit={}", file("r.xml")),
        "--format",
        &format!("markdown={}", file("r.md")),
        "--format",
        "table",
    ];
    let run = vigil(db.path(), &args);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let table = String::from_utf8(run.stdout).unwrap();
    assert!(table.contains("DOCKER-ROOT-USER") && table.contains("aws-access-key-id"), "{table}");
    let credentials = credentials();
    assert!(credentials.len() >= 3, "{credentials:?}");
    for name in ["r.json", "r.sarif", "r.xml", "r.md"] {
        let text = std::fs::read_to_string(file(name)).unwrap();
        for c in &credentials {
            assert!(!text.contains(c.as_str()), "{name} shows a credential");
        }
    }
    for c in &credentials {
        assert!(!table.contains(c.as_str()), "the table shows a credential");
    }
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file("r.json")).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 1);
    let issues = report["issues"].as_array().unwrap();
    assert!(issues.iter().any(|i| i["source"] == "secret" && i["rule"] == "github-token" && i["line"] == 7));
    assert!(issues.iter().any(|i| i["source"] == "config" && i["rule"] == "K8S-PRIVILEGED"));
    assert_eq!(
        report["summary"]["secrets"].as_u64().unwrap() as usize,
        issues.iter().filter(|i| i["source"] == "secret").count()
    );

    let sarif: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file("r.sarif")).unwrap()).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert!(result["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().is_some());
    let schema = fixtures().join("schemas/sarif-2.1.0-rtm.5.json");
    let program = "import json, sys, jsonschema\njsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))\nprint('valid')";
    if let Some(verdict) = python("jsonschema", program, &[&file("r.sarif"), schema.to_str().unwrap()]) {
        assert_eq!(verdict, "valid");
    }
    let program = "import sys, xml.etree.ElementTree as ET\nr = ET.parse(sys.argv[1]).getroot()\n\
                   print(len(r.findall('testsuite')), r.get('failures') == str(len(r.findall('.//failure'))))";
    if let Some(verdict) = python("xml.etree.ElementTree", program, &[&file("r.xml")]) {
        assert_eq!(verdict, "2 True");
    }
}

#[test]
fn gate_ignore_file_and_scan_scanners() {
    let db = tempfile::tempdir().unwrap();
    let target = comply_fixtures().join("iac/docker");
    let target = target.to_str().unwrap();
    let gated = vigil(db.path(), &["comply", target, "--fail-on", "high", "--quiet"]);
    assert_eq!(gated.status.code(), Some(1));
    // Every high issue of these Dockerfiles ignored by rule, with a reason: the gate passes.
    let ignore = db.path().join("ignore.yaml");
    std::fs::write(
        &ignore,
        "ignore:\n  - id: DOCKER-ROOT-USER\n    reason: runs rootless\n  - id: DOCKER-SECRET-IN-ENV\n    path: /Dockerfile\n    reason: test value\n\
         \x20 - id: DOCKER-ADD-URL\n    reason: checksum verified later\n    expires: 2999-01-01\n",
    )
    .unwrap();
    let ignored = vigil(
        db.path(),
        &["comply", target, "--fail-on", "high", "--ignore-file", ignore.to_str().unwrap(), "--format", "json"],
    );
    assert!(ignored.status.success(), "{}", String::from_utf8_lossy(&ignored.stderr));
    let report: serde_json::Value = serde_json::from_slice(&ignored.stdout).unwrap();
    assert_eq!(report["suppressed"].as_array().unwrap().len(), 4);
    // `vigil scan` with only config and secret scanners needs no advisory database.
    let scan = vigil(db.path(), &["scan", target, "--scanners", "config,secret", "--offline", "--format", "json"]);
    assert!(scan.status.success(), "{}", String::from_utf8_lossy(&scan.stderr));
    let report: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap();
    assert_eq!(report["config"]["scanners"], serde_json::json!(["config", "secret"]));
    assert!(report["config"]["issues"].as_array().unwrap().iter().any(|i| i["rule"] == "DOCKER-LATEST-TAG"));
    let failed = vigil(db.path(), &["scan", target, "--scanners", "config", "--offline", "--fail-on", "critical"]);
    assert_eq!(failed.status.code(), Some(0), "no critical issue in these Dockerfiles");
    let refused = vigil(db.path(), &["comply", target, "--scanners", "vuln"]);
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn uploads_become_findings_that_close_when_fixed() {
    use crate::harness::vigil_env;
    use crate::platform::{ADMIN, ServerProcess, advisories};
    let data = tempfile::tempdir().unwrap();
    let db = data.path();
    let imported = vigil(db, &["db", "import", advisories("v1").to_str().unwrap(), "-q"]);
    assert!(imported.status.success());
    let server = ServerProcess::start(db, &[], &[]);
    let repo = db.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("Dockerfile"), "FROM debian:12.5\nUSER root\nHEALTHCHECK CMD true\n").unwrap();
    let token = format!("ghp_{}", "Zq8Wm3Rt7Yp2Xk5Nv9Lc4Hb6Gd1Fs0Ja2Ue7");
    std::fs::write(repo.join("ci.env"), format!("GITHUB_TOKEN={token}\n")).unwrap();
    let repo = repo.to_str().unwrap();
    let upload = |what: &str| {
        let args = [
            "comply",
            repo,
            "--scanners",
            "config,secret",
            "--upload",
            &server.url,
            "--token",
            ADMIN,
            "--asset",
            "repo",
        ];
        let out = vigil(db, &args);
        assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let first = upload("first upload");
    assert!(first.contains("2 open: 2 new, 0 fixed"), "{first}");
    let env = [("VIGIL_SERVER", server.url.as_str()), ("VIGIL_TOKEN", ADMIN)];
    let listed = vigil_env(db, &["findings", "source:secret", "--format", "json"], &env);
    let findings: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let text = findings.to_string();
    assert_eq!(findings.as_array().unwrap().len(), 1, "{text}");
    assert!(text.contains("github-token") && !text.contains(&token[4..]), "{text}");
    // The Dockerfile fixed: its finding closes, the secret stays open.
    std::fs::write(db.join("repo/Dockerfile"), "FROM debian:12.5\nUSER 10001\nHEALTHCHECK CMD true\n").unwrap();
    let second = upload("second upload");
    assert!(second.contains("1 open: 0 new, 1 fixed"), "{second}");
}

//! `vigil scan` on a root filesystem and on a lockfile, against the
//! fixture advisories (real records) with KEV and EPSS: hand-verified
//! findings, the distro rules, filters and the CI gate's exit codes.

use std::path::Path;

use crate::harness::{
    Server, assert_valid_cyclonedx, fixture_ecosystems, fixtures, json, mirror, python, stderr, stdout, tar_of, vigil,
    vigil_env,
};

/// A database built offline from the fixture records, KEV and an EPSS file.
pub fn database(dir: &Path) {
    let m = mirror();
    let osv = fixtures().join("osv");
    let kev = fixtures().join("kev/known_exploited_vulnerabilities.json");
    let epss = m.path().join("epss.csv.gz");
    let o = vigil(dir, &["db", "import", osv.to_str().unwrap(), kev.to_str().unwrap(), epss.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A Debian 10 root filesystem with sudo (KEV-listed CVE-2021-3156 unfixed in
/// this version), an Ubuntu-style unfixed package and a Rust project.
fn rootfs() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let w = |path: &str, text: &str| {
        let p = root.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w("etc/os-release", "ID=debian\nVERSION_ID=\"10\"\nPRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\n");
    w(
        "var/lib/dpkg/status",
        "Package: sudo\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.8.27-1+deb10u2\n\n\
         Package: sudo-ldap\nStatus: install ok installed\nArchitecture: amd64\nSource: sudo\nVersion: 1.8.27-1+deb10u3\n",
    );
    w(
        "srv/app/Cargo.lock",
        "version = 3\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
         [[package]]\nname = \"libusb\"\nversion = \"0.3.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
         [[package]]\nname = \"app\"\nversion = \"0.1.0\"\n",
    );
    root
}

fn ids(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["package"]["name"].as_str().unwrap().to_owned(),
                f["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn scan_a_root_filesystem() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let root = rootfs();
    let report = json(&vigil(db.path(), &["scan", root.path().to_str().unwrap(), "--format", "json"]));
    assert_eq!(report["schema_version"], 3);
    // Priority order: the KEV-listed DSA first, then by risk; informational last.
    assert_eq!(
        ids(&report),
        [
            ("DSA-4839-1".to_owned(), "sudo".to_owned(), "vulnerability".to_owned()),
            ("RUSTSEC-2021-0003".to_owned(), "smallvec".to_owned(), "vulnerability".to_owned()),
            ("RUSTSEC-2016-0004".to_owned(), "libusb".to_owned(), "informational".to_owned()),
        ]
    );
    let sudo = &report["findings"][0];
    assert_eq!(sudo["kev"]["cve_id"], "CVE-2021-3156");
    assert_eq!(sudo["epss"]["score"], 0.9421);
    assert_eq!(sudo["fix_status"], "fix_available");
    assert_eq!(sudo["fixed"][0], "1.8.27-1+deb10u3");
    assert_eq!(sudo["advisory_ecosystem"], "Debian:10");
    // sudo-ldap is built from sudo at the fixed version: matched on its source package, not affected.
    assert!(report["findings"].as_array().unwrap().iter().all(|f| f["package"]["name"] != "sudo-ldap"));
    let summary = &report["summary"];
    assert_eq!((summary["vulnerabilities"].as_u64(), summary["critical"].as_u64()), (Some(2), Some(1)));
    assert_eq!((summary["exploited"].as_u64(), summary["informational"].as_u64()), (Some(1), Some(1)));
    assert_eq!(summary["packages"], 4, "sudo, sudo-ldap, smallvec, libusb; the project itself is not a dependency");

    let table = stdout(&vigil(db.path(), &["scan", root.path().to_str().unwrap()]));
    assert!(table.contains("DSA-4839-1") && table.contains("KEV 2022-04-06"), "{table}");
    assert!(table.contains("informational (not vulnerabilities)"), "{table}");
    assert!(table.contains("2 vulnerabilities in 4 packages (critical 1"), "{table}");
}

#[test]
fn ci_gate_exit_codes_and_filters() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let root = rootfs();
    let target = root.path().to_str().unwrap();
    let o = vigil(db.path(), &["scan", target, "--fail-on", "critical", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "a critical RUSTSEC finding fails the gate");
    assert!(stderr(&o).contains("policy failed: 1 vulnerabilities at or above critical"), "{}", stderr(&o));
    // Informational advisories never fail the gate: libusb alone passes at any threshold.
    let lock = tempfile::tempdir().unwrap();
    let cargo_lock = lock.path().join("Cargo.lock");
    std::fs::write(&cargo_lock, "[[package]]\nname = \"libusb\"\nversion = \"0.3.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n").unwrap();
    let o = vigil(db.path(), &["scan", cargo_lock.to_str().unwrap(), "--fail-on", "low"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("RUSTSEC-2016-0004"));
    // Exploited only.
    let report = json(&vigil(db.path(), &["scan", target, "--exploited-only", "--format", "json"]));
    assert_eq!(ids(&report).len(), 1);
    // A missing target is an error (2).
    assert_eq!(vigil(db.path(), &["scan", "/no/such/target"]).status.code(), Some(2));
}

#[test]
fn unfixed_findings_are_kept_and_can_be_filtered() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/dpkg")).unwrap();
    std::fs::write(root.path().join("etc/os-release"), "ID=ubuntu\nVERSION_ID=\"18.04\"\n").unwrap();
    std::fs::write(
        root.path().join("var/lib/dpkg/status"),
        "Package: xine-ui\nStatus: install ok installed\nArchitecture: amd64\nVersion: 0.99.9-1.3\n",
    )
    .unwrap();
    let report = json(&vigil(db.path(), &["scan", root.path().to_str().unwrap(), "--format", "json"]));
    let f = &report["findings"][0];
    assert_eq!(
        (f["id"].as_str(), f["fix_status"].as_str(), f["status"].as_str()),
        (Some("UBUNTU-CVE-2007-0255"), Some("no_fix_yet"), Some("needed"))
    );
    let report =
        json(&vigil(db.path(), &["scan", root.path().to_str().unwrap(), "--format", "json", "--ignore-unfixed"]));
    assert!(report["findings"].as_array().unwrap().is_empty());
}

#[test]
fn no_database_is_fetched_or_named() {
    let db = tempfile::tempdir().unwrap();
    let root = rootfs();
    let o = vigil(db.path(), &["scan", root.path().to_str().unwrap(), "--offline"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("vigil db import"), "{}", stderr(&o));
    // Online: fetched from the configured mirror, and said so.
    let m = mirror();
    let server = Server::start(m.path());
    let config = db.path().join("config.toml");
    let ecos: Vec<String> = fixture_ecosystems().iter().map(|e| format!("\"{e}\"")).collect();
    std::fs::write(
        &config,
        format!(
            "[db]\nosv_base = \"{0}/osv\"\necosystems = [{1}]\nkev_url = \"{0}/kev/known_exploited_vulnerabilities.json\"\nepss_url = \"{0}/epss.csv.gz\"\n",
            server.base,
            ecos.join(", ")
        ),
    )
    .unwrap();
    let o = vigil_env(
        db.path(),
        &["scan", root.path().to_str().unwrap(), "--format", "json"],
        &[("VIGIL_CONFIG", config.to_str().unwrap())],
    );
    assert!(stderr(&o).contains("fetching one (as `vigil db update`)"), "{}", stderr(&o));
    assert_eq!(ids(&json(&o)).len(), 3);
}

#[test]
fn several_formats_in_one_run() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let root = rootfs();
    let out = tempfile::tempdir().unwrap();
    let file = |n: &str| out.path().join(n).to_str().unwrap().to_owned();
    let (json_out, sarif, junit) = (file("report.json"), file("vigil.sarif"), file("junit.xml"));
    let o = vigil(
        db.path(),
        &[
            "scan",
            root.path().to_str().unwrap(),
            "--format",
            &format!("json={json_out}"),
            "--format",
            &format!("sarif={sarif}"),
            "--format",
            &format!("junit={junit}"),
            "--format",
            "markdown",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let md = stdout(&o);
    assert!(
        md.contains("| Severity | Advisory | Package |")
            && md.contains("[DSA-4839-1](https://osv.dev/vulnerability/DSA-4839-1)"),
        "{md}"
    );
    assert!(md.contains("Informational (not vulnerabilities):"), "{md}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json_out).unwrap()).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 3);

    // SARIF against the official 2.1.0 schema (vendored from npm @microsoft/jest-sarif).
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["ruleId"], "DSA-4839-1");
    assert_eq!(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "var/lib/dpkg/status");
    let schema = fixtures().join("schemas/sarif-2.1.0-rtm.5.json");
    let program = "import json, sys, jsonschema\njsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))\nprint('valid')";
    if let Some(verdict) = python("jsonschema", program, &[&sarif, schema.to_str().unwrap()]) {
        assert_eq!(verdict, "valid");
    }

    // JUnit: well-formed XML with one failure per vulnerability and the informational one skipped,
    // and a passing case for each of the two ecosystems checked (Debian:10, crates.io).
    let program = "import sys, xml.etree.ElementTree as ET\nr = ET.parse(sys.argv[1]).getroot()\n\
                   print(r.get('tests'), r.get('failures'), len(r.findall('.//failure')), len(r.findall('.//skipped')))";
    if let Some(counts) = python("xml.etree.ElementTree", program, &[&junit]) {
        assert_eq!(counts, "5 2 2 1");
    }
    // Two formats cannot both go to standard output.
    let o = vigil(db.path(), &["scan", root.path().to_str().unwrap(), "--format", "json", "--format", "table"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("only one --format can go to standard output"), "{}", stderr(&o));
}

/// The `vigil scan ...` command of each CI example in docs/ci, run as written
/// (in a project holding a vulnerable Cargo.lock) with the fixture database.
#[test]
fn ci_jobs_run_their_scan_command() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/ci");
    for file in ["github-actions.yml", "gitlab-ci.yml", "Jenkinsfile"] {
        let text = std::fs::read_to_string(docs.join(file)).unwrap();
        let line = text.lines().find_map(|l| l.split_once("vigil scan ").map(|(_, rest)| rest)).unwrap();
        let line = line.trim_end_matches('\'').trim();
        let args: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(args[0], ".", "{file} scans the checkout");
        let project = tempfile::tempdir().unwrap();
        std::fs::write(
            project.path().join("Cargo.lock"),
            "[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        )
        .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
            .arg("scan")
            .args(&args)
            .current_dir(project.path())
            .env("VIGIL_DB_DIR", db.path())
            .env("HOME", db.path())
            .env_remove("VIGIL_CONFIG")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{file}: a critical finding must fail the job");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("RUSTSEC-2021-0003"),
            "{file}: the table goes to the log"
        );
        let sarif: serde_json::Value =
            serde_json::from_slice(&std::fs::read(project.path().join("vigil.sarif")).unwrap()).unwrap();
        assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "RUSTSEC-2021-0003", "{file}");
        let junit = std::fs::read_to_string(project.path().join("vigil-junit.xml")).unwrap();
        assert!(junit.contains("<failure type=\"critical\""), "{file}: {junit}");
        // The pull-request gate against main's report: nothing new passes, a new high fails.
        let command = |marker: &str| -> Vec<String> {
            let line = text.lines().find(|l| l.contains(marker)).unwrap();
            let (_, rest) = line.split_once("vigil ").unwrap();
            rest.trim_end_matches('\'').split_whitespace().map(str::to_owned).collect()
        };
        let run = |args: &[String]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
                .args(args)
                .current_dir(project.path())
                .env("VIGIL_DB_DIR", db.path())
                .env("HOME", db.path())
                .env_remove("VIGIL_CONFIG")
                .output()
                .unwrap()
        };
        let gate = command("--baseline");
        let out = run(&gate);
        assert_eq!(out.status.code(), Some(0), "{file}: nothing new: {}", String::from_utf8_lossy(&out.stderr));
        // A second crate with the critical smallvec finding: the same advisory, a new place.
        std::fs::create_dir_all(project.path().join("tools")).unwrap();
        std::fs::copy(project.path().join("Cargo.lock"), project.path().join("tools/Cargo.lock")).unwrap();
        let out = run(&gate);
        assert_eq!(out.status.code(), Some(1), "{file}: a new critical vulnerability fails the gate");
        let out = run(&command("vigil diff "));
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
        let comment = std::fs::read_to_string(project.path().join("vigil-diff.md")).unwrap();
        assert!(comment.contains("#### Introduced") && comment.contains("`/tools/Cargo.lock`"), "{file}: {comment}");
    }
}

#[test]
fn ignore_file_and_openvex_suppress_with_reasons() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let root = rootfs();
    let target = root.path().to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let ignore = work.path().join("ignore.yaml");
    std::fs::write(
        &ignore,
        concat!(
            "ignore:\n",
            "  - id: CVE-2021-3156\n    package: sudo\n    reason: sudo is not setuid in this image\n    expires: 2999-12-31\n",
            "  - id: RUSTSEC-2021-0003\n    reason: an old decision\n    expires: 2000-01-01\n",
        ),
    )
    .unwrap();
    let o = vigil(db.path(), &["scan", target, "--format", "json", "--ignore-file", ignore.to_str().unwrap()]);
    let report = json(&o);
    assert_eq!(
        ids(&report).iter().map(|(id, _, _)| id.as_str()).collect::<Vec<_>>(),
        ["RUSTSEC-2021-0003", "RUSTSEC-2016-0004"]
    );
    assert_eq!(report["suppressed"][0]["id"], "DSA-4839-1", "matched through its CVE alias");
    assert_eq!(report["suppressed"][0]["reason"], "sudo is not setuid in this image");
    assert!(stderr(&o).contains("ignore entry RUSTSEC-2021-0003 expired on 2000-01-01"), "{}", stderr(&o));
    assert_eq!(report["summary"]["exploited"], 0);

    // The default ignore file is read from the current directory.
    std::fs::write(work.path().join(".vigilignore.yaml"), std::fs::read(&ignore).unwrap()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["scan", target, "--format", "json"])
        .current_dir(work.path())
        .env("VIGIL_DB_DIR", db.path())
        .env("HOME", db.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["suppressed"].as_array().unwrap().len(), 1);

    // OpenVEX: not_affected for smallvec at this version, with its justification.
    let vex = work.path().join("vex.json");
    std::fs::write(
        &vex,
        r#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.invalid/vex/1","author":"security team","timestamp":"2026-11-01T00:00:00Z","version":1,
            "statements":[{"vulnerability":{"name":"CVE-2021-25900"},"products":[{"@id":"pkg:cargo/smallvec@1.6.0"}],
            "status":"not_affected","justification":"vulnerable_code_not_in_execute_path","impact_statement":"insert_many is never called"},
            {"vulnerability":{"name":"DSA-4839-1"},"products":["pkg:deb/debian/sudo@9.9"],"status":"not_affected","justification":"component_not_present"}]}"#,
    )
    .unwrap();
    let report = json(&vigil(db.path(), &["scan", target, "--format", "json", "--vex", vex.to_str().unwrap()]));
    let suppressed = report["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1, "the sudo statement names another version: {suppressed:?}");
    assert_eq!(suppressed[0]["id"], "RUSTSEC-2021-0003");
    assert_eq!(suppressed[0]["by"], "OpenVEX (not_affected)");
    assert_eq!(suppressed[0]["reason"], "vulnerable_code_not_in_execute_path; insert_many is never called");
    let table = stdout(&vigil(db.path(), &["scan", target, "--vex", vex.to_str().unwrap()]));
    assert!(table.contains("suppressed:\n  RUSTSEC-2021-0003 in smallvec 1.6.0: OpenVEX (not_affected)"), "{table}");
    // A broken ignore file is an error naming it.
    std::fs::write(&ignore, "ignore:\n  - id: X\n").unwrap();
    let o = vigil(db.path(), &["scan", target, "--ignore-file", ignore.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("ignore.yaml") && stderr(&o).contains("reason"), "{}", stderr(&o));
}

#[test]
fn explain_one_advisory_against_a_target() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let root = rootfs();
    let target = root.path().to_str().unwrap();
    // By alias: the CVE names the DSA; both sudo packages map to source package sudo.
    let o = vigil(db.path(), &["explain", "CVE-2021-3156", target]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("CVE-2021-3156 (DSA-4839-1) in "), "{text}");
    assert!(text.contains("package sudo 1.8.27-1+deb10u2 (dpkg at /var/lib/dpkg/status) in Debian:10"), "{text}");
    assert!(
        text.contains("range 0 (ECOSYSTEM, dpkg): introduced 0 <= 1.8.27-1+deb10u2 < fixed 1.8.27-1+deb10u3: affected"),
        "{text}"
    );
    assert!(text.contains("package sudo-ldap 1.8.27-1+deb10u3 (dpkg at /var/lib/dpkg/status), looked up as sudo 1.8.27-1+deb10u3 in Debian:10"), "{text}");
    assert!(text.contains("1.8.27-1+deb10u3 >= fixed 1.8.27-1+deb10u3: not affected"), "{text}");
    assert!(text.contains("KEV:      CVE-2021-3156 added 2022-04-06"), "{text}");
    // An advisory for packages the target does not have.
    let o = vigil(db.path(), &["explain", "GO-2020-0001", target]);
    let text = stdout(&o);
    assert!(text.contains("no package in the target has an entry in GO-2020-0001; its entries are for:"), "{text}");
    assert!(text.contains("the target's packages are in: Debian:10, crates.io"), "{text}");
    // Unknown ids are an error that says where to look.
    let o = vigil(db.path(), &["explain", "CVE-0000-0000", target]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not in the advisory database"), "{}", stderr(&o));
}

#[test]
fn cyclonedx_with_vulnerabilities_is_valid() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let root = rootfs();
    let out = tempfile::tempdir().unwrap();
    let bom = out.path().join("bom.json");
    let o =
        vigil(db.path(), &["scan", root.path().to_str().unwrap(), "--format", &format!("cyclonedx={}", bom.display())]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&bom).unwrap()).unwrap();
    assert_eq!(doc["specVersion"], "1.6");
    assert_eq!(doc["components"].as_array().unwrap().len(), 1 + 4, "the OS and every package");
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    let dsa = vulns.iter().find(|v| v["id"] == "DSA-4839-1").unwrap();
    assert_eq!(
        dsa["affects"][0]["ref"],
        doc["components"].as_array().unwrap().iter().find(|c| c["name"] == "sudo").unwrap()["bom-ref"]
    );
    assert_eq!(dsa["recommendation"], "Upgrade to a fixed version: 1.8.27-1+deb10u3");
    let smallvec = vulns.iter().find(|v| v["id"] == "RUSTSEC-2021-0003").unwrap();
    assert_eq!(smallvec["ratings"][0]["method"], "CVSSv31");
    assert_eq!(smallvec["ratings"][0]["score"], 9.8);
    assert_valid_cyclonedx(&bom);
}

#[test]
fn scan_a_docker_archive() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let layer = tar_of(&[
        ("etc/os-release", b"ID=debian\nVERSION_ID=\"10\"\n"),
        (
            "var/lib/dpkg/status",
            b"Package: sudo\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.8.27-1+deb10u2\n",
        ),
    ]);
    let manifest = br#"[{"Config":"c.json","RepoTags":["t:1"],"Layers":["l1/layer.tar"]}]"#;
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image.tar");
    std::fs::write(&image, tar_of(&[("manifest.json", manifest), ("c.json", b"{}"), ("l1/layer.tar", &layer)]))
        .unwrap();
    let report = json(&vigil(db.path(), &["scan", image.to_str().unwrap(), "--format", "json"]));
    let f = &report["findings"][0];
    assert_eq!(f["id"], "DSA-4839-1");
    assert_eq!(f["package"]["location"]["layer"], "l1/layer.tar");
    let table = stdout(&vigil(db.path(), &["sbom", image.to_str().unwrap(), "--format", "json"]));
    assert!(table.contains("\"layer\": \"l1/layer.tar\""), "{table}");
}

#[test]
fn an_sbom_scans_like_its_target() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let root = rootfs();
    let direct = json(&vigil(db.path(), &["scan", root.path().to_str().unwrap(), "--format", "json"]));
    let out = tempfile::tempdir().unwrap();
    for format in ["cyclonedx", "spdx"] {
        let bom = out.path().join(format!("bom.{format}.json"));
        let o = vigil(
            db.path(),
            &["sbom", root.path().to_str().unwrap(), "--format", format, "--output", bom.to_str().unwrap()],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let via_sbom = json(&vigil(db.path(), &["scan", bom.to_str().unwrap(), "--format", "json"]));
        assert_eq!(ids(&via_sbom), ids(&direct), "{format}: same findings through the SBOM");
        // sudo-ldap is matched on its source package (the purl's upstream qualifier), so it stays clean.
        assert_eq!(via_sbom["summary"]["packages"], 4, "{format}");
        assert_eq!(via_sbom["findings"][0]["package"]["purl"], direct["findings"][0]["package"]["purl"]);
    }
}

#[test]
fn colour_only_on_a_terminal() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let root = rootfs();
    let plain = stdout(&vigil(db.path(), &["scan", root.path().to_str().unwrap()]));
    assert!(!plain.contains('\u{1b}'), "no escapes when standard output is not a terminal");
    // `script` runs the command on a pseudo-terminal (util-linux).
    let command = format!("{} scan {}", env!("CARGO_BIN_EXE_vigil"), root.path().display());
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("VIGIL_DB_DIR", db.path())
        .env("HOME", db.path())
        .env_remove("NO_COLOR")
        .output();
    let Ok(out) = out else {
        let msg = "`script` (util-linux) is missing: cannot run vigil on a terminal";
        assert!(std::env::var_os("VIGIL_REQUIRE_ORACLES").is_none(), "{msg}");
        // Written past the test harness's output capture, so a skip is seen even when the test passes.
        let _ =
            std::io::Write::write_all(&mut std::io::stderr(), format!("\n!!!!! SKIPPED: {msg} !!!!!\n\n").as_bytes());
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\u{1b}[1;31mCRITICAL"), "severity painted on a terminal: {text:?}");
}

#[test]
fn a_maven_pom_is_matched_on_group_and_artifact() {
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("pom.xml"),
        "<project><modelVersion>4.0.0</modelVersion><groupId>x</groupId><artifactId>y</artifactId><version>1</version>\
         <dependencies><dependency><groupId>org.apache.santuario</groupId><artifactId>xmlsec</artifactId>\
         <version>1.4.2</version></dependency></dependencies></project>",
    )
    .unwrap();
    let report =
        json(&vigil(db.path(), &["scan", project.path().join("pom.xml").to_str().unwrap(), "--format", "json"]));
    let f = &report["findings"][0];
    assert_eq!(f["id"], "x_VICTIMS-CVE-2009-0217");
    assert_eq!(f["package"]["purl"], "pkg:maven/org.apache.santuario/xmlsec@1.4.2");
}

/// Alpine 3.11.0's own versions of musl, busybox and OpenSSL (libcrypto1.1
/// and libssl1.1, origin openssl) against the real secdb records for them,
/// expectations worked out by hand from each record:
/// - ALPINE-CVE-2019-1551: openssl fixed in 1.1.1d-r3 > 1.1.1d-r2: affected, twice (both binaries).
/// - ALPINE-CVE-2019-1547/1549/1563: fixed in 1.1.1d-r1 <= 1.1.1d-r2: not affected.
/// - ALPINE-CVE-2019-5747: busybox fixed in 1.29.3-r10 and 1.30.1-r2, both <= 1.31.1-r8: not affected.
/// - ALPINE-CVE-2018-20679: busybox fixed in 1.29.3-r10: not affected.
/// - ALPINE-CVE-2019-14697: musl fixed in 1.1.23-r2 < 1.1.24-r0: not affected.
#[test]
fn alpine_3_11_by_origin_hand_verified() {
    let db = tempfile::tempdir().unwrap();
    let records = fixtures().join("accuracy/alpine");
    assert!(vigil(db.path(), &["db", "import", records.to_str().unwrap()]).status.success());
    let root = tempfile::tempdir().unwrap();
    let w = |path: &str, text: &str| {
        let p = root.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w("etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.11.0\n");
    w(
        "lib/apk/db/installed",
        "P:musl\nV:1.1.24-r0\nA:x86_64\no:musl\n\nP:busybox\nV:1.31.1-r8\nA:x86_64\no:busybox\n\n\
         P:libcrypto1.1\nV:1.1.1d-r2\nA:x86_64\no:openssl\n\nP:libssl1.1\nV:1.1.1d-r2\nA:x86_64\no:openssl\n",
    );
    let report = json(&vigil(db.path(), &["scan", root.path().to_str().unwrap(), "--format", "json"]));
    let mut got: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f["package"]["name"].as_str().unwrap().to_owned()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("ALPINE-CVE-2019-1551".to_owned(), "libcrypto1.1".to_owned()),
            ("ALPINE-CVE-2019-1551".to_owned(), "libssl1.1".to_owned()),
        ]
    );
    assert_eq!(report["findings"][0]["matched_as"], "openssl 1.1.1d-r2");
    assert_eq!(report["findings"][0]["advisory_ecosystem"], "Alpine:v3.11");
}

/// AlmaLinux 9.2's `openssl-libs` (epoch 1) against the 15 real ALSA records
/// for it, through a CycloneDX SBOM. Expected: the 10 advisories whose fix
/// is newer than 1:3.0.7-16.el9_2, as rpm's own `labelCompare` (python3-rpm)
/// orders them; ignoring the epoch would wrongly flag all 15.
#[test]
fn almalinux_rpm_with_epoch_via_sbom() {
    let db = tempfile::tempdir().unwrap();
    let records = fixtures().join("accuracy/almalinux");
    assert!(vigil(db.path(), &["db", "import", records.to_str().unwrap()]).status.success());
    let bom = db.path().join("bom.json");
    std::fs::write(
        &bom,
        serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [
            {"type": "library", "name": "openssl-libs", "version": "3.0.7-16.el9_2",
             "purl": "pkg:rpm/almalinux/openssl-libs@3.0.7-16.el9_2?arch=x86_64&distro=almalinux-9.2&epoch=1"}]})
        .to_string(),
    )
    .unwrap();
    let report = json(&vigil(db.path(), &["scan", bom.to_str().unwrap(), "--format", "json"]));
    let mut ids: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "ALSA-2024:0310",
            "ALSA-2024:2447",
            "ALSA-2024:6783",
            "ALSA-2024:9333",
            "ALSA-2025:1330",
            "ALSA-2025:21255",
            "ALSA-2026:1473",
            "ALSA-2026:19218",
            "ALSA-2026:22312",
            "ALSA-2026:25239",
        ]
    );
    assert_eq!(report["findings"][0]["package"]["version"], "1:3.0.7-16.el9_2");
}

#[test]
fn a_record_without_severity_takes_one_from_another_record_of_its_cve() {
    // Real records: GO-2020-0007 (github.com/seccomp/libseccomp-golang, CVE-2017-18367) carries no
    // severity, as no Go record does; Ubuntu's UBUNTU-CVE-2017-18367 scores the same CVE
    // CVSS:3.0 7.5, so the finding is high, says where that came from in every format, and
    // fails --fail-on high. GO-2022-1059 and GO-2026-5970 (golang.org/x/text) have no rated twin: they stay
    // unknown, pass --fail-on, and fail --fail-on-unknown.
    let dir = tempfile::tempdir().unwrap();
    let records = fixtures().join("accuracy/severity");
    let osv = fixtures().join("osv");
    assert!(vigil(dir.path(), &["db", "import", records.to_str().unwrap(), osv.to_str().unwrap()]).status.success());
    let project = tempfile::tempdir().unwrap();
    let gomod = project.path().join("go.mod");
    std::fs::write(
        &gomod,
        "module example.com/app\n\ngo 1.20\n\nrequire (\n\tgithub.com/seccomp/libseccomp-golang v0.9.0\n\t\
         golang.org/x/text v0.3.7\n)\n",
    )
    .unwrap();
    let target = gomod.to_str().unwrap();
    let report = json(&vigil(dir.path(), &["scan", target, "--format", "json"]));
    let find = |id: &str| report["findings"].as_array().unwrap().iter().find(|f| f["id"] == id).unwrap().clone();
    let seccomp = find("GO-2020-0007");
    assert_eq!(
        (&seccomp["severity"], &seccomp["cvss_score"], &seccomp["severity_source"]),
        (&"high".into(), &7.5.into(), &"CVSS_V3".into())
    );
    assert_eq!(seccomp["severity_from"], serde_json::json!({"id": "UBUNTU-CVE-2017-18367", "alias": "CVE-2017-18367"}));
    let text = find("GO-2022-1059");
    assert_eq!((&text["severity"], &text["severity_from"]), (&"unknown".into(), &serde_json::Value::Null));
    assert_eq!((report["summary"]["high"].as_u64(), report["summary"]["unknown"].as_u64()), (Some(1), Some(2)));
    for (format, needle) in [
        ("table", "HIGH (from UBUNTU-CVE-2017-18367)"),
        ("markdown", "high (from UBUNTU-CVE-2017-18367, via CVE-2017-18367)"),
        ("sarif", "\"severityFrom\": \"UBUNTU-CVE-2017-18367\""),
        ("junit", "GO-2020-0007 (high (from UBUNTU-CVE-2017-18367, via CVE-2017-18367))"),
        ("cyclonedx", "\"name\": \"UBUNTU-CVE-2017-18367\""),
    ] {
        let out = stdout(&vigil(dir.path(), &["scan", target, "--format", format]));
        assert!(out.contains(needle), "{format}: {out}");
    }
    let gate = |args: &[&str]| {
        let mut all = vec!["scan", target, "--format", "json"];
        all.extend_from_slice(args);
        let out = vigil(dir.path(), &all);
        (out.status.code(), stderr(&out))
    };
    let explained =
        stdout(&vigil(dir.path(), &["db", "explain", "Go", "github.com/seccomp/libseccomp-golang", "v0.9.0"]));
    assert!(
        explained.contains("severity: high 7.5 from CVSS_V3 of UBUNTU-CVE-2017-18367 (this record has none"),
        "{explained}"
    );
    let (code, err) = gate(&["--fail-on", "high"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("1 vulnerabilities at or above high"), "{err}");
    assert_eq!(gate(&["--fail-on", "critical"]).0, Some(0), "unknown is below every threshold");
    let (code, err) = gate(&["--fail-on", "critical", "--fail-on-unknown"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("2 vulnerabilities of unknown severity"), "{err}");
}

#[test]
fn a_scan_without_advisories_for_what_it_found_says_so() {
    // The fixture database holds Debian 10 advisories only, and none for NuGet. A Debian 12
    // root filesystem with a NuGet lock and a PyPI requirements file: the Debian and NuGet
    // packages are not checked, and every format says so; --fail-on-missing-data fails.
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let root = tempfile::tempdir().unwrap();
    let w = |path: &str, text: &str| {
        let p = root.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
    w(
        "var/lib/dpkg/status",
        "Package: sudo\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.9.13p3-1+deb12u1\n\n\
         Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n",
    );
    w("srv/app/requirements.txt", "flask==1.0\n");
    w(
        "srv/api/packages.lock.json",
        r#"{"version": 1, "dependencies": {"net8.0": {"Newtonsoft.Json": {"type": "Direct", "resolved": "13.0.1"}}}}"#,
    );
    let target = root.path().to_str().unwrap();
    let out = vigil(db.path(), &["scan", target, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "off by default");
    let err = stderr(&out);
    assert!(err.contains("warning: Debian:12: no advisories in the database, 2 packages not checked"), "{err}");
    assert!(err.contains("warning: NuGet: no advisories in the database, 1 package not checked"), "{err}");
    let report = json(&out);
    assert_eq!(report["summary"]["not_checked"], 3);
    let coverage: Vec<String> = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {}",
                c["kind"].as_str().unwrap(),
                c["ecosystem"].as_str().unwrap(),
                c["packages"],
                c["status"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(coverage, ["os Debian:12 2 no_advisories", "language NuGet 1 no_advisories", "language PyPI 1 covered"]);
    let o = vigil(db.path(), &["scan", target, "--fail-on-missing-data"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("policy failed: 3 packages not checked, no advisories for Debian:12, NuGet"),
        "{}",
        stderr(&o)
    );
    let table = stdout(&o);
    assert!(
        table.contains("not checked:\n  Debian:12: no advisories in the database, 2 packages not checked"),
        "{table}"
    );
    assert!(table.contains("3 packages not checked"), "{table}");
    let files = tempfile::tempdir().unwrap();
    let file = |n: &str| files.path().join(n).to_str().unwrap().to_owned();
    let formats = ["sarif", "junit", "markdown", "cyclonedx"].map(|f| format!("{f}={}", file(f)));
    let mut args = vec!["scan", target];
    for f in &formats {
        args.extend(["--format", f.as_str()]);
    }
    assert!(vigil(db.path(), &args).status.success());
    let read = |n: &str| std::fs::read_to_string(file(n)).unwrap();
    let sarif: serde_json::Value = serde_json::from_str(&read("sarif")).unwrap();
    let notes = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(notes[0]["level"], "warning");
    assert!(notes[0]["message"]["text"].as_str().unwrap().starts_with("Debian:12: no advisories"), "{notes}");
    assert_eq!(notes[2]["level"], "note");
    let schema = fixtures().join("schemas/sarif-2.1.0-rtm.5.json");
    let program = "import json, sys, jsonschema\njsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))\nprint('valid')";
    if let Some(verdict) = python("jsonschema", program, &[&file("sarif"), schema.to_str().unwrap()]) {
        assert_eq!(verdict, "valid");
    }
    let junit = read("junit");
    assert!(junit.contains(r#"<property name="vigil:coverage:Debian:12" value="no advisories"/>"#), "{junit}");
    assert!(
        junit.contains(r#"<skipped message="NuGet: no advisories in the database, 1 package not checked"#),
        "{junit}"
    );
    assert!(
        read("markdown").contains("**Not checked** (3 packages):\n\n- Debian:12: no advisories"),
        "{}",
        read("markdown")
    );
    let bom: serde_json::Value = serde_json::from_str(&read("cyclonedx")).unwrap();
    let properties = bom["metadata"]["properties"].as_array().unwrap();
    assert!(properties.iter().any(|p| p["name"] == "vigil:coverage:Debian:12"), "{properties:?}");
    assert_valid_cyclonedx(Path::new(&file("cyclonedx")));
    // An OS Vigil knows no advisories for at all: its packages cannot be checked either.
    w("etc/os-release", "ID=arch\nPRETTY_NAME=\"Arch Linux\"\n");
    std::fs::remove_file(root.path().join("var/lib/dpkg/status")).unwrap();
    let report = json(&vigil(db.path(), &["scan", target, "--format", "json"]));
    assert_eq!(report["coverage"][0]["ecosystem"], "arch");
    assert_eq!(report["coverage"][0]["status"], "unsupported");
    assert_eq!(vigil(db.path(), &["scan", target, "--fail-on-missing-data"]).status.code(), Some(1));
    // And `vigil db status` lists the OS releases the database covers.
    let status = json(&vigil(db.path(), &["db", "status", "--format", "json"]));
    assert!(status["os_releases"].as_array().unwrap().contains(&"Debian:10".into()), "{status}");
    assert!(!status["os_releases"].as_array().unwrap().contains(&"Debian:12".into()), "{status}");
}

/// A Go binary fixture of the inventory crate, unpacked into `dir`.
fn go_binary(dir: &Path, name: &str) -> std::path::PathBuf {
    let fixture = format!("../vigil-inventory/tests/fixtures/binaries/{name}.gz");
    let gz = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture)).unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut bytes).unwrap();
    let exe = dir.join(name);
    std::fs::write(&exe, bytes).unwrap();
    exe
}

#[test]
fn a_go_binary_built_outside_module_mode_is_matched_by_its_ldflags_version() {
    // Built at the docker CLI's package path as the docker CLI is (GOPATH mode, version in
    // -ldflags -X): GO-2024-2912 (github.com/docker/cli, fixed 20.10.9) affects 20.10.8, and
    // every format says where the version came from.
    let dir = tempfile::tempdir().unwrap();
    database(dir.path());
    let go = fixtures().join("accuracy/go");
    assert!(
        vigil(dir.path(), &["db", "import", fixtures().join("osv").to_str().unwrap(), go.to_str().unwrap()])
            .status
            .success()
    );
    let exe = go_binary(dir.path(), "gocli");
    let target = exe.to_str().unwrap();
    let report = json(&vigil(dir.path(), &["scan", target, "--format", "json"]));
    let cli = report["findings"].as_array().unwrap().iter().find(|f| f["id"] == "GO-2024-2912").unwrap();
    assert_eq!(cli["package"]["name"], "github.com/docker/cli");
    assert_eq!(cli["package"]["version"], "v20.10.8");
    let source = cli["package"]["version_source"].as_str().unwrap();
    assert!(source.starts_with("go build -ldflags -X github.com/docker/cli/cli/version.Version"), "{source}");
    let table = stdout(&vigil(dir.path(), &["scan", target]));
    assert!(table.contains("github.com/docker/cli v20.10.8: version read from go build -ldflags -X"), "{table}");
    for (format, needle) in [
        ("sarif", "installed version read from go build -ldflags -X"),
        ("markdown", "v20.10.8 (from go build -ldflags -X"),
        ("junit", "installed version v20.10.8 read from go build -ldflags -X"),
        ("cyclonedx", "vigil:version:source"),
    ] {
        let out = stdout(&vigil(dir.path(), &["scan", target, "--format", format]));
        assert!(out.contains(needle), "{format}: {out}");
    }
}

#[test]
fn a_go_binary_is_matched_by_its_go_version_and_modules() {
    // The real Go 1.19.8 binary with golang.org/x/text v0.7.0. Hand-verified against the
    // fixture records: GO-2023-1751 (stdlib, fixed 1.19.9), GO-2023-1840 (stdlib, fixed
    // 1.19.10) and GO-2026-5970 (x/text, fixed 0.39.0) affect it; GO-2023-1703 was fixed
    // in 1.19.8 itself and GO-2022-1059 in x/text 0.3.8, so they do not.
    let dir = tempfile::tempdir().unwrap();
    database(dir.path());
    let exe = go_binary(dir.path(), "gohello");
    let report = json(&vigil(dir.path(), &["scan", exe.to_str().unwrap(), "--format", "json"]));
    let mut found = ids(&report);
    found.sort();
    let v = |id: &str, name: &str| (id.to_owned(), name.to_owned(), "vulnerability".to_owned());
    assert_eq!(
        found,
        [v("GO-2023-1751", "stdlib"), v("GO-2023-1840", "stdlib"), v("GO-2026-5970", "golang.org/x/text")]
    );
    let stdlib = report["findings"].as_array().unwrap().iter().find(|f| f["id"] == "GO-2023-1751").unwrap();
    assert_eq!(stdlib["package"]["purl"], "pkg:golang/stdlib@1.19.8");
    assert_eq!(stdlib["fixed"], serde_json::json!(["1.19.9", "1.20.4"]));
}

//! `vigil webscan` end to end against the deliberately vulnerable test
//! application of vigil-dast (started here on 127.0.0.1): reports in every
//! format (SARIF checked against its official schema, JUnit and HTML
//! parsed), the CI gate's exit codes, the loopback-only rule, and uploads
//! whose findings a later scan marks fixed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::harness::{fixtures, python, skip, stderr, stdout, vigil};
use crate::platform::{ADMIN, ServerProcess, advisories};

/// The vulnerable application; killed when dropped.
struct App {
    child: Child,
    url: String,
}

impl App {
    fn start() -> Option<App> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vigil-dast/tests/fixtures/vulnapp.py");
        let Ok(mut child) = Command::new("python3")
            .arg(script)
            .arg("0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
        else {
            skip("python3 runs the vulnerable test application and is missing");
            return None;
        };
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("PORT ").unwrap().to_string();
        Some(App { child, url: format!("http://127.0.0.1:{port}/") })
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn webscan_reports_in_every_format_and_gates_ci() {
    let Some(app) = App::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let o = vigil(
        dir.path(),
        &[
            "webscan",
            &app.url,
            "--include",
            "/xss/",
            "--include",
            "/product",
            "--checks",
            "xss,sqli",
            "--format",
            &format!("json={}", file("web.json")),
            "--format",
            &format!("sarif={}", file("web.sarif")),
            "--format",
            &format!("junit={}", file("web.xml")),
            "--format",
            &format!("html={}", file("web.html")),
            "--format",
            "table",
            "--fail-on",
            "high",
        ],
    );
    // The start page is outside the included prefixes.
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("outside the scope"), "{}", stderr(&o));

    let start = format!("{}xss/text?q=hello", app.url);
    let args = |extra: &[&str]| {
        let mut a = vec!["webscan", start.as_str(), "--checks", "xss,sqli", "--include", "/xss/text"];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        vigil(dir.path(), &a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let o = run(&[
        "--format",
        &format!("json={}", file("web.json")),
        "--format",
        &format!("sarif={}", file("web.sarif")),
        "--format",
        &format!("junit={}", file("web.xml")),
        "--format",
        &format!("html={}", file("web.html")),
        "--format",
        "table",
        "--fail-on",
        "high",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("policy failed: 1 findings at or above high"), "{}", stderr(&o));
    assert!(stdout(&o).contains("VGW-XSS-REFLECTED") && stdout(&o).contains("/xss/text"), "{}", stdout(&o));

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(file("web.json")).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 1);
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "VGW-XSS-REFLECTED");
    assert_eq!(finding["parameter"]["name"], "q");
    assert!(finding["curl"].as_str().unwrap().starts_with("curl -i "));

    let sarif: serde_json::Value = serde_json::from_slice(&std::fs::read(file("web.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "VGW-XSS-REFLECTED");
    let schema = fixtures().join("schemas/sarif-2.1.0-rtm.5.json");
    let program = "import json, sys, jsonschema\njsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))\nprint('valid')";
    if let Some(verdict) = python("jsonschema", program, &[&file("web.sarif"), schema.to_str().unwrap()]) {
        assert_eq!(verdict, "valid");
    }
    let program = "import sys, xml.etree.ElementTree as ET\nr = ET.parse(sys.argv[1]).getroot()\n\
                   print(r.get('failures'), len(r.findall('.//testcase')))";
    if let Some(counts) = python("xml.etree.ElementTree", program, &[&file("web.xml")]) {
        assert_eq!(counts, "1 2");
    }
    // The HTML report shows the payload escaped: the report itself runs no script.
    let page = std::fs::read_to_string(file("web.html")).unwrap();
    assert!(page.contains("VGW-XSS-REFLECTED") && page.contains("&lt;svg onload="), "{page}");
    assert!(!page.contains("<svg"), "{page}");

    // Without --fail-on the scan passes.
    let o = run(&["--format", "json", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn webscan_refuses_hosts_that_are_not_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let o = vigil(dir.path(), &["webscan", "http://192.0.2.1/"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--allow-remote"), "{}", stderr(&o));
    let o = vigil(dir.path(), &["webscan", "http://127.0.0.1:9/", "--scope-host", "example.com"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--allow-remote"), "{}", stderr(&o));
}

#[test]
fn webscan_uploads_findings_that_a_later_scan_marks_fixed() {
    let Some(app) = App::start() else { return };
    let data = tempfile::tempdir().unwrap();
    let db = data.path();
    let imported = vigil(db, &["db", "import", advisories("v1").to_str().unwrap(), "-q"]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let server = ServerProcess::start(db, &[], &[]);
    let upload = |exclude: &str| {
        let o = vigil(
            db,
            &[
                "webscan",
                &app.url,
                "--checks",
                "xss",
                "--exclude",
                exclude,
                "--max-depth",
                "1",
                "--upload",
                &server.url,
                "--token",
                ADMIN,
                "--asset",
                "shop-web",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        stderr(&o)
    };
    let first = upload("/safe/");
    assert!(first.contains("6 open: 6 new, 0 fixed"), "{first}");
    let second = upload("/(safe/|xss/text)");
    assert!(second.contains("5 open: 0 new, 1 fixed"), "{second}");
}

#[test]
fn webscan_lists_its_checks_and_scans_a_contract_given_as_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = vigil(dir.path(), &["webscan", "--list-checks"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for id in ["xss", "sqli", "cmdi", "traversal", "redirect", "crlf", "stored-xss", "headers"] {
        assert!(stdout(&o).lines().any(|l| l.starts_with(id)), "{}", stdout(&o));
    }
    let Some(app) = App::start() else { return };
    let contract = dir.path().join("api.yaml");
    std::fs::write(
        &contract,
        "openapi: 3.0.3\nservers: [{url: /api}]\npaths:\n  /items/{id}:\n    get:\n      parameters:\n        \
         - {name: id, in: path, required: true, schema: {type: integer}}\n",
    )
    .unwrap();
    // The start URL is a path the contract templates; the scan tests its segment.
    let o = vigil(
        dir.path(),
        &[
            "webscan",
            &format!("{}api/items/1", app.url),
            "--include",
            "/api/items/",
            "--openapi",
            contract.to_str().unwrap(),
            "--checks",
            "sqli",
            "--format",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["parameter"], serde_json::json!({"in": "path", "name": 2}));
}

//! `vigil server` as a process: uploads from `vigil scan --upload`, the
//! client commands, OpenVEX back into `vigil scan --vex`, TLS, and, on
//! PostgreSQL, two processes sharing the jobs, one of them killed mid-job.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{self, stderr, stdout, vigil, vigil_env};

/// A fixed administrator token for the tests (the server takes it from VIGIL_ADMIN_TOKEN).
pub const ADMIN: &str = "vgl_testadmin123_abcdefghijkmnpqrstuvwxyz23456789";

/// The platform crate's advisory fixtures.
pub fn advisories(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vigil-platform/tests/fixtures").join(version)
}

/// A running `vigil server`.
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
    lines: mpsc::Receiver<String>,
}

impl ServerProcess {
    /// Starts `vigil server` with `args` and waits until it serves (or, for
    /// workers, until it has started).
    pub fn start(data: &Path, args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
        cmd.args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(args)
            .env("VIGIL_DB_DIR", data)
            .env("HOME", data)
            .env("VIGIL_ADMIN_TOKEN", ADMIN)
            .env("NO_COLOR", "1")
            .env_remove("VIGIL_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let (send, lines) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let worker_only = args.windows(2).any(|w| w == ["--role", "worker"]);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        let url = loop {
            let line = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())).unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("vigil server did not start:\n{}", seen.join("\n"))
            });
            if let Some(rest) = line.strip_prefix("serving ") {
                break rest.split("/api/v1").next().unwrap().to_string();
            }
            if worker_only && line.contains("job") {
                break String::new();
            }
            if worker_only && line.contains("advisory database") {
                break String::new();
            }
            seen.push(line);
        };
        ServerProcess { child, url, lines }
    }

    /// The log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// Kills the process at once (SIGKILL).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A JSON API call; returns (status, body).
pub fn api(url: &str, method: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let full = format!("{url}{path}");
    let response = match (method, body) {
        ("GET", _) => agent.get(&full).header("Authorization", format!("Bearer {token}")).call(),
        (_, body) => agent
            .post(&full)
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(serde_json::to_vec(body.unwrap_or(&json!({}))).unwrap()),
    };
    let mut response = response.unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Polls until `done` or the time runs out.
pub fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// An upload of a PyPI project.
pub fn upload(asset: &str, packages: &[(&str, &str)]) -> Value {
    let packages: Vec<Value> = packages
        .iter()
        .map(|(n, v)| {
            json!({"name": n, "version": v, "ecosystem": "PyPI", "purl": format!("pkg:pypi/{n}@{v}"),
                   "location": {"path": "/app/requirements.txt"}, "cataloger": "requirements"})
        })
        .collect();
    json!({"asset": {"name": asset, "kind": "repository"}, "inventory": {"target": asset, "os": null, "packages": packages, "warnings": []}})
}

#[test]
fn scan_upload_triage_and_vex_round_trip() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path();
    let imported = vigil(db, &["db", "import", advisories("v1").to_str().unwrap(), "-q"]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let server = ServerProcess::start(db, &[], &[]);
    let project = data.path().join("app");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("requirements.txt"), "flask==2.2.2\njinja2==2.10\n").unwrap();
    let target = project.join("requirements.txt");
    let target = target.to_str().unwrap();

    let scanned = vigil(
        db,
        &[
            "scan",
            target,
            "--upload",
            &server.url,
            "--token",
            ADMIN,
            "--asset",
            "shop",
            "--tag",
            "prod",
            "--label",
            "env=prod",
        ],
    );
    assert!(scanned.status.success(), "{}", stderr(&scanned));
    assert!(stderr(&scanned).contains("2 open: 2 new, 0 fixed, 0 reopened"), "{}", stderr(&scanned));
    let again = vigil(
        db,
        &[
            "scan",
            target,
            "--upload",
            &server.url,
            "--token",
            ADMIN,
            "--asset",
            "shop",
            "--tag",
            "prod",
            "--label",
            "env=prod",
        ],
    );
    assert!(stderr(&again).contains("unchanged since the last upload"), "{}", stderr(&again));

    let env = [("VIGIL_SERVER", server.url.as_str()), ("VIGIL_TOKEN", ADMIN)];
    let listed = vigil_env(db, &["findings", "label.env:prod and tag:prod", "--format", "json"], &env);
    let findings: Value = serde_json::from_slice(&listed.stdout).unwrap_or_else(|_| panic!("{}", stderr(&listed)));
    let advisories: Vec<&str> = findings.as_array().unwrap().iter().map(|f| f["advisory"].as_str().unwrap()).collect();
    assert_eq!(advisories.len(), 2);
    assert!(advisories.contains(&"CVE-2023-30861") && advisories.contains(&"CVE-2019-10906"), "{advisories:?}");
    let table = vigil_env(db, &["assets"], &env);
    assert!(stdout(&table).contains("shop") && stdout(&table).contains("prod"), "{}", stdout(&table));
    let bad = vigil_env(db, &["findings", "sevrity:high"], &env);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unknown field `sevrity` at column 1; did you mean `severity`?"), "{}", stderr(&bad));

    // Triage jinja2's finding as not affected, then scan locally with the asset's VEX.
    let decided = vigil_env(
        db,
        &[
            "triage",
            "--advisory",
            "GHSA-462w-v97r-4m45",
            "--state",
            "not_affected",
            "--justification",
            "vulnerable_code_not_in_execute_path",
            "--comment",
            "templates are ours",
        ],
        &env,
    );
    assert!(
        decided.status.success() && stdout(&decided).contains("1 findings marked not_affected"),
        "{}",
        stderr(&decided)
    );
    let (_, assets) = api(&server.url, "GET", "/api/v1/assets?q=name:shop", ADMIN, None);
    let id = assets["items"][0]["id"].as_i64().unwrap();
    let (status, vex) = api(&server.url, "GET", &format!("/api/v1/assets/{id}/vex"), ADMIN, None);
    assert_eq!(status, 200);
    let vex_file = data.path().join("shop.vex.json");
    std::fs::write(&vex_file, serde_json::to_vec(&vex).unwrap()).unwrap();
    let local = vigil(db, &["scan", target, "--vex", vex_file.to_str().unwrap(), "--format", "json"]);
    let report: Value = serde_json::from_slice(&local.stdout).unwrap_or_else(|_| panic!("{}", stderr(&local)));
    let remaining: Vec<&str> =
        report["findings"].as_array().unwrap().iter().map(|f| f["package"]["name"].as_str().unwrap()).collect();
    assert!(!remaining.contains(&"jinja2"), "the VEX suppresses jinja2: {remaining:?}");
    assert_eq!(
        report["suppressed"][0]["package"].as_str().map(|p| p.starts_with("jinja2")),
        Some(true),
        "{}",
        report["suppressed"]
    );

    let exposed = vigil_env(db, &["exposure", "PYSEC-2023-62"], &env);
    assert!(stdout(&exposed).contains("shop") && stdout(&exposed).contains("yes"), "{}", stdout(&exposed));
}

#[test]
fn a_killed_server_leaves_a_consistent_database_and_its_job_is_done_again() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path();
    let imported = vigil(db, &["db", "import", advisories("v1").to_str().unwrap(), "-q"]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let mut server = ServerProcess::start(db, &["--job-lease-secs", "2", "--rematch-batch", "1"], &[]);
    for i in 0..6 {
        let (status, body) = api(
            &server.url,
            "POST",
            "/api/v1/scans",
            ADMIN,
            Some(&upload(&format!("app-{i}"), &[("flask", "2.2.2"), ("jinja2", &format!("2.10.{i}"))])),
        );
        assert_eq!(status, 201, "{body}");
    }
    // Kill -9 during a large upload.
    let big: Vec<(String, String)> = (0..60_000).map(|i| (format!("pkg{i}"), "1.0".to_string())).collect();
    let big: Vec<(&str, &str)> = big.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let body = upload("big", &big);
    let url = server.url.clone();
    let sender = std::thread::spawn(move || {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        let _ = agent
            .post(format!("{url}/api/v1/scans"))
            .header("Authorization", format!("Bearer {ADMIN}"))
            .header("Content-Type", "application/json")
            .send(serde_json::to_vec(&body).unwrap());
    });
    std::thread::sleep(Duration::from_millis(400));
    server.kill();
    let _ = sender.join();
    let sqlite = db.join("server.db");
    if harness::require_tool("sqlite3", "--version") {
        let check = Command::new("sqlite3").arg(&sqlite).arg("PRAGMA integrity_check;").output().unwrap();
        assert_eq!(String::from_utf8_lossy(&check.stdout).trim(), "ok");
    }

    // Restart with a job that will be killed mid-way: a re-match with v1 and v2.
    let v1 = advisories("v1");
    let v2 = advisories("v2");
    let mut server = ServerProcess::start(
        db,
        &[
            "--job-lease-secs",
            "2",
            "--rematch-batch",
            "1",
            "--import",
            v1.to_str().unwrap(),
            "--import",
            v2.to_str().unwrap(),
        ],
        &[("VIGIL_TEST_JOB_PAUSE_MS", "1500")],
    );
    let (_, before) = api(&server.url, "GET", "/api/v1/assets/count", ADMIN, None);
    let big_stored =
        api(&server.url, "GET", "/api/v1/assets?q=name:big", ADMIN, None).1["items"].as_array().unwrap().len();
    if big_stored == 1 {
        // The upload committed before the kill: then it is whole.
        let (_, scans) =
            api(&server.url, "GET", "/api/v1/assets/count?q=name:big%20and%20last_scan>2000-01-01", ADMIN, None);
        assert_eq!(scans["count"], 1);
    }
    assert_eq!(before["count"].as_i64().unwrap(), 6 + big_stored as i64);
    let (status, _) = api(&server.url, "POST", "/api/v1/vulndb/refresh", ADMIN, None);
    assert_eq!(status, 202);
    // Kill it while it holds a re-match job.
    wait_until("a re-match job to start", Duration::from_secs(60), || {
        let (_, jobs) = api(&server.url, "GET", "/api/v1/jobs?status=running", ADMIN, None);
        jobs.as_array().is_some_and(|j| j.iter().any(|job| job["kind"] == "rematch"))
    });
    server.kill();
    let server = ServerProcess::start(db, &["--job-lease-secs", "2"], &[]);
    wait_until("every job to finish", Duration::from_secs(120), || {
        let (_, queued) = api(&server.url, "GET", "/api/v1/jobs?status=queued", ADMIN, None);
        let (_, running) = api(&server.url, "GET", "/api/v1/jobs?status=running", ADMIN, None);
        queued.as_array().is_some_and(Vec::is_empty) && running.as_array().is_some_and(Vec::is_empty)
    });
    let (_, jobs) = api(&server.url, "GET", "/api/v1/jobs?limit=1000", ADMIN, None);
    let rematches: Vec<&Value> = jobs
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "rematch" && j["payload"]["run"].as_i64() > Some(1))
        .collect();
    assert!(!rematches.is_empty());
    assert!(rematches.iter().all(|j| j["status"] == "done"), "{rematches:#?}");
    assert!(
        rematches.iter().any(|j| j["attempts"].as_i64() > Some(1)),
        "the killed job was taken over: {rematches:#?}"
    );
    // Each job's effects landed exactly once.
    let (_, audit) = api(&server.url, "GET", "/api/v1/audit?q=action:rematch.batch&limit=1000", ADMIN, None);
    for job in &rematches {
        let id = job["id"].to_string();
        let entries = audit["items"].as_array().unwrap().iter().filter(|e| e["target_id"] == id.as_str()).count();
        assert_eq!(entries, 1, "job {id} committed {entries} times");
    }
    // The advisory update found jinja2's CVE-2020-28493 on every app without a rescan.
    let (_, count) = api(&server.url, "GET", "/api/v1/findings/count?q=advisory:CVE-2020-28493", ADMIN, None);
    assert_eq!(count["count"], 6);
    let _ = server.log();
}

#[test]
fn serves_https_with_a_given_certificate() {
    if !harness::require_tool("openssl", "version") {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let (cert, key) = (data.path().join("cert.pem"), data.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let server = ServerProcess::start(
        data.path(),
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
        &[],
    );
    assert!(server.url.starts_with("https://"), "{}", server.url);
    // curl, trusting only this certificate.
    if harness::require_tool("curl", "--version") {
        let out = Command::new("curl")
            .args(["-s", "--cacert"])
            .arg(&cert)
            .arg(format!("{}/healthz", server.url))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n", "{}", String::from_utf8_lossy(&out.stderr));
        let plain = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(server.url.replace("https", "http") + "/healthz")
            .output()
            .unwrap();
        assert_ne!(String::from_utf8_lossy(&plain.stdout), "200", "plain HTTP is not served");
    }
    let _ = std::io::stderr().flush();
}

#[test]
fn two_processes_share_the_jobs_on_postgresql_and_one_dies_mid_job() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some(database) = runtime.block_on(vigil_store::testing::postgres()) else { return };
    let (v1, v2) = (advisories("v1"), advisories("v2"));
    let source = ["--import", v1.to_str().unwrap(), "--import", v2.to_str().unwrap()];
    let common = ["--database", database.url.as_str(), "--job-lease-secs", "2", "--rematch-batch", "1"];
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let args = |role: &'static str| -> Vec<&str> { [&common[..], &source[..], &["--role", role][..]].concat() };

    // An API node: stateless, it queues the first advisory build for the workers.
    let api_node = ServerProcess::start(dirs[0].path(), &args("api"), &[]);
    for i in 0..12 {
        let (status, body) = api(
            &api_node.url,
            "POST",
            "/api/v1/scans",
            ADMIN,
            Some(&upload(&format!("app-{i}"), &[("jinja2", &format!("2.10.{i}"))])),
        );
        assert_eq!((status, body["matched"].as_bool()), (201, Some(false)), "{body}");
    }
    // Two workers share the jobs; every job is held long enough to be killed in.
    let pause = [("VIGIL_TEST_JOB_PAUSE_MS", "600")];
    let mut first = ServerProcess::start(dirs[1].path(), &args("worker"), &pause);
    let second = ServerProcess::start(dirs[2].path(), &args("worker"), &pause);
    let jobs = || api(&api_node.url, "GET", "/api/v1/jobs?limit=1000", ADMIN, None).1;
    let owner_of =
        |job: &Value| job["lease_owner"].as_str().unwrap_or_default().split('/').next().unwrap_or_default().to_string();
    let first_pid = format!(":{}", first.child.id());
    wait_until("the first worker to finish a re-match job and hold another", Duration::from_secs(120), || {
        let all = jobs();
        let mine = |status: &str| {
            all.as_array()
                .unwrap()
                .iter()
                .any(|j| j["kind"] == "rematch" && j["status"] == status && owner_of(j).ends_with(&first_pid))
        };
        mine("done") && mine("running")
    });
    first.kill();
    wait_until("every job to finish", Duration::from_secs(180), || {
        jobs().as_array().unwrap().iter().all(|j| j["status"] == "done" || j["status"] == "failed")
    });
    let all = jobs();
    let rematches: Vec<&Value> = all.as_array().unwrap().iter().filter(|j| j["kind"] == "rematch").collect();
    assert_eq!(rematches.len(), 12, "{all:#}");
    assert!(rematches.iter().all(|j| j["status"] == "done"), "{rematches:#?}");
    let owners: std::collections::BTreeSet<String> = rematches.iter().map(|j| owner_of(j)).collect();
    assert_eq!(owners.len(), 2, "both workers completed jobs: {owners:?}");
    assert!(
        rematches.iter().any(|j| j["attempts"].as_i64() > Some(1)),
        "the job held by the killed worker was taken over"
    );
    let (_, audit) = api(&api_node.url, "GET", "/api/v1/audit?q=action:rematch.batch&limit=1000", ADMIN, None);
    for job in &rematches {
        let id = job["id"].to_string();
        let times = audit["items"].as_array().unwrap().iter().filter(|e| e["target_id"] == id.as_str()).count();
        assert_eq!(times, 1, "job {id} ran to completion {times} times");
    }
    // jinja2 2.10.x: CVE-2019-10906 (fixed 2.10.1) on 2.10.0 only, CVE-2020-28493 on all twelve.
    let (_, count) = api(&api_node.url, "GET", "/api/v1/findings/count?q=advisory:CVE-2020-28493", ADMIN, None);
    assert_eq!(count["count"], 12);
    let (_, vulndb) = api(&api_node.url, "GET", "/api/v1/vulndb", ADMIN, None);
    assert_eq!(vulndb["runs"].as_array().unwrap().len(), 1);
    assert!(vulndb["runs"][0]["finished_at"].is_string(), "{vulndb}");
    drop(second);
}

#[test]
fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    // scripts/test.sh installs schemathesis into its own virtual environment.
    let st = std::env::var("VIGIL_SCHEMATHESIS").unwrap_or_else(|_| "st".into());
    if !harness::require_tool(&st, "--version") {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let db = data.path();
    assert!(vigil(db, &["db", "import", advisories("v1").to_str().unwrap(), "-q"]).status.success());
    let server = ServerProcess::start(db, &["--refresh-hours", "0"], &[]);
    let (status, body) = api(
        &server.url,
        "POST",
        "/api/v1/scans",
        ADMIN,
        Some(&upload("shop", &[("flask", "2.2.2"), ("jinja2", "2.10")])),
    );
    assert_eq!(status, 201, "{body}");
    let out = Command::new(&st)
        .args(["run", &format!("{}/api/v1/openapi.json", server.url), "-H", &format!("Authorization: Bearer {ADMIN}")])
        // Signing out, disabling the user and revoking tokens would end the run's own access.
        .args([
            "--exclude-operation-id",
            "logout",
            "--exclude-operation-id",
            "update_user",
            "--exclude-operation-id",
            "revoke_token",
        ])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,\
             response_schema_conformance,negative_data_rejection",
        ])
        .args(["--max-examples", "40", "--seed", "20261130", "--workers", "1", "--no-color"])
        .current_dir(db)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    let tail: Vec<&str> = report.lines().rev().take(60).collect::<Vec<_>>().into_iter().rev().collect();
    assert!(
        out.status.success(),
        "schemathesis failed:\n{}\n{}",
        tail.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("passed"), "{report}");
}

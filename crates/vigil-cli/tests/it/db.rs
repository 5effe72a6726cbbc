//! `vigil db update | import | status | explain` against a mirror served on
//! 127.0.0.1, including failures that must leave the old database intact.

use std::path::Path;

use crate::harness::{
    Server, fixture_ecosystems, fixtures, json, mirror, stderr, stdout, update_args, vigil, vigil_env, zip_dir,
};

fn run_update(db: &Path, base: &str, prefix: &str, ecosystems: &[String]) -> std::process::Output {
    let mut args = update_args(base, prefix, ecosystems);
    args.push("--format".into());
    args.push("json".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    vigil(db, &args)
}

fn explain(db: &Path, eco: &str, pkg: &str, version: &str) -> serde_json::Value {
    json(&vigil(db, &["db", "explain", eco, pkg, version, "--all", "--format", "json"]))
}

fn affected_ids(answer: &serde_json::Value) -> Vec<String> {
    answer["advisories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["evaluation"]["affected"] == true)
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn update_from_a_local_mirror_then_explain() {
    let mirror = mirror();
    let server = Server::start(mirror.path());
    let db = tempfile::tempdir().unwrap();
    let report = json(&run_update(db.path(), &server.base, "osv", &fixture_ecosystems()));
    assert_eq!(report["records"], 19, "20 fixture records, one withdrawn: {report}");
    let sources = report["sources"].as_array().unwrap();
    let by_name = |n: &str| sources.iter().find(|s| s["name"] == n).unwrap().clone();
    assert_eq!(by_name("crates.io")["withdrawn"], 1);
    assert_eq!(by_name("PyPI")["git_ranges"], 2, "Beaker and Flask PYSEC-2023-62 each have a GIT range");
    assert_eq!(by_name("CISA KEV")["records"], 3);
    assert_eq!(by_name("FIRST EPSS")["records"], 2);

    let status = json(&vigil(db.path(), &["db", "status", "--format", "json"]));
    assert_eq!(status["advisories"], 19);
    assert_eq!(status["kev_entries"], 3);
    assert_eq!(status["epss_score_date"], "2025-08-01T00:00:00+0000");
    let ecos: Vec<&str> =
        status["ecosystems"].as_array().unwrap().iter().map(|e| e["ecosystem"].as_str().unwrap()).collect();
    assert!(
        ecos.contains(&"Debian:10") && ecos.contains(&"Ubuntu:18.04:LTS") && ecos.contains(&"AlmaLinux:9"),
        "{ecos:?}"
    );
    let text = stdout(&vigil(db.path(), &["db", "status"]));
    assert!(text.contains("schema:     1") && text.contains("advisories: 19"), "{text}");

    // Debian: source package, fixed version exclusive, KEV and EPSS attached.
    let hit = explain(db.path(), "Debian:10", "sudo", "1.8.27-1+deb10u2");
    assert_eq!(affected_ids(&hit), ["DSA-4839-1"]);
    let adv = &hit["advisories"][0];
    assert_eq!(adv["kev"]["cve_id"], "CVE-2021-3156");
    assert_eq!(adv["kev"]["date_added"], "2022-04-06");
    assert_eq!(adv["epss"]["cve"], "CVE-2021-3156");
    assert_eq!(adv["fixed"][0], "1.8.27-1+deb10u3");
    let fixed = explain(db.path(), "Debian:10", "sudo", "1.8.27-1+deb10u3");
    assert!(affected_ids(&fixed).is_empty());
    let text = stdout(&vigil(db.path(), &["db", "explain", "Debian:10", "sudo", "1.8.27-1+deb10u3", "--all"]));
    assert!(text.contains("1.8.27-1+deb10u3 >= fixed 1.8.27-1+deb10u3: not affected"), "{text}");
    // Another release does not match.
    assert_eq!(explain(db.path(), "Debian:11", "sudo", "1.8.27-1")["checked"], 0);

    // Ubuntu: unfixed status kept, one release asked for, LTS suffix optional.
    let u = explain(db.path(), "Ubuntu:18.04", "xine-ui", "0.99.9-1");
    assert_eq!(affected_ids(&u), ["UBUNTU-CVE-2007-0255"]);
    assert_eq!(u["advisories"][0]["status"], "needed");
    assert!(u["advisories"][0]["fixed"].as_array().unwrap().is_empty());
    assert_eq!(u["checked"], 1);

    // Maven last_affected is inclusive.
    assert_eq!(affected_ids(&explain(db.path(), "Maven", "org.apache.santuario:xmlsec", "1.4.2")).len(), 1);
    assert!(affected_ids(&explain(db.path(), "Maven", "org.apache.santuario:xmlsec", "1.4.3")).is_empty());

    // PyPI: names normalised, GIT range reported as not evaluated.
    let p = explain(db.path(), "PyPI", "Beaker", "1.5.0");
    let checks = p["advisories"][0]["evaluation"]["checks"].as_array().unwrap();
    assert!(
        checks.iter().any(|c| c["check"] == "not_evaluated" && c["reason"].as_str().unwrap().starts_with("GIT range")),
        "{checks:?}"
    );

    // RustSec: informational kept apart; withdrawn record gone.
    let r = explain(db.path(), "crates.io", "libusb", "0.3.0");
    assert_eq!(r["advisories"][0]["informational"], "unmaintained");
    assert!(vigil(db.path(), &["db", "explain", "crates.io", "smallvec", "1.6.0"]).status.success());
    let s = explain(db.path(), "crates.io", "smallvec", "1.6.0");
    assert_eq!(affected_ids(&s), ["RUSTSEC-2021-0003"]);
    assert_eq!(s["advisories"][0]["severity"], "critical");
    assert_eq!(s["advisories"][0]["cvss_score"], 9.8);

    // AlmaLinux EVR, Alpine origin.
    assert_eq!(affected_ids(&explain(db.path(), "AlmaLinux:9", "qatzip", "1.0.7-1.el9")).len(), 1);
    assert!(affected_ids(&explain(db.path(), "AlmaLinux:9", "qatzip", "1.0.9-1.el9")).is_empty());
    assert_eq!(affected_ids(&explain(db.path(), "Alpine:v3.7", "vte", "0.28.2-r11")).len(), 1);
    assert!(affected_ids(&explain(db.path(), "Alpine:v3.7", "vte", "0.28.2-r12")).is_empty());
}

/// Builds a good database, returns its status.
fn good_db(db: &Path, base: &str) -> serde_json::Value {
    let o = run_update(db, base, "osv", &fixture_ecosystems());
    assert!(o.status.success(), "{}", stderr(&o));
    json(&vigil(db, &["db", "status", "--format", "json"]))
}

fn assert_untouched(db: &Path, before: &serde_json::Value) {
    let after = json(&vigil(db, &["db", "status", "--format", "json"]));
    assert_eq!(after["built_at"], before["built_at"]);
    assert_eq!(after["advisories"], before["advisories"]);
    let leftovers: Vec<_> = std::fs::read_dir(db).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["vigil.db"], "temporary files left behind");
}

#[test]
fn interrupted_download_keeps_the_old_database() {
    let mirror = mirror();
    let server = Server::start(mirror.path());
    let db = tempfile::tempdir().unwrap();
    let before = good_db(db.path(), &server.base);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let o = run_update(db.path(), &server.base, "cut/osv", &fixture_ecosystems());
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("previous database (if any) is unchanged"), "{err}");
    assert!(err.contains("cut short") || err.contains("transfer failed"), "{err}");
    assert!(err.contains("/cut/osv/"), "error names the URL: {err}");
    assert_untouched(db.path(), &before);
    // The old database still answers.
    assert_eq!(affected_ids(&explain(db.path(), "Debian:10", "sudo", "1.8.27-1")), ["DSA-4839-1"]);
}

#[test]
fn http_errors_corrupt_zips_and_bad_gzip_fail_cleanly() {
    let mirror = mirror();
    // A garbage zip and a zip cut in half (served whole, so only the archive check can notice).
    std::fs::create_dir_all(mirror.path().join("osv/Garbage")).unwrap();
    std::fs::write(mirror.path().join("osv/Garbage/all.zip"), b"this is not a zip").unwrap();
    let good = std::fs::read(mirror.path().join("osv/Debian/all.zip")).unwrap();
    std::fs::create_dir_all(mirror.path().join("osv/Truncated")).unwrap();
    std::fs::write(mirror.path().join("osv/Truncated/all.zip"), &good[..good.len() * 2 / 3]).unwrap();
    std::fs::write(mirror.path().join("bad.csv.gz"), [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).unwrap();
    let server = Server::start(mirror.path());
    let db = tempfile::tempdir().unwrap();
    let before = good_db(db.path(), &server.base);

    for (eco, needle) in
        [("NoSuchEcosystem", "HTTP 404"), ("Garbage", "not a readable zip"), ("Truncated", "not a readable zip")]
    {
        let o = run_update(db.path(), &server.base, "osv", &["Debian".to_owned(), eco.to_owned()]);
        assert_eq!(o.status.code(), Some(2), "{eco}");
        assert!(stderr(&o).contains(needle), "{eco}: {}", stderr(&o));
        assert_untouched(db.path(), &before);
    }
    let mut args = update_args(&server.base, "osv", &["Debian".to_owned()]);
    let epss = args.iter().position(|a| a == "--epss-url").unwrap() + 1;
    args[epss] = format!("{}/bad.csv.gz", server.base);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = vigil(db.path(), &args);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad gzip"), "{}", stderr(&o));
    assert_untouched(db.path(), &before);
}

#[test]
fn malformed_records_are_skipped_counted_and_named() {
    let mirror = mirror();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("osv/npm/x_NSWG-ECO-1.json"), dir.path().join("good.json")).unwrap();
    std::fs::write(
        dir.path().join("bad-field.json"),
        r#"{"id":"BAD-1","affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":0}]}]}]}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("not-json.json"), "{ truncated").unwrap();
    zip_dir(dir.path(), &mirror.path().join("osv/Mixed/all.zip"));
    let server = Server::start(mirror.path());
    let db = tempfile::tempdir().unwrap();
    let mut args = update_args(&server.base, "osv", &["Mixed".to_owned()]);
    args.extend(["--no-kev".to_owned(), "--no-epss".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = vigil(db.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("2 malformed records skipped"), "{err}");
    assert!(err.contains("Mixed/all.zip!bad-field.json: field affected[0].ranges[0].events[0].introduced"), "{err}");
    assert!(err.contains("Mixed/all.zip!not-json.json"), "{err}");
    let status = json(&vigil(db.path(), &["db", "status", "--format", "json"]));
    assert_eq!(status["sources"][0]["skipped"], 2);
    assert_eq!(status["sources"][0]["records"], 1);
    assert_eq!(status["problems"].as_array().unwrap().len(), 2);
}

#[test]
fn import_works_offline_from_directories_zips_and_files() {
    let db = tempfile::tempdir().unwrap();
    let osv = fixtures().join("osv");
    let kev = fixtures().join("kev/known_exploited_vulnerabilities.json");
    let o = vigil(db.path(), &["db", "import", osv.to_str().unwrap(), kev.to_str().unwrap(), "--format", "json"]);
    let report = json(&o);
    assert_eq!(report["records"], 19);
    assert_eq!(affected_ids(&explain(db.path(), "Debian:10", "sudo", "1.8.27-1")), ["DSA-4839-1"]);
    // An all.zip takes its ecosystem name from its folder.
    let mirror = mirror();
    let zip = mirror.path().join("osv/crates.io/all.zip");
    let report = json(&vigil(db.path(), &["db", "import", zip.to_str().unwrap(), "--format", "json"]));
    assert_eq!(report["sources"][0]["name"], "crates.io");
    assert_eq!(report["records"], 2);
    // Not an advisory file.
    let o = vigil(db.path(), &["db", "import", "Cargo.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not an OSV zip"), "{}", stderr(&o));
}

#[test]
fn missing_database_says_what_to_do() {
    let db = tempfile::tempdir().unwrap();
    let o = vigil(db.path(), &["db", "explain", "npm", "x", "1.0.0"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("vigil db update") && err.contains("vigil db import"), "{err}");
}

#[test]
fn stale_database_warns() {
    let db = tempfile::tempdir().unwrap();
    let osv = fixtures().join("osv/npm");
    assert!(vigil(db.path(), &["db", "import", osv.to_str().unwrap()]).status.success());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let o = vigil_env(db.path(), &["db", "status"], &[("VIGIL_DB_MAX_AGE_DAYS", "0")]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("more than 0 days: run `vigil db update`"), "{}", stderr(&o));
    let o = vigil(db.path(), &["db", "status"]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

#[test]
fn config_file_supplies_the_mirror() {
    let mirror = mirror();
    let server = Server::start(mirror.path());
    let db = tempfile::tempdir().unwrap();
    let config = db.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[db]\nosv_base = \"{}/osv\"\necosystems = [\"npm\", \"Go\"]\nkev_url = \"\"\nepss_url = \"\"\n",
            server.base
        ),
    )
    .unwrap();
    let o = vigil(db.path(), &["--config", config.to_str().unwrap(), "db", "update", "--format", "json"]);
    let report = json(&o);
    let names: Vec<&str> = report["sources"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["npm", "Go"]);
    // The environment beats the file.
    let o = vigil_env(
        db.path(),
        &["--config", config.to_str().unwrap(), "db", "update", "--ecosystem", "Maven"],
        &[("VIGIL_OSV_BASE", &format!("{}/nowhere", server.base))],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nowhere/Maven/all.zip"), "{}", stderr(&o));
}

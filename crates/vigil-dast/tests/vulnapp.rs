//! Scans the deliberately vulnerable application (tests/fixtures/vulnapp.py,
//! started here on 127.0.0.1 with a free port) and checks that Vigil reports
//! exactly its planted vulnerabilities and nothing on their safe twins.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use vigil_dast::{Options, Report, scan};

/// Whether a missing tool must fail the test instead of skipping it.
fn required() -> bool {
    std::env::var_os("VIGIL_REQUIRE_ORACLES").is_some_and(|v| v == "1")
}

/// The test application; killed when dropped (and it exits by itself when our end of its
/// standard input closes, should this process die first).
struct App {
    child: Child,
    base: String,
}

impl App {
    fn start(args: &[&str]) -> Option<App> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vulnapp.py");
        let mut child = match Command::new("python3")
            .arg(script)
            .arg("0")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                eprintln!("SKIPPED: python3 runs the vulnerable test application and is missing: {e}");
                assert!(!required(), "python3 is missing (VIGIL_REQUIRE_ORACLES=1)");
                return None;
            }
        };
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line).expect("the app prints its port");
        let port: u16 = line.trim().strip_prefix("PORT ").and_then(|p| p.parse().ok()).expect("PORT <n>");
        Some(App { child, base: format!("http://127.0.0.1:{port}") })
    }

    fn options(&self, checks: &[&str]) -> Options {
        let mut options = Options::new(url::Url::parse(&format!("{}/", self.base)).unwrap());
        options.checks = checks.iter().map(|c| c.to_string()).collect();
        options
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the PostgreSQL the time-based endpoint uses answers.
fn postgres() -> bool {
    let url = std::env::var("VIGIL_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let ok = Command::new("psql").args([url.as_str(), "-Atc", "select 1"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: the time-based SQL injection endpoint needs psql and PostgreSQL at {url}");
        assert!(!required(), "PostgreSQL is not reachable at {url} (VIGIL_REQUIRE_ORACLES=1)");
    }
    ok
}

/// (rule, path, parameter) of every finding.
fn found(report: &Report) -> BTreeSet<(String, String, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            let path = f
                .location
                .rsplit_once(&*format!("127.0.0.1:{}", url::Url::parse(&f.url).unwrap().port().unwrap()))
                .unwrap()
                .1
                .to_string();
            (f.rule.to_string(), path, f.key().unwrap_or_default())
        })
        .collect()
}

fn set(list: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    list.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect()
}

fn assert_same(got: &BTreeSet<(String, String, String)>, expected: &BTreeSet<(String, String, String)>) {
    assert_eq!(
        got,
        expected,
        "\nmissing: {:#?}\nunexpected: {:#?}",
        expected.difference(got).collect::<Vec<_>>(),
        got.difference(expected).collect::<Vec<_>>()
    );
}

#[test]
fn finds_exactly_the_planted_vulnerabilities_and_nothing_on_the_safe_twins() {
    let Some(app) = App::start(&[]) else { return };
    let options = app.options(&["xss", "sqli", "cmdi", "traversal", "redirect", "crlf", "stored-xss"]);
    let report = scan(&options, &|_| {}).unwrap();
    let mut expected = set(&[
        ("VGW-XSS-REFLECTED", "/xss/text", "query:q"),
        ("VGW-XSS-REFLECTED", "/xss/attr", "query:q"),
        ("VGW-XSS-REFLECTED", "/xss/script", "query:q"),
        ("VGW-XSS-REFLECTED", "/xss/url", "query:q"),
        ("VGW-XSS-REFLECTED", "/xss/comment", "query:q"),
        ("VGW-XSS-REFLECTED", "/xss/title", "query:q"),
        ("VGW-XSS-STORED", "/guestbook", "form:name"),
        ("VGW-XSS-STORED", "/guestbook", "form:message"),
        ("VGW-SQLI", "/product", "query:id"),
        ("VGW-SQLI", "/news", "query:id"),
        ("VGW-SQLI", "/search", "query:name"),
        ("VGW-SQLI", "/catalog", "query:category"),
        ("VGW-SQLI", "/order", "form:item"),
        ("VGW-SQLI", "/prefs", "cookie:theme"),
        ("VGW-SQLI", "/api/products", "json:name"),
        ("VGW-SQLI", "/api/items/1", "path:2"),
        ("VGW-COMMAND-INJECTION", "/ping", "query:host"),
        ("VGW-PATH-TRAVERSAL", "/download", "query:file"),
        ("VGW-OPEN-REDIRECT", "/go", "query:url"),
        ("VGW-CRLF", "/go", "query:url"),
        ("VGW-CRLF", "/lang", "query:l"),
    ]);
    if postgres() {
        expected.extend(set(&[("VGW-SQLI", "/api/stock", "query:sku")]));
    } else {
        let mut got = found(&report);
        got.retain(|f| f.1 != "/api/stock");
        return assert_same(&got, &expected);
    }
    assert_same(&found(&report), &expected);
    // Each technique was the one that proved its endpoint.
    let title = |path: &str| report.findings.iter().find(|f| f.url.contains(path)).map(|f| f.title.clone()).unwrap();
    assert!(title("/product?").contains("SQLite, error-based"));
    assert!(title("/catalog?").contains("boolean-based"));
    assert!(title("/api/stock?").contains("PostgreSQL, time-based"), "{}", title("/api/stock?"));
    // Every finding carries its proof.
    for f in &report.findings {
        assert!(f.payload.is_some() && !f.evidence.is_empty() && f.curl.starts_with("curl -i"), "{f:?}");
        assert!(f.response.starts_with("HTTP/1.1 "), "{f:?}");
    }
    // The sitemap's pages and the contract's operations were reached; robots.txt's /backup/
    // answers with the catch-all shell and is no page.
    assert!(report.crawled.iter().any(|c| c.ends_with("/news")), "{:?}", report.crawled);
    assert!(report.crawled.iter().any(|c| c == &format!("POST {}/api/safe/products", app.base)));
    assert!(report.untested.iter().any(|u| u.location.ends_with("/backup/") && u.reason.contains("soft 404")));
    assert!(report.untested.iter().all(|u| u.check == "crawl"));
}

#[test]
fn passive_checks_report_a_bare_site_and_not_a_hardened_one() {
    let Some(bare) = App::start(&[]) else { return };
    let report = scan(&bare.options(&["headers"]), &|_| {}).unwrap();
    let got: BTreeSet<(String, String)> =
        report.findings.iter().map(|f| (f.rule.to_string(), f.key().unwrap_or_default())).collect();
    let expected: BTreeSet<(String, String)> = [
        ("VGW-HEADER-CSP", ""),
        ("VGW-HEADER-XCTO", ""),
        ("VGW-HEADER-FRAMING", ""),
        ("VGW-COOKIE-FLAGS", "cookie:sid"),
        ("VGW-COOKIE-FLAGS", "cookie:theme"),
        ("VGW-COOKIE-FLAGS", "cookie:safe_theme"),
        ("VGW-VERSION-DISCLOSURE", "header:server"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, expected);
    let Some(hardened) = App::start(&["--hardened"]) else { return };
    let report = scan(&hardened.options(&["headers"]), &|_| {}).unwrap();
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

#[test]
fn a_time_limit_lists_what_was_not_tested() {
    let Some(app) = App::start(&[]) else { return };
    let mut options = app.options(&["sqli"]);
    options.max_duration = Some(std::time::Duration::from_millis(1500));
    let report = scan(&options, &|_| {}).unwrap();
    let untested: Vec<_> = report.untested.iter().filter(|u| u.check == "sqli").collect();
    assert!(!untested.is_empty(), "a 1.5 s budget cannot test every parameter");
    assert!(untested.iter().all(|u| u.parameter.is_some() && u.reason.contains("time limit")));
}

#[test]
fn the_rate_limit_is_kept() {
    let Some(app) = App::start(&[]) else { return };
    let mut options = app.options(&["xss"]);
    options.rate = 20.0;
    options.max_pages = 10;
    let report = scan(&options, &|_| {}).unwrap();
    let rate = report.requests as f64 / report.duration_secs;
    assert!(report.requests > 20 && rate <= 21.0, "{} requests in {:.2} s", report.requests, report.duration_secs);
}

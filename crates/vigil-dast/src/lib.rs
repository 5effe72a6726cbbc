//! Vigil's web application scanner.
//!
//! A scan crawls a site from its start URL inside a [`Scope`] (hosts,
//! path prefixes, exclusions; loopback only unless remote hosts are
//! allowed), then runs the [`checks::CHECKS`] table over what it found:
//! active checks on every place a payload can go (query parameters, form
//! fields, JSON fields, cookies), passive checks on every page. Each
//! finding carries its proof: the request and response excerpts and a
//! `curl` command. Work the time budget did not allow is listed in the
//! report, never dropped silently.
//!
//! ```text
//! start URL --> crawl (links, forms, scripts, robots.txt, sitemap.xml) --> targets
//! targets x checks (one module each) --> findings --> Report (table, JSON, SARIF, JUnit, HTML)
//! ```

#![forbid(unsafe_code)]

pub mod checks;
pub mod crawl;
pub mod finding;
pub mod html;
pub mod http;
pub mod openapi;
pub mod report;
pub mod request;
pub mod scope;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use url::Url;

pub use checks::{CHECKS, Strength};
pub use finding::{Confidence, Finding, Severity};
pub use scope::Scope;

use crate::checks::{Check, Ctx, Run, Target};
use crate::http::{Client, ClientOptions, Session};
use crate::request::{Point, Request};

/// What goes wrong in a scan.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A URL out of scope, or a scope that cannot be.
    #[error("{0}")]
    Scope(String),
    /// A request failed.
    #[error("{0}")]
    Http(String),
    /// The options do not make sense.
    #[error("{0}")]
    Options(String),
}

/// How to scan.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the crawl starts.
    pub start: Url,
    /// Further `host[:port]` in scope.
    pub hosts: Vec<String>,
    /// Path prefixes in scope (default: all).
    pub prefixes: Vec<String>,
    /// Regular expressions of URLs never requested.
    pub excludes: Vec<String>,
    /// Whether hosts that are not loopback may be scanned.
    pub allow_remote: bool,
    /// Most requests per second (0: no limit).
    pub rate: f64,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// When to stop; what was not tested by then is listed.
    pub max_duration: Option<Duration>,
    /// How many links deep the crawler goes.
    pub max_depth: usize,
    /// How many requests the crawler makes at most.
    pub max_pages: usize,
    /// Ids of the checks to run (empty: the default ones).
    pub checks: Vec<String>,
    /// How hard the active checks try.
    pub strength: Strength,
    /// Headers sent with every request.
    pub headers: Vec<(String, String)>,
    /// Cookies to start with.
    pub cookies: Vec<(String, String)>,
    /// How long one request may take.
    pub timeout: Duration,
    /// OpenAPI or Swagger documents (URLs in scope, or files) whose operations seed the crawl.
    pub openapi: Vec<String>,
}

impl Options {
    /// Options with the defaults, for `start`.
    pub fn new(start: Url) -> Options {
        Options {
            start,
            hosts: Vec::new(),
            prefixes: Vec::new(),
            excludes: Vec::new(),
            allow_remote: false,
            rate: 0.0,
            concurrency: 4,
            max_duration: None,
            max_depth: 8,
            max_pages: 500,
            checks: Vec::new(),
            strength: Strength::Medium,
            headers: Vec::new(),
            cookies: Vec::new(),
            timeout: Duration::from_secs(30),
            openapi: Vec::new(),
        }
    }
}

/// Work the scan did not do.
#[derive(Debug, Clone, Serialize)]
pub struct Untested {
    /// The check, or `crawl`.
    pub check: String,
    /// The method and URL.
    pub location: String,
    /// Where in the request, for active checks.
    pub parameter: Option<String>,
    /// Why.
    pub reason: String,
}

/// What a scan found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The start URL.
    pub target: String,
    /// The checks that ran.
    pub checks: Vec<&'static str>,
    /// Requests sent.
    pub requests: u64,
    /// Seconds the scan took.
    pub duration_secs: f64,
    /// Every request the crawler found and sent (method and URL).
    pub crawled: Vec<String>,
    /// The findings, worst first.
    pub findings: Vec<Finding>,
    /// What was not tested, and why.
    pub untested: Vec<Untested>,
}

/// The checks `ids` names (the default ones when empty).
pub fn select_checks(ids: &[String]) -> Result<Vec<&'static Check>, Error> {
    if ids.is_empty() {
        return Ok(CHECKS.iter().filter(|c| c.default).collect());
    }
    ids.iter()
        .map(|id| {
            CHECKS.iter().find(|c| c.id == id.as_str()).ok_or_else(|| {
                let known: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
                Error::Options(format!("--checks {id}: no such check; the checks are {}", known.join(", ")))
            })
        })
        .collect()
}

/// Where applications usually publish their API contract.
const CONTRACT_PATHS: &[&str] =
    &["/openapi.json", "/swagger.json", "/v3/api-docs", "/openapi.yaml", "/swagger/v1/swagger.json"];

/// Requests from the API contracts given, or found at the usual places when none is given.
fn contracts(ctx: &Ctx<'_>, options: &Options) -> Result<Vec<Request>, Error> {
    let mut out = Vec::new();
    if options.openapi.is_empty() {
        for path in CONTRACT_PATHS {
            let Ok(url) = options.start.join(path) else { continue };
            if let Some(r) = ctx.send(&Request::get(url.clone()))
                && r.status == 200
                && let Ok(found) = openapi::requests(&r.body, &url)
            {
                out.extend(found);
                break;
            }
        }
        return Ok(out);
    }
    for source in &options.openapi {
        let (text, url) = if source.starts_with("http://") || source.starts_with("https://") {
            let url = Url::parse(source).map_err(|e| Error::Options(format!("--openapi {source}: {e}")))?;
            let (_, r) = ctx.client.fetch(ctx.session, &Request::get(url.clone()))?;
            if r.status != 200 {
                return Err(Error::Options(format!("--openapi {source}: the server answered {}", r.status)));
            }
            (r.body, url)
        } else {
            let path = std::path::Path::new(source);
            let meta = std::fs::metadata(path).map_err(|e| Error::Options(format!("--openapi {source}: {e}")))?;
            if meta.len() > 32 << 20 {
                return Err(Error::Options(format!("--openapi {source}: larger than 32 MiB")));
            }
            let text = std::fs::read_to_string(path).map_err(|e| Error::Options(format!("--openapi {source}: {e}")))?;
            (text, options.start.clone())
        };
        out.extend(openapi::requests(&text, &url)?);
    }
    Ok(out)
}

/// Scans the site at `options.start`; `progress` hears what the scan is doing.
pub fn scan(options: &Options, progress: &(dyn Fn(&str) + Sync)) -> Result<Report, Error> {
    let started = Instant::now();
    let checks = select_checks(&options.checks)?;
    let scope = Scope::new(&options.start, &options.hosts, &options.prefixes, &options.excludes, options.allow_remote)?;
    if !scope.allows(&options.start) {
        return Err(Error::Scope(format!("{}: the start URL is outside the scope given", options.start)));
    }
    let client = Client::new(
        scope,
        ClientOptions {
            rate: options.rate,
            timeout: options.timeout,
            headers: options.headers.clone(),
            ..Default::default()
        },
    );
    let session = Session::with_cookies(options.cookies.clone());
    let ctx = Ctx {
        client: &client,
        session: &session,
        strength: options.strength,
        initial_cookies: &options.cookies,
        deadline: options.max_duration.map(|d| started + d),
    };
    progress(&format!("crawling {}", options.start));
    let limits =
        crawl::Limits { max_depth: options.max_depth, max_pages: options.max_pages, concurrency: options.concurrency };
    let mut seeds = vec![Request::get(options.start.clone())];
    seeds.extend(contracts(&ctx, options)?);
    let crawled = crawl::crawl(&ctx, &options.start, seeds, limits);
    let mut untested: Vec<Untested> = crawled
        .skipped
        .iter()
        .map(|(location, reason)| Untested {
            check: "crawl".into(),
            location: location.clone(),
            parameter: None,
            reason: reason.clone(),
        })
        .collect();
    let targets = crawled.targets;
    progress(&format!("crawled {} requests; testing", targets.len()));

    // Every unit of work, in a fixed order.
    enum Job<'a> {
        Point(&'a Check, &'a Target, Point),
        Page(&'a Check, &'a Target),
        Site(&'a Check),
    }
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for check in &checks {
        match check.run {
            Run::Point(_) => {
                for target in &targets {
                    jobs.extend(target.request.points().into_iter().map(|p| Job::Point(check, target, p)));
                }
            }
            Run::Page(_) => jobs.extend(targets.iter().map(|t| Job::Page(check, t))),
            Run::Site(_) => jobs.push(Job::Site(check)),
        }
    }
    let check_run = |job: &Job<'_>| match job {
        Job::Point(c, ..) | Job::Page(c, _) | Job::Site(c) => c.run,
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Vec<Finding>)>> = Mutex::new(Vec::new());
    let skipped: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..options.concurrency.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    if ctx.expired() {
                        skipped.lock().unwrap_or_else(|e| e.into_inner()).push(i);
                        continue;
                    }
                    let found = match (job, check_run(job)) {
                        // Findings of a place in a request are located at the request as crawled
                        // (a payload in a path segment is not part of the location).
                        (Job::Point(_, target, point), Run::Point(run)) => {
                            let mut found = run(&ctx, target, point);
                            found.iter_mut().for_each(|f| f.location = target.request.location());
                            found
                        }
                        (Job::Page(_, target), Run::Page(run)) => run(target),
                        (Job::Site(_), Run::Site(run)) => run(&ctx, &targets),
                        _ => Vec::new(),
                    };
                    // A check the deadline cut short may have missed something: say so.
                    if ctx.expired() && found.is_empty() {
                        skipped.lock().unwrap_or_else(|e| e.into_inner()).push(i);
                    }
                    results.lock().unwrap_or_else(|e| e.into_inner()).push((i, found));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let mut findings: Vec<Finding> = results.into_iter().flat_map(|(_, f)| f).collect();
    let mut skipped = skipped.into_inner().unwrap_or_else(|e| e.into_inner());
    skipped.sort_unstable();
    for i in skipped {
        let (check, location, parameter) = match &jobs[i] {
            Job::Point(c, t, p) => (c.id, t.request.location(), Some(p.to_string())),
            Job::Page(c, t) => (c.id, t.request.location(), None),
            Job::Site(c) => (c.id, options.start.to_string(), None),
        };
        untested.push(Untested {
            check: check.into(),
            location,
            parameter,
            reason: "the time limit was reached".into(),
        });
    }
    // One finding per rule, location and parameter.
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.rule, f.location.clone(), f.key())));
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.location.cmp(&b.location)));
    Ok(Report {
        target: options.start.to_string(),
        checks: checks.iter().map(|c| c.id).collect(),
        requests: client.sent(),
        duration_secs: started.elapsed().as_secs_f64(),
        crawled: targets.iter().map(|t| t.request.location()).collect(),
        findings,
        untested,
    })
}

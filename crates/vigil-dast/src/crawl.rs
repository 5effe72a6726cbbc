//! Discovery: from the start URL (and robots.txt, sitemap.xml and any
//! imported API contract), breadth first to a depth and page limit, over
//! links, forms (submitted with plausible values) and URLs written in
//! scripts. Requests that differ only in parameter values are one.
//! Catch-all routes that answer 200 with the same shell for any path are
//! recognised (soft 404) and their pages left out.

use std::collections::HashSet;
use std::sync::LazyLock;
use std::sync::Mutex;

use regex::Regex;
use url::Url;

use crate::checks::{Ctx, Target, marker, similarity, without};
use crate::html;
use crate::request::Request;

/// How far the crawler goes.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Links followed from a seed, at most.
    pub max_depth: usize,
    /// Requests crawled, at most.
    pub max_pages: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// What the crawl found.
#[derive(Debug, Default)]
pub struct Crawl {
    /// Every request crawled with its answer.
    pub targets: Vec<Target>,
    /// Requests found but not crawled (limits, soft 404s, time), with why.
    pub skipped: Vec<(String, String)>,
}

static SCRIPT_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"["'`]((?:https?://[^"'`\s<>\\]+)|(?:/[A-Za-z0-9_\-.~%/]+(?:\?[^"'`\s<>\\]*)?))["'`]"#)
        .expect("valid pattern")
});
static LOC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<loc>\s*([^<\s]+)\s*</loc>").expect("valid pattern"));

/// The page a catch-all route answers for a path that does not exist, and how much it changes by itself.
struct Soft404 {
    shell: String,
    threshold: f64,
}

impl Soft404 {
    fn probe(ctx: &Ctx<'_>, start: &Url) -> Option<Soft404> {
        let mut bodies = Vec::new();
        for _ in 0..2 {
            let m = marker();
            let url = start.join(&format!("/{m}/{m}.html")).ok()?;
            let response = ctx.send(&Request::get(url))?;
            if response.status != 200 {
                return None;
            }
            bodies.push(without(&response.body, &[&m]));
        }
        let stability = similarity(&bodies[0], &bodies[1]);
        Some(Soft404 { threshold: (stability - 0.03).min(0.97), shell: bodies.swap_remove(0) })
    }

    fn matches(&self, target: &Target) -> bool {
        target.response.status == 200 && similarity(&self.shell, &without(&target.response.body, &[])) >= self.threshold
    }
}

/// Crawls from `seeds`.
pub fn crawl(ctx: &Ctx<'_>, start: &Url, seeds: Vec<Request>, limits: Limits) -> Crawl {
    let soft404 = Soft404::probe(ctx, start);
    let mut seen: HashSet<String> = HashSet::new();
    let mut frontier: Vec<Request> = Vec::new();
    let mut out = Crawl::default();
    let push = |r: Request, seen: &mut HashSet<String>, next: &mut Vec<Request>, out: &mut Crawl| {
        let mut r = r;
        r.url.set_fragment(None);
        if !ctx.client.scope().allows(&r.url) {
            return;
        }
        if seen.insert(r.key()) {
            if seen.len() > limits.max_pages {
                out.skipped.push((r.location(), "over the page limit".into()));
            } else {
                next.push(r);
            }
        }
    };
    for seed in seeds.into_iter().chain(well_known(ctx, start)) {
        push(seed, &mut seen, &mut frontier, &mut out);
    }
    for _depth in 0..=limits.max_depth {
        if frontier.is_empty() {
            break;
        }
        let level = std::mem::take(&mut frontier);
        let found: Mutex<Vec<(Target, Vec<Request>)>> = Mutex::new(Vec::new());
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..limits.concurrency.max(1) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(request) = level.get(i) else { break };
                        let Ok((_, response)) = ctx.client.fetch(ctx.session, request) else { continue };
                        let links = discover(&response);
                        // Cookies a page sets are places to test on that page.
                        let mut request = request.clone();
                        for set in response.header_all("set-cookie") {
                            let pair = set.split(';').next().and_then(|p| p.split_once('='));
                            if let Some((name, value)) =
                                pair.filter(|(n, _)| !request.cookies.iter().any(|(c, _)| c == n.trim()))
                            {
                                request.cookies.push((name.trim().to_string(), value.trim().to_string()));
                            }
                        }
                        found.lock().unwrap_or_else(|e| e.into_inner()).push((Target { request, response }, links));
                    }
                });
            }
        });
        let mut found = found.into_inner().unwrap_or_else(|e| e.into_inner());
        // Keep the crawl's order stable whatever the threads did.
        found.sort_by_key(|(t, _)| level.iter().position(|r| r.key() == t.request.key()));
        for (target, links) in found {
            if soft404.as_ref().is_some_and(|s| s.matches(&target)) && target.request.points().is_empty() {
                out.skipped
                    .push((target.request.location(), "answers like a page that does not exist (soft 404)".into()));
                continue;
            }
            for link in links {
                push(link, &mut seen, &mut frontier, &mut out);
            }
            out.targets.push(target);
        }
        if ctx.expired() {
            break;
        }
    }
    for r in frontier {
        out.skipped.push((r.location(), "deeper than the depth limit or found after the time limit".into()));
    }
    out
}

/// robots.txt paths and sitemap entries.
fn well_known(ctx: &Ctx<'_>, start: &Url) -> Vec<Request> {
    let mut out = Vec::new();
    let mut sitemaps: Vec<Url> = start.join("/sitemap.xml").into_iter().collect();
    if let Some(robots) = start.join("/robots.txt").ok().and_then(|u| ctx.send(&Request::get(u)))
        && robots.status == 200
    {
        for line in robots.body.lines().take(10_000) {
            let Some((key, value)) = line.split_once(':') else { continue };
            let value = value.split('#').next().unwrap_or_default().trim();
            match key.trim().to_ascii_lowercase().as_str() {
                "allow" | "disallow" => {
                    let path = value.split(['*', '$']).next().unwrap_or_default();
                    if path.starts_with('/') && path.len() > 1 {
                        out.extend(start.join(path).ok().map(Request::get));
                    }
                }
                "sitemap" => sitemaps.extend(start.join(line.split_once(':').map_or("", |(_, v)| v.trim())).ok()),
                _ => {}
            }
        }
    }
    let mut read = HashSet::new();
    while let Some(map) = sitemaps.pop() {
        if read.len() >= 10 || !read.insert(map.clone()) {
            continue;
        }
        let Some(response) = ctx.send(&Request::get(map)) else { continue };
        if response.status != 200 {
            continue;
        }
        for cap in LOC.captures_iter(&response.body).take(10_000) {
            let Ok(url) = Url::parse(&cap[1].replace("&amp;", "&")) else { continue };
            if url.path().ends_with(".xml") {
                sitemaps.push(url);
            } else {
                out.push(Request::get(url));
            }
        }
    }
    out
}

/// The requests a response leads to.
fn discover(response: &crate::http::Response) -> Vec<Request> {
    let mut out = Vec::new();
    let base = &response.url;
    let mut scripts = Vec::new();
    if response.is_html() {
        let page = html::page(base, &response.body);
        out.extend(page.links.into_iter().map(Request::get));
        out.extend(page.forms);
        scripts = page.scripts;
    } else if response.header("content-type").is_some_and(|t| t.contains("javascript")) {
        scripts.push(response.body.clone());
    }
    for script in &scripts {
        for cap in SCRIPT_URL.captures_iter(script).take(1000) {
            if let Ok(url) = base.join(&cap[1]) {
                out.push(Request::get(url));
            }
        }
    }
    if let Some(location) = response.header("location").and_then(|l| base.join(l).ok()) {
        out.push(Request::get(location));
    }
    out
}

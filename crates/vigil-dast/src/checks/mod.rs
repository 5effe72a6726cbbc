//! The checks, one module each, registered in [`CHECKS`]. A check runs at
//! one of three levels: on each place a payload can go in a request
//! ([`Run::Point`]), on each crawled page ([`Run::Page`]), or once over
//! the whole site after the others ([`Run::Site`]).
//!
//! To add a check: write a module with a `pub const CHECK: Check`, whose
//! doc comment says what it proves and how, and add it to [`CHECKS`].

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use crate::finding::Finding;
use crate::http::{Client, Response, Session};
use crate::request::{Point, Request};

pub mod cmdi;
pub mod crlf;
pub mod headers;
pub mod redirect;
pub mod sqli;
pub mod stored_xss;
pub mod traversal;
pub mod xss;

/// Every check, in the order they run.
pub static CHECKS: &[Check] = &[
    xss::CHECK,
    sqli::CHECK,
    cmdi::CHECK,
    traversal::CHECK,
    redirect::CHECK,
    crlf::CHECK,
    stored_xss::CHECK,
    headers::CHECK,
];

/// The id of the check whose findings carry `rule`.
pub fn rule_check(rule: &str) -> &'static str {
    CHECKS.iter().find(|c| c.rules.contains(&rule)).map_or("", |c| c.id)
}

/// How hard active checks try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Strength {
    /// The most likely payloads only.
    Low,
    /// The usual set.
    #[default]
    Medium,
    /// Every payload the checks know.
    High,
}

/// A request found by the crawler and its first answer.
#[derive(Debug, Clone)]
pub struct Target {
    /// The request.
    pub request: Request,
    /// Its answer when the crawler sent it.
    pub response: Response,
}

/// What a check does.
#[derive(Debug, Clone, Copy)]
pub enum Run {
    /// Attacks one place of one request.
    Point(fn(&Ctx<'_>, &Target, &Point) -> Vec<Finding>),
    /// Looks at one crawled page, sending nothing.
    Page(fn(&Target) -> Vec<Finding>),
    /// Runs once over every target.
    Site(fn(&Ctx<'_>, &[Target]) -> Vec<Finding>),
}

/// One check.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// Its id on the command line (`xss`, `sqli`).
    pub id: &'static str,
    /// What it looks for.
    pub name: &'static str,
    /// The rule ids of its findings.
    pub rules: &'static [&'static str],
    /// Whether it runs by default.
    pub default: bool,
    /// The check itself.
    pub run: Run,
}

/// What checks use to send requests.
pub struct Ctx<'a> {
    /// The client.
    pub client: &'a Client,
    /// The scan's session (logged in, when the scan logs in).
    pub session: &'a Session,
    /// How hard to try.
    pub strength: Strength,
    /// The cookies the scan was given, for sessions of a check's own.
    pub initial_cookies: &'a [(String, String)],
    /// When the scan must stop.
    pub deadline: Option<Instant>,
}

impl Ctx<'_> {
    /// Sends `request` in the scan's session; `None` when it fails or time is up.
    pub fn send(&self, request: &Request) -> Option<Response> {
        self.send_in(self.session, request)
    }

    /// Sends `request` in `session`, following redirects that stay in scope.
    pub fn send_in(&self, session: &Session, request: &Request) -> Option<Response> {
        if self.expired() {
            return None;
        }
        self.client.fetch(session, request).ok().map(|(_, response)| response)
    }

    /// Sends `request` in the scan's session and follows no redirect.
    pub fn send_once(&self, request: &Request) -> Option<Response> {
        if self.expired() {
            return None;
        }
        self.client.send(self.session, request).ok()
    }

    /// A new session holding only the cookies the scan was given: requests in it never
    /// wait behind the scan's others when the application serves a session at a time.
    pub fn private_session(&self) -> Session {
        Session::with_cookies(self.initial_cookies.to_vec())
    }

    /// Whether the scan's time is up.
    pub fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// A finding about `request` and its `response`, as sent in the scan's session.
    #[allow(clippy::too_many_arguments)]
    pub fn finding(
        &self,
        rule: &'static str,
        title: String,
        rating: (crate::Severity, crate::Confidence, u32),
        request: &Request,
        response: &Response,
        needle: &str,
        evidence: String,
    ) -> Finding {
        let cookies = self.session.merged(&request.cookies);
        Finding::new(rule, title, rating, request, &cookies, Some(response), needle, evidence)
    }
}

/// A fresh marker: `vgl` and 10 lower-case letters and digits, unlikely anywhere else.
pub fn marker() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos() ^ std::process::id() as u128);
    let mut n = h.finish();
    let mut out = String::from("vgl");
    for _ in 0..10 {
        let d = (n % 36) as u32;
        n /= 36;
        out.push(char::from_digit(d, 36).unwrap_or('x'));
    }
    out
}

/// `body` with HTML entities for quotes and brackets decoded and JSON string
/// escapes undone, so signatures and reflections match however they were encoded.
pub fn normalize(body: &str) -> String {
    let mut s = body.to_string();
    for (from, to) in [
        ("\\\"", "\""),
        ("\\u0027", "'"),
        ("\\u0022", "\""),
        ("\\u003c", "<"),
        ("\\u003e", ">"),
        ("\\u0026", "&"),
        ("\\/", "/"),
        ("\\\\", "\\"),
        ("&quot;", "\""),
        ("&#x27;", "'"),
        ("&#39;", "'"),
        ("&#039;", "'"),
        ("&apos;", "'"),
        ("&#34;", "\""),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
    ] {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    s
}

/// `body`, normalized, without the reflections of `values`.
pub fn without(body: &str, values: &[&str]) -> String {
    let mut s = normalize(body);
    for v in values.iter().filter(|v| v.len() > 2) {
        s = s.replace(v, "");
        let encoded: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
        s = s.replace(&encoded, "");
    }
    s
}

/// How alike two texts are, from 0 to 1, word by word (the first 100 KiB).
pub fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let (a, b) = (crate::finding::cut(a, 100 << 10), crate::finding::cut(b, 100 << 10));
    similar::TextDiff::configure().timeout(Duration::from_millis(300)).diff_words(&a, &b).ratio() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_fresh_identifiers() {
        let (a, b) = (marker(), marker());
        assert_ne!(a, b);
        assert!(a.len() == 13 && a.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn reflections_are_removed_however_encoded() {
        let v = "x' AND 1=1-- -";
        let body = "<p>Results for x&#x27; AND 1=1-- -</p><a href='?q=x%27+AND+1%3D1--+-'>";
        assert_eq!(without(body, &[v]), "<p>Results for </p><a href='?q='>");
        assert!(similarity("a b c d", "a b c e") > 0.7);
    }
}

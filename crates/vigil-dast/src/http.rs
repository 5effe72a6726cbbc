//! The scanner's HTTP client: every request is checked against the scope,
//! paced by the rate limit, counted, cut at a size cap and timed. Redirects
//! are followed by hand so that none leaves the scope. A [`Session`] is a
//! cookie jar: checks that must not share a session with a request (the
//! baselines of time-based tests) use a session of their own.

use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use url::Url;

use crate::Error;
use crate::request::Request;
use crate::scope::Scope;

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Most requests per second over the whole scan (0: no limit).
    pub rate: f64,
    /// How long one request may take.
    pub timeout: Duration,
    /// Largest response body read; the rest is cut.
    pub max_body: u64,
    /// Headers added to every request (`Authorization`, ...).
    pub headers: Vec<(String, String)>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions { rate: 0.0, timeout: Duration::from_secs(30), max_body: 4 << 20, headers: Vec::new() }
    }
}

/// A response as the checks see it.
#[derive(Debug, Clone)]
pub struct Response {
    /// The URL that answered (after redirects).
    pub url: Url,
    /// The status code.
    pub status: u16,
    /// Headers, in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced), cut at the size cap.
    pub body: String,
    /// How long the request took.
    pub elapsed: Duration,
}

impl Response {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every header named `name` (lower case).
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Whether the body is HTML a browser would render.
    pub fn is_html(&self) -> bool {
        match self.header("content-type") {
            Some(t) => {
                let t = t.to_ascii_lowercase();
                t.contains("text/html") || t.contains("application/xhtml")
            }
            None => self.body.trim_start().starts_with('<'),
        }
    }

    /// The status line and headers, as a raw excerpt.
    pub fn head(&self) -> String {
        let mut out = format!("HTTP/1.1 {}\n", self.status);
        for (k, v) in &self.headers {
            out.push_str(&format!("{k}: {v}\n"));
        }
        out
    }
}

/// A cookie jar.
#[derive(Debug, Default)]
pub struct Session {
    cookies: Mutex<Vec<(String, String)>>,
}

impl Session {
    /// A session holding `cookies`.
    pub fn with_cookies(cookies: Vec<(String, String)>) -> Session {
        Session { cookies: Mutex::new(cookies) }
    }

    /// The cookies now held.
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.cookies.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Forgets every cookie.
    pub fn clear(&self) {
        self.cookies.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The cookies a request sends: the jar's, with the request's own in place of those of the same name.
    pub fn merged(&self, own: &[(String, String)]) -> Vec<(String, String)> {
        let mut jar = self.cookies();
        jar.retain(|(k, _)| !own.iter().any(|(o, _)| o == k));
        jar.extend(own.iter().cloned());
        jar
    }

    fn store(&self, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else { return };
        let (name, value) = (name.trim().to_string(), value.trim().to_string());
        let expired = parts.any(|a| {
            let a = a.trim().to_ascii_lowercase();
            a == "max-age=0" || a.starts_with("max-age=-")
        });
        let mut jar = self.cookies.lock().unwrap_or_else(|e| e.into_inner());
        jar.retain(|(k, _)| *k != name);
        if !expired && !value.is_empty() && name.len() < 256 && jar.len() < 100 {
            jar.push((name, value));
        }
    }
}

/// The client.
#[derive(Debug)]
pub struct Client {
    agent: ureq::Agent,
    scope: Scope,
    options: ClientOptions,
    next_slot: Mutex<Instant>,
    sent: AtomicU64,
}

/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 5;

impl Client {
    /// A client that stays in `scope`.
    pub fn new(scope: Scope, options: ClientOptions) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(options.timeout))
            .user_agent("Mozilla/5.0 (compatible; vigil-webscan)")
            .allow_non_standard_methods(true)
            .build()
            .new_agent();
        Client { agent, scope, options, next_slot: Mutex::new(Instant::now()), sent: AtomicU64::new(0) }
    }

    /// The scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Requests sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Waits for the rate limit's next slot.
    fn pace(&self) {
        if self.options.rate <= 0.0 {
            return;
        }
        let interval = Duration::from_secs_f64(1.0 / self.options.rate);
        let wait = {
            let mut slot = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let at = (*slot).max(now);
            *slot = at + interval;
            at - now
        };
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }

    /// Sends `request` as it is (no redirect followed).
    pub fn send(&self, session: &Session, request: &Request) -> Result<Response, Error> {
        if !self.scope.allows(&request.url) {
            return Err(Error::Scope(format!("{}: out of scope, not requested", request.url)));
        }
        self.pace();
        let mut builder = ureq::http::Request::builder().method(request.method.as_str()).uri(request.url.as_str());
        for (k, v) in self.options.headers.iter().chain(&request.headers) {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let cookies = session.merged(&request.cookies);
        if !cookies.is_empty() {
            let jar: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            builder = builder.header("Cookie", jar.join("; "));
        }
        let (body, kind) = request.encoded_body().unwrap_or_default();
        if !kind.is_empty() {
            builder = builder.header("Content-Type", kind);
        }
        let what = || format!("{} {}", request.method, request.url);
        let built = builder.body(body).map_err(|e| Error::Http(format!("{}: {e}", what())))?;
        let started = Instant::now();
        self.sent.fetch_add(1, Ordering::Relaxed);
        let mut response = self.agent.run(built).map_err(|e| Error::Http(format!("{}: {e}", what())))?;
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let mut bytes = Vec::new();
        let read = response.body_mut().as_reader().take(self.options.max_body).read_to_end(&mut bytes);
        if let Err(e) = read
            && bytes.is_empty()
        {
            return Err(Error::Http(format!("{}: reading the body: {e}", what())));
        }
        for (_, v) in headers.iter().filter(|(k, _)| k == "set-cookie") {
            session.store(v);
        }
        Ok(Response {
            url: request.url.clone(),
            status: response.status().as_u16(),
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            elapsed: started.elapsed(),
        })
    }

    /// Sends `request` and follows redirects while they stay in scope; returns the last
    /// request sent and its response.
    pub fn fetch(&self, session: &Session, request: &Request) -> Result<(Request, Response), Error> {
        let mut current = request.clone();
        for _ in 0..=MAX_REDIRECTS {
            let response = self.send(session, &current)?;
            let next = match (response.status, response.header("location")) {
                (301 | 302 | 303 | 307 | 308, Some(location)) => current.url.join(location).ok(),
                _ => None,
            };
            let Some(next) = next.filter(|u| self.scope.allows(u)) else { return Ok((current, response)) };
            if matches!(response.status, 307 | 308) {
                current.url = next;
            } else {
                current = Request { headers: current.headers.clone(), ..Request::get(next) };
            }
        }
        Err(Error::Http(format!("{}: more than {MAX_REDIRECTS} redirects", request.url)))
    }
}

//! Fake servers on 127.0.0.1 for tests of this crate and of its callers
//! (the platform's end-to-end test): [`FakeJira`], [`FakeGitHub`],
//! [`FakeReceiver`] (a generic webhook receiver) and [`FakeSmtp`].
//!
//! Each listens on an ephemeral port in background threads, records what it
//! received, and **checks** it like the real service would: method, path,
//! auth header, body shape and signature, answering 400/401/404 when
//! something is wrong, so a test that passes proves Vigil sent the right
//! request. [`Failure`]s queued with `fail_next` make the next requests
//! fail (status, hang past the client's timeout, 429 with `Retry-After`).
//! Servers stop when dropped.

mod github;
mod jira;
mod receiver;
mod smtp;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

pub use github::{FakeGitHub, FakeGitHubIssue};
pub use jira::{FakeJira, FakeJiraIssue};
pub use receiver::{Delivery, FakeReceiver};
pub use smtp::{FakeSmtp, ReceivedMail};

/// How a fake fails its next request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Answer with this HTTP status (or SMTP reply code for [`FakeSmtp`]).
    Status(u16),
    /// Hold the request without answering for [`HANG`], past any test client's read timeout.
    Timeout,
    /// Answer 429 with `Retry-After: <retry_after_secs>`.
    RateLimit {
        /// The `Retry-After` seconds.
        retry_after_secs: u64,
    },
}

/// How long [`Failure::Timeout`] holds a request.
pub const HANG: Duration = Duration::from_secs(5);

/// Largest request body a fake reads.
const MAX_BODY: usize = 4 << 20;

/// Locks a mutex, taking over a poisoned one (a panicking test thread must not hide the recording).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One HTTP request a fake received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The query string without `?` (empty when none).
    pub query: String,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The (undecoded) value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.split('&').find_map(|pair| pair.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v))
    }
}

/// What a fake answers.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, body: serde_json::Value) -> Answer {
        Answer {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// An empty answer.
    pub fn empty(status: u16) -> Answer {
        Answer { status, headers: Vec::new(), body: Vec::new() }
    }

    /// A JSON error answer in the shape of Jira's and GitHub's (`message`, `errorMessages`).
    pub fn error(status: u16, message: &str) -> Answer {
        Answer::json(status, serde_json::json!({"message": message, "errorMessages": [message]}))
    }
}

/// A handler: one request in, one answer out.
pub(crate) type Handler = Arc<dyn Fn(&RecordedRequest) -> Answer + Send + Sync>;

/// Failures queued for the next requests, shared by a fake and its server.
#[derive(Default)]
pub(crate) struct Failures(Mutex<VecDeque<Failure>>);

impl Failures {
    pub fn push(&self, failure: Failure) {
        lock(&self.0).push_back(failure);
    }

    pub fn pop(&self) -> Option<Failure> {
        lock(&self.0).pop_front()
    }
}

/// An HTTP/1.1 server on 127.0.0.1: a thread accepting, a thread per
/// connection, one request per connection (`Connection: close`).
pub(crate) struct HttpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    pub failures: Arc<Failures>,
    /// Every request received, failed ones included.
    pub requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl HttpServer {
    /// Starts serving with `handler`.
    pub fn start(handler: Handler) -> HttpServer {
        let listener =
            TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("fake server: bind 127.0.0.1:0: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("fake server: local address: {e}"));
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(Failures::default());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (stop2, failures2, requests2) = (stop.clone(), failures.clone(), requests.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (handler, failures, requests) = (handler.clone(), failures2.clone(), requests2.clone());
                thread::spawn(move || serve(stream, &handler, &failures, &requests));
            }
        });
        HttpServer { addr, stop, failures, requests }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve(stream: TcpStream, handler: &Handler, failures: &Failures, requests: &Mutex<Vec<RecordedRequest>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut writer) = stream.try_clone() else { return };
    let Some(request) = read_request(&mut BufReader::new(stream)) else { return };
    lock(requests).push(request.clone());
    let answer = match failures.pop() {
        Some(Failure::Status(status)) => Answer::error(status, "injected failure"),
        Some(Failure::RateLimit { retry_after_secs }) => {
            let mut answer = Answer::error(429, "rate limited");
            answer.headers.push(("retry-after", retry_after_secs.to_string()));
            answer
        }
        Some(Failure::Timeout) => {
            thread::sleep(HANG);
            return;
        }
        None => handler(&request),
    };
    let mut head =
        format!("HTTP/1.1 {} Fake\r\ncontent-length: {}\r\nconnection: close\r\n", answer.status, answer.body.len());
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(&answer.body));
    let _ = writer.flush();
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<RecordedRequest> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || headers.len() > 100 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize =
        headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    if length > MAX_BODY {
        return None;
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(RecordedRequest { method, path: path.to_owned(), query: query.to_owned(), headers, body })
}

//! A fake GitHub Issues API for one repository (`acme/app`): issues with
//! numbers, labels, state and comments; list (with GitHub's default of
//! open issues only unless `state=all`), create, get, update and comment,
//! checking the token, `Accept`, `X-GitHub-Api-Version` and body shapes.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::{Answer, Failure, HttpServer, RecordedRequest, lock};
use crate::inbound::percent_decode;
use crate::{GitHubConfig, Secret, Timeouts};

/// An issue in [`FakeGitHub`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeGitHubIssue {
    /// Its number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Label names.
    pub labels: Vec<String>,
    /// `open` or `closed`.
    pub state: String,
    /// `completed`, `reopened`, `not_planned` or none.
    pub state_reason: Option<String>,
    /// Comment bodies.
    pub comments: Vec<String>,
}

struct State {
    base: String,
    issues: Vec<FakeGitHubIssue>,
    race_next_create: bool,
}

/// A fake GitHub API on 127.0.0.1 serving repository [`Self::OWNER`]/[`Self::REPO`].
pub struct FakeGitHub {
    server: HttpServer,
    state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    /// The repository owner served.
    pub const OWNER: &'static str = "acme";
    /// The repository served.
    pub const REPO: &'static str = "app";
    /// The token accepted.
    pub const TOKEN: &'static str = "ghp_fakeGitHubToken0123456789";

    /// Starts the fake.
    pub fn start() -> FakeGitHub {
        let state = Arc::new(Mutex::new(State { base: String::new(), issues: Vec::new(), race_next_create: false }));
        let shared = state.clone();
        let server = HttpServer::start(Arc::new(move |request| handle(&mut lock(&shared), request)));
        lock(&state).base = server.url();
        FakeGitHub { server, state }
    }

    /// The API base URL.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// A configuration this fake accepts, with short timeouts.
    pub fn config(&self) -> GitHubConfig {
        GitHubConfig {
            api_url: self.url(),
            owner: Self::OWNER.into(),
            repo: Self::REPO.into(),
            token: Secret::new(Self::TOKEN),
            timeouts: Timeouts { connect_secs: 2, read_secs: 2 },
        }
    }

    /// Every issue, by number.
    pub fn issues(&self) -> Vec<FakeGitHubIssue> {
        lock(&self.state).issues.clone()
    }

    /// Issue `number`.
    pub fn issue(&self, number: u64) -> Option<FakeGitHubIssue> {
        lock(&self.state).issues.iter().find(|i| i.number == number).cloned()
    }

    /// Every request received.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.server.requests).clone()
    }

    /// Makes the next create behave as if another worker created the same
    /// issue just before it (after this worker's search found nothing).
    pub fn race_next_create(&self) {
        lock(&self.state).race_next_create = true;
    }

    /// Makes the next request fail (queued: call again for more).
    pub fn fail_next(&self, failure: Failure) {
        self.server.failures.push(failure);
    }
}

fn issue_json(base: &str, issue: &FakeGitHubIssue) -> Value {
    let labels: Vec<Value> = issue.labels.iter().map(|name| json!({"name": name})).collect();
    json!({
        "number": issue.number,
        "html_url": format!("{base}/{}/{}/issues/{}", FakeGitHub::OWNER, FakeGitHub::REPO, issue.number),
        "title": issue.title,
        "body": issue.body,
        "labels": labels,
        "state": issue.state,
        "state_reason": issue.state_reason,
        "comments": issue.comments.len(),
    })
}

fn handle(state: &mut State, request: &RecordedRequest) -> Answer {
    let token_ok = matches!(request.header("authorization"),
        Some(value) if value == format!("Bearer {}", FakeGitHub::TOKEN) || value == format!("token {}", FakeGitHub::TOKEN));
    if !token_ok {
        return Answer::json(401, json!({"message": "Bad credentials", "status": "401"}));
    }
    if request.header("accept") != Some("application/vnd.github+json")
        || request.header("x-github-api-version").is_none()
        || request.header("user-agent").is_none_or(str::is_empty)
    {
        return Answer::error(400, "expected Accept: application/vnd.github+json, X-GitHub-Api-Version and User-Agent");
    }
    let repo = format!("/repos/{}/{}/issues", FakeGitHub::OWNER, FakeGitHub::REPO);
    let Some(rest) = request.path.strip_prefix(&repo) else {
        return Answer::error(404, "Not Found");
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let body = request.json();
    if matches!(request.method.as_str(), "POST" | "PATCH") && !body.as_ref().is_some_and(Value::is_object) {
        return Answer::error(400, "Problems parsing JSON");
    }
    let body = body.unwrap_or(Value::Null);
    let base = state.base.clone();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", []) => {
            let wanted_state = request.query_param("state").unwrap_or("open");
            let labels: Vec<String> = request
                .query_param("labels")
                .map(|l| percent_decode(l).split(',').map(str::to_owned).filter(|l| !l.is_empty()).collect())
                .unwrap_or_default();
            let listed: Vec<Value> = state
                .issues
                .iter()
                .filter(|i| wanted_state == "all" || i.state == wanted_state)
                .filter(|i| labels.iter().all(|l| i.labels.contains(l)))
                .map(|i| issue_json(&base, i))
                .collect();
            Answer::json(200, Value::Array(listed))
        }
        ("POST", []) => {
            let Some(title) = body["title"].as_str().filter(|t| !t.trim().is_empty()) else {
                return Answer::json(
                    422,
                    json!({"message": "Validation Failed", "errors": [{"field": "title", "code": "missing_field"}]}),
                );
            };
            let labels = match &body["labels"] {
                Value::Null => Vec::new(),
                Value::Array(labels) if labels.iter().all(Value::is_string) => {
                    labels.iter().filter_map(|l| l.as_str().map(str::to_owned)).collect()
                }
                _ => {
                    return Answer::json(422, json!({"message": "Validation Failed", "errors": [{"field": "labels"}]}));
                }
            };
            let mut issue = FakeGitHubIssue {
                number: state.issues.len() as u64 + 1,
                title: title.to_owned(),
                body: body["body"].as_str().unwrap_or("").to_owned(),
                labels,
                state: "open".into(),
                state_reason: None,
                comments: Vec::new(),
            };
            if std::mem::take(&mut state.race_next_create) {
                state
                    .issues
                    .push(FakeGitHubIssue { title: format!("{} (other worker)", issue.title), ..issue.clone() });
                issue.number += 1;
            }
            let answer = issue_json(&base, &issue);
            state.issues.push(issue);
            Answer::json(201, answer)
        }
        (method, [number, tail @ ..]) => {
            let Some(issue) = number.parse::<u64>().ok().and_then(|n| state.issues.iter_mut().find(|i| i.number == n))
            else {
                return Answer::error(404, "Not Found");
            };
            match (method, tail) {
                ("GET", []) => Answer::json(200, issue_json(&base, issue)),
                ("PATCH", []) => {
                    let new_state = body["state"].as_str();
                    let reason = body["state_reason"].as_str();
                    let valid = match new_state {
                        Some("closed") => matches!(reason, None | Some("completed" | "not_planned")),
                        Some("open") => matches!(reason, None | Some("reopened")),
                        None => reason.is_none(),
                        _ => false,
                    };
                    if !valid {
                        return Answer::json(
                            422,
                            json!({"message": "Validation Failed", "errors": [{"field": "state"}]}),
                        );
                    }
                    if let Some(new_state) = new_state {
                        issue.state = new_state.to_owned();
                        issue.state_reason = reason.map(str::to_owned);
                    }
                    if let Some(title) = body["title"].as_str() {
                        issue.title = title.to_owned();
                    }
                    Answer::json(200, issue_json(&base, issue))
                }
                ("POST", ["comments"]) => match body["body"].as_str().filter(|b| !b.is_empty()) {
                    Some(text) => {
                        issue.comments.push(text.to_owned());
                        Answer::json(201, json!({"id": issue.comments.len(), "body": text}))
                    }
                    None => Answer::json(422, json!({"message": "Validation Failed", "errors": [{"field": "body"}]})),
                },
                _ => Answer::error(404, "Not Found"),
            }
        }
        _ => Answer::error(404, "Not Found"),
    }
}

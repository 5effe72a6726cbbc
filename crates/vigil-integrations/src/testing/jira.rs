//! A fake Jira: issues with keys, labels, status categories and comments;
//! create, get, comment, transitions and JQL search (`labels = "..."`) on
//! the REST API version it was started for, checking auth and body shapes
//! (v3 Atlassian Document Format, v2 strings). The other version's paths,
//! and `/rest/api/3/search` (removed from Jira Cloud), answer 404/410.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::{Answer, Failure, HttpServer, RecordedRequest, lock};
use crate::{JiraApiVersion, JiraAuth, JiraConfig, Secret, Timeouts};

/// The workflow: (transition id, status name, status category key).
const STATUSES: &[(&str, &str, &str)] =
    &[("11", "To Do", "new"), ("21", "In Progress", "indeterminate"), ("31", "Done", "done")];

/// An issue in [`FakeJira`].
#[derive(Clone, Debug, PartialEq)]
pub struct FakeJiraIssue {
    /// Numeric id.
    pub id: u64,
    /// `OPS-1`, ...
    pub key: String,
    /// Project key.
    pub project: String,
    /// Issue type name.
    pub issue_type: String,
    /// Summary.
    pub summary: String,
    /// Description as sent (string for v2, ADF document for v3).
    pub description: Value,
    /// Labels.
    pub labels: Vec<String>,
    /// Status name (`To Do`, `In Progress`, `Done`).
    pub status: String,
    /// Status category key (`new`, `indeterminate`, `done`).
    pub status_category: String,
    /// Comment bodies as sent.
    pub comments: Vec<Value>,
}

struct State {
    version: JiraApiVersion,
    auth: String,
    issues: Vec<FakeJiraIssue>,
    race_next_create: bool,
}

/// A fake Jira on 127.0.0.1.
pub struct FakeJira {
    server: HttpServer,
    state: Arc<Mutex<State>>,
    auth: JiraAuth,
}

impl FakeJira {
    /// The email [`FakeJira::start`] accepts.
    pub const EMAIL: &'static str = "vigil@example.com";
    /// The API token [`FakeJira::start`] accepts.
    pub const TOKEN: &'static str = "fake-jira-token-5f1c";

    /// A fake speaking `version`, accepting Basic [`Self::EMAIL`]:[`Self::TOKEN`].
    pub fn start(version: JiraApiVersion) -> FakeJira {
        Self::start_with(version, JiraAuth::Basic { email: Self::EMAIL.into(), api_token: Secret::new(Self::TOKEN) })
    }

    /// A fake speaking `version`, accepting only `auth`.
    pub fn start_with(version: JiraApiVersion, auth: JiraAuth) -> FakeJira {
        let state =
            Arc::new(Mutex::new(State { version, auth: auth.header(), issues: Vec::new(), race_next_create: false }));
        let shared = state.clone();
        let server = HttpServer::start(Arc::new(move |request| handle(&mut lock(&shared), request)));
        FakeJira { server, state, auth }
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// A configuration for project `OPS` that this fake accepts, with short timeouts.
    pub fn config(&self) -> JiraConfig {
        let version = lock(&self.state).version;
        JiraConfig {
            base_url: self.url(),
            api_version: version,
            auth: self.auth.clone(),
            project_key: "OPS".into(),
            issue_type: "Task".into(),
            timeouts: Timeouts { connect_secs: 2, read_secs: 2 },
        }
    }

    /// Every issue, in creation order.
    pub fn issues(&self) -> Vec<FakeJiraIssue> {
        lock(&self.state).issues.clone()
    }

    /// The issue `key`.
    pub fn issue(&self, key: &str) -> Option<FakeJiraIssue> {
        lock(&self.state).issues.iter().find(|i| i.key == key).cloned()
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

    /// Moves issue `key` to the status with category `category`, as a person would.
    pub fn set_status_category(&self, key: &str, category: &str) {
        if let Some(issue) = lock(&self.state).issues.iter_mut().find(|i| i.key == key)
            && let Some((_, name, category)) = STATUSES.iter().find(|(_, _, c)| *c == category)
        {
            issue.status = (*name).to_owned();
            issue.status_category = (*category).to_owned();
        }
    }
}

fn status_json(issue: &FakeJiraIssue) -> Value {
    let category_name = match issue.status_category.as_str() {
        "new" => "To Do",
        "indeterminate" => "In Progress",
        _ => "Done",
    };
    json!({"name": issue.status, "statusCategory": {"key": issue.status_category, "name": category_name}})
}

fn issue_json(issue: &FakeJiraIssue) -> Value {
    json!({"id": issue.id.to_string(), "key": issue.key, "fields": {"status": status_json(issue), "labels": issue.labels}})
}

/// `Some(problem)` unless `value` is text in this version's format.
fn text_problem(version: JiraApiVersion, value: &Value) -> Option<String> {
    match version {
        JiraApiVersion::V2 if value.is_string() => None,
        JiraApiVersion::V2 => Some("v2 expects a string".into()),
        JiraApiVersion::V3 => {
            let ok = value["type"] == "doc"
                && value["version"] == 1
                && value["content"].as_array().is_some_and(|blocks| {
                    blocks.iter().all(|b| {
                        matches!(b["type"].as_str(), Some("paragraph" | "codeBlock"))
                            && b["content"].as_array().is_some_and(|inline| {
                                inline.iter().all(|n| match n["type"].as_str() {
                                    Some("text") => n["text"].as_str().is_some_and(|t| !t.is_empty()),
                                    Some("hardBreak") => true,
                                    _ => false,
                                })
                            })
                    })
                });
            (!ok).then(|| "v3 expects an Atlassian Document Format document".into())
        }
    }
}

fn handle(state: &mut State, request: &RecordedRequest) -> Answer {
    if request.header("authorization") != Some(state.auth.as_str()) {
        return Answer::error(401, "Client must be authenticated to access this resource.");
    }
    let version = match state.version {
        JiraApiVersion::V2 => "2",
        JiraApiVersion::V3 => "3",
    };
    let prefix = format!("/rest/api/{version}/");
    let Some(rest) = request.path.strip_prefix(&prefix) else {
        return Answer::error(404, "no such API version here");
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let body = request.json();
    if matches!(request.method.as_str(), "POST" | "PUT")
        && (body.is_none() || !request.header("content-type").is_some_and(|c| c.starts_with("application/json")))
    {
        return Answer::error(415, "expected a JSON body");
    }
    let body = body.unwrap_or(Value::Null);
    match (request.method.as_str(), segments.as_slice()) {
        ("POST", ["issue"]) => create(state, &body),
        ("POST", ["search", "jql"]) if state.version == JiraApiVersion::V3 => search(state, &body),
        ("POST", ["search"]) if state.version == JiraApiVersion::V3 => {
            Answer::error(410, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.")
        }
        ("POST", ["search"]) => search(state, &body),
        (method, ["issue", key, tail @ ..]) => {
            let version = state.version;
            let Some(issue) = state.issues.iter_mut().find(|i| i.key == *key) else {
                return Answer::error(404, "Issue does not exist or you do not have permission to see it.");
            };
            match (method, tail) {
                ("GET", []) => Answer::json(200, issue_json(issue)),
                ("POST", ["comment"]) => match text_problem(version, &body["body"]) {
                    None => {
                        issue.comments.push(body["body"].clone());
                        Answer::json(201, json!({"id": issue.comments.len().to_string(), "body": body["body"]}))
                    }
                    Some(problem) => Answer::error(400, &format!("comment body: {problem}")),
                },
                ("GET", ["transitions"]) => {
                    let transitions: Vec<Value> = STATUSES
                        .iter()
                        .filter(|(_, name, _)| *name != issue.status)
                        .map(|(id, name, category)| {
                            json!({"id": id, "name": name, "to": {"name": name, "statusCategory": {"key": category}}})
                        })
                        .collect();
                    Answer::json(200, json!({"transitions": transitions}))
                }
                ("POST", ["transitions"]) => {
                    let id = body["transition"]["id"].as_str().unwrap_or("");
                    match STATUSES.iter().find(|(tid, name, _)| *tid == id && *name != issue.status) {
                        Some((_, name, category)) => {
                            issue.status = (*name).to_owned();
                            issue.status_category = (*category).to_owned();
                            Answer::empty(204)
                        }
                        None => Answer::error(400, "Transition id is not valid for this issue."),
                    }
                }
                _ => Answer::error(405, "method not allowed"),
            }
        }
        _ => Answer::error(404, "not found"),
    }
}

fn create(state: &mut State, body: &Value) -> Answer {
    let fields = &body["fields"];
    let project = fields["project"]["key"].as_str().unwrap_or("");
    let issue_type = fields["issuetype"]["name"].as_str().unwrap_or("");
    let summary = fields["summary"].as_str().unwrap_or("");
    let labels: Option<Vec<String>> =
        fields["labels"].as_array().map(|l| l.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect());
    let mut errors = Vec::new();
    if project != "OPS" {
        errors.push("project: valid project is required");
    }
    if issue_type.is_empty() {
        errors.push("issuetype: Specify an issue type");
    }
    if summary.is_empty() || summary.contains('\n') {
        errors.push("summary: You must specify a summary of the issue.");
    }
    if text_problem(state.version, &fields["description"]).is_some() {
        errors.push("description: Operation value must be a string (v2) or an Atlassian Document (v3)");
    }
    if labels.as_ref().is_none_or(|l| l.iter().any(|label| label.contains(' '))) {
        errors.push("labels: labels must be an array of strings without spaces");
    }
    if !errors.is_empty() {
        return Answer::json(400, json!({"errorMessages": [], "errors": errors}));
    }
    if std::mem::take(&mut state.race_next_create) {
        let mut competitor = body.clone();
        competitor["fields"]["summary"] = json!(format!("{summary} (other worker)"));
        create(state, &competitor);
    }
    let id = 10_000 + state.issues.len() as u64 + 1;
    let key = format!("{project}-{}", state.issues.len() + 1);
    state.issues.push(FakeJiraIssue {
        id,
        key: key.clone(),
        project: project.to_owned(),
        issue_type: issue_type.to_owned(),
        summary: summary.to_owned(),
        description: fields["description"].clone(),
        labels: labels.unwrap_or_default(),
        status: "To Do".into(),
        status_category: "new".into(),
        comments: Vec::new(),
    });
    Answer::json(201, json!({"id": id.to_string(), "key": key, "self": format!("/rest/api/issue/{id}")}))
}

/// JQL of the one form Vigil sends: `labels = "<label>"`, optionally `ORDER BY created ASC`.
fn search(state: &State, body: &Value) -> Answer {
    let jql = body["jql"].as_str().unwrap_or("");
    let condition = jql.split(" ORDER BY ").next().unwrap_or("").trim();
    let label = condition.strip_prefix("labels = \"").and_then(|rest| rest.strip_suffix('"'));
    let Some(label) = label.filter(|l| !l.contains('"')) else {
        return Answer::json(400, json!({"errorMessages": [format!("Error in the JQL Query: {jql}")]}));
    };
    let issues: Vec<Value> =
        state.issues.iter().filter(|i| i.labels.iter().any(|l| l == label)).map(issue_json).collect();
    match state.version {
        JiraApiVersion::V3 => Answer::json(200, json!({"issues": issues, "isLast": true})),
        JiraApiVersion::V2 => {
            Answer::json(200, json!({"startAt": 0, "maxResults": 50, "total": issues.len(), "issues": issues}))
        }
    }
}

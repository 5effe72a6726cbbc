//! Jira (Cloud and Data Center) over REST v2 or v3.
//!
//! - Create: `POST /rest/api/{2|3}/issue` with project key, issue type,
//!   summary, description (v2 a wiki string, v3 Atlassian Document Format)
//!   and labels, one of them `vigil-ticket-<id>`.
//! - Find (what makes create idempotent): JQL `labels = "vigil-ticket-<id>"`,
//!   `POST /rest/api/3/search/jql` on v3 (Jira Cloud; the old `/search` is
//!   gone there) and `POST /rest/api/2/search` on v2 (Data Center).
//! - Comment: `POST /issue/{key}/comment`.
//! - Close and reopen by status category: the issue's current category from
//!   `GET /issue/{key}?fields=status`, then `GET /issue/{key}/transitions`
//!   and the first transition whose `to.statusCategory.key` is `done`
//!   (close) or `new`, else `indeterminate` (reopen); no call when it is
//!   already there.
//! - Auth: Basic (account email + API token) or Bearer (personal access token).
//!
//! Inbound: `jira:issue_updated` webhooks whose changelog changes the status.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::inbound::{InboundChange, InboundRequest, str_at};
use crate::transport::{Client, path_safe};
use crate::{DeliveryError, ExternalRef, Secret, System, TicketDraft, TicketState, Timeouts, Tracker, vigil_label};

/// Which REST API version to speak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum JiraApiVersion {
    /// `/rest/api/2`: descriptions and comments are strings (Data Center).
    #[serde(rename = "2")]
    V2,
    /// `/rest/api/3`: descriptions and comments are Atlassian Document Format (Cloud).
    #[default]
    #[serde(rename = "3")]
    V3,
}

impl JiraApiVersion {
    fn number(self) -> u8 {
        match self {
            JiraApiVersion::V2 => 2,
            JiraApiVersion::V3 => 3,
        }
    }
}

/// How Vigil authenticates to Jira.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum JiraAuth {
    /// Jira Cloud: the account's email and an API token, as HTTP Basic.
    Basic {
        /// The account's email.
        email: String,
        /// The API token.
        api_token: Secret,
    },
    /// Jira Data Center: a personal access token, as `Authorization: Bearer`.
    Bearer {
        /// The token.
        token: Secret,
    },
}

impl JiraAuth {
    /// The `Authorization` header value.
    pub fn header(&self) -> String {
        match self {
            JiraAuth::Basic { email, api_token } => {
                format!("Basic {}", BASE64.encode(format!("{email}:{}", api_token.expose())))
            }
            JiraAuth::Bearer { token } => format!("Bearer {}", token.expose()),
        }
    }

    fn secret(&self) -> Secret {
        match self {
            JiraAuth::Basic { api_token, .. } => api_token.clone(),
            JiraAuth::Bearer { token } => token.clone(),
        }
    }
}

/// A Jira project tickets go to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JiraConfig {
    /// The site, e.g. `https://acme.atlassian.net` (no `/rest/...`).
    pub base_url: String,
    /// REST API version (default 3).
    #[serde(default)]
    pub api_version: JiraApiVersion,
    /// Credentials.
    pub auth: JiraAuth,
    /// Project key, e.g. `OPS`.
    pub project_key: String,
    /// Issue type name (default `Task`).
    #[serde(default = "default_issue_type")]
    pub issue_type: String,
    /// Connect and read timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
}

fn default_issue_type() -> String {
    "Task".to_owned()
}

/// A [`Tracker`] for one Jira project.
pub struct JiraTracker {
    config: JiraConfig,
    client: Client,
    api: String,
}

impl JiraTracker {
    /// A client for `config`; refuses a base URL that is not http(s) or a bad project key.
    pub fn new(config: JiraConfig) -> Result<Self, DeliveryError> {
        let base = config.base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(DeliveryError::never("jira: base_url must start with https:// or http://"));
        }
        if !path_safe(&config.project_key) {
            return Err(DeliveryError::never(format!("jira: project key {:?} is not valid", config.project_key)));
        }
        let client = Client::new("jira", &config.timeouts, vec![config.auth.secret()]);
        let api = format!("{base}/rest/api/{}", config.api_version.number());
        Ok(JiraTracker { config: JiraConfig { base_url: base, ..config }, client, api })
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        vec![("authorization", self.config.auth.header()), ("accept", "application/json".to_owned())]
    }

    fn reference(&self, key: &str) -> ExternalRef {
        ExternalRef { system: System::Jira, key: key.to_owned(), url: format!("{}/browse/{key}", self.config.base_url) }
    }

    fn issue_url(&self, key: &str) -> Result<String, DeliveryError> {
        if !path_safe(key) || !key.contains('-') {
            return Err(DeliveryError::never(format!("jira: {key:?} is not an issue key")));
        }
        Ok(format!("{}/issue/{key}", self.api))
    }

    /// Description or comment text in this API version's format.
    fn text(&self, markdown: &str) -> Value {
        match self.config.api_version {
            JiraApiVersion::V2 => Value::String(markdown.to_owned()),
            JiraApiVersion::V3 => adf(markdown),
        }
    }

    /// The status category key (`new`, `indeterminate`, `done`) of issue `key`.
    fn category(&self, key: &str) -> Result<String, DeliveryError> {
        let url = format!("{}?fields=status", self.issue_url(key)?);
        let issue = self.client.json(http::Method::GET, &url, &self.headers(), None)?.json("jira: issue")?;
        str_at(&issue, &["fields", "status", "statusCategory", "key"])
            .map(str::to_owned)
            .ok_or_else(|| DeliveryError::never(format!("jira: issue {key} has no status category")))
    }
}

/// The status categories a state may be in, the preferred first.
fn categories(state: TicketState) -> &'static [&'static str] {
    match state {
        TicketState::Closed => &["done"],
        TicketState::Open => &["new", "indeterminate"],
    }
}

/// Jira labels cannot hold spaces.
fn label(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join("-")
}

impl Tracker for JiraTracker {
    fn system(&self) -> System {
        System::Jira
    }

    fn find_by_vigil_id(&self, vigil_id: i64) -> Result<Option<ExternalRef>, DeliveryError> {
        let jql = format!("labels = \"{}\" ORDER BY created ASC", vigil_label(vigil_id));
        let (path, body) = match self.config.api_version {
            JiraApiVersion::V3 => ("search/jql", json!({"jql": jql, "fields": ["status"], "maxResults": 10})),
            JiraApiVersion::V2 => ("search", json!({"jql": jql, "fields": ["status"], "maxResults": 10, "startAt": 0})),
        };
        let url = format!("{}/{path}", self.api);
        let found = self.client.json(http::Method::POST, &url, &self.headers(), Some(&body))?.json("jira: search")?;
        let key = found["issues"].as_array().and_then(|issues| issues.iter().find_map(|i| i["key"].as_str()));
        Ok(key.filter(|k| path_safe(k)).map(|key| self.reference(key)))
    }

    fn create(&self, draft: &TicketDraft) -> Result<ExternalRef, DeliveryError> {
        if let Some(existing) = self.find_by_vigil_id(draft.vigil_id)? {
            return Ok(existing);
        }
        let mut labels: Vec<String> = draft.labels.iter().map(|l| label(l)).filter(|l| !l.is_empty()).collect();
        labels.push(vigil_label(draft.vigil_id));
        labels.dedup();
        let summary: String = draft.title.chars().filter(|c| *c != '\n' && *c != '\r').take(250).collect();
        let body = json!({"fields": {
            "project": {"key": self.config.project_key},
            "issuetype": {"name": self.config.issue_type},
            "summary": summary,
            "description": self.text(&draft.body),
            "labels": labels,
        }});
        let url = format!("{}/issue", self.api);
        let created = self.client.json(http::Method::POST, &url, &self.headers(), Some(&body))?.json("jira: create")?;
        match created["key"].as_str().filter(|k| path_safe(k)) {
            Some(key) => Ok(crate::settle_race(self, self.reference(key), draft.vigil_id)),
            None => Err(DeliveryError::never("jira: the created issue has no key")),
        }
    }

    fn comment(&self, key: &str, body: &str) -> Result<(), DeliveryError> {
        let url = format!("{}/comment", self.issue_url(key)?);
        self.client.json(http::Method::POST, &url, &self.headers(), Some(&json!({"body": self.text(body)})))?;
        Ok(())
    }

    fn set_state(&self, key: &str, state: TicketState) -> Result<(), DeliveryError> {
        let wanted = categories(state);
        let current = self.category(key)?;
        if wanted.contains(&current.as_str()) {
            return Ok(());
        }
        let url = format!("{}/transitions", self.issue_url(key)?);
        let listed = self.client.json(http::Method::GET, &url, &self.headers(), None)?.json("jira: transitions")?;
        let transitions = listed["transitions"].as_array().map(Vec::as_slice).unwrap_or_default();
        let id = wanted.iter().find_map(|category| {
            transitions.iter().find(|t| str_at(t, &["to", "statusCategory", "key"]) == Some(category)).and_then(|t| {
                // Jira sends ids as strings; accept numbers too.
                t["id"].as_str().map(str::to_owned).or_else(|| t["id"].as_u64().map(|n| n.to_string()))
            })
        });
        let Some(id) = id else {
            return Err(DeliveryError::never(format!(
                "jira: issue {key} has no transition from status category {current} to {}",
                wanted.join(" or ")
            )));
        };
        self.client.json(http::Method::POST, &url, &self.headers(), Some(&json!({"transition": {"id": id}})))?;
        Ok(())
    }
}

/// Markdown as Atlassian Document Format: paragraphs (blank-line separated,
/// lines joined by hard breaks) and fenced code blocks.
pub fn adf(markdown: &str) -> Value {
    let mut content = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut code: Option<(String, Vec<&str>)> = None;
    let flush = |paragraph: &mut Vec<&str>, content: &mut Vec<Value>| {
        if paragraph.is_empty() {
            return;
        }
        let mut nodes = Vec::new();
        for (i, line) in paragraph.iter().enumerate() {
            if i > 0 {
                nodes.push(json!({"type": "hardBreak"}));
            }
            if !line.is_empty() {
                nodes.push(json!({"type": "text", "text": line}));
            }
        }
        content.push(json!({"type": "paragraph", "content": nodes}));
        paragraph.clear();
    };
    for line in markdown.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut code, fence) {
            (Some((language, lines)), Some(_)) => {
                let text = lines.join("\n");
                let mut block = json!({"type": "codeBlock", "content": []});
                if !language.is_empty() {
                    block["attrs"] = json!({"language": language});
                }
                if !text.is_empty() {
                    block["content"] = json!([{"type": "text", "text": text}]);
                }
                content.push(block);
                code = None;
            }
            (Some((_, lines)), None) => lines.push(line),
            (None, Some(language)) => {
                flush(&mut paragraph, &mut content);
                code = Some((language.trim().to_owned(), Vec::new()));
            }
            (None, None) if line.trim().is_empty() => flush(&mut paragraph, &mut content),
            (None, None) => paragraph.push(line),
        }
    }
    if let Some((_, lines)) = code {
        // An unclosed fence: its lines stay text.
        paragraph.extend(lines);
    }
    flush(&mut paragraph, &mut content);
    json!({"type": "doc", "version": 1, "content": content})
}

/// A `jira:issue_updated` webhook whose changelog moves the status, as an
/// [`InboundChange`]; the state comes from the new status's category.
pub(crate) fn parse_inbound(_request: &InboundRequest<'_>, event: &Value) -> Option<InboundChange> {
    if event["webhookEvent"].as_str()? != "jira:issue_updated" {
        return None;
    }
    let items = event["changelog"]["items"].as_array()?;
    let status_changed =
        items.iter().any(|item| item["fieldId"].as_str() == Some("status") || item["field"].as_str() == Some("status"));
    if !status_changed {
        return None;
    }
    let key = event["issue"]["key"].as_str().filter(|k| path_safe(k))?;
    let state = match str_at(event, &["issue", "fields", "status", "statusCategory", "key"])? {
        "done" => TicketState::Closed,
        "new" | "indeterminate" => TicketState::Open,
        _ => return None,
    };
    let user = &event["user"];
    let actor = ["displayName", "name", "accountId"].iter().find_map(|field| user[field].as_str()).map(str::to_owned);
    Some(InboundChange { system: System::Jira, external_key: key.to_owned(), state, actor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_header() {
        let auth = JiraAuth::Basic { email: "a@b.c".into(), api_token: Secret::new("tok") };
        assert_eq!(auth.header(), "Basic YUBiLmM6dG9r");
    }

    #[test]
    fn markdown_to_adf() {
        let doc = adf("First line\nsecond line\n\n```sh\napt upgrade\n```\n\nlast");
        assert_eq!(doc["type"], "doc");
        assert_eq!(doc["version"], 1);
        let content = doc["content"].as_array().unwrap();
        assert_eq!(content.len(), 3);
        assert_eq!(content[0]["content"][1]["type"], "hardBreak");
        assert_eq!(content[0]["content"][2]["text"], "second line");
        assert_eq!(content[1]["type"], "codeBlock");
        assert_eq!(content[1]["attrs"]["language"], "sh");
        assert_eq!(content[1]["content"][0]["text"], "apt upgrade");
        assert_eq!(content[2]["content"][0]["text"], "last");
        assert_eq!(adf("")["content"], json!([]));
        assert_eq!(adf("```\nopen")["content"][0]["content"][0]["text"], "open");
    }

    #[test]
    fn labels_lose_spaces() {
        assert_eq!(label(" team platform "), "team-platform");
    }
}

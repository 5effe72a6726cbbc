//! GitHub Issues over the REST API (github.com or GitHub Enterprise Server,
//! by its API base URL).
//!
//! - Create: `POST /repos/{owner}/{repo}/issues` with title, body and labels,
//!   one of them `vigil-ticket-<id>`.
//! - Find (what makes create idempotent): `GET
//!   /repos/{owner}/{repo}/issues?labels=vigil-ticket-<id>&state=all`, the
//!   lowest-numbered issue (pull requests are skipped).
//! - Comment: `POST /repos/{owner}/{repo}/issues/{n}/comments`.
//! - Close and reopen: `PATCH /repos/{owner}/{repo}/issues/{n}` with `state`
//!   and `state_reason` (`completed`, `reopened`), after a `GET` shows it is
//!   not already there.
//! - Headers: `Authorization: Bearer <token>`, `Accept:
//!   application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28`.
//!
//! Keys are `owner/repo#number`. Inbound: `issues` webhooks with action
//! `closed` or `reopened`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::inbound::{InboundChange, InboundRequest};
use crate::transport::{Client, encode_query, path_safe};
use crate::{DeliveryError, ExternalRef, Secret, System, TicketDraft, TicketState, Timeouts, Tracker, vigil_label};

/// The REST API version Vigil is written against.
pub const API_VERSION: &str = "2022-11-28";

/// The github.com API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// A GitHub repository tickets go to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitHubConfig {
    /// API base URL: `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// Repository owner (user or organization).
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// A token allowed to write issues (fine-grained: "Issues: read and write").
    pub token: Secret,
    /// Connect and read timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
}

fn default_api_url() -> String {
    DEFAULT_API_URL.to_owned()
}

/// A [`Tracker`] for one GitHub repository.
pub struct GitHubTracker {
    config: GitHubConfig,
    client: Client,
    repo_url: String,
}

impl GitHubTracker {
    /// A client for `config`; refuses a URL that is not http(s) or a bad owner or repository name.
    pub fn new(config: GitHubConfig) -> Result<Self, DeliveryError> {
        let api = config.api_url.trim_end_matches('/');
        if !(api.starts_with("https://") || api.starts_with("http://")) {
            return Err(DeliveryError::never("github: api_url must start with https:// or http://"));
        }
        if !path_safe(&config.owner) || !path_safe(&config.repo) {
            return Err(DeliveryError::never(format!(
                "github: {:?}/{:?} is not a repository name",
                config.owner, config.repo
            )));
        }
        let repo_url = format!("{api}/repos/{}/{}", config.owner, config.repo);
        let client = Client::new("github", &config.timeouts, vec![config.token.clone()]);
        Ok(GitHubTracker { config, client, repo_url })
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("authorization", format!("Bearer {}", self.config.token.expose())),
            ("accept", "application/vnd.github+json".to_owned()),
            ("x-github-api-version", API_VERSION.to_owned()),
        ]
    }

    fn reference(&self, number: u64, url: Option<&str>) -> ExternalRef {
        let url = url.map(str::to_owned).unwrap_or_else(|| format!("{}/issues/{number}", self.repo_url));
        ExternalRef { system: System::GitHub, key: format!("{}/{}#{number}", self.config.owner, self.config.repo), url }
    }

    /// The issue number of `key` (`owner/repo#n`, or `#n`/`n` in this repository).
    fn number(&self, key: &str) -> Result<u64, DeliveryError> {
        let (repo, number) = key.rsplit_once('#').unwrap_or(("", key));
        let ours = format!("{}/{}", self.config.owner, self.config.repo);
        if !repo.is_empty() && !repo.eq_ignore_ascii_case(&ours) {
            return Err(DeliveryError::never(format!("github: {key:?} is not an issue of {ours}")));
        }
        number
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| DeliveryError::never(format!("github: {key:?} is not an issue key")))
    }
}

impl Tracker for GitHubTracker {
    fn system(&self) -> System {
        System::GitHub
    }

    fn find_by_vigil_id(&self, vigil_id: i64) -> Result<Option<ExternalRef>, DeliveryError> {
        let url = format!(
            "{}/issues?labels={}&state=all&sort=created&direction=asc&per_page=100",
            self.repo_url,
            encode_query(&vigil_label(vigil_id))
        );
        let listed = self.client.json(http::Method::GET, &url, &self.headers(), None)?.json("github: issues")?;
        let Some(issues) = listed.as_array() else {
            return Err(DeliveryError::never("github: the issue list is not an array"));
        };
        let oldest = issues
            .iter()
            .filter(|issue| issue.get("pull_request").is_none())
            .filter_map(|issue| Some((issue["number"].as_u64()?, issue["html_url"].as_str())))
            .min_by_key(|(number, _)| *number);
        Ok(oldest.map(|(number, url)| self.reference(number, url)))
    }

    fn create(&self, draft: &TicketDraft) -> Result<ExternalRef, DeliveryError> {
        if let Some(existing) = self.find_by_vigil_id(draft.vigil_id)? {
            return Ok(existing);
        }
        let mut labels: Vec<String> = draft.labels.iter().filter(|l| !l.trim().is_empty()).cloned().collect();
        labels.push(vigil_label(draft.vigil_id));
        labels.dedup();
        let body = json!({"title": draft.title, "body": draft.body, "labels": labels});
        let url = format!("{}/issues", self.repo_url);
        let created =
            self.client.json(http::Method::POST, &url, &self.headers(), Some(&body))?.json("github: create")?;
        match created["number"].as_u64() {
            Some(number) => {
                Ok(crate::settle_race(self, self.reference(number, created["html_url"].as_str()), draft.vigil_id))
            }
            None => Err(DeliveryError::never("github: the created issue has no number")),
        }
    }

    fn comment(&self, key: &str, body: &str) -> Result<(), DeliveryError> {
        let url = format!("{}/issues/{}/comments", self.repo_url, self.number(key)?);
        self.client.json(http::Method::POST, &url, &self.headers(), Some(&json!({"body": body})))?;
        Ok(())
    }

    fn set_state(&self, key: &str, state: TicketState) -> Result<(), DeliveryError> {
        let url = format!("{}/issues/{}", self.repo_url, self.number(key)?);
        let issue = self.client.json(http::Method::GET, &url, &self.headers(), None)?.json("github: issue")?;
        let (wanted, reason) = match state {
            TicketState::Closed => ("closed", "completed"),
            TicketState::Open => ("open", "reopened"),
        };
        if issue["state"].as_str() == Some(wanted) {
            return Ok(());
        }
        let body = json!({"state": wanted, "state_reason": reason});
        self.client.json(http::Method::PATCH, &url, &self.headers(), Some(&body))?;
        Ok(())
    }
}

/// An `issues` webhook with action `closed` or `reopened`, as an [`InboundChange`].
pub(crate) fn parse_inbound(request: &InboundRequest<'_>, event: &Value) -> Option<InboundChange> {
    let kind = request.headers.get("x-github-event").and_then(|v| v.to_str().ok())?;
    if kind != "issues" {
        return None;
    }
    let state = match event["action"].as_str()? {
        "closed" => TicketState::Closed,
        "reopened" => TicketState::Open,
        _ => return None,
    };
    let repo = event["repository"]["full_name"].as_str()?;
    let (owner, name) = repo.split_once('/')?;
    if !path_safe(owner) || !path_safe(name) {
        return None;
    }
    let number = event["issue"]["number"].as_u64()?;
    let actor = event["sender"]["login"].as_str().map(str::to_owned);
    Some(InboundChange { system: System::GitHub, external_key: format!("{repo}#{number}"), state, actor })
}

//! Jira (v2 and v3) and GitHub clients against the fakes: create,
//! idempotent retry, comment, close, reopen, rejected auth, and the retry
//! decision for 500, timeouts and 429 with Retry-After.

use vigil_integrations::testing::{Failure, FakeGitHub, FakeJira};
use vigil_integrations::{
    GitHubTracker, JiraApiVersion, JiraAuth, JiraTracker, Retry, Secret, System, TicketDraft, TicketState, Tracker,
    TrackerConfig,
};

fn draft(vigil_id: i64) -> TicketDraft {
    TicketDraft {
        vigil_id,
        title: "openssl 3.0.2 in payments-api: 3 critical findings".into(),
        body: "Upgrade **openssl** to 3.0.13.\n\n```\nCVE-2024-0727\n```".into(),
        labels: vec!["vigil".into(), "team platform".into()],
    }
}

#[test]
fn jira_create_is_idempotent_and_shaped_per_version() {
    for version in [JiraApiVersion::V2, JiraApiVersion::V3] {
        let fake = FakeJira::start(version);
        let jira = TrackerConfig::Jira(fake.config()).tracker().unwrap();
        assert_eq!(jira.system(), System::Jira);
        assert_eq!(jira.find_by_vigil_id(7).unwrap(), None);
        let first = jira.create(&draft(7)).unwrap();
        assert_eq!(first.key, "OPS-1");
        assert_eq!(first.url, format!("{}/browse/OPS-1", fake.url()));
        // A retried delivery (or a second worker) finds the first issue instead of opening another.
        let again = jira.create(&draft(7)).unwrap();
        assert_eq!(again, first);
        assert_eq!(fake.issues().len(), 1);
        assert_eq!(jira.find_by_vigil_id(7).unwrap(), Some(first.clone()));
        let other = jira.create(&draft(8)).unwrap();
        assert_eq!(other.key, "OPS-2");

        let issue = fake.issue("OPS-1").unwrap();
        assert_eq!(issue.labels, vec!["vigil", "team-platform", "vigil-ticket-7"]);
        assert_eq!(issue.issue_type, "Task");
        match version {
            JiraApiVersion::V2 => assert_eq!(issue.description, draft(7).body),
            JiraApiVersion::V3 => {
                assert_eq!(issue.description["type"], "doc");
                assert_eq!(issue.description["content"][1]["type"], "codeBlock");
            }
        }
        let search_path = match version {
            JiraApiVersion::V2 => "/rest/api/2/search",
            JiraApiVersion::V3 => "/rest/api/3/search/jql",
        };
        let searches: Vec<_> = fake.requests().into_iter().filter(|r| r.path == search_path).collect();
        // find, 3 creates (one search before each, one after each of the 2 that created), find.
        assert_eq!(searches.len(), 7, "{version:?}");
        assert_eq!(searches[0].json().unwrap()["jql"], "labels = \"vigil-ticket-7\" ORDER BY created ASC");
    }
}

#[test]
fn jira_comment_close_reopen() {
    for version in [JiraApiVersion::V2, JiraApiVersion::V3] {
        let fake = FakeJira::start(version);
        let jira = JiraTracker::new(fake.config()).unwrap();
        let ticket = jira.create(&draft(1)).unwrap();
        jira.comment(&ticket.key, "Scan 42 shows all 3 findings fixed.").unwrap();
        let comments = fake.issue(&ticket.key).unwrap().comments;
        assert_eq!(comments.len(), 1);
        match version {
            JiraApiVersion::V2 => assert_eq!(comments[0], "Scan 42 shows all 3 findings fixed."),
            JiraApiVersion::V3 => {
                assert_eq!(comments[0]["content"][0]["content"][0]["text"], "Scan 42 shows all 3 findings fixed.")
            }
        }

        jira.set_state(&ticket.key, TicketState::Closed).unwrap();
        assert_eq!(fake.issue(&ticket.key).unwrap().status_category, "done");
        let transitions_posted = |fake: &FakeJira| {
            fake.requests().iter().filter(|r| r.method == "POST" && r.path.ends_with("/transitions")).count()
        };
        assert_eq!(transitions_posted(&fake), 1);
        // Already closed: nothing is sent.
        jira.set_state(&ticket.key, TicketState::Closed).unwrap();
        assert_eq!(transitions_posted(&fake), 1);

        jira.set_state(&ticket.key, TicketState::Open).unwrap();
        assert_eq!(fake.issue(&ticket.key).unwrap().status_category, "new");
        // In progress counts as open: reopening it does nothing.
        fake.set_status_category(&ticket.key, "indeterminate");
        jira.set_state(&ticket.key, TicketState::Open).unwrap();
        assert_eq!(fake.issue(&ticket.key).unwrap().status_category, "indeterminate");
        assert_eq!(transitions_posted(&fake), 2);

        let missing = jira.set_state("OPS-99", TicketState::Closed).unwrap_err();
        assert_eq!((missing.retry, missing.status), (Retry::Never, Some(404)));
        let injected = jira.comment("OPS-1/../../x", "hi").unwrap_err();
        assert_eq!(injected.retry, Retry::Never);
    }
}

#[test]
fn jira_bearer_auth_and_rejected_credentials() {
    let auth = JiraAuth::Bearer { token: Secret::new("pat-0123456789") };
    let fake = FakeJira::start_with(JiraApiVersion::V2, auth);
    let jira = JiraTracker::new(fake.config()).unwrap();
    assert_eq!(jira.create(&draft(3)).unwrap().key, "OPS-1");
    assert_eq!(fake.requests()[0].header("authorization"), Some("Bearer pat-0123456789"));

    let fake = FakeJira::start(JiraApiVersion::V3);
    let mut config = fake.config();
    config.auth = JiraAuth::Basic { email: FakeJira::EMAIL.into(), api_token: Secret::new("wrong-token-value") };
    let error = JiraTracker::new(config.clone()).unwrap().create(&draft(3)).unwrap_err();
    assert_eq!((error.retry, error.status), (Retry::Never, Some(401)));
    assert!(error.message.contains("authenticated"), "{error}");
    assert!(!format!("{error} {error:?} {config:?}").contains("wrong-token-value"));
    assert!(fake.issues().is_empty());
}

#[test]
fn jira_failures_say_when_to_retry_and_nothing_is_lost() {
    let fake = FakeJira::start(JiraApiVersion::V3);
    let jira = JiraTracker::new(fake.config()).unwrap();

    fake.fail_next(Failure::Status(500));
    let error = jira.create(&draft(5)).unwrap_err();
    assert_eq!((error.retry, error.status), (Retry::Backoff, Some(500)));

    fake.fail_next(Failure::RateLimit { retry_after_secs: 17 });
    let error = jira.create(&draft(5)).unwrap_err();
    assert_eq!((error.retry, error.status), (Retry::After(17), Some(429)));

    fake.fail_next(Failure::Timeout);
    let started = std::time::Instant::now();
    let error = jira.create(&draft(5)).unwrap_err();
    assert_eq!((error.retry, error.status), (Retry::Backoff, None));
    assert!(error.message.contains("timed out"), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));

    // 503 without Retry-After backs off too; then the retry succeeds, once.
    fake.fail_next(Failure::Status(503));
    assert_eq!(jira.create(&draft(5)).unwrap_err().retry, Retry::Backoff);
    assert_eq!(jira.create(&draft(5)).unwrap().key, "OPS-1");
    assert_eq!(jira.create(&draft(5)).unwrap().key, "OPS-1");
    assert_eq!(fake.issues().len(), 1);

    // Nobody listening: a connection error is retried.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut config = fake.config();
    config.base_url = format!("http://127.0.0.1:{closed}");
    let error = JiraTracker::new(config).unwrap().find_by_vigil_id(1).unwrap_err();
    assert_eq!(error.retry, Retry::Backoff, "{error}");
}

#[test]
fn jira_configuration_is_checked() {
    let fake = FakeJira::start(JiraApiVersion::V3);
    let mut config = fake.config();
    config.project_key = "OPS/../ADMIN".into();
    assert_eq!(JiraTracker::new(config).err().map(|e| e.retry), Some(Retry::Never));
    let mut config = fake.config();
    config.base_url = "ftp://x".into();
    assert!(JiraTracker::new(config).is_err());
    // A project the server does not know: 400 with the server's reason, never retried.
    let mut config = fake.config();
    config.project_key = "NOPE".into();
    let error = JiraTracker::new(config).unwrap().create(&draft(1)).unwrap_err();
    assert_eq!((error.retry, error.status), (Retry::Never, Some(400)));
    assert!(error.message.contains("project"), "{error}");
}

#[test]
fn github_create_is_idempotent_even_when_closed() {
    let fake = FakeGitHub::start();
    let github = TrackerConfig::GitHub(fake.config()).tracker().unwrap();
    assert_eq!(github.system(), System::GitHub);
    let first = github.create(&draft(7)).unwrap();
    assert_eq!(first.key, "acme/app#1");
    assert!(first.url.ends_with("/acme/app/issues/1"), "{}", first.url);
    assert_eq!(github.create(&draft(7)).unwrap(), first);
    // Closed issues are found too (state=all): reopening beats a duplicate.
    github.set_state(&first.key, TicketState::Closed).unwrap();
    assert_eq!(github.create(&draft(7)).unwrap(), first);
    assert_eq!(fake.issues().len(), 1);
    assert_eq!(github.create(&draft(9)).unwrap().key, "acme/app#2");

    let issue = fake.issue(1).unwrap();
    assert_eq!(issue.labels, vec!["vigil", "team platform", "vigil-ticket-7"]);
    assert_eq!(issue.body, draft(7).body);
    let request = &fake.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.query_param("labels"), Some("vigil-ticket-7"));
    assert_eq!(request.query_param("state"), Some("all"));
    assert_eq!(request.header("x-github-api-version"), Some("2022-11-28"));
}

#[test]
fn github_comment_close_reopen() {
    let fake = FakeGitHub::start();
    let github = GitHubTracker::new(fake.config()).unwrap();
    let ticket = github.create(&draft(2)).unwrap();
    github.comment(&ticket.key, "Closed by Vigil: scan 42 shows every finding fixed.").unwrap();
    assert_eq!(fake.issue(1).unwrap().comments, vec!["Closed by Vigil: scan 42 shows every finding fixed."]);

    github.set_state(&ticket.key, TicketState::Closed).unwrap();
    let issue = fake.issue(1).unwrap();
    assert_eq!((issue.state.as_str(), issue.state_reason.as_deref()), ("closed", Some("completed")));
    let patches = |fake: &FakeGitHub| fake.requests().iter().filter(|r| r.method == "PATCH").count();
    github.set_state(&ticket.key, TicketState::Closed).unwrap();
    assert_eq!(patches(&fake), 1);

    github.set_state(&ticket.key, TicketState::Open).unwrap();
    let issue = fake.issue(1).unwrap();
    assert_eq!((issue.state.as_str(), issue.state_reason.as_deref()), ("open", Some("reopened")));
    assert_eq!(patches(&fake), 2);

    let foreign = github.comment("other/repo#1", "x").unwrap_err();
    assert_eq!(foreign.retry, Retry::Never);
    assert_eq!(github.set_state("acme/app#77", TicketState::Closed).unwrap_err().status, Some(404));
}

#[test]
fn github_auth_and_failures() {
    let fake = FakeGitHub::start();
    let mut config = fake.config();
    config.token = Secret::new("ghp_wrongwrongwrong");
    let error = GitHubTracker::new(config).unwrap().create(&draft(1)).unwrap_err();
    assert_eq!((error.retry, error.status), (Retry::Never, Some(401)));
    assert!(error.message.contains("Bad credentials") && !error.message.contains("ghp_wrong"), "{error}");

    let github = GitHubTracker::new(fake.config()).unwrap();
    fake.fail_next(Failure::Status(502));
    assert_eq!(github.create(&draft(1)).unwrap_err().retry, Retry::Backoff);
    fake.fail_next(Failure::RateLimit { retry_after_secs: 60 });
    assert_eq!(github.create(&draft(1)).unwrap_err().retry, Retry::After(60));
    fake.fail_next(Failure::Timeout);
    let error = github.create(&draft(1)).unwrap_err();
    assert_eq!((error.retry, error.status), (Retry::Backoff, None));
    assert!(fake.issues().is_empty());
    assert_eq!(github.create(&draft(1)).unwrap().key, "acme/app#1");
    assert_eq!(fake.issues().len(), 1);
}

#[test]
fn racing_workers_converge_on_the_older_ticket() {
    let fake = FakeJira::start(JiraApiVersion::V3);
    let jira = JiraTracker::new(fake.config()).unwrap();
    fake.race_next_create();
    let ticket = jira.create(&draft(4)).unwrap();
    assert_eq!(ticket.key, "OPS-1");
    let duplicate = fake.issue("OPS-2").unwrap();
    assert_eq!(duplicate.status_category, "done");
    assert_eq!(duplicate.comments.len(), 1);
    assert_eq!(fake.issue("OPS-1").unwrap().status_category, "new");
    assert_eq!(jira.create(&draft(4)).unwrap().key, "OPS-1");

    let fake = FakeGitHub::start();
    let github = GitHubTracker::new(fake.config()).unwrap();
    fake.race_next_create();
    assert_eq!(github.create(&draft(4)).unwrap().key, "acme/app#1");
    let duplicate = fake.issue(2).unwrap();
    assert_eq!(duplicate.state, "closed");
    assert!(duplicate.comments[0].starts_with("Duplicate of acme/app#1"), "{:?}", duplicate.comments);
    assert_eq!(fake.issue(1).unwrap().state, "open");
}

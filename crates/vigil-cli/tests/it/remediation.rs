//! The remediation loop end to end, through `vigil server` as a process:
//! real scans of two versions of one image (the second with sudo
//! re-versioned to Debian's fix) uploaded by `vigil scan --upload`; a ticket
//! rule opens a ticket that the server's worker syncs to a fake Jira on
//! 127.0.0.1, the second scan closes it by itself (and the Jira issue), and
//! the trend endpoints show the decrease.

use std::time::Duration;

use serde_json::{Value, json};
use vigil_integrations::JiraApiVersion;
use vigil_integrations::testing::FakeJira;

use crate::baseline::{BASE_FILES, SUDO, SUDO_LDAP, database, image};
use crate::harness::{stderr, vigil};
use crate::platform::{ADMIN, ServerProcess, api, wait_until};

#[test]
fn two_image_versions_open_then_close_a_ticket_synced_to_jira() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path();
    database(db);
    let server = ServerProcess::start(db, &[], &[]);
    let url = server.url.as_str();
    let jira = FakeJira::start(JiraApiVersion::V2);

    let (status, body) = api(
        url,
        "POST",
        "/api/v1/integrations",
        ADMIN,
        Some(&json!({"name": "ops-jira", "kind": "jira", "config": jira.config()})),
    );
    assert_eq!(status, 201, "{body}");
    let rule = json!({"name": "fixable in prod", "query": "fix:available and tag:prod", "integration": "ops-jira"});
    let (status, preview) = api(url, "POST", "/api/v1/ticket-rules/dry-run", ADMIN, Some(&rule));
    assert_eq!((status, preview.as_array().map(Vec::len)), (200, Some(0)), "nothing uploaded yet: {preview}");
    let (status, body) = api(url, "POST", "/api/v1/ticket-rules", ADMIN, Some(&rule));
    assert_eq!(status, 201, "{body}");

    // Version 1 ships sudo 1.8.27-1+deb10u2 (DSA-4839-1, CVE-2021-3156, known exploited).
    let work = tempfile::tempdir().unwrap();
    let vulnerable = image(work.path(), "app-1.tar", &[BASE_FILES, SUDO_LDAP, SUDO]);
    let upload = |archive: &std::path::Path| {
        let o = vigil(
            db,
            &["scan", archive.to_str().unwrap(), "--upload", url, "--token", ADMIN, "--asset", "app", "--tag", "prod"],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    };
    upload(&vulnerable);
    let tickets = || api(url, "GET", "/api/v1/tickets", ADMIN, None).1["items"].as_array().cloned().unwrap_or_default();
    let opened = tickets();
    assert_eq!(opened.len(), 1, "{opened:?}");
    let ticket = &opened[0];
    assert_eq!(ticket["title"], "Upgrade sudo 1.8.27-1+deb10u2 on app");
    assert_eq!(ticket["status"], "open");
    let id = ticket["id"].as_i64().unwrap();

    // The server's worker syncs it to Jira, labelled with the ticket, and writes the key back.
    wait_until("the Jira issue", Duration::from_secs(60), || jira.issues().len() == 1);
    let issue = jira.issues().remove(0);
    assert_eq!(issue.summary, "Upgrade sudo 1.8.27-1+deb10u2 on app");
    assert!(issue.labels.contains(&format!("vigil-ticket-{id}")), "{:?}", issue.labels);
    assert!(issue.description.as_str().unwrap_or_default().contains("CVE-2021-3156"), "{}", issue.description);
    wait_until("the key on the ticket", Duration::from_secs(30), || {
        api(url, "GET", &format!("/api/v1/tickets/{id}"), ADMIN, None).1["ticket"]["external_key"] == issue.key
    });
    let open_today =
        |q: &str| -> Value { api(url, "GET", &format!("/api/v1/trends/open?days=1&q={q}"), ADMIN, None).1 };
    assert_eq!(open_today("tag:prod")[0]["open"], 1, "{}", open_today("tag:prod"));

    // Version 2: the same image with sudo re-versioned to Debian's fix.
    let fixed_sudo = SUDO.replace("1.8.27-1+deb10u2", "1.8.27-1+deb10u3");
    let fixed = image(work.path(), "app-2.tar", &[BASE_FILES, SUDO_LDAP, &fixed_sudo]);
    upload(&fixed);
    let detail = api(url, "GET", &format!("/api/v1/tickets/{id}"), ADMIN, None).1;
    assert_eq!(detail["ticket"]["status"], "closed", "{detail}");
    assert_eq!(detail["ticket"]["close_reason"], "fixed");
    let closing = detail["events"].as_array().unwrap().last().unwrap().clone();
    assert!(closing["body"].as_str().unwrap().contains("closed by scan #"), "{closing}");
    wait_until("the Jira issue to close", Duration::from_secs(60), || {
        jira.issue(&issue.key).is_some_and(|i| i.status_category == "done")
    });
    assert_eq!(jira.issues().len(), 1, "no second issue");

    // The trends show the decrease: nothing open at the end of today, one fix this week.
    assert_eq!(open_today("tag:prod")[0]["open"], 0, "{}", open_today("tag:prod"));
    let weekly = api(url, "GET", "/api/v1/trends/weekly?days=7", ADMIN, None).1;
    let week = weekly.as_array().unwrap().last().unwrap();
    assert_eq!((week["new"].as_i64(), week["fixed"].as_i64()), (Some(1), Some(1)), "{weekly}");
}

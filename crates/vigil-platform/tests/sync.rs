//! Tickets synced to a fake Jira, GitHub and webhook receiver on 127.0.0.1
//! that check every request, through failures (500, timeouts, 429 with
//! Retry-After) that delay deliveries without losing or duplicating them;
//! Jira webhooks moving tickets back; notifications grouped per rule.

mod common;

use common::*;
use vigil_integrations::signature::hub_signature;
use vigil_integrations::testing::{Failure, FakeGitHub, FakeJira, FakeReceiver, FakeSmtp};
use vigil_integrations::{InboundRequest, JiraApiVersion};
use vigil_platform::integrations::{self, IntegrationRequest};
use vigil_platform::tickets::{self, RuleRequest, Update};
use vigil_platform::{Actor, Error, Platform, auth, ingest, notify, sync, vulndb};
use vigil_store::model::Role;
use vigil_store::{accounts, testing};

const INBOUND_SECRET: &str = "jira-inbound-secret-0123456789";

async fn integration(p: &Platform, admin: &Actor, name: &str, kind: &str, config: serde_json::Value) -> i64 {
    let request = IntegrationRequest {
        name: name.into(),
        kind: kind.into(),
        config,
        inbound_secret: (kind == "jira").then(|| INBOUND_SECRET.to_string()),
    };
    integrations::create(p, admin, &request).await.unwrap().id
}

fn rule(query: &str, grouping: &str, integration: &str) -> RuleRequest {
    RuleRequest {
        name: format!("{query} to {integration}"),
        query: query.into(),
        grouping: Some(grouping.into()),
        team: Some("red".into()),
        assignee_team: None,
        assignee_user: None,
        integration: Some(integration.into()),
    }
}

async fn ticket_of(p: &Platform, who: &Actor, title: &str) -> tickets::TicketDetail {
    let all = tickets::list(p, who, None, None, 100).await.unwrap();
    let t = all.iter().find(|t| t.title == title).unwrap_or_else(|| panic!("no ticket `{title}` in {all:#?}"));
    tickets::get(p, who, t.id).await.unwrap()
}

fn comment(text: &str) -> Update {
    Update { status: None, comment: Some(text.into()) }
}

#[tokio::test]
async fn tickets_sync_through_failures_and_come_back_from_jira() {
    for db in testing::both().await {
        let backend = db.store.backend().name();
        let data = tempfile::tempdir().unwrap();
        let p = platform(db.store.clone(), data.path(), &["v1"]);
        let token = auth::bootstrap(&p.store, None, p.now()).await.unwrap().unwrap();
        let admin = auth::authenticate(&p, &token).await.unwrap();
        let mut tx = p.store.write().await.unwrap();
        let red = accounts::create_team(&mut tx, "red", p.now()).await.unwrap();
        let alice = accounts::create_user(&mut tx, "alice", None, Role::Analyst, p.now()).await.unwrap();
        accounts::add_member(&mut tx, red.id, alice.id).await.unwrap();
        tx.commit().await.unwrap();
        let mut conn = p.store.read().await.unwrap();
        let alice = actor(&accounts::user(&mut conn, alice.id).await.unwrap(), Role::Analyst);
        drop(conn);
        vulndb::refresh(&p).await.unwrap();

        let jira = FakeJira::start(JiraApiVersion::V3);
        let github = FakeGitHub::start();
        let receiver = FakeReceiver::start("receiver-secret-4d9a");
        let jira_id = integration(&p, &admin, "ops-jira", "jira", serde_json::to_value(jira.config()).unwrap()).await;
        integration(&p, &admin, "gh", "github", serde_json::to_value(github.config()).unwrap()).await;
        integration(&p, &admin, "hook", "webhook", serde_json::to_value(receiver.config()).unwrap()).await;
        // Only administrators store integrations, and settings are checked on the way in.
        let bad = IntegrationRequest {
            name: "x".into(),
            kind: "jira".into(),
            config: serde_json::json!({"base_url": 3}),
            inbound_secret: None,
        };
        assert!(matches!(integrations::create(&p, &alice, &bad).await, Err(Error::Forbidden(_))));
        assert!(matches!(integrations::create(&p, &admin, &bad).await, Err(Error::Invalid(_))));
        // Listing never shows settings.
        let listed = serde_json::to_string(&integrations::list(&p, &alice).await.unwrap()).unwrap();
        assert!(!listed.contains(FakeJira::TOKEN) && !listed.contains("receiver-secret"), "{listed}");

        tickets::create_rule(&p, &alice, &rule("severity>=high", "asset_package", "ops-jira")).await.unwrap();
        tickets::create_rule(&p, &alice, &rule("severity>=high", "advisory", "gh")).await.unwrap();
        tickets::create_rule(&p, &alice, &rule("severity>=high", "asset", "hook")).await.unwrap();
        let vulnerable = || upload("shop", vec![pypi("flask", "2.2.2")]);
        ingest::ingest(&p, &alice, vulnerable(), "upload").await.unwrap();

        // The first delivery fails (500): logged, retried after the backoff, not lost.
        jira.fail_next(Failure::Status(500));
        run_jobs(&p).await;
        let t = ticket_of(&p, &alice, "Upgrade flask 2.2.2 on shop").await;
        assert_eq!(t.ticket.external_key, None, "{backend}");
        assert_eq!(t.deliveries.last().unwrap().outcome, "retrying", "{backend}: {:#?}", t.deliveries);
        assert!(jira.issues().is_empty());
        p.clock.advance(10);
        run_jobs(&p).await;
        let t = ticket_of(&p, &alice, "Upgrade flask 2.2.2 on shop").await;
        let issues = jira.issues();
        assert_eq!(issues.len(), 1, "{backend}: one issue after the retry");
        let issue = &issues[0];
        assert_eq!(t.ticket.external_key.as_deref(), Some(issue.key.as_str()));
        assert_eq!(issue.summary, "Upgrade flask 2.2.2 on shop");
        assert!(issue.labels.contains(&format!("vigil-ticket-{}", t.ticket.id)), "{:?}", issue.labels);
        assert_eq!(t.deliveries.last().unwrap().outcome, "delivered");
        // The key shows on the finding.
        let finding = vigil_platform::read::finding(&p, &alice, t.findings[0].id).await.unwrap();
        assert!(finding.tickets.iter().any(|r| r.external_key.as_deref() == Some(issue.key.as_str())));

        // GitHub and the webhook got theirs; the receiver checked every signature.
        assert_eq!(github.issues().len(), 1, "{backend}");
        assert!(github.issues()[0].title.starts_with("CVE-2023-30861"), "{:?}", github.issues()[0].title);
        let deliveries = receiver.deliveries();
        assert_eq!(deliveries.iter().map(|d| d.event.as_str()).collect::<Vec<_>>(), ["ticket.opened"]);

        // Rate limited: nothing before Retry-After, delivered after it.
        jira.fail_next(Failure::RateLimit { retry_after_secs: 120 });
        tickets::update(&p, &alice, t.ticket.id, &comment("upgrading in sprint 12")).await.unwrap();
        run_jobs(&p).await;
        p.clock.advance(60);
        assert_eq!(run_jobs(&p).await, 0, "{backend}: held until Retry-After");
        p.clock.advance(61);
        run_jobs(&p).await;
        let comments = jira.issue(&issue.key).unwrap().comments;
        assert_eq!(comments.len(), 1, "{backend}: {comments:?}");
        assert!(comments[0].to_string().contains("upgrading in sprint 12"));

        // A timeout: retried, and the comment arrives once.
        jira.fail_next(Failure::Timeout);
        tickets::update(&p, &alice, t.ticket.id, &comment("base image rebuilt")).await.unwrap();
        run_jobs(&p).await;
        p.clock.advance(30);
        run_jobs(&p).await;
        let comments = jira.issue(&issue.key).unwrap().comments;
        assert_eq!(comments.iter().filter(|c| c.to_string().contains("base image rebuilt")).count(), 1, "{comments:?}");

        // The fixed version closes the ticket, and the Jira issue moves to done.
        p.clock.advance(60);
        let fixed = ingest::ingest(&p, &alice, upload("shop", vec![pypi("flask", "2.2.5")]), "upload").await.unwrap();
        run_jobs(&p).await;
        let jira_issue = jira.issue(&issue.key).unwrap();
        assert_eq!(jira_issue.status_category, "done", "{backend}");
        assert!(jira_issue.comments.last().unwrap().to_string().contains(&format!("scan #{}", fixed.scan.id)));
        assert_eq!(github.issues()[0].state, "closed");
        assert_eq!(receiver.deliveries().last().unwrap().event, "ticket.closed");
        assert_eq!(jira.issues().len(), 1, "no duplicate");

        // A person reopens it in Jira: the webhook, signed with the inbound secret, moves the ticket.
        jira.set_status_category(&issue.key, "new");
        let body = include_str!("../../vigil-integrations/tests/fixtures/jira_issue_updated_reopened.json")
            .replace("OPS-12", &issue.key)
            .into_bytes();
        let signed = hub_signature(INBOUND_SECRET.as_bytes(), &body);
        let mut headers =
            axum_headers(&[("x-hub-signature", &signed), ("x-atlassian-webhook-identifier", "delivery-1")]);
        let request = InboundRequest { headers: &headers, query: None, body: &body };
        let moved = sync::inbound(&p, jira_id, &request).await.unwrap();
        assert_eq!(moved, Some(t.ticket.id));
        let t = tickets::get(&p, &alice, t.ticket.id).await.unwrap();
        assert_eq!(t.ticket.status, "open");
        assert_eq!(t.events.last().unwrap().author, "jira:Jane Doe");
        assert!(t.events.last().unwrap().synced, "nothing to echo back");
        // A forged one is refused.
        headers = axum_headers(&[("x-hub-signature", &hub_signature(b"wrong secret", &body))]);
        let forged = InboundRequest { headers: &headers, query: None, body: &body };
        assert!(matches!(sync::inbound(&p, jira_id, &forged).await, Err(Error::Unauthorized(_))));
        let requests_before = jira.requests().len();
        run_jobs(&p).await;
        assert_eq!(jira.requests().len(), requests_before, "{backend}: the reopen is not sent back to Jira");
        // Closed again by hand, then the same delivery replayed: nothing moves.
        let close = Update { status: Some("closed".into()), comment: Some("done in the old image too".into()) };
        tickets::update(&p, &alice, t.ticket.id, &close).await.unwrap();
        let original = axum_headers(&[("x-hub-signature", &signed), ("x-atlassian-webhook-identifier", "delivery-1")]);
        let replay = InboundRequest { headers: &original, query: None, body: &body };
        assert_eq!(sync::inbound(&p, jira_id, &replay).await.unwrap(), None, "{backend}: a replay");
        assert_eq!(tickets::get(&p, &alice, t.ticket.id).await.unwrap().ticket.status, "closed");
    }
}

fn axum_headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (k, v) in pairs {
        map.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), http::HeaderValue::from_str(v).unwrap());
    }
    map
}

#[tokio::test]
async fn notifications_are_grouped_sent_once_and_kept_when_the_channel_fails() {
    for db in testing::both().await {
        let backend = db.store.backend().name();
        let data = tempfile::tempdir().unwrap();
        let p = platform(db.store.clone(), data.path(), &["v1", "v2"]);
        let token = auth::bootstrap(&p.store, None, p.now()).await.unwrap().unwrap();
        let admin = auth::authenticate(&p, &token).await.unwrap();
        vulndb::refresh(&p).await.unwrap();
        let smtp = FakeSmtp::start();
        let receiver = FakeReceiver::start("notify-secret-77aa");
        let mut mail = serde_json::to_value(smtp.config()).unwrap();
        mail["to"] = serde_json::json!(["secops@example.com"]);
        integration(&p, &admin, "mail", "email", mail).await;
        integration(&p, &admin, "chat", "webhook", serde_json::to_value(receiver.config()).unwrap()).await;
        let rule = |name: &str, event: &str, query: &str, to: &str| notify::RuleRequest {
            name: name.into(),
            event: event.into(),
            query: query.into(),
            team: None,
            integration: to.into(),
            interval_minutes: Some(15),
        };
        // A ticket system is not a notification channel.
        integration(
            &p,
            &admin,
            "jira",
            "jira",
            serde_json::to_value(FakeJira::start(JiraApiVersion::V2).config()).unwrap(),
        )
        .await;
        assert!(matches!(
            notify::create_rule(&p, &admin, &rule("x", "finding.new", "", "jira")).await,
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            notify::create_rule(&p, &admin, &rule("x", "finding.old", "", "mail")).await,
            Err(Error::Invalid(_))
        ));
        notify::create_rule(&p, &admin, &rule("new findings", "finding.new", "", "mail")).await.unwrap();
        notify::create_rule(&p, &admin, &rule("daily", "digest", "tag:prod", "chat")).await.unwrap();

        // One upload with two findings: one message listing both.
        ingest::ingest(&p, &admin, upload("shop", vec![pypi("flask", "2.2.2"), pypi("jinja2", "2.11.2")]), "upload")
            .await
            .unwrap();
        notify::flush_job(&p).await.unwrap();
        let messages = smtp.messages();
        assert_eq!(messages.len(), 1, "{backend}");
        assert_eq!(messages[0].to, ["secops@example.com"]);
        assert!(
            messages[0].data.contains("CVE-2023-30861") && messages[0].data.contains("CVE-2020-28493"),
            "{}",
            messages[0].data
        );

        // Seen again: nothing new to say. A new finding within the interval waits.
        ingest::ingest(&p, &admin, upload("shop", vec![pypi("flask", "2.2.2"), pypi("jinja2", "2.11.2")]), "upload")
            .await
            .unwrap();
        ingest::ingest(&p, &admin, upload("api", vec![pypi("flask", "2.2.2")]), "upload").await.unwrap();
        notify::flush_job(&p).await.unwrap();
        assert_eq!(smtp.messages().len(), 1, "{backend}: within 15 minutes");
        // The channel fails: the event is kept and sent once it works.
        p.clock.advance(16 * 60);
        smtp.fail_next(Failure::Status(451));
        notify::flush_job(&p).await.unwrap();
        assert_eq!(smtp.messages().len(), 1);
        p.clock.advance(6 * 60);
        notify::flush_job(&p).await.unwrap();
        let messages = smtp.messages();
        assert_eq!(messages.len(), 2, "{backend}");
        assert!(messages[1].data.contains("on api") && !messages[1].data.contains("on shop"), "{}", messages[1].data);
        let rules = notify::rules(&p, &admin).await.unwrap();
        let detail = notify::rule(&p, &admin, rules[0].id).await.unwrap();
        assert_eq!(detail.sent.iter().map(|s| s.outcome.as_str()).collect::<Vec<_>>(), ["sent", "failed", "sent"]);

        // The digest: once per day, counting by severity.
        notify::digest_job(&p).await.unwrap();
        notify::digest_job(&p).await.unwrap();
        notify::flush_job(&p).await.unwrap();
        let digests = receiver.deliveries();
        assert_eq!(digests.len(), 1, "{backend}");
        assert_eq!(digests[0].event, "notification.digest");
        let text = digests[0].json()["text"].as_str().unwrap().to_string();
        assert!(text.contains("3 open (2 high, 1 "), "{text}");

        // SLA breaches: the two high findings are due 30 days after they were first seen.
        notify::create_rule(&p, &admin, &rule("late", "sla.breach", "severity>=high", "chat")).await.unwrap();
        p.clock.advance(29 * 86_400);
        notify::sla_job(&p).await.unwrap();
        notify::flush_job(&p).await.unwrap();
        assert_eq!(receiver.deliveries().len(), 1, "{backend}: not due yet");
        p.clock.advance(2 * 86_400);
        notify::sla_job(&p).await.unwrap();
        notify::sla_job(&p).await.unwrap();
        notify::flush_job(&p).await.unwrap();
        let sent = receiver.deliveries();
        assert_eq!(sent.len(), 2, "{backend}");
        assert_eq!(sent[1].event, "notification.sla.breach");
        assert_eq!(sent[1].json()["count"], 2, "{backend}: each breach once: {}", sent[1].json());
    }
}

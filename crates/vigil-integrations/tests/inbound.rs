//! Inbound Jira and GitHub webhooks: real-shaped payloads (tests/fixtures,
//! field names from the vendors' documentation), signatures, and hostile
//! bodies (truncated, huge, deeply nested, wrong types).

use http::{HeaderMap, HeaderValue};
use vigil_integrations::inbound::{self, InboundError, InboundRequest, MAX_INBOUND_BYTES};
use vigil_integrations::signature::{SignatureError, hub_signature};
use vigil_integrations::{InboundChange, Secret, System, TicketState};

const SECRET: &str = "inbound-secret-42";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn signed(system: System, body: &[u8], github_event: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let header = system.info().signature_header;
    headers.insert(header, HeaderValue::from_str(&hub_signature(SECRET.as_bytes(), body)).unwrap());
    if system == System::GitHub {
        headers.insert("x-github-event", HeaderValue::from_str(github_event).unwrap());
        headers.insert("x-github-delivery", HeaderValue::from_static("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
    }
    headers
}

fn parse(system: System, body: &[u8]) -> Result<Option<InboundChange>, InboundError> {
    let headers = signed(system, body, "issues");
    inbound::parse(system, &Secret::new(SECRET), &InboundRequest { headers: &headers, query: None, body })
}

#[test]
fn jira_status_changes() {
    let closed = parse(System::Jira, &fixture("jira_issue_updated_done.json")).unwrap().unwrap();
    assert_eq!(
        closed,
        InboundChange {
            system: System::Jira,
            external_key: "OPS-12".into(),
            state: TicketState::Closed,
            actor: Some("Mia Krystof".into())
        }
    );
    let reopened = parse(System::Jira, &fixture("jira_issue_updated_reopened.json")).unwrap().unwrap();
    assert_eq!((reopened.state, reopened.actor.as_deref()), (TicketState::Open, Some("Jane Doe")));
    assert_eq!(parse(System::Jira, &fixture("jira_issue_updated_summary.json")).unwrap(), None);
    assert_eq!(parse(System::Jira, &fixture("jira_issue_created.json")).unwrap(), None);
    assert_eq!(parse(System::Jira, &fixture("jira_wrong_types.json")).unwrap(), None);
}

#[test]
fn github_issue_events() {
    let closed = parse(System::GitHub, &fixture("github_issues_closed.json")).unwrap().unwrap();
    assert_eq!(
        closed,
        InboundChange {
            system: System::GitHub,
            external_key: "acme/app#34".into(),
            state: TicketState::Closed,
            actor: Some("octocat".into())
        }
    );
    let reopened = parse(System::GitHub, &fixture("github_issues_reopened.json")).unwrap().unwrap();
    assert_eq!(reopened.state, TicketState::Open);
    assert_eq!(parse(System::GitHub, &fixture("github_issues_labeled.json")).unwrap(), None);
    assert_eq!(parse(System::GitHub, &fixture("github_wrong_types.json")).unwrap(), None);
    // Another event type with an issues-like body.
    let body = fixture("github_issues_closed.json");
    let headers = signed(System::GitHub, &body, "issue_comment");
    let request = InboundRequest { headers: &headers, query: None, body: &body };
    assert_eq!(inbound::parse(System::GitHub, &Secret::new(SECRET), &request).unwrap(), None);
}

#[test]
fn bad_signatures_are_a_distinct_error() {
    let body = fixture("github_issues_closed.json");
    let secret = Secret::new(SECRET);
    let mut headers = signed(System::GitHub, &body, "issues");
    let tampered = String::from_utf8(body.clone()).unwrap().replace("closed", "reopened");
    let request = InboundRequest { headers: &headers, query: None, body: tampered.as_bytes() };
    assert_eq!(
        inbound::parse(System::GitHub, &secret, &request),
        Err(InboundError::BadSignature(SignatureError::Mismatch))
    );
    let wrong_secret = Secret::new("not-the-secret");
    let request = InboundRequest { headers: &headers, query: None, body: &body };
    assert!(matches!(inbound::parse(System::GitHub, &wrong_secret, &request), Err(InboundError::BadSignature(_))));
    headers.remove("x-hub-signature-256");
    let request = InboundRequest { headers: &headers, query: None, body: &body };
    assert_eq!(
        inbound::parse(System::GitHub, &secret, &request),
        Err(InboundError::BadSignature(SignatureError::Missing))
    );
    // GitHub has no query-string fallback.
    let request = InboundRequest { headers: &headers, query: Some("secret=inbound-secret-42"), body: &body };
    assert!(matches!(inbound::parse(System::GitHub, &secret, &request), Err(InboundError::BadSignature(_))));
    // A Jira signature in GitHub's legacy SHA-1 header is not accepted either.
    let mut sha1 = HeaderMap::new();
    sha1.insert("x-hub-signature", HeaderValue::from_static("sha1=0000000000000000000000000000000000000000"));
    sha1.insert("x-github-event", HeaderValue::from_static("issues"));
    let request = InboundRequest { headers: &sha1, query: None, body: &body };
    assert!(matches!(inbound::parse(System::GitHub, &secret, &request), Err(InboundError::BadSignature(_))));
}

#[test]
fn jira_shared_secret_fallback() {
    let body = fixture("jira_issue_updated_done.json");
    let secret = Secret::new(SECRET);
    let headers = HeaderMap::new();
    let request =
        InboundRequest { headers: &headers, query: Some("source=jira&secret=inbound-secret-42"), body: &body };
    assert_eq!(inbound::parse(System::Jira, &secret, &request).unwrap().unwrap().external_key, "OPS-12");
    let request = InboundRequest { headers: &headers, query: Some("secret=inbound-secret-43"), body: &body };
    assert_eq!(
        inbound::parse(System::Jira, &secret, &request),
        Err(InboundError::BadSignature(SignatureError::Mismatch))
    );
    let request = InboundRequest { headers: &headers, query: None, body: &body };
    assert_eq!(
        inbound::parse(System::Jira, &secret, &request),
        Err(InboundError::BadSignature(SignatureError::Missing))
    );
    // A signature header, when present, is what counts, even with a right query secret.
    let mut forged = HeaderMap::new();
    forged.insert("x-hub-signature", HeaderValue::from_static("sha256=00"));
    let request = InboundRequest { headers: &forged, query: Some("secret=inbound-secret-42"), body: &body };
    assert!(matches!(inbound::parse(System::Jira, &secret, &request), Err(InboundError::BadSignature(_))));
    // An empty configured secret never matches an empty query value.
    let request = InboundRequest { headers: &headers, query: Some("secret="), body: &body };
    assert!(inbound::parse(System::Jira, &Secret::new(""), &request).is_err());
}

#[test]
fn hostile_bodies_never_panic() {
    let full = fixture("jira_issue_updated_done.json");
    let truncated = &full[..full.len() / 2];
    assert!(matches!(parse(System::Jira, truncated), Err(InboundError::Malformed(_))));

    let huge = vec![b' '; MAX_INBOUND_BYTES + 1];
    assert_eq!(
        parse(System::GitHub, &huge),
        Err(InboundError::TooLarge { size: MAX_INBOUND_BYTES + 1, limit: MAX_INBOUND_BYTES })
    );
    // Unsigned huge bodies are refused for their size before any HMAC work.
    let headers = HeaderMap::new();
    let request = InboundRequest { headers: &headers, query: None, body: &huge };
    assert!(matches!(inbound::parse(System::Jira, &Secret::new(SECRET), &request), Err(InboundError::TooLarge { .. })));

    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(parse(System::Jira, deep.as_bytes()), Err(InboundError::Malformed(_))));
    let deep_object = "{\"a\":".repeat(50_000);
    assert!(matches!(parse(System::GitHub, deep_object.as_bytes()), Err(InboundError::Malformed(_))));

    for body in [
        &b"null"[..],
        b"[]",
        b"\"jira:issue_updated\"",
        b"{\"webhookEvent\": 5}",
        b"{\"webhookEvent\": \"jira:issue_updated\", \"changelog\": {\"items\": [{\"field\": \"status\"}]}, \"issue\": {\"key\": \"OPS-1\"}}",
        b"{\"webhookEvent\": \"jira:issue_updated\", \"changelog\": {\"items\": [{\"field\": \"status\"}]}, \"issue\": {\"key\": \"../../x\", \"fields\": {\"status\": {\"statusCategory\": {\"key\": \"done\"}}}}}",
        b"{\"webhookEvent\": \"jira:issue_updated\", \"changelog\": {\"items\": [{\"field\": \"status\"}]}, \"issue\": {\"key\": \"OPS-1\", \"fields\": {\"status\": {\"statusCategory\": {\"key\": \"undefined\"}}}}}",
    ] {
        assert_eq!(parse(System::Jira, body).unwrap(), None, "{}", String::from_utf8_lossy(body));
    }
    for body in [
        &b"{\"action\": \"closed\"}"[..],
        b"{\"action\": \"closed\", \"issue\": {\"number\": -1}, \"repository\": {\"full_name\": \"a/b\"}}",
        b"{\"action\": \"closed\", \"issue\": {\"number\": 1}, \"repository\": {\"full_name\": \"a/b/../c\"}}",
        b"{\"action\": \"closed\", \"issue\": {\"number\": 1e400}, \"repository\": {\"full_name\": \"a/b\"}}",
    ] {
        let result = parse(System::GitHub, body);
        assert!(matches!(result, Ok(None) | Err(InboundError::Malformed(_))), "{result:?}");
    }
    assert!(matches!(parse(System::Jira, b"\xff\xfe{}"), Err(InboundError::Malformed(_))));
}

//! Tickets opened by rules, closed by the scan that fixes their findings,
//! reopened when one comes back, on both backends, with real advisories.

mod common;

use common::*;
use vigil_platform::tickets::{self, RuleRequest, Update};
use vigil_platform::{Error, auth, ingest, triage, vulndb};
use vigil_store::model::Role;
use vigil_store::{accounts, testing};

fn rule(query: &str) -> RuleRequest {
    RuleRequest {
        name: "high in prod".into(),
        query: query.into(),
        grouping: None,
        team: None,
        assignee_team: None,
        assignee_user: None,
        integration: None,
    }
}

#[tokio::test]
async fn rules_open_tickets_that_close_and_reopen_with_scans() {
    for db in testing::both().await {
        let backend = db.store.backend().name();
        let data = tempfile::tempdir().unwrap();
        let p = platform(db.store.clone(), data.path(), &["v1", "v2"]);
        let token = auth::bootstrap(&p.store, None, p.now()).await.unwrap().unwrap();
        let admin = auth::authenticate(&p, &token).await.unwrap();
        let mut tx = p.store.write().await.unwrap();
        let red = accounts::create_team(&mut tx, "red", p.now()).await.unwrap();
        let alice = accounts::create_user(&mut tx, "alice", None, Role::Analyst, p.now()).await.unwrap();
        let vera = accounts::create_user(&mut tx, "vera", None, Role::Viewer, p.now()).await.unwrap();
        accounts::add_member(&mut tx, red.id, alice.id).await.unwrap();
        accounts::add_member(&mut tx, red.id, vera.id).await.unwrap();
        tx.commit().await.unwrap();
        let mut conn = p.store.read().await.unwrap();
        let alice = actor(&accounts::user(&mut conn, alice.id).await.unwrap(), Role::Analyst);
        let vera = actor(&accounts::user(&mut conn, vera.id).await.unwrap(), Role::Viewer);
        drop(conn);
        let (v, _) = vulndb::refresh(&p).await.unwrap();
        vulndb::start_rematch(&p, &v, "first").await.unwrap();
        run_jobs(&p).await;

        // flask 2.2.2 has CVE-2023-30861 (high, fix available); jinja2 2.11.2 has
        // CVE-2020-28493 (v2, medium).
        let vulnerable = || upload("shop", vec![pypi("flask", "2.2.2"), pypi("jinja2", "2.11.2")]);
        ingest::ingest(&p, &alice, vulnerable(), "upload").await.unwrap();

        // A viewer may not make rules; a bad query is refused at its column.
        assert!(matches!(tickets::dry_run(&p, &vera, &rule("severity>=high")).await, Err(Error::Forbidden(_))));
        assert!(matches!(tickets::dry_run(&p, &alice, &rule("severity>=hihg")).await, Err(Error::Query(_))));

        // The dry run shows what the rule would open, and saves nothing.
        let preview =
            tickets::dry_run(&p, &alice, &rule("severity>=high and fix:available and tag:prod")).await.unwrap();
        assert_eq!(preview.len(), 1, "{backend}: {preview:#?}");
        assert_eq!(preview[0].title, "Upgrade flask 2.2.2 on shop");
        assert_eq!(preview[0].severity, "high");
        assert!(tickets::list(&p, &alice, None, None, 50).await.unwrap().is_empty());

        // Saved, it opens that ticket for red (alice's only team).
        let saved =
            tickets::create_rule(&p, &alice, &rule("severity>=high and fix:available and tag:prod")).await.unwrap();
        // Its tickets for what matches now are opened by a job.
        run_jobs(&p).await;
        assert_eq!(saved.team_id, Some(red.id));
        let open = tickets::list(&p, &alice, Some("open"), None, 50).await.unwrap();
        assert_eq!(open.len(), 1, "{backend}");
        let ticket = &open[0];
        assert_eq!((ticket.findings, ticket.findings_open, ticket.severity.as_str()), (1, 1, "high"));
        assert_eq!(ticket.assignee_team_id, Some(red.id));
        // Due when its finding's SLA runs out: high, 30 days after it was first seen.
        let first_seen = tickets::get(&p, &alice, ticket.id).await.unwrap().findings[0].first_seen;
        assert_eq!(ticket.due_at, Some(first_seen + 30 * 86_400), "{backend}");
        assert!(tickets::list(&p, &admin, None, None, 50).await.unwrap().len() == 1);

        // The same scan again changes nothing; the fixed version closes the ticket,
        // naming the scan that proved it.
        p.clock.advance(60);
        ingest::ingest(&p, &alice, vulnerable(), "upload").await.unwrap();
        assert_eq!(tickets::list(&p, &alice, Some("open"), None, 50).await.unwrap().len(), 1);
        p.clock.advance(60);
        let fixed = ingest::ingest(
            &p,
            &alice,
            upload("shop", vec![pypi("flask", "2.2.5"), pypi("jinja2", "2.11.2")]),
            "upload",
        )
        .await
        .unwrap();
        let detail = tickets::get(&p, &alice, ticket.id).await.unwrap();
        assert_eq!(detail.ticket.status, "closed", "{backend}: {detail:#?}");
        assert_eq!(detail.ticket.close_reason.as_deref(), Some("fixed"));
        let closing = detail.events.last().unwrap();
        assert_eq!(closing.kind, "closed");
        assert!(closing.body.contains(&format!("scan #{}", fixed.scan.id)), "{}", closing.body);

        // It comes back: the ticket reopens.
        p.clock.advance(60);
        ingest::ingest(&p, &alice, vulnerable(), "upload").await.unwrap();
        let detail = tickets::get(&p, &alice, ticket.id).await.unwrap();
        assert_eq!(detail.ticket.status, "open", "{backend}");
        assert_eq!(detail.events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["opened", "closed", "reopened"]);
        assert_eq!(tickets::list(&p, &alice, None, None, 50).await.unwrap().len(), 1, "still one ticket");

        // A false-positive decision resolves its finding: the ticket closes.
        let finding = detail.findings[0].id;
        triage::decide(
            &p,
            &alice,
            &triage::Request {
                target: triage::Target::Findings(vec![finding]),
                state: "false_positive".into(),
                justification: None,
                until: None,
                comment: "not reachable".into(),
                team: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(tickets::get(&p, &alice, ticket.id).await.unwrap().ticket.status, "closed", "{backend}");

        // People comment and reopen by hand; a viewer may not.
        let update =
            Update { status: Some("open".into()), comment: Some("we still ship 2.2.2 in the old image".into()) };
        assert!(matches!(tickets::update(&p, &vera, ticket.id, &update).await, Err(Error::Forbidden(_))));
        let reopened = tickets::update(&p, &alice, ticket.id, &update).await.unwrap();
        assert_eq!(reopened.ticket.status, "open");
        assert_eq!(reopened.events.last().unwrap().author, "alice");
        // A ticket closed by a person stays closed while its findings stay open.
        let closed = tickets::update(
            &p,
            &alice,
            ticket.id,
            &Update { status: Some("closed".into()), comment: Some("tracked elsewhere".into()) },
        )
        .await
        .unwrap();
        assert_eq!(closed.ticket.close_reason.as_deref(), Some("closed by alice"));
        p.clock.advance(60);
        ingest::ingest(&p, &alice, upload("shop", vec![pypi("flask", "2.2.3"), pypi("jinja2", "2.11.2")]), "upload")
            .await
            .unwrap();
        let still = tickets::get(&p, &alice, ticket.id).await.unwrap();
        assert_eq!(still.ticket.status, "closed", "{backend}: nothing came back after alice closed it");

        // Per-advisory grouping across assets; every change is audited.
        let per_advisory = RuleRequest { grouping: Some("advisory".into()), ..rule("package.name:jinja2") };
        let api = ingest::ingest(&p, &alice, upload("api", vec![pypi("jinja2", "2.11.2")]), "upload").await.unwrap();
        let preview = tickets::dry_run(&p, &alice, &per_advisory).await.unwrap();
        let jinja = preview.iter().find(|t| t.group_key == "advisory:CVE-2020-28493").expect("jinja2 advisory");
        assert_eq!(jinja.findings.len(), 2, "{backend}: one ticket for both assets: {preview:#?}");
        let mut conn = p.store.read().await.unwrap();
        let actions: Vec<String> = vigil_store::audit::list(
            &mut conn,
            &vigil_query::parse("").unwrap(),
            &vigil_store::Scope::All,
            &[],
            &vigil_store::Page { limit: 1000, cursor: None },
            p.now(),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.action)
        .collect();
        for action in ["ticket_rule.create", "ticket.open", "ticket.close", "ticket.reopen", "ticket.update"] {
            assert!(actions.iter().any(|a| a == action), "{backend}: {action} in {actions:?}");
        }

        // Deleting an asset closes the tickets its findings leave empty.
        let jinja = RuleRequest { name: "jinja2".into(), ..rule("package.name:jinja2") };
        tickets::create_rule(&p, &alice, &jinja).await.unwrap();
        run_jobs(&p).await;
        let open = tickets::list(&p, &alice, Some("open"), None, 50).await.unwrap();
        let on_api = open.iter().find(|t| t.title == "Upgrade jinja2 2.11.2 on api").expect("a ticket on api");
        vigil_platform::admin::delete_asset(&p, &alice, api.asset_id).await.unwrap();
        let gone = tickets::get(&p, &alice, on_api.id).await.unwrap();
        assert_eq!((gone.ticket.status.as_str(), gone.ticket.close_reason.as_deref()), ("closed", Some("gone")));
        assert!(gone.events.last().unwrap().body.contains("deletion of asset api"), "{backend}");
    }
}

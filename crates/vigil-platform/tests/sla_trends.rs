//! SLAs and trends on both backends, over a history built through the real
//! ingest path with the test clock: scans of two assets over several days
//! in which configuration findings appear, get fixed and come back.

use std::path::Path;

use vigil_core::inventory::Inventory;
use vigil_platform::ingest::{AssetSpec, Upload};
use vigil_platform::results::CheckResult;
use vigil_platform::sla::{self, Policy};
use vigil_platform::{Actor, Config, Platform, auth, ingest, read, tags};
use vigil_store::model::{Finding, Role};
use vigil_store::{Page, Scope, accounts, testing};

const DAY: i64 = 86_400;

fn platform(store: vigil_store::Store, data: &Path) -> Platform {
    Platform::new(store, Config::new(data.to_path_buf()))
}

/// A configuration finding: `rule` at `/etc/app.conf`, of `severity`.
fn result(rule: &str, severity: &str) -> CheckResult {
    CheckResult {
        source: "config".into(),
        rule: rule.into(),
        title: format!("{rule} is misconfigured"),
        severity: severity.into(),
        location: "/etc/app.conf".into(),
        key: None,
        line: None,
        layer: None,
        cwe: None,
        cvss: None,
        remediation: None,
        evidence: None,
        references: Vec::new(),
    }
}

/// A full configuration scan of `asset` (team `team`, tagged `tags`) that found `found`.
fn scan(asset: &str, team: &str, tags: &[&str], found: &[(&str, &str)]) -> Upload {
    Upload {
        asset: AssetSpec {
            name: asset.into(),
            kind: Some("host".into()),
            team: Some(team.into()),
            ..AssetSpec::default()
        },
        tags: tags.iter().map(|t| t.to_string()).collect(),
        full: true,
        scanner: Some("vigil test".into()),
        inventory: Inventory { target: "/".into(), ..Inventory::default() },
        results: found.iter().map(|(rule, severity)| result(rule, severity)).collect(),
        covers: Some(vec!["config".into()]),
        findings: None,
    }
}

fn member(user: &vigil_store::model::User) -> Actor {
    Actor {
        user_id: Some(user.id),
        name: user.username.clone(),
        role: Role::Analyst,
        scope: Scope::Teams(user.teams.clone()),
        address: None,
        request_id: None,
    }
}

struct World {
    p: Platform,
    admin: Actor,
    red: Actor,
    blue: Actor,
}

async fn world(store: vigil_store::Store, data: &Path) -> World {
    let p = platform(store, data);
    let token = auth::bootstrap(&p.store, None, p.now()).await.unwrap().unwrap();
    let admin = auth::authenticate(&p, &token).await.unwrap();
    let mut tx = p.store.write().await.unwrap();
    let red = accounts::create_team(&mut tx, "red", p.now()).await.unwrap();
    let blue = accounts::create_team(&mut tx, "blue", p.now()).await.unwrap();
    let alice = accounts::create_user(&mut tx, "alice", None, Role::Analyst, p.now()).await.unwrap();
    let bob = accounts::create_user(&mut tx, "bob", None, Role::Analyst, p.now()).await.unwrap();
    accounts::add_member(&mut tx, red.id, alice.id).await.unwrap();
    accounts::add_member(&mut tx, blue.id, bob.id).await.unwrap();
    tx.commit().await.unwrap();
    let mut conn = p.store.read().await.unwrap();
    let red = member(&accounts::user(&mut conn, alice.id).await.unwrap());
    let blue = member(&accounts::user(&mut conn, bob.id).await.unwrap());
    drop(conn);
    World { p, admin, red, blue }
}

async fn search(p: &Platform, who: &Actor, query: &str) -> Vec<Finding> {
    let search = read::Search { query: query.into(), sort: "id".into(), page: Page { limit: 1000, cursor: None } };
    read::findings(p, who, &search, None).await.unwrap().items
}

fn titles(findings: &[Finding]) -> Vec<String> {
    let mut out: Vec<String> =
        findings.iter().map(|f| f.title.clone().unwrap_or_default().replace(" is misconfigured", "")).collect();
    out.sort();
    out
}

fn by_title<'a>(findings: &'a [Finding], rule: &str) -> &'a Finding {
    findings.iter().find(|f| f.title.as_deref() == Some(&format!("{rule} is misconfigured"))).unwrap()
}

#[tokio::test]
async fn due_dates_overrides_and_breaches() {
    for db in testing::both().await {
        let backend = db.store.backend().name();
        let data = tempfile::tempdir().unwrap();
        let World { p, admin, red, blue } = world(db.store.clone(), data.path()).await;
        let t0 = p.now();

        ingest::ingest(
            &p,
            &admin,
            scan("shop", "red", &["prod"], &[("A", "critical"), ("B", "high"), ("C", "low"), ("D", "none")]),
            "upload",
        )
        .await
        .unwrap();
        ingest::ingest(&p, &admin, scan("lab", "blue", &["dev"], &[("E", "critical")]), "upload").await.unwrap();

        // The defaults: critical 7 days, high 30, low 180, negligible none.
        assert_eq!(Policy::load(&p).await.unwrap(), Policy::default(), "{backend}");
        let all = search(&p, &admin, "").await;
        let due = |f: &[Finding], rule: &str| by_title(f, rule).due_at.map(|d| (d - t0) / DAY);
        assert_eq!(
            [due(&all, "A"), due(&all, "B"), due(&all, "C"), due(&all, "D"), due(&all, "E")],
            [Some(7), Some(30), Some(180), None, Some(7)],
            "{backend}"
        );
        assert_eq!(by_title(&all, "A").sla, "within");
        assert_eq!(by_title(&all, "D").sla, "none");

        // Only an administrator changes the policy; prod gets 3 days for criticals, pci 1.
        let mut policy = Policy::default();
        policy.tags.insert("prod".into(), [("critical".to_string(), 3)].into());
        policy.tags.insert("pci".into(), [("critical".to_string(), 1), ("high".to_string(), 60)].into());
        assert!(matches!(sla::set(&p, &red, &policy).await, Err(vigil_platform::Error::Forbidden(_))));
        assert_eq!(sla::set(&p, &admin, &policy).await.unwrap(), policy);
        assert_eq!(sla::get(&p, &blue).await.unwrap(), policy);
        let all = search(&p, &admin, "").await;
        assert_eq!([due(&all, "A"), due(&all, "B"), due(&all, "E")], [Some(3), Some(30), Some(7)], "{backend}");
        let mut conn = p.store.read().await.unwrap();
        let audit = vigil_store::audit::list(
            &mut conn,
            &vigil_query::parse("action:sla.update").unwrap(),
            &Scope::All,
            &[],
            &Page { limit: 10, cursor: None },
            p.now(),
        )
        .await
        .unwrap();
        drop(conn);
        assert_eq!(audit.items.len(), 1, "{backend}");
        assert_eq!(audit.items[0].actor, admin.name);

        // A second tag with an override: the strictest wins (pci: 1 day), for
        // the severities it overrides (high: 60 days even though prod has none).
        let shop = by_title(&all, "A").asset_id;
        tags::set_on_assets(&p, &red, "pci", &[shop], true).await.unwrap();
        let all = search(&p, &admin, "").await;
        assert_eq!([due(&all, "A"), due(&all, "B"), due(&all, "C")], [Some(1), Some(60), Some(180)], "{backend}");
        let a = by_title(&all, "A");
        let lead_view = policy.due_at("critical", &["prod".into(), "pci".into()], a.first_seen);
        assert_eq!(a.due_at, lead_view, "the stored due date is the one Policy::due_at gives");

        // Two days on, A is breached; nothing else is.
        p.clock.advance(2 * DAY);
        assert_eq!(titles(&search(&p, &admin, "sla:breached").await), ["A"], "{backend}");
        assert_eq!(by_title(&search(&p, &admin, "").await, "A").sla, "breached");
        let breaches = sla::breaches(&p, "", (t0, t0 + 2 * DAY), &Page::default()).await.unwrap();
        assert_eq!(titles(&breaches.items), ["A"], "{backend}");
        // (from, to]: a due date equal to `from` was announced by the previous window.
        let due_a = by_title(&breaches.items, "A").due_at.unwrap();
        assert!(sla::breaches(&p, "", (due_a, t0 + 2 * DAY), &Page::default()).await.unwrap().items.is_empty());
        assert_eq!(sla::breaches(&p, "", (due_a - 1, due_a), &Page::default()).await.unwrap().items.len(), 1);
        assert!(sla::breaches(&p, "tag:dev", (t0, t0 + 2 * DAY), &Page::default()).await.unwrap().items.is_empty());

        // Eight days on, lab's critical (7 days) is breached too; each team sees its own.
        p.clock.advance(6 * DAY);
        assert_eq!(titles(&search(&p, &admin, "sla:breached").await), ["A", "E"], "{backend}");
        assert_eq!(titles(&search(&p, &red, "sla:breached").await), ["A"], "{backend}");
        assert_eq!(titles(&search(&p, &blue, "sla:breached").await), ["E"], "{backend}");
        let breaches = sla::breaches(&p, "", (t0 + 2 * DAY, p.now()), &Page::default()).await.unwrap();
        assert_eq!(titles(&breaches.items), ["E"], "{backend}");
        assert_eq!(titles(&search(&p, &admin, "sla:within").await), ["B", "C"], "{backend}");
        assert_eq!(titles(&search(&p, &admin, "sla:none").await), ["D"], "{backend}");
        let soon = vigil_core::time::rfc3339(t0 + 61 * DAY);
        assert_eq!(titles(&search(&p, &admin, &format!("due<\"{soon}\"")).await), ["A", "B", "E"], "{backend}");
        assert_eq!(titles(&search(&p, &admin, "sla in (breached, none)").await), ["A", "D", "E"], "{backend}");

        // Shop is rescanned without A (fixed late) and B (fixed in time).
        ingest::ingest(&p, &admin, scan("shop", "red", &["prod"], &[("C", "low"), ("D", "none")]), "upload")
            .await
            .unwrap();
        assert_eq!(titles(&search(&p, &admin, "sla:missed").await), ["A"], "{backend}");
        assert_eq!(titles(&search(&p, &admin, "sla:met").await), ["B"], "{backend}");
        assert_eq!(titles(&search(&p, &admin, "sla:breached").await), ["E"], "{backend}");

        // Renaming the pci tag takes its override away: A is back to prod's 3 days.
        let mut conn = p.store.read().await.unwrap();
        let pci = vigil_store::assets::tag_by_name(&mut conn, "pci").await.unwrap().unwrap();
        drop(conn);
        let rename = tags::TagRequest { name: Some("pci-dss".into()), ..Default::default() };
        tags::update(&p, &admin, pci.id, &rename).await.unwrap();
        let all = search(&p, &admin, "").await;
        assert_eq!([due(&all, "A"), due(&all, "B")], [Some(3), Some(30)], "{backend}");

        // A severity without an SLA can be given one.
        let mut policy = Policy::default();
        policy.days.insert("none".into(), 365);
        sla::set(&p, &admin, &policy).await.unwrap();
        assert_eq!(due(&search(&p, &admin, "").await, "D"), Some(365), "{backend}");
        let mut bad = Policy::default();
        bad.days.insert("critical".into(), 0);
        assert!(matches!(sla::set(&p, &admin, &bad).await, Err(vigil_platform::Error::Invalid(_))));
    }
}

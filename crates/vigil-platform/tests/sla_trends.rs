//! SLAs and trends on both backends, over a history built through the real
//! ingest path with the test clock: scans of two assets over several days
//! in which configuration findings appear, get fixed and come back.

mod common;

use std::path::Path;
use vigil_core::inventory::Inventory;
use vigil_platform::ingest::{AssetSpec, Upload};
use vigil_platform::results::CheckResult;
use vigil_platform::sla::{self, Policy};

use vigil_platform::jobs;
use vigil_platform::trends::{self, Trends};
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

/// The trend-relevant parts of an answer (everything but the query and source).
fn shape(t: &Trends) -> String {
    serde_json::to_string(&(&t.from, &t.to, &t.open, &t.weekly, &t.remediation, &t.sla)).unwrap()
}

async fn trend(p: &Platform, who: &Actor, query: &str, from: i64, to: i64) -> Trends {
    let request = trends::Request::new(query, Some(&day(from)), Some(&day(to)), None, p.now()).unwrap();
    trends::trends(p, who, &request).await.unwrap()
}

/// Days to a thousandth: the scans of one test day run a moment apart on the real clock.
fn millidays(days: f64) -> f64 {
    (days * 1000.0).round() / 1000.0
}

fn day(at: i64) -> String {
    vigil_core::time::rfc3339(at)[..10].to_string()
}

async fn stored_snapshots(p: &Platform, from: i64, until: i64) -> Vec<vigil_store::trends::DayRow> {
    let mut conn = p.store.read().await.unwrap();
    let mut rows = Vec::new();
    for tag in ["", "prod", "dev"] {
        rows.extend(
            vigil_store::trends::snapshots(&mut conn, tag, &[0, 1, 2, 3, 4, 5], &Scope::All, (from, until))
                .await
                .unwrap(),
        );
    }
    rows
}

#[tokio::test]
async fn trends_from_daily_snapshots_and_from_history() {
    for db in testing::both().await {
        let backend = db.store.backend().name();
        let data = tempfile::tempdir().unwrap();
        let World { p, admin, red, blue } = world(db.store.clone(), data.path()).await;
        // Day 0 is a Monday (UTC); every scan runs at 01:00.
        let today = p.now().div_euclid(DAY);
        let to_monday = match (7 - (today + 3).rem_euclid(7)) % 7 {
            0 => 7,
            n => n,
        };
        p.clock.advance((today + to_monday) * DAY + 3600 - p.now());
        let d0 = p.now().div_euclid(DAY) * DAY;
        let days = [
            (0, vec![("A", "critical"), ("B", "high"), ("C", "medium")], vec![("E", "critical")]),
            (1, vec![("A", "critical"), ("B", "high"), ("C", "medium"), ("F", "low")], vec![("E", "critical")]),
            (3, vec![("B", "high"), ("F", "low")], vec![("E", "critical")]),
            (5, vec![("A", "critical"), ("B", "high"), ("F", "low")], vec![("E", "critical"), ("G", "high")]),
            (9, vec![("B", "high")], vec![("E", "critical"), ("H", "low")]),
        ];
        let mut at = 0;
        for (n, shop, lab) in days {
            // Each day that ended is snapshotted, as the daily job does.
            while at < n {
                p.clock.advance(DAY);
                at += 1;
                if at % 2 == 0 {
                    let mut tx = p.store.write().await.unwrap();
                    jobs::enqueue(&mut tx, "trends.snapshot", serde_json::json!({}), None, None, p.now())
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    assert_eq!(common::run_jobs(&p).await, 1);
                } else {
                    trends::record(&p, false, None).await.unwrap();
                }
            }
            ingest::ingest(&p, &admin, scan("shop", "red", &["prod"], &shop), "upload").await.unwrap();
            ingest::ingest(&p, &admin, scan("lab", "blue", &["dev"], &lab), "upload").await.unwrap();
        }
        p.clock.advance(DAY);
        let run = trends::record(&p, false, None).await.unwrap();
        assert_eq!((run.days, run.from.clone()), (1, Some(day(d0 + 9 * DAY))), "{backend}");
        let (from, to) = (d0, d0 + 9 * DAY);

        // Everything, from the snapshots.
        let all = trend(&p, &admin, "", from, to).await;
        assert_eq!(all.source, "snapshots", "{backend}");
        let open: Vec<i64> = all.open.iter().map(|d| d.open).collect();
        assert_eq!(open, [4, 5, 5, 3, 3, 5, 5, 5, 5, 3], "{backend}");
        let overdue: Vec<i64> = all.open.iter().map(|d| d.overdue).collect();
        assert_eq!(overdue, [0, 0, 0, 0, 0, 0, 0, 2, 2, 1], "{backend}");
        let last = all.open.last().unwrap();
        assert_eq!(last.within_sla, 2);
        assert_eq!(
            last.by_severity,
            [("critical".to_string(), 1), ("high".to_string(), 1), ("low".to_string(), 1)].into()
        );
        let weeks: Vec<(String, i64, i64, i64)> =
            all.weekly.iter().map(|w| (w.week.clone(), w.new, w.reopened, w.fixed)).collect();
        assert_eq!(weeks, [(day(d0), 6, 1, 2), (day(d0 + 7 * DAY), 1, 0, 3)], "{backend}");
        let mttr: Vec<(String, i64, Option<f64>)> =
            all.remediation.iter().map(|r| (r.severity.clone(), r.fixed, r.mean_days.map(millidays))).collect();
        assert_eq!(
            mttr,
            [
                ("critical".into(), 2, Some(3.5)),
                ("high".into(), 1, Some(4.0)),
                ("medium".into(), 1, Some(3.0)),
                ("low".into(), 1, Some(8.0)),
                ("all".into(), 5, Some(4.4)),
            ],
            "{backend}"
        );
        let sla: Vec<(String, i64, i64, i64, i64)> = all
            .sla
            .iter()
            .map(|c| (c.severity.clone(), c.fixed_on_time, c.fixed_late, c.open_within, c.open_overdue))
            .collect();
        assert_eq!(
            sla,
            [
                ("critical".into(), 1, 1, 0, 1),
                ("high".into(), 1, 0, 1, 0),
                ("medium".into(), 1, 0, 0, 0),
                ("low".into(), 1, 0, 1, 0),
                ("all".into(), 4, 1, 2, 1),
            ],
            "{backend}"
        );
        let total = all.sla.last().unwrap();
        assert_eq!((total.fixed_on_time_share, total.open_within_share), (Some(0.8), Some(2.0 / 3.0)));

        // Any other query is answered from the history, with the same numbers.
        let history = trend(&p, &admin, "source:config", from, to).await;
        assert_eq!(history.source, "history", "{backend}");
        assert_eq!(shape(&history), shape(&all), "{backend}");
        let a = trend(&p, &admin, "title:\"A is misconfigured\"", from, to).await;
        assert_eq!(a.open.iter().map(|d| d.open).collect::<Vec<_>>(), [1, 1, 1, 0, 0, 1, 1, 1, 1, 0], "{backend}");
        assert_eq!(a.remediation.last().unwrap().mean_days.map(millidays), Some(3.5));

        // A tag from the snapshots equals the same from the history.
        let prod = trend(&p, &admin, "tag:prod", from, to).await;
        assert_eq!(prod.source, "snapshots");
        let prod_history = trend(&p, &admin, "tag:prod and source:config", from, to).await;
        assert_eq!(shape(&prod), shape(&prod_history), "{backend}");
        assert_eq!(prod.open.iter().map(|d| d.open).collect::<Vec<_>>(), [3, 4, 4, 2, 2, 3, 3, 3, 3, 1]);
        let high = trend(&p, &admin, "severity>=high and tag:dev", from, to).await;
        assert_eq!(high.open.iter().map(|d| d.open).collect::<Vec<_>>(), [1, 1, 1, 1, 1, 2, 2, 2, 2, 1]);

        // Each team sees its own: red has the shop, blue the lab.
        let mine = trend(&p, &red, "", from, to).await;
        assert_eq!(shape(&mine), shape(&prod), "{backend}");
        let theirs = trend(&p, &blue, "", from, to).await;
        assert_eq!(theirs.open.iter().map(|d| d.open).collect::<Vec<_>>(), [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
        assert_eq!(
            shape(&trend(&p, &blue, "tag:prod", from, to).await),
            shape(&trend(&p, &blue, "tag:nothing", from, to).await)
        );
        assert_eq!(
            trend(&p, &blue, "tag:prod and source:config", from, to).await.open.iter().map(|d| d.open).sum::<i64>(),
            0
        );

        // Today is not snapshotted yet: the history answers it.
        let today = trend(&p, &admin, "", from, to + DAY).await;
        assert_eq!(today.source, "snapshots+history");
        assert_eq!(today.open.last().unwrap().open, 3);

        // A backfill (the feature turned on over an existing history, or a
        // rebuild) records exactly what the daily runs recorded.
        let daily = stored_snapshots(&p, d0 - DAY, d0 + 10 * DAY).await;
        assert!(!daily.is_empty());
        assert!(matches!(trends::request_rebuild(&p, &red).await, Err(vigil_platform::Error::Forbidden(_))));
        trends::request_rebuild(&p, &admin).await.unwrap();
        assert_eq!(common::run_jobs(&p).await, 1);
        assert_eq!(stored_snapshots(&p, d0 - DAY, d0 + 10 * DAY).await, daily, "{backend}");

        // Requests are checked.
        assert!(
            trends::trends(&p, &admin, &trends::Request { query: "sevrity:high".into(), from, until: to })
                .await
                .is_err()
        );
    }
}

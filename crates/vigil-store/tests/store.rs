//! The store on both backends: every statement runs on SQLite and on
//! PostgreSQL (when it answers; see `vigil_store::testing`).

use vigil_query::parse;
use vigil_store::findings::{Change, Decision, Observed};
use vigil_store::jobs::NewJob;
use vigil_store::model::{AssetAttributes, InventoryPackage, Role};
use vigil_store::{Backend, Error, Page, Scope, accounts, assets, audit, findings, jobs, scans, testing, vulndb};

fn observed(key: &str, package: &str, severity: i64) -> Observed {
    Observed {
        identity: format!("{key}|{package}"),
        source: "package".into(),
        vuln_key: key.into(),
        vuln_ids: vec![key.into(), format!("GHSA-{key}")],
        title: Some(format!("{key} in {package}")),
        package: Some((package.into(), "1.0".into(), "npm".into(), format!("pkg:npm/{package}@1.0"))),
        location: "/app/package-lock.json".into(),
        layer: None,
        severity,
        severity_source: Some("CVSS_V3".into()),
        cvss: Some(7.5),
        cvss_vector: None,
        epss: None,
        kev: severity == 5,
        kev_added: None,
        fix: "available".into(),
        fixed_versions: vec!["1.1".into()],
        risk: 1.0,
        details: Some("{\"matched\":true}".into()),
        observed_hash: format!("h-{key}-{severity}"),
    }
}

#[tokio::test]
async fn the_whole_store_on_both_backends() {
    for db in testing::both().await {
        let store = &db.store;
        let backend = store.backend().name();
        let now = 1_700_000_000;

        // Accounts.
        let mut tx = store.write().await.unwrap();
        let red = accounts::create_team(&mut tx, "red", now).await.unwrap();
        let blue = accounts::create_team(&mut tx, "blue", now).await.unwrap();
        tx.commit().await.unwrap();
        // A failed statement ends its transaction (on PostgreSQL), so it gets one of its own.
        let mut tx = store.write().await.unwrap();
        assert!(matches!(accounts::create_team(&mut tx, "red", now).await, Err(Error::Conflict(_))), "{backend}");
        drop(tx);
        let mut tx = store.write().await.unwrap();
        let alice = accounts::create_user(&mut tx, "alice", Some("$argon2id$x"), Role::Analyst, now).await.unwrap();
        accounts::add_member(&mut tx, red.id, alice.id).await.unwrap();
        accounts::add_member(&mut tx, red.id, alice.id).await.unwrap();
        let token = accounts::create_token(
            &mut tx,
            &accounts::NewToken {
                user_id: alice.id,
                name: "ci",
                kind: "api",
                prefix: "abc123",
                secret_hash: "hash",
                role: Role::Ci,
                expires_at: None,
            },
            now,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut conn = store.read().await.unwrap();
        let grant = accounts::grant(&mut conn, "abc123").await.unwrap().unwrap();
        assert_eq!(
            (grant.role, grant.user_role, grant.teams.clone()),
            (Role::Ci, Role::Analyst, vec![red.id]),
            "{backend}"
        );
        assert!(accounts::grant(&mut conn, "nope").await.unwrap().is_none());
        let user = accounts::user(&mut conn, alice.id).await.unwrap();
        assert!(user.has_password && !user.disabled, "{backend}");
        assert_eq!(accounts::tokens(&mut conn, Some(alice.id)).await.unwrap().len(), 1);
        assert_eq!(accounts::tokens(&mut conn, None).await.unwrap()[0].id, token.id);
        drop(conn);

        // Assets with attributes and tags.
        let mut tx = store.write().await.unwrap();
        let attrs = AssetAttributes {
            os: Some("debian".into()),
            os_release: Some("12".into()),
            hostnames: Some(vec!["web-1".into()]),
            labels: Some([("env".to_string(), "prod".to_string())].into()),
            ..Default::default()
        };
        let (web, created) = assets::upsert(&mut tx, red.id, "image", "web:1", &attrs, now).await.unwrap();
        assert!(created);
        let (again, created) =
            assets::upsert(&mut tx, red.id, "image", "web:1", &AssetAttributes::default(), now).await.unwrap();
        assert_eq!((again, created), (web, false), "{backend}");
        assets::upsert(&mut tx, blue.id, "host", "db-1", &AssetAttributes::default(), now).await.unwrap();
        let prod = assets::create_tag(&mut tx, "prod", None, Some("production"), now).await.unwrap();
        assets::add_tag(&mut tx, prod.id, &[web]).await.unwrap();
        let debian = assets::create_tag(&mut tx, "debian", Some("os:debian"), None, now).await.unwrap();
        let members = assets::matching_ids(&mut tx, &parse("os:debian").unwrap(), None, now).await.unwrap();
        assert_eq!(members, vec![web]);
        assert_eq!(assets::set_dynamic_members(&mut tx, debian.id, &members, None).await.unwrap(), (1, 0));
        tx.commit().await.unwrap();

        let mut conn = store.read().await.unwrap();
        let asset = assets::get(&mut conn, web, &Scope::Teams(vec![red.id])).await.unwrap();
        assert_eq!(asset.hostnames, ["web-1"]);
        assert_eq!(asset.labels["env"], "prod");
        assert_eq!(asset.tags.len(), 2, "{backend}: {:?}", asset.tags);
        assert!(matches!(assets::get(&mut conn, web, &Scope::Teams(vec![blue.id])).await, Err(Error::NotFound(_))));
        let page = assets::list(
            &mut conn,
            &parse("label.env:prod and tag:prod").unwrap(),
            &Scope::All,
            &[],
            &Page::default(),
            now,
        )
        .await
        .unwrap();
        assert_eq!(page.items.iter().map(|a| a.id).collect::<Vec<_>>(), [web], "{backend}");
        assert_eq!(assets::count(&mut conn, &parse("").unwrap(), &Scope::Teams(vec![blue.id]), now).await.unwrap(), 1);
        drop(conn);

        // An inventory, a scan and findings.
        let packages: Vec<InventoryPackage> = (0..1000)
            .map(|i| InventoryPackage {
                name: format!("pkg{i}"),
                version: "1.0".into(),
                ecosystem: "npm".into(),
                purl: format!("pkg:npm/pkg{i}@1.0"),
                path: "/app/package-lock.json".into(),
                layer: (i % 2 == 0).then(|| "sha256:aa".to_string()),
            })
            .collect();
        let mut tx = store.write().await.unwrap();
        assert!(scans::put_inventory(&mut tx, "sha256:inv", b"body", &packages, now).await.unwrap());
        assert!(!scans::put_inventory(&mut tx, "sha256:inv", b"body", &packages, now).await.unwrap());
        let scan = scans::create_scan(
            &mut tx,
            &scans::NewScan { asset_id: web, kind: "upload".into(), full: true, ..Default::default() },
            now,
        )
        .await
        .unwrap();
        let a = observed("CVE-1", "pkg1", 4);
        let b = observed("CVE-2", "pkg2", 5);
        let change = Change { at: now, reason: "scan", scan: Some(scan), vulndb_version: Some("v1") };
        let ids = findings::insert(&mut tx, web, red.id, &[&a, &b], "new", change).await.unwrap();
        assert_eq!(ids.len(), 2);
        findings::add_aliases(&mut tx, &[("CVE-1".into(), "CVE-1".into()), ("GHSA-CVE-1".into(), "CVE-1".into())])
            .await
            .unwrap();
        scans::finish_scan(
            &mut tx,
            scan,
            scans::ScanCounts { open: 2, new: 2, fixed: 0, reopened: 0 },
            Some((web, Some("sha256:inv"), now)),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let mut conn = store.read().await.unwrap();
        let inv = scans::inventory_packages(&mut conn, "sha256:inv", &Page { limit: 600, cursor: None }).await.unwrap();
        assert_eq!(inv.items.len(), 600);
        let rest =
            scans::inventory_packages(&mut conn, "sha256:inv", &Page { limit: 600, cursor: inv.next }).await.unwrap();
        assert_eq!((rest.items.len(), rest.next.is_none(), rest.items[0].name.as_str()), (400, true, "pkg600"));
        assert_eq!(rest.items[0].layer.as_deref(), Some("sha256:aa"));
        assert_eq!(rest.items[1].layer, None);
        let assets_with =
            assets::list(&mut conn, &parse("package.name:pkg99*").unwrap(), &Scope::All, &[], &Page::default(), now)
                .await
                .unwrap();
        assert_eq!(assets_with.items.len(), 1, "{backend}");

        let by_alias = findings::list(
            &mut conn,
            &parse("advisory:GHSA-CVE-1 and tag:prod and asset.os:deb*").unwrap(),
            &Scope::Teams(vec![red.id]),
            None,
            &[],
            &Page::default(),
            now,
        )
        .await
        .unwrap();
        assert_eq!(by_alias.items.len(), 1, "{backend}");
        let f = &by_alias.items[0];
        assert_eq!((f.advisory.as_str(), f.severity.as_str(), f.status.as_str()), ("CVE-1", "high", "new"));
        assert_eq!(f.package.as_ref().unwrap().purl.as_deref(), Some("pkg:npm/pkg1@1.0"));
        assert_eq!((f.cvss, f.epss, f.layer.clone()), (Some(7.5), None, None), "{backend}");
        assert_eq!(f.details.as_ref().unwrap()["matched"], true);
        assert_eq!(f.triage.state, "open");
        // Another team sees nothing, counts included.
        let hidden = &Scope::Teams(vec![blue.id]);
        assert_eq!(findings::count(&mut conn, &parse("").unwrap(), hidden, now).await.unwrap(), 0);
        assert_eq!(findings::group(&mut conn, &parse("").unwrap(), hidden, "severity", 10, now).await.unwrap(), vec![]);
        let mut groups =
            findings::group(&mut conn, &parse("").unwrap(), &Scope::All, "severity", 10, now).await.unwrap();
        groups.sort();
        assert_eq!(groups, vec![("critical".to_string(), 1), ("high".to_string(), 1)], "{backend}");
        let kev = findings::group(&mut conn, &parse("").unwrap(), &Scope::All, "kev", 10, now).await.unwrap();
        assert_eq!(kev, vec![("false".to_string(), 1), ("true".to_string(), 1)], "{backend}");
        // Keyset paging in severity order.
        let sort = vigil_query::parse_sort("severity:desc", &vigil_store::catalogs::FINDINGS).unwrap();
        let first = findings::list(
            &mut conn,
            &parse("").unwrap(),
            &Scope::All,
            None,
            &sort,
            &Page { limit: 1, cursor: None },
            now,
        )
        .await
        .unwrap();
        assert_eq!(first.items[0].advisory, "CVE-2");
        let second = findings::list(
            &mut conn,
            &parse("").unwrap(),
            &Scope::All,
            None,
            &sort,
            &Page { limit: 1, cursor: first.next },
            now,
        )
        .await
        .unwrap();
        assert_eq!((second.items[0].advisory.as_str(), second.next.is_none()), ("CVE-1", true), "{backend}");
        assert!(matches!(
            findings::list(
                &mut conn,
                &parse("").unwrap(),
                &Scope::All,
                None,
                &sort,
                &Page { limit: 1, cursor: Some("00".into()) },
                now
            )
            .await,
            Err(Error::Invalid(_))
        ));
        let current = findings::current(&mut conn, web, "package").await.unwrap();
        assert_eq!(current.len(), 2);
        drop(conn);

        // Status changes, observation refresh, triage.
        let id_a = ids["CVE-1|pkg1"];
        let mut tx = store.write().await.unwrap();
        let later = Change { at: now + 60, reason: "scan", scan: None, vulndb_version: None };
        findings::set_status(&mut tx, web, &[(id_a, "new")], "fixed", later).await.unwrap();
        findings::touch(&mut tx, &[ids["CVE-2|pkg2"]], now + 60).await.unwrap();
        let mut changed = observed("CVE-1", "pkg1", 5);
        changed.epss = Some(0.5);
        findings::refresh(&mut tx, id_a, &changed, Some("v2")).await.unwrap();
        let decision = Decision {
            state: "risk_accepted".into(),
            justification: None,
            until: Some(now + 100),
            comment: "later".into(),
            by: "alice".into(),
            at: now,
        };
        findings::set_triage(&mut tx, &[id_a], &decision, None).await.unwrap();
        tx.commit().await.unwrap();
        let mut conn = store.read().await.unwrap();
        let f = findings::get(&mut conn, id_a, &Scope::All, 0).await.unwrap();
        assert_eq!(
            (f.status.as_str(), f.fixed_at, f.severity.as_str(), f.epss),
            ("fixed", Some(now + 60), "critical", Some(0.5))
        );
        assert_eq!((f.triage.state.as_str(), f.triage.until), ("risk_accepted", Some(now + 100)), "{backend}");
        let events = findings::events(&mut conn, id_a).await.unwrap();
        assert_eq!(
            events.iter().map(|e| (e.from.clone(), e.to.clone())).collect::<Vec<_>>(),
            [(None, "new".to_string()), (Some("new".to_string()), "fixed".to_string())]
        );
        assert_eq!(events[0].scan_id, Some(scan));
        let keys = findings::keys_for(&mut conn, "GHSA-CVE-1").await.unwrap();
        let history = findings::history_for(&mut conn, &keys, &Scope::All, 0).await.unwrap();
        assert_eq!((history.len(), history[0].1.len()), (1, 2), "{backend}");
        drop(conn);
        let mut tx = store.write().await.unwrap();
        assert!(findings::expire_acceptances(&mut tx, now + 99).await.unwrap().is_empty());
        assert_eq!(findings::expire_acceptances(&mut tx, now + 100).await.unwrap(), vec![(id_a, red.id)]);
        tx.commit().await.unwrap();

        // The audit trail cannot be changed.
        let mut tx = store.write().await.unwrap();
        audit::append(
            &mut tx,
            &audit::NewEntry {
                actor: "alice".into(),
                action: "asset.update".into(),
                target_type: "asset".into(),
                target_id: Some(web.to_string()),
                team_id: Some(red.id),
                after: Some(serde_json::json!({"owner": "x"})),
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut conn = store.read().await.unwrap();
        assert!(sqlx::query("UPDATE audit SET actor = 'mallory'").execute(&mut *conn).await.is_err(), "{backend}");
        assert!(sqlx::query("DELETE FROM audit").execute(&mut *conn).await.is_err(), "{backend}");
        let entries = audit::list(
            &mut conn,
            &parse("action:asset.*").unwrap(),
            &Scope::Teams(vec![red.id]),
            &[],
            &Page::default(),
            now,
        )
        .await
        .unwrap();
        assert_eq!(entries.items.len(), 1);
        assert_eq!(entries.items[0].after.as_ref().unwrap()["owner"], "x");
        drop(conn);

        // Jobs: claims, fencing, retries, dedupe.
        let mut tx = store.write().await.unwrap();
        let job = NewJob {
            kind: "rematch".into(),
            payload: serde_json::json!({"inventory": "sha256:inv"}),
            max_attempts: 3,
            run_after: now,
            dedupe_key: Some("k".into()),
            run_id: None,
        };
        let id = jobs::enqueue(&mut tx, &job, now).await.unwrap();
        assert_eq!(jobs::enqueue(&mut tx, &job, now).await.unwrap(), id, "{backend}: dedupe");
        tx.commit().await.unwrap();
        let mut tx = store.write().await.unwrap();
        let claimed = jobs::claim(&mut tx, store.backend(), "w1", now, 30).await.unwrap().unwrap();
        assert!(jobs::claim(&mut tx, store.backend(), "w2", now, 30).await.unwrap().is_none());
        tx.commit().await.unwrap();
        // w1 dies; after its lease, w2 takes the job over.
        let mut tx = store.write().await.unwrap();
        let taken = jobs::claim(&mut tx, store.backend(), "w2", now + 31, 30).await.unwrap().unwrap();
        tx.commit().await.unwrap();
        assert_eq!((taken.id, taken.attempts), (id, 2));
        let mut tx = store.write().await.unwrap();
        assert!(
            matches!(jobs::complete(&mut tx, &claimed, "w1", now + 32).await, Err(Error::LeaseLost(_))),
            "{backend}"
        );
        drop(tx);
        let mut tx = store.write().await.unwrap();
        jobs::fail(&mut tx, &taken, "w2", "boom", Some(now + 100), now + 33).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.write().await.unwrap();
        assert!(jobs::claim(&mut tx, store.backend(), "w3", now + 99, 30).await.unwrap().is_none());
        let third = jobs::claim(&mut tx, store.backend(), "w3", now + 100, 30).await.unwrap().unwrap();
        assert!(jobs::renew(&mut tx, &third, "w3", now + 200).await.unwrap());
        jobs::complete(&mut tx, &third, "w3", now + 101).await.unwrap();
        tx.commit().await.unwrap();
        let mut conn = store.read().await.unwrap();
        let done = jobs::job(&mut conn, id).await.unwrap();
        assert_eq!((done.status.as_str(), done.attempts, done.last_error), ("done", 3, None), "{backend}");
        drop(conn);
        let mut tx = store.write().await.unwrap();
        assert_ne!(jobs::enqueue(&mut tx, &job, now).await.unwrap(), id, "a finished job frees its key");
        tx.commit().await.unwrap();

        // Advisory database versions.
        let mut tx = store.write().await.unwrap();
        assert!(vulndb::begin(&mut tx, "sha256:v1", now, 6, 2, 10, now).await.unwrap());
        vulndb::put_chunk(&mut tx, "sha256:v1", 0, b"abc").await.unwrap();
        vulndb::put_chunk(&mut tx, "sha256:v1", 1, b"def").await.unwrap();
        vulndb::set_current(&mut tx, "sha256:v1").await.unwrap();
        tx.commit().await.unwrap();
        let mut conn = store.read().await.unwrap();
        assert_eq!(vulndb::chunk(&mut conn, "sha256:v1", 1).await.unwrap(), b"def");
        assert!(vulndb::current(&mut conn).await.unwrap().unwrap().current, "{backend}");
        assert_eq!(store.backend() == Backend::Sqlite, db.url.starts_with("sqlite"));
    }
}

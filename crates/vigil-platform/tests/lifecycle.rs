//! Findings followed over time, on both backends, with real advisories:
//! uploads, fixes, regressions, advisory updates (re-match without a
//! rescan), alias merging, triage that survives rescans, exposure windows,
//! team scoping and the audit trail.

use vigil_platform::ingest::{AssetSpec, Upload};
use vigil_platform::triage::{self, Request, Target};
use vigil_platform::vulndb;
use vigil_platform::{Error, auth, exposure, ingest, vex};
use vigil_query::parse;
use vigil_store::model::Role;
use vigil_store::{Page, Scope, accounts, findings, testing};

mod common;

use common::*;

#[tokio::test]
async fn findings_over_time_on_both_backends() {
    for db in testing::both().await {
        let backend = db.store.backend().name();
        let data = tempfile::tempdir().unwrap();
        let p = platform(db.store.clone(), data.path(), &["v1"]);

        // First start: an administrator and its token.
        let token = auth::bootstrap(&p.store, None, p.now()).await.unwrap().expect("first start makes a token");
        assert!(auth::bootstrap(&p.store, None, p.now()).await.unwrap().is_none());
        let admin = auth::authenticate(&p, &token).await.unwrap();
        assert_eq!((admin.role, &admin.scope), (Role::Admin, &Scope::All));

        // Two teams with an analyst each.
        let mut tx = p.store.write().await.unwrap();
        let red = accounts::create_team(&mut tx, "red", p.now()).await.unwrap();
        let blue = accounts::create_team(&mut tx, "blue", p.now()).await.unwrap();
        let alice = accounts::create_user(&mut tx, "alice", None, Role::Analyst, p.now()).await.unwrap();
        let bob = accounts::create_user(&mut tx, "bob", None, Role::Analyst, p.now()).await.unwrap();
        accounts::add_member(&mut tx, red.id, alice.id).await.unwrap();
        accounts::add_member(&mut tx, blue.id, bob.id).await.unwrap();
        tx.commit().await.unwrap();
        let mut conn = p.store.read().await.unwrap();
        let alice = actor(&accounts::user(&mut conn, alice.id).await.unwrap(), Role::Analyst);
        let bob = actor(&accounts::user(&mut conn, bob.id).await.unwrap(), Role::Analyst);
        drop(conn);

        // Without an advisory database an upload is stored, not matched.
        let first = ingest::ingest(
            &p,
            &alice,
            upload("shop", vec![pypi("flask", "2.2.2"), pypi("jinja2", "2.11.2")]),
            "upload",
        )
        .await
        .unwrap();
        assert!(!first.matched && first.asset_created, "{backend}");

        // The first database arrives: the stored inventory is matched against it.
        let (v1, changed) = vulndb::refresh(&p).await.unwrap();
        assert!(changed && v1.starts_with("sha256:"));
        vulndb::start_rematch(&p, &v1, "advisory update").await.unwrap();
        assert_eq!(run_jobs(&p).await, 1);
        let found = open_findings(&p, &alice, "open:true").await;
        // PYSEC-2023-62 and GHSA-m2qf-hxjv-5gpq both alias CVE-2023-30861: one finding.
        assert_eq!(found.len(), 1, "{backend}: {found:#?}");
        let flask = &found[0];
        assert_eq!(flask.advisory, "CVE-2023-30861");
        assert_eq!(flask.ids, ["CVE-2023-30861", "GHSA-m2qf-hxjv-5gpq", "PYSEC-2023-62"]);
        assert_eq!((flask.severity.as_str(), flask.cvss), ("high", Some(7.5)), "the GHSA's CVSS speaks for the group");
        assert_eq!((flask.status.as_str(), flask.fix.as_str()), ("new", "available"));
        assert_eq!(flask.fixed_versions, ["2.2.5", "2.3.2"]);

        // A rescan of the same content changes nothing.
        let scanned = ingest::ingest(
            &p,
            &alice,
            upload("shop", vec![pypi("flask", "2.2.2"), pypi("jinja2", "2.11.2")]),
            "upload",
        )
        .await
        .unwrap();
        assert!(scanned.matched && !scanned.unchanged, "{backend}: matched against v1 for the first time");
        assert_eq!((scanned.counts.new, scanned.counts.open), (0, 1));
        let again = ingest::ingest(
            &p,
            &alice,
            upload("shop", vec![pypi("flask", "2.2.2"), pypi("jinja2", "2.11.2")]),
            "upload",
        )
        .await
        .unwrap();
        assert!(again.unchanged && again.scan.id == scanned.scan.id, "{backend}");
        assert_eq!(open_findings(&p, &alice, "status:active").await.len(), 1, "the second scan saw it again");

        // Bob's team sees none of it, counts included.
        assert!(open_findings(&p, &bob, "").await.is_empty());
        let mut conn = p.store.read().await.unwrap();
        assert_eq!(findings::count(&mut conn, &parse("").unwrap(), &bob.scope, p.now()).await.unwrap(), 0);
        drop(conn);
        assert!(matches!(
            ingest::ingest(
                &p,
                &bob,
                AssetSpec { team: Some("red".into()), ..upload("x", vec![]).asset }.into_upload(),
                "upload"
            )
            .await,
            Err(Error::Forbidden(_))
        ));

        // Advisory update: a new record affects the stored jinja2 2.11.2, without a rescan.
        let p2 = platform(db.store.clone(), data.path(), &["v1", "v2"]);
        p2.clock.advance(3600);
        let (v2, changed) = vulndb::refresh(&p2).await.unwrap();
        assert!(changed && v2 != v1);
        vulndb::start_rematch(&p2, &v2, "advisory update").await.unwrap();
        run_jobs(&p2).await;
        let jinja = open_findings(&p2, &alice, "package.name:jinja2").await;
        assert_eq!(jinja.len(), 1, "{backend}");
        assert_eq!((jinja[0].advisory.as_str(), jinja[0].status.as_str()), ("CVE-2020-28493", "new"));
        let mut conn = p2.store.read().await.unwrap();
        let events = findings::events(&mut conn, jinja[0].id).await.unwrap();
        assert_eq!(
            (events[0].reason.as_str(), events[0].vulndb_version.as_deref()),
            ("advisory update", Some(v2.as_str()))
        );
        drop(conn);

        // Triage of the whole advisory survives rescans.
        let outcome = triage::decide(
            &p2,
            &alice,
            &Request {
                target: Target::Advisory("GHSA-g3rq-g295-4j3m".into()),
                state: "not_affected".into(),
                justification: Some("vulnerable_code_not_in_execute_path".into()),
                until: None,
                comment: "we never render untrusted templates".into(),
                team: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(outcome.findings, vec![jinja[0].id]);

        // The fix: jinja2 upgraded and flask upgraded.
        p2.clock.advance(3600);
        let fixed = ingest::ingest(
            &p2,
            &alice,
            upload("shop", vec![pypi("flask", "2.2.5"), pypi("jinja2", "2.11.3")]),
            "upload",
        )
        .await
        .unwrap();
        assert_eq!((fixed.counts.fixed, fixed.counts.open), (2, 0), "{backend}");
        assert!(open_findings(&p2, &alice, "open:true").await.is_empty());

        // The regression: jinja2 comes back vulnerable.
        p2.clock.advance(3600);
        let back = ingest::ingest(
            &p2,
            &alice,
            upload("shop", vec![pypi("flask", "2.2.5"), pypi("jinja2", "2.11.2")]),
            "upload",
        )
        .await
        .unwrap();
        assert_eq!((back.counts.reopened, back.counts.new), (1, 0), "{backend}");
        let reopened = open_findings(&p2, &alice, "status:reopened").await;
        assert_eq!(reopened.len(), 1);
        assert_eq!(reopened[0].triage.state, "not_affected", "the decision survived");

        // A second asset with the same advisory gets the rule's decision on arrival.
        let other = ingest::ingest(&p2, &alice, upload("api", vec![pypi("jinja2", "2.10")]), "upload").await.unwrap();
        assert_eq!(other.counts.new, 2, "{backend}: CVE-2019-10906 and CVE-2020-28493");
        let api = open_findings(&p2, &alice, "asset.name:api and advisory:PYSEC-2021-66").await;
        assert_eq!(api[0].triage.state, "not_affected");
        assert!(api[0].triage.rule_id.is_some());

        // Exposure: shop exposed from the advisory update to the fix, and again since the regression.
        let exposed = exposure::exposure(&p2, &alice, "CVE-2020-28493").await.unwrap();
        assert_eq!(exposed.assets.len(), 2, "{backend}");
        let shop = exposed.assets.iter().find(|a| a.asset_name == "shop").unwrap();
        assert_eq!(shop.windows.len(), 2);
        // An hour on the test clock, plus the seconds the test itself took.
        let window = shop.windows[0].to.unwrap() - shop.windows[0].from;
        assert!((3600..3660).contains(&window), "{backend}: {shop:?}");
        assert!(shop.exposed_now && shop.windows[1].to.is_none());
        assert!(exposed.aliases.contains(&"GHSA-g3rq-g295-4j3m".to_string()));
        assert!(exposure::exposure(&p2, &bob, "CVE-2020-28493").await.unwrap().assets.is_empty());

        // The asset's triage as OpenVEX.
        let doc = vex::openvex(&p2, &alice, first.asset_id).await.unwrap();
        let statement = &doc["statements"][0];
        assert_eq!(statement["status"], "not_affected");
        assert_eq!(statement["vulnerability"]["name"], "CVE-2020-28493");
        assert_eq!(statement["products"][0]["@id"], "pkg:pypi/jinja2@2.11.2");

        // An advisory withdrawn from the data: its findings are fixed by the update.
        let p3 = platform(db.store.clone(), data.path(), &["v2"]);
        let (v3, _) = vulndb::refresh(&p3).await.unwrap();
        vulndb::start_rematch(&p3, &v3, "advisory update").await.unwrap();
        run_jobs(&p3).await;
        let api_left = open_findings(&p3, &alice, "asset.name:api and open:true").await;

        assert_eq!(api_left.len(), 1, "{backend}: CVE-2019-10906 is gone from v3");
        let gone = open_findings(&p3, &alice, "asset.name:api and advisory:PYSEC-2019-217").await;
        assert_eq!(gone[0].status, "fixed");

        // The audit trail has the uploads, the triage rule and the re-matches.
        let mut conn = p3.store.read().await.unwrap();
        let audit = vigil_store::audit::list(
            &mut conn,
            &parse("").unwrap(),
            &Scope::All,
            &[],
            &Page { limit: 200, cursor: None },
            p3.now(),
        )
        .await
        .unwrap();
        let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
        for action in ["server.bootstrap", "scan.upload", "triage.rule", "vulndb.rematch", "rematch.batch"] {
            assert!(actions.contains(&action), "{backend}: {action} missing from {actions:?}");
        }
    }
}

trait IntoUpload {
    fn into_upload(self) -> Upload;
}

impl IntoUpload for AssetSpec {
    fn into_upload(self) -> Upload {
        Upload { asset: self, ..upload("x", vec![]) }
    }
}

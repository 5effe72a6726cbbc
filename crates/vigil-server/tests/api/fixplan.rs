//! Fix plans over HTTP, on both backends: one asset's plan from its stored
//! inventory and the server's advisories, triage decisions respected, the
//! fleet-wide plan computing each package version once, and the planned
//! versions checked by uploading the upgraded inventory.

use axum::http::Method;
use serde_json::{Value, json};
use vigil_store::testing;

use crate::harness::{Server, upload};

fn steps(plan: &Value) -> Vec<(String, String, String, usize)> {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let text = |k: &str| s[k].as_str().unwrap().to_owned();
            (text("package"), text("from"), text("to"), s["gate_findings"].as_u64().unwrap() as usize)
        })
        .collect()
}

#[tokio::test]
async fn asset_and_fleet_fix_plans() {
    for db in testing::both().await {
        let backend = db.store.backend().name();
        let server = Server::new(db).await;
        let token = Some(server.admin.as_str());

        // No advisory database yet: the plan cannot be made, and says why.
        let early = upload("early", "default", &[("flask", "2.2.2")]);
        let early = server.call(Method::POST, "/api/v1/scans", token, Some(early)).await;
        let early = early.body["scan"]["asset_id"].as_i64().unwrap();
        let refused = server.call(Method::GET, &format!("/api/v1/assets/{early}/fix-plan"), token, None).await;
        assert_eq!(refused.status, 503, "{backend}: {}", refused.body);
        assert_eq!(refused.content_type, "application/problem+json");
        server.advisories().await;

        let shop = upload("shop", "default", &[("flask", "2.2.2"), ("jinja2", "2.10")]);
        let shop = server.call(Method::POST, "/api/v1/scans", token, Some(shop)).await;
        assert_eq!(shop.status, 201, "{backend}: {}", shop.body);
        let shop = shop.body["scan"]["asset_id"].as_i64().unwrap();
        let path = format!("/api/v1/assets/{shop}/fix-plan");
        for (name, packages) in [("api", &[("jinja2", "2.10")][..]), ("web", &[("flask", "2.2.2")][..])] {
            let r = server.call(Method::POST, "/api/v1/scans", token, Some(upload(name, "default", packages))).await;
            assert_eq!(r.status, 201, "{backend}: {}", r.body);
        }

        // Every vulnerability counts: flask's upgrade removes two (GHSA and PYSEC records of one CVE).
        let plan = server.call(Method::GET, &path, token, None).await;
        assert_eq!(plan.status, 200, "{backend}: {}", plan.body);
        assert_eq!(plan.body["asset_name"], "shop");
        assert_eq!(
            steps(&plan.body["plan"]),
            [("flask".into(), "2.2.2".into(), "2.2.5".into(), 2), ("jinja2".into(), "2.10".into(), "2.10.1".into(), 1)],
            "{backend}: {}",
            plan.body
        );
        assert_eq!(plan.body["plan"]["after"]["gate_findings"], 0);
        assert_eq!(plan.body["triaged"], 0);

        // Only high and above: jinja2's finding (no severity) becomes optional.
        let high = server.call(Method::GET, &format!("{path}?fail_on=high"), token, None).await;
        assert_eq!(steps(&high.body["plan"]), [("flask".into(), "2.2.2".into(), "2.2.5".into(), 2)], "{backend}");
        assert_eq!(high.body["plan"]["optional"][0]["package"], "jinja2");
        let bad = server.call(Method::GET, &format!("{path}?fail_on=severe"), token, None).await;
        assert_eq!(bad.status, 400, "{backend}");
        let missing = server.call(Method::GET, "/api/v1/assets/999999/fix-plan", token, None).await;
        assert_eq!(missing.status, 404, "{backend}");

        // A triage decision takes jinja2's finding out of shop's plan (and only shop's).
        let found = server
            .call(Method::GET, "/api/v1/findings?q=asset.name:shop%20and%20package.name:jinja2", token, None)
            .await;
        let finding = found.body["items"][0]["id"].as_i64().unwrap_or_else(|| panic!("{backend}: {}", found.body));
        let decision = json!({"target": {"findings": [finding]}, "state": "false_positive", "comment": "not used"});
        let r = server.call(Method::POST, "/api/v1/triage", token, Some(decision)).await;
        assert_eq!(r.status, 200, "{backend}: {}", r.body);
        let plan = server.call(Method::GET, &path, token, None).await;
        assert_eq!(steps(&plan.body["plan"]), [("flask".into(), "2.2.2".into(), "2.2.5".into(), 2)], "{backend}");
        assert_eq!(plan.body["triaged"], 1);

        // Fleet-wide: flask 2.2.2 on early, shop and web, jinja2 2.10 on api (shop's is
        // triaged); each package version computed once.
        let fleet = server.call(Method::GET, "/api/v1/fix-plan", token, None).await;
        assert_eq!(fleet.status, 200, "{backend}: {}", fleet.body);
        assert_eq!(fleet.body["assets"], 4);
        assert_eq!(fleet.body["computed"], 2);
        let upgrades = fleet.body["upgrades"].as_array().unwrap();
        let got: Vec<(&str, &str, u64, u64)> = upgrades
            .iter()
            .map(|u| {
                (
                    u["package"].as_str().unwrap(),
                    u["to"].as_str().unwrap(),
                    u["assets"].as_u64().unwrap(),
                    u["findings"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, [("flask", "2.2.5", 3, 6), ("jinja2", "2.10.1", 1, 1)], "{backend}: {}", fleet.body);
        let one = server.call(Method::GET, "/api/v1/fix-plan?q=name:api", token, None).await;
        assert_eq!(one.status, 200, "{backend}: {}", one.body);
        assert_eq!((one.body["assets"].as_u64(), one.body["upgrades"].as_array().unwrap().len()), (Some(1), 1));
        let bad = server.call(Method::GET, "/api/v1/fix-plan?q=(((", token, None).await;
        assert_eq!(bad.status, 400, "{backend}");

        // The planned versions, uploaded as shop's next scan, leave nothing open.
        let upgraded = upload("shop", "default", &[("flask", "2.2.5"), ("jinja2", "2.10.1")]);
        let r = server.call(Method::POST, "/api/v1/scans", token, Some(upgraded)).await;
        assert_eq!((r.status.as_u16(), r.body["counts"]["new"].as_i64()), (201, Some(0)), "{backend}: {}", r.body);
        let open =
            server.call(Method::GET, "/api/v1/findings/count?q=asset.name:shop%20and%20open:true", token, None).await;
        assert_eq!(open.body["count"], 0, "{backend}");
        let plan = server.call(Method::GET, &path, token, None).await;
        assert!(steps(&plan.body["plan"]).is_empty(), "{backend}: {}", plan.body);
    }
}

//! Uploads over HTTP: idempotent re-uploads, SBOMs from other tools,
//! gzip bodies, bad uploads that change nothing, concurrent uploads of one
//! asset.

use std::io::Write;

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::json;
use vigil_store::testing;

use crate::harness::{Server, upload};

#[tokio::test]
async fn uploads_over_http() {
    for db in testing::both().await {
        let backend = db.store.backend().name();
        let server = Server::new(db).await;
        server.advisories().await;
        let token = Some(server.admin.as_str());

        let first = server
            .call(Method::POST, "/api/v1/scans", token, Some(upload("shop", "default", &[("flask", "2.2.2")])))
            .await;
        assert_eq!(first.status, 201, "{backend}: {}", first.body);
        assert_eq!((first.body["counts"]["new"].as_i64(), first.body["matched"].as_bool()), (Some(1), Some(true)));
        let again = server
            .call(Method::POST, "/api/v1/scans", token, Some(upload("shop", "default", &[("flask", "2.2.2")])))
            .await;
        assert_eq!((again.status.as_u16(), again.body["unchanged"].as_bool()), (200, Some(true)), "{backend}");
        assert_eq!(again.body["scan"]["id"], first.body["scan"]["id"]);

        // A bad upload is refused with the field named, and nothing changes.
        let mut bad = upload("shop", "default", &[("flask", "2.2.5")]);
        bad["inventory"]["packages"][0]["name"] = json!("");
        let refused = server.call(Method::POST, "/api/v1/scans", token, Some(bad)).await;
        assert_eq!(refused.status, 400);
        assert!(refused.body["detail"].as_str().unwrap().contains("inventory.packages[0].name"), "{}", refused.body);
        let open = server.call(Method::GET, "/api/v1/findings/count?q=open:true", token, None).await;
        assert_eq!(open.body["count"], 1, "{backend}: the refused upload fixed nothing");

        // A gzip-encoded body.
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&serde_json::to_vec(&upload("api", "default", &[("jinja2", "2.10")])).unwrap()).unwrap();
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/scans")
            .header("authorization", format!("Bearer {}", server.admin))
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(Body::from(encoder.finish().unwrap()))
            .unwrap();
        let gzipped = server.send(request).await;
        assert_eq!(
            (gzipped.status.as_u16(), gzipped.body["counts"]["new"].as_i64()),
            (201, Some(1)),
            "{backend}: {}",
            gzipped.body
        );

        // A CycloneDX SBOM from another tool; the name comes from its root component.
        let sbom = json!({
            "bomFormat": "CycloneDX", "specVersion": "1.5",
            "metadata": {"tools": {"components": [{"name": "syft"}]}, "component": {"type": "application", "name": "billing"}},
            "components": [
                {"type": "library", "name": "flask", "version": "2.3.0", "purl": "pkg:pypi/flask@2.3.0"},
                {"type": "library", "name": "jinja2", "version": "3.1.4", "purl": "pkg:pypi/jinja2@3.1.4"}
            ]
        });
        let from_syft =
            server.call(Method::POST, "/api/v1/sboms?kind=image&tags=prod,payments", token, Some(sbom)).await;
        assert_eq!(from_syft.status, 201, "{backend}: {}", from_syft.body);
        assert_eq!(from_syft.body["scan"]["scanner"], "syft");
        let billing = server.call(Method::GET, "/api/v1/findings?q=asset.name:billing", token, None).await;
        let items = billing.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{backend}: flask 2.3.0 is in GHSA-m2qf-hxjv-5gpq's second range");
        assert_eq!(items[0]["advisory"], "CVE-2023-30861");
        let tagged = server.call(Method::GET, "/api/v1/assets?q=tag:payments", token, None).await;
        assert_eq!(tagged.body["items"][0]["kind"], "image");

        // An SPDX document.
        let spdx = json!({
            "spdxVersion": "SPDX-2.3", "name": "worker", "SPDXID": "SPDXRef-DOCUMENT",
            "creationInfo": {"creators": ["Tool: trivy-0.50"], "created": "2024-01-01T00:00:00Z"},
            "packages": [{"SPDXID": "SPDXRef-1", "name": "jinja2", "versionInfo": "2.10",
                "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:pypi/jinja2@2.10"}]}]
        });
        let from_trivy = server.call(Method::POST, "/api/v1/sboms", token, Some(spdx)).await;
        assert_eq!(from_trivy.status, 201, "{backend}: {}", from_trivy.body);
        assert_eq!(from_trivy.body["counts"]["new"], 1);

        // Concurrent uploads of one asset neither lose nor duplicate findings.
        let bodies: Vec<_> = (0..8)
            .map(|i| {
                let packages: &[(&str, &str)] = if i % 2 == 0 {
                    &[("flask", "2.2.2"), ("jinja2", "2.10")]
                } else {
                    &[("jinja2", "2.10"), ("flask", "2.2.2")]
                };
                upload("race", "default", packages)
            })
            .collect();
        let mut handles = Vec::new();
        for body in bodies {
            let app = server.app.clone();
            let request = Request::builder()
                .method(Method::POST)
                .uri("/api/v1/scans")
                .header("authorization", format!("Bearer {}", server.admin))
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(&body).unwrap()))
                .unwrap();
            handles.push(tokio::spawn(async move { tower::ServiceExt::oneshot(app, request).await.unwrap().status() }));
        }
        for handle in handles {
            let status = handle.await.unwrap();
            assert!(status == 201 || status == 200, "{backend}: {status}");
        }
        let race = server.call(Method::GET, "/api/v1/findings?q=asset.name:race", token, None).await;
        let mut advisories: Vec<String> = race.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["advisory"].as_str().unwrap().to_string())
            .collect();
        advisories.sort();
        assert_eq!(advisories, ["CVE-2019-10906", "CVE-2023-30861"], "{backend}");
    }
}

fn result(source: &str, rule: &str, location: &str, key: Option<&str>, line: u32) -> serde_json::Value {
    json!({
        "source": source, "rule": rule, "title": format!("{rule} at {location}"), "severity": "high",
        "location": location, "key": key, "line": line, "cwe": "CWE-250", "remediation": "fix it",
        "evidence": {"excerpt": "USER root"}
    })
}

#[tokio::test]
async fn web_config_and_secret_results_follow_the_lifecycle() {
    for db in testing::both().await {
        let backend = db.store.backend().name();
        let server = Server::new(db).await;
        server.advisories().await;
        let token = Some(server.admin.as_str());
        // A package scan first: the asset has an inventory and a vulnerability.
        let first = server
            .call(Method::POST, "/api/v1/scans", token, Some(upload("web", "default", &[("flask", "2.2.2")])))
            .await;
        assert_eq!(first.status, 201);
        let inventory =
            server.call(Method::GET, "/api/v1/assets?q=name:web", token, None).await.body["items"][0]["inventory"]
                .clone();

        // Configuration results: a covered source without an inventory leaves the packages alone.
        let config = |results: Vec<serde_json::Value>| json!({"asset": {"name": "web", "kind": "repository"}, "results": results, "covers": ["config"]});
        let two = config(vec![
            result("config", "DOCKER-ROOT-USER", "/app/Dockerfile", None, 3),
            result("config", "K8S-PRIVILEGED", "/deploy/pod.yaml", Some("web"), 10),
        ]);
        let reply = server.call(Method::POST, "/api/v1/scans", token, Some(two)).await;
        assert_eq!(
            (reply.status.as_u16(), reply.body["counts"]["new"].as_i64()),
            (201, Some(2)),
            "{backend}: {}",
            reply.body
        );
        assert_eq!(reply.body["counts"]["open"], 3, "{backend}: two config findings and the package one");
        // The same results on other lines are the same findings; the missing one is fixed.
        let moved = config(vec![result("config", "DOCKER-ROOT-USER", "/app/Dockerfile", None, 7)]);
        let reply = server.call(Method::POST, "/api/v1/scans", token, Some(moved)).await;
        assert_eq!(
            (reply.body["counts"]["new"].as_i64(), reply.body["counts"]["fixed"].as_i64()),
            (Some(0), Some(1)),
            "{backend}"
        );
        let open = server.call(Method::GET, "/api/v1/findings?q=source:config%20and%20open:true", token, None).await;
        let items = open.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(
            (items[0]["advisory"].as_str(), items[0]["details"]["line"].as_i64()),
            (Some("DOCKER-ROOT-USER"), Some(7))
        );
        assert_eq!(items[0]["details"]["evidence"]["excerpt"], "USER root");
        // A secret scan covers only secrets.
        let secrets = json!({"asset": {"name": "web", "kind": "repository"}, "covers": ["secret"],
            "results": [result("secret", "aws-access-key", "/app/.env", Some("fp:1234"), 1)]});
        let reply = server.call(Method::POST, "/api/v1/scans", token, Some(secrets)).await;
        assert_eq!(
            (reply.body["counts"]["new"].as_i64(), reply.body["counts"]["fixed"].as_i64()),
            (Some(1), Some(0)),
            "{backend}"
        );
        let by_source = server.call(Method::GET, "/api/v1/findings/summary?by=source&q=open:true", token, None).await;
        let mut groups: Vec<(String, i64)> = by_source
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (g["value"].as_str().unwrap().to_string(), g["count"].as_i64().unwrap()))
            .collect();
        groups.sort();
        assert_eq!(
            groups,
            [("config".to_string(), 1), ("package".to_string(), 1), ("secret".to_string(), 1)],
            "{backend}"
        );
        let after =
            server.call(Method::GET, "/api/v1/assets?q=name:web", token, None).await.body["items"][0]["inventory"]
                .clone();
        assert_eq!(after, inventory, "{backend}: result uploads keep the asset's inventory");
        // Bad results are refused by field.
        let bad = json!({"asset": {"name": "web"}, "results": [{"source": "config", "rule": "R", "title": "t", "severity": "severe", "location": "/x"}]});
        let reply = server.call(Method::POST, "/api/v1/scans", token, Some(bad)).await;
        assert_eq!(reply.status, 400);
        assert!(reply.body["detail"].as_str().unwrap().starts_with("results[0].severity"), "{}", reply.body);
    }
}

//! Hostile requests get a 4xx problem report with a message, never a 500.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::json;
use vigil_store::testing;

use crate::harness::Server;

#[tokio::test]
async fn hostile_requests_are_refused_cleanly() {
    for db in testing::both().await {
        let backend = db.store.backend().name();
        let server = Server::new(db).await;
        let admin = server.admin.clone();
        let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        let raw = |method: Method, path: &str, content_type: &str, body: Vec<u8>| {
            Request::builder()
                .method(method)
                .uri(path)
                .header("authorization", format!("Bearer {admin}"))
                .header("content-type", content_type)
                .body(Body::from(body))
                .unwrap()
        };
        let cases: Vec<(&str, Request<Body>, u16)> = vec![
            ("oversize upload", raw(Method::POST, "/api/v1/scans", "application/json", vec![b' '; 9 << 20]), 413),
            ("oversize SBOM", raw(Method::POST, "/api/v1/sboms?asset=x", "application/json", vec![b' '; 9 << 20]), 413),
            (
                "oversize inbound webhook (no token: capped at 1 MiB)",
                raw(Method::POST, "/api/v1/integrations/1/webhook", "application/json", vec![b' '; 2 << 20]),
                413,
            ),
            ("malformed JSON", raw(Method::POST, "/api/v1/scans", "application/json", b"{\"asset\": ".to_vec()), 400),
            (
                "JSON of the wrong shape",
                raw(Method::POST, "/api/v1/scans", "application/json", b"{\"asset\": 5}".to_vec()),
                422,
            ),
            ("deep nesting", raw(Method::POST, "/api/v1/scans", "application/json", deep.clone().into_bytes()), 422),
            (
                "deep nesting in an SBOM",
                raw(Method::POST, "/api/v1/sboms?asset=x", "application/json", deep.into_bytes()),
                400,
            ),
            ("not JSON at all", raw(Method::POST, "/api/v1/tags", "text/plain", b"hello".to_vec()), 415),
            (
                "SBOM that is not one",
                raw(Method::POST, "/api/v1/sboms?asset=x", "application/json", b"{}".to_vec()),
                400,
            ),
            (
                "bad gzip",
                {
                    let mut r = raw(Method::POST, "/api/v1/scans", "application/json", b"not gzip".to_vec());
                    r.headers_mut().insert("content-encoding", "gzip".parse().unwrap());
                    r
                },
                400,
            ),
        ];
        let mut failures = Vec::new();
        for (what, request, want) in cases {
            let reply = server.send(request).await;
            if reply.status.as_u16() != want || reply.content_type != "application/problem+json" {
                failures.push(format!("{what}: {} {} {}", reply.status, reply.content_type, reply.body));
            }
        }
        let token = Some(server.admin.as_str());
        let gets: Vec<(&str, String, u16)> = vec![
            ("query injection", "/api/v1/findings?q=package.name:%22x'%20OR%201=1%20--%22".into(), 200),
            ("query injection in a field", "/api/v1/findings?q=severity%3Bdrop:x".into(), 400),
            ("misspelt field", "/api/v1/findings?q=sevrity:high".into(), 400),
            ("sort injection", "/api/v1/findings?sort=severity;DROP%20TABLE%20findings".into(), 400),
            ("bad cursor", "/api/v1/findings?cursor=zz".into(), 400),
            // A limit past the maximum is cut to the maximum, as the OpenAPI document says.
            ("huge limit", "/api/v1/findings?limit=99999999999".into(), 200),
            ("negative limit", "/api/v1/findings?limit=-1".into(), 400),
            ("limit past 64 bits", "/api/v1/findings?limit=99999999999999999999999".into(), 400),
            ("negative id", "/api/v1/assets/-1".into(), 404),
            ("id overflow", "/api/v1/assets/99999999999999999999999".into(), 400),
            ("non-numeric id", "/api/v1/assets/abc".into(), 400),
            ("path traversal", "/api/v1/assets/..%2f..%2fetc%2fpasswd".into(), 400),
            ("dot segments", "/api/v1/../../etc/passwd".into(), 404),
            ("nul byte", "/api/v1/findings?q=%00".into(), 400),
            ("unknown route", "/api/v1/nothing".into(), 404),
            ("long query", format!("/api/v1/findings?q={}", "a".repeat(5000)), 400),
            ("unknown group", "/api/v1/findings/summary?by=password".into(), 400),
        ];
        for (what, path, want) in gets {
            let reply = server.call(Method::GET, &path, token, None).await;
            let problem_ok = reply.status.as_u16() < 400 || reply.content_type == "application/problem+json";
            if reply.status.as_u16() != want || !problem_ok {
                failures.push(format!("{what}: {path} -> {} {} {}", reply.status, reply.content_type, reply.body));
            }
        }
        let wrong_method = server.call(Method::PUT, "/api/v1/findings", token, Some(json!({}))).await;
        if wrong_method.status != 405 || wrong_method.content_type != "application/problem+json" {
            failures.push(format!("wrong method: {} {}", wrong_method.status, wrong_method.content_type));
        }
        // A query error says where.
        let typo = server.call(Method::GET, "/api/v1/findings?q=severity:high%20and%20sevrity:low", token, None).await;
        assert_eq!(
            (typo.body["column"].as_u64(), typo.body["hint"].as_str()),
            (Some(19), Some("did you mean `severity`?"))
        );
        // The tables are still there.
        let still = server.call(Method::GET, "/api/v1/findings", token, None).await;
        assert_eq!(still.status, 200);
        assert!(failures.is_empty(), "{backend}:\n{}", failures.join("\n"));
    }
}

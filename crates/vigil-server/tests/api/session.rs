//! Signing in with a password, sessions, signing out, and the lockout of
//! repeated failures.

use axum::http::Method;
use serde_json::json;
use vigil_store::testing;

use crate::harness::Server;

#[tokio::test]
async fn passwords_sessions_and_lockout() {
    for db in testing::both().await {
        let backend = db.store.backend().name();
        let server = Server::new(db).await;
        let admin = Some(server.admin.as_str());
        let created = server
            .call(Method::POST, "/api/v1/users", admin, Some(json!({"username": "ana", "password": "a long passphrase", "role": "analyst", "teams": ["default"]})))
            .await;
        assert_eq!(created.status, 201, "{backend}: {}", created.body);
        assert!(created.body.get("password_hash").is_none() && created.body["has_password"] == true);
        let short = server
            .call(
                Method::POST,
                "/api/v1/users",
                admin,
                Some(json!({"username": "bo", "password": "short", "role": "viewer"})),
            )
            .await;
        assert_eq!(short.status, 400);

        let login = server
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "ana", "password": "a long passphrase"})),
            )
            .await;
        assert_eq!(login.status, 200, "{backend}: {}", login.body);
        let session = login.body["token"].as_str().unwrap().to_string();
        assert_eq!(login.body["record"]["kind"], "session");
        assert!(login.body["record"]["expires_at"].is_string());
        let me = server.call(Method::GET, "/api/v1/me", Some(&session), None).await;
        assert_eq!((me.body["user"]["username"].as_str(), me.body["role"].as_str()), (Some("ana"), Some("analyst")));
        let out = server.call(Method::POST, "/api/v1/auth/logout", Some(&session), None).await;
        assert_eq!(out.status, 204);
        let after = server.call(Method::GET, "/api/v1/me", Some(&session), None).await;
        assert_eq!(after.status, 401, "{backend}: a signed-out session is refused");

        // Five wrong passwords lock the user out for a while (for that address), even with the right one.
        for _ in 0..5 {
            let wrong = server
                .call(
                    Method::POST,
                    "/api/v1/auth/login",
                    None,
                    Some(json!({"username": "ana", "password": "not the passphrase"})),
                )
                .await;
            assert_eq!(wrong.status, 401);
            assert_eq!(wrong.body["detail"], "wrong user name or password");
        }
        let locked = server
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "ana", "password": "a long passphrase"})),
            )
            .await;
        assert_eq!(locked.status, 429, "{backend}: {}", locked.body);
        assert_eq!(locked.content_type, "application/problem+json");
        // An unknown user gets the same answer as a wrong password.
        let unknown = server
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "nobody", "password": "whatever it is"})),
            )
            .await;
        assert_eq!(
            (unknown.status.as_u16(), unknown.body["detail"].as_str()),
            (401, Some("wrong user name or password"))
        );
        // The audit trail records sessions, never secrets.
        let audit = server.call(Method::GET, "/api/v1/audit?q=action:session.*", admin, None).await;
        let text = audit.body.to_string();
        assert!(text.contains("session.create") && text.contains("session.revoke"), "{backend}: {text}");
        assert!(!text.contains(&session) && !text.contains("passphrase"));
    }
}

//! A server over a fresh database, with an administrator, two teams, users
//! of every role, real advisories and an uploaded scan with a finding.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use vigil_platform::auth::{self, LoginLimiter};
use vigil_platform::vulndb::{self, Source};
use vigil_platform::{Config, Platform};
use vigil_server::AppState;
use vigil_store::accounts;
use vigil_store::model::Role;
use vigil_store::testing::TestDatabase;

/// The platform crate's advisory fixtures.
pub fn advisories(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vigil-platform/tests/fixtures").join(version)
}

/// A running app and what it holds.
pub struct Server {
    /// Kept alive: dropping it removes the database.
    _db: TestDatabase,
    pub platform: Platform,
    pub app: Router,
    pub admin: String,
    _data: tempfile::TempDir,
}

/// A response.
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Server {
    pub async fn new(db: TestDatabase) -> Server {
        let data = tempfile::tempdir().unwrap();
        let mut config = Config::new(data.path().to_path_buf());
        config.vulndb_source = Source::Import(vec![advisories("v1")]);
        let platform = Platform::new(db.store.clone(), config);
        let admin = auth::bootstrap(&platform.store, None, platform.now()).await.unwrap().unwrap();
        let state = AppState { platform: platform.clone(), limiter: Arc::new(LoginLimiter::default()), metrics: None };
        let app = vigil_server::app(state, 8 << 20);
        Server { _db: db, platform, app, admin, _data: data }
    }

    /// Publishes the v1 advisories.
    pub async fn advisories(&self) {
        vulndb::refresh(&self.platform).await.unwrap();
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(v) => {
                request = request.header("content-type", "application/json");
                Body::from(serde_json::to_vec(&v).unwrap())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Reply { status, content_type, body }
    }

    /// Creates a user with a token; returns (user id, token).
    pub async fn user(&self, name: &str, role: Role, teams: &[&str]) -> (i64, String) {
        let mut tx = self.platform.store.write().await.unwrap();
        let user = accounts::create_user(&mut tx, name, None, role, self.platform.now()).await.unwrap();
        for team in teams {
            let team = match accounts::team_by_name(&mut tx, team).await.unwrap() {
                Some(t) => t,
                None => accounts::create_team(&mut tx, team, self.platform.now()).await.unwrap(),
            };
            accounts::add_member(&mut tx, team.id, user.id).await.unwrap();
        }
        tx.commit().await.unwrap();
        (user.id, self.token_for(user.id, role, None).await)
    }

    /// A new token for a user.
    pub async fn token_for(&self, user: i64, role: Role, expires_at: Option<i64>) -> String {
        let (token, prefix, hash) = auth::new_token().unwrap();
        let mut tx = self.platform.store.write().await.unwrap();
        accounts::create_token(
            &mut tx,
            &accounts::NewToken {
                user_id: user,
                name: "test",
                kind: "api",
                prefix: &prefix,
                secret_hash: &hash,
                role,
                expires_at,
            },
            self.platform.now(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        token
    }
}

/// An upload body for a PyPI project with the given packages.
pub fn upload(asset: &str, team: &str, packages: &[(&str, &str)]) -> Value {
    let packages: Vec<Value> = packages
        .iter()
        .map(|(name, version)| {
            json!({
                "name": name, "version": version, "ecosystem": "PyPI", "purl": format!("pkg:pypi/{name}@{version}"),
                "location": {"path": "/app/requirements.txt"}, "cataloger": "requirements"
            })
        })
        .collect();
    json!({
        "asset": {"name": asset, "kind": "repository", "team": team},
        "tags": ["prod"],
        "scanner": "vigil test",
        "inventory": {"target": "/app", "os": null, "packages": packages, "warnings": []}
    })
}

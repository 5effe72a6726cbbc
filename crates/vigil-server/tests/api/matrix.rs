//! Every route x every role x own or other team x (no token, malformed,
//! wrong secret, expired, revoked, disabled user): the status each must
//! answer, checked on both backends. The table must name every route of
//! the OpenAPI document.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::http::Method;
use serde_json::{Value, json};
use vigil_platform::triage::{self, Request, Target};
use vigil_store::model::Role;
use vigil_store::{Scope, accounts, assets, testing};

use crate::harness::{Server, upload};

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Need {
    /// Any valid token.
    Any,
    Read,
    ReadOrUpload,
    Upload,
    Triage,
    Remediate,
    /// No token: the request's HMAC signature (none in these cases, so always 401).
    Signed,
    EditAssets,
    EditTags,
    OwnTokens,
    Admin,
}

/// Whether a role holds a need (the permission table, written out again on purpose).
fn holds(role: Role, need: Need) -> bool {
    use Role::*;
    match need {
        Need::Any => true,
        Need::Read | Need::OwnTokens => matches!(role, Viewer | Analyst | Admin),
        Need::ReadOrUpload => true,
        Need::Upload => matches!(role, Ci | Analyst | Admin),
        Need::Triage | Need::Remediate | Need::EditAssets | Need::EditTags => matches!(role, Analyst | Admin),
        Need::Signed => false,
        Need::Admin => role == Admin,
    }
}

struct Route {
    method: Method,
    path: &'static str,
    need: Need,
    /// The status for a caller of another team (none: not team-scoped).
    foreign: Option<u16>,
    ok: u16,
}

const fn route(method: Method, path: &'static str, need: Need, foreign: Option<u16>, ok: u16) -> Route {
    Route { method, path, need, foreign, ok }
}

fn routes() -> Vec<Route> {
    use Need::*;
    vec![
        route(Method::POST, "/auth/logout", Any, None, 204),
        route(Method::GET, "/me", Any, None, 200),
        route(Method::GET, "/users", Admin, None, 200),
        route(Method::POST, "/users", Admin, None, 201),
        route(Method::GET, "/users/{other_user}", Admin, None, 200),
        route(Method::PATCH, "/users/{other_user}", Admin, None, 200),
        route(Method::GET, "/teams", ReadOrUpload, None, 200),
        route(Method::POST, "/teams", Admin, None, 201),
        route(Method::DELETE, "/teams/{fresh_team}", Admin, None, 204),
        route(Method::PUT, "/teams/{red}/members/{other_user}", Admin, None, 200),
        route(Method::DELETE, "/teams/{red}/members/{member_user}", Admin, None, 200),
        route(Method::GET, "/tokens", OwnTokens, None, 200),
        route(Method::POST, "/tokens", OwnTokens, None, 201),
        route(Method::DELETE, "/tokens/{own_token}", OwnTokens, None, 200),
        route(Method::GET, "/assets", Read, None, 200),
        route(Method::POST, "/assets", EditAssets, Some(403), 201),
        route(Method::GET, "/assets/count", Read, None, 200),
        route(Method::GET, "/assets/{asset}", Read, Some(404), 200),
        route(Method::PATCH, "/assets/{asset}", EditAssets, Some(404), 200),
        route(Method::DELETE, "/assets/{fresh_asset}", EditAssets, Some(404), 204),
        route(Method::GET, "/assets/{asset}/inventory", Read, Some(404), 200),
        route(Method::GET, "/assets/{asset}/scans", Read, Some(404), 200),
        route(Method::GET, "/assets/{asset}/vex", Read, Some(404), 200),
        route(Method::GET, "/assets/{asset}/findings", Read, Some(404), 200),
        route(Method::GET, "/assets/{asset}/fix-plan", Read, Some(404), 200),
        route(Method::POST, "/assets/tags", EditAssets, Some(404), 200),
        route(Method::GET, "/tags", Read, None, 200),
        route(Method::POST, "/tags", EditTags, None, 201),
        route(Method::POST, "/tags/preview", Read, None, 200),
        route(Method::GET, "/tags/{tag}", Read, None, 200),
        route(Method::PATCH, "/tags/{fresh_tag}", EditTags, None, 200),
        route(Method::DELETE, "/tags/{fresh_tag}", EditTags, None, 204),
        route(Method::POST, "/scans", Upload, Some(403), 201),
        route(Method::POST, "/sboms?team=red", Upload, Some(403), 201),
        route(Method::GET, "/scans/{scan}", ReadOrUpload, Some(404), 200),
        route(Method::GET, "/findings", Read, None, 200),
        route(Method::GET, "/findings/count", Read, None, 200),
        route(Method::GET, "/findings/summary?by=severity", Read, None, 200),
        route(Method::GET, "/findings/{finding}", Read, Some(404), 200),
        route(Method::POST, "/triage", Triage, Some(404), 200),
        route(Method::GET, "/triage/rules", Read, None, 200),
        route(Method::DELETE, "/triage/rules/{rule}", Triage, Some(403), 200),
        route(Method::GET, "/exposure?advisory=CVE-2023-30861", Read, None, 200),
        route(Method::GET, "/fix-plan", Read, None, 200),
        route(Method::GET, "/audit", Read, None, 200),
        route(Method::GET, "/vulndb", Read, None, 200),
        route(Method::POST, "/vulndb/refresh", Admin, None, 202),
        route(Method::GET, "/jobs", Admin, None, 200),
        route(Method::GET, "/jobs/{job}", Admin, None, 200),
        route(Method::GET, "/query/fields", Read, None, 200),
        route(Method::GET, "/sla", Read, None, 200),
        route(Method::PUT, "/sla", Admin, None, 200),
        route(Method::GET, "/trends?days=7", Read, None, 200),
        route(Method::GET, "/trends/open?q=tag:prod", Read, None, 200),
        route(Method::GET, "/trends/weekly?days=14", Read, None, 200),
        route(Method::GET, "/trends/remediation?q=severity%3E%3Dhigh", Read, None, 200),
        route(Method::GET, "/trends/sla", Read, None, 200),
        route(Method::POST, "/trends/rebuild", Admin, None, 202),
        route(Method::GET, "/tickets", Read, None, 200),
        route(Method::GET, "/tickets/{ticket}", Read, Some(404), 200),
        route(Method::PATCH, "/tickets/{ticket}", Remediate, Some(404), 200),
        route(Method::GET, "/ticket-rules", Read, None, 200),
        route(Method::POST, "/ticket-rules", Remediate, Some(403), 201),
        route(Method::POST, "/ticket-rules/dry-run", Remediate, Some(403), 200),
        route(Method::DELETE, "/ticket-rules/{fresh_ticket_rule}", Remediate, Some(403), 200),
        route(Method::GET, "/integrations", Read, None, 200),
        route(Method::POST, "/integrations", Admin, None, 201),
        route(Method::POST, "/integrations/{integration}/webhook", Signed, None, 200),
        route(Method::GET, "/notification-rules", Read, None, 200),
        route(Method::POST, "/notification-rules", Remediate, Some(403), 201),
        route(Method::GET, "/notification-rules/{notification_rule}", Read, Some(404), 200),
        route(Method::DELETE, "/notification-rules/{fresh_notification_rule}", Remediate, Some(403), 200),
    ]
}

struct Caller {
    name: &'static str,
    /// Role and whether it is in team red; none for tokens that must fail.
    who: Option<(Role, bool)>,
    user: Option<i64>,
    token: Option<String>,
}

struct World {
    server: Server,
    red: i64,
    asset: i64,
    finding: i64,
    scan: i64,
    tag: i64,
    job: i64,
    other_user: i64,
    ticket: i64,
    integration: i64,
    notification_rule: i64,
    counter: AtomicU32,
}

impl World {
    fn unique(&self, what: &str) -> String {
        format!("{what}-{}", self.counter.fetch_add(1, Ordering::Relaxed))
    }

    /// The path with its placeholders filled, creating fresh rows where a
    /// case consumes one.
    async fn resolve(&self, template: &str, caller: &Caller) -> String {
        let p = &self.server.platform;
        let admin = vigil_platform::Actor::system();
        let mut path = template.to_string();
        let fixed = [
            ("{red}", self.red),
            ("{asset}", self.asset),
            ("{finding}", self.finding),
            ("{scan}", self.scan),
            ("{tag}", self.tag),
            ("{job}", self.job),
            ("{other_user}", self.other_user),
            ("{ticket}", self.ticket),
            ("{integration}", self.integration),
            ("{notification_rule}", self.notification_rule),
        ];
        for (key, value) in fixed {
            path = path.replace(key, &value.to_string());
        }
        if path.contains("{fresh_team}") {
            let team = vigil_platform::admin::create_team(p, &admin, &self.unique("team")).await.unwrap();
            path = path.replace("{fresh_team}", &team.id.to_string());
        }
        if path.contains("{member_user}") {
            let (id, _) = self.server.user(&self.unique("member"), Role::Viewer, &["red"]).await;
            path = path.replace("{member_user}", &id.to_string());
        }
        if path.contains("{own_token}") {
            // A token of the caller's own user (or of another, for callers without one).
            let user = caller.user.unwrap_or(self.other_user);
            let role = caller.who.map_or(Role::Viewer, |(r, _)| r);
            let token = self.server.token_for(user, role, None).await;
            let mut conn = p.store.read().await.unwrap();
            let id = accounts::tokens(&mut conn, Some(user))
                .await
                .unwrap()
                .iter()
                .find(|t| token.contains(&t.prefix))
                .unwrap()
                .id;
            path = path.replace("{own_token}", &id.to_string());
        }
        if path.contains("{fresh_asset}") {
            let mut tx = p.store.write().await.unwrap();
            let (id, _) = assets::upsert(&mut tx, self.red, "host", &self.unique("host"), &Default::default(), p.now())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            path = path.replace("{fresh_asset}", &id.to_string());
        }
        if path.contains("{fresh_tag}") {
            let request = vigil_platform::tags::TagRequest { name: Some(self.unique("tag")), ..Default::default() };
            let tag = vigil_platform::tags::create(p, &admin, &request).await.unwrap();
            path = path.replace("{fresh_tag}", &tag.id.to_string());
        }
        if path.contains("{rule}") {
            let request = Request {
                target: Target::Query(format!("package.name:{}", self.unique("pkg"))),
                state: "false_positive".into(),
                justification: None,
                until: None,
                comment: "matrix".into(),
                team: Some("red".into()),
            };
            let rule = triage::decide(p, &admin, &request).await.unwrap().rule.unwrap();
            path = path.replace("{rule}", &rule.id.to_string());
        }
        if path.contains("{fresh_ticket_rule}") {
            let request = ticket_rule(&self.unique("rule"));
            let rule = vigil_platform::tickets::create_rule(p, &admin, &request).await.unwrap();
            path = path.replace("{fresh_ticket_rule}", &rule.id.to_string());
        }
        if path.contains("{fresh_notification_rule}") {
            let request = notification_rule(&self.unique("rule"));
            let rule = vigil_platform::notify::create_rule(p, &admin, &request).await.unwrap();
            path = path.replace("{fresh_notification_rule}", &rule.id.to_string());
        }
        format!("/api/v1{path}")
    }

    fn body(&self, route: &Route) -> Option<Value> {
        let unique = self.unique("x");
        Some(match (route.method.as_str(), route.path) {
            ("POST", "/users") => json!({"username": unique, "role": "viewer", "teams": ["red"]}),
            ("PATCH", "/users/{other_user}") => json!({"disabled": false}),
            ("POST", "/teams") => json!({"name": unique}),
            ("POST", "/tokens") => json!({"name": unique}),
            ("POST", "/assets") => json!({"name": unique, "kind": "host", "team": "red"}),
            ("PATCH", "/assets/{asset}") => json!({"owner": "ops"}),
            ("POST", "/assets/tags") => json!({"tag": "prod", "assets": [self.asset]}),
            ("POST", "/tags") => json!({"name": unique, "rule": "kind:host"}),
            ("POST", "/tags/preview") => json!({"rule": "tag:prod"}),
            ("PATCH", "/tags/{fresh_tag}") => json!({"description": "changed"}),
            ("POST", "/scans") => upload(&unique, "red", &[("flask", "2.2.2")]),
            ("POST", "/sboms?team=red") => json!({
                "bomFormat": "CycloneDX", "specVersion": "1.6",
                "metadata": {"component": {"type": "application", "name": unique}},
                "components": [{"type": "library", "name": "jinja2", "version": "2.10", "purl": "pkg:pypi/jinja2@2.10"}]
            }),
            ("PUT", "/sla") => json!({"days": {"critical": 7, "high": 30, "medium": 90, "low": 180}}),
            ("PATCH", "/tickets/{ticket}") => json!({"comment": "matrix"}),
            ("POST", "/ticket-rules" | "/ticket-rules/dry-run") => json!(ticket_rule(&unique)),
            ("POST", "/integrations") => json!({
                "name": unique, "kind": "webhook",
                "config": {"url": "http://127.0.0.1:9/hook", "secret": "matrix-secret"}
            }),
            ("POST", "/notification-rules") => json!(notification_rule(&unique)),
            ("POST", "/triage") => {
                json!({"target": {"findings": [self.finding]}, "state": "false_positive", "comment": "matrix"})
            }
            _ => return None,
        })
    }
}

/// A ticket rule for team red's high findings.
fn ticket_rule(name: &str) -> vigil_platform::tickets::RuleRequest {
    vigil_platform::tickets::RuleRequest {
        name: name.into(),
        query: "severity>=high".into(),
        grouping: None,
        team: Some("red".into()),
        assignee_team: None,
        assignee_user: None,
        integration: None,
    }
}

/// A notification rule for team red's new findings, to the matrix's webhook.
fn notification_rule(name: &str) -> vigil_platform::notify::RuleRequest {
    vigil_platform::notify::RuleRequest {
        name: name.into(),
        event: "finding.new".into(),
        query: String::new(),
        team: Some("red".into()),
        integration: "matrix-hook".into(),
        interval_minutes: None,
    }
}

fn expected(route: &Route, caller: &Caller) -> u16 {
    if route.need == Need::Signed {
        return 401;
    }
    let Some((role, in_red)) = caller.who else { return 401 };
    if !holds(role, route.need) {
        return 403;
    }
    match route.foreign {
        Some(status) if role != Role::Admin && !in_red => status,
        _ => route.ok,
    }
}

fn template_of(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let mut out = String::new();
    let mut skipping = false;
    for c in path.chars() {
        match c {
            '{' => {
                skipping = true;
                out.push_str("{}");
            }
            '}' => skipping = false,
            c if !skipping => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn every_route_role_team_and_credential() {
    for db in testing::both().await {
        let backend = db.store.backend().name();
        let server = Server::new(db).await;
        server.advisories().await;
        let (analyst_red, analyst_red_token) = server.user("analyst-red", Role::Analyst, &["red"]).await;
        let (viewer_red, viewer_red_token) = server.user("viewer-red", Role::Viewer, &["red"]).await;
        let (ci_red, ci_red_token) = server.user("ci-red", Role::Ci, &["red"]).await;
        let (analyst_blue, analyst_blue_token) = server.user("analyst-blue", Role::Analyst, &["blue"]).await;
        let (other_user, _) = server.user("other", Role::Viewer, &["blue"]).await;
        let (disabled, disabled_token) = server.user("disabled", Role::Analyst, &["red"]).await;
        let p = &server.platform;
        let system = vigil_platform::Actor::system();
        vigil_platform::admin::update_user(
            p,
            &system,
            disabled,
            &vigil_platform::admin::UserChange { disabled: Some(true), ..Default::default() },
        )
        .await
        .unwrap();
        let expired = server.token_for(analyst_red, Role::Analyst, Some(p.now() - 1)).await;
        let revoked = server.token_for(analyst_red, Role::Analyst, None).await;
        let mut conn = p.store.read().await.unwrap();
        let revoked_id = accounts::tokens(&mut conn, Some(analyst_red))
            .await
            .unwrap()
            .iter()
            .find(|t| revoked.contains(&t.prefix))
            .unwrap()
            .id;
        let red = accounts::team_by_name(&mut conn, "red").await.unwrap().unwrap().id;
        drop(conn);
        let mut tx = p.store.write().await.unwrap();
        accounts::revoke_token(&mut tx, revoked_id, p.now()).await.unwrap();
        tx.commit().await.unwrap();
        let wrong_secret = format!("{}{}", &server.admin[..17], "x".repeat(32));

        vigil_platform::tickets::create_rule(p, &system, &ticket_rule("matrix")).await.unwrap();
        // The red team's data: a scan with a finding (flask 2.2.2: CVE-2023-30861).
        let reply = server
            .call(
                Method::POST,
                "/api/v1/scans",
                Some(&server.admin),
                Some(upload("shop", "red", &[("flask", "2.2.2")])),
            )
            .await;
        assert_eq!(reply.status, 201, "{backend}: {:?}", reply.body);
        let asset = reply.body["asset_id"].as_i64().unwrap();
        let scan = reply.body["scan"]["id"].as_i64().unwrap();
        let found =
            server.call(Method::GET, &format!("/api/v1/assets/{asset}/findings"), Some(&server.admin), None).await;
        let finding = found.body["items"][0]["id"].as_i64().unwrap();
        let mut conn = p.store.read().await.unwrap();
        let tag = assets::tag_by_name(&mut conn, "prod").await.unwrap().unwrap().id;
        drop(conn);
        let job = vigil_platform::read::request_refresh(p, &system).await.unwrap().id;
        // A ticket for the finding (its rule, saved before the upload, opened it), and a
        // webhook integration with a notification rule.
        let ticket = vigil_platform::tickets::list(p, &system, None, None, 10).await.unwrap()[0].id;
        let hook = vigil_platform::integrations::IntegrationRequest {
            name: "matrix-hook".into(),
            kind: "webhook".into(),
            config: json!({"url": "http://127.0.0.1:9/hook", "secret": "matrix-secret"}),
            inbound_secret: None,
        };
        let integration = vigil_platform::integrations::create(p, &system, &hook).await.unwrap().id;
        let notification_rule =
            vigil_platform::notify::create_rule(p, &system, &notification_rule("matrix")).await.unwrap().id;
        let world = World {
            server,
            red,
            asset,
            finding,
            scan,
            tag,
            job,
            other_user,
            ticket,
            integration,
            notification_rule,
            counter: AtomicU32::new(0),
        };

        let callers = [
            Caller {
                name: "admin",
                who: Some((Role::Admin, false)),
                user: Some(1),
                token: Some(world.server.admin.clone()),
            },
            Caller {
                name: "analyst-red",
                who: Some((Role::Analyst, true)),
                user: Some(analyst_red),
                token: Some(analyst_red_token),
            },
            Caller {
                name: "viewer-red",
                who: Some((Role::Viewer, true)),
                user: Some(viewer_red),
                token: Some(viewer_red_token),
            },
            Caller { name: "ci-red", who: Some((Role::Ci, true)), user: Some(ci_red), token: Some(ci_red_token) },
            Caller {
                name: "analyst-blue",
                who: Some((Role::Analyst, false)),
                user: Some(analyst_blue),
                token: Some(analyst_blue_token),
            },
            Caller { name: "no token", who: None, user: None, token: None },
            Caller { name: "malformed", who: None, user: None, token: Some("not-a-token".into()) },
            Caller { name: "wrong secret", who: None, user: None, token: Some(wrong_secret) },
            Caller { name: "expired", who: None, user: None, token: Some(expired) },
            Caller { name: "revoked", who: None, user: None, token: Some(revoked) },
            Caller { name: "disabled user", who: None, user: None, token: Some(disabled_token) },
        ];

        let mut failures = Vec::new();
        let mut checked = 0;
        for route in routes() {
            for caller in &callers {
                // Signing out revokes the token used: give that case a token of its own.
                let token = match (route.path, &caller.who, caller.user) {
                    ("/auth/logout", Some((role, _)), Some(user)) => {
                        Some(world.server.token_for(user, *role, None).await)
                    }
                    _ => caller.token.clone(),
                };
                let path = world.resolve(route.path, caller).await;
                let reply = world.server.call(route.method.clone(), &path, token.as_deref(), world.body(&route)).await;
                let want = expected(&route, caller);
                checked += 1;
                if reply.status.as_u16() != want {
                    failures.push(format!(
                        "{} {} as {}: {} (wanted {want}) {}",
                        route.method, path, caller.name, reply.status, reply.body
                    ));
                }
                if reply.status.as_u16() >= 400 && reply.content_type != "application/problem+json" {
                    failures.push(format!(
                        "{} {} as {}: {} is not problem+json",
                        route.method, path, caller.name, reply.content_type
                    ));
                }
            }
        }
        eprintln!("{backend}: {checked} cases");
        assert!(
            failures.is_empty(),
            "{backend}: {} of {checked} cases wrong:\n{}",
            failures.len(),
            failures.join("\n")
        );

        // The table covers every route of the OpenAPI document.
        let doc = world.server.call(Method::GET, "/api/v1/openapi.json", None, None).await.body;
        let documented: BTreeSet<String> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .map(move |method| format!("{} {}", method.to_uppercase(), template_of(path)))
            })
            .filter(|r| !r.ends_with("/auth/login"))
            .collect();
        let tested: BTreeSet<String> =
            routes().iter().map(|r| format!("{} {}", r.method, template_of(&format!("/api/v1{}", r.path)))).collect();
        assert_eq!(documented, tested, "{backend}: the matrix and the OpenAPI document disagree");

        // Lists never show another team's rows, counts included.
        let blue = Scope::Teams(vec![]);
        assert!(!blue.allows(red));
        let list =
            world.server.call(Method::GET, "/api/v1/findings", Some(callers[4].token.as_deref().unwrap()), None).await;
        assert_eq!(list.body["items"].as_array().unwrap().len(), 0, "{backend}");
        let count = world
            .server
            .call(Method::GET, "/api/v1/findings/count", Some(callers[4].token.as_deref().unwrap()), None)
            .await;
        assert_eq!(count.body["count"], 0);
        let assets = world
            .server
            .call(Method::GET, "/api/v1/assets?q=name:shop", Some(callers[4].token.as_deref().unwrap()), None)
            .await;
        assert_eq!(assets.body["items"].as_array().unwrap().len(), 0);
        let summary = world
            .server
            .call(Method::GET, "/api/v1/findings/summary?by=asset", Some(callers[4].token.as_deref().unwrap()), None)
            .await;
        assert_eq!(summary.body, json!([]), "{backend}");
        let mine = world
            .server
            .call(Method::GET, "/api/v1/findings/count", Some(callers[2].token.as_deref().unwrap()), None)
            .await;
        assert!(mine.body["count"].as_i64().unwrap() >= 1, "{backend}");
    }
}

//! Reads, each checked against the actor's role and limited to its teams:
//! searches (with the query language and a sort), single rows, counts and
//! summaries.

use serde::Serialize;
use utoipa::ToSchema;
use vigil_query::{Catalog, Expr, SortKey};
use vigil_store::model::{
    Asset, AuditEntry, Finding, FindingEvent, InventoryPackage, Job, RematchRun, Scan, Tag, Team, TriageRule, User,
    VulnDbVersion,
};
use vigil_store::{Page, Paged, Scope, accounts, assets, audit, catalogs, findings, jobs, scans, vulndb};

use crate::auth::Permission;
use crate::{Actor, Error, Platform, Result};

/// A search: query text, sort text and page.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// The query (empty: everything).
    pub query: String,
    /// The sort (`severity:desc,first_seen`).
    pub sort: String,
    /// The page.
    pub page: Page,
}

fn compiled(search: &Search, catalog: &Catalog, default_sort: &str) -> Result<(Expr, Vec<SortKey>)> {
    let expr = vigil_query::parse(&search.query)?;
    let sort = if search.sort.trim().is_empty() { default_sort } else { &search.sort };
    let keys = vigil_query::parse_sort(sort, catalog).map_err(|e| Error::Invalid(format!("sort: {e}")))?;
    Ok((expr, keys))
}

/// Assets matching a search, most recently scanned first by default.
pub async fn assets(platform: &Platform, actor: &Actor, search: &Search) -> Result<Paged<Asset>> {
    actor.require(Permission::Read)?;
    let (expr, sort) = compiled(search, &catalogs::ASSETS, "last_scan:desc")?;
    let mut conn = platform.store.read().await?;
    Ok(assets::list(&mut conn, &expr, &actor.scope, &sort, &search.page, platform.now()).await?)
}

/// How many assets match a query.
pub async fn count_assets(platform: &Platform, actor: &Actor, query: &str) -> Result<i64> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    Ok(assets::count(&mut conn, &vigil_query::parse(query)?, &actor.scope, platform.now()).await?)
}

/// One asset.
pub async fn asset(platform: &Platform, actor: &Actor, id: i64) -> Result<Asset> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    Ok(assets::get(&mut conn, id, &actor.scope).await?)
}

/// A page of an asset's current inventory.
pub async fn inventory(platform: &Platform, actor: &Actor, id: i64, page: &Page) -> Result<Paged<InventoryPackage>> {
    let asset = asset(platform, actor, id).await?;
    let Some(digest) = asset.inventory else { return Ok(Paged { items: Vec::new(), next: None }) };
    let mut conn = platform.store.read().await?;
    Ok(scans::inventory_packages(&mut conn, &digest, page).await?)
}

/// A page of an asset's scans, newest first.
pub async fn asset_scans(platform: &Platform, actor: &Actor, id: i64, page: &Page) -> Result<Paged<Scan>> {
    asset(platform, actor, id).await?;
    let mut conn = platform.store.read().await?;
    Ok(scans::scans_of(&mut conn, id, page).await?)
}

/// One scan.
pub async fn scan(platform: &Platform, actor: &Actor, id: i64) -> Result<Scan> {
    actor.require(Permission::Read).or_else(|_| actor.require(Permission::Upload))?;
    let mut conn = platform.store.read().await?;
    let scan = scans::scan(&mut conn, id).await?;
    // A CI token may read back the scans it can upload to (its teams').
    assets::get(&mut conn, scan.asset_id, &actor.scope)
        .await
        .map_err(|_| Error::NotFound(format!("scan {id} not found")))?;
    Ok(scan)
}

/// Findings matching a search (of one asset, when given), in remediation order by default.
pub async fn findings(
    platform: &Platform,
    actor: &Actor,
    search: &Search,
    asset: Option<i64>,
) -> Result<Paged<Finding>> {
    actor.require(Permission::Read)?;
    let (expr, sort) = compiled(search, &catalogs::FINDINGS, "severity:desc,risk:desc")?;
    let mut conn = platform.store.read().await?;
    if let Some(id) = asset {
        assets::get(&mut conn, id, &actor.scope).await?;
    }
    Ok(findings::list(&mut conn, &expr, &actor.scope, asset, &sort, &search.page, platform.now()).await?)
}

/// A finding with its status history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FindingDetail {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// Its status changes, oldest first.
    pub history: Vec<FindingEvent>,
    /// The remediation tickets holding it, with their keys in Jira or GitHub.
    pub tickets: Vec<vigil_store::tickets::TicketRef>,
}

/// One finding with its history.
pub async fn finding(platform: &Platform, actor: &Actor, id: i64) -> Result<FindingDetail> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    let finding = findings::get(&mut conn, id, &actor.scope, platform.now()).await?;
    let history = findings::events(&mut conn, id).await?;
    let tickets = vigil_store::tickets::tickets_of_finding(&mut conn, id).await?;
    Ok(FindingDetail { finding, history, tickets })
}

/// How many findings match a query.
pub async fn count_findings(platform: &Platform, actor: &Actor, query: &str) -> Result<i64> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    Ok(findings::count(&mut conn, &vigil_query::parse(query)?, &actor.scope, platform.now()).await?)
}

/// One group of a summary.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Group {
    /// The value (a severity, a status, a package name, ...).
    pub value: String,
    /// How many findings have it.
    pub count: i64,
}

/// Findings matching a query, counted per value of `by`.
pub async fn summary(platform: &Platform, actor: &Actor, query: &str, by: &str, limit: usize) -> Result<Vec<Group>> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    let groups =
        findings::group(&mut conn, &vigil_query::parse(query)?, &actor.scope, by, limit, platform.now()).await?;
    Ok(groups.into_iter().map(|(value, count)| Group { value, count }).collect())
}

/// Every tag.
pub async fn tags(platform: &Platform, actor: &Actor) -> Result<Vec<Tag>> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    Ok(assets::tags(&mut conn).await?)
}

/// One tag.
pub async fn tag(platform: &Platform, actor: &Actor, id: i64) -> Result<Tag> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    Ok(assets::tag(&mut conn, id).await?)
}

/// Audit entries matching a search, newest first by default.
pub async fn audit(platform: &Platform, actor: &Actor, search: &Search) -> Result<Paged<AuditEntry>> {
    actor.require(Permission::Read)?;
    let (expr, sort) = compiled(search, &catalogs::AUDIT, "at:desc")?;
    let mut conn = platform.store.read().await?;
    Ok(audit::list(&mut conn, &expr, &actor.scope, &sort, &search.page, platform.now()).await?)
}

/// Teams: every team for administrators, one's own for others.
pub async fn teams(platform: &Platform, actor: &Actor) -> Result<Vec<Team>> {
    actor.require(Permission::Read).or_else(|_| actor.require(Permission::Upload))?;
    let mut conn = platform.store.read().await?;
    Ok(accounts::teams(&mut conn, &actor.scope).await?)
}

/// Every user (administrators).
pub async fn users(platform: &Platform, actor: &Actor) -> Result<Vec<User>> {
    actor.require(Permission::Administer)?;
    let mut conn = platform.store.read().await?;
    Ok(accounts::users(&mut conn).await?)
}

/// One user (administrators, or the user itself).
pub async fn user(platform: &Platform, actor: &Actor, id: i64) -> Result<User> {
    if actor.user_id != Some(id) {
        actor.require(Permission::Administer)?;
    }
    let mut conn = platform.store.read().await?;
    Ok(accounts::user(&mut conn, id).await?)
}

/// Triage rules visible to the actor.
pub async fn triage_rules(platform: &Platform, actor: &Actor, include_inactive: bool) -> Result<Vec<TriageRule>> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    let rules = findings::rules(&mut conn, &actor.scope, include_inactive).await?;
    Ok(match &actor.scope {
        Scope::All => rules,
        scope => rules.into_iter().filter(|r| r.team_id.is_some_and(|t| scope.allows(t))).collect(),
    })
}

/// The advisory database: stored versions and recent re-match runs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VulnDbStatus {
    /// The version new matches use.
    pub current: Option<VulnDbVersion>,
    /// Every stored version, newest first.
    pub versions: Vec<VulnDbVersion>,
    /// Recent re-match runs, newest first.
    pub runs: Vec<RematchRun>,
}

/// The advisory database's status.
pub async fn vulndb_status(platform: &Platform, actor: &Actor) -> Result<VulnDbStatus> {
    actor.require(Permission::Read)?;
    let mut conn = platform.store.read().await?;
    Ok(VulnDbStatus {
        current: vulndb::current(&mut conn).await?,
        versions: vulndb::versions(&mut conn).await?,
        runs: jobs::runs(&mut conn, 20).await?,
    })
}

/// Recent jobs (administrators).
pub async fn jobs(platform: &Platform, actor: &Actor, status: Option<&str>, limit: i64) -> Result<Vec<Job>> {
    actor.require(Permission::Administer)?;
    let mut conn = platform.store.read().await?;
    Ok(jobs::jobs(&mut conn, status, limit.clamp(1, 1000)).await?)
}

/// One job (administrators).
pub async fn job(platform: &Platform, actor: &Actor, id: i64) -> Result<Job> {
    actor.require(Permission::Administer)?;
    let mut conn = platform.store.read().await?;
    Ok(jobs::job(&mut conn, id).await?)
}

/// Queues an advisory-database refresh (and the re-match that follows a change).
pub async fn request_refresh(platform: &Platform, actor: &Actor) -> Result<Job> {
    actor.require(Permission::Administer)?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let id = crate::jobs::enqueue(
        &mut tx,
        "vulndb.refresh",
        serde_json::json!({"reason": "request", "by": actor.name}),
        Some("vulndb.refresh".into()),
        None,
        now,
    )
    .await?;
    actor.audit(&mut tx, now, "vulndb.refresh", ("job", Some(id.to_string())), None, (None, None)).await?;
    tx.commit().await?;
    let mut conn = platform.store.read().await?;
    Ok(jobs::job(&mut conn, id).await?)
}

//! Findings, their summaries, triage and exposure windows.

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_platform::exposure::{self, Exposure};
use vigil_platform::read::{self, FindingDetail, Group};
use vigil_platform::triage::{self, Outcome, Request};
use vigil_store::Paged;
use vigil_store::model::{Finding, TriageRule};

use super::assets::Count;
use super::{ListParams, QueryParam};
use crate::AppState;
use crate::error::{ApiError, Failures};
use crate::extract::{Caller, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_findings))
        .routes(routes!(count_findings))
        .routes(routes!(summary))
        .routes(routes!(get_finding))
        .routes(routes!(asset_findings))
        .routes(routes!(decide))
        .routes(routes!(list_rules))
        .routes(routes!(deactivate_rule))
        .routes(routes!(get_exposure))
}

/// Searches findings (query language), in remediation order unless `sort` says otherwise.
#[utoipa::path(get, path = "/findings", tag = "findings", security(("bearer" = [])), params(ListParams),
    responses((status = 200, description = "A page of findings", body = Paged<Finding>), Failures))]
async fn list_findings(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<Paged<Finding>>, ApiError> {
    Ok(Json(read::findings(&state.platform, &caller.actor, &params.search()?, None).await?))
}

/// How many findings match a query.
#[utoipa::path(get, path = "/findings/count", tag = "findings", security(("bearer" = [])), params(QueryParam),
    responses((status = 200, description = "The count", body = Count), Failures))]
async fn count_findings(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<QueryParam>,
) -> Result<Json<Count>, ApiError> {
    let count = read::count_findings(&state.platform, &caller.actor, q.q.as_deref().unwrap_or_default()).await?;
    Ok(Json(Count { count }))
}

/// A summary request.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// A query in the query language.
    pub q: Option<String>,
    /// What to count by: severity, status, triage, fix, source, kev, advisory, package, ecosystem, asset, asset.kind, asset.os.
    pub by: String,
    /// The most groups to return (most frequent first): 20 when absent or 0, at most 1000.
    #[param(minimum = 0)]
    pub limit: Option<i64>,
}

/// Findings matching a query, counted per severity, status, package, asset, ...
#[utoipa::path(get, path = "/findings/summary", tag = "findings", security(("bearer" = [])), params(SummaryParams),
    responses((status = 200, description = "Counts, most frequent first", body = Vec<Group>), Failures))]
async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<SummaryParams>,
) -> Result<Json<Vec<Group>>, ApiError> {
    let limit = super::rows(params.limit, 20)?;
    Ok(Json(
        read::summary(&state.platform, &caller.actor, params.q.as_deref().unwrap_or_default(), &params.by, limit)
            .await?,
    ))
}

/// One finding with its status history.
#[utoipa::path(get, path = "/findings/{id}", tag = "findings", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "The finding", body = FindingDetail), Failures))]
async fn get_finding(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<FindingDetail>, ApiError> {
    Ok(Json(read::finding(&state.platform, &caller.actor, id).await?))
}

/// The findings of one asset.
#[utoipa::path(get, path = "/assets/{id}/findings", tag = "findings", security(("bearer" = [])),
    params(("id" = i64, Path), ListParams),
    responses((status = 200, description = "A page of findings", body = Paged<Finding>), Failures))]
async fn asset_findings(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(params): Query<ListParams>,
) -> Result<Json<Paged<Finding>>, ApiError> {
    Ok(Json(read::findings(&state.platform, &caller.actor, &params.search()?, Some(id)).await?))
}

/// Records a triage decision for findings, an advisory or a query.
#[utoipa::path(post, path = "/triage", tag = "triage", security(("bearer" = [])), request_body = Request,
    responses((status = 200, description = "What was decided", body = Outcome), Failures))]
async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<Request>,
) -> Result<Json<Outcome>, ApiError> {
    Ok(Json(triage::decide(&state.platform, &caller.actor, &request).await?))
}

/// Whether to include rules that no longer apply.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RuleParams {
    /// Include deactivated rules.
    pub all: Option<bool>,
}

/// Triage rules (advisory- and query-wide decisions).
#[utoipa::path(get, path = "/triage/rules", tag = "triage", security(("bearer" = [])), params(RuleParams),
    responses((status = 200, description = "Rules", body = Vec<TriageRule>), Failures))]
async fn list_rules(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<RuleParams>,
) -> Result<Json<Vec<TriageRule>>, ApiError> {
    Ok(Json(read::triage_rules(&state.platform, &caller.actor, params.all.unwrap_or(false)).await?))
}

/// Stops a rule from deciding later findings (its earlier decisions stay).
#[utoipa::path(delete, path = "/triage/rules/{id}", tag = "triage", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "Deactivated", body = TriageRule), Failures))]
async fn deactivate_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<TriageRule>, ApiError> {
    Ok(Json(triage::deactivate(&state.platform, &caller.actor, id).await?))
}

/// An advisory.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExposureParams {
    /// Any id or alias (`CVE-2021-3156`, `GHSA-...`, `DSA-4839-1`).
    pub advisory: String,
}

/// Which assets were exposed to an advisory, from when to when, for how
/// long in total, and which still are.
#[utoipa::path(get, path = "/exposure", tag = "findings", security(("bearer" = [])), params(ExposureParams),
    responses((status = 200, description = "Exposure windows", body = Exposure), Failures))]
async fn get_exposure(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ExposureParams>,
) -> Result<Json<Exposure>, ApiError> {
    Ok(Json(exposure::exposure(&state.platform, &caller.actor, &params.advisory).await?))
}

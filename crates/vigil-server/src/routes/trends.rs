//! Trends of findings over time for any query: open findings per day,
//! new versus fixed per week, mean time to remediate, SLA compliance; and
//! the rebuild of the daily snapshots they are read from.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_platform::trends::{self, Compliance, OpenDay, Remediation, Request, Trends, Week};
use vigil_store::model::Job;

use crate::AppState;
use crate::error::{ApiError, Failures};
use crate::extract::{Caller, Json, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(all))
        .routes(routes!(open))
        .routes(routes!(weekly))
        .routes(routes!(remediation))
        .routes(routes!(sla))
        .routes(routes!(rebuild))
}

/// Which findings and which days (UTC). Without `from` and `days`, the last 30 days ending `to`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendParams {
    /// A query over findings in the query language (docs/QUERY.md); empty for all. Only `tag:NAME`,
    /// severity comparisons and `and` are read from the daily snapshots; anything else from the history.
    pub q: Option<String>,
    /// The first day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// The last day (included), `YYYY-MM-DD`; today by default.
    pub to: Option<String>,
    /// The number of days ending `to` (1 to 3660), instead of `from`.
    pub days: Option<i64>,
}

async fn compute(state: &AppState, caller: &Caller, params: TrendParams) -> Result<Trends, ApiError> {
    let p = &state.platform;
    let request = Request::new(
        params.q.as_deref().unwrap_or_default(),
        params.from.as_deref(),
        params.to.as_deref(),
        params.days,
        p.now(),
    )?;
    Ok(trends::trends(p, &caller.actor, &request).await?)
}

/// Every trend of the findings matching `q` over the window: open per day, weekly flow, time to
/// remediate, SLA compliance (the four answers below in one).
#[utoipa::path(get, path = "/trends", tag = "trends", security(("bearer" = [])), params(TrendParams),
    responses((status = 200, description = "The trends", body = Trends), Failures))]
async fn all(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<TrendParams>,
) -> Result<Json<Trends>, ApiError> {
    Ok(Json(compute(&state, &caller, params).await?))
}

/// Open findings (NEW, ACTIVE, REOPENED) at the end of each day, per severity, with how many are
/// past their SLA due date.
#[utoipa::path(get, path = "/trends/open", tag = "trends", security(("bearer" = [])), params(TrendParams),
    responses((status = 200, description = "One entry per day", body = Vec<OpenDay>), Failures))]
async fn open(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<TrendParams>,
) -> Result<Json<Vec<OpenDay>>, ApiError> {
    Ok(Json(compute(&state, &caller, params).await?.open))
}

/// Findings first detected, reopened and fixed per week (weeks start on Monday, UTC).
#[utoipa::path(get, path = "/trends/weekly", tag = "trends", security(("bearer" = [])), params(TrendParams),
    responses((status = 200, description = "One entry per week", body = Vec<Week>), Failures))]
async fn weekly(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<TrendParams>,
) -> Result<Json<Vec<Week>>, ApiError> {
    Ok(Json(compute(&state, &caller, params).await?.weekly))
}

/// Mean time to remediate per severity (then `all`), over the fixes within the window.
#[utoipa::path(get, path = "/trends/remediation", tag = "trends", security(("bearer" = [])), params(TrendParams),
    responses((status = 200, description = "One entry per severity, then all", body = Vec<Remediation>), Failures))]
async fn remediation(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<TrendParams>,
) -> Result<Json<Vec<Remediation>>, ApiError> {
    Ok(Json(compute(&state, &caller, params).await?.remediation))
}

/// SLA compliance per severity (then `all`): fixes within the window by or after their due date,
/// and findings open at the end of the window within or past it.
#[utoipa::path(get, path = "/trends/sla", tag = "trends", security(("bearer" = [])), params(TrendParams),
    responses((status = 200, description = "One entry per severity, then all", body = Vec<Compliance>), Failures))]
async fn sla(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<TrendParams>,
) -> Result<Json<Vec<Compliance>>, ApiError> {
    Ok(Json(compute(&state, &caller, params).await?.sla))
}

/// Queues a rebuild of every daily snapshot from the status history (administrators), for
/// instance after the SLA policy changed.
#[utoipa::path(post, path = "/trends/rebuild", tag = "trends", security(("bearer" = [])),
    responses((status = 202, description = "Queued", body = Job), Failures))]
async fn rebuild(State(state): State<AppState>, caller: Caller) -> Result<(StatusCode, Json<Job>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(trends::request_rebuild(&state.platform, &caller.actor).await?)))
}

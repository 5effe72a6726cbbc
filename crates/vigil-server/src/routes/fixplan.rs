//! Fix plans: the fewest upgrades that clear one asset's findings, and the
//! upgrades that clear the most findings across the assets a query matches.

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_platform::fixplan::{self, AssetPlan, FleetPlan, Gate};

use crate::AppState;
use crate::error::{ApiError, Failures};
use crate::extract::{Caller, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(asset_fix_plan)).routes(routes!(fleet_fix_plan))
}

/// What one asset's plan must clear.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetPlanParams {
    /// The lowest severity the plan must clear (critical, high, medium, low); absent: every
    /// vulnerability, also those of unknown severity.
    pub fail_on: Option<String>,
}

/// The fewest package upgrades, each to the lowest version that clears its advisories, that
/// leave the asset no open finding at or above `fail_on` (triaged findings left out), in the
/// order of findings removed per change; packages with no fix are listed as such.
#[utoipa::path(get, path = "/assets/{id}/fix-plan", tag = "findings", security(("bearer" = [])),
    params(("id" = i64, Path), AssetPlanParams),
    responses((status = 200, description = "The plan", body = AssetPlan), Failures))]
async fn asset_fix_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(params): Query<AssetPlanParams>,
) -> Result<Json<AssetPlan>, ApiError> {
    let gate = Gate::parse(params.fail_on.as_deref())?;
    Ok(Json(fixplan::asset_plan(&state.platform, &caller.actor, id, gate).await?))
}

/// What a fleet plan covers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FleetPlanParams {
    /// Assets to cover, in the query language (docs/QUERY.md); absent: every asset.
    pub q: Option<String>,
    /// The lowest severity counted as a gate finding (critical, high, medium, low); absent:
    /// every vulnerability, also those of unknown severity.
    pub fail_on: Option<String>,
    /// Most upgrades listed: 50 when absent or 0, at most 1000.
    #[param(minimum = 0)]
    pub limit: Option<i64>,
}

/// The upgrades that clear the most findings across the assets a query matches, each
/// (ecosystem, package, from-version) computed once.
#[utoipa::path(get, path = "/fix-plan", tag = "findings", security(("bearer" = [])), params(FleetPlanParams),
    responses((status = 200, description = "Upgrades, most findings cleared first", body = FleetPlan), Failures))]
async fn fleet_fix_plan(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<FleetPlanParams>,
) -> Result<Json<FleetPlan>, ApiError> {
    let gate = Gate::parse(params.fail_on.as_deref())?;
    let limit = super::rows(params.limit, 50)?;
    let q = params.q.unwrap_or_default();
    Ok(Json(fixplan::fleet_plan(&state.platform, &caller.actor, &q, gate, limit).await?))
}

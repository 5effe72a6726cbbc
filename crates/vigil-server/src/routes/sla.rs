//! The SLA policy: days to remediate per severity, with per-tag overrides.
//! Due dates and breaches are read on findings (`due_at`, `sla`) and
//! searched with `sla:breached`, `due<...`.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_platform::sla::{self, Policy};

use crate::AppState;
use crate::error::{ApiError, Failures};
use crate::extract::{Caller, Json};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_policy, put_policy))
}

/// The SLA policy in force: days per severity (a severity left out has no SLA) and per-tag overrides.
#[utoipa::path(get, path = "/sla", tag = "sla", security(("bearer" = [])),
    responses((status = 200, description = "The policy", body = Policy), Failures))]
async fn get_policy(State(state): State<AppState>, caller: Caller) -> Result<Json<Policy>, ApiError> {
    Ok(Json(sla::get(&state.platform, &caller.actor).await?))
}

/// Replaces the SLA policy (administrators); every finding's due date is
/// re-computed and the change is audited (`sla.update`). Where several tags
/// of an asset override a severity, the fewest days win.
#[utoipa::path(put, path = "/sla", tag = "sla", security(("bearer" = [])), request_body = Policy,
    responses((status = 200, description = "The policy now in force", body = Policy), Failures))]
async fn put_policy(
    State(state): State<AppState>,
    caller: Caller,
    Json(policy): Json<Policy>,
) -> Result<Json<Policy>, ApiError> {
    Ok(Json(sla::set(&state.platform, &caller.actor, &policy).await?))
}

//! Notification rules and what they sent.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_platform::notify::{self, RuleDetail, RuleRequest};
use vigil_store::notifications::NotificationRule;

use crate::AppState;
use crate::error::{ApiError, Failures};
use crate::extract::{Caller, Json, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_rules, create_rule)).routes(routes!(get_rule, deactivate_rule))
}

/// Notification rules, active and deactivated, with their pending events.
#[utoipa::path(get, path = "/notification-rules", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "Rules", body = Vec<NotificationRule>), Failures))]
async fn list_rules(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<NotificationRule>>, ApiError> {
    Ok(Json(notify::rules(&state.platform, &caller.actor).await?))
}

/// Saves a notification rule: an event kind, a query and a webhook or email integration.
#[utoipa::path(post, path = "/notification-rules", tag = "notifications", security(("bearer" = [])),
    request_body = RuleRequest, responses((status = 201, description = "Created", body = NotificationRule), Failures))]
async fn create_rule(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<RuleRequest>,
) -> Result<(StatusCode, Json<NotificationRule>), ApiError> {
    Ok((StatusCode::CREATED, Json(notify::create_rule(&state.platform, &caller.actor, &request).await?)))
}

/// One rule with its last sends.
#[utoipa::path(get, path = "/notification-rules/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, description = "The rule", body = RuleDetail), Failures))]
async fn get_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RuleDetail>, ApiError> {
    Ok(Json(notify::rule(&state.platform, &caller.actor, id).await?))
}

/// Stops a rule.
#[utoipa::path(delete, path = "/notification-rules/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, description = "Deactivated", body = NotificationRule), Failures))]
async fn deactivate_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<NotificationRule>, ApiError> {
    Ok(Json(notify::deactivate_rule(&state.platform, &caller.actor, id).await?))
}

//! Integrations (Jira, GitHub, webhooks, email) and the inbound webhooks
//! through which Jira and GitHub move Vigil's tickets.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_integrations::InboundRequest;
use vigil_platform::integrations::{self, IntegrationRequest};
use vigil_platform::sync;
use vigil_store::tickets::Integration;

use crate::AppState;
use crate::error::{ApiError, Failures};
use crate::extract::{Caller, Json, Path};

pub fn router() -> OpenApiRouter<AppState> {
    // Inbound webhooks come unauthenticated: their bodies are capped before they are read whole.
    let inbound = OpenApiRouter::new()
        .routes(routes!(inbound))
        .layer(DefaultBodyLimit::max(vigil_integrations::inbound::MAX_INBOUND_BYTES));
    OpenApiRouter::new().routes(routes!(list_integrations, create_integration)).merge(inbound)
}

/// Integrations, without their settings.
#[utoipa::path(get, path = "/integrations", tag = "tickets", security(("bearer" = [])),
    responses((status = 200, description = "Integrations", body = Vec<Integration>), Failures))]
async fn list_integrations(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<Integration>>, ApiError> {
    Ok(Json(integrations::list(&state.platform, &caller.actor).await?))
}

/// Stores an integration (administrators); its settings are checked, kept, and never shown again.
#[utoipa::path(post, path = "/integrations", tag = "tickets", security(("bearer" = [])),
    request_body = IntegrationRequest, responses((status = 201, description = "Created", body = Integration), Failures))]
async fn create_integration(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<IntegrationRequest>,
) -> Result<(StatusCode, Json<Integration>), ApiError> {
    Ok((StatusCode::CREATED, Json(integrations::create(&state.platform, &caller.actor, &request).await?)))
}

/// What an inbound webhook did.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundOutcome {
    /// The Vigil ticket it closed or reopened, if any.
    pub ticket: Option<i64>,
}

/// A Jira or GitHub webhook: authenticated by its HMAC-SHA256 signature
/// (`X-Hub-Signature` / `X-Hub-Signature-256`) with the integration's
/// inbound secret, not by a token; closes or reopens the ticket a person
/// moved there.
#[utoipa::path(post, path = "/integrations/{id}/webhook", tag = "tickets", params(("id" = i64, Path)),
    request_body(content = String, description = "The system's webhook body, signed", content_type = "application/json"),
    responses((status = 200, description = "Received", body = InboundOutcome), Failures))]
async fn inbound(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<InboundOutcome>, ApiError> {
    let body = body.map_err(|rejection| ApiError::Status(rejection.status(), rejection.body_text()))?;
    let request = InboundRequest { headers: &headers, query: query.as_deref(), body: &body };
    Ok(Json(InboundOutcome { ticket: sync::inbound(&state.platform, id, &request).await? }))
}

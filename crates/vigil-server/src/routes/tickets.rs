//! Remediation tickets and ticket rules.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_platform::tickets::{self, Preview, RuleRequest, TicketDetail, Update};
use vigil_store::Paged;
use vigil_store::tickets::{Ticket, TicketRule};

use crate::AppState;
use crate::error::{ApiError, Failures};
use crate::extract::{Caller, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tickets))
        .routes(routes!(get_ticket, update_ticket))
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(dry_run))
        .routes(routes!(deactivate_rule))
}

/// Which tickets.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketParams {
    /// `open` or `closed` (absent: both).
    pub status: Option<String>,
    /// Rows per page: 50 when absent or 0, at most 1000.
    #[param(minimum = 0)]
    pub limit: Option<i64>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
}

/// Tickets, newest first.
#[utoipa::path(get, path = "/tickets", tag = "tickets", security(("bearer" = [])), params(TicketParams),
    responses((status = 200, description = "A page of tickets", body = Paged<Ticket>), Failures))]
async fn list_tickets(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<TicketParams>,
) -> Result<Json<Paged<Ticket>>, ApiError> {
    let limit = super::rows(params.limit, 50)?;
    let before = match params.cursor.as_deref() {
        Some(c) => Some(c.parse::<i64>().map_err(|_| ApiError::invalid("cursor: the `next` value of a page"))?),
        None => None,
    };
    let items = tickets::list(&state.platform, &caller.actor, params.status.as_deref(), before, limit).await?;
    let next = (items.len() == limit).then(|| items.last().map(|t| t.id.to_string())).flatten();
    Ok(Json(Paged { items, next }))
}

/// One ticket with its findings, log and delivery log.
#[utoipa::path(get, path = "/tickets/{id}", tag = "tickets", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "The ticket", body = TicketDetail), Failures))]
async fn get_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<TicketDetail>, ApiError> {
    Ok(Json(tickets::get(&state.platform, &caller.actor, id).await?))
}

/// Comments on a ticket, or closes or reopens it (with a comment).
#[utoipa::path(patch, path = "/tickets/{id}", tag = "tickets", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = Update, responses((status = 200, description = "The ticket", body = TicketDetail), Failures))]
async fn update_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(update): Json<Update>,
) -> Result<Json<TicketDetail>, ApiError> {
    Ok(Json(tickets::update(&state.platform, &caller.actor, id, &update).await?))
}

/// Ticket rules, active and deactivated.
#[utoipa::path(get, path = "/ticket-rules", tag = "tickets", security(("bearer" = [])),
    responses((status = 200, description = "Rules", body = Vec<TicketRule>), Failures))]
async fn list_rules(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<TicketRule>>, ApiError> {
    Ok(Json(tickets::rules(&state.platform, &caller.actor).await?))
}

/// Saves a ticket rule; it opens tickets for what it matches now and after every ingest and re-match.
#[utoipa::path(post, path = "/ticket-rules", tag = "tickets", security(("bearer" = [])), request_body = RuleRequest,
    responses((status = 201, description = "Created", body = TicketRule), Failures))]
async fn create_rule(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<RuleRequest>,
) -> Result<(StatusCode, Json<TicketRule>), ApiError> {
    Ok((StatusCode::CREATED, Json(tickets::create_rule(&state.platform, &caller.actor, &request).await?)))
}

/// What a rule would open now, without saving it.
#[utoipa::path(post, path = "/ticket-rules/dry-run", tag = "tickets", security(("bearer" = [])),
    request_body = RuleRequest, responses((status = 200, description = "The tickets it would open", body = Vec<Preview>), Failures))]
async fn dry_run(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<RuleRequest>,
) -> Result<Json<Vec<Preview>>, ApiError> {
    Ok(Json(tickets::dry_run(&state.platform, &caller.actor, &request).await?))
}

/// Stops a rule from opening tickets (its tickets stay).
#[utoipa::path(delete, path = "/ticket-rules/{id}", tag = "tickets", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "Deactivated", body = TicketRule), Failures))]
async fn deactivate_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<TicketRule>, ApiError> {
    Ok(Json(tickets::deactivate_rule(&state.platform, &caller.actor, id).await?))
}

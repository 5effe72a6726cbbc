//! Users, teams and API tokens.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_platform::admin::{self, CreatedToken, NewTokenRequest, NewUser, UserChange};
use vigil_platform::read;
use vigil_store::model::{Team, Token, User};

use crate::AppState;
use crate::error::{ApiError, Failures};
use crate::extract::{Caller, Json, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(list_teams, create_team))
        .routes(routes!(delete_team))
        .routes(routes!(add_member, remove_member))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// Every user (administrators).
#[utoipa::path(get, path = "/users", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "Users", body = Vec<User>), Failures))]
async fn list_users(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(read::users(&state.platform, &caller.actor).await?))
}

/// Creates a user (administrators).
#[utoipa::path(post, path = "/users", tag = "accounts", security(("bearer" = [])), request_body = NewUser,
    responses((status = 201, description = "Created", body = User), Failures))]
async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((StatusCode::CREATED, Json(admin::create_user(&state.platform, &caller.actor, &new).await?)))
}

/// One user (administrators, or the user itself).
#[utoipa::path(get, path = "/users/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "The user", body = User), Failures))]
async fn get_user(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<User>, ApiError> {
    Ok(Json(read::user(&state.platform, &caller.actor, id).await?))
}

/// Changes a user's role, password or disabled flag (administrators).
#[utoipa::path(patch, path = "/users/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = UserChange, responses((status = 200, description = "Changed", body = User), Failures))]
async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(change): Json<UserChange>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(admin::update_user(&state.platform, &caller.actor, id, &change).await?))
}

/// Teams: all of them for administrators, the caller's own for others.
#[utoipa::path(get, path = "/teams", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "Teams", body = Vec<Team>), Failures))]
async fn list_teams(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<Team>>, ApiError> {
    Ok(Json(read::teams(&state.platform, &caller.actor).await?))
}

/// A team's name.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTeam {
    /// Unique name.
    pub name: String,
}

/// Creates a team (administrators).
#[utoipa::path(post, path = "/teams", tag = "accounts", security(("bearer" = [])), request_body = NewTeam,
    responses((status = 201, description = "Created", body = Team), Failures))]
async fn create_team(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewTeam>,
) -> Result<(StatusCode, Json<Team>), ApiError> {
    Ok((StatusCode::CREATED, Json(admin::create_team(&state.platform, &caller.actor, &new.name).await?)))
}

/// Deletes a team that owns no assets (administrators).
#[utoipa::path(delete, path = "/teams/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    admin::delete_team(&state.platform, &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a user to a team (administrators).
#[utoipa::path(put, path = "/teams/{id}/members/{user_id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, description = "The user with its teams", body = User), Failures))]
async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, user)): Path<(i64, i64)>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(admin::membership(&state.platform, &caller.actor, team, user, true).await?))
}

/// Removes a user from a team (administrators).
#[utoipa::path(delete, path = "/teams/{id}/members/{user_id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, description = "The user with its teams", body = User), Failures))]
async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, user)): Path<(i64, i64)>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(admin::membership(&state.platform, &caller.actor, team, user, false).await?))
}

/// The caller's tokens (everyone's, for administrators). Secrets are never shown.
#[utoipa::path(get, path = "/tokens", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "Tokens", body = Vec<Token>), Failures))]
async fn list_tokens(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<Token>>, ApiError> {
    Ok(Json(admin::tokens(&state.platform, &caller.actor).await?))
}

/// Creates an API token; the response shows it once.
#[utoipa::path(post, path = "/tokens", tag = "accounts", security(("bearer" = [])), request_body = NewTokenRequest,
    responses((status = 201, description = "Created: keep the token, it is not shown again", body = CreatedToken), Failures))]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<NewTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    Ok((StatusCode::CREATED, Json(admin::create_token(&state.platform, &caller.actor, &request).await?)))
}

/// Revokes a token (the caller's own; any, for administrators).
#[utoipa::path(delete, path = "/tokens/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "Revoked", body = Token), Failures))]
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Token>, ApiError> {
    Ok(Json(admin::revoke_token(&state.platform, &caller.actor, id).await?))
}

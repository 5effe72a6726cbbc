//! Signing in and out, and who the caller is.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_platform::auth;
use vigil_store::model::{Role, Token, User};

use crate::AppState;
use crate::error::{ApiError, Failures};
use crate::extract::{Caller, Json, Origin};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(logout)).routes(routes!(me))
}

/// A user name and password.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Login {
    /// Sign-in name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A session.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// A bearer token for the session (shown once).
    pub token: String,
    /// What is stored about it (its expiry).
    pub record: Token,
}

/// Signs in with a user name and password; returns a session token.
/// Repeated failures from one address for one user are refused for a while.
#[utoipa::path(post, path = "/auth/login", tag = "session", request_body = Login,
    responses((status = 200, description = "Signed in", body = Session), Failures))]
async fn login(
    State(state): State<AppState>,
    origin: Origin,
    Json(login): Json<Login>,
) -> Result<Json<Session>, ApiError> {
    let (token, record) =
        auth::login(&state.platform, &state.limiter, &login.username, &login.password, origin.address.as_deref())
            .await?;
    Ok(Json(Session { token, record }))
}

/// Signs out: revokes the token presented.
#[utoipa::path(post, path = "/auth/logout", tag = "session", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), Failures))]
async fn logout(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    auth::logout(&state.platform, &caller.actor, &caller.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The user.
    pub user: User,
    /// The role this token acts with.
    pub role: Role,
}

/// Who the token belongs to, and the role it acts with.
#[utoipa::path(get, path = "/me", tag = "session", security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = Me), Failures))]
async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, ApiError> {
    let id = caller.actor.user_id.ok_or_else(|| ApiError::invalid("not a user"))?;
    let user = vigil_platform::read::user(&state.platform, &caller.actor, id).await?;
    Ok(Json(Me { user, role: caller.actor.role }))
}

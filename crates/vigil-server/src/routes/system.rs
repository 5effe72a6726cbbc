//! The audit trail, the advisory database, jobs, and the query-language fields.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_platform::read::{self, VulnDbStatus};
use vigil_query::Kind;
use vigil_store::Paged;
use vigil_store::model::{AuditEntry, Job};

use super::ListParams;
use crate::AppState;
use crate::error::{ApiError, Failures};
use crate::extract::{Caller, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(audit))
        .routes(routes!(vulndb))
        .routes(routes!(refresh))
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
        .routes(routes!(fields))
}

/// Searches the audit trail (query language over `at`, `actor`, `action`, `target`, ...), newest first.
#[utoipa::path(get, path = "/audit", tag = "audit", security(("bearer" = [])), params(ListParams),
    responses((status = 200, description = "A page of entries", body = Paged<AuditEntry>), Failures))]
async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<Paged<AuditEntry>>, ApiError> {
    Ok(Json(read::audit(&state.platform, &caller.actor, &params.search()?).await?))
}

/// The advisory database: the current version, stored versions, re-match runs.
#[utoipa::path(get, path = "/vulndb", tag = "vulndb", security(("bearer" = [])),
    responses((status = 200, description = "Status", body = VulnDbStatus), Failures))]
async fn vulndb(State(state): State<AppState>, caller: Caller) -> Result<Json<VulnDbStatus>, ApiError> {
    Ok(Json(read::vulndb_status(&state.platform, &caller.actor).await?))
}

/// Queues a refresh of the advisory database; when the data changed, every
/// stored inventory is re-matched (administrators).
#[utoipa::path(post, path = "/vulndb/refresh", tag = "vulndb", security(("bearer" = [])),
    responses((status = 202, description = "Queued", body = Job), Failures))]
async fn refresh(State(state): State<AppState>, caller: Caller) -> Result<(StatusCode, Json<Job>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(read::request_refresh(&state.platform, &caller.actor).await?)))
}

/// Which jobs to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobParams {
    /// `queued`, `running`, `done` or `failed`.
    pub status: Option<String>,
    /// How many (newest first): 100 when absent or 0, at most 1000.
    #[param(minimum = 0)]
    pub limit: Option<i64>,
}

/// Recent jobs (administrators).
#[utoipa::path(get, path = "/jobs", tag = "vulndb", security(("bearer" = [])), params(JobParams),
    responses((status = 200, description = "Jobs", body = Vec<Job>), Failures))]
async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<JobParams>,
) -> Result<Json<Vec<Job>>, ApiError> {
    let limit = super::rows(params.limit, 100)? as i64;
    Ok(Json(read::jobs(&state.platform, &caller.actor, params.status.as_deref(), limit).await?))
}

/// One job (administrators).
#[utoipa::path(get, path = "/jobs/{id}", tag = "vulndb", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "The job", body = Job), Failures))]
async fn get_job(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<Job>, ApiError> {
    Ok(Json(read::job(&state.platform, &caller.actor, id).await?))
}

/// A field of the query language.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldInfo {
    /// What it searches: `findings`, `assets` or `audit`.
    pub entity: &'static str,
    /// Its name (`label.*` takes any key).
    pub name: &'static str,
    /// `text`, `word`, `ordered word`, `whole number`, `number`, `boolean` or `time`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The words it takes, for words.
    pub values: Option<Vec<&'static str>>,
    /// What it means.
    pub doc: &'static str,
    /// Whether lists can be sorted by it.
    pub sortable: bool,
}

/// Every field of the query language, for editors and completion.
#[utoipa::path(get, path = "/query/fields", tag = "audit", security(("bearer" = [])),
    responses((status = 200, description = "Fields", body = Vec<FieldInfo>), Failures))]
async fn fields(caller: Caller) -> Result<Json<Vec<FieldInfo>>, ApiError> {
    caller.actor.require(vigil_platform::auth::Permission::Read)?;
    let mut out = Vec::new();
    for catalog in vigil_store::catalogs::ALL {
        for f in catalog.fields {
            let kind = match f.kind {
                Kind::Text => "text",
                Kind::Enum(_) => "word",
                Kind::Ordered(_) => "ordered word",
                Kind::Integer => "whole number",
                Kind::Number => "number",
                Kind::Bool => "boolean",
                Kind::Time => "time",
            };
            out.push(FieldInfo {
                entity: catalog.entity,
                name: f.name,
                kind,
                values: f.words().map(<[&str]>::to_vec),
                doc: f.doc,
                sortable: f.sort.is_some(),
            });
        }
    }
    Ok(Json(out))
}

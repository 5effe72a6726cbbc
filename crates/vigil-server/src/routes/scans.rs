//! Uploads (Vigil inventories and CycloneDX/SPDX SBOMs) and scans.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_platform::ingest::{self, IngestResult, SbomParams, Upload};
use vigil_platform::read;
use vigil_store::model::Scan;

use crate::AppState;
use crate::error::{ApiError, Failures};
use crate::extract::{Body, Caller, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload)).routes(routes!(upload_sbom)).routes(routes!(get_scan))
}

/// The status of an ingest: 201 when it recorded a scan, 200 when the same
/// content had been uploaded before and nothing changed.
fn status(result: &IngestResult) -> StatusCode {
    if result.unchanged { StatusCode::OK } else { StatusCode::CREATED }
}

/// Uploads a scan: the asset it is of and its inventory (what `vigil scan
/// --upload` sends). The server matches the inventory against its own
/// advisory database. Bodies may be gzip-encoded (`Content-Encoding: gzip`).
#[utoipa::path(post, path = "/scans", tag = "scans", security(("bearer" = [])), request_body = Upload,
    responses(
        (status = 201, description = "Recorded", body = IngestResult),
        (status = 200, description = "The same content was uploaded before; nothing changed", body = IngestResult),
        Failures))]
async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Json(upload): Json<Upload>,
) -> Result<(StatusCode, Json<IngestResult>), ApiError> {
    let result = ingest::ingest(&state.platform, &caller.actor, upload, "upload").await?;
    Ok((status(&result), Json(result)))
}

/// Uploads a CycloneDX or SPDX JSON SBOM from any tool (Syft, Trivy, cdxgen, Vigil).
#[utoipa::path(post, path = "/sboms", tag = "scans", security(("bearer" = [])), params(SbomParams),
    request_body(content = Object, content_type = "application/json", description = "A CycloneDX or SPDX JSON document"),
    responses(
        (status = 201, description = "Recorded", body = IngestResult),
        (status = 200, description = "The same content was uploaded before; nothing changed", body = IngestResult),
        Failures))]
async fn upload_sbom(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<SbomParams>,
    Body(body): Body,
) -> Result<(StatusCode, Json<IngestResult>), ApiError> {
    let result = ingest::ingest_sbom(&state.platform, &caller.actor, &body, params).await?;
    Ok((status(&result), Json(result)))
}

/// One scan.
#[utoipa::path(get, path = "/scans/{id}", tag = "scans", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "The scan", body = Scan), Failures))]
async fn get_scan(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<Scan>, ApiError> {
    Ok(Json(read::scan(&state.platform, &caller.actor, id).await?))
}

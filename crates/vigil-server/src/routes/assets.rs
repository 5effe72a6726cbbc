//! Assets, their inventories, scans, OpenVEX, and tags.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_platform::admin::{self, AssetRequest};
use vigil_platform::tags::{self, TagRequest};
use vigil_platform::{read, vex};
use vigil_store::Paged;
use vigil_store::model::{Asset, InventoryPackage, Scan, Tag};

use super::{ListParams, PageParams, QueryParam};
use crate::AppState;
use crate::error::{ApiError, Failures};
use crate::extract::{Caller, Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_assets, create_asset))
        .routes(routes!(count_assets))
        .routes(routes!(get_asset, update_asset, delete_asset))
        .routes(routes!(asset_inventory))
        .routes(routes!(asset_scans))
        .routes(routes!(asset_vex))
        .routes(routes!(tag_assets))
        .routes(routes!(list_tags, create_tag))
        .routes(routes!(preview_tag))
        .routes(routes!(get_tag, update_tag, delete_tag))
}

/// Searches assets (query language; `sort` by `last_scan`, `name`, `findings`, ...).
#[utoipa::path(get, path = "/assets", tag = "assets", security(("bearer" = [])), params(ListParams),
    responses((status = 200, description = "A page of assets", body = Paged<Asset>), Failures))]
async fn list_assets(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<Paged<Asset>>, ApiError> {
    Ok(Json(read::assets(&state.platform, &caller.actor, &params.search()?).await?))
}

/// A count.
#[derive(Debug, Serialize, ToSchema)]
pub struct Count {
    /// How many match.
    pub count: i64,
}

/// How many assets match a query.
#[utoipa::path(get, path = "/assets/count", tag = "assets", security(("bearer" = [])), params(QueryParam),
    responses((status = 200, description = "The count", body = Count), Failures))]
async fn count_assets(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<QueryParam>,
) -> Result<Json<Count>, ApiError> {
    let count = read::count_assets(&state.platform, &caller.actor, q.q.as_deref().unwrap_or_default()).await?;
    Ok(Json(Count { count }))
}

/// Creates an asset by hand (uploads create theirs).
#[utoipa::path(post, path = "/assets", tag = "assets", security(("bearer" = [])), request_body = AssetRequest,
    responses((status = 201, description = "Created", body = Asset), Failures))]
async fn create_asset(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<AssetRequest>,
) -> Result<(StatusCode, Json<Asset>), ApiError> {
    Ok((StatusCode::CREATED, Json(admin::create_asset(&state.platform, &caller.actor, &request).await?)))
}

/// One asset.
#[utoipa::path(get, path = "/assets/{id}", tag = "assets", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "The asset", body = Asset), Failures))]
async fn get_asset(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Asset>, ApiError> {
    Ok(Json(read::asset(&state.platform, &caller.actor, id).await?))
}

/// Changes an asset's attributes and labels, or moves it to another team.
#[utoipa::path(patch, path = "/assets/{id}", tag = "assets", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = AssetRequest, responses((status = 200, description = "Changed", body = Asset), Failures))]
async fn update_asset(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(request): Json<AssetRequest>,
) -> Result<Json<Asset>, ApiError> {
    Ok(Json(admin::update_asset(&state.platform, &caller.actor, id, &request).await?))
}

/// Deletes an asset with its scans and findings.
#[utoipa::path(delete, path = "/assets/{id}", tag = "assets", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_asset(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    admin::delete_asset(&state.platform, &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The asset's current inventory (with the image layer of each package).
#[utoipa::path(get, path = "/assets/{id}/inventory", tag = "assets", security(("bearer" = [])),
    params(("id" = i64, Path), PageParams),
    responses((status = 200, description = "A page of packages", body = Paged<InventoryPackage>), Failures))]
async fn asset_inventory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(page): Query<PageParams>,
) -> Result<Json<Paged<InventoryPackage>>, ApiError> {
    Ok(Json(read::inventory(&state.platform, &caller.actor, id, &page.page()?).await?))
}

/// The asset's scans, newest first.
#[utoipa::path(get, path = "/assets/{id}/scans", tag = "assets", security(("bearer" = [])),
    params(("id" = i64, Path), PageParams),
    responses((status = 200, description = "A page of scans", body = Paged<Scan>), Failures))]
async fn asset_scans(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(page): Query<PageParams>,
) -> Result<Json<Paged<Scan>>, ApiError> {
    Ok(Json(read::asset_scans(&state.platform, &caller.actor, id, &page.page()?).await?))
}

/// The asset's triage as an OpenVEX document, which `vigil scan --vex` reads.
#[utoipa::path(get, path = "/assets/{id}/vex", tag = "assets", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "OpenVEX v0.2.0", body = Object), Failures))]
async fn asset_vex(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(vex::openvex(&state.platform, &caller.actor, id).await?))
}

/// Assets to tag or untag.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Tagging {
    /// The static tag (created when missing, when tagging).
    pub tag: String,
    /// Asset ids.
    pub assets: Vec<i64>,
    /// Take the tag off instead.
    #[serde(default)]
    pub remove: bool,
}

/// Puts a static tag on assets, or takes it off (bulk).
#[utoipa::path(post, path = "/assets/tags", tag = "assets", security(("bearer" = [])), request_body = Tagging,
    responses((status = 200, description = "The tag", body = Tag), Failures))]
async fn tag_assets(
    State(state): State<AppState>,
    caller: Caller,
    Json(tagging): Json<Tagging>,
) -> Result<Json<Tag>, ApiError> {
    Ok(Json(tags::set_on_assets(&state.platform, &caller.actor, &tagging.tag, &tagging.assets, !tagging.remove).await?))
}

/// Every tag, with how many assets carry it.
#[utoipa::path(get, path = "/tags", tag = "tags", security(("bearer" = [])),
    responses((status = 200, description = "Tags", body = Vec<Tag>), Failures))]
async fn list_tags(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<Tag>>, ApiError> {
    Ok(Json(read::tags(&state.platform, &caller.actor).await?))
}

/// Creates a tag; with a `rule` (a query over assets) it is dynamic.
#[utoipa::path(post, path = "/tags", tag = "tags", security(("bearer" = [])), request_body = TagRequest,
    responses((status = 201, description = "Created", body = Tag), Failures))]
async fn create_tag(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<TagRequest>,
) -> Result<(StatusCode, Json<Tag>), ApiError> {
    Ok((StatusCode::CREATED, Json(tags::create(&state.platform, &caller.actor, &request).await?)))
}

/// A rule to try.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Rule {
    /// A query over assets.
    pub rule: String,
}

/// The assets (visible to the caller) a dynamic-tag rule would tag now; nothing is saved.
#[utoipa::path(post, path = "/tags/preview", tag = "tags", security(("bearer" = [])), request_body = Rule,
    responses((status = 200, description = "Asset ids", body = Vec<i64>), Failures))]
async fn preview_tag(
    State(state): State<AppState>,
    caller: Caller,
    Json(rule): Json<Rule>,
) -> Result<Json<Vec<i64>>, ApiError> {
    Ok(Json(tags::preview(&state.platform, &caller.actor, &rule.rule).await?))
}

/// One tag.
#[utoipa::path(get, path = "/tags/{id}", tag = "tags", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "The tag", body = Tag), Failures))]
async fn get_tag(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<Tag>, ApiError> {
    Ok(Json(read::tag(&state.platform, &caller.actor, id).await?))
}

/// Changes a tag; a changed rule is evaluated over every asset at once.
#[utoipa::path(patch, path = "/tags/{id}", tag = "tags", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = TagRequest, responses((status = 200, description = "Changed", body = Tag), Failures))]
async fn update_tag(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(request): Json<TagRequest>,
) -> Result<Json<Tag>, ApiError> {
    Ok(Json(tags::update(&state.platform, &caller.actor, id, &request).await?))
}

/// Deletes a tag.
#[utoipa::path(delete, path = "/tags/{id}", tag = "tags", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_tag(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    tags::delete(&state.platform, &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

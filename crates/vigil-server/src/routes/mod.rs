//! The API, one module per resource; each handler turns HTTP into one
//! platform call and back. `router` collects them with their OpenAPI paths.

mod accounts;
mod assets;
mod findings;
mod fixplan;
mod integrations;
mod notifications;
mod scans;
mod session;
mod sla;
mod system;
mod tickets;
mod trends;

use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use vigil_platform::read::Search;
use vigil_store::Page;

use crate::AppState;
use crate::error::ApiError;

/// The `/api/v1` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(session::router())
        .merge(accounts::router())
        .merge(assets::router())
        .merge(scans::router())
        .merge(findings::router())
        .merge(sla::router())
        .merge(fixplan::router())
        .merge(trends::router())
        .merge(system::router())
        .merge(tickets::router())
        .merge(integrations::router())
        .merge(notifications::router())
}

/// Search, sort and page parameters of list endpoints.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A query in the query language (docs/QUERY.md).
    pub q: Option<String>,
    /// Sort keys: `field[:asc|:desc],...`.
    pub sort: Option<String>,
    /// Rows per page: 50 when absent or 0, at most 1000 (larger values are cut to 1000).
    #[param(minimum = 0)]
    pub limit: Option<i64>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
}

/// A `limit` parameter: absent or 0 means `default`; larger than 1000 is cut to 1000.
fn rows(limit: Option<i64>, default: usize) -> Result<usize, ApiError> {
    match limit {
        None | Some(0) => Ok(default),
        Some(n) if n < 0 => Err(ApiError::invalid("limit: a number of rows, 0 or more")),
        Some(n) => Ok(n.min(1000) as usize),
    }
}

impl ListParams {
    fn search(self) -> Result<Search, ApiError> {
        Ok(Search {
            query: self.q.unwrap_or_default(),
            sort: self.sort.unwrap_or_default(),
            page: Page { limit: rows(self.limit, 50)?, cursor: self.cursor },
        })
    }
}

/// Page parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Rows per page: 100 when absent or 0, at most 1000 (larger values are cut to 1000).
    #[param(minimum = 0)]
    pub limit: Option<i64>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    fn page(self) -> Result<Page, ApiError> {
        Ok(Page { limit: rows(self.limit, 100)?, cursor: self.cursor })
    }
}

/// A query without paging.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueryParam {
    /// A query in the query language.
    pub q: Option<String>,
}

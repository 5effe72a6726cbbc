//! The API, one module per resource; each handler turns HTTP into one
//! platform call and back. `router` collects them with their OpenAPI paths.

mod accounts;
mod assets;
mod findings;
mod scans;
mod session;
mod system;

use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use vigil_platform::read::Search;
use vigil_store::Page;

use crate::AppState;

/// The `/api/v1` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(session::router())
        .merge(accounts::router())
        .merge(assets::router())
        .merge(scans::router())
        .merge(findings::router())
        .merge(system::router())
}

/// Search, sort and page parameters of list endpoints.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A query in the query language (docs/QUERY.md).
    pub q: Option<String>,
    /// Sort keys: `field[:asc|:desc],...`.
    pub sort: Option<String>,
    /// Rows per page (1 to 1000; 50 by default).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
}

impl ListParams {
    fn search(self) -> Search {
        Search {
            query: self.q.unwrap_or_default(),
            sort: self.sort.unwrap_or_default(),
            page: Page { limit: self.limit.unwrap_or(0) as usize, cursor: self.cursor },
        }
    }
}

/// Page parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Rows per page (1 to 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    fn page(self) -> Page {
        Page { limit: self.limit.unwrap_or(0) as usize, cursor: self.cursor }
    }
}

/// A query without paging.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueryParam {
    /// A query in the query language.
    pub q: Option<String>,
}

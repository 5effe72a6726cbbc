//! One error format for every route: `application/problem+json` (RFC 9457).
//! Server faults are logged with their details and answered with a generic
//! message; everything else says what is wrong and, for queries, where.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use vigil_platform::Error;

/// A problem report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URN naming the kind of problem (`urn:vigil:problem:invalid-query`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, and what to do.
    pub detail: String,
    /// For query errors: the 1-based column where the problem starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// For query errors: a suggestion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// An error answered as a problem report.
#[derive(Debug)]
pub enum ApiError {
    /// What the platform refused or failed at.
    Platform(Error),
    /// A request HTTP itself refuses (an unreadable body, a wrong content type).
    Status(StatusCode, String),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        ApiError::Platform(e)
    }
}

impl From<vigil_store::Error> for ApiError {
    fn from(e: vigil_store::Error) -> ApiError {
        ApiError::Platform(e.into())
    }
}

impl ApiError {
    /// A bad request.
    pub fn invalid(detail: impl Into<String>) -> ApiError {
        ApiError::Platform(Error::Invalid(detail.into()))
    }

    fn parts(error: &Error) -> (StatusCode, &'static str, &'static str) {
        match error {
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Not signed in"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Not allowed"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Error::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid-request", "Invalid request"),
            Error::Query(_) => (StatusCode::BAD_REQUEST, "invalid-query", "Invalid query"),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            Error::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too-large", "Too large"),
            Error::TooMany(..) => (StatusCode::TOO_MANY_REQUESTS, "too-many-requests", "Too many requests"),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Unavailable"),
            Error::Upstream { .. } => (StatusCode::BAD_GATEWAY, "upstream", "A connected system failed"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
        }
    }

    /// The problem report.
    pub fn problem(error: &Error) -> Problem {
        let (status, kind, title) = ApiError::parts(error);
        let (detail, column, hint) = match error {
            Error::Query(q) => (q.to_string(), Some(q.column), q.hint.clone()),
            Error::Internal(_) => ("the server failed; the details are in its log".to_string(), None, None),
            other => (other.to_string(), None, None),
        };
        Problem {
            kind: format!("urn:vigil:problem:{kind}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            column,
            hint,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = match self {
            ApiError::Status(status, detail) => return status_problem(status, &detail),
            ApiError::Platform(error) => error,
        };
        let problem = ApiError::problem(&error);
        if problem.status >= 500 {
            tracing::error!(error = %error, "request failed");
        }
        problem_response(
            &problem,
            match &error {
                Error::TooMany(_, wait) => Some(*wait),
                _ => None,
            },
        )
    }
}

/// A problem as a response.
pub fn problem_response(problem: &Problem, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if let Some(wait) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
    }
    response
}

/// A problem for a status with no platform error behind it (unknown route,
/// wrong method, body too large, panic).
pub fn status_problem(status: StatusCode, detail: &str) -> Response {
    let (kind, title) = match status {
        StatusCode::NOT_FOUND => ("not-found", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "Too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", "Unsupported media type"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "Request timeout"),
        StatusCode::BAD_REQUEST => ("invalid-request", "Invalid request"),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid-request", "Invalid request"),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "Unavailable"),
        _ => ("internal", "Internal error"),
    };
    problem_response(
        &Problem {
            kind: format!("urn:vigil:problem:{kind}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            column: None,
            hint: None,
        },
        None,
    )
}

/// The failures a route may answer with, for the OpenAPI document: each
/// a problem report.
pub struct Failures;

impl utoipa::IntoResponses for Failures {
    fn responses() -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::response::Response>> {
        use utoipa::openapi::content::ContentBuilder;
        use utoipa::openapi::response::ResponseBuilder;
        use utoipa::openapi::schema::Ref;
        [
            (400, "Invalid request or query (a bad query names its column)"),
            (401, "No valid token"),
            (403, "The role or team does not allow it"),
            (404, "No such thing, or not visible to the caller"),
            (409, "It conflicts with what is stored"),
            (413, "The body is larger than allowed"),
            (415, "The body is not JSON"),
            (422, "The JSON does not have the expected shape"),
            (429, "Too many attempts"),
            (500, "The server failed"),
            (503, "Not possible now (no advisory database yet, the database is down)"),
        ]
        .into_iter()
        .map(|(status, description)| {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
            let response =
                ResponseBuilder::new().description(description).content("application/problem+json", content).build();
            (status.to_string(), response.into())
        })
        .collect()
    }
}

//! The Vigil server over HTTP: the `/api/v1` JSON API (OpenAPI 3.1 at
//! `/api/v1/openapi.json`), `/healthz`, `/readyz` and Prometheus
//! `/metrics`, and the job workers, started per role (`api`, `worker` or
//! both) by [`serve`].
//!
//! Handlers hold no SQL and no rules: each turns a request into one call of
//! `vigil-platform` and its answer (or error, as `application/problem+json`)
//! back into HTTP. Every response carries an `x-request-id` (the client's,
//! or a new one), which the structured log and the audit trail record.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod extract;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use vigil_platform::Platform;
use vigil_platform::auth::LoginLimiter;
use vigil_platform::jobs::WorkerConfig;

pub use error::{ApiError, Problem};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The platform.
    pub platform: Platform,
    /// Failed sign-ins, per node.
    pub limiter: Arc<LoginLimiter>,
    /// The Prometheus recorder's handle.
    pub metrics: Option<PrometheusHandle>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vigil",
        description = "Assets, findings over time, triage, exposure and the audit trail. Errors are \
                       application/problem+json; lists are paged by cursor; `q` takes the query language \
                       (docs/QUERY.md).",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("vgl_<prefix>_<secret>")
                    .description(Some(
                        "An API token (`POST /api/v1/tokens`) or a session token (`POST /api/v1/auth/login`)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document and the API routes.
fn api(max_upload: usize) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", routes::router())
        .layer(DefaultBodyLimit::max(max_upload))
        .split_for_parts()
}

/// Request ids: `<node>-<counter>`, the node part random per process.
#[derive(Clone)]
struct NodeRequestIds {
    node: Arc<str>,
    next: Arc<AtomicU64>,
}

impl NodeRequestIds {
    fn new() -> NodeRequestIds {
        let mut bytes = [0u8; 6];
        let _ = getrandom::fill(&mut bytes);
        let node: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        NodeRequestIds { node: node.into(), next: Arc::new(AtomicU64::new(1)) }
    }
}

impl MakeRequestId for NodeRequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n}", self.node)).ok().map(RequestId::new)
    }
}

/// Counts and times requests by route and status, and logs each.
async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    let labels = [("method", method.to_string()), ("route", route.clone()), ("status", status.to_string())];
    metrics::counter!("vigil_http_requests_total", &labels).increment(1);
    metrics::histogram!("vigil_http_request_duration_seconds", &labels[..2]).record(seconds);
    tracing::info!(request_id = %id, method = %method, route = %route, status, ms = seconds * 1000.0, "request");
    response
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.platform.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => error::status_problem(StatusCode::SERVICE_UNAVAILABLE, &format!("the database does not answer: {e}")),
    }
}

async fn prometheus(State(state): State<AppState>) -> Response {
    let body = state.metrics.as_ref().map(PrometheusHandle::render).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The whole application: API, OpenAPI document, health, metrics.
pub fn app(state: AppState, max_upload: usize) -> Router {
    let (api, openapi) = api(max_upload);
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(api)
        .route("/api/v1/openapi.json", get(move || async move { axum::Json(openapi.as_ref().clone()) }))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(prometheus))
        .fallback(|| async { error::status_problem(StatusCode::NOT_FOUND, "no such route; the API is under /api/v1") })
        .method_not_allowed_fallback(|| async {
            error::status_problem(StatusCode::METHOD_NOT_ALLOWED, "this route does not take that method")
        })
        .with_state(state)
        .layer(middleware::from_fn(observe))
        .layer(RequestDecompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(300)))
        .layer(CatchPanicLayer::custom(|_| {
            error::status_problem(StatusCode::INTERNAL_SERVER_ERROR, "the server failed; the details are in its log")
        }))
        .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(NodeRequestIds::new()))
}

/// What a process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Serves the API only.
    Api,
    /// Runs jobs only.
    Worker,
    /// Both (one process, the embedded default).
    All,
}

/// TLS files.
#[derive(Debug, Clone)]
pub struct Tls {
    /// PEM certificate chain.
    pub cert: std::path::PathBuf,
    /// PEM private key.
    pub key: std::path::PathBuf,
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// What this process does.
    pub role: Role,
    /// TLS, when given a certificate.
    pub tls: Option<Tls>,
    /// Workers' settings.
    pub worker: WorkerConfig,
    /// How many jobs this process runs at once.
    pub workers: usize,
    /// How long in-flight requests and jobs may take to finish at shutdown.
    pub grace: Duration,
    /// Largest upload body, in bytes, after decompression.
    pub max_upload: usize,
}

/// Why serving stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// TLS files could not be read.
    #[error("TLS: {0}")]
    Tls(std::io::Error),
    /// The listener failed.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// Installs the Prometheus recorder (once per process).
pub fn install_metrics() -> Option<PrometheusHandle> {
    metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().ok()
}

/// Sets up logging: plain text or one JSON object per line.
pub fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("VIGIL_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none());
    let _ = if json { builder.json().flatten_event(true).try_init() } else { builder.try_init() };
}

/// Resolves when the process is asked to stop (SIGTERM or Ctrl-C).
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            term.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Serves until asked to stop: the API on `listener` (for the `api` and
/// `all` roles) and the job workers (for `worker` and `all`). At shutdown,
/// in-flight requests and jobs get `config.grace` to finish.
pub async fn serve(platform: Platform, listener: std::net::TcpListener, config: ServeConfig) -> Result<(), ServeError> {
    let (stop_workers, stopping) = watch::channel(false);
    let mut workers = Vec::new();
    if config.role != Role::Api {
        for i in 0..config.workers.max(1) {
            let mut worker = config.worker.clone();
            worker.owner = format!("{}/{i}", worker.owner);
            workers.push(tokio::spawn(vigil_platform::jobs::worker(platform.clone(), worker, stopping.clone())));
        }
    }
    let state =
        AppState { platform: platform.clone(), limiter: Arc::new(LoginLimiter::default()), metrics: install_metrics() };
    if config.role == Role::Worker {
        drop(listener);
        stop_signal().await;
    } else {
        listener.set_nonblocking(true)?;
        let handle = axum_server::Handle::new();
        let grace = config.grace;
        let shutdown = handle.clone();
        tokio::spawn(async move {
            stop_signal().await;
            tracing::info!("stopping: finishing in-flight requests");
            shutdown.graceful_shutdown(Some(grace));
        });
        let service = app(state, config.max_upload).into_make_service_with_connect_info::<SocketAddr>();
        match &config.tls {
            Some(tls) => {
                let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                    .await
                    .map_err(ServeError::Tls)?;
                axum_server::from_tcp_rustls(listener, rustls)?.handle(handle).serve(service).await?;
            }
            None => axum_server::from_tcp(listener)?.handle(handle).serve(service).await?,
        }
    }
    let _ = stop_workers.send(true);
    let finishing = async {
        for worker in workers {
            let _ = worker.await;
        }
    };
    if tokio::time::timeout(config.grace, finishing).await.is_err() {
        tracing::warn!("a job did not finish in time; another worker will take it over when its lease runs out");
    }
    platform.store.close().await;
    Ok(())
}

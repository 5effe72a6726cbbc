//! Command-line shapes of the platform commands: `vigil server`, the
//! client commands (`vigil assets`, `vigil findings`, `vigil triage`,
//! `vigil exposure`) and `vigil scan --upload`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// What a server process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Serve the API only (stateless; scale out behind a load balancer)
    Api,
    /// Run background jobs only (re-matching, advisory refreshes)
    Worker,
    /// Both (the embedded default)
    All,
}

/// Log lines as text or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event
    Text,
    /// One JSON object per line
    Json,
}

/// `vigil server`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on
    #[arg(long, env = "VIGIL_LISTEN", default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// The database: postgres://user@host/db for PostgreSQL [default: an SQLite file in the data directory]
    #[arg(long, env = "VIGIL_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// Where the SQLite database and this node's advisory databases live [default: the advisory database's directory]
    #[arg(long, env = "VIGIL_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// What this process does
    #[arg(long, value_enum, default_value = "all")]
    pub role: RoleArg,
    /// Jobs this process runs at once (worker and all roles)
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub workers: usize,
    /// PEM certificate chain: serve HTTPS
    #[arg(long, env = "VIGIL_TLS_CERT", requires = "tls_key", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert
    #[arg(long, env = "VIGIL_TLS_KEY", requires = "tls_cert", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Log format
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Hours between advisory-database refreshes (0: only on POST /api/v1/vulndb/refresh)
    #[arg(long, default_value_t = 6, value_name = "HOURS")]
    pub refresh_hours: u64,
    /// Refresh from these local files instead of downloading (OSV all.zip files or folders, KEV JSON, EPSS CSV)
    #[arg(long, value_name = "PATH")]
    pub import: Vec<PathBuf>,
    /// Largest upload accepted, in MiB after decompression
    #[arg(long, default_value_t = 256, value_name = "MIB")]
    pub max_upload_mib: usize,
    /// Seconds a worker holds a job without renewing its claim; a job whose worker died is taken over after this
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub job_lease_secs: u64,
    /// Inventories per re-match job (smaller jobs spread better over many workers)
    #[arg(long, default_value_t = 25, value_name = "N")]
    pub rematch_batch: usize,
    /// Seconds in-flight requests and jobs get to finish at shutdown
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub grace_secs: u64,
}

/// Where the server is and how to sign in to it.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The Vigil server
    #[arg(long, env = "VIGIL_SERVER", default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub server: String,
    /// API token
    #[arg(long, env = "VIGIL_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: String,
}

/// Output of the client commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientFormat {
    /// A table
    Table,
    /// The API's JSON
    Json,
}

/// A search on the server.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// A query in the query language (docs/QUERY.md), e.g. 'severity>=high and tag:prod'
    #[arg(default_value = "")]
    pub query: String,
    /// Sort keys: FIELD[:asc|:desc],...
    #[arg(long)]
    pub sort: Option<String>,
    /// At most this many rows (all pages are fetched up to it)
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: ClientFormat,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `vigil triage`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("target").required(true).args(["findings", "advisory", "query"]))]
pub struct TriageArgs {
    /// Finding ids
    #[arg(value_name = "FINDING")]
    pub findings: Vec<i64>,
    /// Every finding of this advisory (any id or alias), now and in later scans
    #[arg(long)]
    pub advisory: Option<String>,
    /// Every finding this query matches, now and in later scans
    #[arg(long)]
    pub query: Option<String>,
    /// The decision: open, false_positive, not_affected or risk_accepted
    #[arg(long)]
    pub state: String,
    /// For not_affected: component_not_present, vulnerable_code_not_present,
    /// vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary,
    /// inline_mitigations_already_exist
    #[arg(long)]
    pub justification: Option<String>,
    /// For risk_accepted: until when (YYYY-MM-DD or RFC 3339)
    #[arg(long)]
    pub until: Option<String>,
    /// Why
    #[arg(long)]
    pub comment: String,
    /// For --advisory and --query, when you belong to several teams: which one
    #[arg(long)]
    pub team: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: ClientFormat,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `vigil exposure`.
#[derive(Debug, Args)]
pub struct ExposureArgs {
    /// An advisory id or alias (CVE-..., GHSA-..., DSA-...)
    pub advisory: String,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: ClientFormat,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `vigil scan --upload`.
#[derive(Debug, Clone, Args)]
pub struct UploadArgs {
    /// Send the inventory (and these findings, for reference) to a Vigil server, which
    /// matches it against its own advisory database and tracks the asset's findings over time
    #[arg(long, value_name = "URL")]
    pub upload: Option<String>,
    /// API token for --upload
    #[arg(long, env = "VIGIL_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// The asset's name on the server [default: the target as given]
    #[arg(long, value_name = "NAME")]
    pub asset: Option<String>,
    /// The asset's kind: image, host, container, repository, webapp, cloud-instance [default: from the target]
    #[arg(long, value_name = "KIND")]
    pub asset_kind: Option<String>,
    /// The asset's team, when the token's user belongs to several
    #[arg(long, value_name = "TEAM")]
    pub team: Option<String>,
    /// A static tag for the asset (repeatable)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// A key=value label for the asset (repeatable)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// A partial scan: findings it does not see are not marked fixed
    #[arg(long)]
    pub partial: bool,
}

//! `vigil server`: the platform over HTTP, on an embedded SQLite file or
//! PostgreSQL, as an API node, a worker, or both.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use vigil_platform::jobs::WorkerConfig;
use vigil_platform::vulndb::Source;
use vigil_platform::{Platform, auth, vulndb};
use vigil_server::{Role, ServeConfig, Tls};

use crate::cli_platform::{LogFormat, RoleArg, ServerArgs};
use crate::config::Config;

/// This worker's name in job leases: host and process.
fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "vigil".into());
    format!("{host}:{}", std::process::id())
}

/// Runs the server until it is stopped.
pub fn server(config: &Config, db_path: &Path, args: &ServerArgs, quiet: bool) -> Result<()> {
    vigil_server::init_logging(args.log_format == LogFormat::Json);
    let data_dir: PathBuf = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => db_path
            .parent()
            .map(Path::to_path_buf)
            .context("cannot tell where the data directory is: set --data-dir")?,
    };
    std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let url = match &args.database {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", data_dir.join("server.db").display()),
    };
    let mut platform_config = vigil_platform::Config::new(data_dir.clone());
    platform_config.vulndb_source = if args.import.is_empty() {
        Source::Download(super::db::default_plan(config)?)
    } else {
        Source::Import(args.import.clone())
    };
    platform_config.rematch_batch = args.rematch_batch.max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async {
        let store = vigil_store::Store::open(&url)
            .await
            .with_context(|| format!("opening the database {}", vigil_store::redact_url(&url)))?;
        let platform = Platform::new(store, platform_config);
        let given = std::env::var("VIGIL_ADMIN_TOKEN").ok().filter(|t| !t.is_empty());
        if let Some(token) = auth::bootstrap(&platform.store, given.as_deref(), platform.now()).await? {
            if given.is_some() {
                eprintln!("first start: created user `admin` (team `default`) with the token in VIGIL_ADMIN_TOKEN");
            } else {
                eprintln!(
                    "first start: created user `admin` (team `default`) with this API token, shown only now:\n\n    {token}\n"
                );
            }
        }
        advisories(&platform, db_path, args, quiet).await?;
        let listener = std::net::TcpListener::bind(args.listen).with_context(|| format!("listening on {}", args.listen))?;
        let address = listener.local_addr()?;
        let scheme = if args.tls_cert.is_some() { "https" } else { "http" };
        let role = match args.role {
            RoleArg::Api => Role::Api,
            RoleArg::Worker => Role::Worker,
            RoleArg::All => Role::All,
        };
        if !quiet && role != Role::Worker {
            eprintln!("serving {scheme}://{address}/api/v1 ({}; database: {})", args.role_name(), vigil_store::redact_url(&url));
        }
        let config = ServeConfig {
            role,
            tls: args.tls_cert.clone().zip(args.tls_key.clone()).map(|(cert, key)| Tls { cert, key }),
            worker: WorkerConfig {
                owner: worker_name(),
                lease: Duration::from_secs(args.job_lease_secs.max(2)),
                idle: Duration::from_millis(500),
                refresh_every: (args.refresh_hours > 0).then(|| Duration::from_secs(args.refresh_hours * 3600)),
            },
            workers: args.workers,
            grace: Duration::from_secs(args.grace_secs),
            max_upload: args.max_upload_mib << 20,
        };
        vigil_server::serve(platform, listener, config).await?;
        Ok(())
    })
}

/// Makes sure the server has (or is getting) an advisory database: when
/// none is published, the local one (`vigil db update`/`import`) is
/// published at once if there is one, else a refresh is queued for the
/// workers.
async fn advisories(platform: &Platform, local: &Path, args: &ServerArgs, quiet: bool) -> Result<()> {
    let mut conn = platform.store.read().await?;
    let current = vigil_store::vulndb::current(&mut conn).await?;
    drop(conn);
    if current.is_some() {
        return Ok(());
    }
    if local.is_file() && args.import.is_empty() {
        let (version, _) = vulndb::publish(platform, local).await?;
        vulndb::start_rematch(platform, &version, "advisory database published").await?;
        if !quiet {
            eprintln!("advisory database: published {} ({version})", local.display());
        }
        return Ok(());
    }
    let mut tx = platform.store.write().await?;
    let job = vigil_platform::jobs::enqueue(
        &mut tx,
        "vulndb.refresh",
        serde_json::json!({"reason": "first start"}),
        Some("vulndb.refresh".into()),
        None,
        platform.now(),
    )
    .await?;
    tx.commit().await?;
    if !quiet {
        eprintln!(
            "advisory database: none yet; building one in the background (job {job}); uploads are matched once it is there"
        );
    }
    Ok(())
}

impl ServerArgs {
    fn role_name(&self) -> &'static str {
        match self.role {
            RoleArg::Api => "API only",
            RoleArg::Worker => "worker",
            RoleArg::All => "API and worker",
        }
    }
}

//! `platform-bench`: builds a fleet of assets with real package inventories
//! in a Vigil platform database (SQLite or PostgreSQL), then times what
//! docs/BENCHMARKS.md reports: ingest of a 1,000-package scan, searches and
//! lists, and the re-match of every stored inventory after an advisory update.

#![forbid(unsafe_code)]

mod fleet;
mod pool;
mod timing;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use vigil_platform::read::{self, Search};
use vigil_platform::{Actor, Config, Platform, admin, ingest, jobs, vulndb};
use vigil_store::{Page, Scope, Store};

use crate::fleet::Shape;
use crate::timing::Samples;

/// Benchmarks of the Vigil platform server.
#[derive(Parser)]
struct Cli {
    /// The platform database: `sqlite:PATH` or `postgres://...`.
    #[arg(long, env = "VIGIL_DATABASE_URL")]
    database: Option<String>,
    /// Where this node keeps advisory-database versions.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Builds an advisory database from OSV zips, KEV and EPSS files (as `vigil db import` does).
    Vulndb {
        /// The database file to write.
        #[arg(long)]
        out: PathBuf,
        /// The inputs.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// Publishes an advisory database and uploads a generated fleet.
    Generate {
        /// The advisory database to publish (`vigil db import` builds one).
        #[arg(long)]
        vulndb: PathBuf,
        /// OSV bulk exports the packages are drawn from (`<dir>/<Ecosystem>/all.zip`).
        #[arg(long)]
        osv: PathBuf,
        /// Assets in the fleet (the generator continues where an earlier run stopped).
        #[arg(long, default_value_t = 10_000)]
        assets: u64,
        /// Packages per inventory.
        #[arg(long, default_value_t = 300)]
        packages: usize,
        /// The share of packages at a version an advisory lists as affected.
        #[arg(long, default_value_t = 0.25)]
        affected_share: f64,
        /// Teams the assets belong to.
        #[arg(long, default_value_t = 20)]
        teams: usize,
        /// Uploads in flight at once.
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
    },
    /// Times uploads of `--packages`-package scans: new assets, changed rescans, unchanged re-uploads.
    Ingest {
        /// OSV bulk exports the packages are drawn from.
        #[arg(long)]
        osv: PathBuf,
        /// Packages per scan.
        #[arg(long, default_value_t = 1000)]
        packages: usize,
        /// Uploads of each kind.
        #[arg(long, default_value_t = 30)]
        runs: usize,
    },
    /// Times searches, lists, counts and summaries, for an administrator and for one team.
    Search {
        /// Timed runs of each query.
        #[arg(long, default_value_t = 50)]
        runs: usize,
    },
    /// Serves the API on the generated fleet (no workers), for `wrk`: writes an admin token to a file.
    Serve {
        /// Address to listen on (127.0.0.1 only).
        #[arg(long, default_value = "127.0.0.1:18080")]
        listen: std::net::SocketAddr,
        /// Where to write the token.
        #[arg(long)]
        token_file: PathBuf,
    },
    /// Publishes another advisory database and times the re-match of every stored inventory.
    Rematch {
        /// Advisory databases: the first that differs from the current one is published
        /// (give two to run the benchmark again and again).
        #[arg(long, required = true)]
        vulndb: Vec<PathBuf>,
        /// Workers claiming re-match jobs at once.
        #[arg(long, default_value_t = 1)]
        workers: usize,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Command::Vulndb { out, inputs } = &cli.command {
        let report = vigil_vulndb::import(inputs, out, Default::default(), &vigil_vulndb::NoProgress)?;
        println!("{}: {} records in {:.1} s", out.display(), report.records, report.seconds);
        return Ok(());
    }
    let (Some(database), Some(data_dir)) = (cli.database, cli.data_dir) else {
        anyhow::bail!("--database and --data-dir are needed");
    };
    let store = Store::open(&database).await.with_context(|| format!("opening {database}"))?;
    let mut config = Config::new(data_dir);
    config.max_packages = 1_000_000;
    let platform = Platform::new(store, config);
    match cli.command {
        Command::Generate { vulndb, osv, assets, packages, affected_share, teams, concurrency } => {
            let shape = Shape { packages, affected_share, teams, newest_fix: false };
            generate(&platform, &vulndb, &osv, assets, shape, concurrency).await
        }
        Command::Ingest { osv, packages, runs } => time_ingest(&platform, &osv, packages, runs).await,
        Command::Search { runs } => time_search(&platform, runs).await,
        Command::Rematch { vulndb, workers } => time_rematch(&platform, &vulndb, workers).await,
        Command::Serve { listen, token_file } => serve(platform, listen, &token_file).await,
        Command::Vulndb { .. } => Ok(()),
    }
}

async fn generate(
    platform: &Platform,
    vulndb_file: &std::path::Path,
    osv: &std::path::Path,
    assets: u64,
    shape: Shape,
    concurrency: usize,
) -> Result<()> {
    let system = Actor::system();
    if vulndb::current(platform).await?.is_none() {
        let (version, _) = vulndb::publish(platform, vulndb_file).await?;
        eprintln!("published {} as {version}", vulndb_file.display());
    }
    let existing: Vec<String> = read::teams(platform, &system).await?.into_iter().map(|t| t.name).collect();
    for i in 0..shape.teams as u64 {
        let name = fleet::team_name(i);
        if !existing.contains(&name) {
            admin::create_team(platform, &system, &name).await?;
        }
    }
    let pool = Arc::new(pool::read(osv)?);
    let start = read::count_assets(platform, &system, "name:bench-*").await? as u64;
    eprintln!("{} packages in the pool; {start} assets exist, generating up to {assets}", pool.len());
    let next = Arc::new(AtomicU64::new(start));
    let findings = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (platform, pool, next, findings) = (platform.clone(), pool.clone(), next.clone(), findings.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= assets {
                    return Ok::<(), anyhow::Error>(());
                }
                let upload = fleet::upload(index, fleet::inventory(&pool, index, shape, 0), shape)?;
                let result = ingest::ingest(&platform, &Actor::system(), upload, "bench").await?;
                let total = findings.fetch_add(result.counts.open as u64, Ordering::Relaxed);
                if (index + 1) % 500 == 0 {
                    let rate = (index + 1 - start) as f64 / began.elapsed().as_secs_f64();
                    eprintln!("{} assets, ~{} findings so far, {rate:.1} assets/s", index + 1, total);
                }
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    // What the server's hourly `store.statistics` job does.
    platform.store.refresh_statistics().await?;
    let total = read::count_findings(platform, &system, "").await?;
    println!(
        "generated {} assets in {:.1} s; the fleet holds {} assets and {total} findings",
        assets.saturating_sub(start),
        began.elapsed().as_secs_f64(),
        read::count_assets(platform, &system, "").await?
    );
    Ok(())
}

async fn time_ingest(platform: &Platform, osv: &std::path::Path, packages: usize, runs: usize) -> Result<()> {
    let pool = pool::read(osv)?;
    // A service image: most packages current, a tenth at a version an advisory names.
    let shape = Shape { packages, affected_share: 0.1, teams: 1, newest_fix: true };
    let system = Actor::system();
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let (mut new, mut changed, mut unchanged) = (Samples::default(), Samples::default(), Samples::default());
    let mut findings = Samples::default();
    for run in 0..runs as u64 {
        let index = 1_000_000 + stamp % 100_000 * 100 + run;
        let upload = fleet::upload(index, fleet::inventory(&pool, index, shape, 0), shape)?;
        let began = Instant::now();
        let result = ingest::ingest(platform, &system, upload.clone(), "bench").await?;
        new.push(began.elapsed());
        findings.push(Duration::from_secs(result.counts.open as u64));
        let began = Instant::now();
        ingest::ingest(platform, &system, upload.clone(), "bench").await?;
        unchanged.push(began.elapsed());
        let rescan = fleet::upload(index, fleet::inventory(&pool, index, shape, 1), shape)?;
        let began = Instant::now();
        ingest::ingest(platform, &system, rescan, "bench").await?;
        changed.push(began.elapsed());
    }
    println!(
        "ingest of {packages}-package scans, {runs} runs each (median findings per scan: {}):",
        findings.median().as_secs()
    );
    for (what, samples) in
        [("new asset", &new), ("rescan, changed content", &changed), ("re-upload, same content", &unchanged)]
    {
        println!("  {what:<26} {}", samples.summary());
    }
    Ok(())
}

async fn serve(platform: Platform, listen: std::net::SocketAddr, token_file: &std::path::Path) -> Result<()> {
    anyhow::ensure!(listen.ip().is_loopback(), "benchmarks listen on 127.0.0.1 only");
    let system = Actor::system();
    let users = read::users(&platform, &system).await?;
    let user = match users.into_iter().find(|u| u.username == "bench-admin") {
        Some(user) => user,
        None => {
            let new: admin::NewUser =
                serde_json::from_value(serde_json::json!({"username": "bench-admin", "role": "admin"}))?;
            admin::create_user(&platform, &system, &new).await?
        }
    };
    let request: admin::NewTokenRequest =
        serde_json::from_value(serde_json::json!({"name": "wrk", "expires_in_days": 1, "user_id": user.id}))?;
    let token = admin::create_token(&platform, &system, &request).await?;
    std::fs::write(token_file, &token.token)?;
    let listener = std::net::TcpListener::bind(listen)?;
    eprintln!("serving on http://{listen}");
    let config = vigil_server::ServeConfig {
        role: vigil_server::Role::Api,
        tls: None,
        worker: jobs::WorkerConfig {
            owner: "bench".into(),
            lease: Duration::from_secs(30),
            idle: Duration::from_secs(1),
            refresh_every: None,
        },
        workers: 0,
        grace: Duration::from_secs(5),
        max_upload: 256 << 20,
    };
    vigil_server::serve(platform, listener, config).await?;
    Ok(())
}

/// A team member's view: one team, read-only.
fn viewer_of(team: i64) -> Actor {
    Actor {
        name: "bench-viewer".into(),
        role: vigil_store::model::Role::Viewer,
        scope: Scope::Teams(vec![team]),
        ..Actor::system()
    }
}

async fn time_search(platform: &Platform, runs: usize) -> Result<()> {
    let system = Actor::system();
    let team = read::teams(platform, &system).await?.into_iter().find(|t| t.name == fleet::team_name(0));
    let team = team.context("no team-00: run `generate` first")?;
    let sample = read::findings(platform, &system, &Search { query: "kev:true".into(), ..Search::default() }, None)
        .await?
        .items
        .into_iter()
        .next()
        .or(read::findings(platform, &system, &Search::default(), None).await?.items.into_iter().next())
        .context("no findings: run `generate` first")?;
    let package = sample.package.as_ref().map(|p| p.name.clone()).unwrap_or_default();
    let advisory = sample.ids.last().cloned().unwrap_or(sample.advisory.clone());
    let queries: Vec<(&str, String)> = vec![
        ("findings, default order", String::new()),
        ("findings, critical", "severity:critical".into()),
        ("findings, high+ exploited", "severity>=high and kev:true".into()),
        ("findings, one package", format!("package.name:\"{package}\"")),
        ("findings, one advisory", format!("advisory:\"{advisory}\"")),
        ("findings, prod tag, high+", "tag:prod and severity>=high".into()),
        ("findings, new, not false positive", "status:new and not triage:false_positive".into()),
        ("findings, label and age", "label.env:prod and first_seen<30d".into()),
    ];
    let asset_queries: Vec<(&str, String)> = vec![
        ("assets, default order", String::new()),
        ("assets, prod tag", "tag:prod".into()),
        ("assets, name prefix", "name:bench-image-0001*".into()),
    ];
    println!("{runs} runs per query; p50 / p99 / max in ms");
    for (who, actor) in [("admin (all teams)", system.clone()), ("viewer (one team)", viewer_of(team.id))] {
        println!("{who}:");
        for (what, query) in &queries {
            let search = Search { query: query.clone(), page: Page { limit: 50, cursor: None }, ..Search::default() };
            let samples = repeat(runs, || read::findings(platform, &actor, &search, None)).await?;
            println!("  {what:<38} {}", samples.summary());
        }
        let search = Search::default();
        let first = read::findings(platform, &actor, &search, None).await?;
        let page2 = Search { page: Page { limit: 50, cursor: first.next }, ..Search::default() };
        println!(
            "  {:<38} {}",
            "findings, second page",
            repeat(runs, || read::findings(platform, &actor, &page2, None)).await?.summary()
        );
        for (what, query) in &asset_queries {
            let search = Search { query: query.clone(), page: Page { limit: 50, cursor: None }, ..Search::default() };
            println!("  {what:<38} {}", repeat(runs, || read::assets(platform, &actor, &search)).await?.summary());
        }
        println!(
            "  {:<38} {}",
            "count, high+",
            repeat(runs, || read::count_findings(platform, &actor, "severity>=high")).await?.summary()
        );
        println!(
            "  {:<38} {}",
            "summary by severity",
            repeat(runs, || read::summary(platform, &actor, "", "severity", 20)).await?.summary()
        );
    }
    Ok(())
}

/// Runs `call` once to warm up, then `runs` times, timing each.
async fn repeat<T, F, Fut>(runs: usize, call: F) -> Result<Samples>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = vigil_platform::Result<T>>,
{
    call().await?;
    let mut samples = Samples::default();
    for _ in 0..runs {
        let began = Instant::now();
        call().await?;
        samples.push(began.elapsed());
    }
    Ok(samples)
}

async fn time_rematch(platform: &Platform, files: &[PathBuf], workers: usize) -> Result<()> {
    let began = Instant::now();
    let mut published = None;
    for file in files {
        let (version, changed) = vulndb::publish(platform, file).await?;
        if changed {
            published = Some(version);
            break;
        }
    }
    let version = published.context("every database given is the current one; pass one that differs")?;
    let published = began.elapsed();
    let began = Instant::now();
    let run = vulndb::start_rematch(platform, &version, "benchmark").await?;
    let mut tasks = Vec::new();
    for w in 0..workers.max(1) {
        let platform = platform.clone();
        let config = jobs::WorkerConfig {
            owner: format!("bench-worker-{w}"),
            lease: Duration::from_secs(600),
            idle: Duration::from_millis(50),
            refresh_every: None,
        };
        tasks.push(tokio::spawn(async move {
            while jobs::run_one(&platform, &config).await? {}
            Ok::<(), vigil_platform::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = began.elapsed();
    let status = read::vulndb_status(platform, &Actor::system()).await?;
    let run = status.runs.into_iter().find(|r| r.id == run).context("the re-match run is gone")?;
    anyhow::ensure!(
        run.finished_at.is_some(),
        "re-match run {} did not finish: {} jobs pending",
        run.id,
        run.pending_jobs
    );
    println!(
        "published in {:.1} s; re-matched {} inventories with {workers} worker(s) in {:.1} s",
        published.as_secs_f64(),
        run.inventories,
        elapsed.as_secs_f64(),
    );
    Ok(())
}

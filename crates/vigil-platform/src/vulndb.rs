//! The server's advisory database, shared by every node.
//!
//! A refresh builds a new database file (from the OSV export, KEV and EPSS,
//! or from local files), names it by its SHA-256, stores it in the store in
//! chunks and makes it current; then every stored inventory is re-matched
//! against exactly that version. A node that lacks a version fetches the
//! chunks into its data directory (checking the digest) before matching,
//! so nodes never match one run against two different databases.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use vigil_store::{Store, vulndb as stored};
use vigil_vulndb::{Database, Limits, NoProgress, UpdatePlan};

use crate::{Error, Platform, Result};

/// Where a refresh takes its advisories from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Download (the OSV bulk export or a mirror of it, KEV, EPSS).
    Download(UpdatePlan),
    /// Local files: OSV `all.zip` files or folders, KEV JSON, EPSS CSV.
    Import(Vec<PathBuf>),
}

impl Default for Source {
    fn default() -> Source {
        Source::Download(UpdatePlan {
            osv_base: vigil_vulndb::DEFAULT_OSV_BASE.into(),
            ecosystems: vigil_vulndb::DEFAULT_ECOSYSTEMS.iter().map(|s| s.to_string()).collect(),
            kev_url: Some(vigil_vulndb::DEFAULT_KEV_URL.into()),
            epss_url: Some(vigil_vulndb::DEFAULT_EPSS_URL.into()),
            limits: Limits::default(),
        })
    }
}

/// Bytes per stored chunk.
const CHUNK: usize = 4 << 20;

/// This node's copies of advisory-database versions: `<dir>/<sha256>.db`.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    fetching: Mutex<()>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a file.
fn file_digest(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("sha256:{}", hex(&hasher.finalize())))
}

impl Cache {
    /// A cache in `dir`.
    pub fn new(dir: PathBuf) -> Cache {
        Cache { dir, fetching: Mutex::new(()) }
    }

    /// Where version `version` lives on this node.
    pub fn path(&self, version: &str) -> PathBuf {
        self.dir.join(format!("{}.db", version.trim_start_matches("sha256:")))
    }

    /// The local file of `version`, fetched from the store when missing.
    pub async fn ensure(&self, store: &Store, version: &str) -> Result<PathBuf> {
        let path = self.path(version);
        if path.is_file() {
            return Ok(path);
        }
        let _one_at_a_time = self.fetching.lock().await;
        if path.is_file() {
            return Ok(path);
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| io(&self.dir, e))?;
        let mut conn = store.read().await?;
        let chunks = stored::chunk_count(&mut conn, version).await?;
        let mut hasher = Sha256::new();
        for seq in 0..chunks {
            let data = stored::chunk(&mut conn, version, seq).await?;
            hasher.update(&data);
            file.write_all(&data).map_err(|e| io(&path, e))?;
        }
        let digest = format!("sha256:{}", hex(&hasher.finalize()));
        if digest != version {
            return Err(Error::Internal(format!("advisory database {version} from the store hashes to {digest}")));
        }
        file.as_file().sync_all().map_err(|e| io(&path, e))?;
        file.persist(&path).map_err(|e| io(&path, e.error))?;
        Ok(path)
    }

    /// Deletes local files of versions not in `keep`.
    pub fn prune(&self, keep: &[String]) {
        let keep: Vec<PathBuf> = keep.iter().map(|v| self.path(v)).collect();
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "db") && !keep.contains(&path) {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Internal(format!("{}: {e}", path.display()))
}

/// The current version and this node's file of it.
pub async fn current(platform: &Platform) -> Result<Option<(String, PathBuf)>> {
    let mut conn = platform.store.read().await?;
    let Some(version) = stored::current(&mut conn).await? else { return Ok(None) };
    drop(conn);
    let path = platform.vulndbs.ensure(&platform.store, &version.version).await?;
    Ok(Some((version.version, path)))
}

/// Opens a version's file (cheap: the file is memory-mapped and immutable).
pub fn open(path: &Path) -> Result<Database> {
    Database::open(path).map_err(|e| Error::Internal(format!("opening the advisory database: {e}")))
}

/// Builds a database from the configured source, publishes it, and makes
/// it current. Returns its version and whether it differs from the
/// previous current one.
pub async fn refresh(platform: &Platform) -> Result<(String, bool)> {
    let build_dir = platform.config.data_dir.join("vulndb").join("build");
    std::fs::create_dir_all(&build_dir).map_err(|e| io(&build_dir, e))?;
    let target = build_dir.join(format!("build-{}.db", std::process::id()));
    let source = platform.config.vulndb_source.clone();
    let built = target.clone();
    tokio::task::spawn_blocking(move || match source {
        Source::Download(plan) => vigil_vulndb::update(&plan, &built, &NoProgress),
        Source::Import(paths) => vigil_vulndb::import(&paths, &built, Limits::default(), &NoProgress),
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
    .map_err(|e| Error::Unavailable(format!("building the advisory database failed: {e}")))?;
    let result = publish(platform, &target).await;
    let _ = std::fs::remove_file(&target);
    result
}

/// Publishes a built database file: stores it (unless stored already) and
/// makes it current.
pub async fn publish(platform: &Platform, file: &Path) -> Result<(String, bool)> {
    let version = file_digest(file).map_err(|e| io(file, e))?;
    let db = open(file)?;
    let built_at = db.built_at().map_err(|e| Error::Internal(e.to_string()))?;
    let advisories = db.status().map_err(|e| Error::Internal(e.to_string()))?.advisories as i64;
    drop(db);
    // Keep this node's copy: it will match against it next.
    let local = platform.vulndbs.path(&version);
    if !local.is_file() {
        std::fs::create_dir_all(local.parent().unwrap_or(Path::new("."))).map_err(|e| io(&local, e))?;
        std::fs::copy(file, &local).map_err(|e| io(&local, e))?;
    }
    let data = std::fs::read(file).map_err(|e| io(file, e))?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let previous = stored::current(&mut tx).await?.map(|v| v.version);
    let chunks = data.len().div_ceil(CHUNK).max(1) as i64;
    if stored::begin(&mut tx, &version, built_at, data.len() as i64, chunks, advisories, now).await? {
        for (seq, chunk) in data.chunks(CHUNK).enumerate() {
            stored::put_chunk(&mut tx, &version, seq as i64, chunk).await?;
        }
    }
    stored::set_current(&mut tx, &version).await?;
    tx.commit().await?;
    let changed = previous.as_deref() != Some(version.as_str());
    Ok((version, changed))
}

/// Deletes old versions from the store and from this node.
pub async fn prune(platform: &Platform) -> Result<Vec<String>> {
    let mut tx = platform.store.write().await?;
    let pruned = stored::prune(&mut tx, platform.config.keep_vulndb_versions).await?;
    let kept: Vec<String> = stored::versions(&mut tx).await?.into_iter().map(|v| v.version).collect();
    tx.commit().await?;
    platform.vulndbs.prune(&kept);
    Ok(pruned)
}

/// Starts re-matching every stored inventory against `version`: one run,
/// its inventories in jobs of [`crate::Config::rematch_batch`]. Returns the run.
pub async fn start_rematch(platform: &Platform, version: &str, reason: &str) -> Result<i64> {
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let inventories = vigil_store::scans::inventories_in_use(&mut tx).await?;
    let run = vigil_store::jobs::create_run(&mut tx, version, reason, inventories.len() as i64, now).await?;
    for batch in inventories.chunks(platform.config.rematch_batch.max(1)) {
        let digests: Vec<&str> = batch.iter().map(|(digest, _)| digest.as_str()).collect();
        let payload = serde_json::json!({ "run": run, "version": version, "inventories": digests });
        crate::jobs::enqueue(&mut tx, "rematch", payload, None, Some(run), now).await?;
    }
    vigil_store::jobs::finish_run_if_done(&mut tx, run, now).await?;
    let after = serde_json::json!({ "run": run, "version": version, "inventories": inventories.len() });
    crate::Actor::system()
        .audit(&mut tx, now, "vulndb.rematch", ("rematch_run", Some(run.to_string())), None, (None, Some(after)))
        .await?;
    tx.commit().await?;
    Ok(run)
}

/// The `vulndb.refresh` job: build, publish, and re-match when the data changed.
pub async fn refresh_job(platform: &Platform, _lease: &crate::jobs::Lease) -> Result<()> {
    let (version, changed) = refresh(platform).await?;
    if changed {
        start_rematch(platform, &version, "advisory update").await?;
    }
    prune(platform).await?;
    Ok(())
}

/// The `rematch` job: matches its inventories against the run's version and
/// reconciles every asset that still points at one, in one transaction with
/// the job's completion.
pub async fn rematch_job(platform: &Platform, lease: &crate::jobs::Lease) -> Result<()> {
    use vigil_store::findings::Change;

    use crate::lifecycle::{self, Mode};

    let payload = &lease.job.payload;
    let version = payload["version"].as_str().ok_or_else(|| Error::Internal("rematch job without a version".into()))?;
    let run = payload["run"].as_i64();
    let digests: Vec<String> = payload["inventories"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let path = platform.vulndbs.ensure(&platform.store, version).await?;
    let mut matched = Vec::with_capacity(digests.len());
    for digest in &digests {
        let mut conn = platform.store.read().await?;
        let body = vigil_store::scans::inventory_body(&mut conn, digest).await?;
        drop(conn);
        let inventory = crate::ingest::gunzip_inventory(&body)?;
        matched.push((digest, crate::ingest::observe(path.clone(), inventory).await?));
    }
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let change = Change { at: now, reason: "advisory update", scan: None, vulndb_version: Some(version) };
    let mut totals = vigil_store::scans::ScanCounts::default();
    for (digest, observed) in matched {
        for asset in vigil_store::scans::assets_with_inventory(&mut tx, digest).await? {
            let team = vigil_store::assets::get(&mut tx, asset, &vigil_store::Scope::All).await?.team_id;
            let current = vigil_store::findings::current(&mut tx, asset, "package").await?;
            let plan = lifecycle::plan(current, observed.clone(), Mode::Rematch);
            let kev_added = vigil_store::notifications::not_yet_kev(&mut tx, &plan.kev_observed()).await?;
            let (counts, inserted) = lifecycle::apply(&mut tx, asset, team, &plan, change).await?;
            crate::triage::apply_rules(&mut tx, team, &inserted, now).await?;
            crate::notify::after_change(&mut tx, team, &inserted, &kev_added, now).await?;
            if counts.new + counts.fixed + counts.reopened > 0 || !plan.refresh.is_empty() {
                crate::tags::evaluate_asset(&mut tx, asset, now).await?;
                let cause = format!("the re-match against advisory database {version}");
                let mut moved = plan.moved();
                moved.extend(&inserted);
                crate::tickets::after_change(&mut tx, asset, team, &moved, &cause, now).await?;
            }
            totals.new += counts.new;
            totals.fixed += counts.fixed;
            totals.reopened += counts.reopened;
        }
    }
    let after = serde_json::json!({ "job": lease.job.id, "run": run, "version": version, "inventories": digests.len(), "counts": totals });
    crate::Actor::system()
        .audit(&mut tx, now, "rematch.batch", ("job", Some(lease.job.id.to_string())), None, (None, Some(after)))
        .await?;
    lease.complete(&mut tx, now).await?;
    if let Some(run) = run {
        vigil_store::jobs::finish_run_if_done(&mut tx, run, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

//! Building a database from sources: OSV `all.zip` archives (downloaded or
//! local), directories of OSV JSON files, the KEV catalog and EPSS scores.
//!
//! Each source is fetched and parsed in turn and streamed into one
//! [`Builder`]; the new file replaces the old one only after every source
//! has been read. Any download or archive error aborts the whole build and
//! leaves the previous database untouched. Malformed records do not abort:
//! they are skipped, counted and reported with file and field.
//!
//! Records are parsed on every core: workers take zip members by index and
//! send prepared records to the thread that writes SQLite.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Serialize;

use vigil_core::redact::credentials;

use crate::error::{Error, Result};
use crate::feeds::{looks_like_kev, maybe_gunzip, parse_epss, parse_kev};
use crate::record::{Parsed, Prepared, Problem, prepare};
use crate::store::{Builder, SourceCounts};

/// Caps that protect against hostile or broken inputs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest download accepted, in bytes.
    pub max_download_bytes: u64,
    /// Largest single decompressed record or feed file, in bytes.
    pub max_entry_bytes: u64,
    /// Largest total decompressed size of one archive, in bytes.
    pub max_total_bytes: u64,
    /// Most members read from one archive.
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_download_bytes: 2 << 30,
            max_entry_bytes: 64 << 20,
            max_total_bytes: 8 << 30,
            max_entries: 2_000_000,
        }
    }
}

pub use vigil_core::progress::{NoProgress, Progress};

/// What to fetch for `vigil db update`.
#[derive(Debug, Clone)]
pub struct UpdatePlan {
    /// Base of the OSV bulk export: `<base>/<Ecosystem>/all.zip`. An
    /// `http(s)://` URL, a `file://` URL or a local directory.
    pub osv_base: String,
    /// Ecosystem folders to fetch.
    pub ecosystems: Vec<String>,
    /// KEV catalog JSON URL (or path), if wanted.
    pub kev_url: Option<String>,
    /// EPSS CSV(.gz) URL (or path), if wanted.
    pub epss_url: Option<String>,
    /// Size caps.
    pub limits: Limits,
}

/// What one source contributed.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    /// `osv`, `kev` or `epss`.
    pub kind: String,
    /// Ecosystem or feed name.
    pub name: String,
    /// Where it was read from.
    pub location: String,
    /// Counts (records, skipped, ...).
    #[serde(flatten)]
    pub counts: SourceCounts,
}

/// The outcome of a build.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The database written.
    pub path: PathBuf,
    /// Per source.
    pub sources: Vec<SourceReport>,
    /// Malformed records skipped (all of them, in input order per source).
    pub problems: Vec<Problem>,
    /// Records stored.
    pub records: u64,
    /// Wall time of the build, seconds.
    pub seconds: f64,
}

/// Fetches the sources of `plan` and builds the database at `target`.
pub fn update(plan: &UpdatePlan, target: &Path, progress: &dyn Progress) -> Result<Report> {
    let fetcher = Fetcher::new(plan.limits);
    let mut inputs = Vec::new();
    let base = plan.osv_base.trim_end_matches('/');
    let remote = base.starts_with("http://") || base.starts_with("https://");
    for eco in &plan.ecosystems {
        let folder = if remote { encode_segment(eco) } else { eco.clone() };
        inputs.push(Input::OsvZip { name: eco.clone(), location: format!("{base}/{folder}/all.zip") });
    }
    if let Some(url) = &plan.kev_url {
        inputs.push(Input::Kev { location: url.clone() });
    }
    if let Some(url) = &plan.epss_url {
        inputs.push(Input::Epss { location: url.clone() });
    }
    build(&inputs, &fetcher, target, progress)
}

/// Percent-encodes one URL path segment (`Rocky Linux` -> `Rocky%20Linux`).
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Builds the database at `target` from local files and directories: OSV
/// zips, OSV JSON files, directories of either (searched recursively,
/// symlinks not followed), KEV JSON and EPSS CSV(.gz).
pub fn import(paths: &[PathBuf], target: &Path, limits: Limits, progress: &dyn Progress) -> Result<Report> {
    let mut inputs = Vec::new();
    for path in paths {
        classify(path, &mut inputs, limits)?;
    }
    build(&inputs, &Fetcher::new(limits), target, progress)
}

/// One source to read.
#[derive(Debug, Clone)]
enum Input {
    OsvZip { name: String, location: String },
    OsvFiles { name: String, files: Vec<PathBuf> },
    Kev { location: String },
    Epss { location: String },
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_owned(), source }
}

/// Sorts a local path into inputs.
fn classify(path: &Path, inputs: &mut Vec<Input>, limits: Limits) -> Result<()> {
    let meta = std::fs::symlink_metadata(path).map_err(io_err(path))?;
    let location = path.display().to_string();
    if meta.is_dir() {
        let mut json = Vec::new();
        walk(path, &mut |p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
            if name.ends_with(".zip") {
                inputs.push(Input::OsvZip { name: zip_name(p), location: p.display().to_string() });
            } else if name.ends_with(".csv") || name.ends_with(".csv.gz") {
                inputs.push(Input::Epss { location: p.display().to_string() });
            } else if name.ends_with(".json") {
                if name.contains("known_exploited") {
                    inputs.push(Input::Kev { location: p.display().to_string() });
                } else {
                    json.push(p.to_owned());
                }
            }
        })?;
        if !json.is_empty() {
            json.sort();
            inputs.push(Input::OsvFiles { name: location, files: json });
        }
        return Ok(());
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if name.ends_with(".zip") {
        inputs.push(Input::OsvZip { name: zip_name(path), location });
    } else if name.ends_with(".csv") || name.ends_with(".csv.gz") || name.ends_with(".gz") {
        inputs.push(Input::Epss { location });
    } else if name.ends_with(".json") {
        let mut head = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(limits.max_entry_bytes.min(4096)).read_to_end(&mut head))
            .map_err(io_err(path))?;
        if looks_like_kev(&head) {
            inputs.push(Input::Kev { location });
        } else {
            inputs.push(Input::OsvFiles { name: location, files: vec![path.to_owned()] });
        }
    } else {
        return Err(Error::UnknownInput(path.to_owned()));
    }
    Ok(())
}

/// The ecosystem name of a zip: its folder for `<Eco>/all.zip`, else its stem.
fn zip_name(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if stem == "all"
        && let Some(parent) = path.parent().and_then(Path::file_name)
    {
        return parent.to_string_lossy().into_owned();
    }
    stem
}

/// Visits regular files below `dir`, sorted, never following symlinks.
fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) -> Result<()> {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).map_err(io_err(dir))?.collect::<std::io::Result<Vec<_>>>().map_err(io_err(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().map_err(io_err(&path))?;
        if kind.is_dir() {
            walk(&path, visit)?;
        } else if kind.is_file() {
            visit(&path);
        }
    }
    Ok(())
}

/// Reads URLs and paths with size caps.
struct Fetcher {
    agent: ureq::Agent,
    limits: Limits,
}

impl Fetcher {
    fn new(limits: Limits) -> Fetcher {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Fetcher { agent, limits }
    }

    /// The bytes at `location`: an `http(s)://` URL, `file://` URL or path.
    fn fetch(&self, location: &str, label: &str, progress: &dyn Progress) -> Result<Vec<u8>> {
        if location.starts_with("http://") || location.starts_with("https://") {
            return self.download(location, label, progress);
        }
        let path = PathBuf::from(location.strip_prefix("file://").unwrap_or(location));
        let size = std::fs::metadata(&path).map_err(io_err(&path))?.len();
        if size > self.limits.max_download_bytes {
            return Err(Error::Archive {
                source_name: location.to_owned(),
                message: format!("{size} bytes is over the {} byte limit", self.limits.max_download_bytes),
            });
        }
        std::fs::read(&path).map_err(io_err(&path))
    }

    fn download(&self, url: &str, label: &str, progress: &dyn Progress) -> Result<Vec<u8>> {
        // Errors name the URL without its credentials (`https://user:token@mirror/...`).
        let fail = |message: String| Error::Download { url: credentials(url).into_owned(), message };
        let response = self.agent.get(url).call().map_err(|e| match e {
            ureq::Error::StatusCode(code) => fail(format!("HTTP {code}")),
            other => fail(other.to_string()),
        })?;
        let total: Option<u64> =
            response.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
        let max = self.limits.max_download_bytes;
        if let Some(total) = total
            && total > max
        {
            return Err(fail(format!("{total} bytes is over the {max} byte limit")));
        }
        progress.begin(&format!("download {label}"), total, true);
        let mut body = response.into_body().into_with_config().limit(max).reader();
        let mut out = Vec::with_capacity(total.unwrap_or(1 << 20).min(max) as usize);
        let mut buf = vec![0u8; 256 << 10];
        loop {
            let n = body.read(&mut buf).map_err(|e| fail(format!("transfer failed: {e}")))?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
            progress.advance(n as u64);
        }
        progress.end();
        if let Some(total) = total
            && out.len() as u64 != total
        {
            return Err(fail(format!("cut short: received {} of {total} bytes", out.len())));
        }
        Ok(out)
    }
}

fn build(inputs: &[Input], fetcher: &Fetcher, target: &Path, progress: &dyn Progress) -> Result<Report> {
    if inputs.is_empty() {
        return Err(Error::NoSources);
    }
    let started = Instant::now();
    let mut builder = Builder::create(target)?;
    let mut report =
        Report { path: target.to_owned(), sources: Vec::new(), problems: Vec::new(), records: 0, seconds: 0.0 };
    for input in inputs {
        let (kind, name, location, counts) = match input {
            Input::OsvZip { name, location } => {
                let bytes = fetcher.fetch(location, name, progress)?;
                // Recorded and reported without credentials.
                let location = &credentials(location).into_owned();
                let source = builder.add_source("osv", name, location)?;
                let counts = load_zip(&bytes, location, fetcher.limits, source, &mut builder, &mut report, progress)?;
                builder.finish_source(source, &counts, None)?;
                ("osv", name.clone(), location.clone(), counts)
            }
            Input::OsvFiles { name, files } => {
                let source = builder.add_source("osv", name, name)?;
                let counts = load_files(files, fetcher.limits, source, &mut builder, &mut report, progress)?;
                builder.finish_source(source, &counts, None)?;
                ("osv", name.clone(), name.clone(), counts)
            }
            Input::Kev { location } => {
                let bytes = fetcher.fetch(location, "KEV", progress)?;
                // Recorded and reported without credentials.
                let location = &credentials(location).into_owned();
                let kev = parse_kev(location, &bytes)?;
                let source = builder.add_source("kev", "CISA KEV", location)?;
                builder.add_kev(&kev)?;
                let counts = SourceCounts { records: kev.entries.len() as u64, ..SourceCounts::default() };
                builder.finish_source(source, &counts, Some(&format!("catalog {}", kev.version)))?;
                ("kev", "CISA KEV".into(), location.clone(), counts)
            }
            Input::Epss { location } => {
                let bytes = fetcher.fetch(location, "EPSS", progress)?;
                // Recorded and reported without credentials.
                let location = &credentials(location).into_owned();
                let text = maybe_gunzip(location, bytes, fetcher.limits.max_total_bytes)?;
                let epss = parse_epss(location, &text)?;
                let source = builder.add_source("epss", "FIRST EPSS", location)?;
                builder.add_epss(&epss)?;
                let counts = SourceCounts { records: epss.scores.len() as u64, ..SourceCounts::default() };
                let detail = format!(
                    "model {}, scores of {}",
                    epss.model_version.as_deref().unwrap_or("unknown"),
                    epss.score_date.as_deref().unwrap_or("unknown date")
                );
                builder.finish_source(source, &counts, Some(&detail))?;
                ("epss", "FIRST EPSS".into(), location.clone(), counts)
            }
        };
        if kind == "osv" {
            report.records += counts.records;
        }
        report.sources.push(SourceReport { kind: kind.into(), name, location, counts });
    }
    report.path = builder.finish()?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Writes parsed records into the builder and tallies them.
fn store(
    parsed: Parsed,
    source: i64,
    counts: &mut SourceCounts,
    builder: &mut Builder,
    report: &mut Report,
) -> Result<()> {
    match parsed {
        Parsed::Record(rec) => {
            let rec: &Prepared = &rec;
            counts.git_ranges += rec.git_ranges as u64;
            if builder.add_record(rec)? {
                counts.records += 1;
            } else {
                counts.duplicates += 1;
            }
        }
        Parsed::Withdrawn => counts.withdrawn += 1,
        Parsed::Malformed(problem) => {
            counts.skipped += 1;
            builder.add_problem(source, &problem)?;
            report.problems.push(problem);
        }
    }
    Ok(())
}

/// Runs `load(i)` for `0..count` on every core, handing results to `sink`
/// on the calling thread as they arrive. The first error stops the workers.
fn parallel<L, S>(count: usize, load: L, mut sink: S) -> Result<()>
where
    L: Fn(usize) -> Result<Option<Parsed>> + Sync,
    S: FnMut(Parsed) -> Result<()>,
{
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let next = AtomicUsize::new(0);
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Result<Vec<Parsed>>>(workers * 4);
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, stop, load) = (&next, &stop, &load);
            scope.spawn(move || {
                const BATCH: usize = 64;
                loop {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let start = next.fetch_add(BATCH, Ordering::Relaxed);
                    if start >= count {
                        return;
                    }
                    let mut batch = Vec::with_capacity(BATCH);
                    for i in start..(start + BATCH).min(count) {
                        match load(i) {
                            Ok(Some(p)) => batch.push(p),
                            Ok(None) => {}
                            Err(e) => {
                                stop.store(true, Ordering::Relaxed);
                                let _ = tx.send(Err(e));
                                return;
                            }
                        }
                    }
                    if tx.send(Ok(batch)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut result = Ok(());
        for msg in rx {
            let outcome = msg.and_then(|batch| batch.into_iter().try_for_each(&mut sink));
            if let Err(e) = outcome {
                stop.store(true, Ordering::Relaxed);
                result = Err(e);
                break;
            }
        }
        result
    })
}

fn load_zip(
    bytes: &[u8],
    location: &str,
    limits: Limits,
    source: i64,
    builder: &mut Builder,
    report: &mut Report,
    progress: &dyn Progress,
) -> Result<SourceCounts> {
    let archive_err = |message: String| Error::Archive { source_name: location.to_owned(), message };
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| archive_err(format!("not a readable zip archive (truncated or corrupt download?): {e}")))?;
    let count = archive.len();
    if count as u64 > limits.max_entries {
        return Err(archive_err(format!("{count} members is over the limit of {}", limits.max_entries)));
    }
    let total = AtomicU64::new(0);
    let mut counts = SourceCounts::default();
    progress.begin(&format!("parse {}", zip_label(location)), Some(count as u64), false);
    let result = {
        let load = |i: usize| -> Result<Option<Parsed>> {
            // A clone shares the parsed central directory; only the cursor is copied.
            let mut archive = archive.clone();
            let mut file = archive.by_index(i).map_err(|e| archive_err(format!("member {i}: {e}")))?;
            let name = String::from_utf8_lossy(file.name_raw()).into_owned();
            if file.is_dir() || !name.to_ascii_lowercase().ends_with(".json") {
                return Ok(None);
            }
            if file.size() > limits.max_entry_bytes {
                return Err(archive_err(format!(
                    "{name}: {} bytes is over the {} byte limit",
                    file.size(),
                    limits.max_entry_bytes
                )));
            }
            let mut data = Vec::with_capacity(file.size() as usize);
            (&mut file)
                .take(limits.max_entry_bytes + 1)
                .read_to_end(&mut data)
                .map_err(|e| archive_err(format!("{name}: {e}")))?;
            if data.len() as u64 > limits.max_entry_bytes {
                return Err(archive_err(format!(
                    "{name}: decompresses past the {} byte limit",
                    limits.max_entry_bytes
                )));
            }
            let sum = total.fetch_add(data.len() as u64, Ordering::Relaxed) + data.len() as u64;
            if sum > limits.max_total_bytes {
                return Err(archive_err(format!("decompresses past the {} byte limit", limits.max_total_bytes)));
            }
            Ok(Some(prepare(&format!("{location}!{name}"), &data)))
        };
        parallel(count, load, |parsed| {
            progress.advance(1);
            store(parsed, source, &mut counts, builder, report)
        })
    };
    progress.end();
    result.map(|()| counts)
}

fn zip_label(location: &str) -> &str {
    location.rsplit('/').nth(1).unwrap_or(location)
}

fn load_files(
    files: &[PathBuf],
    limits: Limits,
    source: i64,
    builder: &mut Builder,
    report: &mut Report,
    progress: &dyn Progress,
) -> Result<SourceCounts> {
    let mut counts = SourceCounts::default();
    progress.begin("parse OSV files", Some(files.len() as u64), false);
    let load = |i: usize| -> Result<Option<Parsed>> {
        let path = &files[i];
        let file_name = path.display().to_string();
        let mut data = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(limits.max_entry_bytes + 1).read_to_end(&mut data))
            .map_err(io_err(path))?;
        if data.len() as u64 > limits.max_entry_bytes {
            return Ok(Some(Parsed::Malformed(Problem {
                file: file_name,
                field: None,
                message: format!("larger than the {} byte limit", limits.max_entry_bytes),
            })));
        }
        Ok(Some(prepare(&file_name, &data)))
    };
    let result = parallel(files.len(), load, |parsed| {
        progress.advance(1);
        store(parsed, source, &mut counts, builder, report)
    });
    progress.end();
    result.map(|()| counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystem_folders_are_url_encoded() {
        assert_eq!(encode_segment("Rocky Linux"), "Rocky%20Linux");
        assert_eq!(encode_segment("AlmaLinux:9"), "AlmaLinux:9");
        assert_eq!(zip_name(Path::new("/m/osv/Debian/all.zip")), "Debian");
        assert_eq!(zip_name(Path::new("/m/pypi.zip")), "pypi");
    }
}

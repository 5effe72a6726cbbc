//! The on-disk database: one SQLite file, written by [`Builder`] into a
//! temporary file beside the target and renamed over it only when complete,
//! so a failed or interrupted build leaves the previous database in place.
//! [`Database`] opens it read-only.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::feeds::{Epss, Kev};
use crate::record::{Prepared, Problem};
use vigil_core::time::{now_unix, rfc3339};

/// Version of the file layout; bump on any change to the tables below.
pub const SCHEMA_VERSION: u32 = 1;

/// Problems kept per build for `vigil db status`.
const MAX_STORED_PROBLEMS: usize = 1000;

const SCHEMA: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources(
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, location TEXT NOT NULL,
    records INTEGER NOT NULL, skipped INTEGER NOT NULL, withdrawn INTEGER NOT NULL,
    duplicates INTEGER NOT NULL, git_ranges INTEGER NOT NULL, detail TEXT);
CREATE TABLE problems(source INTEGER NOT NULL, file TEXT NOT NULL, field TEXT, message TEXT NOT NULL);
CREATE TABLE advisories(
    id INTEGER PRIMARY KEY, osv_id TEXT NOT NULL, modified TEXT, published TEXT, summary TEXT,
    aliases TEXT NOT NULL, severity TEXT, cvss_score REAL, cvss_vector TEXT, severity_source TEXT);
CREATE TABLE records(advisory INTEGER PRIMARY KEY, record BLOB NOT NULL);
CREATE TABLE affected(base TEXT NOT NULL, name TEXT NOT NULL, ecosystem TEXT NOT NULL,
    advisory INTEGER NOT NULL, seq INTEGER NOT NULL, entry BLOB NOT NULL,
    PRIMARY KEY (base, name, ecosystem, advisory, seq)) WITHOUT ROWID;
CREATE TABLE aliases(alias TEXT NOT NULL, advisory INTEGER NOT NULL);
CREATE TABLE kev(cve TEXT PRIMARY KEY, date_added TEXT NOT NULL, due_date TEXT, ransomware TEXT,
    vendor TEXT, product TEXT, name TEXT, action TEXT) WITHOUT ROWID;
CREATE TABLE epss(cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL NOT NULL) WITHOUT ROWID;
";

const INDEXES: &str = "
CREATE UNIQUE INDEX advisories_osv_id ON advisories(osv_id);

CREATE INDEX aliases_alias ON aliases(alias);
CREATE TABLE ecosystems AS
    SELECT ecosystem, COUNT(DISTINCT advisory) AS advisories, COUNT(*) AS entries
    FROM affected GROUP BY ecosystem ORDER BY ecosystem;
";

/// Counts for one source, as recorded in the database.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceCounts {
    /// Records stored.
    pub records: u64,
    /// Malformed records skipped.
    pub skipped: u64,
    /// Withdrawn records ignored.
    pub withdrawn: u64,
    /// Records replaced by or losing to another copy with the same id.
    pub duplicates: u64,
    /// GIT ranges seen (kept, never evaluated).
    pub git_ranges: u64,
}

fn sql_err(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |source| Error::Sqlite { path: path.to_owned(), source }
}

/// What the builder remembers of a stored record.
struct StoredRecord {
    rowid: i64,
    modified: Option<String>,
    keys: Vec<(String, String, String, i64)>,
}

/// Writes a new database into a temporary file; [`Builder::finish`] swaps it in.
pub struct Builder {
    conn: Option<Connection>,
    tmp: PathBuf,
    target: PathBuf,
    /// Stored ids: row id, `modified`, and the affected keys to delete if
    /// a later copy of the record wins.
    seen: HashMap<String, StoredRecord>,
    stored_problems: usize,
}

impl Builder {
    /// Starts a build that will replace `target`.
    pub fn create(target: &Path) -> Result<Builder> {
        let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })?;
        let file_name = target.file_name().map_or("vigil.db".into(), |n| n.to_string_lossy().into_owned());
        let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let conn = Connection::open(&tmp).map_err(sql_err(&tmp))?;
        conn.execute_batch(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;
             PRAGMA page_size=8192; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;",
        )
        .map_err(sql_err(&tmp))?;
        conn.execute_batch(SCHEMA).map_err(sql_err(&tmp))?;
        conn.execute_batch("BEGIN").map_err(sql_err(&tmp))?;
        Ok(Builder { conn: Some(conn), tmp, target: target.to_owned(), seen: HashMap::new(), stored_problems: 0 })
    }

    fn conn(&self) -> &Connection {
        // Only `finish` takes the connection, and it consumes the builder.
        self.conn.as_ref().expect("connection is open until finish")
    }

    /// Registers a source and returns its id for [`Builder::add_records`].
    pub fn add_source(&mut self, kind: &str, name: &str, location: &str) -> Result<i64> {
        self.conn()
            .execute(
                "INSERT INTO sources(kind, name, location, records, skipped, withdrawn, duplicates, git_ranges)
                 VALUES (?1, ?2, ?3, 0, 0, 0, 0, 0)",
                params![kind, name, location],
            )
            .map_err(sql_err(&self.tmp))?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Stores the final counts and a free-text detail for a source.
    pub fn finish_source(&mut self, source: i64, counts: &SourceCounts, detail: Option<&str>) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE sources SET records=?2, skipped=?3, withdrawn=?4, duplicates=?5, git_ranges=?6, detail=?7
                 WHERE id=?1",
                params![
                    source,
                    counts.records as i64,
                    counts.skipped as i64,
                    counts.withdrawn as i64,
                    counts.duplicates as i64,
                    counts.git_ranges as i64,
                    detail
                ],
            )
            .map_err(sql_err(&self.tmp))?;
        Ok(())
    }

    /// Records a skipped file (the first [`MAX_STORED_PROBLEMS`] are kept).
    pub fn add_problem(&mut self, source: i64, problem: &Problem) -> Result<()> {
        if self.stored_problems >= MAX_STORED_PROBLEMS {
            return Ok(());
        }
        self.stored_problems += 1;
        self.conn()
            .prepare_cached("INSERT INTO problems(source, file, field, message) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(params![source, problem.file, problem.field, problem.message]))
            .map_err(sql_err(&self.tmp))?;
        Ok(())
    }

    /// Inserts one record. A record whose id was already stored replaces it
    /// only when its `modified` time is later. Returns false for a duplicate
    /// that lost.
    pub(crate) fn add_record(&mut self, rec: &Prepared) -> Result<bool> {
        let path = self.tmp.clone();
        let err = sql_err(&path);
        let conn = self.conn.as_ref().expect("connection is open until finish");
        if let Some(old) = self.seen.get(&rec.id) {
            if rec.modified <= old.modified {
                return Ok(false);
            }
            for sql in [
                "DELETE FROM aliases WHERE advisory=?1",
                "DELETE FROM records WHERE advisory=?1",
                "DELETE FROM advisories WHERE id=?1",
            ] {
                conn.execute(sql, [old.rowid]).map_err(&err)?;
            }
            for (base, name, eco, seq) in &old.keys {
                conn.execute(
                    "DELETE FROM affected WHERE base=?1 AND name=?2 AND ecosystem=?3 AND advisory=?4 AND seq=?5",
                    params![base, name, eco, old.rowid, seq],
                )
                .map_err(&err)?;
            }
        }
        let aliases = rec.aliases.join("\n");
        let scored = rec.scored.as_ref();
        conn.prepare_cached(
            "INSERT INTO advisories(osv_id, modified, published, summary, aliases, severity, cvss_score,
             cvss_vector, severity_source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .and_then(|mut s| {
            s.execute(params![
                rec.id,
                rec.modified,
                rec.published,
                rec.summary,
                aliases,
                scored.map(|s| s.severity.as_str()),
                scored.and_then(|s| s.score),
                scored.and_then(|s| s.vector.as_deref()),
                scored.map(|s| s.source.as_str()),
            ])
        })
        .map_err(&err)?;
        let rowid = conn.last_insert_rowid();
        conn.prepare_cached("INSERT INTO records(advisory, record) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![rowid, rec.raw]))
            .map_err(&err)?;
        let mut keys = Vec::with_capacity(rec.affected.len());
        {
            let mut ins = conn
                .prepare_cached(
                    "INSERT OR REPLACE INTO affected(base, name, ecosystem, advisory, seq, entry)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(&err)?;
            for (seq, a) in rec.affected.iter().enumerate() {
                let seq = seq as i64;
                ins.execute(params![a.base, a.name, a.ecosystem, rowid, seq, a.entry]).map_err(&err)?;
                keys.push((a.base.clone(), a.name.clone(), a.ecosystem.clone(), seq));
            }
            let mut ins = conn.prepare_cached("INSERT INTO aliases(alias, advisory) VALUES (?1, ?2)").map_err(&err)?;
            ins.execute(params![rec.id, rowid]).map_err(&err)?;
            for alias in &rec.aliases {
                ins.execute(params![alias, rowid]).map_err(&err)?;
            }
        }
        let stored = StoredRecord { rowid, modified: rec.modified.clone(), keys };
        let was_dup = self.seen.insert(rec.id.clone(), stored).is_some();
        Ok(!was_dup)
    }

    /// Stores the KEV catalog.
    pub fn add_kev(&mut self, kev: &Kev) -> Result<()> {
        let err = sql_err(&self.tmp);
        let mut ins = self
            .conn()
            .prepare_cached(
                "INSERT OR REPLACE INTO kev(cve, date_added, due_date, ransomware, vendor, product, name, action)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(&err)?;
        for e in &kev.entries {
            ins.execute(params![
                e.cve_id,
                e.date_added,
                e.due_date,
                e.known_ransomware_campaign_use,
                e.vendor_project,
                e.product,
                e.vulnerability_name,
                e.required_action
            ])
            .map_err(&err)?;
        }
        Ok(())
    }

    /// Stores EPSS scores.
    pub fn add_epss(&mut self, epss: &Epss) -> Result<()> {
        let err = sql_err(&self.tmp);
        let mut ins = self
            .conn()
            .prepare_cached("INSERT OR REPLACE INTO epss(cve, score, percentile) VALUES (?1, ?2, ?3)")
            .map_err(&err)?;
        for s in &epss.scores {
            ins.execute(params![s.cve, s.score, s.percentile]).map_err(&err)?;
        }
        drop(ins);
        if let Some(date) = &epss.score_date {
            self.set_meta("epss_score_date", date)?;
        }
        Ok(())
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn()
            .execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)", params![key, value])
            .map_err(sql_err(&self.tmp))?;
        Ok(())
    }

    /// Indexes, stamps and atomically renames the new file over the target.
    pub fn finish(mut self) -> Result<PathBuf> {
        let built = now_unix();
        self.set_meta("schema_version", &SCHEMA_VERSION.to_string())?;
        self.set_meta("built_at", &built.to_string())?;
        self.set_meta("vigil_version", env!("CARGO_PKG_VERSION"))?;
        let conn = self.conn.take().expect("connection is open until finish");
        conn.execute_batch(INDEXES).map_err(sql_err(&self.tmp))?;
        conn.execute_batch("COMMIT").map_err(sql_err(&self.tmp))?;
        conn.close().map_err(|(_, e)| Error::Sqlite { path: self.tmp.clone(), source: e })?;
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Io { path, source }
        };
        File::open(&self.tmp).and_then(|f| f.sync_all()).map_err(io(&self.tmp))?;
        std::fs::rename(&self.tmp, &self.target).map_err(io(&self.target))?;
        if let Some(dir) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Make the rename durable; not every filesystem allows this, so failures are ignored.
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(self.target.clone())
    }
}

impl Drop for Builder {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn);
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Escapes the characters that end or change a path in an SQLite URI.
fn uri_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// A read-only handle on a built database.
pub struct Database {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

impl Database {
    /// Opens the database at `path` read-only and checks its schema version.
    pub fn open(path: &Path) -> Result<Database> {
        if !path.is_file() {
            return Err(Error::Missing(path.to_owned()));
        }
        // Built files are never modified, only replaced by rename, so SQLite
        // may skip locking and change detection (`immutable=1`) and map the
        // file into memory instead of reading it page by page.
        let uri = format!("file:{}?immutable=1", uri_escape(&path.to_string_lossy()));
        let conn = Connection::open_with_flags(
            uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(sql_err(path))?;
        conn.execute_batch("PRAGMA mmap_size=1073741824; PRAGMA cache_size=-32768;").map_err(sql_err(path))?;
        let found: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key='schema_version'", [], |r| r.get(0))
            .optional()
            .map_err(sql_err(path))?;
        let found = found.unwrap_or_else(|| "none".into());
        if found != SCHEMA_VERSION.to_string() {
            return Err(Error::Schema { path: path.to_owned(), found, expected: SCHEMA_VERSION });
        }
        Ok(Database { conn, path: path.to_owned() })
    }

    /// The file this handle reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        sql_err(&self.path)
    }

    /// A value from the `meta` table.
    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn.query_row("SELECT value FROM meta WHERE key=?1", [key], |r| r.get(0)).optional().map_err(self.err())
    }

    /// When the database was built (Unix seconds).
    pub fn built_at(&self) -> Result<i64> {
        Ok(self.meta("built_at")?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// How old the database is, in seconds.
    pub fn age_secs(&self) -> Result<i64> {
        Ok(now_unix() - self.built_at()?)
    }

    /// A warning when the database is older than `max_age_days`.
    pub fn staleness_warning(&self, max_age_days: u32) -> Result<Option<String>> {
        let age = self.age_secs()?;
        if age > i64::from(max_age_days) * 86_400 {
            return Ok(Some(format!(
                "the advisory database {} was built {} ago ({}), more than {max_age_days} days: run `vigil db update`",
                self.path.display(),
                vigil_core::time::humanize(age),
                rfc3339(self.built_at()?)
            )));
        }
        Ok(None)
    }
}

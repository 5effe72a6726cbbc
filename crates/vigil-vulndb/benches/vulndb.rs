//! Benchmarks of the read side on the full shared advisory set:
//! opening the database and 1,000 (ecosystem, package, version) lookups with
//! range evaluation, next to the floor (the same 1,000 indexed SQLite
//! queries without evaluation) measured in the same run.
//!
//! Run: `cargo bench -p vigil-vulndb --bench vulndb` (needs ../shared/vulndata;
//! `VIGIL_BENCH_OSV=DIR` points elsewhere). Prints medians of repeated runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vigil_vulndb::{Database, Limits, NoProgress, import};

/// The allocator the `vigil` binary uses, so the numbers match it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// 1,000 lookups drawn from the database. `uniform`: 1,000 distinct
/// packages spread evenly over all (ecosystem, package) pairs, as an
/// inventory would bring them. Otherwise every 40th affected entry, which
/// favours the packages with the most advisories (kernels, browsers).
/// Each is asked at a fixed version, at `0.1` and at `999.0`; one in ten
/// asks for a package that does not exist.
fn queries(db: &Path, uniform: bool) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let sql = if uniform {
        "SELECT DISTINCT ecosystem, name FROM affected"
    } else {
        "SELECT ecosystem, name FROM affected WHERE advisory % 40 = 0 LIMIT 1000"
    };
    let mut stmt = conn.prepare(sql).unwrap();
    let all: Vec<(String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    let db = Database::open(db).unwrap();
    let step = (all.len() / 1000).max(1);
    all.into_iter()
        .step_by(step)
        .take(1000)
        .enumerate()
        .map(|(i, (eco, name))| {
            let candidates = db.candidates(&eco, &name, "0").unwrap();
            let fixed = candidates.iter().find_map(|c| c.fixed.first().cloned()).unwrap_or_else(|| "0".to_owned());
            let version = match i % 3 {
                0 => fixed,
                1 => "0.1".to_owned(),
                _ => "999.0".to_owned(),
            };
            let name = if i % 10 == 9 { format!("{name}-does-not-exist") } else { name };
            (eco, name, version)
        })
        .collect()
}

/// Repetitions of each timing (`VIGIL_BENCH_RUNS`, default 21; 1 under
/// callgrind, where instruction counts replace wall time).
fn repetitions() -> usize {
    std::env::var("VIGIL_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(21)
}

/// Times 1,000 lookups and the index-only floor for the same keys.
fn lookups(db: &Database, qs: &[(String, String, String)], label: &str) {
    assert_eq!(qs.len(), 1000, "not enough sample packages");
    let mut hits = 0;
    let mut runs = Vec::new();
    for _ in 0..repetitions() {
        let t = Instant::now();
        hits = 0;
        for (eco, name, version) in qs {
            hits += db.lookup(eco, name, version).unwrap().len();
        }
        runs.push(t.elapsed());
    }
    let lookup_median = median(runs);
    let mut entries = 0;
    let mut floor_runs = Vec::new();
    for _ in 0..repetitions() {
        let t = Instant::now();
        entries = 0;
        for (eco, name, _) in qs {
            entries += db.candidate_count(eco, name).unwrap();
        }
        floor_runs.push(t.elapsed());
    }
    let floor = median(floor_runs);
    println!(
        "1000 lookups, {label}: median {:.2} ms over {} runs (target <= 20 ms); {entries} entries examined, {hits} affected",
        ms(lookup_median),
        repetitions()
    );
    println!(
        "  floor (the same 1000 indexed queries, no evaluation): median {:.2} ms; lookups cost {:.1}x the floor",
        ms(floor),
        lookup_median.as_secs_f64() / floor.as_secs_f64()
    );
}

fn main() {
    let osv = std::env::var_os("VIGIL_BENCH_OSV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata/osv"));
    if !osv.is_dir() {
        eprintln!("SKIPPED: no advisory data at {} (set VIGIL_BENCH_OSV)", osv.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db_path = match std::env::var_os("VIGIL_BENCH_DB") {
        // Reuse a built database (for profiling the read side alone).
        Some(path) => PathBuf::from(path),
        None => {
            let db_path = dir.path().join("vigil.db");
            let report = import(std::slice::from_ref(&osv), &db_path, Limits::default(), &NoProgress).unwrap();
            println!(
                "import (files, no HTTP): {} records in {:.2} s = {:.0} records/s",
                report.records,
                report.seconds,
                report.records as f64 / report.seconds
            );
            db_path
        }
    };

    let opens: Vec<Duration> = (0..50)
        .map(|_| {
            let t = Instant::now();
            let db = Database::open(&db_path).unwrap();
            let d = t.elapsed();
            drop(db);
            d
        })
        .collect();
    let open_median = median(opens);
    println!("open: median {:.3} ms over 50 runs (target <= 50 ms)", ms(open_median));

    let db = Database::open(&db_path).unwrap();
    lookups(&db, &queries(&db_path, true), "distinct packages, uniform");
    lookups(&db, &queries(&db_path, false), "weighted by advisory count");
}

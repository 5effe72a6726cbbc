//! Hostile-input tests of the import path: mutated zips and records,
//! generated records with arbitrary field values, and a zip bomb. The
//! import must fail with an error or skip the record, never panic, and
//! whatever it stores must stay queryable.
//!
//! `VIGIL_FUZZ_CASES` raises the number of cases for a longer run.

use std::io::Write;
use std::path::Path;

use proptest::prelude::*;
use vigil_vulndb::{Database, Limits, NoProgress, import};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)).unwrap()
}

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn real_zip() -> Vec<u8> {
    let a = fixture("RUSTSEC-2021-0003.json");
    let b = fixture("PYSEC-2012-1.json");
    let c = fixture("UBUNTU-CVE-2007-0255.json");
    zip_of(&[("RUSTSEC-2021-0003.json", &a), ("PYSEC-2012-1.json", &b), ("UBUNTU-CVE-2007-0255.json", &c)])
}

fn cases() -> u32 {
    std::env::var("VIGIL_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
}

/// Imports `bytes` saved as `name`; on success, exercises the result.
fn import_bytes(name: &str, bytes: &[u8], limits: Limits) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join(name);
    std::fs::write(&input, bytes).unwrap();
    let db = dir.path().join("db/vigil.db");
    if import(&[input], &db, limits, &NoProgress).is_ok() {
        let database = Database::open(&db).unwrap();
        database.status().unwrap();
        for (eco, name, version) in
            [("crates.io", "smallvec", "1.6.0"), ("PyPI", "beaker", "1.5"), ("Ubuntu:18.04", "xine-ui", "1")]
        {
            database.candidates(eco, name, version).unwrap();
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
            any::<usize>().prop_map(Mutation::Truncate),
            (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, v)| Mutation::Insert(i, v)),
        ],
        1..6,
    )
}

fn apply(mut data: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if data.is_empty() {
            break;
        }
        match m {
            Mutation::Flip(i, b) => {
                let i = i % data.len();
                data[i] ^= b | 1;
            }
            Mutation::Truncate(i) => data.truncate(i % data.len()),
            Mutation::Insert(i, bytes) => {
                let i = i % data.len();
                data.splice(i..i, bytes.iter().copied());
            }
        }
    }
    data
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_zips_never_panic(m in mutations()) {
        import_bytes("all.zip", &apply(real_zip(), &m), Limits::default());
    }

    #[test]
    fn mutated_records_never_panic(m in mutations(), which in 0usize..3) {
        let name = ["RUSTSEC-2021-0003.json", "PYSEC-2012-1.json", "UBUNTU-CVE-2007-0255.json"][which];
        let bytes = apply(fixture(name), &m);
        import_bytes("all.zip", &zip_of(&[(name, &bytes)]), Limits::default());
    }

    #[test]
    fn arbitrary_field_values_never_panic(
        eco in prop_oneof![Just("crates.io".to_owned()), Just("PyPI".to_owned()), Just("Ubuntu:18.04".to_owned()), ".{0,12}"],
        name in ".{0,12}",
        events in proptest::collection::vec((0usize..4, ".{0,10}"), 0..5),
        versions in proptest::collection::vec(".{0,8}", 0..3),
        severity in ".{0,40}",
        kind in prop_oneof![Just("SEMVER"), Just("ECOSYSTEM"), Just("GIT"), Just("OTHER")],
    ) {
        let events: Vec<serde_json::Value> = events
            .iter()
            .map(|(k, v)| serde_json::json!({ ["introduced", "fixed", "last_affected", "limit"][*k]: v }))
            .collect();
        let record = serde_json::json!({
            "id": "FUZZ-1",
            "severity": [{"type": "CVSS_V3", "score": severity}, {"type": "CVSS_V4", "score": severity}],
            "affected": [{
                "package": {"ecosystem": eco, "name": name},
                "ranges": [{"type": kind, "events": events}],
                "versions": versions,
            }],
        });
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("record.json");
        std::fs::write(&input, serde_json::to_vec(&record).unwrap()).unwrap();
        let db = dir.path().join("vigil.db");
        if import(&[input], &db, Limits::default(), &NoProgress).is_ok() {
            let database = Database::open(&db).unwrap();
            for v in ["0", "1.0.0", "", "~", "99999999999999999999999"] {
                database.candidates(&eco, &name, v).unwrap();
            }
        }
    }
}

#[test]
fn zip_bomb_is_refused_with_a_clear_error() {
    let zeros = vec![b' '; 20 << 20];
    let bomb = zip_of(&[("bomb.json", &zeros)]);
    assert!(bomb.len() < 1 << 20, "compressed bomb should be small: {}", bomb.len());
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("all.zip");
    std::fs::write(&input, &bomb).unwrap();
    let limits = Limits { max_entry_bytes: 1 << 20, ..Limits::default() };
    let err = import(std::slice::from_ref(&input), &dir.path().join("vigil.db"), limits, &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(err.contains("bomb.json") && err.contains("byte limit"), "{err}");
    let limits = Limits { max_total_bytes: 1 << 20, ..Limits::default() };
    let err = import(&[input], &dir.path().join("vigil.db"), limits, &NoProgress).unwrap_err().to_string();
    assert!(err.contains("byte limit"), "{err}");
    assert!(!dir.path().join("vigil.db").exists());
}

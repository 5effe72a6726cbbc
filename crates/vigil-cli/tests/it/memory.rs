//! Memory bounded by the work, not by the output: `vigil sbom` and `vigil
//! scan` of a 100,000-package dpkg database and of a 30 MiB minified
//! package-lock.json, in every format, stay within a fixed budget of peak
//! resident memory as GNU time measures it. Documents built whole in memory
//! before being written (a JSON tree per package) took ten times as much.
//! The full-size runs (a million packages, a 200 MiB lockfile) are
//! bench/big-inventory.sh's, in docs/BENCHMARKS.md.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::harness::{require_tool, vigil};

/// The peak resident memory of `vigil ARGS`, in MiB (standard output discarded).
fn peak_mib(db: &Path, args: &[&str]) -> u64 {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", env!("CARGO_BIN_EXE_vigil"), "--quiet"])
        .args(args)
        .env("VIGIL_DB_DIR", db)
        .env("HOME", db)
        .stdout(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "vigil {args:?}: {err}");
    err.lines().last().and_then(|l| l.trim().parse::<u64>().ok()).unwrap_or_else(|| panic!("{err}")) / 1024
}

/// A Debian 12 root filesystem whose dpkg status lists `n` installed packages.
fn big_rootfs(n: usize) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\n").unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/dpkg")).unwrap();
    let file = std::fs::File::create(root.path().join("var/lib/dpkg/status")).unwrap();
    let mut out = std::io::BufWriter::new(file);
    for i in 0..n {
        writeln!(
            out,
            "Package: lib{i}\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: {i}\n\
             Maintainer: Debian <debian@example.org>\nArchitecture: amd64\nSource: src{}\nVersion: 1.{i}-1\n\
             Description: package {i}\n second line\n",
            i / 3
        )
        .unwrap();
    }
    root
}

#[test]
fn a_hundred_thousand_packages_in_every_format() {
    if !require_tool("/usr/bin/time", "--version") {
        return;
    }
    let db = tempfile::tempdir().unwrap();
    let osv = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv");
    assert!(vigil(db.path(), &["db", "import", osv.to_str().unwrap()]).status.success());
    let root = big_rootfs(100_000);
    let target = root.path().to_str().unwrap();
    // About 45 MiB of packages; a whole-document renderer needed over 900 MiB for CycloneDX.
    for format in ["cyclonedx", "spdx", "json"] {
        let peak = peak_mib(db.path(), &["sbom", "--format", format, target]);
        assert!(peak < 250, "vigil sbom --format {format}: {peak} MiB");
    }
    for format in ["table", "json", "sarif", "junit", "markdown", "cyclonedx"] {
        let peak = peak_mib(db.path(), &["scan", "--offline", "--format", format, target]);
        assert!(peak < 250, "vigil scan --format {format}: {peak} MiB");
    }
}

#[test]
fn a_minified_lockfile_is_read_entry_by_entry() {
    if !require_tool("/usr/bin/time", "--version") {
        return;
    }
    let db = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("package-lock.json");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&lock).unwrap());
    write!(out, r#"{{"name":"big","lockfileVersion":3,"packages":{{"":{{"name":"big"}}"#).unwrap();
    let mut size = 0;
    let mut i = 0;
    while size < 30 << 20 {
        let entry = format!(
            r#","node_modules/package-{i}":{{"version":"1.{i}.0","resolved":"https://registry.npmjs.org/package-{i}/-/package-{i}-1.{i}.0.tgz","integrity":"sha512-{}","license":"MIT","dependencies":{{"other":"^1.0.0"}}}}"#,
            "A".repeat(86)
        );
        size += entry.len();
        out.write_all(entry.as_bytes()).unwrap();
        i += 1;
    }
    write!(out, "}}}}").unwrap();
    drop(out);
    // The lockfile itself is read whole (30 MiB); a JSON tree of it, built twice, took over 200 MiB.
    let peak = peak_mib(db.path(), &["sbom", "--format", "cyclonedx", lock.to_str().unwrap()]);
    assert!(peak < 150, "vigil sbom of a {} MiB lockfile ({i} packages): {peak} MiB", size >> 20);
}

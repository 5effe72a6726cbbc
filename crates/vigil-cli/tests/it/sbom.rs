//! `vigil sbom`: a real root filesystem (dpkg, apk and rpm databases from
//! the inventory fixtures) written as CycloneDX 1.6 and SPDX 2.3, each
//! checked by the format's official validator library (PyPI's
//! cyclonedx-python-lib with JSON validation, and spdx-tools).

use std::path::Path;
use std::process::Command;

use crate::harness::{assert_valid_cyclonedx, assert_valid_spdx, stderr, stdout, vigil};

fn inventory_fixture(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vigil-inventory/tests/fixtures").join(path)
}

fn rootfs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (target, source) in [
        ("var/lib/dpkg/status", "dpkg/status"),
        ("lib/apk/db/installed", "apk/installed"),
        ("var/lib/rpm/rpmdb.sqlite", "rpm/rpmdb.sqlite"),
    ] {
        let p = dir.path().join(target);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::copy(inventory_fixture(source), p).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\n").unwrap();
    dir
}

#[test]
fn cyclonedx_is_valid_and_complete() {
    let root = rootfs();
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("bom.json");
    let o = vigil(
        out_dir.path(),
        &["sbom", root.path().to_str().unwrap(), "--format", "cyclonedx", "--output", file.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let bom: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(bom["specVersion"], "1.6");
    let comps = bom["components"].as_array().unwrap();
    // 32 dpkg + 3 apk + 129 rpm packages, plus the OS.
    assert_eq!(comps.len(), 32 + 3 + 129 + 1);
    assert!(
        comps
            .iter()
            .all(|c| c["type"] == "operating-system" || c["purl"].as_str().is_some_and(|p| p.starts_with("pkg:")))
    );
    assert!(
        comps
            .iter()
            .any(|c| c["purl"]
                == "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2")
    );
    assert_valid_cyclonedx(&file);
}

#[test]
fn spdx_is_valid_and_complete() {
    let root = rootfs();
    let out_dir = tempfile::tempdir().unwrap();
    let o = vigil(out_dir.path(), &["sbom", root.path().to_str().unwrap(), "--format", "spdx"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let file = out_dir.path().join("sbom.spdx.json");
    std::fs::write(&file, stdout(&o)).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    let purls =
        doc["packages"].as_array().unwrap().iter().filter(|p| p["externalRefs"][0]["referenceType"] == "purl").count();
    assert_eq!(purls, 32 + 3 + 129);
    assert_valid_spdx(&file);
}

#[test]
fn unreadable_targets_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = vigil(dir.path(), &["sbom", "/etc/hostname"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .contains("not an image, a directory, a CycloneDX or SPDX JSON SBOM, a Go or cargo-auditable binary, or a"),
        "{}",
        stderr(&o)
    );
    // A path that does not exist is not silently taken for a registry image.
    let o = vigil(dir.path(), &["sbom", "/no/such/Cargo.lock"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no such file or directory, and"), "{}", stderr(&o));
}

/// Lockfile edge cases (aliases, packages without a version, git commits,
/// Conan user and channel) still make valid CycloneDX and SPDX documents.
#[test]
fn lockfile_edge_cases_make_valid_documents() {
    let edge = inventory_fixture("lang/edge");
    let out = tempfile::tempdir().unwrap();
    for (format, check) in [("cyclonedx", assert_valid_cyclonedx as fn(&Path)), ("spdx", assert_valid_spdx)] {
        let file = out.path().join(format!("{format}.json"));
        let o = vigil(
            out.path(),
            &["sbom", edge.to_str().unwrap(), "--format", format, "--output", file.to_str().unwrap()],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("pkg:npm/left-pad-local\""), "a package without a version has a purl without one");
        check(&file);
    }
    let bom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("cyclonedx.json")).unwrap()).unwrap();
    let alias = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["properties"].as_array().unwrap().iter().any(|p| p["name"] == "vigil:alias"))
        .unwrap();
    assert_eq!(alias["name"], "ansi-regex");
}

#[test]
fn output_to_a_device_or_pipe_writes_through_it() {
    // `--output /dev/null` (or a FIFO) must be written to, not replaced by a renamed file: as root,
    // replacing /dev/null turns it into a regular file, and everything that later reads
    // /dev/null reads the SBOM instead (cargo's rustc probes in the same CI job did).
    use std::os::unix::fs::FileTypeExt;
    let home = tempfile::tempdir().unwrap();
    let root = rootfs();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("sbom.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).unwrap())
    };
    let out = vigil(
        home.path(),
        &["sbom", root.path().to_str().unwrap(), "--format", "json", "--output", fifo.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced");
    let doc: serde_json::Value = serde_json::from_slice(&reader.join().unwrap()).unwrap();
    assert!(!doc["packages"].as_array().unwrap().is_empty());
    // A null device of the test's own (mknod needs root, which CI has).
    let null = dir.path().join("null");
    if Command::new("mknod").arg(&null).args(["c", "1", "3"]).status().is_ok_and(|s| s.success()) {
        let out = vigil(home.path(), &["sbom", root.path().to_str().unwrap(), "--output", null.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(std::fs::symlink_metadata(&null).unwrap().file_type().is_char_device(), "the device was replaced");
    }
}

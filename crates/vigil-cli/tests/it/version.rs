//! `vigil version compare`.

use crate::harness::{stderr, stdout, vigil};

#[test]
fn compares_two_versions() {
    let dir = tempfile::tempdir().unwrap();
    let o = vigil(dir.path(), &["version", "compare", "Debian:11", "1.2.3-1~deb11u1", "1.2.3-1"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "<\n");
    let o = vigil(dir.path(), &["version", "compare", "AlmaLinux", "1:1.0-1.el9", "2.0-1.el9"]);
    assert_eq!(stdout(&o), ">\n");
    let o = vigil(dir.path(), &["version", "compare", "Go", "v1.2.3+incompatible", "1.2.3"]);
    assert_eq!(stdout(&o), "=\n");
}

#[test]
fn compares_pairs_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["version", "compare", "PyPI", "--stdin"])
        .env("HOME", dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"1.0 1.0.0\n1.0.dev0 1.0a0\n1!0.1 2.0\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "=\n<\n>\n");
}

#[test]
fn unknown_ecosystem_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = vigil(dir.path(), &["version", "compare", "Nope", "1", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown ecosystem \"Nope\""), "{}", stderr(&o));
}

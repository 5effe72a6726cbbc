//! What a person meets first: `vigil --help`, shell completions and manual
//! pages (generated from the same definitions, and checked by the shells
//! and `man` themselves), and messages that say each thing once and never
//! pour hostile input onto the terminal.

use std::process::Command;

use crate::harness::{require_tool, stderr, stdout, tar_of, vigil};

#[test]
fn help_says_what_vigil_does_for_its_user() {
    let home = tempfile::tempdir().unwrap();
    let help = stdout(&vigil(home.path(), &["--help"]));
    assert!(help.starts_with("Vigil finds known vulnerabilities in what you ship"), "{help}");
    assert!(!help.contains("crates"), "{help}");
    assert!(help.contains("Examples:\n  vigil db update"), "{help}");
    let short = stdout(&vigil(home.path(), &["-h"]));
    assert!(short.starts_with("Vigil finds known vulnerabilities"), "{short}");
}

#[test]
fn completion_scripts_are_valid_for_their_shells() {
    let home = tempfile::tempdir().unwrap();
    // Each shell's own syntax check where the shell is here (scripts/test.sh installs bash, zsh and fish).
    let checks: [(&str, &str, &[&str]); 4] = [
        ("bash", "complete -F _vigil", &["-n"]),
        ("zsh", "#compdef vigil", &["-n"]),
        ("fish", "complete -c vigil", &["--no-execute"]),
        ("powershell", "Register-ArgumentCompleter", &[]),
    ];
    for (shell, marker, check) in checks {
        let out = vigil(home.path(), &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("fail-on-missing-data"), "{shell}: every flag is completed");
        if check.is_empty() || !require_tool(shell, "--version") {
            continue;
        }
        let file = home.path().join(format!("vigil.{shell}"));
        std::fs::write(&file, &script).unwrap();
        let o = Command::new(shell).args(check).arg(&file).output().unwrap();
        assert!(o.status.success(), "{shell} rejects the script: {}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(vigil(home.path(), &["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn manual_pages_for_every_command() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("man1");
    assert!(vigil(home.path(), &["man", "--dir", dir.to_str().unwrap()]).status.success());
    let mut pages: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    pages.sort();
    for page in ["vigil.1", "vigil-scan.1", "vigil-sbom.1", "vigil-db-update.1", "vigil-completions.1"] {
        assert!(pages.contains(&page.to_owned()), "{page} in {pages:?}");
    }
    let main = stdout(&vigil(home.path(), &["man"]));
    assert!(main.starts_with(".ie \\n(.g .ds Aq") || main.contains(".TH vigil 1"), "{main}");
    // Rendered by man itself.
    if require_tool("man", "--version") {
        let o = Command::new("man").arg("-l").arg(dir.join("vigil-scan.1")).env("MANWIDTH", "100").output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success() && text.contains("--fail-on-missing-data"), "{text}");
    }
}

#[test]
fn errors_name_the_target_once_and_quote_input_briefly() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A lockfile that is one 400 KB line of brackets.
    let lock = dir.path().join("package-lock.json");
    std::fs::write(&lock, "[".repeat(400_000)).unwrap();
    let target = lock.to_str().unwrap();
    let out = vigil(home.path(), &["sbom", target]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.matches(target).count(), 1, "{err}");
    assert!(err.contains("line 1 column"), "{err}");
    // In a directory, the TOML parser's snippet is cut around its caret, line and column kept.
    std::fs::write(dir.path().join("Cargo.lock"), "[".repeat(400_000)).unwrap();
    let out = vigil(home.path(), &["sbom", dir.path().to_str().unwrap(), "--format", "json"]);
    let err = stderr(&out);
    assert!(err.contains("cargo-lock: /Cargo.lock: TOML parse error at line 1, column"), "{err}");
    assert!(err.len() < 2000 && err.lines().all(|l| l.chars().count() < 300), "{err}");
    assert!(err.contains("more characters)"), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["warnings"].as_array().unwrap().iter().all(|w| w.as_str().unwrap().len() < 2000), "{report}");
    // An image whose layer does not match its digest: the image is named once, then the layer.
    let layer = tar_of(&[("etc/os-release", b"ID=debian\n")]);
    let config = serde_json::json!({"rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", "0".repeat(64))]}});
    let manifest = serde_json::json!([{"Config": "config.json", "Layers": ["layer.tar"]}]);
    let image = dir.path().join("image.tar");
    let (config, manifest) = (config.to_string(), manifest.to_string());
    std::fs::write(
        &image,
        tar_of(&[("manifest.json", manifest.as_bytes()), ("config.json", config.as_bytes()), ("layer.tar", &layer)]),
    )
    .unwrap();
    let out = vigil(home.path(), &["sbom", "--no-cache", image.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.matches(image.to_str().unwrap()).count(), 1, "{err}");
    assert!(err.contains("layer"), "{err}");
}

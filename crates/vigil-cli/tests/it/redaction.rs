//! Credentials in lockfile URLs never reach anything Vigil writes: every
//! SBOM format, every scan format, and the warnings on standard error. The
//! project below carries one token in every place a lockfile can: a git
//! dependency's URL (npm v1), an entry Vigil cannot read (yarn), a
//! requirement by URL and an include by URL (pip), a version field that is
//! a URL, and a file so broken that its parser's error quotes the line.

use std::path::Path;

use crate::harness::{Server, fixtures, json, mirror, stderr, stdout, update_args, vigil};

const TOKEN: &str = "tok3n-in-url";

fn project() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let w = |path: &str, text: String| {
        let p = root.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    // A real advisory matches flask 0.12, so every findings format has something to render.
    w(
        "py/requirements.txt",
        format!(
            "flask==0.12\nprivate-lib @ https://ci:{TOKEN}@pypi.internal.example/private-lib-1.0.tar.gz\n\
             -r https://ci:{TOKEN}@pypi.internal.example/requirements.txt\n"
        ),
    );
    w(
        "node/package-lock.json",
        format!(
            r#"{{"lockfileVersion": 1, "dependencies": {{
                "left-pad": {{"version": "git+https://{TOKEN}@github.com/example/left-pad.git#7cb30ffee96d60d15d394a1d9a65afffb91e1ce1"}}
            }}}}"#
        ),
    );
    w(
        "web/yarn.lock",
        format!(
            "# yarn lockfile v1\n\n\"thing@git+https://{TOKEN}@github.com/o/thing.git\":\n  resolved \"git+https://{TOKEN}@github.com/o/thing.git#0123456789abcdef\"\n\n\
             weird@^1:\n  version \"https://user:{TOKEN}@registry.example/weird-1.0.0.tgz\"\n"
        ),
    );
    w(
        "rust/Cargo.lock",
        format!("[[package]]\nname = \"x\"\nversion = \"1.0.0\"\nsource = \"git+https://{TOKEN}@github.com/o/x\n"),
    );
    root
}

fn database(dir: &Path) {
    let osv = fixtures().join("osv");
    let o = vigil(dir, &["db", "import", osv.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn no_output_repeats_a_credential() {
    let root = project();
    let target = root.path().to_str().unwrap();
    let db = tempfile::tempdir().unwrap();
    database(db.path());
    let out = tempfile::tempdir().unwrap();

    for format in ["cyclonedx", "spdx", "json"] {
        let o = vigil(db.path(), &["sbom", target, "--format", format]);
        assert!(o.status.success(), "{}", stderr(&o));
        let (text, err) = (stdout(&o), stderr(&o));
        assert!(text.contains("private-lib") && text.contains("left-pad"), "{format}: packages are listed: {text}");
        assert!(!text.contains(TOKEN), "sbom {format}: {text}");
        assert!(!err.contains(TOKEN), "sbom {format} warnings: {err}");
        assert!(
            err.contains("pypi.internal.example"),
            "the warning still names the URL, without its credentials: {err}"
        );
    }

    let formats = ["json", "sarif", "junit", "markdown", "cyclonedx"];
    let mut args = vec!["scan".to_owned(), target.to_owned(), "--format".to_owned(), "table".to_owned()];
    for f in formats {
        args.push("--format".into());
        args.push(format!("{f}={}", out.path().join(f).display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = vigil(db.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(table.contains("flask"), "{table}");
    assert!(!table.contains(TOKEN), "table: {table}");
    assert!(!stderr(&o).contains(TOKEN), "scan warnings: {}", stderr(&o));
    for f in formats {
        let text = std::fs::read_to_string(out.path().join(f)).unwrap();
        assert!(text.contains("PYSEC-2019-179"), "{f} has the finding: {text}");
        assert!(!text.contains(TOKEN), "scan {f}: {text}");
    }
    // A single lockfile that cannot be read at all: the error quotes the line, not the token.
    let broken = root.path().join("rust/Cargo.lock");
    let o = vigil(db.path(), &["sbom", broken.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("github.com/o/x") && !stderr(&o).contains(TOKEN), "{}", stderr(&o));

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("json")).unwrap()).unwrap();
    let warnings = report["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("https://pypi.internal.example/requirements.txt")));
}

/// A mirror configured with credentials in its URL (an Artifactory-style
/// `https://user:token@host/osv`): the database records the source, and
/// errors name it, without them.
#[test]
fn mirror_credentials_are_not_recorded_or_printed() {
    let files = mirror();
    let server = Server::start(files.path());
    let base = server.base.replace("http://", &format!("http://ci:{TOKEN}@"));
    let db = tempfile::tempdir().unwrap();
    let args = update_args(&base, "osv", &["PyPI".to_owned()]);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--format", "json"]);
    let o = vigil(db.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains(TOKEN) && !stderr(&o).contains(TOKEN), "{}{}", stdout(&o), stderr(&o));
    let status = vigil(db.path(), &["db", "status", "--format", "json"]);
    let text = stdout(&status);
    assert!(!text.contains(TOKEN), "{text}");
    assert!(
        json(&status)["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["location"].as_str().unwrap().contains("127.0.0.1"))
    );
    // A download that fails names the URL, without the token.
    let args = update_args(&base, "missing", &["PyPI".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = vigil(db.path(), &args);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("127.0.0.1") && !stderr(&o).contains(TOKEN), "{}", stderr(&o));
}

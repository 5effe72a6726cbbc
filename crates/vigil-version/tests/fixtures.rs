//! Every ordered pair in the version-compare corpus (copied from
//! `shared/vulndata/version-compare`) must hold, in both directions.

use std::cmp::Ordering;
use std::path::Path;

use vigil_version::Scheme;

const CORPUS: &[(&str, Scheme)] = &[
    ("alpine-versions-generated.txt", Scheme::Apk),
    ("alpine-versions.txt", Scheme::Apk),
    ("cran-versions-generated.txt", Scheme::Cran),
    ("cran-versions.txt", Scheme::Cran),
    ("debian-versions-generated.txt", Scheme::Dpkg),
    ("debian-versions.txt", Scheme::Dpkg),
    ("hackage-versions.txt", Scheme::Hackage),
    ("maven-versions-generated.txt", Scheme::Maven),
    ("maven-versions.txt", Scheme::Maven),
    ("nuget-versions.txt", Scheme::NuGet),
    ("packagist-versions-generated.txt", Scheme::Packagist),
    ("packagist-versions.txt", Scheme::Packagist),
    ("pub-versions.txt", Scheme::Pub),
    ("pypi-versions-generated.txt", Scheme::Pep440),
    ("pypi-versions.txt", Scheme::Pep440),
    ("redhat-versions.txt", Scheme::Rpm),
    ("rubygems-versions-generated.txt", Scheme::RubyGems),
    ("rubygems-versions.txt", Scheme::RubyGems),
    ("semver-versions.txt", Scheme::Semver),
];

/// Parses `a OP b` lines; `#` and `//` lines are comments.
fn pairs(text: &str) -> Vec<(usize, String, Ordering, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
            continue;
        }
        let parts: Vec<&str> = line.split(' ').collect();
        assert_eq!(parts.len(), 3, "line {}: {line:?}", n + 1);
        let op = match parts[1] {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            ">" => Ordering::Greater,
            other => panic!("line {}: unknown operator {other}", n + 1),
        };
        out.push((n + 1, parts[0].to_owned(), op, parts[2].to_owned()));
    }
    out
}

#[test]
fn corpus_pairs_all_hold() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut failures = Vec::new();
    let mut total = 0;
    for (file, scheme) in CORPUS {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for (line, a, op, b) in pairs(&text) {
            total += 1;
            let got = scheme.compare(&a, &b);
            let back = scheme.compare(&b, &a);
            if got != op || back != op.reverse() {
                failures.push(format!("{file}:{line}: {a} {op:?} {b}: got {got:?}, reverse {back:?}"));
            }
        }
    }
    assert!(total > 70_000, "corpus too small: {total}");
    assert!(failures.is_empty(), "{} of {total} pairs failed:\n{}", failures.len(), failures.join("\n"));
}

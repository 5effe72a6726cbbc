//! Lockfiles as people really have them: written by the real package
//! managers (npm 6 and 11, pnpm 7, 8 and 12, yarn 1.22 and 4, uv, pdm,
//! Conan 1 and 2; `tests/fixtures/lang/edge/README.md` says how each was
//! made) with aliases, git, tarball and local dependencies, peer suffixes
//! and other registries, plus hand-made edge cases for the formats and
//! corners no tool here writes. Each test names every package expected,
//! so a lost package or an invented one fails.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use vigil_core::inventory::Inventory;
use vigil_inventory::{Options, inventory_dir};

fn edge(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lang/edge").join(dir)
}

fn inventory(dir: &str) -> Inventory {
    inventory_dir(&edge(dir), &Options::default()).unwrap()
}

/// `cataloger -> ["name@version {properties}"]`, sorted.
fn found(inv: &Inventory) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &inv.packages {
        let props: Vec<String> = p.properties.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let shown = if props.is_empty() {
            format!("{}@{}", p.name, p.version)
        } else {
            format!("{}@{} {}", p.name, p.version, props.join(" "))
        };
        out.entry(p.cataloger.clone()).or_default().push(shown);
    }
    out.values_mut().for_each(|v| v.sort());
    out
}

/// The sorted output lines of an oracle (the ecosystem's own tool), or
/// `None` after saying loudly that it could not run (a failure under
/// `VIGIL_REQUIRE_ORACLES`).
fn oracle(what: &str, command: &mut std::process::Command) -> Option<Vec<String>> {
    match command.output() {
        Ok(out) if out.status.success() => {
            let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
            lines.sort();
            Some(lines)
        }
        other => {
            let msg = format!("{what} is not available (scripts/test.sh installs it): {other:?}");
            assert!(std::env::var_os("VIGIL_REQUIRE_ORACLES").is_none(), "{msg}");
            eprintln!("\n!!!!! SKIPPED: {msg} !!!!!\n");
            None
        }
    }
}

/// The packages pnpm 7, 8 and 12 and yarn 1 and 4 installed for the same
/// `package.json` (checked against `pnpm list --depth Infinity` and the
/// `node_modules` tree when the fixtures were made), without the git one.
const NODE_PROJECT: &[&str] = &[
    "@babel/code-frame@7.12.13",
    "@babel/helper-validator-identifier@7.29.7",
    "@babel/highlight@7.25.9",
    "acorn-jsx@5.3.2",
    "acorn@8.7.0",
    "ansi-regex@5.0.1 alias=ansi-regex-cjs",
    "ansi-styles@3.2.1",
    "chalk@2.4.2",
    "color-convert@1.9.3",
    "color-name@1.1.3",
    "escape-string-regexp@1.0.5",
    "has-flag@3.0.0",
    "js-tokens@4.0.0",
    "picocolors@1.1.1",
    "supports-color@5.5.0",
];

const GIT_COMMIT: &str = "7cb30ffee96d60d15d394a1d9a65afffb91e1ce1";

fn with(extra: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = NODE_PROJECT.iter().chain(extra).map(|s| s.to_string()).collect();
    all.sort();
    all
}

#[test]
fn npm_v1_aliases_and_git_dependencies() {
    let inv = inventory("npm-v1");
    assert_eq!(
        found(&inv)["npm-lock"],
        [
            "ansi-regex@5.0.1 alias=ansi-regex-cjs".to_owned(),
            format!("left-pad-local@ commit={GIT_COMMIT}"),
            "lodash@4.17.20".to_owned(),
            "minimist@1.2.5".to_owned(),
        ]
    );
    let git = inv.packages.iter().find(|p| p.name == "left-pad-local").unwrap();
    assert_eq!(git.purl, "pkg:npm/left-pad-local", "no URL as the version, no version at all");
    let alias = inv.packages.iter().find(|p| p.name == "ansi-regex").unwrap();
    assert_eq!(alias.purl, "pkg:npm/ansi-regex@5.0.1");
    assert_eq!(inv.warnings.len(), 1, "{:?}", inv.warnings);
    assert!(inv.warnings[0].contains("/package-lock.json: 1 package without a version is listed but not matched"));
    assert!(inv.warnings[0].ends_with("left-pad-local (git commit 7cb30ffee96d)"), "{}", inv.warnings[0]);
}

#[test]
fn npm_v1_tokens_never_leave_the_lockfile() {
    let inv = inventory("npm-v1-token");
    let json = serde_json::to_string(&inv).unwrap();
    assert!(!json.contains("ghp_"), "{json}");
    let git = inv.packages.iter().find(|p| p.name == "left-pad-local").unwrap();
    assert_eq!((git.version.as_str(), git.purl.as_str()), ("", "pkg:npm/left-pad-local"));
}

#[test]
fn npm_v3_and_the_hidden_lockfile() {
    let all = found(&inventory("npm-v3"));
    let expected = [
        "ansi-regex@5.0.1 alias=ansi-regex-cjs".to_owned(),
        format!("left-pad-local@1.3.0 commit={GIT_COMMIT}"),
        "lodash@4.17.20".to_owned(),
        "minimist@1.2.5".to_owned(),
    ];
    assert_eq!(all["npm-lock"], expected);
    assert_eq!(all["npm-hidden-lock"], expected);
    // node_modules/*/package.json say what the hidden lockfile says: not reported twice.
    assert!(!all.contains_key("npm-installed"), "{all:?}");
}

#[test]
fn pnpm_every_lockfile_version() {
    let git_v5 = format!("left-pad-local@ commit={GIT_COMMIT}");
    let git_v9 = format!("left-pad-local@1.3.0 commit={GIT_COMMIT}");
    // pnpm 7 (lockfile 5.4): peer suffixes `_acorn@8.7.0`; a git dependency keyed by its path, without a name.
    assert_eq!(found(&inventory("pnpm-v5"))["pnpm-lock"], with(&[&git_v5, "lodash@4.17.20 alias=lodash-tarball"]));
    // pnpm 8 (6.0): `(acorn@8.7.0)`; pnpm 8 cannot install `git+file:` dependencies, so none here.
    assert_eq!(found(&inventory("pnpm-v6"))["pnpm-lock"], with(&["lodash@4.17.20 alias=lodash-tarball"]));
    // pnpm 12 (9.0): keys without a leading slash, the git package with its version.
    assert_eq!(found(&inventory("pnpm-v9"))["pnpm-lock"], with(&[&git_v9, "lodash@4.17.20 alias=lodash-tarball"]));
    for dir in ["pnpm-v5", "pnpm-v6", "pnpm-v9"] {
        let inv = inventory(dir);
        assert!(inv.packages.iter().all(|p| p.name != "local-thing"), "file: dependencies are the project's own");
        let warnings: Vec<&String> = inv.warnings.iter().filter(|w| !w.contains("left-pad-local")).collect();
        assert!(warnings.is_empty(), "{dir}: {warnings:?}");
    }
}

#[test]
fn pnpm_tarballs_from_another_registry() {
    // `@127.0.0.1+48731/minimist/-/minimist-1.2.5.tgz` (v5, v6) and
    // `minimist@http://127.0.0.1:48731/...tgz` (v9), with explicit name and version fields.
    for dir in ["pnpm-v5-tarball", "pnpm-v6-tarball", "pnpm-v9-tarball"] {
        let inv = inventory(dir);
        assert_eq!(found(&inv)["pnpm-lock"], ["lodash@4.17.20", "minimist@1.2.5"], "{dir}");
        assert!(inv.warnings.is_empty(), "{dir}: {:?}", inv.warnings);
    }
}

#[test]
fn pnpm_registry_prefixed_and_github_keys_and_one_bad_entry() {
    let inv = inventory("pnpm-hand");
    assert_eq!(
        found(&inv)["pnpm-lock"],
        ["@corp/ui@2.0.1", "foo@1.1.0", "is-even@1.0.0", "loose-envify@1.4.0", "private-tarball@3.1.4", "react@18.2.0",]
    );
    assert_eq!(inv.warnings.len(), 1, "{:?}", inv.warnings);
    let w = &inv.warnings[0];
    assert!(w.starts_with("pnpm-lock: /pnpm-lock.yaml: 1 entry left out, neither the entry nor its key names the package: https://registry.example.com/garbage/-/garbage.tgz"), "{w}");
    assert!(!serde_json::to_string(&inv).unwrap().contains("s3cr3t"));
}

#[test]
fn yarn_classic_and_berry() {
    let git = format!("left-pad-local@1.3.0 commit={GIT_COMMIT}");
    let classic = inventory("yarn-v1");
    assert_eq!(found(&classic)["yarn-lock"], with(&[&git, "minimist@1.2.5"]));
    assert!(classic.warnings.is_empty(), "{:?}", classic.warnings);
    let berry = inventory("yarn-berry");
    assert_eq!(
        found(&berry)["yarn-lock"],
        with(&[
            &git,
            "function-bind@1.1.2",
            "hasown@2.0.4",
            "is-core-module@2.18.0",
            "minimist@1.2.5",
            "path-parse@1.0.7",
            "resolve@1.22.1",
            "supports-preserve-symlinks-flag@1.0.0",
        ])
    );
    assert!(berry.warnings.is_empty(), "{:?}", berry.warnings);
}

#[test]
fn yarn_quoted_field_names() {
    let inv = inventory("yarn-quoted");
    assert_eq!(found(&inv)["yarn-lock"], ["left-pad@1.3.0", "minimist@1.2.5"]);
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[test]
fn a_lockfile_with_entries_but_no_packages_is_a_warning() {
    let root = tempfile::tempdir().unwrap();
    // Every entry lacks a version: each is named, none silently dropped.
    std::fs::write(root.path().join("yarn.lock"), "a@^1:\n  resolved \"x\"\n\nb@^2:\n  integrity \"y\"\n").unwrap();
    let inv = inventory_dir(root.path(), &Options::default()).unwrap();
    assert!(inv.packages.is_empty());
    assert_eq!(inv.warnings, ["yarn-lock: /yarn.lock: 2 entries left out, no version: a@^1, b@^2"]);
}

/// `name version path` of every requirements package, names PEP 503-normalised.
fn requirements_lines(inv: &Inventory) -> Vec<String> {
    let mut lines: Vec<String> = inv
        .packages
        .iter()
        .filter(|p| p.cataloger == "requirements")
        .map(|p| {
            let name = vigil_core::ecosystem::normalize_name("PyPI", &p.name);
            format!("{name} {} {}", p.version, p.location.path)
        })
        .collect();
    lines.sort();
    lines
}

/// pip's own parser as the oracle: `parse_requirements` joins lines, drops
/// comments and options and follows `-r`/`-c`, and
/// `install_req_from_parsed_requirement` names each requirement (wheels,
/// `#egg=`, editables); the pin is its `==`/`===` specifier, else the
/// constraint's.
const PIP_ORACLE: &str = r#"
import os, sys
from pip._internal.req.req_file import parse_requirements
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.network.session import PipSession
from pip._vendor.packaging.utils import canonicalize_name
os.chdir(sys.argv[1])
out, pins = set(), {}
for top in sys.argv[2:]:
    reqs = []
    for r in parse_requirements(top, session=PipSession()):
        i = install_req_from_parsed_requirement(r)
        origin = r.comes_from.split(" (line")[0].split(" ", 1)[1]
        pin = ""
        if i.req is not None:
            for s in i.req.specifier:
                if s.operator in ("==", "===") and "*" not in s.version:
                    pin = s.version
        if i.constraint:
            pins[canonicalize_name(i.name)] = pin
        elif i.name is not None:
            reqs.append((canonicalize_name(i.name), pin, "/" + os.path.normpath(origin)))
    for name, pin, origin in reqs:
        out.add(f"{name} {pin or pins.get(name, '')} {origin}")
print("\n".join(sorted(out)))
"#;

#[test]
fn requirements_read_as_pip_reads_them() {
    let inv = inventory("pip");
    let ours = requirements_lines(&inv);
    assert!(ours.contains(&"pytest 7.1.0 /req/requirements-dev.txt".to_owned()), "pinned by the constraints file");
    assert!(ours.contains(&"baz 1.4.2 /req/requirements-dev.txt".to_owned()), "a wheel file names its version");
    assert!(ours.contains(&"flask 2.0.1 /requirements.txt".to_owned()), "included packages name their file");
    assert!(ours.contains(&"black  /req/requirements-dev.txt".to_owned()), "unpinned: listed without a version");
    assert!(!ours.iter().any(|l| l.starts_with("pluggy")), "constraints add no packages");
    let unpinned: Vec<&String> = inv.warnings.iter().filter(|w| w.contains("without a version")).collect();
    assert_eq!(unpinned.len(), 1, "{:?}", inv.warnings);
    assert!(unpinned[0].ends_with(": black, devtools"), "{}", unpinned[0]);
    assert!(!serde_json::to_string(&inv).unwrap().contains("s3cr3t"));

    let mut pip = std::process::Command::new("python3");
    pip.arg("-c").arg(PIP_ORACLE).arg(edge("pip")).args(["requirements.txt", "req/requirements-dev.txt"]);
    if let Some(pip) = oracle("pip's requirements parser (python3 with pip)", &mut pip) {
        assert_eq!(ours, pip, "Vigil and pip disagree");
    }
}

#[test]
fn requirements_includes_that_cannot_be_followed() {
    let inv = inventory("pip-bad");
    assert_eq!(
        requirements_lines(&inv),
        [
            "flask 2.0.1 /requirements.txt",
            "idna 2.10 /req/requirements-b.txt",
            "requests 2.25.0 /req/requirements-a.txt"
        ]
    );
    let top: Vec<&String> = inv.warnings.iter().filter(|w| w.starts_with("requirements: /requirements.txt:")).collect();
    let expected = [
        "an include by URL is not downloaded: -r https://example.com/requirements.txt",
        "the included file is outside the scanned root: -r ../../../../outside.txt",
        "the included file does not exist: -r req/missing.txt",
        "the included file includes itself (a cycle): -r requirements-a.txt",
        "not a requirement pip reads: https://example.com/archive.tar.gz",
    ];
    for e in expected {
        assert!(top.iter().any(|w| w.ends_with(e)), "{e}: {top:?}");
    }
}

#[test]
fn maven_modules_parents_and_xml() {
    let inv = inventory("maven");
    assert_eq!(
        found(&inv)["maven-pom"],
        [
            "com.fasterxml.jackson.core:jackson-databind@2.9.8",
            "commons-io:commons-io@2.6",
            "org.apache.logging.log4j:log4j-core@2.14.1",
            "org.example:shop-model@2.4.0",
            "org.springframework.boot:spring-boot-starter@",
            "org.springframework:spring-web@5.3.18",
        ],
        "the explicit log4j version wins over the managed one; the parent's own managed list is not its dependencies"
    );
    assert_eq!(inv.warnings.len(), 1, "{:?}", inv.warnings);
    assert!(inv.warnings[0].starts_with("maven-pom: /app/pom.xml: 1 package without a version"), "{:?}", inv.warnings);
    assert!(inv.warnings[0].ends_with(": org.springframework.boot:spring-boot-starter"));
}

#[test]
fn not_a_lockfile_names_every_format_vigil_reads() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "hello").unwrap();
    let message = vigil_inventory::inventory_file(&file, &Options::default()).unwrap_err().to_string();
    // The list comes from the registration table, so no format Vigil reads can be left out.
    for format in vigil_inventory::catalogers::lang::FORMATS {
        assert!(message.contains(format.files), "{} missing from: {message}", format.files);
    }
    for name in ["yarn.lock", "pnpm-lock.yaml", "pom.xml"] {
        assert!(message.contains(name), "{message}");
    }
}

/// `(ecosystem, purl)` of every package in an edge fixture, sorted.
fn purls(dir: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> =
        inventory(dir).packages.iter().map(|p| (p.ecosystem.clone(), p.purl.clone())).collect();
    v.sort();
    v
}

#[test]
fn conan_lockfiles_of_conan_1_and_2() {
    assert_eq!(
        found(&inventory("conan2"))["conan-lock"],
        ["cmake@3.25.3 scope=build", "fmt@9.1.0 channel=stable user=mycompany", "openssl@3.0.8", "zlib@1.2.13",]
    );
    assert_eq!(
        found(&inventory("conan1"))["conan-lock"],
        ["fmt@9.1.0 channel=stable user=mycompany", "openssl@1.1.1q", "zlib@1.2.11"]
    );
    assert!(
        purls("conan2")
            .contains(&("ConanCenter".to_owned(), "pkg:conan/fmt@9.1.0?channel=stable&user=mycompany".to_owned()))
    );
}

/// Conan 2's own lockfile reader as the oracle for the Conan 2 lockfile.
#[test]
fn conan_2_reads_its_lockfile_as_vigil_does() {
    let program = r#"
import sys
from conan.internal.model.lockfile import Lockfile
lock = Lockfile.load(sys.argv[1])
for section, refs in (("", lock._requires), ("build", lock._build_requires)):
    for r in refs.refs():
        print(f"{r.name}@{r.version}" + (f" user={r.user} channel={r.channel}" if r.user else "") + (f" scope={section}" if section else ""))
"#;
    let mut conan = std::process::Command::new("python3");
    conan.arg("-c").arg(program).arg(edge("conan2/conan.lock"));
    if let Some(conan) = oracle("Conan 2 (the conan package from PyPI)", &mut conan) {
        let ours: Vec<String> = found(&inventory("conan2"))["conan-lock"]
            .iter()
            .map(|l| l.replace("channel=stable user=mycompany", "user=mycompany channel=stable"))
            .collect();
        assert_eq!(ours, conan);
    }
}

#[test]
fn pdm_lock() {
    assert_eq!(
        found(&inventory("pdm"))["pdm-lock"],
        [
            "atomicwrites@1.4.1",
            "attrs@26.1.0",
            "click@8.1.8",
            "colorama@0.4.6",
            "flask@2.0.1",
            "iniconfig@2.1.0",
            "itsdangerous@2.2.0",
            "jinja2@3.0.3",
            "markupsafe@3.0.4",
            "packaging@26.3",
            "pluggy@1.6.0",
            "py@1.11.0",
            "pytest@7.1.0",
            "tomli@2.5.0",
            "werkzeug@3.1.9",
        ]
    );
}

#[test]
fn pubspec_lock() {
    let inv = inventory("pubspec");
    assert_eq!(
        found(&inv)["pubspec-lock"],
        [
            "async@2.11.0",
            "collection@1.18.0",
            "http@0.13.6",
            "internal_utils@3.2.0",
            "yaml_edit@2.1.1 commit=1c0f3b6c9e7a4d2b8f5e0a1c3d5e7f9b2a4c6e8d",
        ],
        "sdk and path packages are not from pub"
    );
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    assert!(purls("pubspec").contains(&("Pub".to_owned(), "pkg:pub/http@0.13.6".to_owned())));
}

#[test]
fn mix_lock_read_as_elixir_reads_it() {
    let inv = inventory("mix");
    let ours = found(&inv)["mix-lock"].clone();
    assert_eq!(
        ours,
        [
            "cowboy@2.9.0",
            "cowlib@2.11.0",
            "jason@1.4.0",
            "phoenix@ commit=8d6b2e5e5e0b9f4b5e8c0f1a2b3c4d5e6f708192",
            "plug_crypto@1.2.3",
            "ranch@1.8.0",
        ],
        "a Hex entry names its package (plug_crypto), whatever its key"
    );
    assert!(purls("mix").contains(&("Hex".to_owned(), "pkg:hex/cowboy@2.9.0".to_owned())));
    // Elixir itself reading the file.
    let program = r##"{m, _} = Code.eval_file(hd(System.argv()))
for {k, v} <- m do
  case v do
    {:hex, name, version, _, _, _, _, _} -> IO.puts("#{name}@#{version}")
    {:git, _, commit, _} -> IO.puts("#{k}@ commit=#{commit}")
  end
end"##;
    let mut elixir = std::process::Command::new("elixir");
    elixir.arg("-e").arg(program).arg(edge("mix/mix.lock"));
    if let Some(elixir) = oracle("elixir", &mut elixir) {
        assert_eq!(ours, elixir);
    }
}

#[test]
fn renv_lock() {
    let inv = inventory("renv");
    assert_eq!(found(&inv)["renv-lock"], ["R6@2.5.1", "jsonlite@1.8.4", "renv@0.16.0"]);
    assert_eq!(
        inv.warnings,
        [
            "renv-lock: /renv.lock: 1 entry left out, installed from Bioconductor, not a CRAN release, not matched: BiocGenerics",
            "renv-lock: /renv.lock: 1 entry left out, installed from GitHub, not a CRAN release, not matched: mypackage",
        ]
    );
    assert!(purls("renv").contains(&("CRAN".to_owned(), "pkg:cran/R6@2.5.1".to_owned())));
}

#[test]
fn gradle_lockfiles_and_verification_metadata() {
    let all = found(&inventory("gradle"));
    assert_eq!(
        all["gradle-lockfile"],
        [
            "com.diffplug.spotless:spotless-plugin-gradle@6.11.0",
            "com.fasterxml.jackson.core:jackson-annotations@2.13.3",
            "com.fasterxml.jackson.core:jackson-core@2.13.3",
            "com.fasterxml.jackson.core:jackson-databind@2.13.3",
            "com.google.guava:guava@31.1-jre",
            "org.apache.logging.log4j:log4j-api@2.14.1",
            "org.apache.logging.log4j:log4j-core@2.14.1",
            "org.junit.jupiter:junit-jupiter-api@5.8.2",
        ]
    );
    assert_eq!(
        all["gradle-verification"],
        [
            "com.google.guava:guava@31.1-jre",
            "org.apache.logging.log4j:log4j-core@2.14.1",
            "org.jetbrains.kotlin:kotlin-stdlib@1.6.21",
        ]
    );
    assert_eq!(
        found(&inventory("gradle-legacy"))["gradle-lockfile"],
        ["commons-io:commons-io@2.6", "org.springframework:spring-core@5.3.18"]
    );
    assert!(purls("gradle").contains(&("Maven".to_owned(), "pkg:maven/com.google.guava/guava@31.1-jre".to_owned())));
}

mod hostile {
    //! The new fixtures, mutated: packages or warnings, never a panic.
    use super::*;
    use proptest::prelude::*;

    const FILES: &[&str] = &[
        "npm-v1/package-lock.json",
        "npm-v3/node_modules/.package-lock.json",
        "pnpm-v5/pnpm-lock.yaml",
        "pnpm-v6/pnpm-lock.yaml",
        "pnpm-v9/pnpm-lock.yaml",
        "pnpm-hand/pnpm-lock.yaml",
        "yarn-v1/yarn.lock",
        "yarn-berry/yarn.lock",
        "yarn-quoted/yarn.lock",
        "pip/req/requirements-dev.txt",
        "maven/app/pom.xml",
        "conan1/conan.lock",
        "conan2/conan.lock",
        "pdm/pdm.lock",
        "pubspec/pubspec.lock",
        "mix/mix.lock",
        "renv/renv.lock",
        "gradle/gradle.lockfile",
        "gradle/gradle/verification-metadata.xml",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn mutated_lockfiles(which in 0usize..FILES.len(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in proptest::option::of(any::<usize>())) {
            let data = common::mutate(std::fs::read(edge(FILES[which])).unwrap(), &flips, cut);
            let root = tempfile::tempdir().unwrap();
            let target = root.path().join(FILES[which]);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(&target, data).unwrap();
            inventory_dir(root.path(), &Options::default()).unwrap();
        }
    }
}

//! Language catalogers on real lockfiles (this repository's own
//! `Cargo.lock`, a `package-lock.json` written by npm 11, a `yarn.lock`
//! written by yarn 1.22, a `pnpm-lock.yaml` written by pnpm 9, installed
//! `node_modules` package files and a `uv.lock` written by uv) and on hand-made files covering each format's corners.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use vigil_inventory::{Options, inventory_dir};

/// `cataloger -> [name@version (path)]` for the fixture tree.
fn found() -> BTreeMap<String, Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lang/app");
    let inv = inventory_dir(&root, &Options::default()).unwrap();
    // The range in requirements.txt, and the POM's managed and range versions, are listed without a version, and said so.
    assert_eq!(
        inv.warnings,
        [
            "maven-pom: /java/pom.xml: 2 packages without a version are listed but not matched (not pinned, or locked \
             to a commit): org.slf4j:slf4j-api, commons-collections:commons-collections",
            "requirements: /py/requirements.txt: 1 package without a version is listed but not matched (not pinned, \
             or locked to a commit): pyyaml"
        ]
    );
    assert!(inv.os.is_none());
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &inv.packages {
        out.entry(p.cataloger.clone()).or_default().push(format!("{}@{}", p.name, p.version));
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

#[test]
fn cargo_lock_lists_every_registry_crate() {
    let all = found();
    let crates = &all["cargo-lock"];
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lang/app/rust/Cargo.lock"))
            .unwrap();
    assert_eq!(crates.len(), text.matches("\nsource = ").count(), "one package per crate with a source");
    assert!(crates.iter().any(|c| c.starts_with("serde@1.")));
    assert!(!crates.iter().any(|c| c.starts_with("vigil-")), "workspace members are the project, not dependencies");
}

#[test]
fn npm_lockfile_v3() {
    assert_eq!(
        found()["npm-lock"],
        [
            "@babel/code-frame@7.12.13",
            "@babel/helper-validator-identifier@7.29.7",
            "@babel/highlight@7.25.9",
            "ansi-styles@3.2.1",
            "chalk@2.4.2",
            "color-convert@1.9.3",
            "color-name@1.1.3",
            "escape-string-regexp@1.0.5",
            "has-flag@3.0.0",
            "js-tokens@4.0.0",
            "lodash@4.17.20",
            "minimist@1.2.5",
            "picocolors@1.1.1",
            "supports-color@5.5.0",
        ]
    );
}

#[test]
fn yarn_pnpm_and_installed_node_modules() {
    let all = found();
    // The same three dependencies, locked by yarn 1.22 and pnpm 9, resolve to the npm lockfile's packages.
    assert_eq!(all["yarn-lock"], all["npm-lock"]);
    assert_eq!(all["pnpm-lock"], all["npm-lock"]);
    assert_eq!(all["npm-installed"], ["@babel/code-frame@7.12.13", "lodash@4.17.20"]);
}

#[test]
fn java_archives_and_poms() {
    let all = found();
    // A real jar from Debian's libslf4j-java, with its pom.properties.
    assert_eq!(all["java-archive"], ["org.slf4j:jcl-over-slf4j@1.7.32"]);
    // Literal and property versions; managed (by a parent not in the target) and range versions have none.
    assert_eq!(
        all["maven-pom"],
        [
            "com.fasterxml.jackson.core:jackson-databind@2.9.10",
            "commons-collections:commons-collections@",
            "org.apache.logging.log4j:log4j-core@2.14.1",
            "org.example:sibling@1.2.3",
            "org.slf4j:slf4j-api@",
        ]
    );
}

#[test]
fn nested_archives_are_read() {
    use std::io::Write;
    let jar =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lang/app/java/jcl-over-slf4j.jar"))
            .unwrap();
    let mut war = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    war.start_file("WEB-INF/lib/jcl-over-slf4j.jar", options).unwrap();
    war.write_all(&jar).unwrap();
    war.start_file("WEB-INF/web.xml", options).unwrap();
    war.write_all(b"<web-app/>").unwrap();
    let war = war.finish().unwrap().into_inner();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("app.war"), war).unwrap();
    let inv = inventory_dir(root.path(), &Options::default()).unwrap();
    let got: Vec<(&str, &str, &str)> =
        inv.packages.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str())).collect();
    assert_eq!(got, [("org.slf4j:jcl-over-slf4j", "1.7.32", "pkg:maven/org.slf4j/jcl-over-slf4j@1.7.32")]);
    assert_eq!(inv.packages[0].location.path, "/app.war");
}

#[test]
fn python_formats() {
    let all = found();
    assert_eq!(
        all["uv-lock"],
        [
            "certifi@2026.10.19.post1",
            "chardet@3.0.4",
            "idna@2.10",
            "jinja2@2.11.2",
            "markupsafe@3.0.4",
            "requests@2.25.0",
            "urllib3@1.26.20"
        ]
    );
    // `-r other-requirements.txt` is followed; the range `pyyaml>=5.1` has no version.
    assert_eq!(all["requirements"], ["Django@3.2.4", "Jinja2@2.11.2", "pyyaml@", "requests@2.25.0", "urllib3@1.26.4"]);
    assert_eq!(all["poetry-lock"], ["Werkzeug@0.15.5", "flask@1.1.2"]);
    assert_eq!(all["pipfile-lock"], ["pytest@6.2.1", "pyyaml@5.3"]);
    assert_eq!(all["python-installed"], ["Jinja2@2.10"]);
}

#[test]
fn other_ecosystems() {
    let all = found();
    assert_eq!(
        all["composer-lock"],
        ["guzzlehttp/guzzle@7.4.4", "phpunit/phpunit@9.5.20", "symfony/http-kernel@5.4.9"]
    );
    assert_eq!(all["gemfile-lock"], ["actionpack@6.1.4", "nokogiri@1.13.10", "racc@1.6.0", "rack@2.2.3"]);
    // Real specifications from Debian's ruby-nokogiri and ruby-rack packages.
    assert_eq!(all["gem-installed"], ["nokogiri@1.13.10", "rack@2.2.22"]);
    // Composer 2's installed.json, hand-written in its documented layout (no network for composer here).
    assert_eq!(all["composer-installed"], ["guzzlehttp/guzzle@7.4.4", "symfony/http-kernel@5.4.9"]);
    assert_eq!(
        all["go-mod"],
        [
            "github.com/gin-gonic/gin@v1.7.0",
            "github.com/new/thing@v1.2.0",
            "golang.org/x/net@v0.0.0-20210226172049-e18ecbb05110",
            "gopkg.in/yaml.v2@v2.2.8"
        ]
    );
    assert_eq!(all["nuget-lock"], ["Newtonsoft.Json@12.0.1", "System.Text.Encodings.Web@4.5.0"]);
    // Hand-written in the layout `dotnet publish` gives (no .NET SDK here): packages only,
    // neither the application project nor its project reference.
    assert_eq!(all["dotnet-deps"], ["Newtonsoft.Json@13.0.1", "System.Text.Encodings.Web@4.5.0"]);
}

#[test]
fn gem_specifications_read_as_ruby_reads_them() {
    // The oracle: RubyGems itself loading each specification.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lang/app/ruby-installed/usr/local/bundle/specifications");
    let mut specs: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    specs.sort();
    let program = "ARGV.each { |f| s = Gem::Specification.load(f); puts \"#{s.name}@#{s.version}\" }";
    let Ok(out) = std::process::Command::new("ruby").arg("-e").arg(program).args(&specs).output() else {
        let msg =
            "ruby is not installed (scripts/test.sh installs it): gemspecs checked against fixed expectations only";
        assert!(std::env::var_os("VIGIL_REQUIRE_ORACLES").is_none(), "{msg}");
        let _ =
            std::io::Write::write_all(&mut std::io::stderr(), format!("\n!!!!! SKIPPED: {msg} !!!!!\n\n").as_bytes());
        return;
    };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ruby: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(found()["gem-installed"], ruby);
}

#[test]
fn purls_and_ecosystems() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lang/app");
    let inv = inventory_dir(&root, &Options::default()).unwrap();
    let purl = |name: &str| {
        inv.packages.iter().find(|p| p.name == name).map(|p| (p.ecosystem.as_str(), p.purl.as_str())).unwrap()
    };
    assert_eq!(purl("@babel/code-frame"), ("npm", "pkg:npm/%40babel/code-frame@7.12.13"));
    assert_eq!(purl("Django"), ("PyPI", "pkg:pypi/django@3.2.4"));
    assert_eq!(purl("guzzlehttp/guzzle"), ("Packagist", "pkg:composer/guzzlehttp/guzzle@7.4.4"));
    assert_eq!(purl("github.com/gin-gonic/gin"), ("Go", "pkg:golang/github.com/gin-gonic/gin@v1.7.0"));
    assert_eq!(purl("Newtonsoft.Json"), ("NuGet", "pkg:nuget/Newtonsoft.Json@12.0.1"));
    assert_eq!(purl("actionpack"), ("RubyGems", "pkg:gem/actionpack@6.1.4"));
    let lodash = inv.packages.iter().find(|p| p.name == "lodash" && p.cataloger == "npm-lock").unwrap();
    assert_eq!(lodash.location.path, "/node/package-lock.json");
}

#[test]
fn malformed_lockfiles_are_warnings() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("a")).unwrap();
    std::fs::write(root.path().join("a/Cargo.lock"), "[[package]\nname = ").unwrap();
    std::fs::write(root.path().join("a/package-lock.json"), "{\"lockfileVersion\": 3").unwrap();
    std::fs::write(root.path().join("a/requirements.txt"), "flask==1.0\n").unwrap();
    let inv = inventory_dir(root.path(), &Options::default()).unwrap();
    assert_eq!(inv.packages.len(), 1);
    assert!(inv.warnings.iter().any(|w| w.starts_with("cargo-lock: /a/Cargo.lock:")), "{:?}", inv.warnings);
    assert!(inv.warnings.iter().any(|w| w.starts_with("npm-lock: /a/package-lock.json:")), "{:?}", inv.warnings);
}

mod hostile {
    //! Mutated lockfiles give packages or a warning naming the file, never a panic.
    use super::*;
    use proptest::prelude::*;

    const FILES: &[&str] = &[
        "rust/Cargo.lock",
        "node/package-lock.json",
        "yarn/yarn.lock",
        "pnpm/pnpm-lock.yaml",
        "py/uv.lock",
        "py/requirements.txt",
        "poetry/poetry.lock",
        "pipenv/Pipfile.lock",
        "php/composer.lock",
        "ruby/Gemfile.lock",
        "ruby-installed/usr/local/bundle/specifications/rack-2.2.22.gemspec",
        "php/vendor/composer/installed.json",
        "go/go.mod",
        "dotnet/packages.lock.json",
        "dotnet/publish/WebApi.deps.json",
        "java/pom.xml",
        "java/jcl-over-slf4j.jar",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn mutated_lockfiles(which in 0usize..FILES.len(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in proptest::option::of(any::<usize>())) {
            let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lang/app").join(FILES[which]);
            let data = common::mutate(std::fs::read(&src).unwrap(), &flips, cut);
            let root = tempfile::tempdir().unwrap();
            let target = root.path().join(FILES[which]);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(&target, data).unwrap();
            inventory_dir(root.path(), &Options::default()).unwrap();
        }
    }
}

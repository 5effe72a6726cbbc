//! Registry targets against a real registry on 127.0.0.1: Debian's
//! `docker-registry`, filled with `skopeo copy`. Anonymous pulls of a
//! multi-platform index (`--platform`, `@digest`), HTTP Basic auth
//! (htpasswd) and bearer tokens from a token service, as Docker Hub and
//! GHCR hand them out; the real Debian image pulled from the registry gives
//! the same inventory as its oci-archive, and a rescan takes every layer
//! from the layer cache.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{
    assert_valid_cyclonedx, assert_valid_spdx, fixtures, json, require_tool, stderr, stdout, tar_of, vigil_env,
};

/// A `docker-registry` serving on a free port of 127.0.0.1 until dropped.
struct Registry {
    child: Child,
    host: String,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry with `auth` (a YAML `auth:` section, or empty).
    fn start(auth: &str) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let host = format!("127.0.0.1:{port}");
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n  secret: vigil-test\n{auth}",
            dir.path().join("data").display()
        );
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("registry.log")).unwrap())
            .spawn()
            .unwrap();
        let registry = Registry { child, host, dir };
        wait_for_port(&registry.host, &registry.dir.path().join("registry.log"));
        registry
    }

    /// Copies `source` (a skopeo transport:path) to `repo:tag`, every platform, with `creds` when given.
    fn push(&self, source: &str, target: &str, creds: Option<&str>) {
        let mut cmd = Command::new("skopeo");
        cmd.args(["--insecure-policy", "copy", "--all", "--quiet", "--dest-tls-verify=false"]);
        if let Some(c) = creds {
            cmd.args(["--dest-creds", c]);
        }
        let out = cmd.arg(source).arg(format!("docker://{}/{target}", self.host)).output().unwrap();
        assert!(out.status.success(), "skopeo copy {source}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_port(host: &str, log: &Path) {
    let start = Instant::now();
    while std::net::TcpStream::connect(host).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "nothing listens on {host}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A gzip layer of `(name, bytes)` files.
fn layer(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar_of(files)).unwrap();
    gz.finish().unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    vigil_image::Digest::sha256_of(bytes).to_string()
}

fn write_blob(root: &Path, bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let path = root.join("blobs/sha256").join(digest.trim_start_matches("sha256:"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    digest
}

/// An image manifest in `root` for one gzip layer; returns its digest and size.
fn image(root: &Path, arch: &str, files: &[(&str, &[u8])]) -> (String, usize) {
    let layer = layer(files);
    let mut tar = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&layer[..]), &mut tar).unwrap();
    let config = serde_json::json!({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": [sha256(&tar)]}})
        .to_string()
        .into_bytes();
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": write_blob(root, &config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": write_blob(root, &layer), "size": layer.len()}]})
    .to_string()
    .into_bytes();
    (write_blob(root, &manifest), manifest.len())
}

/// An OCI layout with a two-platform index: linux/amd64 (Debian 12 with a
/// dpkg database and a requirements file) and linux/arm64 (another
/// requirements file). Returns the layout and the index digest.
pub(crate) fn multi_platform_layout(dir: &Path) -> (PathBuf, String) {
    let root = dir.join("multi.oci");
    let status = b"Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n\n\
                   Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.11-1~deb12u2\n";
    let os = b"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
    let amd = image(
        &root,
        "amd64",
        &[("etc/os-release", os), ("var/lib/dpkg/status", status), ("app/requirements.txt", b"flask==1.0\n")],
    );
    let arm = image(&root, "arm64", &[("app/requirements.txt", b"requests==2.0.0\n")]);
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd.0, "size": amd.1, "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm.0, "size": arm.1, "platform": {"os": "linux", "architecture": "arm64"}}]})
    .to_string()
    .into_bytes();
    let index_digest = write_blob(&root, &index);
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": index_digest, "size": index.len(), "annotations": {"org.opencontainers.image.ref.name": "1"}}]});
    std::fs::write(root.join("index.json"), top.to_string()).unwrap();
    std::fs::write(root.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    (root, index_digest)
}

/// `name version` of every package in a `vigil sbom --format json` document.
pub(crate) fn names(doc: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{} {}", p["name"].as_str().unwrap(), p["version"].as_str().unwrap()))
        .collect();
    v.sort();
    v
}

fn tools() -> bool {
    require_tool("docker-registry", "--version") && require_tool("skopeo", "--version")
}

#[test]
fn anonymous_pulls_choose_the_platform_and_honour_digests() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::start("");
    let (layout, index_digest) = multi_platform_layout(dir.path());
    registry.push(&format!("oci:{}:1", layout.display()), "team/multi:1", None);
    let home = dir.path();
    let target = format!("{}/team/multi:1", registry.host);
    let amd = json(&vigil_env(home, &["sbom", "--format", "json", &target], &[]));
    let amd_names = names(&amd);
    assert!(amd_names.contains(&"flask 1.0".to_owned()) && amd_names.len() > 1, "{amd_names:?}");
    assert_eq!(amd["os"]["ecosystem"], "Debian:12");
    let arm = json(&vigil_env(home, &["sbom", "--format", "json", "--platform", "linux/arm64", &target], &[]));
    assert_eq!(names(&arm), vec!["requests 2.0.0"]);
    // Pinned by the index digest; the tag is then only a label.
    let pinned = format!("{}/team/multi@{index_digest}", registry.host);
    let out = vigil_env(home, &["sbom", "--format", "json", &pinned], &[]);
    assert_eq!(names(&json(&out)), amd_names);
    assert!(stderr(&out).contains("1 layer, 1 from the layer cache"), "{}", stderr(&out));
    // What is not there says so, with exit code 2.
    let missing = format!("{}/team/multi@sha256:{}", registry.host, "0".repeat(64));
    let out = vigil_env(home, &["sbom", &missing], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("HTTP 404") && stderr(&out).contains("check the repository, tag or digest"),
        "{}",
        stderr(&out)
    );
    let out = vigil_env(home, &["sbom", "--platform", "linux/s390x", &target], &[]);
    assert!(
        stderr(&out).contains("no image for linux/s390x") && stderr(&out).contains("linux/amd64, linux/arm64"),
        "{}",
        stderr(&out)
    );
    // `vigil scan` takes the same targets (no advisory affects these packages).
    let db = dir.path().join("db");
    let out = vigil_env(
        &db,
        &["db", "import", fixtures().join("osv/PyPI").to_str().unwrap()],
        &[("HOME", home.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = vigil_env(&db, &["scan", "--offline", "--format", "json", &target], &[("HOME", home.to_str().unwrap())]);
    let table = vigil_env(&db, &["scan", "--offline", &target], &[("HOME", home.to_str().unwrap())]);
    assert!(stdout(&table).contains("image: registry, manifest sha256:"), "{}", stdout(&table));
    assert!(stdout(&table).contains("/app/requirements.txt  (layer "), "{}", stdout(&table));
    let explain = vigil_env(&db, &["explain", "PYSEC-2023-62", &target], &[("HOME", home.to_str().unwrap())]);
    assert!(stdout(&explain).contains("at /app/requirements.txt in layer sha256:"), "{}", stdout(&explain));
    let report = json(&out);
    assert_eq!(report["target"], target);
    assert_eq!(report["summary"]["packages"], 3, "bash, libssl3 and flask");
    let amd_manifest = report["image"]["manifest_digest"].as_str().unwrap().to_owned();
    // Hand-verified: Flask 1.0 is below PYSEC-2023-62's fix (2.2.5); PYSEC-2019-179 was fixed in 1.0.
    let ids: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["PYSEC-2023-62"]);
    // OpenVEX about this image (named by its digest) and one of its packages suppresses the
    // finding; the same statement about another package does not.
    let vex = |subcomponent: &str| {
        let path = dir.path().join(format!("{}.vex.json", subcomponent.replace(['/', ':'], "-")));
        let doc = serde_json::json!({"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{
            "vulnerability": {"name": "CVE-2023-30861"}, "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
            "products": [{"@id": format!("{}/team/multi@{amd_manifest}", registry.host),
                          "subcomponents": [{"@id": subcomponent}]}]}]});
        std::fs::write(&path, doc.to_string()).unwrap();
        path
    };
    let scan_with = |vex: &Path| {
        let args = ["scan", "--offline", "--format", "json", "--vex", vex.to_str().unwrap(), &target];
        json(&vigil_env(&db, &args, &[("HOME", home.to_str().unwrap())]))
    };
    let flask_vex = vex("pkg:pypi/flask");
    let suppressed = scan_with(&flask_vex);
    assert_eq!(suppressed["findings"].as_array().unwrap().len(), 0);
    assert_eq!(suppressed["suppressed"][0]["by"], "OpenVEX (not_affected)");
    assert_eq!(scan_with(&vex("pkg:pypi/django"))["findings"].as_array().unwrap().len(), 1);
    assert_eq!(report["image"]["format"], "registry");
    assert_eq!(report["image"]["platform"], "linux/amd64");
    assert_eq!(report["image"]["repository"], format!("{}/team/multi", registry.host));
    assert_ne!(amd_manifest, index_digest, "the platform's manifest, not the index");
    // The SBOMs name the image by its digest and purl, and stay valid.
    let port = registry.host.rsplit(':').next().unwrap();
    let purl = format!(
        "pkg:oci/multi@{}?repository_url=127.0.0.1%3A{port}/team/multi&arch=amd64",
        amd_manifest.replace(':', "%3A")
    );
    let bom = dir.path().join("image.cdx.json");
    let out = vigil_env(home, &["sbom", "--format", "cyclonedx", "--output", bom.to_str().unwrap(), &target], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&bom).unwrap()).unwrap();
    let component = &doc["metadata"]["component"];
    assert_eq!((component["type"].as_str(), component["purl"].as_str()), (Some("container"), Some(purl.as_str())));
    assert_eq!(component["version"], amd_manifest);
    assert_valid_cyclonedx(&bom);
    // Scanning that SBOM knows the image again: VEX naming it applies there too.
    let args = ["scan", "--offline", "--format", "json", "--vex", flask_vex.to_str().unwrap(), bom.to_str().unwrap()];
    let from_sbom = json(&vigil_env(&db, &args, &[("HOME", home.to_str().unwrap())]));
    assert_eq!(from_sbom["image"]["manifest_digest"], amd_manifest);
    assert_eq!(from_sbom["suppressed"][0]["id"], "PYSEC-2023-62");
    assert_eq!(from_sbom["warnings"], serde_json::json!([]), "the image purl is not taken for a package");
    let spdx = dir.path().join("image.spdx.json");
    let out = vigil_env(home, &["sbom", "--format", "spdx", "--output", spdx.to_str().unwrap(), &target], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
    assert_eq!(doc["packages"][0]["primaryPackagePurpose"], "CONTAINER");
    assert_eq!(doc["packages"][0]["externalRefs"][0]["referenceLocator"], purl);
    assert_valid_spdx(&spdx);
    let args = ["scan", "--offline", "--format", "json", spdx.to_str().unwrap()];
    let from_spdx = json(&vigil_env(&db, &args, &[("HOME", home.to_str().unwrap())]));
    assert_eq!(
        (&from_spdx["image"]["manifest_digest"], &from_spdx["warnings"]),
        (&serde_json::json!(amd_manifest), &serde_json::json!([]))
    );
}

#[test]
fn basic_auth_from_flags_environment_or_docker_login() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    std::fs::write(&htpasswd, format!("vigil:{}\n", bcrypt::hash("s3cret", 5).unwrap())).unwrap();
    let registry =
        Registry::start(&format!("auth:\n  htpasswd:\n    realm: vigil-test\n    path: {}\n", htpasswd.display()));
    let (layout, _) = multi_platform_layout(dir.path());
    registry.push(&format!("oci:{}:1", layout.display()), "private/app:1", Some("vigil:s3cret"));
    let target = format!("{}/private/app:1", registry.host);
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = vigil_env(&home, &["sbom", "--no-cache", &target], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("requires credentials"), "{}", stderr(&out));
    let out = vigil_env(
        &home,
        &["sbom", "--no-cache", "--format", "json", "--username", "vigil", "--password", "s3cret", &target],
        &[],
    );
    assert!(names(&json(&out)).contains(&"flask 1.0".to_owned()));
    let env = [("VIGIL_REGISTRY_USERNAME", "vigil"), ("VIGIL_REGISTRY_PASSWORD", "wrong")];
    let out = vigil_env(&home, &["sbom", "--no-cache", &target], &env);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("HTTP 401") && stderr(&out).contains("check the credentials"), "{}", stderr(&out));
    // What `docker login` stores.
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    let auth = "dmlnaWw6czNjcmV0"; // base64("vigil:s3cret")
    std::fs::write(
        home.join(".docker/config.json"),
        format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, registry.host),
    )
    .unwrap();
    let out = vigil_env(&home, &["sbom", "--no-cache", "--format", "json", &target], &[]);
    assert!(names(&json(&out)).contains(&"flask 1.0".to_owned()));
}

#[test]
fn credentials_from_helpers_and_podman_auth_files() {
    // The user's own configuration names a credential helper (credHelpers, credsStore), as
    // ECR, GCR, ACR and Docker Desktop set up; podman keeps auth.json elsewhere. The helper is
    // this test's own script, the registry a real one behind htpasswd.
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    std::fs::write(&htpasswd, format!("vigil:{}\n", bcrypt::hash("s3cret", 5).unwrap())).unwrap();
    let registry =
        Registry::start(&format!("auth:\n  htpasswd:\n    realm: vigil-test\n    path: {}\n", htpasswd.display()));
    let (layout, _) = multi_platform_layout(dir.path());
    registry.push(&format!("oci:{}:1", layout.display()), "private/app:1", Some("vigil:s3cret"));
    let target = format!("{}/private/app:1", registry.host);
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let asked = dir.path().join("asked.log");
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nserver=$(cat)\necho \"$server\" >> {}\n\
         case \"$server\" in\n  {}) echo '{{\"ServerURL\":\"x\",\"Username\":\"vigil\",\"Secret\":\"s3cret\"}}' ;;\n  \
         *) echo 'credentials not found in native keychain'; exit 1 ;;\nesac\n",
        asked.display(),
        registry.host
    );
    for (name, body) in [("vigiltest", script.as_str()), ("broken", "#!/bin/sh\necho 'HELPER-SECRET-OUTPUT'; exit 4\n")]
    {
        let path = bin.join(format!("docker-credential-{name}"));
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let home = dir.path().join("home");
    let run = |extra: &[(&str, &str)]| {
        let mut env =
            vec![("PATH", path.as_str()), ("XDG_RUNTIME_DIR", ""), ("REGISTRY_AUTH_FILE", ""), ("DOCKER_CONFIG", "")];
        env.extend_from_slice(extra);
        vigil_env(&home, &["sbom", "--no-cache", "--format", "json", &target], &env)
    };
    let write = |path: &Path, text: String| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let docker_config = home.join(".docker/config.json");
    // credHelpers: the registry's own helper, the registry host on its standard input.
    write(&docker_config, format!(r#"{{"credHelpers": {{"{}": "vigiltest"}}}}"#, registry.host));
    assert!(names(&json(&run(&[]))).contains(&"flask 1.0".to_owned()));
    assert_eq!(std::fs::read_to_string(&asked).unwrap().trim(), registry.host);
    // credsStore: Docker Desktop's layout, empty `auths` placeholders and one store for all.
    write(&docker_config, format!(r#"{{"auths": {{"{}": {{}}}}, "credsStore": "vigiltest"}}"#, registry.host));
    assert!(names(&json(&run(&[]))).contains(&"flask 1.0".to_owned()));
    // A helper that fails: the pull goes on without credentials, and the error says why,
    // without anything the helper printed.
    write(&docker_config, format!(r#"{{"credHelpers": {{"{}": "broken"}}}}"#, registry.host));
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("docker-credential-broken: failed (exit status: 4)") && err.contains("requires credentials"),
        "{err}"
    );
    assert!(!err.contains("HELPER-SECRET-OUTPUT") && !stdout(&out).contains("HELPER-SECRET-OUTPUT"), "{err}");
    std::fs::remove_file(&docker_config).unwrap();
    // podman's auth.json: ~/.config/containers, then $REGISTRY_AUTH_FILE, which names a store too.
    let auth = "dmlnaWw6czNjcmV0"; // base64("vigil:s3cret")
    write(
        &home.join(".config/containers/auth.json"),
        format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, registry.host),
    );
    assert!(names(&json(&run(&[]))).contains(&"flask 1.0".to_owned()));
    std::fs::remove_file(home.join(".config/containers/auth.json")).unwrap();
    let file = dir.path().join("elsewhere/auth.json");
    write(&file, format!(r#"{{"credHelpers": {{"{}": "vigiltest"}}}}"#, registry.host));
    assert!(names(&json(&run(&[("REGISTRY_AUTH_FILE", file.to_str().unwrap())]))).contains(&"flask 1.0".to_owned()));
    assert_eq!(std::fs::read_to_string(&asked).unwrap().lines().count(), 3, "the helper ran once per pull");
}

#[test]
fn bearer_tokens_from_a_token_service() {
    if !tools() {
        return;
    }
    let Some(_) = crate::harness::python("cryptography", "pass", &[]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("token.pem");
    let port_file = dir.path().join("token.port");
    let mut token_server = Command::new("python3")
        .arg(fixtures().join("registry/token_server.py"))
        .args([cert.to_str().unwrap(), port_file.to_str().unwrap(), "vigil", "t0ken-pass"])
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !port_file.exists() {
        assert!(start.elapsed() < Duration::from_secs(30), "the token service did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let token_port = std::fs::read_to_string(&port_file).unwrap();
    let registry = Registry::start(&format!(
        "auth:\n  token:\n    realm: http://127.0.0.1:{token_port}/token\n    service: vigil-test-registry\n    issuer: vigil-test-issuer\n    rootcertbundle: {}\n",
        cert.display()
    ));
    let (layout, _) = multi_platform_layout(dir.path());
    registry.push(&format!("oci:{}:1", layout.display()), "org/app:1", Some("vigil:t0ken-pass"));
    let target = format!("{}/org/app:1", registry.host);
    let home = dir.path();
    let env = [("VIGIL_REGISTRY_USERNAME", "vigil"), ("VIGIL_REGISTRY_PASSWORD", "t0ken-pass")];
    let out = vigil_env(home, &["sbom", "--no-cache", "--format", "json", &target], &env);
    let result = names(&json(&out));
    let out_bad = vigil_env(home, &["sbom", "--no-cache", &target], &[]);
    // An identity token (what `docker login` stores for OAuth registries such as ACR) is
    // exchanged for an access token with the refresh-token grant.
    let config = home.join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    let identity = format!(r#"{{"auths": {{"{}": {{"identitytoken": "t0ken-pass"}}}}}}"#, registry.host);
    std::fs::write(config.join("config.json"), identity).unwrap();
    let env = [("DOCKER_CONFIG", config.to_str().unwrap()), ("XDG_RUNTIME_DIR", ""), ("REGISTRY_AUTH_FILE", "")];
    let via_identity_token = vigil_env(home, &["sbom", "--no-cache", "--format", "json", &target], &env);
    let _ = token_server.kill();
    let _ = token_server.wait();
    assert!(result.contains(&"flask 1.0".to_owned()), "{result:?}");
    assert!(names(&json(&via_identity_token)).contains(&"flask 1.0".to_owned()));
    assert_eq!(out_bad.status.code(), Some(2));
    assert!(
        stderr(&out_bad).contains("token service") && stderr(&out_bad).contains("HTTP 401"),
        "{}",
        stderr(&out_bad)
    );
}

#[test]
fn the_real_debian_image_from_a_registry_equals_its_archive() {
    if !tools() {
        return;
    }
    let Some(real) = std::env::var_os("VIGIL_REAL_ROOTFS").map(PathBuf::from) else {
        crate::harness::skip("VIGIL_REAL_ROOTFS is not set (scripts/test.sh builds the real Debian images)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::start("");
    let archive = real.join("bookworm.oci.tar");
    registry.push(&format!("oci-archive:{}", archive.display()), "debian:bookworm", None);
    let home = dir.path();
    let local = json(&vigil_env(home, &["sbom", "--no-cache", "--format", "json", archive.to_str().unwrap()], &[]));
    let target = format!("{}/debian:bookworm", registry.host);
    let first = vigil_env(home, &["sbom", "--format", "json", &target], &[]);
    assert_eq!(names(&json(&first)), names(&local));
    assert!(names(&local).len() > 100);
    assert!(stderr(&first).contains("0 from the layer cache"), "{}", stderr(&first));
    let again = vigil_env(home, &["sbom", "--format", "json", &target], &[]);
    assert_eq!(names(&json(&again)), names(&local));
    assert!(stderr(&again).contains("1 layer, 1 from the layer cache"), "{}", stderr(&again));
}

#[test]
fn the_layer_cache_can_be_inspected_and_emptied() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, _) = multi_platform_layout(dir.path());
    let cache = dir.path().join("cache");
    let env = [("VIGIL_CACHE_DIR", cache.to_str().unwrap())];
    let home = dir.path();
    let out = vigil_env(home, &["sbom", "--format", "json", layout.to_str().unwrap()], &env);
    assert!(stderr(&out).contains("1 layer, 0 from the layer cache"), "{}", stderr(&out));
    let status = json(&vigil_env(home, &["cache", "status", "--format", "json"], &env));
    assert_eq!(status["layers"], 1);
    assert_eq!(status["path"], cache.join("layers").to_str().unwrap());
    let out = vigil_env(home, &["sbom", "--format", "json", layout.to_str().unwrap()], &env);
    assert!(stderr(&out).contains("1 layer, 1 from the layer cache"), "{}", stderr(&out));
    let out = vigil_env(home, &["cache", "clean", "--unused-days", "7"], &env);
    assert!(stderr(&out).contains("removed 0 cached layers"), "just used: {}", stderr(&out));
    let out = vigil_env(home, &["cache", "clean"], &env);
    assert!(out.status.success() && stderr(&out).contains("removed 1 cached layer from"), "{}", stderr(&out));
    assert_eq!(json(&vigil_env(home, &["cache", "status", "--format", "json"], &env))["layers"], 0);
}

#[test]
fn a_registry_serving_tampered_layers_is_refused() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::start("");
    let (layout, _) = multi_platform_layout(dir.path());
    registry.push(&format!("oci:{}:1", layout.display()), "team/app:1", None);
    // Replace every layer the registry stores with another valid gzip layer, as a compromised
    // registry or mirror could: same names, other contents.
    let blobs = registry.dir.path().join("data/docker/registry/v2/blobs/sha256");
    let mut replaced = 0;
    for prefix in std::fs::read_dir(&blobs).unwrap() {
        for blob in std::fs::read_dir(prefix.unwrap().path()).unwrap() {
            let data = blob.unwrap().path().join("data");
            if std::fs::read(&data).unwrap().starts_with(&[0x1f, 0x8b]) {
                std::fs::write(&data, layer(&[("app/requirements.txt", b"flask==9.9\n")])).unwrap();
                replaced += 1;
            }
        }
    }
    assert_eq!(replaced, 2, "the two platforms' layers");
    let target = format!("{}/team/app:1", registry.host);
    let out = vigil_env(dir.path(), &["sbom", "--no-cache", &target], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("digest mismatch"), "{}", stderr(&out));
}

#[test]
fn image_caps_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, _) = multi_platform_layout(dir.path());
    let layout = layout.to_str().unwrap();
    let out = vigil_env(dir.path(), &["sbom", "--no-cache", "--max-image-entries", "2", layout], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("more than 2 entries"), "{}", stderr(&out));
    let env = [("VIGIL_MAX_IMAGE_MIB", "0")];
    let out = vigil_env(dir.path(), &["sbom", "--no-cache", layout], &env);
    assert!(stderr(&out).contains("decompresses to more than 0 bytes"), "{}", stderr(&out));
    assert!(vigil_env(dir.path(), &["sbom", "--no-cache", layout], &[]).status.success());
}

#[test]
fn one_image_of_a_layout_or_archive_holding_several() {
    if !require_tool("skopeo", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (layout, _) = multi_platform_layout(dir.path());
    let two = dir.path().join("two.oci");
    for (name, arch) in [("one", "amd64"), ("other", "arm64")] {
        let out = Command::new("skopeo")
            .args(["--insecure-policy", "--override-arch", arch, "copy", "--quiet"])
            .arg(format!("oci:{}:1", layout.display()))
            .arg(format!("oci:{}:{name}", two.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "skopeo: {}", String::from_utf8_lossy(&out.stderr));
    }
    let home = dir.path();
    let two = two.to_str().unwrap();
    let out = vigil_env(home, &["sbom", two], &[]);
    assert!(
        stderr(&out).contains("the layout holds 2 images (one, other); choose one with PATH:NAME"),
        "{}",
        stderr(&out)
    );
    let other = json(&vigil_env(home, &["sbom", "--format", "json", &format!("{two}:other")], &[]));
    assert_eq!(names(&other), ["requests 2.0.0"]);
    assert_eq!(other["target"], format!("{two}:other"));
    let out = vigil_env(home, &["sbom", &format!("{two}:none")], &[]);
    assert!(stderr(&out).contains("no image named none in this layout; it holds one, other"), "{}", stderr(&out));

    // A docker-archive with two tagged images (as `docker save a b` writes).
    let image = |file: &str, text: &[u8]| {
        let layer = tar_of(&[(file, text)]);
        let config = serde_json::json!({"rootfs": {"type": "layers", "diff_ids": [sha256(&layer)]}}).to_string();
        (layer, config)
    };
    let (a_layer, a_config) = image("app/requirements.txt", b"flask==1.0\n");
    let (b_layer, b_config) = image("app/requirements.txt", b"django==3.2\n");
    let manifest = serde_json::json!([
        {"Config": "a.json", "RepoTags": ["example.com/a:1"], "Layers": ["a/layer.tar"]},
        {"Config": "b.json", "RepoTags": ["b:2"], "Layers": ["b/layer.tar"]}])
    .to_string();
    let archive = dir.path().join("ab.tar");
    std::fs::write(
        &archive,
        tar_of(&[
            ("manifest.json", manifest.as_bytes()),
            ("a.json", a_config.as_bytes()),
            ("b.json", b_config.as_bytes()),
            ("a/layer.tar", &a_layer),
            ("b/layer.tar", &b_layer),
        ]),
    )
    .unwrap();
    let archive = archive.to_str().unwrap();
    let out = vigil_env(home, &["sbom", archive], &[]);
    assert!(stderr(&out).contains("the archive holds 2 images (example.com/a:1, b:2)"), "{}", stderr(&out));
    assert_eq!(
        names(&json(&vigil_env(home, &["sbom", "--format", "json", &format!("{archive}:b:2")], &[]))),
        ["django 3.2"]
    );
    let a = json(&vigil_env(home, &["sbom", "--format", "json", &format!("{archive}:a:1")], &[]));
    assert_eq!(names(&a), ["flask 1.0"], "a tag matches without its registry");
}

#[test]
fn docker_hub_images_come_from_a_mirror() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::start("");
    let (layout, _) = multi_platform_layout(dir.path());
    // As a pull-through cache or an air-gapped copy of Docker Hub holds `library/` images.
    registry.push(&format!("oci:{}:1", layout.display()), "library/mirrored:1", None);
    let home = dir.path();
    let mirror = format!("docker.io={}", registry.host);
    let out = vigil_env(home, &["sbom", "--format", "json", "--registry-mirror", &mirror, "mirrored:1"], &[]);
    assert!(names(&json(&out)).contains(&"flask 1.0".to_owned()));
    // A dead mirror first: the next one serves, and the report says what failed.
    let both = format!("docker.io=127.0.0.1:1,{mirror}");
    let out =
        vigil_env(home, &["sbom", "--format", "json", "--no-cache", "mirrored:1"], &[("VIGIL_REGISTRY_MIRROR", &both)]);
    let doc = json(&out);
    assert!(names(&doc).contains(&"flask 1.0".to_owned()));
    let warnings = doc["warnings"].to_string();
    assert!(warnings.contains("mirrors failed") && warnings.contains("from 127.0.0.1:1"), "{warnings}");
}

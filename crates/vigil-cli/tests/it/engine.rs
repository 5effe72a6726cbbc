//! Images in a local engine: Podman's Docker-compatible API service on a
//! Unix socket of the test's own, holding an image copied in with skopeo.
//! `podman:NAME` exports it (same packages as the OCI layout it came
//! from), a rescan is served by the layer cache without exporting, a bare
//! name finds the engine first, and `registry:NAME` skips it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{json, require_tool, stderr, vigil_env};
use crate::registry::{multi_platform_layout, names};

/// `podman system service` on a socket in `dir`, until dropped.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn podman_images_are_exported_or_served_from_the_cache() {
    if !require_tool("podman", "--version") || !require_tool("skopeo", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (layout, _) = multi_platform_layout(dir.path());
    let name = format!("localhost/vigil-it-{}:1", std::process::id());
    let copy = Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--quiet"])
        .arg(format!("oci:{}:1", layout.display()))
        .arg(format!("containers-storage:{name}"))
        .output()
        .unwrap();
    assert!(copy.status.success(), "skopeo: {}", String::from_utf8_lossy(&copy.stderr));
    let socket = dir.path().join("podman.sock");
    let service = Service(
        Command::new("podman")
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "podman system service did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let host = format!("unix://{}", socket.display());
    let cache = dir.path().join("cache");
    let env = [("CONTAINER_HOST", host.as_str()), ("VIGIL_CACHE_DIR", cache.to_str().unwrap()), ("DOCKER_HOST", "")];
    let home = dir.path();
    let expected =
        names(&json(&vigil_env(home, &["sbom", "--no-cache", "--format", "json", layout.to_str().unwrap()], &env)));
    let first = vigil_env(home, &["sbom", "--format", "json", &format!("podman:{name}")], &env);
    let doc = json(&first);
    assert_eq!(names(&doc), expected);
    assert_eq!(doc["image"]["format"], "engine");
    assert!(stderr(&first).contains("1 layer, 0 from the layer cache"), "{}", stderr(&first));
    // The rescan: the engine lists the layers' diff_ids, all cached, so nothing is exported.
    let again = vigil_env(home, &["sbom", "--format", "json", &name], &env);
    assert_eq!(names(&json(&again)), expected);
    assert!(
        stderr(&again).contains(": engine") && stderr(&again).contains("1 from the layer cache"),
        "{}",
        stderr(&again)
    );
    // registry: skips the engine (and here finds no registry on localhost:80).
    let forced = vigil_env(home, &["sbom", &format!("registry:{name}")], &env);
    assert_eq!(forced.status.code(), Some(2));
    assert!(stderr(&forced).contains("pulling it from its registry failed"), "{}", stderr(&forced));
    let missing = vigil_env(home, &["sbom", "podman:localhost/vigil-no-such-image:1"], &env);
    assert!(stderr(&missing).contains("has no image"), "{}", stderr(&missing));
    drop(service);
    let _ = Command::new("podman").args(["rmi", "--force", &name]).output();
}

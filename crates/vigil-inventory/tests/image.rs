//! Container images: docker-archive, OCI layout and oci-archive forms of
//! the same two layers (whiteouts, an opaque directory, symlinks, gzip and
//! plain layers) give the same inventory, which equals the inventory of the
//! merged tree unpacked to a directory; every package names its layer.

mod common;
use common::{comparable, mutate};

use std::io::Write;
use std::path::Path;

use vigil_core::inventory::Inventory;
use vigil_inventory::{Options, inventory_dir, inventory_image, is_image};

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path)).unwrap()
}

enum Item<'a> {
    File(&'a str, Vec<u8>),
    Link(&'a str, &'a str),
}

/// A layer tar with `items`.
fn layer(items: &[Item<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for item in items {
        let mut h = tar::Header::new_ustar();
        match item {
            Item::File(path, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                // Written raw: hostile names such as `../..` are refused by tar's own setter.
                h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
                h.set_cksum();
                b.append(&h, &data[..]).unwrap();
            }
            Item::Link(path, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, path, target).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The two layers: a Debian base, then an application layer that deletes
/// and hides parts of it.
fn layers() -> Vec<Vec<u8>> {
    let base = layer(&[
        Item::File(
            "usr/lib/os-release",
            b"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n".to_vec(),
        ),
        Item::Link("etc/os-release", "../usr/lib/os-release"),
        Item::File("var/lib/dpkg/status", fixture("dpkg/status")),
        Item::File("opt/old/requirements.txt", b"Django==3.2.4\n".to_vec()),
        Item::File("srv/x/requirements.txt", b"requests==2.25.0\n".to_vec()),
        Item::File("./../../escape/requirements.txt", b"urllib3==1.26.4\n".to_vec()),
    ]);
    let app = layer(&[
        Item::File("opt/.wh.old", Vec::new()),
        Item::File("srv/.wh..wh..opq", Vec::new()),
        Item::File("srv/new/requirements.txt", b"flask==1.0\n".to_vec()),
        Item::File("app/Cargo.lock", fixture("lang/app/rust/Cargo.lock")),
    ]);
    vec![base, app]
}

fn digest(bytes: &[u8]) -> String {
    vigil_image::Digest::sha256_of(bytes).to_string()
}

fn blob(digest: &str) -> String {
    format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}

/// The image config: the digests of the uncompressed layers.
fn config() -> Vec<u8> {
    let ids: Vec<String> = layers().iter().map(|l| digest(l)).collect();
    serde_json::json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": ids}})
        .to_string()
        .into_bytes()
}

/// The stored OCI blobs of the two layers: gzip base, plain app layer.
fn oci_blobs() -> [Vec<u8>; 2] {
    let l = layers();
    [gzip(&l[0]), l[1].clone()]
}

/// The digests OCI images name their layers by.
fn oci_digests() -> [String; 2] {
    oci_blobs().map(|b| digest(&b))
}

fn tar_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    b.into_inner().unwrap()
}

fn docker_archive(dir: &Path) -> std::path::PathBuf {
    let l = layers();
    let manifest = serde_json::json!([{"Config": "config.json", "RepoTags": ["vigil-test:latest"], "Layers": ["aaa/layer.tar", "bbb/layer.tar"]}]);
    let tar = tar_of(&[
        ("manifest.json".into(), manifest.to_string().into_bytes()),
        ("config.json".into(), config()),
        ("aaa/layer.tar".into(), l[0].clone()),
        ("bbb/layer.tar".into(), l[1].clone()),
    ]);
    let path = dir.join("image.docker.tar");
    std::fs::write(&path, tar).unwrap();
    path
}

/// OCI layout files: gzip base layer, plain app layer, a multi-platform
/// index whose arm64 entry is another (empty) image.
fn oci_files() -> Vec<(String, Vec<u8>)> {
    let [base, app] = oci_blobs();
    let [base_digest, app_digest] = oci_digests();
    let config = config();
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"digest": digest(&config), "mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": base_digest, "size": base.len()},
                   {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": app_digest, "size": app.len()}]})
    .to_string()
    .into_bytes();
    let arm_config = br#"{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
    let arm = serde_json::json!({"schemaVersion": 2, "config": {"digest": digest(&arm_config), "size": arm_config.len()}, "layers": []})
        .to_string()
        .into_bytes();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(&arm), "size": arm.len(), "platform": {"os": "linux", "architecture": "arm64"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(&manifest), "size": manifest.len(), "platform": {"os": "linux", "architecture": "amd64"}}]});
    vec![
        ("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
        ("index.json".into(), index.to_string().into_bytes()),
        (blob(&digest(&manifest)), manifest.clone()),
        (blob(&digest(&arm)), arm),
        (blob(&base_digest), base),
        (blob(&app_digest), app),
        (blob(&digest(&config)), config),
        (blob(&digest(&arm_config)), arm_config),
    ]
}

fn oci_layout(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("image.oci");
    for (name, data) in oci_files() {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    root
}

fn oci_archive(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("image.oci.tar");
    std::fs::write(&path, tar_of(&oci_files())).unwrap();
    path
}

/// The inventory of an image, read with `options`.
fn image(path: &Path) -> Inventory {
    inventory_image(path, &Options::default()).unwrap().0
}

/// `(cataloger, name, version, path)`, sorted.
fn packages(inv: &Inventory) -> Vec<(String, String, String, String)> {
    let mut v: Vec<_> = inv
        .packages
        .iter()
        .map(|p| (p.cataloger.clone(), p.name.clone(), p.version.clone(), p.location.path.clone()))
        .collect();
    v.sort();
    v
}

#[test]
fn every_image_form_gives_the_merged_tree() {
    let dir = tempfile::tempdir().unwrap();
    let docker = docker_archive(dir.path());
    let inv = image(&docker);
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    assert_eq!(inv.os.as_ref().unwrap().ecosystem.as_deref(), Some("Debian:12"), "os-release through a symlink");
    let pkgs = packages(&inv);
    let requirements: Vec<&(String, String, String, String)> = pkgs.iter().filter(|p| p.0 == "requirements").collect();
    assert_eq!(requirements.len(), 2, "{requirements:?}");
    assert_eq!(requirements[0].1, "flask", "/srv was made opaque and /opt/old whited out");
    assert_eq!(requirements[1].3, "/escape/requirements.txt", "../ cannot climb out of the image");
    assert_eq!(pkgs.iter().filter(|p| p.0 == "dpkg").count(), 32);
    // Every package names the layer its file came from.
    // docker-archive layers are named by their diff_id.
    let bash = inv.packages.iter().find(|p| p.name == "bash").unwrap();
    assert_eq!(bash.location.layer, Some(digest(&layers()[0])));
    let flask = inv.packages.iter().find(|p| p.name == "flask").unwrap();
    assert_eq!(flask.location.layer, Some(digest(&layers()[1])));

    for image in [oci_layout(dir.path()), oci_archive(dir.path())] {
        assert!(is_image(&image), "{}", image.display());
        let (other, info) = inventory_image(&image, &Options::default()).unwrap();
        assert_eq!(packages(&other), pkgs, "{}", image.display());
        let bash = other.packages.iter().find(|p| p.name == "bash").unwrap();
        assert_eq!(bash.location.layer, Some(oci_digests()[0].clone()));
        assert_eq!(info.platform.as_deref(), Some("linux/amd64"));
    }
    assert!(is_image(&docker));
    assert!(!is_image(&dir.path().join("nothing")));
}

#[test]
fn an_image_equals_its_unpacked_directory() {
    let dir = tempfile::tempdir().unwrap();
    let image = image(&docker_archive(dir.path()));
    // The merged tree, unpacked by hand.
    let root = dir.path().join("rootfs");
    let w = |p: &str, data: &[u8]| {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    w("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
    w("var/lib/dpkg/status", &fixture("dpkg/status"));
    w("escape/requirements.txt", b"urllib3==1.26.4\n");
    w("srv/new/requirements.txt", b"flask==1.0\n");
    w("app/Cargo.lock", &fixture("lang/app/rust/Cargo.lock"));
    let unpacked = inventory_dir(&root, &Options::default()).unwrap();
    assert_eq!(comparable(&image), comparable(&unpacked));
}

#[test]
fn broken_images_name_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = oci_files();
    let truncated = files[4].1[..files[4].1.len() / 2].to_vec();
    files[4].1 = truncated;
    let path = dir.path().join("broken.oci.tar");
    std::fs::write(&path, tar_of(&files)).unwrap();
    let err = inventory_image(&path, &Options::default()).unwrap_err().to_string();
    assert!(err.contains(&oci_digests()[0]), "{err}");
    std::fs::write(dir.path().join("junk.tar"), b"not a tar at all").unwrap();
    assert!(inventory_image(&dir.path().join("junk.tar"), &Options::default()).is_err());
    let empty = dir.path().join("empty.tar");
    std::fs::write(&empty, tar_of(&[("hello.txt".into(), b"hi".to_vec())])).unwrap();
    let err = inventory_image(&empty, &Options::default()).unwrap_err().to_string();
    assert!(err.contains("neither a docker-archive"), "{err}");
}

#[test]
fn layers_that_do_not_match_their_digests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // An OCI blob replaced by another valid layer under the same name.
    let mut files = oci_files();
    files[5].1 = layer(&[Item::File("srv/new/requirements.txt", b"flask==0.1\n".to_vec())]);
    let path = dir.path().join("swapped.oci.tar");
    std::fs::write(&path, tar_of(&files)).unwrap();
    let err = inventory_image(&path, &Options::default()).unwrap_err().to_string();
    assert!(err.contains(&oci_digests()[1]) && err.contains("digest mismatch"), "{err}");
    // A docker-archive whose config lies about a layer's diff_id.
    let l = layers();
    let mut lying = config();
    let text = String::from_utf8(lying).unwrap().replace(&digest(&l[0]), &digest(b"something else"));
    lying = text.into_bytes();
    let manifest = serde_json::json!([{"Config": "config.json", "Layers": ["aaa/layer.tar", "bbb/layer.tar"]}]);
    let tar = tar_of(&[
        ("manifest.json".into(), manifest.to_string().into_bytes()),
        ("config.json".into(), lying),
        ("aaa/layer.tar".into(), l[0].clone()),
        ("bbb/layer.tar".into(), l[1].clone()),
    ]);
    let path = dir.path().join("lying.docker.tar");
    std::fs::write(&path, tar).unwrap();
    let err = inventory_image(&path, &Options::default()).unwrap_err().to_string();
    assert!(err.contains("digest mismatch"), "{err}");
    // A manifest blob that is not what the index names.
    let mut files = oci_files();
    files[2].1.push(b' ');
    let path = dir.path().join("manifest.oci.tar");
    std::fs::write(&path, tar_of(&files)).unwrap();
    let err = inventory_image(&path, &Options::default()).unwrap_err().to_string();
    assert!(err.contains("does not match its digest"), "{err}");
}

#[test]
fn layout_links_never_lead_out_of_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    let layout = oci_layout(dir.path());
    // A blob replaced by a link to a file elsewhere (here, the very same bytes, so only the link is wrong).
    let blob_path = layout.join(blob(&oci_digests()[1]));
    let outside = dir.path().join("outside-the-layout");
    std::fs::rename(&blob_path, &outside).unwrap();
    std::os::unix::fs::symlink(&outside, &blob_path).unwrap();
    let err = inventory_image(&layout, &Options::default()).unwrap_err().to_string();
    assert!(err.contains("outside the layout; not followed"), "{err}");
    // A link that stays inside the layout is fine.
    let inside = layout.join("blobs/kept-inside");
    std::fs::rename(&outside, &inside).unwrap();
    std::fs::remove_file(&blob_path).unwrap();
    std::os::unix::fs::symlink("../kept-inside", &blob_path).unwrap();
    assert!(inventory_image(&layout, &Options::default()).is_ok());
}

#[test]
fn verified_layers_are_cached_by_diff_id_and_shared_between_images() {
    let dir = tempfile::tempdir().unwrap();
    let cache = vigil_image::LayerCache::new(dir.path().join("cache"));
    let options = Options { layer_cache: Some(cache.clone()), ..Options::default() };
    let layout = oci_layout(dir.path());
    let (first, info) = inventory_image(&layout, &options).unwrap();
    assert_eq!(info.cached_layers, 0);
    assert_eq!(cache.usage().unwrap().0, 2);
    // The blobs are destroyed: a rescan must not read them.
    for d in oci_digests() {
        std::fs::write(layout.join(blob(&d)), b"gone").unwrap();
    }
    let (again, info) = inventory_image(&layout, &options).unwrap();
    assert_eq!(info.cached_layers, 2);
    assert_eq!(packages(&again), packages(&first));
    assert_eq!(
        again.packages.iter().find(|p| p.name == "bash").unwrap().location.layer,
        Some(oci_digests()[0].clone())
    );
    // The docker-archive holds the same uncompressed layers: both come from the cache.
    let (docker, info) = inventory_image(&docker_archive(dir.path()), &options).unwrap();
    assert_eq!(info.cached_layers, 2);
    assert_eq!(packages(&docker), packages(&first));
    // Without the cache the destroyed blobs are read, and refused.
    assert!(inventory_image(&layout, &Options::default()).is_err());
    // A damaged cache entry is a miss, not an error.
    for entry in std::fs::read_dir(cache.dir()).unwrap() {
        std::fs::write(entry.unwrap().path(), b"vigil-layer-v2\ngarbage").unwrap();
    }
    let (fresh, info) = inventory_image(&docker_archive(dir.path()), &options).unwrap();
    assert_eq!((info.cached_layers, packages(&fresh)), (0, packages(&first)));
}

/// Records what progress an image read reports.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<(String, Option<u64>, u64)>>);

impl vigil_core::progress::Progress for Recorder {
    fn begin(&self, label: &str, total: Option<u64>, unit_bytes: bool) {
        assert!(unit_bytes);
        self.0.lock().unwrap().push((label.to_owned(), total, 0));
    }
    fn advance(&self, n: u64) {
        self.0.lock().unwrap().last_mut().unwrap().2 += n;
    }
    fn end(&self) {}
}

#[test]
fn layers_read_in_parallel_merge_in_order_and_report_the_first_error() {
    // Six layers, each replacing /app/requirements.txt: the top one must win.
    let dir = tempfile::tempdir().unwrap();
    let layers: Vec<Vec<u8>> =
        (0..6).map(|i| layer(&[Item::File("app/requirements.txt", format!("flask=={i}.0\n").into_bytes())])).collect();
    let build = |layers: &[Vec<u8>], diff_ids: &[String]| {
        let names: Vec<String> = (0..layers.len()).map(|i| format!("{i}/layer.tar")).collect();
        let manifest = serde_json::json!([{"Config": "config.json", "Layers": names}]).to_string().into_bytes();
        let config = serde_json::json!({"rootfs": {"type": "layers", "diff_ids": diff_ids}}).to_string().into_bytes();
        let mut files = vec![("manifest.json".to_owned(), manifest), ("config.json".to_owned(), config)];
        files.extend(names.into_iter().zip(layers.iter().cloned()));
        let path = dir.path().join("six.docker.tar");
        std::fs::write(&path, tar_of(&files)).unwrap();
        path
    };
    let ids: Vec<String> = layers.iter().map(|l| digest(l)).collect();
    let inv = image(&build(&layers, &ids));
    let flask: Vec<&str> = inv.packages.iter().map(|p| p.version.as_str()).collect();
    assert_eq!(flask, ["5.0"]);
    assert_eq!(inv.packages[0].location.layer.as_deref(), Some(ids[5].as_str()));
    // Layers 2 and 5 do not match their digests: the error names layer 2, the lower one.
    let mut broken = layers.clone();
    for i in [2, 5] {
        broken[i] = layer(&[Item::File("app/requirements.txt", b"tampered==1\n".to_vec())]);
    }
    let err = inventory_image(&build(&broken, &ids), &Options::default()).unwrap_err().to_string();
    assert!(err.contains(&ids[2]) && err.contains("digest mismatch"), "{err}");
}

#[test]
fn layer_reads_report_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = std::sync::Arc::new(Recorder::default());
    let cache = vigil_image::LayerCache::new(dir.path().join("cache"));
    let options = Options { progress: Some(recorder.clone()), layer_cache: Some(cache), ..Options::default() };
    inventory_image(&oci_archive(dir.path()), &options).unwrap();
    let size: u64 = oci_blobs().iter().map(|b| b.len() as u64).sum();
    let got = recorder.0.lock().unwrap().clone();
    assert_eq!(
        got,
        [("read 2 layers".to_owned(), Some(size), size)],
        "every stored byte, against the descriptors' sizes"
    );
    // Cached layers are not read.
    recorder.0.lock().unwrap().clear();
    inventory_image(&oci_archive(dir.path()), &options).unwrap();
    assert!(recorder.0.lock().unwrap().is_empty());
}

#[test]
fn the_platform_picks_the_image_of_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let layout = oci_layout(dir.path());
    let arm = Options { platform: Some("linux/arm64".parse().unwrap()), ..Options::default() };
    let (inv, info) = inventory_image(&layout, &arm).unwrap();
    assert_eq!((inv.packages.len(), info.platform.as_deref(), info.layers.len()), (0, Some("linux/arm64"), 0));
    let s390x = Options { platform: Some("linux/s390x".parse().unwrap()), ..Options::default() };
    let err = inventory_image(&layout, &s390x).unwrap_err().to_string();
    assert!(err.contains("no image for linux/s390x") && err.contains("linux/arm64, linux/amd64"), "{err}");
}

#[test]
fn zstd_layers_of_one_or_more_frames() {
    use ruzstd::encoding::{CompressionLevel, compress_to_vec};
    let dir = tempfile::tempdir().unwrap();
    let reference = packages(&image(&docker_archive(dir.path())));
    let mut files = oci_files();
    let l = layers();
    // Base layer as two concatenated zstd frames, app layer as one.
    let half = l[0].len() / 2;
    let mut two_frames = compress_to_vec(&l[0][..half], CompressionLevel::Fastest);
    two_frames.extend(compress_to_vec(&l[0][half..], CompressionLevel::Fastest));
    let app = compress_to_vec(&l[1][..], CompressionLevel::Fastest);
    // Renamed to their new digests, and the manifest and index rewritten to match.
    let manifest: serde_json::Value = serde_json::from_slice(&files[2].1).unwrap();
    let mut manifest = manifest.to_string();
    for (old, new) in oci_digests().iter().zip([digest(&two_frames), digest(&app)]) {
        manifest = manifest.replace(old.as_str(), &new);
    }
    let index =
        String::from_utf8(files[1].1.clone()).unwrap().replace(&digest(&files[2].1), &digest(manifest.as_bytes()));
    files[1].1 = index.into_bytes();
    files[2] = (blob(&digest(manifest.as_bytes())), manifest.into_bytes());
    files[4] = (blob(&digest(&two_frames)), two_frames);
    files[5] = (blob(&digest(&app)), app);
    let path = dir.path().join("zstd.oci.tar");
    std::fs::write(&path, tar_of(&files)).unwrap();
    assert_eq!(packages(&image(&path)), reference);
}

mod hostile {
    //! Mutated image archives and layers must give an inventory or an
    //! error naming the image, never a panic.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn mutated_archives(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in proptest::option::of(any::<usize>()), oci in any::<bool>()) {
            let dir = tempfile::tempdir().unwrap();
            let original = if oci { oci_archive(dir.path()) } else { docker_archive(dir.path()) };
            let bytes = mutate(std::fs::read(&original).unwrap(), &flips, cut);
            std::fs::write(&original, bytes).unwrap();
            let _ = inventory_image(&original, &Options::default());
        }

        #[test]
        fn mutated_layers(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in proptest::option::of(any::<usize>()), which in 4usize..6) {
            let dir = tempfile::tempdir().unwrap();
            let mut files = oci_files();
            let mutated = mutate(files[which].1.clone(), &flips, cut);
            files[which].1 = mutated;
            let path = dir.path().join("m.oci.tar");
            std::fs::write(&path, tar_of(&files)).unwrap();
            let _ = inventory_image(&path, &Options::default());
        }
    }
}

//! Container images: docker-archive, OCI layout and oci-archive forms of
//! the same two layers (whiteouts, an opaque directory, symlinks, gzip and
//! plain layers) give the same inventory, which equals the inventory of the
//! merged tree unpacked to a directory; every package names its layer.

mod common;
use common::mutate;

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

const DIGESTS: [&str; 2] = [
    "sha256:1111111111111111111111111111111111111111111111111111111111111111",
    "sha256:2222222222222222222222222222222222222222222222222222222222222222",
];

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
        ("config.json".into(), b"{}".to_vec()),
        ("aaa/layer.tar".into(), l[0].clone()),
        ("bbb/layer.tar".into(), l[1].clone()),
    ]);
    let path = dir.join("image.docker.tar");
    std::fs::write(&path, tar).unwrap();
    path
}

/// OCI layout files: gzip base layer, plain app layer, a multi-platform index.
fn oci_files() -> Vec<(String, Vec<u8>)> {
    let l = layers();
    let blob = |d: &str| format!("blobs/sha256/{}", d.trim_start_matches("sha256:"));
    let manifest = serde_json::json!({"schemaVersion": 2, "config": {"digest": "sha256:cccc", "mediaType": "application/vnd.oci.image.config.v1+json", "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": DIGESTS[0]}, {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": DIGESTS[1]}]});
    let arm = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
    let amd = "sha256:4444444444444444444444444444444444444444444444444444444444444444";
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm, "platform": {"os": "linux", "architecture": "arm64"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd, "platform": {"os": "linux", "architecture": "amd64"}}]});
    vec![
        ("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
        ("index.json".into(), index.to_string().into_bytes()),
        (blob(amd), manifest.to_string().into_bytes()),
        (blob(arm), b"not the one to read".to_vec()),
        (blob(DIGESTS[0]), gzip(&l[0])),
        (blob(DIGESTS[1]), l[1].clone()),
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
    let inv = inventory_image(&docker, &Options::default()).unwrap();
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    assert_eq!(inv.os.as_ref().unwrap().ecosystem.as_deref(), Some("Debian:12"), "os-release through a symlink");
    let pkgs = packages(&inv);
    let requirements: Vec<&(String, String, String, String)> = pkgs.iter().filter(|p| p.0 == "requirements").collect();
    assert_eq!(requirements.len(), 2, "{requirements:?}");
    assert_eq!(requirements[0].1, "flask", "/srv was made opaque and /opt/old whited out");
    assert_eq!(requirements[1].3, "/escape/requirements.txt", "../ cannot climb out of the image");
    assert_eq!(pkgs.iter().filter(|p| p.0 == "dpkg").count(), 32);
    // Every package names the layer its file came from.
    let bash = inv.packages.iter().find(|p| p.name == "bash").unwrap();
    assert_eq!(bash.location.layer.as_deref(), Some("aaa/layer.tar"));
    let flask = inv.packages.iter().find(|p| p.name == "flask").unwrap();
    assert_eq!(flask.location.layer.as_deref(), Some("bbb/layer.tar"));

    for image in [oci_layout(dir.path()), oci_archive(dir.path())] {
        assert!(is_image(&image), "{}", image.display());
        let other = inventory_image(&image, &Options::default()).unwrap();
        assert_eq!(packages(&other), pkgs, "{}", image.display());
        let bash = other.packages.iter().find(|p| p.name == "bash").unwrap();
        assert_eq!(bash.location.layer.as_deref(), Some(DIGESTS[0]));
    }
    assert!(is_image(&docker));
    assert!(!is_image(&dir.path().join("nothing")));
}

#[test]
fn an_image_equals_its_unpacked_directory() {
    let dir = tempfile::tempdir().unwrap();
    let image = inventory_image(&docker_archive(dir.path()), &Options::default()).unwrap();
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
    let strip = |inv: &Inventory| -> Vec<String> {
        let mut v: Vec<String> = inv
            .packages
            .iter()
            .map(|p| format!("{} {} {} {}", p.purl, p.ecosystem, p.location.path, p.cataloger))
            .collect();
        v.sort();
        v
    };
    assert_eq!(strip(&image), strip(&unpacked));
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
    assert!(err.contains(DIGESTS[0]), "{err}");
    std::fs::write(dir.path().join("junk.tar"), b"not a tar at all").unwrap();
    assert!(inventory_image(&dir.path().join("junk.tar"), &Options::default()).is_err());
    let empty = dir.path().join("empty.tar");
    std::fs::write(&empty, tar_of(&[("hello.txt".into(), b"hi".to_vec())])).unwrap();
    let err = inventory_image(&empty, &Options::default()).unwrap_err().to_string();
    assert!(err.contains("neither a docker-archive"), "{err}");
}

#[test]
fn zstd_layers_of_one_or_more_frames() {
    use ruzstd::encoding::{CompressionLevel, compress_to_vec};
    let dir = tempfile::tempdir().unwrap();
    let reference = packages(&inventory_image(&docker_archive(dir.path()), &Options::default()).unwrap());
    let mut files = oci_files();
    let l = layers();
    // Base layer as two concatenated zstd frames, app layer as one.
    let half = l[0].len() / 2;
    let mut two_frames = compress_to_vec(&l[0][..half], CompressionLevel::Fastest);
    two_frames.extend(compress_to_vec(&l[0][half..], CompressionLevel::Fastest));
    files[4].1 = two_frames;
    files[5].1 = compress_to_vec(&l[1][..], CompressionLevel::Fastest);
    let path = dir.path().join("zstd.oci.tar");
    std::fs::write(&path, tar_of(&files)).unwrap();
    assert_eq!(packages(&inventory_image(&path, &Options::default()).unwrap()), reference);
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

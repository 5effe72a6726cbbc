//! Packages compiled into binaries: a real Go binary (Go 1.19.8, one
//! module dependency) checked against `go version -m`, and a real Rust
//! binary built with `cargo auditable` checked against the Cargo.lock it
//! was built from; in a directory, in an image (through the layer cache
//! too) and as a target of its own. Mutated binaries never panic.

mod common;
use common::mutate;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use vigil_core::inventory::Inventory;
use vigil_inventory::{Options, inventory_dir, inventory_file, inventory_image};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/binaries")
}

/// A fixture binary, unpacked.
fn binary(name: &str) -> Vec<u8> {
    let gz = std::fs::read(fixtures().join(format!("{name}.gz"))).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut out).unwrap();
    out
}

/// `cataloger name version`, sorted.
fn found(inv: &Inventory) -> Vec<String> {
    let mut v: Vec<String> = inv
        .packages
        .iter()
        .filter(|p| p.cataloger == "go-binary" || p.cataloger == "cargo-auditable")
        .map(|p| format!("{} {} {} {}", p.cataloger, p.name, p.version, p.location.path))
        .collect();
    v.sort();
    v
}

/// `dep` lines of `go version -m` output: `path version`.
fn go_version_m_deps(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.trim_start().split('\t').collect();
            (f.first() == Some(&"dep")).then(|| format!("{} {}", f[1], f[2]))
        })
        .collect()
}

/// The expectation, from the oracles: `go version -m` (run live when Go is
/// installed, else its recorded output) and the Cargo.lock the Rust binary was built from.
fn expected(go_path: &str, rust_path: &str) -> Vec<String> {
    let recorded = std::fs::read_to_string(fixtures().join("gohello.go-version-m.txt")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("gohello");
    write_exe(&exe, &binary("gohello"), 0o755);
    match std::process::Command::new("go").args(["version", "-m"]).arg(&exe).output() {
        Ok(out) if out.status.success() => {
            assert_eq!(go_version_m_deps(&String::from_utf8_lossy(&out.stdout)), go_version_m_deps(&recorded));
        }
        _ => {
            let msg = "go is not installed: the Go binary is checked against recorded `go version -m` output only";
            assert!(std::env::var_os("VIGIL_REQUIRE_ORACLES").is_none(), "{msg}");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("\n!!!!! {msg} !!!!!\n\n").as_bytes());
        }
    }
    let go_version = recorded.lines().next().unwrap().rsplit(' ').next().unwrap().trim_start_matches("go").to_owned();
    let mut want = vec![format!("go-binary stdlib {go_version} {go_path}")];
    want.extend(go_version_m_deps(&recorded).into_iter().map(|d| format!("go-binary {d} {go_path}")));
    let lock: toml::Value =
        toml::from_str(&std::fs::read_to_string(fixtures().join("rusthello/Cargo.lock")).unwrap()).unwrap();
    for p in lock["package"].as_array().unwrap() {
        if p.get("source").is_some() {
            want.push(format!(
                "cargo-auditable {} {} {rust_path}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            ));
        }
    }
    want.sort();
    want
}

fn write_exe(path: &Path, bytes: &[u8], mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn binaries_in_a_directory_match_go_version_and_the_lockfile() {
    let root = tempfile::tempdir().unwrap();
    write_exe(&root.path().join("usr/local/bin/gohello"), &binary("gohello"), 0o755);
    write_exe(&root.path().join("opt/app/rusthello"), &binary("rusthello"), 0o750);
    // Not executable: not a program anyone runs, so not read (as in images).
    write_exe(&root.path().join("srv/copy-of-gohello"), &binary("gohello"), 0o644);
    let inv = inventory_dir(root.path(), &Options::default()).unwrap();
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    let want = expected("/usr/local/bin/gohello", "/opt/app/rusthello");
    assert_eq!(found(&inv), want);
    assert!(want.contains(&"cargo-auditable smallvec 1.6.0 /opt/app/rusthello".to_owned()));
    let stdlib = inv.packages.iter().find(|p| p.name == "stdlib").unwrap();
    assert_eq!((stdlib.ecosystem.as_str(), stdlib.purl.as_str()), ("Go", "pkg:golang/stdlib@1.19.8"));
}

/// A docker-archive with one layer holding the binaries (and a 0644 copy).
fn image(dir: &Path) -> PathBuf {
    let files = [
        ("usr/local/bin/gohello", binary("gohello"), 0o755),
        ("opt/app/rusthello", binary("rusthello"), 0o755),
        ("srv/copy", binary("gohello"), 0o644),
    ];
    image_of(dir, &files)
}

/// A docker-archive with one layer of `(path, contents, mode)` files.
fn image_of(dir: &Path, files: &[(&str, Vec<u8>, u32)]) -> PathBuf {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data, mode) in files {
        let (path, mode) = (*path, *mode);
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_cksum();
        b.append_data(&mut h, path, &data[..]).unwrap();
    }
    let layer = b.into_inner().unwrap();
    let diff_id = vigil_image::Digest::sha256_of(&layer).to_string();
    let config = serde_json::json!({"rootfs": {"type": "layers", "diff_ids": [diff_id]}}).to_string();
    let manifest = serde_json::json!([{"Config": "config.json", "Layers": ["l/layer.tar"]}]).to_string();
    let mut outer = tar::Builder::new(Vec::new());
    for (name, data) in
        [("manifest.json", manifest.as_bytes()), ("config.json", config.as_bytes()), ("l/layer.tar", &layer[..])]
    {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        outer.append_data(&mut h, name, data).unwrap();
    }
    let path = dir.join("binaries.docker.tar");
    std::fs::write(&path, outer.into_inner().unwrap()).unwrap();
    path
}

#[test]
fn binaries_in_an_image_are_read_as_the_layer_streams_and_cached() {
    let dir = tempfile::tempdir().unwrap();
    let path = image(dir.path());
    let want = expected("/usr/local/bin/gohello", "/opt/app/rusthello");
    let (inv, _) = inventory_image(&path, &Options::default()).unwrap();
    assert_eq!(found(&inv), want);
    assert!(inv.packages.iter().all(|p| p.location.layer.as_deref().is_some_and(|l| l.starts_with("sha256:"))));
    let options =
        Options { layer_cache: Some(vigil_image::LayerCache::new(dir.path().join("cache"))), ..Options::default() };
    let (first, _) = inventory_image(&path, &options).unwrap();
    let (cached, info) = inventory_image(&path, &options).unwrap();
    assert_eq!(info.cached_layers, 1);
    assert_eq!((found(&first), found(&cached)), (want.clone(), want));
}

#[test]
fn large_binaries_in_images_are_spooled_not_held() {
    // Past vigil_image::SPOOL_EXECUTABLES_ABOVE an executable goes to a temporary file for the
    // sniffer; the real binary, padded with zeros after its last section, must read the same.
    let dir = tempfile::tempdir().unwrap();
    let mut big = binary("rusthello");
    big.resize(vigil_image::SPOOL_EXECUTABLES_ABOVE as usize + (1 << 20), 0);
    let files = [("opt/big/rusthello", big, 0o755), ("opt/small/rusthello", binary("rusthello"), 0o755)];
    let (inv, _) = inventory_image(&image_of(dir.path(), &files), &Options::default()).unwrap();
    let crates = |dir: &str| -> Vec<String> {
        let found = inv.packages.iter().filter(|p| p.location.path.starts_with(dir));
        found.map(|p| format!("{} {}", p.name, p.version)).collect()
    };
    assert_eq!(crates("/opt/big/"), ["itoa 1.0.19", "smallvec 1.6.0"]);
    assert_eq!(crates("/opt/big/"), crates("/opt/small/"));
}

#[test]
fn a_binary_is_a_target_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("rusthello");
    write_exe(&exe, &binary("rusthello"), 0o755);
    let inv = inventory_file(&exe, &Options::default()).unwrap();
    let names: Vec<String> = inv.packages.iter().map(|p| format!("{} {}", p.name, p.version)).collect();
    assert_eq!(names, ["itoa 1.0.19", "smallvec 1.6.0"]);
    // An ELF file without embedded metadata says so.
    let plain = dir.path().join("plain");
    let mut elf = binary("rusthello");
    let at = elf.windows(7).position(|w| w == b".dep-v0").unwrap();
    elf[at..at + 7].copy_from_slice(b".xxx-v0");
    write_exe(&plain, &elf, 0o755);
    let err = inventory_file(&plain, &Options::default()).unwrap_err().to_string();
    assert!(err.contains("without Go build information or a cargo-auditable dependency list"), "{err}");
}

#[test]
fn main_module_versions_stamped_with_ldflags() {
    // Real binaries: one whose module version is `(devel)`, one built outside module mode as
    // the docker CLI is (no module list at all). The version is in the `-ldflags` build
    // setting, which `go version -m` (when installed) shows as recorded.
    let dir = tempfile::tempdir().unwrap();
    for (name, want) in [
        (
            "gostamped",
            "example.com/vigil/stamped v2.3.4 pkg:golang/example.com/vigil/stamped@v2.3.4 \
             go build -ldflags -X main.version",
        ),
        (
            "gocli",
            "github.com/docker/cli v20.10.8 pkg:golang/github.com/docker/cli@v20.10.8 \
             go build -ldflags -X github.com/docker/cli/cli/version.Version; built outside module mode, \
             module github.com/docker/cli named after the package github.com/docker/cli/cmd/docker",
        ),
    ] {
        let exe = dir.path().join(name);
        write_exe(&exe, &binary(name), 0o755);
        let recorded = std::fs::read_to_string(fixtures().join(format!("{name}.go-version-m.txt"))).unwrap();
        let ldflags = |text: &str| text.lines().find(|l| l.contains("\tbuild\t-ldflags=")).map(str::to_owned);
        match std::process::Command::new("go").args(["version", "-m"]).arg(&exe).output() {
            Ok(out) if out.status.success() => {
                assert_eq!(ldflags(&String::from_utf8_lossy(&out.stdout)), ldflags(&recorded), "{name}")
            }
            _ => assert!(std::env::var_os("VIGIL_REQUIRE_ORACLES").is_none(), "go is not installed"),
        }
        let inv = inventory_file(&exe, &Options::default()).unwrap();
        let got: Vec<String> = inv
            .packages
            .iter()
            .map(|p| format!("{} {} {} {}", p.name, p.version, p.purl, p.version_source.as_deref().unwrap_or("-")))
            .collect();
        assert_eq!(got, ["stdlib 1.19.8 pkg:golang/stdlib@1.19.8 -", want], "{name}");
    }
}

/// A varint-length-prefixed string and the rest.
fn varint_string(data: &[u8]) -> (&[u8], &[u8]) {
    let (mut len, mut i) = (0usize, 0);
    loop {
        len |= usize::from(data[i] & 0x7f) << (7 * i);
        i += 1;
        if data[i - 1] & 0x80 == 0 {
            break;
        }
    }
    data[i..].split_at(len)
}

#[test]
fn go_1_17_build_info_behind_pointers() {
    // Synthetic: Go 1.13 to 1.17 wrote pointers where Go 1.18 writes the strings. No such
    // toolchain is available here, so the real binary's build info is rewritten into that
    // layout, as Go's debug/buildinfo reads it: the header's two pointers lead to Go string
    // headers (placed after it), which lead to the very same strings (placed in .rodata).
    use object::{Object, ObjectSection};
    let inline = binary("gohello");
    let mut bytes = inline.clone();
    let file = object::File::parse(&inline[..]).unwrap();
    let info = file.section_by_name(".go.buildinfo").unwrap();
    let (info_addr, info_off) = (info.address(), info.file_range().unwrap().0 as usize);
    let rodata = file.section_by_name(".rodata").unwrap();
    let (ro_addr, ro_off) = (rodata.address(), rodata.file_range().unwrap().0 as usize);
    let (version, rest) = varint_string(&info.data().unwrap()[32..]);
    let (modinfo, _) = varint_string(rest);
    bytes[ro_off..ro_off + version.len()].copy_from_slice(version);
    bytes[ro_off + version.len()..ro_off + version.len() + modinfo.len()].copy_from_slice(modinfo);
    let mut put = |at: usize, value: u64| bytes[info_off + at..info_off + at + 8].copy_from_slice(&value.to_le_bytes());
    put(16, info_addr + 32);
    put(24, info_addr + 48);
    put(32, ro_addr);
    put(40, version.len() as u64);
    put(48, ro_addr + version.len() as u64);
    put(56, modinfo.len() as u64);
    bytes[info_off + 15] = 0; // flags: pointers, little-endian
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("go117"), dir.path().join("go118"));
    write_exe(&old, &bytes, 0o755);
    write_exe(&new, &inline, 0o755);
    let names = |path: &Path| -> Vec<String> {
        inventory_file(path, &Options::default())
            .unwrap()
            .packages
            .iter()
            .map(|p| format!("{} {}", p.name, p.version))
            .collect()
    };
    assert_eq!(names(&old), ["stdlib 1.19.8", "golang.org/x/text v0.7.0"]);
    assert_eq!(names(&old), names(&new));
    // A pointer that leads nowhere is no build info, not a crash.
    bytes[info_off + 16..info_off + 24].copy_from_slice(&u64::MAX.to_le_bytes());
    write_exe(&old, &bytes, 0o755);
    assert!(inventory_file(&old, &Options::default()).is_err());
}

mod hostile {
    //! Mutated binaries give packages, a warning or nothing; never a panic.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn mutated_binaries(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..16), cut in proptest::option::of(any::<usize>()), go in any::<bool>()) {
            let bytes = binary(if go { "gohello" } else { "rusthello" });
            let mutated = mutate(bytes, &flips, cut);
            let from_memory = vigil_inventory::catalogers::binary::sniff(&mutated);
            if let Some(sniffed) = &from_memory {
                let _ = vigil_inventory::catalogers::binary::packages("/x", sniffed);
            }
            // Read lazily from disk, the same file must give the same answer.
            let mut file = tempfile::tempfile().unwrap();
            std::io::Write::write_all(&mut file, &mutated).unwrap();
            prop_assert_eq!(vigil_inventory::catalogers::binary::sniff_file(&file), from_memory);
        }
    }

    #[test]
    fn mutations_inside_the_metadata() {
        // Flips aimed at the build info and the dependency list, where random flips rarely land.
        for (name, marker) in [("gohello", &b"\xff Go buildinf:"[..]), ("rusthello", &b".dep-v0"[..])] {
            let bytes = binary(name);
            let at = bytes.windows(marker.len()).position(|w| w == marker).unwrap();
            for offset in 0..96 {
                for flip in [0x01u8, 0x80, 0xff] {
                    let mut m = bytes.clone();
                    let i = (at + offset) % m.len();
                    m[i] ^= flip;
                    if let Some(sniffed) = vigil_inventory::catalogers::binary::sniff(&m) {
                        let _ = vigil_inventory::catalogers::binary::packages("/x", &sniffed);
                    }
                }
            }
        }
    }
}

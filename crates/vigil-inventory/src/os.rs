//! Operating-system detection: `os-release` first (`/etc`, then
//! `/usr/lib`), then the distribution files that predate it
//! (`alpine-release`, `debian_version`, `redhat-release`). The result names
//! the OSV ecosystem the OS packages' advisories use.

use vigil_core::inventory::OsInfo;

use crate::error::Result;
use crate::fs::RootFs;

/// Reads `KEY=value` lines, unquoting values.
fn parse_os_release(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let (k, v) = line.split_once('=')?;
            let v = v.trim();
            let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
            let v = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(v);
            Some((k.trim().to_owned(), v.replace("\\\"", "\"")))
        })
        .collect()
}

/// The first `major.minor` (or `major`) of a version string.
fn leading(version: &str, parts: usize) -> Option<String> {
    let taken: Vec<&str> = version.split('.').take(parts).collect();
    (taken.len() == parts && taken.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
        .then(|| taken.join("."))
}

/// The OSV ecosystem for an OS id and version, when Vigil knows the mapping.
pub fn ecosystem_for(id: &str, version_id: Option<&str>) -> Option<String> {
    let v = version_id?;
    Some(match id {
        "debian" => format!("Debian:{}", leading(v, 1)?),
        "ubuntu" => format!("Ubuntu:{}", leading(v, 2)?),
        "alpine" => format!("Alpine:v{}", leading(v, 2)?),
        "almalinux" => format!("AlmaLinux:{}", leading(v, 1)?),
        "rocky" => format!("Rocky Linux:{}", leading(v, 1)?),
        "wolfi" => "Wolfi".to_owned(),
        "chainguard" => "Chainguard".to_owned(),
        _ => return None,
    })
}

/// The release files detection reads.
const RELEASE_FILES: &[&str] =
    &["/etc/os-release", "/usr/lib/os-release", "/etc/alpine-release", "/etc/debian_version", "/etc/redhat-release"];

/// Whether detection reads the file at `path`.
pub fn wants(path: &str) -> bool {
    RELEASE_FILES.contains(&path)
}

/// Detects the OS of `fs`; `None` when no release file is present.
pub fn detect(fs: &RootFs) -> Result<Option<OsInfo>> {
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        let Some(bytes) = fs.read(path)? else {
            continue;
        };
        let fields = parse_os_release(&String::from_utf8_lossy(&bytes));
        let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let Some(id) = get("ID").map(|s| s.to_ascii_lowercase()) else {
            continue;
        };
        let mut version_id = get("VERSION_ID");
        // Alpine's os-release carries the full version; alpine-release agrees.
        // Debian testing/sid has no VERSION_ID: debian_version says "trixie/sid".
        if version_id.is_none() && id == "debian" {
            version_id = read_line(fs, "/etc/debian_version")?.filter(|v| leading(v, 1).is_some());
        }
        return Ok(Some(OsInfo {
            ecosystem: ecosystem_for(&id, version_id.as_deref()),
            pretty_name: get("PRETTY_NAME"),
            id,
            version_id,
            source: path.to_owned(),
        }));
    }
    let fallbacks: [(&str, &str); 3] =
        [("/etc/alpine-release", "alpine"), ("/etc/debian_version", "debian"), ("/etc/redhat-release", "rhel")];
    for (path, id) in fallbacks {
        let Some(line) = read_line(fs, path)? else {
            continue;
        };
        let version_id = if id == "rhel" {
            line.split_whitespace().find(|w| w.starts_with(|c: char| c.is_ascii_digit())).map(str::to_owned)
        } else {
            Some(line.clone())
        };
        return Ok(Some(OsInfo {
            ecosystem: ecosystem_for(id, version_id.as_deref()),
            id: id.to_owned(),
            version_id,
            pretty_name: Some(line),
            source: path.to_owned(),
        }));
    }
    Ok(None)
}

fn read_line(fs: &RootFs, path: &str) -> Result<Option<String>> {
    Ok(fs
        .read(path)?
        .map(|b| String::from_utf8_lossy(&b).lines().next().unwrap_or("").trim().to_owned())
        .filter(|l| !l.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path.trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    fn detect_in(files: &[(&str, &str)]) -> Option<OsInfo> {
        let dir = root_with(files);
        detect(&RootFs::open(dir.path(), 1 << 20).unwrap()).unwrap()
    }

    #[test]
    fn os_release_names_the_ecosystem() {
        let debian = detect_in(&[(
            "/etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
        )]);
        assert_eq!(debian.unwrap().ecosystem.as_deref(), Some("Debian:12"));
        let ubuntu = detect_in(&[("/usr/lib/os-release", "ID=ubuntu\nVERSION_ID=\"22.04\"\n")]);
        assert_eq!(ubuntu.unwrap().ecosystem.as_deref(), Some("Ubuntu:22.04"));
        let alpine = detect_in(&[("/etc/os-release", "ID=alpine\nVERSION_ID=3.18.4\n")]);
        assert_eq!(alpine.unwrap().ecosystem.as_deref(), Some("Alpine:v3.18"));
        let alma = detect_in(&[("/etc/os-release", "ID=\"almalinux\"\nVERSION_ID=\"9.3\"\n")]);
        assert_eq!(alma.unwrap().ecosystem.as_deref(), Some("AlmaLinux:9"));
    }

    #[test]
    fn older_release_files() {
        let alpine = detect_in(&[("/etc/alpine-release", "3.11.6\n")]).unwrap();
        assert_eq!((alpine.id.as_str(), alpine.ecosystem.as_deref()), ("alpine", Some("Alpine:v3.11")));
        let sid = detect_in(&[("/etc/os-release", "ID=debian\n"), ("/etc/debian_version", "trixie/sid\n")]).unwrap();
        assert_eq!(sid.ecosystem, None);
        assert_eq!(detect_in(&[]), None);
    }
}

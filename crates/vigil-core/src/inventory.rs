//! The inventory: what is installed in a target (an SBOM in Vigil's own
//! terms). Every package carries its ecosystem, a package URL and where it
//! was found; OS packages also carry the source package advisories are
//! keyed by (Debian `Source:`, Alpine origin, RPM source rpm).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::redact::credentials_in;

/// The operating system of a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsInfo {
    /// `ID` from os-release (`debian`, `ubuntu`, `alpine`, `almalinux`, ...).
    pub id: String,
    /// `VERSION_ID` (`12`, `22.04`, `3.18.4`, `9.3`), when known.
    pub version_id: Option<String>,
    /// `PRETTY_NAME`, when known.
    pub pretty_name: Option<String>,
    /// The OSV ecosystem its packages' advisories use (`Debian:12`,
    /// `Ubuntu:22.04`, `Alpine:v3.18`, `AlmaLinux:9`), when Vigil knows it.
    pub ecosystem: Option<String>,
    /// The file the facts came from.
    pub source: String,
}

/// Where a package was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Path inside the target, starting with `/`.
    pub path: String,
    /// The image layer (diff id) the file came from, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
}

/// The source package an OS package was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePackage {
    /// Source package name (Debian `Source:`, Alpine origin, RPM source name).
    pub name: String,
    /// Source version, when it differs from the binary's (Debian binNMUs).
    pub version: String,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Name as the package manager spells it.
    pub name: String,
    /// Installed version (for RPM: `[epoch:]version-release`); empty when
    /// the file does not pin one (an unpinned requirement, a dependency
    /// locked to a git commit), and such packages are never matched.
    pub version: String,
    /// Where the version was read, when not from the package's own record:
    /// a Go binary built without a module version says it through a
    /// `-ldflags -X ...Version=` build setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_source: Option<String>,
    /// OSV ecosystem (`Debian:12`, `Alpine:v3.18`, `crates.io`, ...); the
    /// base name alone when the OS release is unknown.
    pub ecosystem: String,
    /// Package URL.
    pub purl: String,
    /// The source package, for OS packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePackage>,
    /// CPU architecture, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Declared licence, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Where it was found.
    pub location: Location,
    /// The cataloger that found it (`dpkg`, `apk`, `rpm`, ...).
    pub cataloger: String,
    /// Further facts the file records, by name: `alias` (the name the
    /// project installs the package under, as npm and yarn aliases do),
    /// `commit` (the VCS commit it is locked to), `user` and `channel`
    /// (Conan references).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
}

impl Package {
    /// Removes credentials from every URL in the package's fields (see [`crate::redact`]).
    pub fn redact_credentials(&mut self) {
        credentials_in(&mut self.name);
        credentials_in(&mut self.version);
        credentials_in(&mut self.purl);
        credentials_in(&mut self.location.path);
        if let Some(s) = &mut self.source {
            credentials_in(&mut s.name);
            credentials_in(&mut s.version);
        }
        self.properties.values_mut().for_each(credentials_in);
    }
}

/// What a container image target was, for reports to identify it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageMeta {
    /// `docker-archive`, `oci-archive`, `oci-layout`, `registry` or `engine`.
    pub format: String,
    /// `registry/repository` of a pulled image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The image manifest's digest, when known (`sha256:...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// The platform taken from a multi-platform index (`linux/amd64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Layer digests, bottom first.
    pub layers: Vec<String>,
    /// Tags recorded in the archive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// Everything found in one target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Inventory {
    /// The target as given (path, image reference).
    pub target: String,
    /// What the image was, when the target is a container image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageMeta>,
    /// The operating system, when one was found.
    pub os: Option<OsInfo>,
    /// Installed packages, sorted by ecosystem, name, version and path.
    pub packages: Vec<Package>,
    /// Problems met while cataloguing (a broken database, an unreadable
    /// file): each names the file; none of them stops the other catalogers.
    pub warnings: Vec<String>,
}

impl Inventory {
    /// Removes credentials from every URL the inventory holds: target,
    /// packages and warnings. Every inventory Vigil builds passes through
    /// this before anything is written.
    pub fn redact_credentials(&mut self) {
        credentials_in(&mut self.target);
        if let Some(repository) = self.image.as_mut().and_then(|i| i.repository.as_mut()) {
            credentials_in(repository);
        }
        self.packages.iter_mut().for_each(Package::redact_credentials);
        self.warnings.iter_mut().for_each(credentials_in);
    }
}

/// Percent-encodes a purl component (RFC 3986 unreserved characters stay).
pub fn purl_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_components_are_encoded() {
        assert_eq!(purl_encode("1:2.3+dfsg-1~bpo"), "1%3A2.3%2Bdfsg-1~bpo");
        assert_eq!(purl_encode("libstdc++6"), "libstdc%2B%2B6");
    }
}

//! Version ordering for every ecosystem Vigil matches, and OSV range evaluation.
//!
//! Every advisory decision ends in a version comparison, so each scheme here
//! follows its ecosystem's own tool, pitfalls included (see each module):
//!
//! | scheme | ecosystems | reference behaviour |
//! |---|---|---|
//! | [`Scheme::Dpkg`] | Debian, Ubuntu | `dpkg --compare-versions` |
//! | [`Scheme::Rpm`] | AlmaLinux, Rocky Linux, Red Hat, SUSE, ... | `rpmvercmp` (EVR, `~`, `^`) |
//! | [`Scheme::Apk`] | Alpine, Wolfi, Chainguard | `apk version -t` |
//! | [`Scheme::Semver`] | npm, crates.io, Go, Hex, SwiftURL, OSV `SEMVER` ranges | SemVer 2.0 (Hex: Elixir `Version`) |
//! | [`Scheme::Pep440`] | PyPI | Python `packaging` |
//! | [`Scheme::Maven`] | Maven | `ComparableVersion` |
//! | [`Scheme::RubyGems`] | RubyGems | `Gem::Version` |
//! | [`Scheme::Packagist`] | Packagist | PHP `version_compare` |
//! | [`Scheme::NuGet`] | NuGet | `NuGetVersion` |
//! | [`Scheme::Pub`] | Pub | `pub_semver` |
//! | [`Scheme::Cran`] | CRAN | R `package_version` |
//! | [`Scheme::Hackage`] | Hackage, GHC | Cabal `Version` |
//! | [`Scheme::Conan`] | ConanCenter | Conan 2 `Version` |
//!
//! Every comparison is total: it never fails and never panics, whatever the
//! input; strings a scheme cannot read sort below every valid version.
//! Numbers of any length compare exactly (no integer overflow).
//!
//! This crate does no I/O and knows nothing of advisories beyond the OSV
//! range events in [`range`].
//!
//! ```
//! use vigil_version::Scheme;
//! use std::cmp::Ordering;
//!
//! let debian = Scheme::for_ecosystem("Debian:11").unwrap();
//! assert_eq!(debian.compare("1.2.3-1~deb11u1", "1.2.3-1"), Ordering::Less);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod apk;
mod conan;
mod digits;
mod dotted;
mod dpkg;
mod maven;
mod nuget;
mod packagist;
mod pep440;
pub mod range;
mod rpm;
mod rubygems;
mod semver;

use std::cmp::Ordering;
use std::fmt;

pub use range::{Decision, Event, evaluate};

/// A version ordering scheme. A closed set: each variant is one module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Debian/Ubuntu dpkg versions.
    Dpkg,
    /// RPM epoch:version-release.
    Rpm,
    /// Alpine apk versions.
    Apk,
    /// SemVer 2.0 (lenient: `v` prefix, missing parts).
    Semver,
    /// PEP 440 (PyPI).
    Pep440,
    /// Maven `ComparableVersion`.
    Maven,
    /// RubyGems `Gem::Version`.
    RubyGems,
    /// Composer / PHP `version_compare`.
    Packagist,
    /// NuGet versions.
    NuGet,
    /// Dart Pub versions (SemVer where builds count).
    Pub,
    /// R CRAN package versions.
    Cran,
    /// Haskell Hackage versions.
    Hackage,
    /// Conan (C and C++) versions.
    Conan,
}

/// Every scheme with its name, in the order of [`Scheme`].
pub const SCHEMES: &[(Scheme, &str)] = &[
    (Scheme::Dpkg, "dpkg"),
    (Scheme::Rpm, "rpm"),
    (Scheme::Apk, "apk"),
    (Scheme::Semver, "semver"),
    (Scheme::Pep440, "pep440"),
    (Scheme::Maven, "maven"),
    (Scheme::RubyGems, "rubygems"),
    (Scheme::Packagist, "packagist"),
    (Scheme::NuGet, "nuget"),
    (Scheme::Pub, "pub"),
    (Scheme::Cran, "cran"),
    (Scheme::Hackage, "hackage"),
    (Scheme::Conan, "conan"),
];

/// OSV ecosystem names (without release suffix) and their scheme.
pub const ECOSYSTEMS: &[(&str, Scheme)] = &[
    ("AlmaLinux", Scheme::Rpm),
    ("Alpine", Scheme::Apk),
    ("Bitnami", Scheme::Semver),
    ("Chainguard", Scheme::Apk),
    ("ConanCenter", Scheme::Conan),
    ("CRAN", Scheme::Cran),
    ("crates.io", Scheme::Semver),
    ("Debian", Scheme::Dpkg),
    ("GHC", Scheme::Hackage),
    ("Go", Scheme::Semver),
    ("Hackage", Scheme::Hackage),
    ("Hex", Scheme::Semver),
    ("Mageia", Scheme::Rpm),
    ("Maven", Scheme::Maven),
    ("npm", Scheme::Semver),
    ("NuGet", Scheme::NuGet),
    ("openEuler", Scheme::Rpm),
    ("openSUSE", Scheme::Rpm),
    ("Packagist", Scheme::Packagist),
    ("Photon OS", Scheme::Rpm),
    ("Pub", Scheme::Pub),
    ("PyPI", Scheme::Pep440),
    ("Red Hat", Scheme::Rpm),
    ("Rocky Linux", Scheme::Rpm),
    ("RubyGems", Scheme::RubyGems),
    ("SUSE", Scheme::Rpm),
    ("SwiftURL", Scheme::Semver),
    ("Ubuntu", Scheme::Dpkg),
    ("Wolfi", Scheme::Apk),
];

impl Scheme {
    /// The scheme of an OSV ecosystem name, with or without a release suffix
    /// (`Debian`, `Debian:11`, `Ubuntu:18.04:LTS`, `AlmaLinux:9`); the match
    /// on the name is case-insensitive.
    pub fn for_ecosystem(ecosystem: &str) -> Option<Scheme> {
        let base = ecosystem.split(':').next().unwrap_or(ecosystem).trim();
        ECOSYSTEMS.iter().find(|(name, _)| name.eq_ignore_ascii_case(base)).map(|&(_, s)| s)
    }

    /// The scheme with this short name (`dpkg`, `semver`, ...).
    pub fn from_name(name: &str) -> Option<Scheme> {
        SCHEMES.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).map(|&(s, _)| s)
    }

    /// The scheme's short name.
    pub fn name(self) -> &'static str {
        SCHEMES.iter().find(|(s, _)| *s == self).map_or("?", |(_, n)| n)
    }

    /// Compares two versions under this scheme. Total and panic-free.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Scheme::Dpkg => dpkg::compare(a, b),
            Scheme::Rpm => rpm::compare(a, b),
            Scheme::Apk => apk::compare(a, b),
            Scheme::Semver => semver::compare(a, b),
            Scheme::Pep440 => pep440::compare(a, b),
            Scheme::Maven => maven::compare(a, b),
            Scheme::RubyGems => rubygems::compare(a, b),
            Scheme::Packagist => packagist::compare(a, b),
            Scheme::NuGet => nuget::compare(a, b),
            Scheme::Pub => semver::compare_pub(a, b),
            Scheme::Cran => dotted::compare_cran(a, b),
            Scheme::Hackage => dotted::compare_hackage(a, b),
            Scheme::Conan => conan::compare(a, b),
        }
    }

    /// True when the scheme can read `version` as a proper version (schemes
    /// without a strict grammar accept everything).
    pub fn is_valid(self, version: &str) -> bool {
        match self {
            Scheme::Semver | Scheme::Pub => semver::is_valid(version),
            Scheme::Pep440 => pep440::is_valid(version),
            _ => !version.trim().is_empty(),
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystem_names_with_release_suffixes() {
        assert_eq!(Scheme::for_ecosystem("Ubuntu:18.04:LTS"), Some(Scheme::Dpkg));
        assert_eq!(Scheme::for_ecosystem("AlmaLinux:9"), Some(Scheme::Rpm));
        assert_eq!(Scheme::for_ecosystem("Alpine:v3.11"), Some(Scheme::Apk));
        assert_eq!(Scheme::for_ecosystem("crates.io"), Some(Scheme::Semver));
        assert_eq!(Scheme::for_ecosystem("Nope"), None);
        for (s, n) in SCHEMES {
            assert_eq!(Scheme::from_name(n), Some(*s));
        }
    }
}

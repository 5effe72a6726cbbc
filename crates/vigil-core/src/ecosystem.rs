//! OSV ecosystem names: a base (`Debian`) and an optional release (`11`,
//! `18.04:LTS`, `v3.11`), and how each ecosystem spells package names.

use std::fmt;

use vigil_version::Scheme;

/// An OSV ecosystem string split at its first `:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ecosystem {
    full: String,
    base_len: usize,
}

impl Ecosystem {
    /// Splits an OSV ecosystem string (`Debian:11` -> `Debian` + `11`).
    pub fn parse(s: &str) -> Ecosystem {
        let full = s.trim().to_owned();
        let base_len = full.find(':').unwrap_or(full.len());
        Ecosystem { full, base_len }
    }

    /// The ecosystem name without release (`Debian`).
    pub fn base(&self) -> &str {
        &self.full[..self.base_len]
    }

    /// The release, if any (`11`, `18.04:LTS`, `v3.11`).
    pub fn release(&self) -> Option<&str> {
        self.full.get(self.base_len + 1..).filter(|r| !r.is_empty())
    }

    /// The same ecosystem with its base spelled as OSV spells it
    /// (`debian:11` -> `Debian:11`); unknown bases are kept as given.
    pub fn canonical(&self) -> Ecosystem {
        match vigil_version::ECOSYSTEMS.iter().find(|(n, _)| n.eq_ignore_ascii_case(self.base())) {
            Some((name, _)) if *name != self.base() => {
                Ecosystem::parse(&format!("{name}{}", &self.full[self.base_len..]))
            }
            _ => self.clone(),
        }
    }

    /// The whole string as given.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The version scheme of this ecosystem, if Vigil knows it.
    pub fn scheme(&self) -> Option<Scheme> {
        Scheme::for_ecosystem(self.base())
    }

    /// True when an advisory for `record` applies to packages of `self`.
    ///
    /// Without a release on `self`, every release of the base matches. With
    /// one, the record's release must equal it or extend it with `:`
    /// (`Ubuntu:18.04` matches `Ubuntu:18.04:LTS`). Ubuntu Pro streams
    /// (`Ubuntu:Pro:...`) match only when asked for by name.
    pub fn covers(&self, record: &str) -> bool {
        let (base, release) = match record.split_once(':') {
            Some((b, r)) => (b, Some(r).filter(|r| !r.is_empty())),
            None => (record, None),
        };
        if !self.base().eq_ignore_ascii_case(base) {
            return false;
        }
        match (self.release(), release) {
            (None, Some(r)) => !r.starts_with("Pro:"),
            (None, None) => true,
            (Some(_), None) => true,
            (Some(want), Some(have)) => {
                have == want || have.strip_prefix(want).is_some_and(|rest| rest.starts_with(':'))
            }
        }
    }

    /// The canonical spelling of a package name in this ecosystem, used as
    /// the lookup key: PyPI names are PEP 503-normalised, NuGet and
    /// Packagist names are case-insensitive, everything else is exact.
    pub fn normalize_name(&self, name: &str) -> String {
        normalize_name(self.base(), name)
    }
}

/// See [`Ecosystem::normalize_name`].
pub fn normalize_name(base: &str, name: &str) -> String {
    let name = name.trim();
    match base {
        "PyPI" => {
            let mut out = String::with_capacity(name.len());
            let mut last_sep = false;
            for c in name.chars() {
                if matches!(c, '-' | '_' | '.') {
                    if !last_sep {
                        out.push('-');
                    }
                    last_sep = true;
                } else {
                    out.push(c.to_ascii_lowercase());
                    last_sep = false;
                }
            }
            out
        }
        "NuGet" | "Packagist" => name.to_ascii_lowercase(),
        _ => name.to_owned(),
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases() {
        let e = Ecosystem::parse("Alpine:v3.11");
        assert_eq!((e.base(), e.release()), ("Alpine", Some("v3.11")));
        let e = Ecosystem::parse("PyPI");
        assert_eq!((e.base(), e.release()), ("PyPI", None));
    }

    #[test]
    fn covers() {
        let want = Ecosystem::parse("Ubuntu:18.04");
        assert!(want.covers("Ubuntu:18.04:LTS"));
        assert!(!want.covers("Ubuntu:18.10"));
        assert!(!Ecosystem::parse("Debian:1").covers("Debian:11"));
        assert!(Ecosystem::parse("Debian").covers("Debian:11"));
        assert!(!Ecosystem::parse("Ubuntu").covers("Ubuntu:Pro:18.04:LTS"));
        assert!(Ecosystem::parse("Ubuntu:Pro:18.04").covers("Ubuntu:Pro:18.04:LTS"));
    }

    #[test]
    fn canonical_spelling() {
        assert_eq!(Ecosystem::parse("debian:11").canonical().as_str(), "Debian:11");
        assert_eq!(Ecosystem::parse("PYPI").canonical().as_str(), "PyPI");
        assert_eq!(Ecosystem::parse("Whatever:1").canonical().as_str(), "Whatever:1");
    }

    #[test]
    fn pypi_names() {
        assert_eq!(normalize_name("PyPI", "Django_REST.framework"), "django-rest-framework");
        assert_eq!(normalize_name("npm", "@Scope/Pkg"), "@Scope/Pkg");
    }
}

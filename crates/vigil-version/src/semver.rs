//! SemVer 2.0 ordering, read leniently as the advisory feeds need it (npm,
//! crates.io, Go, Hex, OSV `SEMVER` ranges, and Pub with its build rule).
//!
//! A leading `v`/`V` is ignored (Go writes `v1.2.3`); missing minor or patch
//! parts count as 0; parts after the third are build data; pre-release
//! identifiers compare numerically when both are numeric, numeric below
//! alphanumeric, then ASCII; build metadata (`+incompatible`) is ignored,
//! except in Pub where a build sorts above its absence and builds compare
//! like pre-releases. Go pseudo-versions (`v0.0.0-2021...-abcdef`) are
//! ordinary pre-releases and order correctly. Text that is not a version at
//! all sorts below every version, and such strings compare lexically.

use std::cmp::Ordering;

use crate::digits::{cmp_digits, cmp_identifiers, take_while};

#[derive(Debug)]
struct SemVer<'a> {
    core: [&'a str; 3],
    pre: Option<&'a str>,
    build: Option<&'a str>,
}

fn parse(s: &str) -> Option<SemVer<'_>> {
    let s = s.trim();
    let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
    let mut core = ["0"; 3];
    let mut rest = s;
    let mut count = 0;
    while count < 3 {
        let (digits, after) = take_while(rest, |b| b.is_ascii_digit());
        if digits.is_empty() {
            if count == 0 {
                return None;
            }
            break;
        }
        core[count] = digits;
        count += 1;
        rest = after;
        match rest.strip_prefix('.') {
            Some(after) if count < 3 && after.starts_with(|c: char| c.is_ascii_digit()) => rest = after,
            _ => break,
        }
    }
    let (before_build, build) = match rest.split_once('+') {
        Some((x, b)) => (x, Some(b)),
        None => (rest, None),
    };
    let pre = if let Some(p) = before_build.strip_prefix('-') {
        Some(p)
    } else if before_build.starts_with('.') {
        // A fourth numeric part and beyond: build data, as SemVer tools treat it.
        return Some(SemVer { core, pre: None, build: Some(before_build) });
    } else if before_build.is_empty() {
        None
    } else {
        // `1.2.3beta`: loose form, the tail is the pre-release.
        Some(before_build)
    };
    Some(SemVer { core, pre, build })
}

fn cmp_core(a: &SemVer<'_>, b: &SemVer<'_>) -> Ordering {
    (0..3).map(|i| cmp_digits(a.core[i], b.core[i])).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
}

fn cmp_pre(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => cmp_identifiers(x, y, str::cmp),
    }
}

fn compare_with(a: &str, b: &str, build_counts: bool) -> Ordering {
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => {
            let ord = cmp_core(&x, &y).then_with(|| cmp_pre(x.pre, y.pre));
            if !build_counts {
                return ord;
            }
            ord.then_with(|| match (x.build, y.build) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(p), Some(q)) => cmp_identifiers(p, q, str::cmp),
            })
        }
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => a.cmp(b),
    }
}

/// Compares two SemVer versions; build metadata is ignored.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_with(a, b, false)
}

/// Compares two Pub (Dart) versions: SemVer where a build sorts after its absence.
pub fn compare_pub(a: &str, b: &str) -> Ordering {
    compare_with(a, b, true)
}

/// True when `s` reads as a SemVer version (leniently).
pub fn is_valid(s: &str) -> bool {
    parse(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_forms() {
        assert_eq!(compare("v1.2.3+incompatible", "1.2.3"), Ordering::Equal);
        assert_eq!(compare("v0.0.0-20210101000000-abcdef123456", "v0.0.1"), Ordering::Less);
        assert_eq!(compare("1.2", "1.2.0"), Ordering::Equal);
        assert_eq!(compare("garbage", "0.0.0"), Ordering::Less);
    }
}

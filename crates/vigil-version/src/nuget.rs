//! NuGet ordering: `Major.Minor.Patch[.Revision][-prerelease][+metadata]`.
//!
//! Missing numeric parts are 0 (`1.0 == 1.0.0.0`); a pre-release sorts below
//! its release; pre-release labels compare SemVer-style but
//! case-insensitively; build metadata is ignored.

use std::cmp::Ordering;

use crate::digits::{cmp_digits, cmp_identifiers, is_digits};

fn split(s: &str) -> (Vec<&str>, Option<&str>) {
    let s = s.trim();
    let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
    let s = s.split_once('+').map_or(s, |(v, _)| v);
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (s, None),
    };
    (core.split('.').collect(), pre)
}

fn cmp_ci(a: &str, b: &str) -> Ordering {
    a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase())
}

/// Compares two NuGet versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ca, pa) = split(a);
    let (cb, pb) = split(b);
    for i in 0..ca.len().max(cb.len()) {
        let x = ca.get(i).copied().unwrap_or("0");
        let y = cb.get(i).copied().unwrap_or("0");
        // A part that is not a number (invalid input) sorts below numbers.
        let ord = match (is_digits(x), is_digits(y)) {
            (true, true) => cmp_digits(x, y),
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => cmp_ci(x, y),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    match (pa, pb) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => cmp_identifiers(x, y, cmp_ci),
    }
}

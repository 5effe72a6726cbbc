//! Plain dotted numeric versions: CRAN (`1.2-3`, parts split at `.` and `-`)
//! and Hackage (`1.2.0.1`). Parts compare numerically; when one version is a
//! prefix of the other, the longer one is larger (`0.1.0 < 0.1.0.0`).

use std::cmp::Ordering;

use crate::digits::{Numbers, cmp_segments};

fn cmp_parts<'a>(a: impl Iterator<Item = &'a str>, b: impl Iterator<Item = &'a str>) -> Ordering {
    cmp_segments(a.filter(|p| !p.is_empty()), b.filter(|p| !p.is_empty()), Numbers::AboveText, str::cmp)
}

/// Compares two CRAN versions.
pub fn compare_cran(a: &str, b: &str) -> Ordering {
    cmp_parts(a.trim().split(['.', '-']), b.trim().split(['.', '-']))
}

/// Compares two Hackage versions.
pub fn compare_hackage(a: &str, b: &str) -> Ordering {
    cmp_parts(a.trim().split('.'), b.trim().split('.'))
}

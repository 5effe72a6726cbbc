//! Plain dotted numeric versions: CRAN (`1.2-3`, parts split at `.` and `-`)
//! and Hackage (`1.2.0.1`). Parts compare numerically; when one version is a
//! prefix of the other, the longer one is larger (`0.1.0 < 0.1.0.0`).

use std::cmp::Ordering;

use crate::digits::{cmp_digits, is_digits};

fn cmp_parts<'a>(a: impl Iterator<Item = &'a str>, b: impl Iterator<Item = &'a str>) -> Ordering {
    let mut a = a.filter(|p| !p.is_empty());
    let mut b = b.filter(|p| !p.is_empty());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = match (is_digits(x), is_digits(y)) {
                    (true, true) => cmp_digits(x, y),
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => x.cmp(y),
                };
                if ord.is_ne() {
                    return ord;
                }
            }
        }
    }
}

/// Compares two CRAN versions.
pub fn compare_cran(a: &str, b: &str) -> Ordering {
    cmp_parts(a.trim().split(['.', '-']), b.trim().split(['.', '-']))
}

/// Compares two Hackage versions.
pub fn compare_hackage(a: &str, b: &str) -> Ordering {
    cmp_parts(a.trim().split('.'), b.trim().split('.'))
}

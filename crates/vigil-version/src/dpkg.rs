//! Debian and Ubuntu package versions, ordered exactly as `dpkg --compare-versions`.
//!
//! `[epoch:]upstream[-revision]`: the epoch is a number (absent means 0), the
//! revision is everything after the *last* hyphen (absent compares like `0`).
//! Upstream and revision are compared with dpkg's `verrevcmp`: alternating
//! non-digit and digit runs; in non-digit runs `~` sorts before everything,
//! even the end of the string, then letters, then all other characters;
//! digit runs compare numerically.

use std::cmp::Ordering;

use crate::digits::{cmp_digits, is_digits};

/// A parsed dpkg version borrowing from its input.
#[derive(Debug, Clone, Copy)]
struct DpkgVersion<'a> {
    epoch: &'a str,
    upstream: &'a str,
    revision: &'a str,
}

fn parse(s: &str) -> DpkgVersion<'_> {
    let s = s.trim();
    let (epoch, rest) = match s.split_once(':') {
        Some((e, rest)) if is_digits(e) => (e, rest),
        _ => ("0", s),
    };
    let (upstream, revision) = match rest.rfind('-') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    DpkgVersion { epoch, upstream, revision }
}

/// Weight of one byte in a non-digit run (dpkg's `order()`): `~` < end < letters < others.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp` on one upstream or revision string.
pub(crate) fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // Non-digit prefix.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied().filter(|c| !c.is_ascii_digit()));
            let bc = order(b.get(j).copied().filter(|c| !c.is_ascii_digit()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            if i < a.len() && !a[i].is_ascii_digit() {
                i += 1;
            }
            if j < b.len() && !b[j].is_ascii_digit() {
                j += 1;
            }
        }
        // Digit run.
        let si = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        let sj = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        // The slices hold ASCII digits only, so they are valid UTF-8.
        let da = std::str::from_utf8(&a[si..i]).unwrap_or("");
        let db = std::str::from_utf8(&b[sj..j]).unwrap_or("");
        let ord = cmp_digits(da, db);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Compares two Debian versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (parse(a), parse(b));
    cmp_digits(a.epoch, b.epoch)
        .then_with(|| verrevcmp(a.upstream, b.upstream))
        .then_with(|| verrevcmp(a.revision, b.revision))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_sorts_before_end() {
        assert_eq!(compare("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(compare("1.0~~", "1.0~"), Ordering::Less);
        assert_eq!(compare("1:0.1", "2.0"), Ordering::Greater);
        assert_eq!(compare("1.0+b1", "1.0"), Ordering::Greater);
    }
}

//! RPM versions (Red Hat, AlmaLinux, Rocky, SUSE, ...): `[epoch:]version[-release]`.
//!
//! The epoch counts only when it is all digits (absent means 0); the release
//! starts at the first hyphen and keeps it, so `1` < `1-` < `1-0`. Each part
//! is compared with `rpmvercmp`: separators (anything but ASCII letters,
//! digits, `~` and `^`) are skipped; `~` sorts before everything including
//! the end; `^` sorts after the end but before anything else; digit runs
//! compare numerically and beat letter runs; an empty part is the lowest.

use std::cmp::Ordering;

use crate::digits::{cmp_digits, is_digits};

fn parse(s: &str) -> (&str, &str, &str) {
    let s = s.trim();
    let (epoch, rest) = match s.split_once(':') {
        Some((e, rest)) if is_digits(e) => (e, rest),
        _ => ("0", s),
    };
    match rest.find('-') {
        Some(i) => (epoch, &rest[..i], &rest[i..]),
        None => (epoch, rest, ""),
    }
}

fn is_separator(c: u8) -> bool {
    !(c.is_ascii_alphanumeric() || c == b'~' || c == b'^')
}

/// `rpmvercmp` on one part of an EVR, with an empty part sorting lowest.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    match (a.is_empty(), b.is_empty()) {
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        _ => {}
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    loop {
        while i < a.len() && is_separator(a[i]) {
            i += 1;
        }
        while j < b.len() && is_separator(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(ca), Some(_)) = (ca, cb) else { break };
        let numeric = ca.is_ascii_digit();
        let class = |c: u8| {
            if numeric { c.is_ascii_digit() } else { c.is_ascii_alphabetic() }
        };
        let si = i;
        while i < a.len() && class(a[i]) {
            i += 1;
        }
        let sj = j;
        while j < b.len() && class(b[j]) {
            j += 1;
        }
        if sj == j {
            return if numeric { Ordering::Greater } else { Ordering::Less };
        }
        // Both slices are ASCII runs, so valid UTF-8.
        let sa = std::str::from_utf8(&a[si..i]).unwrap_or("");
        let sb = std::str::from_utf8(&b[sj..j]).unwrap_or("");
        let ord = if numeric { cmp_digits(sa, sb) } else { sa.cmp(sb) };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

/// Compares two RPM EVR strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, va, ra) = parse(a);
    let (eb, vb, rb) = parse(b);
    cmp_digits(ea, eb).then_with(|| rpmvercmp(va, vb)).then_with(|| rpmvercmp(ra, rb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_and_tilde() {
        assert_eq!(compare("1.0^git1", "1.0"), Ordering::Greater);
        assert_eq!(compare("1.0^git1", "1.0.1"), Ordering::Less);
        assert_eq!(compare("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(compare("1:1.0-1.el9", "2.0-1.el9"), Ordering::Greater);
    }
}

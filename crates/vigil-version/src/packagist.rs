//! Packagist (Composer) ordering, PHP `version_compare` style.
//!
//! A leading `v` is dropped, `-`, `_` and `+` become `.`, and a `.` is
//! inserted wherever digits meet other characters (`1.0rc1` is
//! `1.0.rc.1`). Parts compare numerically when both are numbers; otherwise
//! by special form: `dev` < `alpha`/`a` < `beta`/`b` < `RC`/`rc` < a number
//! < `pl`/`p` (prefix match, unknown words rank with `dev`). When one
//! version has extra parts, a following number makes it larger, a following
//! word is compared against a number.

use std::cmp::Ordering;

use crate::digits::{cmp_digits, is_digits};

fn canonical(v: &str) -> String {
    let v = v.trim();
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let mut out = String::with_capacity(v.len() + 4);
    let mut prev: Option<char> = None;
    for c in v.chars() {
        let c = if matches!(c, '-' | '_' | '+') { '.' } else { c };
        if let Some(p) = prev
            && p != '.'
            && c != '.'
            && p.is_ascii_digit() != c.is_ascii_digit()
        {
            out.push('.');
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// The number standing in for a numeric part when it meets a word.
const NUMBER: &str = "#";

fn special_weight(s: &str) -> u8 {
    if s.starts_with("RC") {
        return 3;
    }
    const SPECIALS: &[&str] = &["dev", "a", "b", "rc", NUMBER, "p"];
    SPECIALS.iter().position(|p| s.starts_with(p)).map_or(0, |i| i as u8)
}

fn cmp_parts(a: &[&str], b: &[&str]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = match (is_digits(x), is_digits(y)) {
            (true, true) => cmp_digits(x, y),
            (true, false) => special_weight(NUMBER).cmp(&special_weight(y)),
            (false, true) => special_weight(x).cmp(&special_weight(NUMBER)),
            (false, false) => special_weight(x).cmp(&special_weight(y)),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    match a.len().cmp(&b.len()) {
        Ordering::Greater if is_digits(a[b.len()]) => Ordering::Greater,
        Ordering::Greater => cmp_parts(&a[b.len()..], &[NUMBER]),
        Ordering::Less if is_digits(b[a.len()]) => Ordering::Less,
        Ordering::Less => cmp_parts(&[NUMBER], &b[a.len()..]),
        Ordering::Equal => Ordering::Equal,
    }
}

/// Compares two Packagist versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ca, cb) = (canonical(a), canonical(b));
    let pa: Vec<&str> = ca.split('.').collect();
    let pb: Vec<&str> = cb.split('.').collect();
    cmp_parts(&pa, &pb)
}

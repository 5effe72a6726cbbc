//! Alpine apk versions: `number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}`.
//!
//! Numbers compare numerically, except that after the first component a
//! number with a leading zero compares as a string (apk's rule for
//! `1.02` < `1.1`); a single trailing letter sorts above none; suffixes sort
//! `_alpha` < `_beta` < `_pre` < `_rc` < (none) < `_cvs` < `_svn` < `_git` <
//! `_hg` < `_p`; `-rN` is the package release. A string that does not parse
//! this way is invalid and sorts below the same version without the leftover;
//! two invalid versions of the same shape compare as strings.

use std::cmp::Ordering;

use crate::digits::{cmp_digits, take_while};

/// Suffix names in sort order; "no suffix" sits between `rc` and `cvs`.
const SUFFIXES: &[&str] = &["alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p"];
const NO_SUFFIX: usize = 4;

#[derive(Debug)]
struct ApkVersion<'a> {
    original: &'a str,
    /// Text followed the version where only `-rN` may stand.
    invalid: bool,
    numbers: Vec<&'a str>,
    letter: Option<u8>,
    suffixes: Vec<(usize, &'a str)>,
    release: &'a str,
    remainder: &'a str,
}

fn parse(s: &str) -> ApkVersion<'_> {
    let mut v = ApkVersion {
        original: s,
        invalid: false,
        numbers: Vec::new(),
        letter: None,
        suffixes: Vec::new(),
        release: "0",
        remainder: "",
    };
    let mut s = s;
    // Number components: digits, each optionally followed by a dot.
    loop {
        let (digits, rest) = take_while(s, |b| b.is_ascii_digit());
        if digits.is_empty() {
            break;
        }
        v.numbers.push(digits);
        s = rest;
        match s.strip_prefix('.') {
            Some(rest) => s = rest,
            None => break,
        }
    }
    if let Some(&c) = s.as_bytes().first()
        && c.is_ascii_lowercase()
    {
        v.letter = Some(c);
        s = &s[1..];
    }
    // Suffixes: `_name[digits]`, repeated.
    while let Some(rest) = s.strip_prefix('_') {
        let (name, after) = take_while(rest, |b| b.is_ascii_lowercase());
        let Some(weight) = SUFFIXES.iter().position(|&n| n == name && !n.is_empty()) else {
            break;
        };
        let (number, after) = take_while(after, |b| b.is_ascii_digit());
        v.suffixes.push((weight, number));
        s = after;
    }
    // Commit hash `~[0-9a-f]+` is ignored for ordering.
    if let Some(rest) = s.strip_prefix('~') {
        let (hash, after) = take_while(rest, |b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hash.is_empty() {
            s = after;
        }
    }
    if !s.is_empty() {
        match s.strip_prefix("-r") {
            Some(rest) => {
                let (number, after) = take_while(rest, |b| b.is_ascii_digit());
                v.release = number;
                s = after;
            }
            None => v.invalid = true,
        }
    }
    v.remainder = s;
    v
}

fn cmp_numbers(a: &ApkVersion<'_>, b: &ApkVersion<'_>) -> Ordering {
    let n = a.numbers.len().max(b.numbers.len());
    for i in 0..n {
        let x = a.numbers.get(i).copied().unwrap_or("0");
        let y = b.numbers.get(i).copied().unwrap_or("0");
        let ord = if i > 0 && (x.starts_with('0') || y.starts_with('0')) { x.cmp(y) } else { cmp_digits(x, y) };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

fn cmp_suffixes(a: &ApkVersion<'_>, b: &ApkVersion<'_>) -> Ordering {
    let n = a.suffixes.len().max(b.suffixes.len());
    for i in 0..n {
        let (wx, nx) = a.suffixes.get(i).copied().unwrap_or((NO_SUFFIX, "0"));
        let (wy, ny) = b.suffixes.get(i).copied().unwrap_or((NO_SUFFIX, "0"));
        let ord = wx.cmp(&wy).then_with(|| cmp_digits(nx, ny));
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// The string an invalid version is finally ordered by. Text after a
/// hyphen sits where the `-rN` build component belongs and is ignored, as
/// apk 3.x ignores it (`1-ruff2 == 1--ruff1`); any other leftover makes the
/// whole string the tie-breaker (`0.8.21.r2 < 0.8.21r2`).
fn tail<'a>(v: &ApkVersion<'a>) -> &'a str {
    if v.invalid && !v.remainder.starts_with('-') { v.original } else { "" }
}

/// Compares two apk versions. The key is, in order: numbers, letter,
/// suffixes, release, whether text is left over, and [`tail`]. Being one lexicographic key, the order is total.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (parse(a.trim()), parse(b.trim()));
    cmp_numbers(&a, &b)
        .then_with(|| a.letter.is_some().cmp(&b.letter.is_some()).then(a.letter.cmp(&b.letter)))
        .then_with(|| cmp_suffixes(&a, &b))
        .then_with(|| cmp_digits(a.release, b.release))
        .then_with(|| a.remainder.is_empty().cmp(&b.remainder.is_empty()))
        .then_with(|| tail(&a).cmp(tail(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_order() {
        assert_eq!(compare("1.0_alpha1", "1.0_beta1"), Ordering::Less);
        assert_eq!(compare("1.0", "1.0_p1"), Ordering::Less);
        assert_eq!(compare("1.0_rc1", "1.0"), Ordering::Less);
        assert_eq!(compare("1.0-r1", "1.0-r10"), Ordering::Less);
        assert_eq!(compare("1.0a", "1.0"), Ordering::Greater);
    }
}

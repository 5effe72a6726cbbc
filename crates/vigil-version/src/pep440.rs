//! PEP 440 (PyPI) ordering, as Python's `packaging.version` implements it.
//!
//! Pitfalls handled: case-insensitivity and a leading `v`; `N!` epochs;
//! trailing zeros in the release are insignificant (`1.0 == 1.0.0`);
//! alternative spellings (`alpha`/`a`, `c`/`pre`/`preview`/`rc`,
//! `rev`/`r`/`post`, implicit post `1.0-1`, separators `.-_`); a dev release
//! of a final version sorts before its pre-releases (`1.0.dev0 < 1.0a0`);
//! post releases sort after the final; local versions (`+abc.1`) sort after
//! the public version, numeric segments above alphanumeric ones. Strings that
//! are not PEP 440 (legacy versions such as `0.1-bulbasaur`) sort below every
//! valid version and compare among themselves segment by segment.

use std::cmp::Ordering;

use crate::digits::{cmp_digits, is_digits, take_while};

/// Pre-release kind, in sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PreKind {
    Alpha,
    Beta,
    Rc,
}

#[derive(Debug)]
struct Pep440 {
    epoch: String,
    release: Vec<String>,
    pre: Option<(PreKind, String)>,
    post: Option<String>,
    dev: Option<String>,
    local: Vec<String>,
}

/// Skips one optional separator (`.`, `-` or `_`).
fn skip_sep(s: &str) -> &str {
    s.strip_prefix(['.', '-', '_']).unwrap_or(s)
}

/// Reads `[sep]word[sep][digits]` for one of `words`; returns the word's
/// canonical index, the number (default "0") and the rest.
fn tagged<'a>(s: &'a str, words: &[(&str, usize)]) -> Option<(usize, String, &'a str)> {
    let t = skip_sep(s);
    let (word, rest) = take_while(t, |b| b.is_ascii_alphabetic());
    let &(_, kind) = words.iter().find(|(w, _)| *w == word)?;
    let after_sep = skip_sep(rest);
    let (num, rest2) = take_while(after_sep, |b| b.is_ascii_digit());
    if num.is_empty() {
        Some((kind, "0".to_owned(), rest))
    } else {
        Some((kind, num.to_owned(), rest2))
    }
}

fn parse(input: &str) -> Option<Pep440> {
    let lower = input.trim().to_ascii_lowercase();
    let mut s = lower.strip_prefix('v').unwrap_or(&lower);
    let mut v = Pep440 {
        epoch: "0".into(),
        release: Vec::new(),
        pre: None,
        post: None,
        dev: None,
        local: Vec::new(),
    };
    let (first, rest) = take_while(s, |b| b.is_ascii_digit());
    if first.is_empty() {
        return None;
    }
    if let Some(r) = rest.strip_prefix('!') {
        v.epoch = first.to_owned();
        s = r;
    }
    loop {
        let (n, rest) = take_while(s, |b| b.is_ascii_digit());
        if n.is_empty() {
            return None;
        }
        v.release.push(n.to_owned());
        s = rest;
        match s.strip_prefix('.') {
            Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => s = r,
            _ => break,
        }
    }
    const PRE: &[(&str, usize)] = &[
        ("a", 0),
        ("alpha", 0),
        ("b", 1),
        ("beta", 1),
        ("c", 2),
        ("rc", 2),
        ("pre", 2),
        ("preview", 2),
    ];
    if let Some((kind, n, rest)) = tagged(s, PRE) {
        let kind = [PreKind::Alpha, PreKind::Beta, PreKind::Rc][kind];
        v.pre = Some((kind, n));
        s = rest;
    }
    if let Some((_, n, rest)) = tagged(s, &[("post", 0), ("rev", 0), ("r", 0)]) {
        v.post = Some(n);
        s = rest;
    } else if let Some(r) = s.strip_prefix('-') {
        let (n, rest) = take_while(r, |b| b.is_ascii_digit());
        if !n.is_empty() {
            v.post = Some(n.to_owned());
            s = rest;
        }
    }
    if let Some((_, n, rest)) = tagged(s, &[("dev", 0)]) {
        v.dev = Some(n);
        s = rest;
    }
    if let Some(local) = s.strip_prefix('+') {
        if local.is_empty() {
            return None;
        }
        for part in local.split(['.', '-', '_']) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return None;
            }
            v.local.push(part.to_owned());
        }
        s = "";
    }
    s.is_empty().then_some(v)
}

fn cmp_release(a: &[String], b: &[String]) -> Ordering {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            cmp_digits(
                a.get(i).map_or("0", String::as_str),
                b.get(i).map_or("0", String::as_str),
            )
        })
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Pre-release key: a dev-only final release sorts before any pre-release,
/// a final release after all of them.
fn pre_key(v: &Pep440) -> (i8, Option<(PreKind, &str)>) {
    match &v.pre {
        Some((k, n)) => (1, Some((*k, n.as_str()))),
        None if v.post.is_none() && v.dev.is_some() => (0, None),
        None => (2, None),
    }
}

fn cmp_opt_num(a: Option<&str>, b: Option<&str>, absent_high: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => {
            if absent_high {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (Some(_), None) => {
            if absent_high {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (Some(x), Some(y)) => cmp_digits(x, y),
    }
}

fn cmp_local(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
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
    a.len().cmp(&b.len())
}

fn cmp_valid(a: &Pep440, b: &Pep440) -> Ordering {
    let (pa, pb) = (pre_key(a), pre_key(b));
    cmp_digits(&a.epoch, &b.epoch)
        .then_with(|| cmp_release(&a.release, &b.release))
        .then_with(|| {
            pa.0.cmp(&pb.0).then_with(|| match (pa.1, pb.1) {
                (Some((ka, na)), Some((kb, nb))) => ka.cmp(&kb).then_with(|| cmp_digits(na, nb)),
                _ => Ordering::Equal,
            })
        })
        .then_with(|| cmp_opt_num(a.post.as_deref(), b.post.as_deref(), false))
        .then_with(|| cmp_opt_num(a.dev.as_deref(), b.dev.as_deref(), true))
        .then_with(|| cmp_local(&a.local, &b.local))
}

/// Legacy (non-PEP 440) versions: digit runs compare numerically, other runs
/// lexically, separators are ignored.
fn cmp_legacy(a: &str, b: &str) -> Ordering {
    fn parts(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            let digit = rest.as_bytes()[0].is_ascii_digit();
            let alpha = rest.as_bytes()[0].is_ascii_alphabetic();
            let (run, after) = if digit {
                take_while(rest, |b| b.is_ascii_digit())
            } else if alpha {
                take_while(rest, |b| b.is_ascii_alphabetic())
            } else {
                let n = rest.chars().next().map_or(1, char::len_utf8);
                rest.split_at(n)
            };
            if digit || alpha {
                out.push(run);
            }
            rest = after;
        }
        out
    }
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(&pb) {
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
    pa.len().cmp(&pb.len()).then_with(|| a.cmp(b))
}

/// Compares two PyPI versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => cmp_valid(&x, &y),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => cmp_legacy(
            &a.trim().to_ascii_lowercase(),
            &b.trim().to_ascii_lowercase(),
        ),
    }
}

/// True when `s` is a valid PEP 440 version.
pub fn is_valid(s: &str) -> bool {
    parse(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(compare("1.0", "1.0.0"), Ordering::Equal);
        assert_eq!(compare("1.0-1", "1.0.post1"), Ordering::Equal);
        assert_eq!(compare("1.0c1", "1.0rc1"), Ordering::Equal);
        assert_eq!(compare("1.0.dev0", "1.0a0"), Ordering::Less);
        assert_eq!(compare("1.0+abc", "1.0"), Ordering::Greater);
        assert_eq!(compare("1!0.1", "2.0"), Ordering::Greater);
        assert!(!is_valid("0.1-bulbasaur"));
    }
}

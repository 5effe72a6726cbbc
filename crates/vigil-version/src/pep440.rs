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

use crate::digits::{Numbers, cmp_digits, cmp_segments, take_while};

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

/// The string with and without one leading separator (`.`, `-` or `_`).
fn opt_sep(s: &str) -> Vec<&str> {
    match s.strip_prefix(['.', '-', '_']) {
        Some(rest) => vec![rest, s],
        None => vec![s],
    }
}

/// Every way `[sep]word[sep][digits]` can start `s`, for `words` in the
/// regex's alternation order: `(canonical index, number, rest)`.
fn tagged<'a>(s: &'a str, words: &[(&str, usize)]) -> Vec<(usize, String, &'a str)> {
    let mut out = Vec::new();
    for s1 in opt_sep(s) {
        for &(word, kind) in words {
            let Some(after_word) = s1.strip_prefix(word) else {
                continue;
            };
            for s2 in opt_sep(after_word) {
                let (num, rest) = take_while(s2, |b| b.is_ascii_digit());
                if !num.is_empty() {
                    out.push((kind, num.to_owned(), rest));
                }
            }
            for s2 in opt_sep(after_word) {
                out.push((kind, "0".to_owned(), s2));
            }
        }
    }
    out
}

/// Pre-release spellings in PEP 440's regex order, with their kind.
const PRE: &[(&str, usize)] =
    &[("a", 0), ("b", 1), ("c", 2), ("rc", 2), ("alpha", 0), ("beta", 1), ("pre", 2), ("preview", 2)];
/// Post-release spellings.
const POST: &[(&str, usize)] = &[("post", 0), ("rev", 0), ("r", 0)];

/// The parts after the release: pre, post, dev and local.
type Tail = (Option<(PreKind, String)>, Option<String>, Option<String>, Vec<String>);

/// Parses what follows the release the way PEP 440's regex does: each
/// optional part is tried present (in alternation order) before absent, and
/// the first reading that consumes the whole string wins.
fn parse_tail(s: &str) -> Option<Tail> {
    let mut pres: Vec<(Option<(PreKind, String)>, &str)> = tagged(s, PRE)
        .into_iter()
        .map(|(k, n, rest)| (Some(([PreKind::Alpha, PreKind::Beta, PreKind::Rc][k], n)), rest))
        .collect();
    pres.push((None, s));
    for (pre, r1) in pres {
        let mut posts: Vec<(Option<String>, &str)> = Vec::new();
        if let Some(r) = r1.strip_prefix('-') {
            let (n, rest) = take_while(r, |b| b.is_ascii_digit());
            if !n.is_empty() {
                posts.push((Some(n.to_owned()), rest));
            }
        }
        posts.extend(tagged(r1, POST).into_iter().map(|(_, n, rest)| (Some(n), rest)));
        posts.push((None, r1));
        for (post, r2) in posts {
            let mut devs: Vec<(Option<String>, &str)> =
                tagged(r2, &[("dev", 0)]).into_iter().map(|(_, n, rest)| (Some(n), rest)).collect();
            devs.push((None, r2));
            for (dev, r3) in devs {
                if let Some(local) = parse_local(r3) {
                    return Some((pre, post, dev, local));
                }
            }
        }
    }
    None
}

/// `+label[.-_label]...` or nothing.
fn parse_local(s: &str) -> Option<Vec<String>> {
    if s.is_empty() {
        return Some(Vec::new());
    }
    let local = s.strip_prefix('+')?;
    let mut parts = Vec::new();
    for part in local.split(['.', '-', '_']) {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        parts.push(part.to_owned());
    }
    Some(parts)
}

fn parse(input: &str) -> Option<Pep440> {
    let input = input.trim();
    // Fast path: a plain release (`1.2.3`), the common case.
    if !input.is_empty()
        && input.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && input.split('.').all(|p| !p.is_empty())
    {
        let release = input.split('.').map(str::to_owned).collect();
        return Some(Pep440 { epoch: "0".into(), release, pre: None, post: None, dev: None, local: Vec::new() });
    }
    let lower = input.to_ascii_lowercase();
    let mut s = lower.strip_prefix('v').unwrap_or(&lower);
    let mut epoch = "0".to_owned();
    let (first, rest) = take_while(s, |b| b.is_ascii_digit());
    if first.is_empty() {
        return None;
    }
    if let Some(r) = rest.strip_prefix('!') {
        epoch = first.to_owned();
        s = r;
    }
    let mut release = Vec::new();
    loop {
        let (n, rest) = take_while(s, |b| b.is_ascii_digit());
        if n.is_empty() {
            return None;
        }
        release.push(n.to_owned());
        s = rest;
        match s.strip_prefix('.') {
            Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => s = r,
            _ => break,
        }
    }
    let (pre, post, dev, local) = parse_tail(s)?;
    Some(Pep440 { epoch, release, pre, post, dev, local })
}

fn cmp_release(a: &[String], b: &[String]) -> Ordering {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| cmp_digits(a.get(i).map_or("0", String::as_str), b.get(i).map_or("0", String::as_str)))
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
    cmp_segments(a.iter().map(String::as_str), b.iter().map(String::as_str), Numbers::AboveText, str::cmp)
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
    cmp_segments(parts(a), parts(b), Numbers::AboveText, str::cmp).then_with(|| a.cmp(b))
}

/// Compares two PyPI versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => cmp_valid(&x, &y),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => cmp_legacy(&a.trim().to_ascii_lowercase(), &b.trim().to_ascii_lowercase()),
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

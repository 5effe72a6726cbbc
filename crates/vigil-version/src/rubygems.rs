//! RubyGems ordering, as `Gem::Version#<=>`.
//!
//! Every `-` is first read as `.pre.`, as RubyGems rewrites it
//! (`1.0-rc1` is `1.0.pre.rc1`, a pre-release that sorts above `1.0.rc1`, and
//! `1.0-1` is below `1.0`). The version is then split into digit and letter runs
//! (`1.0.a10` is `[1, 0, "a", 10]`); trailing zeros of the numeric part and of the
//! pre-release part are dropped; a letter segment makes a pre-release and
//! sorts below any number; a missing segment counts as 0.

use std::cmp::Ordering;

use crate::digits::{cmp_digits, is_zero, take_while};

#[derive(Debug, PartialEq, Eq)]
enum Segment<'a> {
    Num(&'a str),
    Str(&'a str),
}

fn segments(s: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while let Some(&c) = rest.as_bytes().first() {
        if c.is_ascii_digit() {
            let (run, after) = take_while(rest, |b| b.is_ascii_digit());
            out.push(Segment::Num(run));
            rest = after;
        } else if c.is_ascii_alphabetic() {
            let (run, after) = take_while(rest, |b| b.is_ascii_alphabetic());
            out.push(Segment::Str(run));
            rest = after;
        } else if c == b'-' {
            // `gsub("-", ".pre.")` in `Gem::Version.new`.
            out.push(Segment::Str("pre"));
            rest = &rest[1..];
        } else {
            rest = &rest[rest.chars().next().map_or(1, char::len_utf8)..];
        }
    }
    out
}

/// `canonical_segments`: trailing zeros dropped from the release part and
/// from the pre-release part separately.
fn canonical(s: &str) -> Vec<Segment<'_>> {
    let mut segs = segments(s);
    let split = segs.iter().position(|x| matches!(x, Segment::Str(_))).unwrap_or(segs.len());
    let mut pre = segs.split_off(split);
    let trim = |v: &mut Vec<Segment<'_>>| {
        while matches!(v.last(), Some(Segment::Num(n)) if is_zero(n)) {
            v.pop();
        }
    };
    trim(&mut segs);
    trim(&mut pre);
    segs.extend(pre);
    segs
}

/// Compares two RubyGems versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (canonical(a), canonical(b));
    let zero = Segment::Num("0");
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).unwrap_or(&zero);
        let y = b.get(i).unwrap_or(&zero);
        let ord = match (x, y) {
            (Segment::Num(p), Segment::Num(q)) => cmp_digits(p, q),
            (Segment::Str(_), Segment::Num(_)) => Ordering::Less,
            (Segment::Num(_), Segment::Str(_)) => Ordering::Greater,
            (Segment::Str(p), Segment::Str(q)) => p.cmp(q),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    Ordering::Equal
}

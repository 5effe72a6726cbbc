//! Conan versions (ConanCenter), ordered as Conan 2's own
//! `conan.internal.model.version.Version` orders them.
//!
//! A version is `main[-pre][+build]`: the build is what follows the last
//! `+`, the pre-release what follows the first `-` before it; each part is
//! a `.`-separated list of items, an item a number when it is all digits,
//! else text. Trailing zero numbers do not count (`1.0 = 1.0.0 = 1`). Main
//! parts compare item by item (a shorter list that is a prefix sorts
//! first); a pre-release sorts below the same main version without one,
//! and otherwise pre-releases compare after the main parts; a build sorts
//! above its absence, then builds compare.
//!
//! Numbers compare numerically. Conan compares a number with a text item
//! by their spelling (`"10" < "1q"`), which is not transitive (`2 < 10`,
//! `10 < 1q`, `1q < 2`). Vigil keeps the order total: text items that start
//! with digits (`1q`, `10rc`) compare by that number first, then by the
//! rest, below or above numbers as Conan has them; so `1.1.10 > 1.1.1q`
//! here where Conan says `<`. Every other comparison is Conan's, checked
//! against Conan itself on generated pairs (see `tests/oracles.rs`).
//! Numbers are ASCII digits (Python's `int()` would also take `+1` or
//! `1_000`, which no ConanCenter version uses).

use std::cmp::Ordering;

use crate::digits::{cmp_digits, is_digits, is_zero, take_while};

/// One `.`-separated item.
#[derive(Debug, Clone, Copy)]
enum Item<'a> {
    Number(&'a str),
    Text(&'a str),
}

/// Where an item sorts among all items: text that cannot start a number
/// (`!`, `-`) below numbers, numbers and digit-led text by their number,
/// other text (letters) above.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    BelowNumbers,
    Numeric,
    AboveNumbers,
}

impl Item<'_> {
    fn class(&self) -> Class {
        match self {
            Item::Number(_) => Class::Numeric,
            Item::Text(t) => match t.bytes().next() {
                Some(b) if b.is_ascii_digit() => Class::Numeric,
                Some(b) if b > b'9' => Class::AboveNumbers,
                _ => Class::BelowNumbers,
            },
        }
    }

    fn text(&self) -> &str {
        match self {
            Item::Number(t) | Item::Text(t) => t,
        }
    }
}

fn cmp_item(a: &Item<'_>, b: &Item<'_>) -> Ordering {
    a.class().cmp(&b.class()).then_with(|| match (a, b) {
        (Item::Number(x), Item::Number(y)) => cmp_digits(x, y),
        _ if a.class() == Class::Numeric => {
            let (x_digits, x_rest) = take_while(a.text(), |b| b.is_ascii_digit());
            let (y_digits, y_rest) = take_while(b.text(), |b| b.is_ascii_digit());
            cmp_digits(x_digits, y_digits).then_with(|| x_rest.cmp(y_rest)).then_with(|| {
                // Same number and rest: `01a` against `1a` by spelling; a number's own spelling does not matter.
                match (a, b) {
                    (Item::Text(x), Item::Text(y)) => x.cmp(y),
                    _ => Ordering::Equal,
                }
            })
        }
        _ => a.text().cmp(b.text()),
    })
}

/// The items that count: trailing zero numbers dropped.
fn items(part: &str) -> Vec<Item<'_>> {
    let mut out: Vec<Item<'_>> =
        part.split('.').map(|i| if is_digits(i) { Item::Number(i) } else { Item::Text(i) }).collect();
    while matches!(out.last(), Some(Item::Number(n)) if is_zero(n)) {
        out.pop();
    }
    out
}

fn cmp_items(a: &[Item<'_>], b: &[Item<'_>]) -> Ordering {
    a.iter().zip(b).map(|(x, y)| cmp_item(x, y)).find(|o| o.is_ne()).unwrap_or_else(|| a.len().cmp(&b.len()))
}

struct Version<'a> {
    main: Vec<Item<'a>>,
    pre: Option<Vec<Item<'a>>>,
    build: Option<Vec<Item<'a>>>,
}

fn parse(s: &str) -> Version<'_> {
    let (rest, build) = match s.rsplit_once('+') {
        Some((r, b)) => (r, Some(items(b))),
        None => (s, None),
    };
    let (main, pre) = match rest.split_once('-') {
        Some((m, p)) => (m, Some(items(p))),
        None => (rest, None),
    };
    Version { main: items(main), pre, build }
}

fn cmp_optional(a: &Option<Vec<Item<'_>>>, b: &Option<Vec<Item<'_>>>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => cmp_items(x, y),
    }
}

/// Compares two Conan versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (x, y) = (parse(a.trim()), parse(b.trim()));
    let main = cmp_items(&x.main, &y.main);
    match (&x.pre, &y.pre) {
        (Some(_), Some(_)) => {
            main.then_with(|| cmp_optional(&x.pre, &y.pre)).then_with(|| cmp_optional(&x.build, &y.build))
        }
        (Some(_), None) => main.then(Ordering::Less),
        (None, Some(_)) => main.then(Ordering::Greater),
        (None, None) => main.then_with(|| cmp_optional(&x.build, &y.build)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conan_orders() {
        let less = [
            ("1.2.11", "1.2.13"),
            ("1.2.9", "1.2.10"),
            ("1.1.1", "1.1.1q"),
            ("1.1.1q", "1.1.1t"),
            ("3.0.0-rc1", "3.0.0"),
            ("1.0", "1.0+b1"),
            ("1.0-pre+b1", "1.0-pre+b2"),
            ("1.0-alpha", "1.0-beta"),
            ("1.0-rc", "1.0.1-alpha"),
            ("cci.20200101", "cci.20210101"),
            ("1.0", "cci.20200101"),
        ];
        for (a, b) in less {
            assert_eq!(compare(a, b), Ordering::Less, "{a} < {b}");
            assert_eq!(compare(b, a), Ordering::Greater, "{b} > {a}");
        }
        for (a, b) in [("1.0", "1.0.0"), ("1", "1.0.0.0"), ("1.0-rc.0", "1.0-rc"), ("01.2", "1.2")] {
            assert_eq!(compare(a, b), Ordering::Equal, "{a} = {b}");
        }
    }
}

//! Maven ordering, following `org.apache.maven.artifact.versioning.ComparableVersion`.
//!
//! The version is lower-cased and split into items at `.` and `-` and at
//! every switch between digits and letters; a `-` (or a letter/digit switch)
//! opens a nested list. Trailing "null" items (`0`, `""`, `ga`, `final`,
//! `release`) are dropped from each list. Qualifiers sort `alpha` < `beta` <
//! `milestone` < `rc` = `cr` < `snapshot` < (release) < `sp` < any other
//! qualifier (lexically); `a1`/`b1`/`m1` mean alpha/beta/milestone when a
//! digit follows. Numbers beat lists, lists beat qualifiers.

use std::cmp::Ordering;

use crate::digits::{cmp_digits, is_zero};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Int(String),
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: &[&str] = &["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: usize = 5;

/// Sort key of a qualifier: its position in [`QUALIFIERS`], or after all of
/// them for unknown ones (compared lexically among themselves).
fn qualifier_key(q: &str) -> (usize, &str) {
    let q = match q {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    match QUALIFIERS.iter().position(|&k| k == q) {
        Some(i) => (i, ""),
        None => (QUALIFIERS.len(), q),
    }
}

fn string_item(s: &str, followed_by_digit: bool) -> Item {
    let s = if followed_by_digit && s.len() == 1 {
        match s {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            other => other,
        }
    } else {
        s
    };
    Item::Str(s.to_owned())
}

fn parse_item(buf: &str, is_digit: bool) -> Item {
    if is_digit {
        let trimmed = buf.trim_start_matches('0');
        Item::Int(if trimmed.is_empty() { "0".into() } else { trimmed.into() })
    } else {
        string_item(buf, false)
    }
}

fn is_null(item: &Item) -> bool {
    match item {
        Item::Int(n) => is_zero(n),
        Item::Str(s) => qualifier_key(s).0 == RELEASE_INDEX,
        Item::List(l) => l.is_empty(),
    }
}

fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if is_null(&list[i]) {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// Builds the nested item tree. Lists are kept on a stack of vectors and
/// folded into their parent when closed.
fn parse(version: &str) -> Vec<Item> {
    let v = version.trim().to_ascii_lowercase();
    let bytes = v.as_bytes();
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0;
    let open = |stack: &mut Vec<Vec<Item>>| stack.push(Vec::new());
    for (i, &c) in bytes.iter().enumerate() {
        let top = stack.len() - 1;
        if c == b'.' {
            if i == start {
                stack[top].push(Item::Int("0".into()));
            } else {
                stack[top].push(parse_item(&v[start..i], is_digit));
            }
            start = i + 1;
        } else if c == b'-' {
            if i == start {
                stack[top].push(Item::Int("0".into()));
            } else {
                stack[top].push(parse_item(&v[start..i], is_digit));
            }
            start = i + 1;
            open(&mut stack);
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                stack[top].push(string_item(&v[start..i], true));
                start = i;
                open(&mut stack);
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                stack[top].push(parse_item(&v[start..i], true));
                start = i;
                open(&mut stack);
            }
            is_digit = false;
        }
    }
    if v.len() > start {
        let top = stack.len() - 1;
        stack[top].push(parse_item(&v[start..], is_digit));
    }
    while stack.len() > 1 {
        let mut list = stack.pop().unwrap_or_default();
        normalize(&mut list);
        // A null between two hyphens leaves a nested list holding only a
        // list (`1-ga-1`); the POM version-order specification trims such a
        // null away entirely, so `1-ga-1 == 1-1`: lift the inner list up.
        if let [Item::List(inner)] = list.as_mut_slice() {
            list = std::mem::take(inner);
        }
        let top = stack.len() - 1;
        stack[top].push(Item::List(list));
    }
    let mut root = stack.pop().unwrap_or_default();
    normalize(&mut root);
    root
}

/// Compares an item with "nothing" (a missing item in the shorter list).
fn cmp_to_null(item: &Item) -> Ordering {
    match item {
        Item::Int(n) => {
            if is_zero(n) {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        Item::Str(s) => qualifier_key(s).cmp(&(RELEASE_INDEX, "")),
        // Maven looks at the first item only, which is not transitive
        // (`-.l` would equal `""` yet sort above `v98`); comparing the whole
        // list with an empty one gives the same answer on every real version.
        Item::List(l) => cmp_lists(l, &[]),
    }
}

/// Rank of an item's kind when kinds differ: lists > qualifiers.
fn kind_rank(item: &Item) -> u8 {
    u8::from(matches!(item, Item::List(_)))
}

/// Items of the same kind compare by value, numbers beat everything else.
/// A qualifier and a list first compare by where each stands against
/// "nothing" (below, equal to, or above a release), then lists beat
/// qualifiers. Maven ranks them by kind alone, which is not transitive once
/// missing items are padded with nothing (`v98` < `-.l` = `""` < `v98`); the
/// two agree on every real version in the corpus.
fn cmp_item(a: &Item, b: &Item) -> Ordering {
    match (a, b) {
        (Item::Int(x), Item::Int(y)) => cmp_digits(x, y),
        (Item::Str(x), Item::Str(y)) => qualifier_key(x).cmp(&qualifier_key(y)),
        (Item::List(x), Item::List(y)) => cmp_lists(x, y),
        (Item::Int(_), _) => Ordering::Greater,
        (_, Item::Int(_)) => Ordering::Less,
        _ => {
            let (na, nb) = (cmp_to_null(a), cmp_to_null(b));
            na.cmp(&nb).then_with(|| kind_rank(a).cmp(&kind_rank(b)))
        }
    }
}

fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let ord = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => cmp_item(x, y),
            (Some(x), None) => cmp_to_null(x),
            (None, Some(y)) => cmp_to_null(y).reverse(),
            (None, None) => Ordering::Equal,
        };
        if ord.is_ne() {
            return ord;
        }
    }
    Ordering::Equal
}

/// Compares two Maven versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    cmp_lists(&parse(a), &parse(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifiers() {
        assert_eq!(compare("1.0-alpha1", "1.0-beta1"), Ordering::Less);
        assert_eq!(compare("1.0-SNAPSHOT", "1.0"), Ordering::Less);
        assert_eq!(compare("1.0", "1.0-sp1"), Ordering::Less);
        assert_eq!(compare("1.0.0", "1"), Ordering::Equal);
        assert_eq!(compare("1-1.foo-bar-1-baz-0.1", "1-1.foo-bar1baz-.1"), Ordering::Equal);
    }
}

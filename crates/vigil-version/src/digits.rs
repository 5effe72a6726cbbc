//! Helpers shared by the schemes: arbitrary-length digit-string comparison
//! (no integer overflow on hostile input) and small tokenisers.

use std::cmp::Ordering;

/// Compares two ASCII digit strings numerically, whatever their length:
/// leading zeros are ignored, then the longer number is larger, then the
/// strings compare lexically.
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// True when `s` is non-empty and made of ASCII digits only.
pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// True when a digit string is numerically zero (`""`, `"0"`, `"000"`).
pub(crate) fn is_zero(s: &str) -> bool {
    s.bytes().all(|b| b == b'0')
}

/// Splits the longest leading run of bytes for which `pred` holds.
pub(crate) fn take_while(s: &str, pred: impl Fn(u8) -> bool) -> (&str, &str) {
    let end = s.bytes().position(|b| !pred(b)).unwrap_or(s.len());
    s.split_at(end)
}

/// Where numeric segments sort relative to text segments.
#[derive(Clone, Copy)]
pub(crate) enum Numbers {
    /// Numbers below text (SemVer pre-release identifiers).
    BelowText,
    /// Numbers above text (PEP 440 local labels, CRAN, legacy versions).
    AboveText,
}

/// Compares two lists of segments: numeric segments compare numerically,
/// text segments with `cmp_text`, mixed pairs as `numbers` says, and a list
/// that is a prefix of the other sorts first.
pub(crate) fn cmp_segments<'a>(
    a: impl IntoIterator<Item = &'a str>,
    b: impl IntoIterator<Item = &'a str>,
    numbers: Numbers,
    cmp_text: fn(&str, &str) -> Ordering,
) -> Ordering {
    let (mut a, mut b) = (a.into_iter(), b.into_iter());
    let number_vs_text = match numbers {
        Numbers::BelowText => Ordering::Less,
        Numbers::AboveText => Ordering::Greater,
    };
    loop {
        let ord = match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match (is_digits(x), is_digits(y)) {
                (true, true) => cmp_digits(x, y),
                (true, false) => number_vs_text,
                (false, true) => number_vs_text.reverse(),
                (false, false) => cmp_text(x, y),
            },
        };
        if ord.is_ne() {
            return ord;
        }
    }
}

/// Compares two dot-separated identifier lists the SemVer way (pre-release
/// and build labels): numbers below text, shorter prefix first.
pub(crate) fn cmp_identifiers(a: &str, b: &str, cmp_text: fn(&str, &str) -> Ordering) -> Ordering {
    cmp_segments(a.split('.'), b.split('.'), Numbers::BelowText, cmp_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_compare_without_overflow() {
        assert_eq!(cmp_digits("0010", "9"), Ordering::Greater);
        assert_eq!(cmp_digits("000", ""), Ordering::Equal);
        assert_eq!(cmp_digits("999999999999999999999999999991", "999999999999999999999999999999"), Ordering::Less);
    }
}

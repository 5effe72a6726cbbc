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

/// Compares two dot-separated identifier lists the SemVer way (used for
/// pre-release and build labels): numeric identifiers compare numerically and
/// sort below alphanumeric ones, alphanumeric ones compare with `cmp_text`,
/// and a shorter list that is a prefix of a longer one sorts first.
pub(crate) fn cmp_identifiers(a: &str, b: &str, cmp_text: fn(&str, &str) -> Ordering) -> Ordering {
    let mut ai = a.split('.');
    let mut bi = b.split('.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = match (is_digits(x), is_digits(y)) {
                    (true, true) => cmp_digits(x, y),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => cmp_text(x, y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_compare_without_overflow() {
        assert_eq!(cmp_digits("0010", "9"), Ordering::Greater);
        assert_eq!(cmp_digits("000", ""), Ordering::Equal);
        assert_eq!(
            cmp_digits(
                "999999999999999999999999999991",
                "999999999999999999999999999999"
            ),
            Ordering::Less
        );
    }
}

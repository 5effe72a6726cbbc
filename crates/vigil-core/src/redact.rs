//! Credentials out of URLs. Lockfiles record where packages came from, and
//! those URLs often carry a token (`git+https://TOKEN@github.com/...`,
//! `https://user:password@registry.internal/...`, yarn's percent-encoded
//! `__archiveUrl=https%3A%2F%2Fuser%3Atoken%40host...`). Nothing Vigil
//! writes (reports, SBOMs, warnings) may repeat them: [`credentials`]
//! removes the user-information part of every URL in a text, plain or
//! percent-encoded.

use std::borrow::Cow;

/// How a URL's parts are spelt: plainly, or percent-encoded inside another value.
struct Spelling {
    /// Between the scheme and the authority (`://`).
    separator: &'static str,
    /// Ends the user information (`@`).
    at: &'static str,
    /// Ends the authority, besides the characters of [`ends_authority`].
    slash: &'static str,
}

const SPELLINGS: &[Spelling] =
    &[Spelling { separator: "://", at: "@", slash: "/" }, Spelling { separator: "%3a%2f%2f", at: "%40", slash: "%2f" }];

/// Characters that cannot be part of a URL's authority as written in a file.
fn ends_authority(c: char) -> bool {
    c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '\\' | '`' | '|' | '{' | '}' | '^')
}

/// Finds `needle` in `haystack` from `from`, ignoring ASCII case.
fn find_from(haystack: &str, needle: &str, from: usize) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    (from..=h.len().checked_sub(n.len())?).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// Removes user information from URLs spelt one way.
fn strip(text: &str, spelling: &Spelling) -> Option<String> {
    let mut out = String::new();
    let mut copied = 0;
    let mut search = 0;
    while let Some(sep) = find_from(text, spelling.separator, search) {
        let start = sep + spelling.separator.len();
        // The authority runs to the first character that cannot be in it, or the (encoded) slash.
        let mut end = text[start..].find(ends_authority).map_or(text.len(), |i| start + i);
        if let Some(slash) = find_from(&text[..end], spelling.slash, start) {
            end = slash;
        }
        search = end.max(start);
        // The last `@` of the authority ends the user information.
        let authority = &text[start..end];
        let lower = authority.to_ascii_lowercase();
        if let Some(at) = lower.rfind(spelling.at) {
            out.push_str(&text[copied..start]);
            copied = start + at + spelling.at.len();
        }
    }
    (copied > 0).then(|| {
        out.push_str(&text[copied..]);
        out
    })
}

/// `text` with the user information (`user:password@`, `token@`) of every
/// URL in it removed; borrowed when there is none.
///
/// ```
/// use vigil_core::redact::credentials;
/// assert_eq!(credentials("git+https://ghp_abc@github.com/o/r.git#1f2e"), "git+https://github.com/o/r.git#1f2e");
/// assert_eq!(credentials("1.2.3"), "1.2.3");
/// ```
pub fn credentials(text: &str) -> Cow<'_, str> {
    if !text.contains("://") && !text.to_ascii_lowercase().contains("%3a%2f%2f") {
        return Cow::Borrowed(text);
    }
    let mut current = Cow::Borrowed(text);
    for spelling in SPELLINGS {
        if let Some(stripped) = strip(&current, spelling) {
            current = Cow::Owned(stripped);
        }
    }
    current
}

/// Redacts `text` in place (see [`credentials`]).
pub fn credentials_in(text: &mut String) {
    if let Cow::Owned(clean) = credentials(text) {
        *text = clean;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_information_goes_everything_else_stays() {
        let cases = [
            ("git+https://TOKEN@github.com/org/repo.git#abc", "git+https://github.com/org/repo.git#abc"),
            ("https://user:p%40ss@registry.internal:8443/x", "https://registry.internal:8443/x"),
            ("see https://a:b@h/x and http://c@d/y.", "see https://h/x and http://d/y."),
            ("git+ssh://git@github.com:org/repo", "git+ssh://github.com:org/repo"),
            ("https://host/path@1.0.0", "https://host/path@1.0.0"),
            ("https://host?q=a@b", "https://host?q=a@b"),
            ("pkg:npm/left-pad@1.3.0", "pkg:npm/left-pad@1.3.0"),
            (
                "left-pad@https://npm.pkg.github.com/x.tgz::__archiveUrl=https%3A%2F%2Fuser%3Atok%40npm.pkg.github.com%2Fdownload",
                "left-pad@https://npm.pkg.github.com/x.tgz::__archiveUrl=https%3A%2F%2Fnpm.pkg.github.com%2Fdownload",
            ),
            ("https%3a%2f%2fT%40h%2fx", "https%3a%2f%2fh%2fx"),
            ("://@", "://"),
            ("", ""),
        ];
        for (dirty, clean) in cases {
            assert_eq!(credentials(dirty), clean, "{dirty}");
        }
        assert!(matches!(credentials("nothing to see"), Cow::Borrowed(_)));
    }

    #[test]
    fn odd_text() {
        assert_eq!(credentials("a://é@ü/"), "a://ü/");
        assert_eq!(credentials("x://\u{1F600}@y"), "x://y");
        assert_eq!(credentials("://:@:@/"), ":///");
        assert_eq!(credentials("%3A%2F%2F"), "%3A%2F%2F");
        assert_eq!(credentials("%3a%2f%2f%40"), "%3a%2f%2f");
    }
}

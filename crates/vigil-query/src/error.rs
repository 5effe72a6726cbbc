//! Query errors: what is wrong, the column it starts at, and a hint.

use serde::Serialize;

/// A query that cannot be parsed or compiled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message} at column {column}{}", hint.as_ref().map(|h| format!("; {h}")).unwrap_or_default())]
pub struct Error {
    /// What is wrong (``unknown field `sevrity` ``).
    pub message: String,
    /// The 1-based column (in characters) where the offending text starts.
    pub column: usize,
    /// What to do instead (``did you mean `severity`?``), when known.
    pub hint: Option<String>,
}

impl Error {
    /// An error at `column` without a hint.
    pub(crate) fn at(column: usize, message: impl Into<String>) -> Error {
        Error { message: message.into(), column, hint: None }
    }

    /// Adds a hint.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// Adds ``did you mean `x`?`` when a close word exists among `known`.
    pub(crate) fn suggest<'a>(self, word: &str, known: impl IntoIterator<Item = &'a str>) -> Error {
        match closest(word, known) {
            Some(best) => self.hint(format!("did you mean `{best}`?")),
            None => self,
        }
    }
}

/// The known word closest to `word` by edit distance, when it is close
/// enough to be a plausible typo (at most a third of the word's length,
/// and at least one edit allowed).
fn closest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    known
        .into_iter()
        .map(|k| (levenshtein(&word, &k.to_ascii_lowercase()), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, k)| (*d, k.len()))
        .map(|(_, k)| k)
}

/// Edit distance counting insertions, deletions, substitutions and swaps of
/// two neighbouring characters (`hgih` is one edit from `high`).
fn levenshtein(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, row) in d.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best =
                (d[(i - 1) * width + j] + 1).min(d[i * width + j - 1] + 1).min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(levenshtein("sevrity", "severity"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("hgih", "high"), 1);
    }

    #[test]
    fn suggestions_are_close_words_only() {
        assert_eq!(closest("sevrity", ["severity", "status"]), Some("severity"));
        assert_eq!(closest("zzz", ["severity", "status"]), None);
        assert_eq!(closest("TAG", ["tag", "team"]), Some("tag"));
    }

    #[test]
    fn display_names_the_column_then_the_hint() {
        let e = Error::at(1, "unknown field `sevrity`").suggest("sevrity", ["severity"]);
        assert_eq!(e.to_string(), "unknown field `sevrity` at column 1; did you mean `severity`?");
    }
}

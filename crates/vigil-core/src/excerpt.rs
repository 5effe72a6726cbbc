//! Messages that quote hostile input stay short. Parsers quote the line
//! they failed on (TOML and YAML errors draw it with a caret under the
//! column); a 400 KB line of brackets must not end up on a terminal or in a
//! report. [`clip`] cuts a line with a caret below it to an excerpt around
//! the caret when it is over [`MAX_SNIPPET`] characters, keeping the line's
//! gutter (`1 | `) and the caret aligned, and any other line over
//! [`MAX_LINE`] characters to its start, and says how much was left out.
//! The line and column the parser names stay in the message.

use std::borrow::Cow;

/// Longest quoted line (one with a caret under it) kept whole, in characters.
pub const MAX_SNIPPET: usize = 200;

/// Longest other line kept whole, in characters; longer ones keep their first [`KEPT`].
pub const MAX_LINE: usize = 1000;

/// Characters kept of a line over [`MAX_LINE`].
const KEPT: usize = 200;

/// Characters of input kept on each side of the caret.
const CONTEXT: usize = 60;

/// `message` with every line over [`MAX_LINE`] characters cut to an excerpt.
pub fn clip(message: &str) -> Cow<'_, str> {
    if message.lines().all(|l| l.chars().count() <= MAX_SNIPPET) {
        return Cow::Borrowed(message);
    }
    let lines: Vec<&str> = message.split('\n').collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let chars: Vec<char> = line.chars().collect();
        // A snippet line `12 | text` has a gutter to keep; the caret line below it points into the text.
        let gutter = line.find(" | ").filter(|&at| at <= 12).map_or(0, |at| line[..at + 3].chars().count());
        let caret_line = lines.get(i + 1).filter(|next| next.contains('^'));
        let caret = caret_line.and_then(|next| next.chars().position(|c| c == '^')).filter(|&c| c >= gutter);
        match (caret, caret_line) {
            (Some(caret), Some(next)) if chars.len() > MAX_SNIPPET => {
                let start = caret.saturating_sub(CONTEXT).max(gutter);
                let end = (caret + CONTEXT).min(chars.len());
                let mut kept: String = chars[..gutter].iter().collect();
                let cut_before = start > gutter;
                if cut_before {
                    kept.push('…');
                }
                kept.extend(&chars[start..end]);
                if end < chars.len() {
                    kept.push_str(&format!("… ({} more characters)", chars.len() - end + start - gutter));
                }
                out.push(kept);
                // The caret, moved to where its character now is.
                let next: Vec<char> = next.chars().collect();
                let mut pointer: String = next[..gutter.min(next.len())].iter().collect();
                let column = gutter + usize::from(cut_before) + (caret - start);
                while pointer.chars().count() < column {
                    pointer.push(' ');
                }
                pointer.extend(next[caret..].iter().take(MAX_LINE));
                out.push(pointer);
                i += 2;
            }
            _ if chars.len() > MAX_LINE => {
                let mut kept: String = chars[..KEPT].iter().collect();
                kept.push_str(&format!("… ({} more characters)", chars.len() - KEPT));
                out.push(kept);
                i += 1;
            }
            _ => {
                out.push(line.to_owned());
                i += 1;
            }
        }
    }
    Cow::Owned(out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages_are_untouched() {
        assert!(matches!(clip("cargo-lock: /Cargo.lock: bad\nsecond line"), Cow::Borrowed(_)));
        // A long line of Vigil's own (a list of formats) is no quoted input.
        let own = format!("x.bin: not a lockfile Vigil reads ({})", "Cargo.lock, ".repeat(40));
        assert_eq!(clip(&own), own);
    }

    #[test]
    fn a_snippet_keeps_its_gutter_and_caret() {
        let long = format!("x = {}", "[".repeat(400_000));
        let message = format!("TOML parse error at line 1, column 5\n  |\n1 | {long}\n  |     ^\nunexpected bracket");
        let clipped = clip(&message);
        assert!(clipped.len() < 400, "{clipped}");
        let lines: Vec<&str> = clipped.lines().collect();
        assert_eq!(lines[0], "TOML parse error at line 1, column 5");
        assert!(
            lines[2].starts_with("1 | x = [[[") && lines[2].ends_with("[… (399940 more characters)"),
            "{}",
            lines[2]
        );
        // The caret still points at the character it pointed at (the first bracket).
        let at = lines[3].find('^').unwrap();
        assert_eq!(&lines[2][at..at + 1], "[");
        assert_eq!(lines[4], "unexpected bracket");
    }

    #[test]
    fn a_caret_deep_in_the_line_gets_context_on_both_sides() {
        let line = format!("{}X{}", "a".repeat(1000), "b".repeat(1000));
        let caret = format!("{}^ here", " ".repeat(1000));
        let message = format!("{line}\n{caret}");
        let clipped = clip(&message);
        let lines: Vec<&str> = clipped.lines().collect();
        assert!(lines[0].starts_with('…') && lines[0].contains('X'), "{}", lines[0]);
        let at = lines[1].chars().position(|c| c == '^').unwrap();
        assert_eq!(lines[0].chars().nth(at), Some('X'));
        assert!(lines[1].ends_with("^ here"));
    }

    #[test]
    fn a_quoted_line_without_a_caret_is_cut_at_its_start() {
        let message = format!("requirements: /r.txt: left out: {}", "é".repeat(5000));
        let clipped = clip(&message);
        assert!(clipped.chars().count() < KEPT + 30, "{clipped}");
        assert!(clipped.starts_with("requirements: /r.txt: left out: éé") && clipped.ends_with("more characters)"));
    }
}

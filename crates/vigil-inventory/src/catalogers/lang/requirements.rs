//! `requirements*.txt`, read as pip reads it (`pip/_internal/req/req_file.py`):
//! lines ending in `\` are joined to the next before comments are removed,
//! `#` starts a comment at the start of a line or after whitespace, and
//! options after a requirement (`--hash=...`) are dropped.
//!
//! `-r FILE` / `--requirement FILE` includes are followed relative to the
//! including file, only inside the scanned root, with cycles detected; their
//! packages name the included file. `-c FILE` / `--constraint FILE` files
//! pin the versions of requirements that do not pin their own, as pip
//! applies them, and add no packages. A requirement pinned with `==` or
//! `===` (or a wheel file, whose name carries the version) is a package
//! with its version; anything else (`flask>=2`, `flask`, `name @ URL`, a
//! VCS URL with `#egg=`, a `${VARIABLE}` pip would expand) is listed without a version, since it cannot be
//! matched, and counted in a warning. Local paths (`.`, `-e ./lib`) are the
//! project's own code.

use std::collections::HashMap;

use vigil_core::ecosystem::normalize_name;

use super::{Dep, Format, Input, Parsed, Parser, file_name, relative_to};

/// The format.
pub const FORMAT: Format = Format {
    id: "requirements",
    ecosystem: "PyPI",
    files: "requirements*.txt",
    matches,
    parse: Parser::Entries(parse),
};

/// Deepest chain of `-r` and `-c` includes followed.
const MAX_INCLUDE_DEPTH: usize = 16;

fn matches(path: &str) -> bool {
    let name = file_name(path);
    name.starts_with("requirements") && name.ends_with(".txt")
}

/// Whether a `#` at byte `i` of `line` starts a comment (pip's `(^|\s+)#`).
fn comment_at(line: &str, i: usize) -> bool {
    i == 0 || line[..i].ends_with(char::is_whitespace)
}

/// The line without its comment, trimmed.
fn strip_comment(line: &str) -> &str {
    let cut = line.match_indices('#').map(|(i, _)| i).find(|&i| comment_at(line, i)).unwrap_or(line.len());
    line[..cut].trim()
}

/// Logical lines, as pip's `join_lines` makes them: a line ending in `\`
/// (and not holding a comment) continues on the next.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for line in text.lines() {
        let has_comment = line.match_indices('#').any(|(i, _)| comment_at(line, i));
        match line.ends_with('\\') && !has_comment {
            true => pending.get_or_insert_with(String::new).push_str(line.trim_matches('\\')),
            false => {
                // A comment line inside a continuation ends it, as in pip.
                let line = if has_comment { format!(" {line}") } else { line.to_owned() };
                match pending.take() {
                    Some(mut joined) => {
                        joined.push_str(&line);
                        out.push(joined);
                    }
                    None => out.push(line),
                }
            }
        }
    }
    out.extend(pending);
    out.into_iter().map(|l| strip_comment(&l).to_owned()).filter(|l| !l.is_empty()).collect()
}

/// What one requirement says.
#[derive(Debug, PartialEq)]
enum Requirement {
    /// `name==version`.
    Pinned(String, String),
    /// A name whose version the line does not fix.
    Unpinned(String),
    /// A local path: the project's own code.
    Local,
    /// Not a requirement at all.
    Unreadable,
}

/// The name at the start of a PEP 508 requirement, and the rest.
fn split_name(spec: &str) -> (&str, &str) {
    let end = spec.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))).unwrap_or(spec.len());
    (&spec[..end], &spec[end..])
}

/// `name-version-...whl`: a wheel file name carries name and version.
fn wheel(location: &str) -> Option<(String, String)> {
    let file = location.rsplit('/').next()?.split(['#', '?']).next()?;
    let stem = file.strip_suffix(".whl")?;
    let mut parts = stem.split('-');
    Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
}

/// `#egg=name` of a VCS or archive URL.
fn egg(location: &str) -> Option<String> {
    let (_, fragment) = location.split_once('#')?;
    fragment
        .split('&')
        .find_map(|kv| kv.strip_prefix("egg="))
        .map(|n| split_name(n).0.to_owned())
        .filter(|n| !n.is_empty())
}

fn requirement(spec: &str) -> Requirement {
    let spec = spec.trim();
    let is_location = spec.contains("://")
        || spec.starts_with(['.', '/', '~'])
        || [".whl", ".zip", ".tar.gz", ".tar.bz2", ".tgz"]
            .iter()
            .any(|e| spec.split(['#', '?']).next().is_some_and(|s| s.ends_with(e)));
    if is_location && !spec.contains(" @ ") && !spec.contains("@ ") {
        if let Some((name, version)) = wheel(spec) {
            return Requirement::Pinned(name, version);
        }
        return match egg(spec) {
            Some(name) => Requirement::Unpinned(name),
            None if spec.contains("://") && !spec.starts_with("file:") => Requirement::Unreadable,
            None => Requirement::Local,
        };
    }
    let (name, rest) = split_name(spec);
    if name.is_empty() {
        return Requirement::Unreadable;
    }
    let rest = rest.trim_start();
    // Extras, then either `@ URL` or version specifiers, then `; markers`.
    let rest = match rest.strip_prefix('[') {
        Some(r) => r.split_once(']').map_or("", |(_, after)| after).trim_start(),
        None => rest,
    };
    if rest.starts_with('@') {
        return Requirement::Unpinned(name.to_owned());
    }
    let specifiers = rest.split(';').next().unwrap_or("").trim().trim_start_matches('(').trim_end_matches(')');
    for clause in specifiers.split(',').map(str::trim) {
        // `${VAR}` is expanded from pip's environment, which a scan cannot know.
        if clause.contains("${") {
            break;
        }
        if let Some(v) = clause.strip_prefix("===") {
            return Requirement::Pinned(name.to_owned(), v.trim().to_owned());
        }
        if let Some(v) = clause.strip_prefix("==").map(str::trim)
            && !v.is_empty()
            && !v.contains('*')
        {
            return Requirement::Pinned(name.to_owned(), v.to_owned());
        }
    }
    Requirement::Unpinned(name.to_owned())
}

/// The value of an include option (`-r FILE`, `-rFILE`, `--requirement=FILE`), if the line is one.
fn include<'a>(line: &'a str, short: &str, long: &str) -> Option<&'a str> {
    let value = if let Some(rest) = line.strip_prefix(long) {
        rest.strip_prefix('=').unwrap_or(rest)
    } else {
        line.strip_prefix(short)?
    };
    let value = value.trim();
    (!value.is_empty()).then_some(value)
}

/// What reading one file and its includes gathers.
#[derive(Default)]
struct Gathered {
    parsed: Parsed,
    /// Versions pinned by constraint files, by normalised name.
    constraints: HashMap<String, String>,
}

/// Reads the file at `path` (`stack`: the files including it, outermost
/// first). `constraint` files only pin versions.
fn read_file(input: &Input<'_>, path: &str, text: &str, stack: &mut Vec<String>, constraint: bool, out: &mut Gathered) {
    let here = (path != input.path).then(|| path.to_owned());
    for line in logical_lines(text) {
        let included = include(&line, "-r", "--requirement")
            .map(|f| (f, false))
            .or_else(|| include(&line, "-c", "--constraint").map(|f| (f, true)));
        if let Some((file, is_constraint)) = included {
            follow(input, path, &line, file, stack, constraint || is_constraint, out);
            continue;
        }
        let editable = include(&line, "-e", "--editable");
        if line.starts_with('-') && editable.is_none() {
            // Index, find-links and install options.
            continue;
        }
        // Options after the requirement (`--hash=...`) are pip's, not the requirement's.
        let spec: Vec<&str> = editable.unwrap_or(&line).split(' ').take_while(|t| !t.starts_with('-')).collect();
        let spec = spec.join(" ");
        let dep = |name: String, version: String| Dep { file: here.clone(), ..Dep::new(name, version) };
        match (requirement(&spec), constraint) {
            (Requirement::Pinned(name, version), true) => {
                out.constraints.insert(normalize_name("PyPI", &name), version);
            }
            (_, true) | (Requirement::Local, false) => {}
            (Requirement::Pinned(name, version), false) => out.parsed.push(dep(name, version)),
            (Requirement::Unpinned(name), false) => out.parsed.push(dep(name, String::new())),
            (Requirement::Unreadable, false) => out.parsed.skip(line.as_str(), "not a requirement pip reads"),
        }
    }
}

/// Follows one `-r` or `-c` include.
fn follow(
    input: &Input<'_>,
    from: &str,
    line: &str,
    file: &str,
    stack: &mut Vec<String>,
    constraint: bool,
    out: &mut Gathered,
) {
    if file.contains("://") {
        return out.parsed.skip(line, "an include by URL is not downloaded");
    }
    let Some(target) = relative_to(from, file) else {
        return out.parsed.skip(line, "the included file is outside the scanned root");
    };
    if target == from || stack.contains(&target) {
        return out.parsed.skip(line, "the included file includes itself (a cycle)");
    }
    if stack.len() >= MAX_INCLUDE_DEPTH {
        return out.parsed.skip(line, "includes nested too deep");
    }
    match (input.read)(&target) {
        Ok(Some(bytes)) => {
            stack.push(from.to_owned());
            read_file(input, &target, &String::from_utf8_lossy(&bytes), stack, constraint, out);
            stack.pop();
        }
        Ok(None) => out.parsed.skip(line, "the included file does not exist"),
        Err(e) => out.parsed.skip(line, format!("the included file cannot be read ({e})")),
    }
}

fn parse(input: &Input<'_>) -> Result<Parsed, String> {
    let mut out = Gathered::default();
    read_file(input, input.path, &input.text(), &mut Vec::new(), false, &mut out);
    let mut parsed = out.parsed;
    // Constraints pin what the requirements leave open.
    for dep in parsed.deps.iter_mut().filter(|d| d.version.is_empty()) {
        if let Some(v) = out.constraints.get(&normalize_name("PyPI", &dep.name)) {
            dep.version = v.clone();
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_joined_then_comments_stripped_as_pip_does() {
        let text = "flask==2.0.1 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\n    # via -r requirements.in\n\
# comment \\\nDjango==3.2\nurl#frag==1 # real comment\n\\\n";
        assert_eq!(
            logical_lines(text),
            ["flask==2.0.1     --hash=sha256:abc     --hash=sha256:def", "Django==3.2", "url#frag==1"]
        );
    }

    #[test]
    fn requirement_forms() {
        use Requirement::*;
        let cases = [
            ("Django==3.2.4", Pinned("Django".into(), "3.2.4".into())),
            ("requests[socks] == 2.25.0 ; python_version >= \"3\"", Pinned("requests".into(), "2.25.0".into())),
            ("foo (==1.0)", Pinned("foo".into(), "1.0".into())),
            ("foo===1.0-local", Pinned("foo".into(), "1.0-local".into())),
            ("foo>=1.0,==1.2", Pinned("foo".into(), "1.2".into())),
            ("foo==1.*", Unpinned("foo".into())),
            ("foo==${FOO_VERSION}", Unpinned("foo".into())),
            ("foo>=1,<2", Unpinned("foo".into())),
            ("foo~=1.4", Unpinned("foo".into())),
            ("foo", Unpinned("foo".into())),
            ("foo @ https://example.com/foo.tar.gz", Unpinned("foo".into())),
            ("git+https://github.com/o/bar.git@v1#egg=bar", Unpinned("bar".into())),
            ("./dist/baz-1.4.2-py3-none-any.whl", Pinned("baz".into(), "1.4.2".into())),
            (".", Local),
            ("./lib", Local),
            ("https://example.com/x.tar.gz", Unreadable),
            ("==1.0", Unreadable),
        ];
        for (spec, want) in cases {
            assert_eq!(requirement(spec), want, "{spec}");
        }
    }
}

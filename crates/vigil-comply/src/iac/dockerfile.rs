//! Dockerfiles (and Containerfiles): read into instructions as BuildKit
//! does (the `escape` directive, line continuations, comments inside
//! continuations, here-documents), then checked stage by stage. Build
//! arguments declared before the first `FROM` are substituted into `FROM`.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::{Hit, credential_assignment, unpinned};

/// `Dockerfile`, `Containerfile`, `Dockerfile.prod`, `app.Dockerfile`.
pub(super) fn matches(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    name == "dockerfile"
        || name == "containerfile"
        || name.starts_with("dockerfile.")
        || name.starts_with("containerfile.")
        || name.ends_with(".dockerfile")
        || name.ends_with(".containerfile")
}

/// One instruction.
#[derive(Debug, Clone, PartialEq)]
struct Instruction {
    /// Upper-cased keyword.
    keyword: String,
    /// Its arguments, continuation lines joined, here-documents appended.
    args: String,
    /// The line it starts on.
    line: u32,
}

/// The instructions of a Dockerfile.
fn parse(text: &str) -> Vec<Instruction> {
    let mut escape = '\\';
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    // Parser directives: `# key=value` lines at the very top.
    while let Some((_, line)) = lines.peek() {
        let Some(directive) = line.trim().strip_prefix('#') else { break };
        let Some((key, value)) = directive.split_once('=') else { break };
        if key.trim().eq_ignore_ascii_case("escape") && value.trim() == "`" {
            escape = '`';
        }
        lines.next();
    }
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut logical = String::new();
        let mut current = line.trim_end().to_owned();
        loop {
            match current.strip_suffix(escape) {
                Some(body) => {
                    logical.push_str(body);
                    logical.push(' ');
                    // Comment and empty lines inside a continuation are dropped.
                    let mut next = None;
                    for (_, l) in lines.by_ref() {
                        let t = l.trim();
                        if !(t.starts_with('#') || t.is_empty()) {
                            next = Some(l.trim_end().to_owned());
                            break;
                        }
                    }
                    match next {
                        Some(l) => current = l,
                        None => break,
                    }
                }
                None => {
                    logical.push_str(&current);
                    break;
                }
            }
        }
        let logical = logical.trim_start();
        let (keyword, args) = logical.split_once(char::is_whitespace).unwrap_or((logical, ""));
        let mut args = args.trim().to_owned();
        // Here-documents: `<<EOF`, `<<-EOF`, `<<"EOF"` run to their terminator.
        for word in heredoc_words(&args) {
            for (_, l) in lines.by_ref() {
                if l.trim() == word {
                    break;
                }
                args.push('\n');
                args.push_str(l);
            }
        }
        out.push(Instruction { keyword: keyword.to_ascii_uppercase(), args, line: n as u32 + 1 });
    }
    out
}

/// The terminators of the here-documents an instruction opens.
fn heredoc_words(args: &str) -> Vec<String> {
    static HEREDOC: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"<<-?["']?([A-Za-z_][A-Za-z0-9_]*)["']?"#).expect("heredoc pattern"));
    HEREDOC.captures_iter(args).map(|c| c[1].to_owned()).collect()
}

/// Arguments without leading `--flag=value` options.
fn without_flags(args: &str) -> Vec<&str> {
    args.split_whitespace().skip_while(|w| w.starts_with("--")).collect()
}

/// `$NAME` and `${NAME}` (with `:-default`) replaced from `vars`.
fn substitute(text: &str, vars: &HashMap<String, String>) -> String {
    static VAR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)").expect("var pattern")
    });
    VAR.replace_all(text, |c: &regex::Captures| {
        let name = c.get(1).or_else(|| c.get(3)).map_or("", |m| m.as_str());
        vars.get(name).cloned().or_else(|| c.get(2).map(|d| d.as_str().to_owned())).unwrap_or_default()
    })
    .into_owned()
}

/// `KEY=VALUE` pairs of ENV, LABEL or ARG (and the legacy `ENV KEY VALUE`).
fn pairs(args: &str) -> Vec<(String, String)> {
    let words = split_words(args);
    if words.len() >= 2 && !words[0].contains('=') {
        return vec![(words[0].clone(), words[1..].join(" "))];
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (w, String::new()),
        })
        .collect()
}

/// Words split on blanks outside quotes, quotes removed.
fn split_words(args: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut any = false;
    for c in args.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (_, c) => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user).trim();
    name == "root" || name == "0"
}

/// Checks a Dockerfile; `None` when it holds no FROM (not a Dockerfile).
pub(super) fn check(text: &str) -> Result<Option<Vec<Hit>>, String> {
    static CURL_PIPE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b").expect("curl pattern")
    });
    static UPDATE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b(?:apt-get|apt|apk)\s+(?:-\S+\s+)*update\b").expect("update pattern"));
    static INSTALL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(?:apt-get|apt|apk)\s+(?:-\S+\s+)*(?:install|add|upgrade|dist-upgrade)\b")
            .expect("install pattern")
    });
    static SUDO: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?:^|[;&|(]\s*|\s)sudo\s").expect("sudo pattern"));
    let instructions = parse(text);
    if !instructions.iter().any(|i| i.keyword == "FROM") {
        return Ok(None);
    }
    let mut hits = Vec::new();
    let mut hit = |rule: &'static str, i: &Instruction, key: Option<String>| {
        // A credential's value is never repeated in the evidence.
        let detail = match (rule, &key) {
            ("DOCKER-SECRET-IN-ENV", Some(name)) => format!("{} {name}=****", i.keyword),
            _ => format!("{} {}", i.keyword, i.args.lines().next().unwrap_or("")),
        };
        hits.push(Hit { rule, line: i.line, key, detail });
    };
    let mut global_args = HashMap::new();
    let mut aliases: Vec<String> = Vec::new();
    let mut seen_from = false;
    let mut last_user: Option<&Instruction> = None;
    let mut final_from: Option<&Instruction> = None;
    let mut healthcheck = false;
    for i in &instructions {
        match i.keyword.as_str() {
            "ARG" if !seen_from => {
                for (k, v) in pairs(&i.args) {
                    global_args.insert(k, v);
                }
            }
            "FROM" => {
                seen_from = true;
                last_user = None;
                final_from = Some(i);
                let words = without_flags(&i.args);
                let image = substitute(words.first().copied().unwrap_or(""), &global_args);
                let is_stage = aliases.iter().any(|a| a.eq_ignore_ascii_case(&image));
                if !image.is_empty() && image != "scratch" && !is_stage && unpinned(&image) {
                    hit("DOCKER-LATEST-TAG", i, Some(image.clone()));
                }
                if let [_, r#as, alias] = words[..]
                    && r#as.eq_ignore_ascii_case("as")
                {
                    if aliases.iter().any(|a| a.eq_ignore_ascii_case(alias)) {
                        hit("DOCKER-DUPLICATE-ALIAS", i, Some(alias.to_owned()));
                    }
                    aliases.push(alias.to_owned());
                }
            }
            "USER" => last_user = Some(i),
            "HEALTHCHECK" => healthcheck = true,
            "MAINTAINER" => hit("DOCKER-MAINTAINER", i, None),
            "ADD" => {
                let words = without_flags(&i.args);
                let sources = &words[..words.len().saturating_sub(1)];
                if sources.iter().any(|s| s.contains("://")) {
                    if !i.args.contains("--checksum=") {
                        hit("DOCKER-ADD-URL", i, None);
                    }
                } else {
                    hit("DOCKER-ADD-INSTEAD-OF-COPY", i, None);
                }
            }
            "ENV" | "ARG" => {
                for (k, v) in pairs(&i.args) {
                    if credential_assignment(&k, &v) {
                        hit("DOCKER-SECRET-IN-ENV", i, Some(k));
                    }
                }
            }
            "EXPOSE" if i.args.split_whitespace().any(|p| p.split('/').next() == Some("22")) => {
                hit("DOCKER-EXPOSE-SSH", i, None);
            }
            "WORKDIR" => {
                let dir = i.args.trim().trim_matches('"');
                let windows = dir.as_bytes().get(1) == Some(&b':');
                if !dir.starts_with('/') && !dir.starts_with('$') && !windows {
                    hit("DOCKER-WORKDIR-RELATIVE", i, None);
                }
            }
            "RUN" => {
                if CURL_PIPE.is_match(&i.args) {
                    hit("DOCKER-CURL-PIPE-SHELL", i, None);
                }
                if UPDATE.is_match(&i.args) && !INSTALL.is_match(&i.args) {
                    hit("DOCKER-UPDATE-ALONE", i, None);
                }
                if SUDO.is_match(&i.args) {
                    hit("DOCKER-SUDO", i, None);
                }
            }
            _ => {}
        }
    }
    match (last_user, final_from) {
        (Some(user), _) if is_root(&substitute(&user.args, &global_args)) => hit("DOCKER-ROOT-USER", user, None),
        (None, Some(from)) => hit("DOCKER-ROOT-USER", from, None),
        _ => {}
    }
    if !healthcheck && let Some(from) = final_from {
        hits.push(Hit { rule: "DOCKER-NO-HEALTHCHECK", line: from.line, key: None, detail: "no HEALTHCHECK".into() });
    }
    hits.sort_by_key(|h| h.line);
    Ok(Some(hits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<(&'static str, u32)> {
        check(text).unwrap().unwrap().into_iter().map(|h| (h.rule, h.line)).collect()
    }

    #[test]
    fn continuations_comments_and_heredocs() {
        let text = "# escape=\\\nFROM debian:12\nRUN apt-get update \\\n# a comment\n    && apt-get install -y curl\n\
                    RUN <<EOF\nsudo ls\nEOF\nUSER app\nHEALTHCHECK CMD true\n";
        let parsed = parse(text);
        assert_eq!(parsed[1].args, "apt-get update      && apt-get install -y curl");
        assert_eq!(parsed[2].args, "<<EOF\nsudo ls");
        assert_eq!(rules(text), [("DOCKER-SUDO", 6)]);
    }

    #[test]
    fn the_usual_mistakes() {
        let text = "ARG BASE=node\nFROM ${BASE} AS build\nMAINTAINER me\nENV DB_PASSWORD=hunter22 PATH=/x\n\
                    ADD https://example.invalid/x.tgz /x\nADD app /app\nWORKDIR app\nEXPOSE 80 22/tcp\n\
                    RUN apt-get update\nRUN curl -fsSL https://get.example.invalid | bash\n\
                    FROM build AS build\nUSER 0:0\n";
        assert_eq!(
            rules(text),
            [
                ("DOCKER-LATEST-TAG", 2),
                ("DOCKER-MAINTAINER", 3),
                ("DOCKER-SECRET-IN-ENV", 4),
                ("DOCKER-ADD-URL", 5),
                ("DOCKER-ADD-INSTEAD-OF-COPY", 6),
                ("DOCKER-WORKDIR-RELATIVE", 7),
                ("DOCKER-EXPOSE-SSH", 8),
                ("DOCKER-UPDATE-ALONE", 9),
                ("DOCKER-CURL-PIPE-SHELL", 10),
                ("DOCKER-DUPLICATE-ALIAS", 11),
                ("DOCKER-NO-HEALTHCHECK", 11),
                ("DOCKER-ROOT-USER", 12),
            ]
        );
    }

    #[test]
    fn a_careful_dockerfile_passes() {
        let text = "FROM debian:12.5@sha256:0123 AS base\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n\
                    FROM base\nCOPY app /app\nWORKDIR /app\nUSER 10001\nHEALTHCHECK CMD [\"/app/health\"]\n";
        assert!(rules(text).is_empty(), "{:?}", rules(text));
        assert_eq!(check("just text").unwrap(), None);
    }
}

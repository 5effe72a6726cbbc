//! `pom.xml`: the declared `<dependency>` versions, with `${property}`
//! references resolved from the POM's own `<properties>` (and
//! `${project.version}`); a dependency whose version stays unresolved (a
//! parent or BOM manages it) is not reported.

use super::{Dep, Format, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "maven-pom", ecosystem: "Maven", files: "pom.xml", matches, parse: Parser::Deps(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "pom.xml"
}

/// The text of the first `<tag>...</tag>` in `xml`.
fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].trim())
}

/// Every `<tag>...</tag>` block in `xml`.
fn blocks<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(s) = rest.find(&open) {
        let body = &rest[s + open.len()..];
        let Some(e) = body.find(&close) else { break };
        out.push(&body[..e]);
        rest = &body[e + close.len()..];
    }
    out
}

/// Drops XML comments, which may hold example dependencies.
fn strip_comments(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(s) = rest.find("<!--") {
        out.push_str(&rest[..s]);
        match rest[s..].find("-->") {
            Some(e) => rest = &rest[s + e + 3..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let xml = strip_comments(&String::from_utf8_lossy(bytes));
    if !xml.contains("<project") {
        return Err("no <project> element: not a POM".into());
    }
    let mut properties: Vec<(String, String)> = Vec::new();
    if let Some(p) = tag(&xml, "properties") {
        let mut rest = p;
        while let Some(s) = rest.find('<') {
            let Some(e) = rest[s..].find('>') else { break };
            let name = &rest[s + 1..s + e];
            let after = &rest[s + e + 1..];
            let Some(close) = after.find(&format!("</{name}>")) else { break };
            properties.push((name.to_owned(), after[..close].trim().to_owned()));
            rest = &after[close + name.len() + 3..];
        }
    }
    // The project's own version: the first <version> outside <parent> and <dependencies>.
    let head = xml.split("<dependencies>").next().unwrap_or("");
    let head = match (head.find("<parent>"), head.find("</parent>")) {
        (Some(s), Some(e)) if e > s => format!("{}{}", &head[..s], &head[e..]),
        _ => head.to_owned(),
    };
    if let Some(v) = tag(&head, "version") {
        properties.push(("project.version".into(), v.to_owned()));
    }
    let resolve = |v: &str| -> Option<String> {
        match v.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
            Some(key) => {
                properties.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).filter(|v| !v.contains("${"))
            }
            None => Some(v.to_owned()),
        }
    };
    let mut out = Vec::new();
    for d in blocks(&xml, "dependency") {
        let (Some(g), Some(a)) = (tag(d, "groupId"), tag(d, "artifactId")) else { continue };
        let Some(version) = tag(d, "version").and_then(resolve) else { continue };
        // Ranges (`[1.0,2.0)`) are not installed versions.
        if !version.is_empty() && !version.starts_with(['[', '(']) {
            out.push(Dep::new(format!("{g}:{a}"), version));
        }
    }
    Ok(out)
}

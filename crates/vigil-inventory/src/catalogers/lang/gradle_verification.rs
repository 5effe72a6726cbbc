//! Gradle's dependency verification metadata,
//! `gradle/verification-metadata.xml`, read with an XML parser: every
//! `<component group= name= version=>` Gradle verified, which is every
//! module the build resolved (plugins and build tooling included).

use super::pom::{children, xml};
use super::{Dep, Format, Input, Parsed, Parser, file_name};

/// The format.
pub const FORMAT: Format = Format {
    id: "gradle-verification",
    ecosystem: "Maven",
    files: "verification-metadata.xml",
    matches,
    parse: Parser::Entries(parse),
};

fn matches(path: &str) -> bool {
    file_name(path) == "verification-metadata.xml"
}

fn parse(input: &Input<'_>) -> Result<Parsed, String> {
    let text = input.text();
    let doc = xml(&text)?;
    let root = doc.root_element();
    if root.tag_name().name() != "verification-metadata" {
        return Err("no <verification-metadata> element: not Gradle verification metadata".into());
    }
    let mut out = Parsed::default();
    for c in children(root, "components").flat_map(|c| children(c, "component")) {
        match (c.attribute("group"), c.attribute("name"), c.attribute("version")) {
            (Some(g), Some(n), Some(v)) if !g.is_empty() && !n.is_empty() && !v.is_empty() => {
                out.push(Dep::new(format!("{g}:{n}"), v));
            }
            (g, n, _) => out.skip(
                format!("{}:{}", g.unwrap_or_default(), n.unwrap_or_default()),
                "a component without group, name and version",
            ),
        }
    }
    Ok(out)
}

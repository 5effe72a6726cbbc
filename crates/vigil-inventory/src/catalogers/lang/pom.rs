//! `pom.xml`, read with an XML parser (namespaces, CDATA, comments,
//! entities): the project's `<dependencies>`.
//!
//! A dependency's own `<version>` wins; without one, the version its
//! `<dependencyManagement>` gives, the POM's own or an inherited one.
//! `${property}` references are resolved from `<properties>` and the
//! project model (`${project.version}`, `${project.parent.version}`, ...),
//! nested references included. The parent POM is read when it is in the
//! target (`<relativePath>`, by default `../pom.xml`, and only when its
//! coordinates are the ones `<parent>` names), for its properties, version
//! and managed versions. A dependency whose version stays unknown (a BOM or
//! parent Vigil cannot read manages it, or a range such as `[1.0,2.0)`) is
//! listed without a version and counted in a warning. Plugins and their
//! dependencies are build tools, not part of the project.

use std::collections::HashMap;

use roxmltree::{Document, Node, ParsingOptions};

use super::{Dep, Format, Input, Parsed, Parser, file_name, relative_to};

/// The format.
pub const FORMAT: Format =
    Format { id: "maven-pom", ecosystem: "Maven", files: "pom.xml", matches, parse: Parser::Entries(parse) };

/// Parents followed, at most.
const MAX_PARENTS: usize = 8;
/// Nested `${...}` references resolved, at most.
const MAX_INTERPOLATION: usize = 16;
/// Most XML nodes in one POM.
const MAX_NODES: u32 = 2_000_000;

fn matches(path: &str) -> bool {
    file_name(path) == "pom.xml"
}

/// Parses XML text, with the DTD's internal entities (the parser refuses
/// entity loops and expansion bombs) and never an external one.
pub(super) fn xml(text: &str) -> Result<Document<'_>, String> {
    let options = ParsingOptions { allow_dtd: true, nodes_limit: MAX_NODES, ..ParsingOptions::default() };
    Document::parse_with_options(text, options).map_err(|e| e.to_string())
}

/// The child element called `name` (local name: any namespace).
fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Every child element called `name`.
pub(super) fn children<'a, 'i: 'a>(node: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// The text of an element (text and CDATA, comments left out), trimmed.
fn text(node: Node<'_, '_>) -> String {
    node.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect::<String>().trim().to_owned()
}

/// The text of the child element `name`, when there is one with text.
fn child_text(node: Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name).map(text).filter(|t| !t.is_empty())
}

/// What a POM and its parents say: properties and managed versions.
#[derive(Default)]
struct Model {
    properties: HashMap<String, String>,
    /// `groupId:artifactId` -> version, as written (references unresolved).
    managed: HashMap<String, String>,
}

impl Model {
    /// `text` with every `${name}` it can resolve resolved; `None` when one stays unknown.
    fn resolve(&self, text: &str) -> Option<String> {
        let mut current = text.to_owned();
        for _ in 0..MAX_INTERPOLATION {
            let Some(start) = current.find("${") else { return Some(current) };
            let end = current[start..].find('}')? + start;
            let value = self.properties.get(&current[start + 2..end])?;
            current = format!("{}{value}{}", &current[..start], &current[end + 1..]);
        }
        None
    }
}

/// Adds what one POM says to `model`, below what is there already (a
/// child's values win over its parents').
fn learn(project: Node<'_, '_>, model: &mut Model) {
    for p in child(project, "properties").into_iter().flat_map(|p| p.children().filter(Node::is_element)) {
        model.properties.entry(p.tag_name().name().to_owned()).or_insert_with(|| text(p));
    }
    let parent = child(project, "parent");
    for field in ["groupId", "artifactId", "version"] {
        let own = child_text(project, field);
        let inherited = parent.and_then(|p| child_text(p, field));
        if let Some(v) = own.clone().or(inherited.clone()) {
            model.properties.entry(format!("project.{field}")).or_insert_with(|| v.clone());
            model.properties.entry(format!("pom.{field}")).or_insert_with(|| v.clone());
            if field == "version" {
                model.properties.entry("version".into()).or_insert(v);
            }
        }
        if let Some(v) = inherited {
            model.properties.entry(format!("project.parent.{field}")).or_insert(v);
        }
    }
    let managed = child(project, "dependencyManagement").and_then(|m| child(m, "dependencies"));
    for d in managed.into_iter().flat_map(|m| children(m, "dependency")) {
        if let (Some(g), Some(a), Some(v)) =
            (child_text(d, "groupId"), child_text(d, "artifactId"), child_text(d, "version"))
        {
            model.managed.entry(format!("{g}:{a}")).or_insert(v);
        }
    }
}

/// Reads the parents of the POM at `path` that are in the target into `model`.
fn parents(input: &Input<'_>, path: &str, project: Node<'_, '_>, model: &mut Model, seen: &mut Vec<String>) {
    let Some(parent) = child(project, "parent") else { return };
    let relative = child(parent, "relativePath").map_or_else(|| "../pom.xml".to_owned(), text);
    if relative.is_empty() || seen.len() >= MAX_PARENTS {
        return;
    }
    let relative =
        if relative.ends_with(".xml") { relative } else { format!("{}/pom.xml", relative.trim_end_matches('/')) };
    let Some(target) = relative_to(path, &relative) else { return };
    if seen.contains(&target) {
        return;
    }
    let Ok(Some(bytes)) = (input.read)(&target) else { return };
    let text = String::from_utf8_lossy(&bytes);
    let Ok(doc) = xml(&text) else { return };
    let root = doc.root_element();
    // Maven uses the file only when it is the parent `<parent>` names.
    let coordinates = |n: Node<'_, '_>| {
        let group = child_text(n, "groupId").or_else(|| child(n, "parent").and_then(|p| child_text(p, "groupId")));
        (group, child_text(n, "artifactId"))
    };
    if root.tag_name().name() != "project" || coordinates(root) != coordinates(parent) {
        return;
    }
    seen.push(target.clone());
    learn(root, model);
    parents(input, &target, root, model, seen);
}

fn parse(input: &Input<'_>) -> Result<Parsed, String> {
    let text = input.text();
    let doc = xml(&text)?;
    let project = doc.root_element();
    if project.tag_name().name() != "project" {
        return Err("no <project> element: not a POM".into());
    }
    let mut model = Model::default();
    learn(project, &mut model);
    parents(input, input.path, project, &mut model, &mut vec![input.path.to_owned()]);
    let mut out = Parsed::default();
    for d in child(project, "dependencies").into_iter().flat_map(|deps| children(deps, "dependency")) {
        let coordinates = (child_text(d, "groupId"), child_text(d, "artifactId"));
        let (Some(g), Some(a)) = (
            coordinates.0.as_deref().and_then(|g| model.resolve(g)),
            coordinates.1.as_deref().and_then(|a| model.resolve(a)),
        ) else {
            out.skip(
                format!("{}:{}", coordinates.0.unwrap_or_default(), coordinates.1.unwrap_or_default()),
                "no groupId or artifactId Vigil can resolve",
            );
            continue;
        };
        let name = format!("{g}:{a}");
        // The dependency's own version wins over the managed one.
        let version = child_text(d, "version").or_else(|| model.managed.get(&name).cloned());
        let version = version.and_then(|v| model.resolve(&v)).unwrap_or_default();
        // A range (`[1.0,2.0)`) is not an installed version.
        let version = if version.starts_with(['[', '(']) { String::new() } else { version };
        out.push(Dep::new(name, version));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(files: &[(&str, &str)]) -> Vec<String> {
        let (path, text) = files[0];
        let others: HashMap<String, Vec<u8>> =
            files[1..].iter().map(|(p, t)| ((*p).to_owned(), t.as_bytes().to_vec())).collect();
        let read = move |p: &str| Ok(others.get(p).cloned());
        let parsed = parse(&Input { path, bytes: text.as_bytes(), read: &read }).unwrap();
        parsed.deps.iter().map(|d| format!("{}@{}", d.name, d.version)).collect()
    }

    #[test]
    fn explicit_versions_win_over_managed_ones() {
        let pom = r#"<project><dependencyManagement><dependencies>
            <dependency><groupId>g</groupId><artifactId>a</artifactId><version>1.0</version></dependency>
            <dependency><groupId>g</groupId><artifactId>b</artifactId><version>2.0</version></dependency>
            <dependency><groupId>g</groupId><artifactId>unused</artifactId><version>3.0</version></dependency>
          </dependencies></dependencyManagement>
          <dependencies>
            <dependency><groupId>g</groupId><artifactId>a</artifactId><version>1.5</version></dependency>
            <dependency><groupId>g</groupId><artifactId>b</artifactId></dependency>
          </dependencies>
          <build><plugins><plugin><artifactId>p</artifactId><dependencies>
            <dependency><groupId>g</groupId><artifactId>tool</artifactId><version>9</version></dependency>
          </dependencies></plugin></plugins></build></project>"#;
        assert_eq!(read(&[("/pom.xml", pom)]), ["g:a@1.5", "g:b@2.0"]);
    }

    #[test]
    fn xml_as_xml_is_written() {
        let pom = r#"<?xml version="1.0"?>
<!DOCTYPE project [<!ENTITY jackson "com.fasterxml.jackson.core">]>
<p:project xmlns:p="http://maven.apache.org/POM/4.0.0"><p:dependencies>
  <!-- <p:dependency><p:groupId>x</p:groupId><p:artifactId>commented</p:artifactId><p:version>1</p:version></p:dependency> -->
  <p:dependency><p:groupId>&jackson;</p:groupId><p:artifactId>jackson-databind</p:artifactId><p:version><![CDATA[2.9.8]]></p:version></p:dependency>
  <p:dependency><p:groupId>a&amp;b</p:groupId><p:artifactId>c</p:artifactId><p:version> 1.0 <!-- note --> </p:version></p:dependency>
</p:dependencies></p:project>"#;
        assert_eq!(read(&[("/pom.xml", pom)]), ["com.fasterxml.jackson.core:jackson-databind@2.9.8", "a&b:c@1.0"]);
    }

    #[test]
    fn parents_in_the_target_give_properties_and_managed_versions() {
        let parent = r#"<project><groupId>org.example</groupId><artifactId>parent</artifactId><version>7</version>
          <properties><lib.version>${base.version}.1</lib.version><base.version>3.2</base.version></properties>
          <dependencyManagement><dependencies>
            <dependency><groupId>org.lib</groupId><artifactId>managed</artifactId><version>${lib.version}</version></dependency>
          </dependencies></dependencyManagement></project>"#;
        let child_pom = r#"<project><parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>7</version></parent>
          <artifactId>app</artifactId>
          <dependencies>
            <dependency><groupId>org.lib</groupId><artifactId>managed</artifactId></dependency>
            <dependency><groupId>${project.groupId}</groupId><artifactId>sibling</artifactId><version>${project.version}</version></dependency>
            <dependency><groupId>org.lib</groupId><artifactId>bom-managed</artifactId></dependency>
            <dependency><groupId>org.lib</groupId><artifactId>ranged</artifactId><version>[1.0,2.0)</version></dependency>
          </dependencies></project>"#;
        assert_eq!(
            read(&[("/app/pom.xml", child_pom), ("/pom.xml", parent)]),
            ["org.lib:managed@3.2.1", "org.example:sibling@7", "org.lib:bom-managed@", "org.lib:ranged@"]
        );
        // A parent file whose coordinates differ is not the parent.
        let other = parent.replace("<artifactId>parent</artifactId>", "<artifactId>other</artifactId>");
        assert_eq!(read(&[("/app/pom.xml", child_pom), ("/pom.xml", &other)])[0], "org.lib:managed@");
    }

    #[test]
    fn hostile_xml_is_an_error() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]><project><name>&g;</name></project>"#;
        let external = r#"<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><project><name>&x;</name></project>"#;
        let none = |_: &str| Ok(None);
        for text in [laughs, external] {
            let result = parse(&Input { path: "/pom.xml", bytes: text.as_bytes(), read: &none });
            assert!(result.is_err(), "{text}");
        }
    }
}
